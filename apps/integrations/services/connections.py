"""Adding, changing and testing MLflow connections (administrators)."""

from __future__ import annotations

import re
from typing import Any, TypedDict, Unpack

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.services import user_create
from apps.audit.actions import Action
from apps.audit.services import audit_record, changes_between
from apps.core.permissions import require
from apps.core.queue import enqueue
from apps.integrations.choices import AuthKind
from apps.integrations.mlflow_client import MlflowClient, MlflowError
from apps.integrations.models import MlflowConnection
from apps.integrations.permissions import CONNECTIONS_DENIED, can_manage_connections
from apps.integrations.secrets import SecretMissing, credentials_for, webhook_secret_for

ENVIRONMENT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
ALIAS = re.compile(r"^[A-Za-z0-9_-]{1,255}$")  # MLflow's own rule for alias names
MAX_PROTECTED = 20
URL_SCHEMES = ("http", "https")
# Names the API's paths use beside /api/v1/mlflow/<name>/webhook/: a connection of one of them would shadow them.
RESERVED_NAMES = frozenset({"connections", "intake"})


class ConnectionFields(TypedDict, total=False):
    name: str
    url: str
    auth_kind: str
    username: str
    secret_env: str
    secret_file: str
    webhook_secret_env: str
    webhook_secret_file: str
    project_tag: str
    protected_aliases: dict[str, str]
    restore_aliases: bool
    write_back: bool
    enabled: bool


KNOWN = tuple(ConnectionFields.__annotations__)
# What the trail keeps of a connection: where the secrets are, never what they are.
AUDITED = KNOWN


def _snapshot(connection: MlflowConnection) -> dict[str, Any]:
    return {name: getattr(connection, name) for name in AUDITED}


