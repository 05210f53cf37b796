"""The reconcile against a real MLflow server: what it mirrors, what it governs, what it leaves alone."""

from __future__ import annotations

from typing import Any

import psycopg2
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection as database
from mlflow.tracking import MlflowClient as MlflowLibClient

from apps.audit.models import AuditEvent
from apps.integrations.models import MlflowAlias, MlflowConnection, MlflowModel, MlflowVersion
from apps.integrations.services.governing import builders_of, model_claim
from apps.integrations.services.sync import PASS_LOCK, reconcile, sync_model
from apps.projects import services as projects
from apps.registry.models import ModelVersion
from tests.conftest import Org
from tests.factories import TeamFunction, make_user
from tests.integrations.conftest import register_version
from tests.integrations.factories import make_connection
from tests.mlflow_server import MlflowServer

pytestmark = pytest.mark.django_db


def _connection(monkeypatch: pytest.MonkeyPatch, org: Org, url: str) -> MlflowConnection:
    return make_connection(monkeypatch, org.administrator, url)[0]


def _mirror(connection: MlflowConnection, name: str) -> MlflowModel:
    return MlflowModel.objects.select_related("model").get(connection=connection, name=name)


def _state() -> dict[str, Any]:
    """Everything the bridge writes, to compare two passes."""
    return {
        "events": AuditEvent.objects.count(),
        "models": list(MlflowModel.objects.order_by("pk").values()),
        "versions": list(MlflowVersion.objects.order_by("pk").values()),
        "aliases": list(MlflowAlias.objects.order_by("pk").values()),
        "signet": list(ModelVersion.objects.order_by("pk").values()),
    }


