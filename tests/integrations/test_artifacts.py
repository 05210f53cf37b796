"""Hashing an MLflow version's files: through MLflow's artifact proxy, local folders inside the allowed roots only."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from django.test import override_settings
from mlflow.tracking import MlflowClient as MlflowLibClient

from apps.audit.models import AuditEvent
from apps.integrations.models import MlflowConnection, MlflowModel, MlflowVersion
from apps.integrations.services.artifacts import FINDING_TITLE, artifact_hash, folder_digest
from apps.integrations.services.sync import reconcile
from apps.registry.models import ModelVersion
from apps.workflows.models import Finding
from tests.conftest import Org
from tests.integrations.conftest import register_version
from tests.integrations.factories import make_connection
from tests.mlflow_server import MlflowServer

pytestmark = pytest.mark.django_db


def expected_digest(folder: Path) -> tuple[str, int]:
    """The documented folder digest, computed here from the files on disk, independently of Signet's code."""
    lines = []
    total = 0
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            total += len(data)
            lines.append((path.relative_to(folder).as_posix().encode(), len(data), hashlib.sha256(data).hexdigest()))
    text = b"".join(rel + b"\0" + str(size).encode() + b"\0" + sha.encode() + b"\n" for rel, size, sha in sorted(lines))
    return hashlib.sha256(text).hexdigest(), total


def test_the_digest_of_an_mlflow_model_equals_the_one_computed_over_the_servers_files(
    org: Org, mlflow: MlflowServer, mlflow_client: MlflowLibClient, unique_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    version = register_version(mlflow_client, unique_name)
    mlflow_client.set_registered_model_tag(unique_name, "signet.project", org.project.slug)
    connection, _ = make_connection(monkeypatch, org.administrator, mlflow.url)
    reconcile(connection)
    mirror = MlflowVersion.objects.get(mlflow_model__connection=connection, mlflow_model__name=unique_name)
    assert mirror.source.startswith("models:/m-")  # MLflow 3 registers the logged model
    assert version.source is not None
    logged = mlflow_client.get_logged_model(version.source.removeprefix("models:/"))
    folder = mlflow.artifacts_dir / logged.artifact_location.removeprefix("mlflow-artifacts:/")
    expected, size = expected_digest(folder)

    assert artifact_hash(mirror) == expected

    mirror.refresh_from_db()
    assert (mirror.artifact_state, mirror.artifact_sha256, mirror.artifact_size) == ("hashed", expected, size)
    assert mirror.artifact_uri == logged.artifact_location
    assert mirror.version_id is not None
    signet = ModelVersion.objects.get(pk=mirror.version_id)
    assert signet.artifact_sha256 == expected  # a draft takes the digest, audited with the bridge as actor
    event = AuditEvent.objects.filter(action="registry.model_version.updated", target_id=str(signet.pk)).get()
    assert (event.actor_name, event.changes["artifact_sha256"]["after"]) == (connection.actor_name, expected)

    # A version that left draft keeps its digest; MLflow's files differing from it is a high finding.
    ModelVersion.objects.filter(pk=signet.pk).update(status="approved", artifact_sha256="0" * 64)
    assert artifact_hash(mirror) == expected
    signet.refresh_from_db()
    assert signet.artifact_sha256 == "0" * 64
    finding = Finding.objects.get(version=signet, kind="unapproved_deployment")
    assert (finding.severity, finding.title) == ("high", FINDING_TITLE)
    mirror.refresh_from_db()
    assert "differ" in mirror.artifact_message
    artifact_hash(mirror)
    assert Finding.objects.filter(version=signet).count() == 1  # one while it stays open


def _mirror_row(org: Org, monkeypatch: pytest.MonkeyPatch, source: str) -> MlflowVersion:
    connection: MlflowConnection = make_connection(monkeypatch, org.administrator, "http://127.0.0.1:9")[0]
    model = MlflowModel.objects.create(connection=connection, name="local")
    return MlflowVersion.objects.create(mlflow_model=model, number=1, source=source)


def test_a_local_folder_inside_the_allowed_roots_is_hashed(
    org: Org, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "root" / "model"
    (folder / "sub").mkdir(parents=True)
    (folder / "MLmodel").write_text("flavors: {}\n")
    (folder / "sub" / "model.pkl").write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    row = _mirror_row(org, monkeypatch, f"file://{folder}")
    with override_settings(SIGNET_ARTIFACT_ROOTS=[str(tmp_path / "root")]):
        digest = artifact_hash(row)
    assert digest == expected_digest(folder)[0]
    assert digest == folder_digest(
        [("MLmodel", len(b"flavors: {}\n"), hashlib.sha256(b"flavors: {}\n").hexdigest()),
         ("sub/model.pkl", (folder / "sub" / "model.pkl").stat().st_size,
          hashlib.sha256((folder / "sub" / "model.pkl").read_bytes()).hexdigest())]
    )  # fmt: skip


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("file:///etc", "outside the folders Signet may read"),
        ("/etc/hostname", "outside the folders Signet may read"),
        ("s3://bucket/model", "cannot read s3 artifact locations"),
    ],
)
def test_artifacts_outside_the_allowed_roots_are_refused(
    source: str, reason: str, org: Org, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = _mirror_row(org, monkeypatch, source)
    with override_settings(SIGNET_ARTIFACT_ROOTS=[str(tmp_path)]):
        assert artifact_hash(row) == ""
    row.refresh_from_db()
    assert (row.artifact_state, row.artifact_sha256) == ("unreachable", "")
    assert reason in row.artifact_message


def test_a_link_out_of_the_allowed_roots_is_refused(org: Org, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "root" / "model"
    folder.mkdir(parents=True)
    (folder / "passwd").symlink_to("/etc/passwd")
    row = _mirror_row(org, monkeypatch, f"file://{folder}")
    with override_settings(SIGNET_ARTIFACT_ROOTS=[str(tmp_path / "root")]):
        assert artifact_hash(row) == ""
    row.refresh_from_db()
    assert row.artifact_state == "unreachable"
    assert "links outside" in row.artifact_message
