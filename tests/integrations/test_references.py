"""``models:/`` references at the gate: MLflow's names for a version, resolved through the mirror."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from apps.integrations.models import MlflowConnection, MlflowModel
from apps.integrations.references import parse
from apps.registry import services as registry
from apps.workflows import references
from apps.workflows.references import UnresolvedReference
from tests.conftest import bearer
from tests.integrations.factories import make_connection
from tests.integrations.guard import UNREACHABLE, Guarded

pytestmark = pytest.mark.django_db

DIGEST = "ab" * 32
OTHER = "cd" * 32


@pytest.fixture
def guarded(monkeypatch: pytest.MonkeyPatch, mlflow, mlflow_client, unique_name: str) -> Guarded:
    """MLflow (a real server) holds the model as ``unique_name`` with versions 1-3, @champion -> 1, @challenger -> 2.

    The tests write ``churn`` in references and reasons; ``named`` puts this test's name in its place.
    """
    mlflow_client.create_registered_model(unique_name)
    for _ in range(3):
        mlflow_client.create_model_version(unique_name, source="s3://signet-tests/churn")
    mlflow_client.set_registered_model_alias(unique_name, "champion", "1")
    mlflow_client.set_registered_model_alias(unique_name, "challenger", "2")
    guarded = Guarded(monkeypatch, url=mlflow.url, name=unique_name)
    registry.version_update(actor=guarded.developer, version=guarded.version, artifact_sha256=DIGEST)
    guarded.approve(guarded.version)
    guarded.link(2, guarded.new_version())
    guarded.link(3, None)
    guarded.point("champion", 1)
    guarded.point("challenger", 2)
    return guarded


@pytest.fixture
def gate(guarded: Guarded, token_for):
    client = Client(headers=bearer(token_for(guarded.it_ops)))

    def ask(reference: str, **query: Any):
        reference = named(guarded, reference)
        return client.get("/api/v1/gate/", {"reference": reference, "environment": "production", **query})

    return ask


def named(guarded: Guarded, text: str) -> str:
    return text.replace("churn", guarded.mlflow_model.name)


def test_name_at_alias_names_the_version_the_alias_points_at(guarded: Guarded, gate) -> None:
    response = gate("models:/churn@champion")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["allowed"], body["model"], body["version"]) == (True, "pd-model", 1)
    challenger = gate("models:/churn@challenger").json()
    assert (challenger["allowed"], challenger["version"]) == (False, 2)
    assert challenger["reasons"] == ["pd-model v2 is draft, not approved."]


def test_name_slash_number_names_that_mlflow_version(guarded: Guarded, gate) -> None:
    body = gate("models:/churn/1").json()
    assert (body["allowed"], body["version"]) == (True, 1)


def test_the_digest_the_mirror_computed_is_compared(guarded: Guarded, gate) -> None:
    guarded.hashed(1, DIGEST)
    assert gate("models:/churn@champion").json()["allowed"] is True
    guarded.hashed(1, OTHER)
    body = gate("models:/churn@champion").json()
    assert body["allowed"] is False
    assert "not the approved one" in body["reasons"][0]


def test_the_resolver_answers_the_version_the_digest_and_a_label(guarded: Guarded) -> None:
    guarded.hashed(1, DIGEST)
    resolved = references.resolve(guarded.it_ops, named(guarded, "models:/churn@champion"))
    assert (resolved.version, resolved.artifact_sha256) == (guarded.version, DIGEST)
    assert resolved.label == named(guarded, "models:/churn@champion -> pd-model version 1")
    assert references.resolve(guarded.it_ops, named(guarded, "models:/churn/2")).artifact_sha256 is None


@pytest.mark.parametrize(
    ("reference", "reason"),
    [
        ("models:/nothing@champion", "No MLflow model named nothing that Signet governs and you can see."),
        ("models:/churn@production", "churn has no alias @production in MLflow."),
        ("models:/churn/9", "churn has no version 9 in MLflow (as Signet last read it)."),
        (
            "models:/churn/3",
            "models:/churn/3 is MLflow version 3, which Signet does not govern yet (not registered in Signet).",
        ),
    ],
)
def test_names_of_nothing_governed_are_refused_in_words(guarded: Guarded, gate, reference: str, reason: str) -> None:
    body = gate(reference).json()
    assert (body["allowed"], body["reasons"]) == (False, [named(guarded, reason)])


def test_a_model_in_the_intake_list_is_refused_as_such(guarded: Guarded, gate) -> None:
    MlflowModel.objects.create(connection=guarded.connection, name="unclaimed")
    body = gate("models:/unclaimed@champion").json()
    assert body["reasons"] == [
        "The MLflow model unclaimed is in Signet's intake list: no project governs it yet, so no version of it is "
        "approved."
    ]


def test_a_model_of_a_project_the_caller_cannot_see_reads_as_unknown(guarded: Guarded, token_for) -> None:
    outsider = Client(headers=bearer(token_for(guarded.outsider)))
    reference = named(guarded, "models:/churn@champion")
    body = outsider.get("/api/v1/gate/", {"reference": reference, "environment": "production"}).json()
    assert body["allowed"] is False
    assert body["reasons"] == [named(guarded, "No MLflow model named churn that Signet governs and you can see.")]
    assert body["model"] is None


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("models:churn@champion", "Give an MLflow model reference as models:/<name>@<alias>"),
        ("models:/churn", "Name the version of 'churn'"),
        ("models:/churn/Production", "MLflow stages are not deployable references here"),
        ("models:/churn/0", "is not a version number"),
        ("models:/churn@bad alias", "is not an MLflow alias"),
        ("models:/a/b/3", "is not a version number"),
        ("models:/@champion", "Give an MLflow model name of 1 to 256 characters"),
        ("models:/" + "x" * 300 + "/1", "Give an MLflow model name of 1 to 256 characters"),
    ],
)
def test_malformed_references_are_a_400_saying_what_is_understood(
    guarded: Guarded, gate, reference: str, message: str
) -> None:
    response = gate(reference)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert named(guarded, message) in str(error["details"]["reference"])


def test_parse_reads_both_forms() -> None:
    assert parse("models:/Credit Risk@champion") == ("Credit Risk", "champion", None)
    assert parse("models:/churn/12") == ("churn", None, 12)
    with pytest.raises(UnresolvedReference):
        parse("models://churn/1")


def test_the_same_name_on_two_servers_is_ambiguous(guarded: Guarded, gate, monkeypatch: pytest.MonkeyPatch) -> None:
    second, _ = make_connection(monkeypatch, guarded.administrator, "http://127.0.0.1:9", name="second")
    other_model = registry.model_create(
        actor=guarded.developer, project=guarded.project, name="pd-model-2", task="binary_classification"
    )
    MlflowModel.objects.create(connection=second, name=guarded.mlflow_model.name, model=other_model)
    response = gate("models:/churn@champion")
    assert response.status_code == 400
    assert "more than one MLflow server" in str(response.json()["error"]["details"]["reference"])


def test_an_alias_moved_since_the_last_read_is_judged_where_it_points(guarded: Guarded, gate, mlflow_client) -> None:
    """@champion moved in MLflow to the draft v2 after Signet's last read: the gate must not lend v1's approval."""
    assert gate("models:/churn@champion").json()["allowed"] is True
    mlflow_client.set_registered_model_alias(guarded.mlflow_model.name, "champion", "2")
    body = gate("models:/churn@champion").json()
    assert (body["allowed"], body["version"]) == (False, 2)
    assert body["reasons"] == ["pd-model v2 is draft, not approved."]
    assert guarded.mlflow_model.aliases.get(alias="champion").number == 1  # the mirror had not seen the move


def test_an_alias_signet_cannot_confirm_is_refused(guarded: Guarded, gate, monkeypatch: pytest.MonkeyPatch) -> None:
    MlflowConnection.objects.filter(pk=guarded.connection.pk).update(url=UNREACHABLE)
    body = gate("models:/churn@champion").json()
    assert body["allowed"] is False
    assert named(guarded, "Signet cannot confirm where churn@champion points now") in body["reasons"][0]