def _check_aliases(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ValidationError({"protected_aliases": 'Give aliases with their environment: {"champion": "production"}.'})
    if len(value) > MAX_PROTECTED:
        raise ValidationError({"protected_aliases": f"At most {MAX_PROTECTED} protected aliases."})
    result: dict[str, str] = {}
    for alias, environment in value.items():
        if not isinstance(alias, str) or not ALIAS.match(alias):
            raise ValidationError(
                {"protected_aliases": f"{str(alias)[:60]!r} is not an MLflow alias (letters, digits, _ and -)."}
            )
        if not isinstance(environment, str) or not ENVIRONMENT.match(environment):
            raise ValidationError(
                {"protected_aliases": f"The environment of {alias!r} must be a lowercase slug such as production."}
            )
        result[alias] = environment
    return result


def _validate(connection: MlflowConnection) -> None:
    connection.protected_aliases = _check_aliases(connection.protected_aliases)
    for name in ("url", "username", "project_tag", "name"):
        value = getattr(connection, name)
        if not isinstance(value, str):
            raise ValidationError({name: "Give text."})
        setattr(connection, name, value.strip())
    for name in ("restore_aliases", "write_back", "enabled"):
        if not isinstance(getattr(connection, name), bool):
            raise ValidationError({name: "Give true or false."})
    # Django's URLField also takes ftp:// and ftps://; MLflow's REST API is HTTP only.
    if connection.url.split(":", 1)[0].lower() not in URL_SCHEMES:
        raise ValidationError({"url": "Give the tracking server's http:// or https:// address."})
    if "@" in connection.url.split("//", 1)[-1].split("/", 1)[0]:
        # It would be stored, audited and shown: credentials come from a secret, never the address.
        raise ValidationError({"url": "Leave credentials out of the address; name where the secret is instead."})
    connection.full_clean(exclude=["service_user", "created_by"])
    if connection.auth_kind != AuthKind.NONE and not (connection.secret_env or connection.secret_file):
        raise ValidationError({"secret_env": "Name the environment variable or secret file that holds the secret."})
    if connection.auth_kind == AuthKind.BASIC and not connection.username:
        raise ValidationError({"username": "Basic authentication needs a username."})
    if not (connection.webhook_secret_env or connection.webhook_secret_file):
        raise ValidationError(
            {"webhook_secret_env": "Name where the webhook signing secret is: Signet refuses unsigned webhooks."}
        )
    if not connection.project_tag:
        raise ValidationError({"project_tag": "Name the MLflow model tag that says which project a model is in."})


def connection_create(*, actor: User, **fields: Unpack[ConnectionFields]) -> MlflowConnection:
    """Add a tracking server and the service account the bridge acts as (administrators).

    Side effects: ``accounts.user.created`` (the service account), ``integrations.connection.created``.
    Raises PermissionDenied, ValidationError.
    """
    require(can_manage_connections(actor), CONNECTIONS_DENIED)
    unknown = set(fields) - set(KNOWN)
    if unknown:
        raise TypeError(f"connection_create() got unknown fields {sorted(unknown)}")
    connection = MlflowConnection(**fields)
    _validate(connection)
    if connection.name in RESERVED_NAMES:
        raise ValidationError({"name": f"{connection.name!r} is a word of the bridge's addresses; choose another."})
    with transaction.atomic():
        if MlflowConnection.objects.filter(name=connection.name).exists():
            raise ValidationError({"name": "A connection of this name exists already."})
        username = f"mlflow-bridge-{connection.name}"[:150]
        if User.objects.filter(username=username).exists():
            raise ValidationError({"name": f"The account name {username} is taken; choose another connection name."})
        connection.service_user = user_create(
            actor=actor, username=username, first_name="MLflow bridge", is_service_account=True
        )
        connection.created_by = actor
        connection.save()
        audit_record(
            actor=actor,
            action=Action.MLFLOW_CONNECTION_CREATED,
            target=connection,
            changes=changes_between({}, _snapshot(connection)),
        )
    return connection


def connection_update(
    *, actor: User, connection: MlflowConnection, **fields: Unpack[ConnectionFields]
) -> MlflowConnection:
    """Change the fields given (administrators). The name stays: it names the service account and the webhook URL.

    Side effects: ``integrations.connection.updated`` with before/after. Raises PermissionDenied, ValidationError.
    """
    require(can_manage_connections(actor), CONNECTIONS_DENIED)
    unknown = set(fields) - set(KNOWN)
    if unknown:
        raise TypeError(f"connection_update() got unknown fields {sorted(unknown)}")
    if "name" in fields and fields["name"] != connection.name:
        raise ValidationError({"name": "A connection keeps its name; add a new connection instead."})
    with transaction.atomic():
        connection = MlflowConnection.objects.select_for_update(no_key=True).get(pk=connection.pk)
        before = _snapshot(connection)
        for name, value in fields.items():
            setattr(connection, name, value)
        _validate(connection)
        changes = changes_between(before, _snapshot(connection))
        if changes:
            connection.save()
            audit_record(actor=actor, action=Action.MLFLOW_CONNECTION_UPDATED, target=connection, changes=changes)
    return connection


def client_for(connection: MlflowConnection) -> MlflowClient:
    """A client of ``connection``'s server with its credentials; SecretMissing when they are not available."""
    return MlflowClient(connection.url, credentials_for(connection))


def _probe(connection: MlflowConnection) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []

    def note(check: str, ok: bool, message: str) -> None:
        results.append({"check": check, "ok": ok, "message": message})

    with MlflowClient(connection.url) as anonymous:
        reachable = anonymous.health()
        version = anonymous.server_version() if reachable else ""
    if not reachable:
        note("reachable", False, f"{connection.url} does not answer MLflow's /health.")
        return results
    note("reachable", True, f"{connection.url} answers" + (f" (MLflow {version})." if version else "."))
    try:
        client = client_for(connection)
    except SecretMissing as exc:
        note("authenticated", False, f"Signet cannot read its credentials: {exc}")
        return results
    with client:
        try:
            page = client.search_models_page(max_results=1)
        except MlflowError as exc:
            check = "authenticated" if exc.status in (401, 403) else "registry"
            if check == "registry":
                note("authenticated", True, "MLflow accepted Signet's credentials.")
            note(check, False, exc.message)
            return results
        note("authenticated", True, "MLflow accepted Signet's credentials.")
        more = " and more" if page.get("next_page_token") else ""
        count = len(page.get("registered_models") or [])
        note("registry", True, f"The model registry is readable ({count} model{'' if count == 1 else 's'}{more}).")
        try:
            client.list_webhooks()
        except MlflowError as exc:
            if exc.status in (401, 403):
                note("webhooks", False, "MLflow's webhooks need an administrator account on the server.")
            elif exc.status in (404, 405, 501) or exc.code == "NOT_IMPLEMENTED":
                note("webhooks", False, "This server has no webhooks (MLflow 3.3 or later with a SQL store has them).")
            else:
                note("webhooks", False, exc.message)
        else:
            note("webhooks", True, "Webhooks are supported: add one pointing at Signet's receiver.")
    try:
        webhook_secret_for(connection)
    except SecretMissing as exc:
        note("webhook secret", False, f"Incoming webhooks will be refused: {exc}")
    else:
        note("webhook secret", True, "The webhook signing secret is available.")
    return results


def connection_test(*, actor: User, connection: MlflowConnection) -> list[dict[str, Any]]:
    """Say in words what works and what does not: reachable, authenticated, registry, webhooks, secrets.

    Side effects: stores the result on the connection; ``integrations.connection.tested``.
    Raises PermissionDenied.
    """
    require(can_manage_connections(actor), CONNECTIONS_DENIED)
    results = _probe(connection)  # outside the transaction: the server may take its time
    with transaction.atomic():
        connection = MlflowConnection.objects.select_for_update(no_key=True).get(pk=connection.pk)
        connection.test_result = results
        connection.tested_at = timezone.now()
        connection.save(update_fields=["test_result", "tested_at"])
        audit_record(
            actor=actor,
            action=Action.MLFLOW_CONNECTION_TESTED,
            target=connection,
            data={"ok": all(r["ok"] for r in results), "failed": [r["check"] for r in results if not r["ok"]]},
        )
    return results


def connection_reconcile_request(*, actor: User, connection: MlflowConnection) -> None:
    """Ask a worker for a full reconcile of ``connection`` now, besides the periodic one (administrators).

    Side effects: ``integrations.connection.reconcile_requested``; the task
    ``apps.integrations.tasks.reconcile_connection`` is queued after commit. Raises PermissionDenied,
    ValidationError (a disabled connection).
    """
    require(can_manage_connections(actor), CONNECTIONS_DENIED)
    if not connection.enabled:
        raise ValidationError("The connection is disabled: enable it before reconciling.")
    pk = connection.pk
    with transaction.atomic():
        audit_record(actor=actor, action=Action.MLFLOW_CONNECTION_RECONCILE_REQUESTED, target=connection)
        transaction.on_commit(lambda: enqueue("apps.integrations.tasks.reconcile_connection", pk))
