"""Test connection against a real MLflow server (SQL store, webhooks on): every check passes, in words."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.accounts.models import User
from tests.conftest import bearer
from tests.integrations.factories import make_connection
from tests.mlflow_server import MlflowServer

pytestmark = pytest.mark.django_db


def test_a_real_server_is_reachable_readable_and_has_webhooks(
    mlflow: MlflowServer, administrator: User, token_for, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not mlflow.running:
        mlflow.start()
    connection, _secret = make_connection(monkeypatch, administrator, mlflow.url, name="live")
    api = Client(headers=bearer(token_for(administrator)))
    response = api.post(f"/api/v1/mlflow/connections/{connection.name}/test/")
    assert response.status_code == 200, response.content
    body = response.json()
    checks = {check["check"]: check for check in body["checks"]}
    assert list(checks) == ["reachable", "authenticated", "registry", "webhooks", "webhook secret"]
    assert all(check["ok"] for check in body["checks"]), body
    assert body["ok"] is True
    assert "MLflow 3." in checks["reachable"]["message"]
    assert "readable" in checks["registry"]["message"]
    assert "Webhooks are supported" in checks["webhooks"]["message"]

    pages = Client()
    pages.force_login(administrator)
    tested = pages.post(f"/integrations/connections/{connection.name}/test/", follow=True)
    html = tested.content.decode()
    assert "Every check passed." in html
    for check in checks:
        assert f'data-check="{check}" data-ok="true"' in html


def test_a_missing_secret_is_said_in_words(
    mlflow: MlflowServer, administrator: User, token_for, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not mlflow.running:
        mlflow.start()
    connection, _secret = make_connection(
        monkeypatch, administrator, mlflow.url, name="tokenless", auth_kind="token", secret_env="SIGNET_MLFLOW_NOT_SET"
    )
    monkeypatch.delenv("SIGNET_MLFLOW_NOT_SET", raising=False)
    body = Client(headers=bearer(token_for(administrator))).post(f"/api/v1/mlflow/connections/{connection.name}/test/")
    checks = {check["check"]: check for check in body.json()["checks"]}
    assert checks["reachable"]["ok"] is True
    assert checks["authenticated"]["ok"] is False
    assert "SIGNET_MLFLOW_NOT_SET is not set" in checks["authenticated"]["message"]
