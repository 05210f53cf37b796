"""``models:/`` references at the gate: MLflow's names for a version, resolved through the mirror."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from apps.integrations.models import MlflowModel
from apps.integrations.references import parse
from apps.registry import services as registry
from apps.workflows import references
from apps.workflows.references import UnresolvedReference
from tests.conftest import bearer
from tests.integrations.factories import make_connection
from tests.integrations.guard import Guarded

pytestmark = pytest.mark.django_db

DIGEST = "ab" * 32
OTHER = "cd" * 32


@pytest.fixture
def guarded(monkeypatch: pytest.MonkeyPatch) -> Guarded:
    guarded = Guarded(monkeypatch)
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
        return client.get("/api/v1/gate/", {"reference": reference, "environment": "production", **query})

    return ask


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
    resolved = references.resolve(guarded.it_ops, "models:/churn@champion")
    assert (resolved.version, resolved.artifact_sha256) == (guarded.version, DIGEST)
    assert resolved.label == "models:/churn@champion -> pd-model version 1"
    assert references.resolve(guarded.it_ops, "models:/churn/2").artifact_sha256 is None  # not hashed yet


@pytest.mark.parametrize(
    ("reference", "reason"),
    [
        ("models:/nothing@champion", "No MLflow model named nothing that Signet governs and you can see."),
        ("models:/churn@production", "churn has no alias @production in MLflow (as Signet last read it)."),
        ("models:/churn/9", "churn has no version 9 in MLflow (as Signet last read it)."),
        (
            "models:/churn/3",
            "models:/churn/3 is MLflow version 3, which Signet does not govern yet (not registered in Signet).",
        ),
    ],
)
def test_names_of_nothing_governed_are_refused_in_words(guarded: Guarded, gate, reference: str, reason: str) -> None:
    body = gate(reference).json()
    assert (body["allowed"], body["reasons"]) == (False, [reason])


def test_a_model_in_the_intake_list_is_refused_as_such(guarded: Guarded, gate) -> None:
    MlflowModel.objects.create(connection=guarded.connection, name="unclaimed")
    body = gate("models:/unclaimed@champion").json()
    assert body["reasons"] == [
        "The MLflow model unclaimed is in Signet's intake list: no project governs it yet, so no version of it is "
        "approved."
    ]


def test_a_model_of_a_project_the_caller_cannot_see_reads_as_unknown(guarded: Guarded, token_for) -> None:
    outsider = Client(headers=bearer(token_for(guarded.outsider)))
    body = outsider.get("/api/v1/gate/", {"reference": "models:/churn@champion", "environment": "production"}).json()
    assert body["allowed"] is False
    assert body["reasons"] == ["No MLflow model named churn that Signet governs and you can see."]
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
def test_malformed_references_are_a_400_saying_what_is_understood(gate, reference: str, message: str) -> None:
    response = gate(reference)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert message in str(error["details"]["reference"])


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
    MlflowModel.objects.create(connection=second, name="churn", model=other_model)
    response = gate("models:/churn@champion")
    assert response.status_code == 400
    assert "more than one MLflow server" in str(response.json()["error"]["details"]["reference"])
