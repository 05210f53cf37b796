"""The gate proves what is deployed: the environments an approval covers, the artifact's digest, references.

Each answer is asked over HTTP as a pipeline asks it; bad questions are a 400 naming the parameter.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from apps.registry import services as registry
from apps.registry.selectors import versions_visible_to
from apps.workflows import references, services
from apps.workflows.models import Finding, Review
from tests.conftest import bearer
from tests.workflows.conftest import Flow

pytestmark = pytest.mark.django_db

DIGEST = "ab" * 32
OTHER = "cd" * 32


def _publish_environments(flow: Flow, environments: list[str]) -> None:
    current = services.policy_in_force("low")
    services.policy_publish(
        actor=flow.compliance,
        tier="low",
        stages=current.stages,
        review_period_days=current.review_period_days,
        environments=environments,
    )


def _approve(flow: Flow, *, environments: list[str] | None = None, digest: str = "") -> Review:
    if environments is not None:
        _publish_environments(flow, environments)
    if digest:
        registry.version_update(actor=flow.developer, version=flow.version, artifact_sha256=digest)
    review = flow.submit()
    flow.decide(flow.validator, review)
    review.refresh_from_db()
    return review


@pytest.fixture
def gate(flow: Flow, token_for):
    client = Client(headers=bearer(token_for(flow.it_ops)))

    def ask(**query: Any):
        return client.get("/api/v1/gate/", query)

    return ask


def _by_name(flow: Flow, **extra: Any) -> dict[str, Any]:
    return {"model": flow.model.name, "version": flow.version.number, **extra}


# Environments ---------------------------------------------------------------------------------------


def test_the_review_keeps_the_environments_of_the_policy_it_opened_with(flow: Flow) -> None:
    review = _approve(flow, environments=["staging", "production"])
    assert review.environments == ["staging", "production"]
    _publish_environments(flow, [])  # a later policy leaves the approval as it was given
    review.refresh_from_db()
    assert review.environments == ["staging", "production"]


def test_the_gate_allows_an_environment_the_approval_covers_and_refuses_another(flow: Flow, gate) -> None:
    _approve(flow, environments=["staging", "production"])
    allowed = gate(**_by_name(flow, environment="production")).json()
    assert allowed["allowed"] is True
    assert (allowed["model"], allowed["version"], allowed["environment"]) == (flow.model.name, 1, "production")
    refused = gate(**_by_name(flow, environment="dev")).json()
    assert refused["allowed"] is False
    assert refused["reasons"] == ["pd-model v1 is approved for staging, production only; not for dev."]


def test_an_approval_without_environments_covers_any(flow: Flow, gate) -> None:
    _approve(flow)
    assert gate(**_by_name(flow, environment="anywhere-at-all")).json()["allowed"] is True


def test_recording_a_deployment_outside_the_approved_environments_is_refused_by_the_same_rule(flow: Flow) -> None:
    _approve(flow, environments=["staging"])
    with pytest.raises(ValidationError, match="approved for staging only; not for production"):
        services.deployment_record(actor=flow.it_ops, version=flow.version, environment="production")
    flow.version.refresh_from_db()
    assert flow.version.status == "approved"
    assert not flow.version.deployments.exists()
    assert not Finding.objects.exists()  # a person's refused record is not a report of something deployed
    services.deployment_record(actor=flow.it_ops, version=flow.version, environment="staging")
    flow.version.refresh_from_db()
    assert flow.version.status == "deployed"


# Digests --------------------------------------------------------------------------------------------


def test_the_gate_allows_the_approved_artifact_and_refuses_another(flow: Flow, gate) -> None:
    _approve(flow, digest=DIGEST)
    same = gate(**_by_name(flow, environment="production", artifact_sha256=DIGEST)).json()
    assert (same["allowed"], same["artifact_sha256"]) == (True, DIGEST)
    other = gate(**_by_name(flow, environment="production", artifact_sha256=OTHER)).json()
    assert other["allowed"] is False
    assert other["reasons"][0].startswith("The artifact's SHA-256 is not the approved one")


def test_the_gate_refuses_to_compare_a_digest_the_version_never_registered(flow: Flow, gate) -> None:
    _approve(flow)
    body = gate(**_by_name(flow, environment="production", artifact_sha256=DIGEST)).json()
    assert body["allowed"] is False
    assert "has no registered artifact SHA-256 to compare" in body["reasons"][0]
    assert gate(**_by_name(flow, environment="production")).json()["allowed"] is True  # no digest asked


# References -----------------------------------------------------------------------------------------


@pytest.fixture
def test_scheme(flow: Flow) -> Iterator[str]:
    """A ``test:`` scheme: ``test:<model>/<number>[#<digest>]``, resolved through what the viewer sees."""

    def resolve(viewer: Any, reference: str) -> references.Resolved:
        path, _, digest = reference.removeprefix("test:").partition("#")
        name, _, number = path.partition("/")
        if not number.isdigit():
            raise references.UnresolvedReference(f"{reference} names no version number.")
        version = versions_visible_to(viewer).filter(model__name=name, number=int(number)).first()
        if version is None:
            raise references.ReferenceNotFound(f"{reference} names no version that you can see.")
        return references.Resolved(version=version, artifact_sha256=digest or None, label=reference)

    references.register("test", resolve)
    yield "test"
    references.unregister("test")


def test_a_reference_names_the_version_through_its_resolver(flow: Flow, gate, test_scheme: str) -> None:
    _approve(flow)
    body = gate(reference=f"test:{flow.model.name}/1", environment="production").json()
    assert (body["allowed"], body["model"], body["version"]) == (True, flow.model.name, 1)


def test_the_digest_a_resolver_knows_is_compared_when_the_pipeline_gives_none(
    flow: Flow, gate, test_scheme: str
) -> None:
    _approve(flow, digest=DIGEST)
    assert gate(reference=f"test:{flow.model.name}/1#{DIGEST}", environment="production").json()["allowed"] is True
    body = gate(reference=f"test:{flow.model.name}/1#{OTHER}", environment="production").json()
    assert (body["allowed"], body["artifact_sha256"]) == (False, OTHER)
    assert "not the approved one" in body["reasons"][0]
    # The pipeline's own digest is the one compared when it gives one.
    given = gate(reference=f"test:{flow.model.name}/1#{OTHER}", environment="production", artifact_sha256=DIGEST)
    assert given.json()["allowed"] is True


def test_a_reference_to_nothing_the_caller_sees_is_not_allowed_in_words(
    flow: Flow, token_for, test_scheme: str
) -> None:
    _approve(flow)
    outsider = Client(headers=bearer(token_for(flow.outsider)))
    body = outsider.get("/api/v1/gate/", {"reference": f"test:{flow.model.name}/1", "environment": "p"}).json()
    assert body["allowed"] is False
    assert body["reasons"] == [f"test:{flow.model.name}/1 names no version that you can see."]
    assert body["model"] is None


def test_resolve_refuses_a_version_the_resolver_should_not_have_returned(flow: Flow) -> None:
    def careless(viewer: Any, reference: str) -> references.Resolved:
        return references.Resolved(version=flow.version, artifact_sha256=None, label=reference)

    references.register("careless", careless)
    try:
        with pytest.raises(references.ReferenceNotFound, match="names no model version that you can see"):
            references.resolve(flow.outsider, "careless:anything")
        assert references.resolve(flow.developer, "careless:anything").version == flow.version
    finally:
        references.unregister("careless")


def test_a_scheme_takes_one_resolver() -> None:
    def one(viewer: Any, reference: str) -> references.Resolved:
        raise references.UnresolvedReference("never")

    def another(viewer: Any, reference: str) -> references.Resolved:
        raise references.UnresolvedReference("never")

    references.register("once", one)
    try:
        references.register("once", one)  # the same again (ready() twice) is fine
        with pytest.raises(ValueError, match="already has a resolver"):
            references.register("once", another)
        with pytest.raises(ValueError, match="scheme"):
            references.register("Bad Scheme", one)
    finally:
        references.unregister("once")


# Bad questions --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ({"artifact_sha256": "AB" * 32}, "artifact_sha256", "64 lowercase hexadecimal"),
        ({"artifact_sha256": "ab" * 31}, "artifact_sha256", "64 lowercase hexadecimal"),
        ({"reference": "test:pd-model/1"}, "reference", "not both"),
        ({"model": None, "version": None}, "reference", "give model and version, or a reference"),
        ({"model": None, "version": None, "reference": "nowhere:/x"}, "reference", "No resolver for nowhere:"),
        ({"model": None, "version": None, "reference": "no scheme"}, "reference", "scheme:path"),
        ({"model": None, "version": None, "reference": "test:pd-model/x"}, "reference", "names no version number"),
        ({"environment": None}, "environment", "required"),
    ],
)
def test_a_bad_question_is_a_400_naming_the_parameter(
    flow: Flow, gate, test_scheme: str, query: dict[str, Any], field: str, words: str
) -> None:
    asked = {k: v for k, v in {**_by_name(flow, environment="production"), **query}.items() if v is not None}
    response = gate(**asked)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert words in " ".join(error["details"][field]), error
