"""Moving @champion to an unapproved version is caught and undone: a real MLflow server, its own client, Signet.

A data scientist registers versions with the unmodified ``mlflow`` client; Signet reconciles them into
the project the model's tag names; v1 is approved in Signet, and MLflow shows it in its tags. The
champion alias on v1 is fine; moved to v2 it raises the finding and comes back to v1, with Signet's
reason on v2. Once in-process (the services and tasks called as a worker calls them), once in a real
Celery worker that follows the governance change on its own.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient as MlflowLibClient

from apps.core.queue import enqueue
from apps.integrations.models import MlflowConnection, MlflowModel, MlflowVersion
from apps.integrations.services.sync import reconcile, sync_model
from apps.integrations.tasks import write_back_version
from apps.registry import services as registry
from apps.registry.models import ModelVersion
from apps.workflows import services
from apps.workflows.choices import FindingType
from apps.workflows.models import Finding
from tests.integrations.conftest import register_version
from tests.integrations.factories import make_connection
from tests.mlflow_server import MlflowServer
from tests.workers import celery_worker, wait_for
from tests.workflows.conftest import FULL_CARD, Flow


def _approve_in_signet(flow: Flow, version: ModelVersion) -> None:
    """The project's developer completes the card and submits; the validator approves."""
    registry.card_update(actor=flow.developer, card=version.card, sections=FULL_CARD)
    review = services.version_submit(actor=flow.developer, version=version)
    version.refresh_from_db()
    services.review_decide(
        actor=flow.validator,
        review=review,
        kind="approve",
        comment="Validated.",
        evidence_digest_seen=services.evidence_digest(version),
    )


def _governed(connection: MlflowConnection, name: str, number: int) -> MlflowVersion:
    return MlflowVersion.objects.select_related("version").get(
        mlflow_model__connection=connection, mlflow_model__name=name, number=number
    )


def _signet_tags(client: MlflowLibClient, name: str, number: int) -> dict[str, str]:
    return {k: v for k, v in client.get_model_version(name, str(number)).tags.items() if k.startswith("signet.")}


@pytest.mark.django_db
def test_moving_champion_to_an_unapproved_version_is_caught_and_undone(
    mlflow: MlflowServer, mlflow_client: MlflowLibClient, unique_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    flow = Flow("low")
    name = unique_name
    register_version(mlflow_client, name, metrics={"auc": 0.91})
    register_version(mlflow_client, name, metrics={"auc": 0.93})
    mlflow_client.set_registered_model_tag(name, "signet.project", flow.project.slug)
    connection, _ = make_connection(monkeypatch, flow.administrator, mlflow.url, restore_aliases=True)

    assert reconcile(connection)["status"] == "succeeded"
    first, second = _governed(connection, name, 1), _governed(connection, name, 2)
    assert first.version is not None
    assert second.version is not None
    _approve_in_signet(flow, first.version)
    assert write_back_version(first.pk) is True  # what the receiver queued once the approval committed
    approved = _signet_tags(mlflow_client, name, 1)
    assert approved["signet.status"] == "approved"
    assert approved["signet.review"] == "1:approved"
    assert approved["signet.approved_digest"] == first.version.reviews.get().approved_digest

    mlflow_client.set_registered_model_alias(name, "champion", "1")
    sync_model(connection, name)  # what the webhook of the alias, or the next reconcile, does
    # This model's findings: the reconcile above also governs other tests' models on the shared server
    # that are tagged for a project of the same slug, and may find their aliases unapproved.
    ours = Finding.objects.filter(kind=FindingType.UNAPPROVED_DEPLOYMENT, model=first.version.model)
    assert not ours.exists()

    mlflow_client.set_registered_model_alias(name, "champion", "2")
    sync_model(connection, name)

    finding = ours.get()
    assert finding.version == second.version
    assert finding.title == f"Unapproved promotion: {name}@champion points at v2"
    assert mlflow_client.get_model_version_by_alias(name, "champion").version == "1"
    refusal = mlflow_client.get_model_version(name, "2").tags["signet.alias_refused"]
    assert refusal.startswith("champion moved back to v1: ")
    assert "is draft, not approved." in refusal
    assert MlflowModel.objects.get(pk=first.mlflow_model_id).aliases.get(alias="champion").number == 1
    assert _signet_tags(mlflow_client, name, 1)["signet.status"] == "approved"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_writes_the_approval_back_and_undoes_an_unapproved_promotion(
    tmp_path: Path, mlflow: MlflowServer, mlflow_client: MlflowLibClient, unique_name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    flow = Flow("low")
    name = unique_name
    mlflow_client.create_registered_model(name, tags={"signet.project": flow.project.slug})
    for _ in range(2):
        mlflow_client.create_model_version(name, source="s3://models/churn", run_id=None)
    connection, _ = make_connection(monkeypatch, flow.administrator, mlflow.url, restore_aliases=True)
    log = tmp_path / "worker.log"
    with celery_worker(log, queues="default,periodic"):
        enqueue("apps.integrations.tasks.reconcile_connection", connection.pk)
        assert wait_for(
            lambda: MlflowConnection.objects.get(pk=connection.pk).reconcile_status == "succeeded", timeout=60
        ), log.read_text()
        first = _governed(connection, name, 1)
        assert first.version is not None
        _approve_in_signet(flow, first.version)  # committed: the receiver queues the write-back
        assert wait_for(lambda: _signet_tags(mlflow_client, name, 1).get("signet.status") == "approved", timeout=60), (
            log.read_text()
        )

        mlflow_client.set_registered_model_alias(name, "champion", "2")
        enqueue("apps.integrations.tasks.reconcile_connection", connection.pk)
        assert wait_for(
            lambda: mlflow_client.get_model_version_by_alias(name, "champion").version == "1", timeout=60
        ), log.read_text()
    assert (
        Finding.objects.filter(
            kind=FindingType.UNAPPROVED_DEPLOYMENT, version__mlflow__mlflow_model__name=name, version__mlflow__number=2
        ).count()
        == 1
    )  # the reconcile also governs other tests' models tagged for a project of the same slug
    assert mlflow_client.get_model_version(name, "2").tags["signet.alias_refused"].startswith("champion moved back")
