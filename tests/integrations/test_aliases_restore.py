"""Restoring protected aliases on a real MLflow server: back to the last approved version, or removed."""

from __future__ import annotations

import pytest
from django.db import transaction
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient as MlflowLibClient

from apps.audit.models import AuditEvent
from apps.integrations.models import MlflowAlias, MlflowConnection, MlflowModel, MlflowVersion
from apps.integrations.services.aliases import aliases_check
from apps.workflows.choices import FindingType
from apps.workflows.models import Finding
from tests.integrations.guard import Guarded
from tests.mlflow_server import MlflowServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def served(
    monkeypatch: pytest.MonkeyPatch, mlflow: MlflowServer, mlflow_client: MlflowLibClient, unique_name: str
) -> Guarded:
    """A restoring connection to the session's server, where ``unique_name`` has versions 1 to 3."""
    mlflow_client.create_registered_model(unique_name)
    for _ in range(3):
        mlflow_client.create_model_version(unique_name, source="s3://models/churn", run_id=None)
    guarded = Guarded(monkeypatch, url=mlflow.url, name=unique_name, restore_aliases=True)
    guarded.link(2, guarded.new_version())
    guarded.link(3, guarded.new_version())
    return guarded


def _promote(guarded: Guarded, client: MlflowLibClient, name: str, number: int) -> None:
    """A data scientist moves @champion in MLflow; the sync mirrors it."""
    client.set_registered_model_alias(name, "champion", str(number))
    guarded.point("champion", number)


def _check(guarded: Guarded) -> list[dict]:
    with transaction.atomic():  # as the task runs it: its own transactions
        return aliases_check(MlflowModel.objects.get(pk=guarded.mlflow_model.pk))


def test_an_unapproved_promotion_is_moved_back_to_the_last_approved_version_with_the_reason_in_mlflow(
    served: Guarded, mlflow_client: MlflowLibClient, unique_name: str
) -> None:
    served.approve(served.version)  # v1 approved; v2 and v3 drafts
    _promote(served, mlflow_client, unique_name, 3)
    [result] = _check(served)
    assert (result["allowed"], result["restored_to"], result["removed"]) == (False, 1, False)
    assert mlflow_client.get_model_version_by_alias(unique_name, "champion").version == "1"
    refused_tags = mlflow_client.get_model_version(unique_name, "3").tags
    assert refused_tags["signet.alias_refused"] == f"champion moved back to v1: pd-model v{3} is draft, not approved."
    alias = MlflowAlias.objects.get(mlflow_model=served.mlflow_model, alias="champion")
    assert (alias.number, alias.refused_number) == (1, None)
    refused = MlflowVersion.objects.get(pk=served.mirrors[3].pk)
    assert refused.written_tags["signet.alias_refused"] == refused_tags["signet.alias_refused"]
    event = AuditEvent.objects.get(action="integrations.alias.restored")
    assert (event.actor_id, event.actor_name) == (served.connection.service_user.pk, served.connection.actor_name)
    assert event.changes == {"number": {"before": 3, "after": 1}}
    assert (
        Finding.objects.filter(kind=FindingType.UNAPPROVED_DEPLOYMENT, version=served.mirrors[3].version).count() == 1
    )
    assert _check(served)[0]["allowed"] is True  # undone: the next check finds the alias backed


def test_the_newest_approved_version_is_the_one_restored(
    served: Guarded, mlflow_client: MlflowLibClient, unique_name: str
) -> None:
    served.approve(served.version)
    second = served.mirrors[2].version
    assert second is not None
    served.approve(second)
    _promote(served, mlflow_client, unique_name, 3)
    assert _check(served)[0]["restored_to"] == 2
    assert mlflow_client.get_model_version_by_alias(unique_name, "champion").version == "2"


def test_with_no_approved_version_the_alias_is_removed(
    served: Guarded, mlflow_client: MlflowLibClient, unique_name: str
) -> None:
    _promote(served, mlflow_client, unique_name, 2)
    [result] = _check(served)
    assert (result["restored_to"], result["removed"]) == (None, True)
    with pytest.raises(MlflowException):
        mlflow_client.get_model_version_by_alias(unique_name, "champion")
    assert not MlflowAlias.objects.filter(mlflow_model=served.mlflow_model).exists()
    tag = mlflow_client.get_model_version(unique_name, "2").tags["signet.alias_refused"]
    assert tag.startswith("champion removed: no approved version: ")
    assert AuditEvent.objects.get(action="integrations.alias.restored").data["removed"] is True


def test_an_alias_mlflow_moved_since_the_mirror_read_it_is_left_for_the_next_sync(
    served: Guarded, mlflow_client: MlflowLibClient, unique_name: str
) -> None:
    served.approve(served.version)
    _promote(served, mlflow_client, unique_name, 2)
    mlflow_client.set_registered_model_alias(unique_name, "champion", "1")  # moved back by hand; no sync yet
    [result] = _check(served)
    assert result["skipped"] == "MLflow shows @champion at v1"
    assert not AuditEvent.objects.filter(action="integrations.alias.restored").exists()
    assert "signet.alias_refused" not in mlflow_client.get_model_version(unique_name, "2").tags


def test_mlflow_away_keeps_the_finding_audits_the_failure_and_changes_no_mirror_row(
    served: Guarded, mlflow_client: MlflowLibClient, unique_name: str
) -> None:
    _promote(served, mlflow_client, unique_name, 2)
    MlflowConnection.objects.filter(pk=served.connection.pk).update(url="http://127.0.0.1:9")
    [result] = aliases_check(MlflowModel.objects.get(pk=served.mlflow_model.pk), retry_later=False)
    assert result["transient"] is True
    assert "cannot be reached" in result["error"]
    assert result["restored_to"] is None
    assert result["removed"] is False
    assert Finding.objects.filter(kind=FindingType.UNAPPROVED_DEPLOYMENT).count() == 1
    failed = AuditEvent.objects.get(action="integrations.alias.restore_failed")
    assert failed.data["transient"] is True
    assert MlflowAlias.objects.get(mlflow_model=served.mlflow_model, alias="champion").number == 2
    assert not AuditEvent.objects.filter(action="integrations.alias.restored").exists()
    assert mlflow_client.get_model_version_by_alias(unique_name, "champion").version == "2"
