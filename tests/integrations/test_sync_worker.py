"""The reconcile and hashing tasks in a real Celery worker, against a real MLflow server."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient as MlflowLibClient

from apps.core.queue import enqueue
from apps.integrations.models import MlflowConnection, MlflowModel, MlflowVersion
from tests.factories import TeamFunction, make_project, make_user
from tests.integrations.factories import make_connection
from tests.mlflow_server import MlflowServer
from tests.workers import celery_worker, wait_for


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_reconciles_a_connection_and_hashes_the_new_versions(
    tmp_path: Path, mlflow: MlflowServer, mlflow_client: MlflowLibClient, unique_name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    admin = make_user("root", superuser=True)
    project = make_project(make_user("olivia", TeamFunction.BUSINESS))
    mlflow_client.create_registered_model(unique_name, tags={"signet.project": project.slug})
    mlflow_client.create_model_version(unique_name, source="s3://bucket/model", run_id=None)
    connection, _ = make_connection(monkeypatch, admin, mlflow.url)
    log = tmp_path / "worker.log"
    with celery_worker(log, queues="default,periodic"):
        enqueue("apps.integrations.tasks.reconcile_all")
        assert wait_for(
            lambda: MlflowConnection.objects.get(pk=connection.pk).reconcile_status == "succeeded", timeout=60
        ), log.read_text()
        version = MlflowVersion.objects.get(mlflow_model__name=unique_name)
        # hash_artifact ran after the commit: s3 is not a store Signet reads, and says so
        assert wait_for(lambda: MlflowVersion.objects.get(pk=version.pk).artifact_state == "unreachable", timeout=30), (
            log.read_text()
        )
    mirror = MlflowModel.objects.get(connection=connection, name=unique_name)
    assert mirror.model is not None
    assert mirror.model.project == project
    assert mirror.model.versions.get().number == 1
    assert "cannot read s3" in MlflowVersion.objects.get(pk=version.pk).artifact_message
