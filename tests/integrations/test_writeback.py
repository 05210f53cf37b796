"""Write-back: the signet.* tags each governance state calls for, and what a real MLflow server shows after."""

from __future__ import annotations

import pytest
from django.db import transaction
from mlflow.tracking import MlflowClient as MlflowLibClient

from apps.audit.models import AuditEvent
from apps.integrations.models import MlflowConnection, MlflowVersion
from apps.integrations.services.writeback import desired_tags, write_back, write_back_due
from apps.workflows import services
from apps.workflows.gate import approval_current
from tests.integrations.guard import Guarded
from tests.mlflow_server import MlflowServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def guarded(monkeypatch: pytest.MonkeyPatch) -> Guarded:
    return Guarded(monkeypatch)


def _tags(guarded: Guarded, number: int = 1) -> dict:
    mirror = MlflowVersion.objects.select_related("version").get(pk=guarded.mirrors[number].pk)
    return desired_tags([mirror])[mirror.pk]


def test_a_draft_never_submitted_carries_no_tags(guarded: Guarded) -> None:
    assert _tags(guarded) == {"signet.status": None, "signet.review": None, "signet.approved_digest": None}


def test_a_submitted_version_is_in_review(guarded: Guarded) -> None:
    guarded.submit()
    assert _tags(guarded) == {"signet.status": "in_review", "signet.review": "1:open", "signet.approved_digest": None}


def test_an_approved_version_carries_its_approved_digest(guarded: Guarded) -> None:
    review = guarded.approve(guarded.version)
    assert _tags(guarded) == {
        "signet.status": "approved",
        "signet.review": "1:approved",
        "signet.approved_digest": review.approved_digest,
    }


@pytest.mark.parametrize("how", ["card edited", "expired"])
def test_an_approval_that_no_longer_covers_the_version_is_stale(guarded: Guarded, how: str) -> None:
    review = guarded.approve(guarded.version)
    if how == "expired":
        guarded.expire(review)
    else:
        guarded.make_stale(guarded.version)
    assert approval_current(guarded.version) is False  # what the gate holds
    tags = _tags(guarded)
    assert tags["signet.status"] == "stale"
    assert tags["signet.approved_digest"] == review.approved_digest  # what was approved, still


def test_rejected_deployed_and_retired_versions(guarded: Guarded) -> None:
    second = guarded.new_version()
    guarded.link(2, second)
    guarded.reject(second)
    assert _tags(guarded, 2) == {
        "signet.status": "rejected",
        "signet.review": "1:rejected",
        "signet.approved_digest": None,
    }
    review = guarded.approve(guarded.version)
    services.deployment_record(actor=guarded.it_ops, version=guarded.version, environment="production")
    assert _tags(guarded)["signet.status"] == "deployed"
    assert _tags(guarded)["signet.approved_digest"] == review.approved_digest
    services.version_retire(actor=guarded.owner, version=guarded.version, reason="Replaced.")
    assert _tags(guarded) == {"signet.status": "retired", "signet.review": "1:approved", "signet.approved_digest": None}


def test_nothing_is_written_when_write_back_is_off_or_the_version_is_not_governed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    guarded = Guarded(monkeypatch, write_back=False)  # the server is unreachable: a call would fail
    guarded.approve(guarded.version)
    assert write_back(guarded.mirrors[1]) is False
    assert list(write_back_due(guarded.connection)) == []
    MlflowConnection.objects.filter(pk=guarded.connection.pk).update(write_back=True)
    unlinked = guarded.link(2, None)
    assert write_back(unlinked) is False
    guarded.connection.refresh_from_db()
    assert list(write_back_due(guarded.connection)) == [guarded.mirrors[1].pk]


# --- against a real MLflow server --------------------------------------------------------------------


@pytest.fixture
def served(
    monkeypatch: pytest.MonkeyPatch, mlflow: MlflowServer, mlflow_client: MlflowLibClient, unique_name: str
) -> Guarded:
    """``Guarded`` on the session's MLflow server, where ``unique_name`` has versions 1 and 2."""
    mlflow_client.create_registered_model(unique_name)
    for _ in range(2):
        mlflow_client.create_model_version(unique_name, source="s3://models/churn", run_id=None)
    return Guarded(monkeypatch, url=mlflow.url, name=unique_name)


def _mlflow_tags(client: MlflowLibClient, name: str, number: int = 1) -> dict[str, str]:
    return {k: v for k, v in client.get_model_version(name, str(number)).tags.items() if k.startswith("signet.")}


def test_write_back_sets_the_tags_in_mlflow_once_and_follows_the_state(
    served: Guarded, mlflow_client: MlflowLibClient, unique_name: str
) -> None:
    review = served.approve(served.version)
    assert write_back(served.mirrors[1]) is True
    expected = {
        "signet.status": "approved",
        "signet.review": "1:approved",
        "signet.approved_digest": review.approved_digest,
    }
    assert _mlflow_tags(mlflow_client, unique_name) == expected
    mirror = MlflowVersion.objects.get(pk=served.mirrors[1].pk)
    assert mirror.written_tags == expected
    event = AuditEvent.objects.get(action="integrations.version.tags_written")
    assert (event.actor_id, event.actor_name) == (served.connection.service_user.pk, served.connection.actor_name)
    assert event.changes["signet.status"] == {"before": None, "after": "approved"}
    assert write_back(served.mirrors[1]) is False  # nothing new: no call, no event
    assert AuditEvent.objects.filter(action="integrations.version.tags_written").count() == 1
    assert list(write_back_due(served.connection)) == []

    services.version_retire(actor=served.owner, version=served.version, reason="Replaced.")
    assert list(write_back_due(served.connection)) == [served.mirrors[1].pk]
    assert write_back(served.mirrors[1]) is True
    assert _mlflow_tags(mlflow_client, unique_name) == {"signet.status": "retired", "signet.review": "1:approved"}
    assert "signet.approved_digest" not in MlflowVersion.objects.get(pk=served.mirrors[1].pk).written_tags
    assert _mlflow_tags(mlflow_client, unique_name, 2) == {}  # never the other versions, never the files


def test_a_tag_edited_in_mlflow_is_written_again(
    served: Guarded, mlflow_client: MlflowLibClient, unique_name: str
) -> None:
    served.approve(served.version)
    write_back(served.mirrors[1])
    mlflow_client.set_model_version_tag(unique_name, "1", "signet.status", "approved-by-me")
    # The sync reads it back into the mirror's tags.
    mirror = MlflowVersion.objects.get(pk=served.mirrors[1].pk)
    MlflowVersion.objects.filter(pk=mirror.pk).update(tags={**mirror.tags, "signet.status": "approved-by-me"})
    assert list(write_back_due(served.connection)) == [mirror.pk]
    assert write_back(mirror) is True
    assert _mlflow_tags(mlflow_client, unique_name)["signet.status"] == "approved"


def test_mlflow_unreachable_records_nothing_and_raises_for_the_task_to_retry(
    served: Guarded, mlflow: MlflowServer
) -> None:
    from apps.integrations.mlflow_client import MlflowError

    served.approve(served.version)
    MlflowConnection.objects.filter(pk=served.connection.pk).update(url="http://127.0.0.1:9")
    with pytest.raises(MlflowError) as caught, transaction.atomic():
        write_back(served.mirrors[1])
    assert caught.value.transient
    assert MlflowVersion.objects.get(pk=served.mirrors[1].pk).written_tags == {}
    assert not AuditEvent.objects.filter(action="integrations.version.tags_written").exists()
