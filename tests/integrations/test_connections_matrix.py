"""Every operation of the bridge's connection pages and API, and the intake list, for every persona.

A connection decides which server Signet trusts and what the bridge writes there: administrators
only, and the others are refused with 403 before any lookup (pages and API alike), so nobody
learns which connections exist. The intake list (names and tags of MLflow models no project has
yet) is for any signed-in person.
"""

from __future__ import annotations

import socket

import pytest

from apps.audit.actions import Action
from apps.audit.models import AuditEvent
from apps.integrations.models import MlflowConnection, MlflowModel
from apps.integrations.services.connections import connection_create
from tests.conftest import Org
from tests.matrix import Op, built_once_per_module, cases, check_case, parse_table, tokens_for

TABLE = parse_table(
    """
    operation                owner biz  dev  val  ops  comp aud  admin out  anon
    api.connections          403   403  403  403  403  403  403  200   403  401
    api.connection_create    403   403  403  403  403  403  403  201   403  401
    api.connection           403   403  403  403  403  403  403  200   403  401
    api.connection_update    403   403  403  403  403  403  403  200   403  401
    api.connection_test      403   403  403  403  403  403  403  200   403  401
    api.connection_reconcile 403   403  403  403  403  403  403  202   403  401
    api.intake               200   200  200  200  200  200  200  200   200  401
    page.connections         403   403  403  403  403  403  403  200   403  302x
    page.connection_add      403   403  403  403  403  403  403  302   403  302x
    page.connection          403   403  403  403  403  403  403  200   403  302x
    page.connection_edit     403   403  403  403  403  403  403  302   403  302x
    page.connection_test     403   403  403  403  403  403  403  302   403  302x
    page.connection_reconcile 403  403  403  403  403  403  403  302   403  302x
    page.intake              200   200  200  200  200  200  200  200   200  302x
    """
)


def closed_port_url() -> str:
    """An http:// address on this machine where nothing listens (the port was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


NEW = {"name": "second", "url": "https://mlflow2.example.test", "webhook_secret_env": "SIGNET_MLFLOW_SECOND_HOOK"}
PAGE_NEW = {
    "name": "third",
    "url": "https://mlflow3.example.test",
    "auth_kind": "none",
    "webhook_secret_env": "SIGNET_MLFLOW_THIRD_HOOK",
    "project_tag": "signet.project",
    "protected_aliases": '{"champion": "production"}',
    "write_back": "on",
    "enabled": "on",
}


class Bridge(Org):
    def __init__(self) -> None:
        super().__init__()
        self.tokens = tokens_for(self)
        self.connection = connection_create(
            actor=self.administrator,
            name="lab",
            url=closed_port_url(),
            webhook_secret_env="SIGNET_MLFLOW_LAB_HOOK",
        )
        self.waiting = MlflowModel.objects.create(connection=self.connection, name="churn", tags={"team": "growth"})


def _connections(ctx: Bridge) -> int:
    return MlflowConnection.objects.count()


def _lab(ctx: Bridge) -> tuple[object, ...]:
    lab = MlflowConnection.objects.get(pk=ctx.connection.pk)
    return lab.url, lab.project_tag, lab.tested_at


def _reconcile_requests(ctx: Bridge) -> int:
    return AuditEvent.objects.filter(action=Action.MLFLOW_CONNECTION_RECONCILE_REQUESTED).count()


LAB = "/integrations/connections/lab/"
API_LAB = "/api/v1/mlflow/connections/lab/"

OPS: dict[str, Op] = {
    "api.connections": Op("get", lambda c: "/api/v1/mlflow/connections/"),
    "api.connection_create": Op("post", lambda c: "/api/v1/mlflow/connections/", lambda c: NEW, _connections),
    "api.connection": Op("get", lambda c: API_LAB),
    "api.connection_update": Op("patch", lambda c: API_LAB, lambda c: {"project_tag": "team.project"}, _lab),
    "api.connection_test": Op("post", lambda c: f"{API_LAB}test/", lambda c: {}, _lab),
    "api.connection_reconcile": Op("post", lambda c: f"{API_LAB}reconcile/", lambda c: {}, _reconcile_requests),
    "api.intake": Op("get", lambda c: "/api/v1/mlflow/intake/"),
    "page.connections": Op("get", lambda c: "/integrations/connections/"),
    "page.connection_add": Op("post", lambda c: "/integrations/connections/add/", lambda c: PAGE_NEW, _connections),
    "page.connection": Op("get", lambda c: LAB),
    "page.connection_edit": Op(
        "post", lambda c: f"{LAB}edit/", lambda c: {**PAGE_NEW, "url": "https://moved.example.test"}, _lab
    ),
    "page.connection_test": Op("post", lambda c: f"{LAB}test/", lambda c: {}, _lab),
    "page.connection_reconcile": Op("post", lambda c: f"{LAB}reconcile/", lambda c: {}, _reconcile_requests),
    "page.intake": Op("get", lambda c: "/integrations/intake/"),
}

bridge = built_once_per_module(Bridge)


@pytest.fixture
def ctx(bridge: Bridge, db: None) -> Bridge:
    return bridge


@pytest.mark.parametrize(("operation", "persona"), cases(TABLE, OPS))
def test_each_persona_gets_what_the_table_says(ctx: Bridge, operation: str, persona: str) -> None:
    check_case(ctx, OPS, TABLE, operation, persona)
