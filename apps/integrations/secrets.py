"""Where a connection's secrets come from: an environment variable or a file, never the database.

A connection names ``SIGNET_MLFLOW_<NAME>`` or a file ``signet-mlflow-*`` in ``SIGNET_SECRETS_DIR`` (mounted
secrets, such as ``/run/secrets``); the value is read when it is needed and never written to the database, a
log line or the audit trail. Both are restricted so that a connection cannot be pointed at another
setting of the portal (the database password, the secret key) and send it to a server of its choosing.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings

from apps.integrations.choices import AuthKind
from apps.integrations.mlflow_client import Credentials
from apps.integrations.models import SECRET_ENV_PREFIX, SECRET_FILE_PREFIX, MlflowConnection

MAX_SECRET_BYTES = 16 * 1024


class SecretMissing(Exception):
    """The secret a connection names is not there; the message says where Signet looked."""


def read_secret(env_name: str, file_name: str) -> str:
    """The secret from the variable ``env_name`` or else the file ``file_name``; SecretMissing if neither has it."""
    if env_name:
        if not env_name.startswith(SECRET_ENV_PREFIX):
            raise SecretMissing(f"The environment variable must start with {SECRET_ENV_PREFIX}.")
        value = os.environ.get(env_name, "")
        if value:
            return value
        if not file_name:
            raise SecretMissing(f"The environment variable {env_name} is not set (or is empty).")
    if file_name:
        if not file_name.startswith(SECRET_FILE_PREFIX):
            raise SecretMissing(f"The secret file's name must start with {SECRET_FILE_PREFIX}.")
        folder = Path(str(settings.SIGNET_SECRETS_DIR)).resolve()
        path = (folder / file_name).resolve()
        if path.parent != folder:
            raise SecretMissing("The secret file must be directly inside the secrets folder.")
        try:
            with path.open("rb") as handle:
                raw = handle.read(MAX_SECRET_BYTES + 1)
        except OSError:
            raise SecretMissing(f"The secret file {file_name} cannot be read in {folder}.") from None
        if len(raw) > MAX_SECRET_BYTES:
            raise SecretMissing(f"The secret file {file_name} is larger than a secret.")
        value = raw.decode("utf-8", errors="strict").strip() if raw else ""
        if not value:
            raise SecretMissing(f"The secret file {file_name} is empty.")
        return value
    raise SecretMissing("No environment variable or secret file is named.")


def credentials_for(connection: MlflowConnection) -> Credentials:
    """What to authenticate with at ``connection``'s server; SecretMissing when it is not available."""
    if connection.auth_kind == AuthKind.NONE:
        return Credentials()
    secret = read_secret(connection.secret_env, connection.secret_file)
    return Credentials(kind=connection.auth_kind, username=connection.username, secret=secret)


def webhook_secret_for(connection: MlflowConnection) -> str:
    """The secret MLflow signs this connection's webhooks with; SecretMissing when not configured."""
    return read_secret(connection.webhook_secret_env, connection.webhook_secret_file)