def test_reconcile_mirrors_and_governs_a_tagged_model_and_leaves_an_untagged_one_in_intake(  # noqa: PLR0915
    org: Org, mlflow: MlflowServer, mlflow_client: MlflowLibClient, unique_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tagged, untagged = f"{unique_name}-Credit Risk", f"{unique_name}-intake"
    first = register_version(
        mlflow_client, tagged, params={"C": 1.0}, metrics={"auc": 0.91}, git_commit="a" * 40, dataset="applications"
    )
    mlflow_client.set_registered_model_tag(tagged, "signet.project", org.project.slug)
    mlflow_client.set_registered_model_tag(tagged, "signet.task", "binary_classification")
    mlflow_client.update_registered_model(tagged, description="Probability of default")
    mlflow_client.update_model_version(tagged, first.version, description="first try")
    second = register_version(mlflow_client, tagged, metrics={"auc": 0.93})
    mlflow_client.set_model_version_tag(tagged, second.version, "stage", "candidate")
    mlflow_client.set_registered_model_alias(tagged, "champion", first.version)
    mlflow_client.create_registered_model(untagged)
    mlflow_client.create_model_version(untagged, source="s3://bucket/nowhere", run_id=None)
    builder = None
    if first.user_id:  # the MLflow user has a Signet account and builds the project
        builder = make_user(first.user_id, TeamFunction.DATA_SCIENCE)
        projects.membership_add(actor=org.owner, project=org.project, user=builder, role="developer")
    connection = _connection(monkeypatch, org, mlflow.url)

    result = reconcile(connection)

    assert result["status"] == "succeeded", result
    connection.refresh_from_db()
    assert (connection.reconcile_status, connection.reconciled_at is not None) == ("succeeded", True)
    mirror = _mirror(connection, tagged)
    model = mirror.model
    assert model is not None
    assert (model.project, model.task, model.description) == (
        org.project,
        "binary_classification",
        "Probability of default",
    )
    assert model.name.startswith(f"{unique_name.lower()}-credit-risk")
    assert mirror.tags["signet.project"] == org.project.slug
    assert {a.alias: a.number for a in mirror.aliases.all()} == {"champion": int(first.version)}
    for expected in (
        mlflow_client.get_model_version(tagged, first.version),
        mlflow_client.get_model_version(tagged, second.version),
    ):
        row = mirror.versions.get(number=int(expected.version))
        assert (row.source, row.run_id, row.user_id, row.status, row.description) == (
            expected.source, expected.run_id, expected.user_id or "", expected.status, expected.description or ""
        )  # fmt: skip
        assert row.tags == expected.tags
        assert expected.run_id is not None
        run = mlflow_client.get_run(expected.run_id)
        assert row.run["params"] == run.data.params
        assert row.run["metrics"] == run.data.metrics
        assert row.run["git_commit"] == run.data.tags.get("mlflow.source.git.commit", "")
        version = row.version
        assert version is not None
        assert (version.number, version.status, version.artifact_uri, version.source_run_id) == (
            int(expected.version), "draft", expected.source, expected.run_id
        )  # fmt: skip
        assert version.metrics == run.data.metrics
        assert version.created_by == (builder or connection.service_user)
        assert version.card is not None
    v1 = mirror.versions.get(number=int(first.version))
    assert v1.run["datasets"][0]["name"] == "applications"
    assert v1.run["datasets"][0]["context"] == "training"
    assert v1.run["datasets"][0]["digest"]
    assert v1.run["git_commit"] == "a" * 40
    assert v1.version is not None
    assert v1.version.description == "first try"
    events = AuditEvent.objects.filter(actor_name=connection.actor_name)
    assert events.filter(action="registry.model.created", target_id=str(model.pk)).count() == 1
    mine = [str(pk) for pk in model.versions.values_list("pk", flat=True)]
    assert events.filter(action="registry.model_version.created", target_id__in=mine).count() == 2
    assert set(events.values_list("actor_id", flat=True)) == {connection.service_user.pk}

    intake = _mirror(connection, untagged)
    assert intake.model is None
    assert intake.versions.get().version is None

    before = _state()
    again = reconcile(connection)
    assert again["status"] == "succeeded"
    assert (again["models_created"], again["models_updated"], again["versions_created"], again["versions_updated"]) == (
        0, 0, 0, 0
    )  # fmt: skip
    assert again["run_pages"] == 0
    assert _state() == before  # nothing written, no audit event


def test_changes_in_mlflow_are_picked_up_and_a_deleted_model_is_marked_not_deleted(
    org: Org, mlflow: MlflowServer, mlflow_client: MlflowLibClient, unique_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    name, doomed = f"{unique_name}-m", f"{unique_name}-doomed"
    first = register_version(mlflow_client, name)
    second = register_version(mlflow_client, name)
    mlflow_client.set_registered_model_tag(name, "signet.project", org.project.slug)
    mlflow_client.set_registered_model_alias(name, "champion", first.version)
    mlflow_client.create_registered_model(doomed)
    mlflow_client.create_model_version(doomed, source="s3://bucket/x", run_id=None)
    connection = _connection(monkeypatch, org, mlflow.url)
    reconcile(connection)
    model = _mirror(connection, name).model
    assert model is not None

    third = register_version(mlflow_client, name, metrics={"auc": 0.5})
    mlflow_client.update_registered_model(name, description="now described")
    mlflow_client.set_model_version_tag(name, second.version, "reviewed", "yes")
    mlflow_client.set_registered_model_alias(name, "champion", second.version)
    mlflow_client.delete_registered_model(doomed)
    mlflow_client.delete_model_version(name, first.version)
    result = reconcile(connection)

    assert result["status"] == "succeeded", result
    mirror = _mirror(connection, name)
    assert mirror.description == "now described"
    assert mirror.model is not None
    mirror.model.refresh_from_db()
    assert mirror.model.description == "now described"
    assert mirror.versions.get(number=int(second.version)).tags == {"reviewed": "yes"}
    assert mirror.aliases.get(alias="champion").number == int(second.version)
    moves = AuditEvent.objects.filter(action="integrations.aliases.changed", target_id=str(mirror.pk)).order_by("seq")
    assert [e.changes["aliases"]["after"] for e in moves] == [
        {"champion": int(first.version)},
        {"champion": int(second.version)},
    ]
    assert {(e.actor_id, e.actor_name) for e in moves} == {(connection.service_user.pk, connection.actor_name)}
    new = mirror.versions.get(number=int(third.version))
    assert new.version is not None
    assert new.version.metrics == {"auc": 0.5}
    gone_version = mirror.versions.get(number=int(first.version))
    assert gone_version.deleted_at is not None  # marked, kept
    assert gone_version.version is not None
    gone = _mirror(connection, doomed)
    assert gone.deleted_at is not None
    assert gone.versions.get().deleted_at is not None
    trail = AuditEvent.objects.filter(actor_name=connection.actor_name)
    assert trail.filter(action="integrations.model.gone", target_id=str(gone.pk)).count() == 1
    assert trail.filter(action="integrations.version.gone", target_id=str(gone_version.pk)).count() == 1
    assert trail.filter(action="registry.model.updated", target_id=str(model.pk)).count() == 1

    # A second pass marks nothing again; a model that comes back is unmarked.
    count = trail.count()
    reconcile(connection)
    assert trail.count() == count
    mlflow_client.create_registered_model(doomed)
    reconcile(connection)
    gone.refresh_from_db()
    assert gone.deleted_at is None
    assert trail.filter(action="integrations.model.returned", target_id=str(gone.pk)).count() == 1


def test_a_version_that_left_draft_is_never_changed_by_the_bridge(
    org: Org, mlflow: MlflowServer, mlflow_client: MlflowLibClient, unique_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    version = register_version(mlflow_client, unique_name)
    mlflow_client.set_registered_model_tag(unique_name, "signet.project", org.project.slug)
    connection = _connection(monkeypatch, org, mlflow.url)
    reconcile(connection)
    signet = _mirror(connection, unique_name).versions.get().version
    assert signet is not None
    ModelVersion.objects.filter(pk=signet.pk).update(status="in_review")  # as submission would leave it

    mlflow_client.update_model_version(unique_name, version.version, description="changed after submission")
    reconcile(connection)

    signet.refresh_from_db()
    assert signet.description == ""
    assert _mirror(connection, unique_name).versions.get().description == "changed after submission"


def test_sync_model_rereads_one_model_and_marks_it_gone_on_404(
    org: Org, mlflow: MlflowServer, mlflow_client: MlflowLibClient, unique_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection = _connection(monkeypatch, org, mlflow.url)
    mlflow_client.create_registered_model(unique_name, tags={"signet.project": org.project.slug})
    mlflow_client.create_model_version(unique_name, source="s3://bucket/a", run_id=None)
    mirror = sync_model(connection, unique_name)
    assert mirror is not None
    assert mirror.model is not None
    assert mirror.model.versions.get().number == 1

    mlflow_client.delete_registered_model(unique_name)
    gone = sync_model(connection, unique_name)
    assert gone is not None
    assert gone.deleted_at is not None
    assert sync_model(connection, f"{unique_name}-never") is None


def test_owners_claim_intake_models_and_no_one_else_can(
    org: Org, mlflow: MlflowServer, mlflow_client: MlflowLibClient, unique_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    mlflow_client.create_registered_model(unique_name, tags={"signet.project": "no-such-project"})
    for _ in range(2):
        mlflow_client.create_model_version(unique_name, source="s3://bucket/a", run_id=None)
    connection = _connection(monkeypatch, org, mlflow.url)
    reconcile(connection)
    mirror = _mirror(connection, unique_name)
    assert mirror.model is None  # an unknown slug stays in the intake list

    events = AuditEvent.objects.count()
    for person in (org.developer, org.outsider, org.validator):
        with pytest.raises(PermissionDenied, match="Only an owner of the project"):
            model_claim(actor=person, mlflow_model=mirror, project=org.project)
    assert AuditEvent.objects.count() == events
    mirror.refresh_from_db()
    assert mirror.model is None

    model = model_claim(actor=org.owner, mlflow_model=mirror, project=org.project)

    mirror.refresh_from_db()
    assert (mirror.model, mirror.claimed_by) == (model, org.owner)
    assert model.project == org.project
    assert sorted(model.versions.values_list("number", flat=True)) == [1, 2]
    claimed = AuditEvent.objects.get(action="integrations.model.claimed")
    assert (claimed.actor_id, claimed.target_id, claimed.data["versions"]) == (org.owner.pk, str(model.pk), 2)
    with pytest.raises(ValidationError, match="already governed"):
        model_claim(actor=org.owner, mlflow_model=mirror, project=org.project)
    # The bridge keeps governing it: a new version in MLflow becomes a Signet version.
    mlflow_client.create_model_version(unique_name, source="s3://bucket/b", run_id=None)
    reconcile(connection)
    assert sorted(model.versions.values_list("number", flat=True)) == [1, 2, 3]


def test_a_second_pass_of_the_same_connection_returns_at_once(
    org: Org, mlflow: MlflowServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection = _connection(monkeypatch, org, mlflow.url)
    params = database.settings_dict
    other = psycopg2.connect(host=params["HOST"], port=params["PORT"], user=params["USER"], dbname=params["NAME"])
    try:
        other.autocommit = True
        with other.cursor() as cursor:  # a pass running elsewhere holds the lock
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [PASS_LOCK, connection.pk])
        result = reconcile(connection)
        with other.cursor() as cursor:  # that pass ends
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [PASS_LOCK, connection.pk])
    finally:
        other.close()
    assert result == {"status": "busy", "message": "A reconcile of this connection is already running."}
    assert reconcile(connection)["status"] == "succeeded"


@pytest.mark.django_db
def test_an_mlflow_user_id_names_the_builder_only_when_that_account_builds_the_project(org: Org) -> None:
    """MLflow's user id is a claim: matched to a validator, it would bar her from judging the project."""
    fallback = make_user("mlflow-bridge-test")
    project = org.project.pk
    found = builders_of(
        {(project, "devon"), (project, "olivia"), (project, "vera"), (project, "otto"), (project, "")}, fallback
    )
    assert found[(project, "devon")] == org.developer  # a developer of the project
    assert found[(project, "olivia")] == org.owner  # its owner
    assert found[(project, "vera")] == fallback  # its validator: never made a builder by a claim
    assert found[(project, "otto")] == fallback  # a data scientist of another project
    assert found[(project, "")] == fallback
