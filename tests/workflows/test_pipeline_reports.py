"""A pipeline reports what it deployed; a report the gate refuses leaves one high finding behind.

The pipeline is a service account (``createserviceaccount``, ``createtoken``) given the it_ops role by
the project's owner, as a person would be. Every call goes over HTTP as the pipeline makes it.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from apps.accounts.models import User
from apps.audit.models import AuditEvent
from apps.projects import services as projects
from apps.projects.models import Membership
from apps.registry import services as registry
from apps.workflows import services
from apps.workflows.choices import FindingType
from apps.workflows.models import Deployment, Finding
from tests.conftest import bearer
from tests.factories import TeamFunction, team_for
from tests.workflows.conftest import Flow

pytestmark = pytest.mark.django_db

DIGEST = "ab" * 32
OTHER = "cd" * 32
RUN = "https://ci.example.test/pipelines/812"


@pytest.fixture
def pipeline(flow: Flow) -> Client:
    """The deploy pipeline's service account, it_ops in the project, calling with its API token."""
    team_for(TeamFunction.IT_OPS)
    out = io.StringIO()
    call_command("createserviceaccount", "deploy-bot", "--team", f"team-{TeamFunction.IT_OPS}", stdout=out)
    bot = User.objects.get(username="deploy-bot")
    assert (bot.is_service_account, bot.has_usable_password()) == (True, False)
    projects.membership_add(actor=flow.owner, project=flow.project, user=bot, role="it_ops")
    token = io.StringIO()
    call_command("createtoken", "deploy-bot", stdout=token)
    return Client(headers=bearer(token.getvalue().strip()))


def _approve(flow: Flow, *, digest: str = DIGEST, environments: list[str] | None = None) -> None:
    if environments is not None:
        current = services.policy_in_force("low")
        services.policy_publish(
            actor=flow.compliance, tier="low", stages=current.stages,
            review_period_days=current.review_period_days, environments=environments,
        )  # fmt: skip
    registry.version_update(actor=flow.developer, version=flow.version, artifact_sha256=digest)
    review = flow.submit()
    flow.decide(flow.validator, review)


def _report(client: Client, flow: Flow, **fields: Any):
    body = {"version": flow.version.pk, "environment": "production", "artifact_sha256": DIGEST, "pipeline_url": RUN}
    return client.post("/api/v1/deployments/", {**body, **fields}, content_type="application/json")


def _unchanged(flow: Flow, status: str) -> None:
    flow.version.refresh_from_db()
    assert flow.version.status == status
    assert not Deployment.objects.exists()
    assert not AuditEvent.objects.filter(action="workflows.deployment.recorded").exists()


def test_an_approved_matching_report_records_the_deployment(flow: Flow, pipeline: Client) -> None:
    _approve(flow)
    response = _report(pipeline, flow)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["artifact_sha256"], body["pipeline_url"], body["reported_by_pipeline"]) == (DIGEST, RUN, True)
    assert body["deployed_by"] == "deploy-bot"
    flow.version.refresh_from_db()
    assert flow.version.status == "deployed"
    event = AuditEvent.objects.get(action="workflows.deployment.recorded")
    assert (event.actor_name, event.data["artifact_sha256"], event.data["pipeline_url"]) == ("deploy-bot", DIGEST, RUN)
    assert not Finding.objects.exists()
    listed = pipeline.get("/api/v1/deployments/").json()["results"]
    assert [(d["environment"], d["reported_by_pipeline"]) for d in listed] == [("production", True)]


