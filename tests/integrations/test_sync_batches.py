"""The reconcile writes in batches of whole models: one audit write, one hashing task per batch (real MLflow)."""

from __future__ import annotations

import base64
import json
from typing import cast

import pytest
import redis
from django.conf import settings
from django.test import override_settings
from mlflow.tracking import MlflowClient as MlflowLibClient

from apps.audit.models import AuditEvent
from apps.audit.sealing import audit_chain_verify
from apps.integrations.models import MlflowModel, MlflowVersion
from apps.integrations.services.artifacts import known_unreachable
from apps.integrations.services.governing import HASH_TASK
from apps.integrations.services.sync import reconcile
from apps.registry.models import ModelVersion, RegisteredModel
from tests.conftest import Org
from tests.integrations.factories import make_connection
from tests.mlflow_server import MlflowServer

pytestmark = pytest.mark.django_db


def queued_hash_tasks() -> list[list[int]]:
    """The id lists of the hash_artifacts messages waiting in this run's queue of the real broker."""
    broker = redis.Redis.from_url(str(settings.CELERY_BROKER_URL))
    found = []
    for raw in cast(list[bytes], broker.lrange(settings.CELERY_TASK_DEFAULT_QUEUE, 0, -1)):
        message = json.loads(raw)
        if message["headers"]["task"] == HASH_TASK:
            args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
            found.append(list(args[0]))
    return found


def test_a_pass_writes_batches_of_models_with_their_events_and_queues_one_hashing_task_a_batch(
    org: Org, mlflow: MlflowServer, mlflow_client: MlflowLibClient, unique_name: str,
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks,
) -> None:  # fmt: skip
    names = [f"{unique_name}-Fraud Model", f"{unique_name}-fraud-model", f"{unique_name}-c", f"{unique_name}-d"]
    run = mlflow_client.create_run("0")  # files in MLflow's artifact store are those of a run
    stored = f"{run.info.artifact_uri}/model"
    assert stored.startswith("mlflow-artifacts:")
    sources = [stored, "s3://bucket/model", "gs://bucket/model", stored]
    for name in names:
        mlflow_client.create_registered_model(name, tags={"signet.project": org.project.slug})
        for source in sources:
            run_id = run.info.run_id if source == stored else None
            mlflow_client.create_model_version(name, source=source, run_id=run_id)
    connection = make_connection(monkeypatch, org.administrator, mlflow.url)[0]
    before = len(queued_hash_tasks())
    first_event = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0

    with django_capture_on_commit_callbacks(execute=True):
        result = reconcile(connection, page_size=6)  # a page holds versions of two models or more
    assert result["status"] == "succeeded", result["message"]

    mirrors = MlflowModel.objects.filter(connection=connection, name__in=names).select_related("model")
    assert len(mirrors) == 4
    # Two names of one slug in one batch: the second gets the next suffix.
    slugs = sorted(m.model.name for m in mirrors if m.model and "fraud" in m.name.lower())
    assert len(slugs) == 2
    assert slugs[1] == f"{slugs[0]}-2"
    versions = MlflowVersion.objects.filter(mlflow_model__in=mirrors)
    assert versions.count() == 16
    assert ModelVersion.objects.filter(mlflow__in=versions).count() == 16

    # Sources Signet cannot read are recorded as such by the pass, with the reason, and queue nothing.
    for row in versions:
        if row.source.startswith("mlflow-artifacts:"):
            assert (row.artifact_state, row.artifact_message) == ("pending", "")
        else:
            assert row.artifact_state == "unreachable"
            assert row.artifact_message == known_unreachable(row.source)
    assert "cannot read s3" in versions.get(mlflow_model__name=names[1], source="s3://bucket/model").artifact_message
    assert "cannot read gs" in versions.get(mlflow_model__name=names[2], source="gs://bucket/model").artifact_message

    # One task per written batch, with the ids of the batch's readable versions; each id once.
    tasks = queued_hash_tasks()[before:]
    assert len(tasks) <= result["pages"]
    queued = [i for task in tasks for i in task]
    mine = set(versions.filter(source__startswith="mlflow-artifacts:").values_list("pk", flat=True))
    assert sorted(i for i in queued if i in mine) == sorted(mine)
    assert not set(queued) & set(versions.exclude(source__startswith="mlflow-artifacts:").values_list("pk", flat=True))

    # Every change audited, by the bridge, in a chain that verifies.
    events = AuditEvent.objects.filter(seq__gt=first_event)
    models = RegisteredModel.objects.filter(mlflow__in=mirrors)
    created = events.filter(action="registry.model.created", target_id__in=[str(m.pk) for m in models])
    assert created.count() == 4
    version_events = events.filter(
        action="registry.model_version.created",
        target_id__in=[str(v) for v in ModelVersion.objects.filter(mlflow__in=versions).values_list("pk", flat=True)],
    )
    assert version_events.count() == 16
    assert set(events.values_list("actor_id", flat=True)) == {connection.service_user.pk}
    assert set(events.values_list("actor_name", flat=True)) == {connection.actor_name}
    assert audit_chain_verify(actor=org.administrator).ok


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("s3://bucket/model", "cannot read s3 artifact locations"),
        ("hdfs://cluster/model", "cannot read hdfs artifact locations"),
        ("relative/model", "cannot read relative artifact locations"),
        ("file:///etc", "outside the folders Signet may read"),
        ("/etc/hostname", "outside the folders Signet may read"),
        ("mlflow-artifacts:/0/abc/artifacts/model", ""),
        ("runs:/abc/model", ""),
        ("models:/m-abc", ""),
        ("", ""),
    ],
)
def test_what_is_unreachable_is_told_without_asking_mlflow(source: str, reason: str, tmp_path) -> None:
    with override_settings(SIGNET_ARTIFACT_ROOTS=[str(tmp_path)]):
        found = known_unreachable(source)
        assert (reason in found) if reason else found == ""
        assert known_unreachable(f"file://{tmp_path}/model") == ""
