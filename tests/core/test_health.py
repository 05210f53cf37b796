"""Health probes and the request id."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db


def test_healthz_answers_while_the_process_is_up(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ready_with_database_and_broker_reachable(client: Client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "ready"


def test_readyz_answers_503_naming_an_unreachable_broker(client: Client) -> None:
    with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0"):  # nothing listens on port 1
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["reasons"] == {"broker": "the task broker cannot be reached"}


def test_every_response_carries_a_request_id_and_a_client_cannot_choose_it(client: Client) -> None:
    generated = client.get("/healthz")["X-Request-ID"]
    assert len(generated) == 32
    chosen = client.get("/healthz", HTTP_X_REQUEST_ID="ci-run-12345678")["X-Request-ID"]
    assert chosen != "ci-run-12345678"
    assert len(chosen) == 32


def test_behind_our_proxy_its_well_formed_request_id_is_kept(client: Client, settings) -> None:
    settings.SIGNET_TRUST_X_FORWARDED_FOR = True
    assert client.get("/healthz", HTTP_X_REQUEST_ID="ci-run-12345678")["X-Request-ID"] == "ci-run-12345678"
    hostile = client.get("/healthz", HTTP_X_REQUEST_ID="<script>alert(1)</script>")["X-Request-ID"]
    assert hostile != "<script>alert(1)</script>"
    assert len(hostile) == 32