def test_two_refused_reports_raise_one_finding_and_change_nothing_else(flow: Flow, pipeline: Client) -> None:
    for _ in range(2):  # the version was never approved: each report is refused with the gate's reasons
        response = _report(pipeline, flow)
        assert response.status_code == 400, response.content
        assert "not approved" in " ".join(response.json()["error"]["details"]["version"])
    finding = Finding.objects.get()
    assert (finding.kind, finding.severity, finding.status) == (FindingType.UNAPPROVED_DEPLOYMENT, "high", "open")
    assert (finding.version, finding.owner.username, finding.raised_by.username) == (
        flow.version,
        "olivia",
        "deploy-bot",
    )
    assert finding.source == "deployment-report:production"
    assert DIGEST in finding.description
    assert RUN in finding.description
    raised = AuditEvent.objects.get(action="workflows.finding.raised")
    assert (raised.actor_id, raised.actor_name) == (None, "deployment-report")
    _unchanged(flow, "draft")


@pytest.mark.parametrize(
    ("case", "fields", "source", "words"),
    [
        ("digest differs", {"artifact_sha256": OTHER}, "deployment-report:production", "not the approved one"),
        ("wrong environment", {"environment": "dev"}, "deployment-report:dev", "approved for staging, production only"),
        ("stale approval", {}, "deployment-report:production", "is stale"),
    ],
)
def test_a_report_the_gate_refuses_raises_the_finding(
    flow: Flow, pipeline: Client, case: str, fields: dict[str, Any], source: str, words: str
) -> None:
    _approve(flow, environments=["staging", "production"])
    if case == "stale approval":
        registry.card_update(actor=flow.developer, card=flow.version.card, sections={"limitations": "Changed later."})
    response = _report(pipeline, flow, **fields)
    assert response.status_code == 400, response.content
    assert words in " ".join(response.json()["error"]["details"]["version"])
    assert Finding.objects.get(kind=FindingType.UNAPPROVED_DEPLOYMENT).source == source
    _unchanged(flow, "approved")
    # The open finding blocks the version until a validator has looked at it.
    gate = pipeline.get("/api/v1/gate/", {"model": flow.model.name, "version": "1", "environment": "staging"}).json()
    assert gate["allowed"] is False
    assert any("open high or critical findings" in reason for reason in gate["reasons"])


def test_a_person_recording_by_hand_without_a_digest_raises_no_finding_when_refused(flow: Flow, token_for) -> None:
    client = Client(headers=bearer(token_for(flow.it_ops)))
    response = _report(client, flow, artifact_sha256="", pipeline_url="")
    assert response.status_code == 400, response.content
    assert not Finding.objects.exists()
    # A person who says which artifact went out reports a deployment: refused, it is on record.
    assert _report(client, flow).status_code == 400
    assert Finding.objects.get().raised_by == flow.it_ops


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"artifact_sha256": "AB" * 32}, "artifact_sha256", "match"),
        ({"artifact_sha256": "ab" * 10}, "artifact_sha256", "match"),
        ({"pipeline_url": "ftp://ci.example.test/run/1"}, "pipeline_url", "http or https"),
        ({"pipeline_url": "javascript:alert(1)"}, "pipeline_url", "valid URL"),
        ({"pipeline_url": "https://ci.example.test/" + "x" * 500}, "pipeline_url", "500"),
    ],
)
def test_a_malformed_report_is_a_400_naming_the_field_and_raises_nothing(
    flow: Flow, pipeline: Client, fields: dict[str, Any], field: str, words: str
) -> None:
    response = _report(pipeline, flow, **fields)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert field in error["details"], error
    assert words.lower() in " ".join(error["details"][field]).lower(), error
    assert not Finding.objects.exists()
    _unchanged(flow, "draft")


def test_a_pipeline_without_the_it_ops_role_is_refused_and_raises_nothing(flow: Flow, pipeline: Client) -> None:
    bot = User.objects.get(username="deploy-bot")
    projects.membership_add(actor=flow.owner, project=flow.project, user=bot, role="viewer")
    projects.membership_remove(actor=flow.owner, membership=Membership.objects.get(user=bot, role="it_ops"))
    _approve(flow)
    response = _report(pipeline, flow)
    assert response.status_code == 403, response.content
    assert response.json()["error"]["message"] == "Only the project's IT operations record deployments."
    assert not Finding.objects.exists()
    _unchanged(flow, "approved")
