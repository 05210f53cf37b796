"""Connections through the API and the pages: what they say, and hostile input refused with nothing changed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from apps.accounts.models import User
from apps.audit.actions import Action
from apps.audit.models import AuditEvent
from apps.integrations.models import MlflowConnection
from apps.integrations.services.connections import connection_create
from tests.conftest import bearer
from tests.integrations.test_connections_matrix import closed_port_url

pytestmark = pytest.mark.django_db

GOOD = {"name": "lab", "url": "https://mlflow.example.test", "webhook_secret_env": "SIGNET_MLFLOW_LAB_HOOK"}


@pytest.fixture
def api(administrator: User, token_for) -> Client:
    return Client(headers=bearer(token_for(administrator)))


@pytest.fixture
def pages(administrator: User) -> Client:
    client = Client()
    client.force_login(administrator)
    return client


def _state() -> tuple[Any, ...]:
    return (
        list(MlflowConnection.objects.order_by("pk").values()),
        AuditEvent.objects.filter(action__startswith="integrations.").count(),
    )


HOSTILE_CREATE: dict[str, tuple[dict[str, Any], str]] = {
    "an ftp URL": ({"url": "ftp://mlflow.example.test"}, "url"),
    "a javascript URL": ({"url": "javascript:alert(1)"}, "url"),
    "a URL that is no URL": ({"url": "mlflow"}, "url"),
    "a URL with credentials": ({"url": "https://admin:hunter2@mlflow.example.test"}, "url"),
    "a secrets file without the prefix": ({"auth_kind": "token", "secret_file": "db-password"}, "secret_file"),
    "a secret variable without the prefix": ({"auth_kind": "token", "secret_env": "DATABASE_URL"}, "secret_env"),
    "a secret variable of lowercase letters": ({"auth_kind": "token", "secret_env": "SIGNET_MLFLOW_x"}, "secret_env"),
    "a webhook secret variable without the prefix": ({"webhook_secret_env": "SECRET_KEY"}, "webhook_secret_env"),
    "a secrets file with a folder": ({"auth_kind": "token", "secret_file": "../etc/passwd"}, "secret_file"),
    "a secrets file with an absolute path": ({"webhook_secret_file": "/etc/shadow"}, "webhook_secret_file"),
    "aliases as a list": ({"protected_aliases": ["champion"]}, "protected_aliases"),
    "an alias with a space": ({"protected_aliases": {"my alias": "production"}}, "protected_aliases"),
    "an environment in capitals": ({"protected_aliases": {"champion": "PROD"}}, "protected_aliases"),
    "an environment that is a number": ({"protected_aliases": {"champion": 1}}, "protected_aliases"),
    "a boolean as text": ({"restore_aliases": "true"}, "restore_aliases"),
    "a boolean as a number": ({"enabled": 1}, "enabled"),
    "a URL as a number": ({"url": 5}, "url"),
    "an unknown field": ({"secret": "hunter2"}, "secret"),
    "an unknown auth kind": ({"auth_kind": "kerberos"}, "auth_kind"),
    "basic auth without a username": ({"auth_kind": "basic", "secret_env": "SIGNET_MLFLOW_PW"}, "username"),
    "a token without where to read it": ({"auth_kind": "token"}, "secret_env"),
    "no webhook secret": ({"webhook_secret_env": ""}, "webhook_secret_env"),
    "a reserved name": ({"name": "intake"}, "name"),
    "a name with a slash": ({"name": "a/b"}, "name"),
}


@pytest.mark.parametrize("case", HOSTILE_CREATE)
def test_a_hostile_connection_is_refused_with_a_reason_and_nothing_changes(api: Client, case: str) -> None:
    change, field = HOSTILE_CREATE[case]
    before = _state()
    response = api.post("/api/v1/mlflow/connections/", {**GOOD, **change}, content_type="application/json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["details"], error
    assert error["message"]
    assert _state() == before


@pytest.mark.parametrize("case", [c for c in HOSTILE_CREATE if HOSTILE_CREATE[c][1] != "name"])
def test_a_hostile_change_is_refused_and_the_connection_stays_as_it_was(
    api: Client, administrator: User, case: str
) -> None:
    connection_create(actor=administrator, **GOOD)  # type: ignore[arg-type]
    change, field = HOSTILE_CREATE[case]
    before = _state()
    response = api.patch("/api/v1/mlflow/connections/lab/", change, content_type="application/json")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["details"]
    assert _state() == before


def test_a_connection_keeps_its_name(api: Client, administrator: User) -> None:
    connection_create(actor=administrator, **GOOD)  # type: ignore[arg-type]
    before = _state()
    response = api.patch("/api/v1/mlflow/connections/lab/", {"name": "other"}, content_type="application/json")
    assert response.status_code == 400
    assert _state() == before


def test_a_body_that_is_not_an_object_is_refused(api: Client) -> None:
    before = _state()
    for body in ("[]", '"lab"', "{", "null"):
        response = api.generic("POST", "/api/v1/mlflow/connections/", body, content_type="application/json")
        assert response.status_code == 400, (body, response.content)
    assert _state() == before


def test_the_api_adds_a_connection_and_never_shows_a_secret(api: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIGNET_MLFLOW_LAB_TOKEN", "tok-do-not-show")
    body = {**GOOD, "auth_kind": "token", "secret_env": "SIGNET_MLFLOW_LAB_TOKEN", "restore_aliases": True}
    response = api.post("/api/v1/mlflow/connections/", body, content_type="application/json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["webhook_url"].startswith("http")
    assert data["webhook_url"].endswith("/api/v1/mlflow/lab/webhook/")
    assert "model_version_alias.created" in data["webhook_events"]
    assert data["service_user"] == "mlflow-bridge-lab"
    assert data["protected_aliases"] == {"champion": "production", "production": "production"}
    assert data["intake_count"] == 0
    assert b"tok-do-not-show" not in response.content
    listed = api.get("/api/v1/mlflow/connections/")
    assert [c["name"] for c in listed.json()["results"]] == ["lab"]
    changed = api.patch(
        "/api/v1/mlflow/connections/lab/",
        {"protected_aliases": {"prod": "production"}},
        content_type="application/json",
    )
    assert changed.status_code == 200
    assert changed.json()["protected_aliases"] == {"prod": "production"}
    assert api.get("/api/v1/mlflow/connections/lab/").json()["protected_aliases"] == {"prod": "production"}
    trail = AuditEvent.objects.filter(action=Action.MLFLOW_CONNECTION_UPDATED).get()
    assert "tok-do-not-show" not in json.dumps(trail.changes)


def test_the_webhook_address_is_absolute_from_the_base_url(api: Client, settings) -> None:
    settings.SIGNET_BASE_URL = "https://signet.example.org/"
    api.post("/api/v1/mlflow/connections/", GOOD, content_type="application/json")
    assert api.get("/api/v1/mlflow/connections/lab/").json()["webhook_url"] == (
        "https://signet.example.org/api/v1/mlflow/lab/webhook/"
    )


def test_a_connection_that_does_not_exist_is_not_found(api: Client) -> None:
    assert api.get("/api/v1/mlflow/connections/nowhere/").status_code == 404
    assert api.post("/api/v1/mlflow/connections/nowhere/test/").status_code == 404


def test_testing_an_unreachable_server_says_so_in_words(api: Client, pages: Client, administrator: User) -> None:
    connection_create(actor=administrator, **{**GOOD, "url": closed_port_url()})  # type: ignore[arg-type]
    response = api.post("/api/v1/mlflow/connections/lab/test/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["ok"] is False
    assert body["checks"][0]["check"] == "reachable"
    assert body["checks"][0]["ok"] is False
    assert "does not answer" in body["checks"][0]["message"]
    # The page shows the same checks in words after its own test.
    tested = pages.post("/integrations/connections/lab/test/", follow=True)
    assert tested.status_code == 200
    html = tested.content.decode()
    assert "The test found problems: reachable." in html
    assert 'data-check="reachable" data-ok="false"' in html
    assert "not ok" in html
    assert "does not answer MLflow" in html


def test_a_reconcile_request_is_audited_and_queued_after_commit(
    api: Client, administrator: User, django_capture_on_commit_callbacks
) -> None:
    connection_create(actor=administrator, **GOOD)  # type: ignore[arg-type]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api.post("/api/v1/mlflow/connections/lab/reconcile/")
    assert response.status_code == 202, response.content
    assert response.json()["queued"] is True
    assert len(callbacks) == 1
    assert AuditEvent.objects.filter(action=Action.MLFLOW_CONNECTION_RECONCILE_REQUESTED).count() == 1


def test_a_disabled_connection_is_not_reconciled(api: Client, administrator: User) -> None:
    connection_create(actor=administrator, **{**GOOD, "enabled": False})  # type: ignore[arg-type]
    response = api.post("/api/v1/mlflow/connections/lab/reconcile/")
    assert response.status_code == 400
    assert "disabled" in response.json()["error"]["message"]
    assert not AuditEvent.objects.filter(action=Action.MLFLOW_CONNECTION_RECONCILE_REQUESTED).exists()


# --- the pages ------------------------------------------------------------------------------------

PAGE = {
    "name": "lab",
    "url": "https://mlflow.example.test",
    "auth_kind": "none",
    "webhook_secret_env": "SIGNET_MLFLOW_LAB_HOOK",
    "project_tag": "signet.project",
    "protected_aliases": '{"champion": "production"}',
    "write_back": "on",
    "enabled": "on",
}

HOSTILE_PAGE: dict[str, tuple[dict[str, Any], str]] = {
    "an ftp URL": ({"url": "ftp://mlflow.example.test"}, "http:// or https://"),
    "a secret variable without the prefix": (
        {"auth_kind": "token", "secret_env": "DATABASE_URL"},
        "starts with SIGNET_MLFLOW_",
    ),
    "a secrets file with a folder": ({"auth_kind": "token", "secret_file": "../x"}, "no folders"),
    "aliases that are not JSON": ({"protected_aliases": "{champion: production"}, "Write the aliases as JSON"),
    "aliases as a list": ({"protected_aliases": '["champion"]'}, "Give an object of aliases"),
    "an environment in capitals": ({"protected_aliases": '{"champion": "PROD"}'}, "lowercase slug"),
    "aliases longer than Signet reads": ({"protected_aliases": "[" * 5000}, "longer than Signet reads"),
    "aliases nested deeper than Python parses": ({"protected_aliases": "[" * 3000}, "Write the aliases as JSON"),
    "an unknown auth kind": ({"auth_kind": "kerberos"}, "Select a valid choice"),
}


@pytest.mark.parametrize("case", HOSTILE_PAGE)
def test_the_form_refuses_hostile_input_with_a_message(pages: Client, case: str) -> None:
    change, message = HOSTILE_PAGE[case]
    before = _state()
    response = pages.post("/integrations/connections/add/", {**PAGE, **change})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert _state() == before


def test_the_form_asks_where_secrets_are_and_never_for_a_value(pages: Client) -> None:
    html = pages.get("/integrations/connections/add/").content.decode()
    assert "SIGNET_MLFLOW_" in html
    assert "secrets folder" in html
    assert 'type="password"' not in html
    assert 'name="secret"' not in html
    assert 'name="token"' not in html
    assert 'name="password"' not in html


def test_an_administrator_adds_edits_and_reads_a_connection(pages: Client) -> None:
    added = pages.post("/integrations/connections/add/", PAGE)
    assert added.status_code == 302
    assert added["Location"] == "/integrations/connections/lab/"
    page = pages.get("/integrations/connections/lab/").content.decode()
    assert "/api/v1/mlflow/lab/webhook/" in page
    for event in ("registered_model.created", "model_version.created", "model_version_alias.deleted"):
        assert event in page
    assert "Never run" in page
    assert "0 in the intake list" in page
    edit = pages.get("/integrations/connections/lab/edit/").content.decode()
    assert 'name="name"' not in edit  # a connection keeps its name
    assert "{&quot;champion&quot;: &quot;production&quot;}" in edit
    saved = pages.post("/integrations/connections/lab/edit/", {**PAGE, "restore_aliases": "on"})
    assert saved.status_code == 302
    assert MlflowConnection.objects.get(name="lab").restore_aliases is True
    listed = pages.get("/integrations/connections/").content.decode()
    assert 'href="/integrations/connections/lab/"' in listed
