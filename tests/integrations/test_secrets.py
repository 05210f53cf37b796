"""Where a connection's secrets may come from: only SIGNET_MLFLOW_* variables and signet-mlflow-* files."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import override_settings

from apps.integrations.secrets import SecretMissing, read_secret


def test_a_variable_of_the_prefix_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIGNET_MLFLOW_TOKEN_A", "s3cret")
    assert read_secret("SIGNET_MLFLOW_TOKEN_A", "") == "s3cret"


@pytest.mark.parametrize("name", ["DATABASE_URL", "SECRET_KEY", "signet_mlflow_lower"])
def test_any_other_variable_is_refused_even_when_set(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(name, "the portal's own")
    with pytest.raises(SecretMissing, match="must start with SIGNET_MLFLOW_"):
        read_secret(name, "")


def test_a_file_of_the_prefix_in_the_folder_is_read_and_stripped(tmp_path: Path) -> None:
    (tmp_path / "signet-mlflow-prod").write_text("token-value\n")
    with override_settings(SIGNET_SECRETS_DIR=str(tmp_path)):
        assert read_secret("", "signet-mlflow-prod") == "token-value"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("db-password", "must start with signet-mlflow-"),  # the portal's own mounted secret, beside ours
        ("signet-mlflow-../db-password", "directly inside the secrets folder"),
        ("signet-mlflow-missing", "cannot be read"),
        ("signet-mlflow-empty", "is empty"),
        ("signet-mlflow-huge", "larger than a secret"),
    ],
)
def test_other_files_are_refused_in_words(tmp_path: Path, name: str, reason: str) -> None:
    (tmp_path / "db-password").write_text("the database's")
    (tmp_path / "signet-mlflow-empty").write_text("\n")
    (tmp_path / "signet-mlflow-huge").write_bytes(b"x" * 20_000)
    with override_settings(SIGNET_SECRETS_DIR=str(tmp_path)), pytest.raises(SecretMissing, match=reason):
        read_secret("", name)


def test_a_missing_variable_falls_back_to_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SIGNET_MLFLOW_UNSET", raising=False)
    (tmp_path / "signet-mlflow-b").write_text("from-file")
    with override_settings(SIGNET_SECRETS_DIR=str(tmp_path)):
        assert read_secret("SIGNET_MLFLOW_UNSET", "signet-mlflow-b") == "from-file"
    with pytest.raises(SecretMissing, match="is not set"):
        read_secret("SIGNET_MLFLOW_UNSET", "")
