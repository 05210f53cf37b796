"""Connections for the bridge's tests: a real service account, secrets from the environment."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from apps.accounts.models import User
from apps.integrations.models import MlflowConnection
from apps.integrations.services.connections import connection_create

WEBHOOK_SECRET_ENV = "SIGNET_MLFLOW_TEST_WEBHOOK_SECRET"


def make_connection(
    monkeypatch: pytest.MonkeyPatch, admin: User, url: str, *, name: str | None = None, **fields: Any
) -> tuple[MlflowConnection, str]:
    """Add a connection to ``url`` as ``admin``; return it with the webhook secret it expects."""
    name = name or f"mlflow-{secrets.token_hex(4)}"
    env = f"{WEBHOOK_SECRET_ENV}_{name.upper().replace('-', '_')}"
    secret = secrets.token_urlsafe(24)
    monkeypatch.setenv(env, secret)
    connection = connection_create(actor=admin, name=name, url=url, webhook_secret_env=env, **fields)
    return connection, secret
