"""The API base: deny by default, one error shape, OpenAPI schema and offline docs."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from apps.accounts.models import User
from tests.conftest import bearer

pytestmark = pytest.mark.django_db


def _assert_error_shape(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


def test_anonymous_callers_get_401_in_the_error_shape(client: Client) -> None:
    _assert_error_shape(client.get("/api/v1/me/"), 401, "not_authenticated")
    _assert_error_shape(client.get("/api/v1/audit-events/"), 401, "not_authenticated")


def test_unknown_api_paths_are_404_in_the_error_shape(client: Client) -> None:
    _assert_error_shape(client.get("/api/v1/no-such-thing/"), 404, "not_found")


def test_wrong_method_is_405_in_the_error_shape(developer: User, token_for) -> None:
    _assert_error_shape(Client().post("/api/v1/me/", headers=bearer(token_for(developer))), 405, "method_not_allowed")


def test_forbidden_is_403_in_the_error_shape(developer: User, token_for) -> None:
    error = _assert_error_shape(
        Client().get("/api/v1/audit-events/", headers=bearer(token_for(developer))), 403, "permission_denied"
    )
    assert "audit team" in error["message"]


def test_invalid_filters_are_400_with_field_details(auditor: User, token_for) -> None:
    response = Client().get("/api/v1/audit-events/?since=yesterday-ish", headers=bearer(token_for(auditor)))
    error = _assert_error_shape(response, 400, "invalid")
    assert "since" in error["details"]


def test_session_writes_without_csrf_are_refused(auditor: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(auditor)
    _assert_error_shape(client.post("/api/v1/me/"), 403, "permission_denied")


@pytest.mark.urls("tests.core.urls_boom")
def test_a_view_that_names_no_permission_serves_nobody(administrator: User, token_for) -> None:
    _assert_error_shape(
        Client().get("/api/v1/undeclared/", headers=bearer(token_for(administrator))), 403, "permission_denied"
    )


@pytest.mark.urls("tests.core.urls_boom")
def test_an_unexpected_failure_is_a_500_in_the_error_shape() -> None:
    client = Client(raise_request_exception=False)
    error = _assert_error_shape(client.get("/api/v1/boom/"), 500, "server_error")
    assert "a bug" not in error["message"]


def test_the_openapi_schema_validates_without_warnings(tmp_path: Path) -> None:
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    assert "/api/v1/audit-events/" in text
    assert "bearerAuth" in text


def test_schema_and_interactive_docs_are_served_without_internet(client: Client) -> None:
    assert client.get("/api/v1/schema/").status_code == 200
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn" not in html.lower()
