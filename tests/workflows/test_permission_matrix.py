"""Every workflows operation, API and page, for every persona, from one table.

The project is low-risk: one independent-validation stage that the validator (vera) or a second
validator signs. ``version`` is under review, ``approved`` was approved by the second validator,
``draft`` has a complete card and waits to be submitted; ``finding`` is a medium finding on the
version under review, owned by the developer.
"""

from __future__ import annotations

from typing import Any

import pytest

from apps.registry import services as registry
from apps.workflows import services
from apps.workflows.models import ApprovalPolicy, Decision, Delegation, Deployment, Finding, Review
from tests.matrix import Op, built_once_per_module, cases, check_case, parse_table, tokens_for
from tests.workflows.conftest import FULL_CARD, Flow

TABLE = parse_table(
    """
    operation            owner biz  dev  val  ops  comp aud  admin out  anon
    api.submit           201   403  201  403  403  403  403  403   404  401
    api.reviews          200   200  200  200  200  200  200  200   200  401
    api.review           200   200  200  200  200  200  200  200   404  401
    api.decide           403   403  403  201  403  403  403  403   404  401
    api.delegate         403   403  403  201  403  403  403  403   404  401
    api.findings         200   200  200  200  200  200  200  200   200  401
    api.finding_raise    201   403  403  201  403  201  403  403   400  401
    api.finding          200   200  200  200  200  200  200  200   404  401
    api.finding_update   403   403  200  200  403  200  403  403   404  401
    api.finding_close    403   403  403  200  403  200  403  403   404  401
    api.deployments      200   200  200  200  200  200  200  200   200  401
    api.deploy           403   403  403  403  201  403  403  403   400  401
    api.gate             200   200  200  200  200  200  200  200   200  401
    api.retire           200   403  403  403  200  403  403  403   404  401
    api.policies         200   200  200  200  200  200  200  200   200  401
    api.policy_publish   403   403  403  403  403  201  403  201   403  401
    page.submit          302   403  302  403  403  403  403  403   404  302x
    page.review          200   200  200  200  200  200  200  200   404  302x
    page.decide          403   403  403  302  403  403  403  403   404  302x
    page.delegate        403   403  403  302  403  403  403  403   404  302x
    page.finding_raise   302   403  403  302  403  302  403  403   404  302x
    page.finding_update  302x  302x 302  302  302x 302  302x 302x  404  302x
    page.deploy          403   403  403  403  302  403  403  403   404  302x
    page.retire          302   403  403  403  302  403  403  403   404  302x
    page.policies        403   403  403  403  403  200  403  200   403  302x
    page.policy_edit     403   403  403  403  403  200  403  200   403  302x
    """
)


class Workflows(Flow):
    def __init__(self) -> None:
        super().__init__("low")
        self.review = self.submit()
        self.digest = services.evidence_digest(self.version)
        self.approved = registry.version_create(actor=self.developer, model=self.model, framework="sklearn")
        registry.card_update(actor=self.developer, card=self.approved.card, sections=FULL_CARD)
        approval = services.version_submit(actor=self.developer, version=self.approved)
        services.review_decide(
            actor=self.validator2,
            review=approval,
            kind="approve",
            evidence_digest_seen=services.evidence_digest(self.approved),
        )
        self.draft = registry.version_create(actor=self.developer, model=self.model, framework="sklearn")
        registry.card_update(actor=self.developer, card=self.draft.card, sections=FULL_CARD)
        self.finding = services.finding_raise(
            actor=self.validator2, model=self.model, version=self.version, owner=self.developer,
            kind="validation_issue", severity="medium", title="Calibration drifts on the last quarter",
        )  # fmt: skip
        self.tokens = tokens_for(self)


def _finding_state(ctx: Workflows) -> tuple[str, str]:
    finding = Finding.objects.get(pk=ctx.finding.pk)
    return finding.status, finding.remediation


def _status(pk: int) -> str:
    from apps.registry.models import ModelVersion

    return ModelVersion.objects.get(pk=pk).status


STAGES = [{"key": "validation", "name": "Validation", "project_roles": ["validator"], "quorum": 2}]
FINDING = {
    "kind": "model_limitation",
    "severity": "low",
    "title": "Thin data for applicants under 21",
    "owner": "devon",
}

OPS: dict[str, Op] = {
    "api.submit": Op(
        "post",
        lambda c: f"/api/v1/versions/{c.draft.pk}/submit/",
        probe=lambda c: Review.objects.filter(version=c.draft).count(),
    ),
    "api.reviews": Op("get", lambda c: "/api/v1/reviews/"),
    "api.review": Op("get", lambda c: f"/api/v1/reviews/{c.review.pk}/"),
    "api.decide": Op(
        "post",
        lambda c: f"/api/v1/reviews/{c.review.pk}/decisions/",
        lambda c: {"kind": "approve", "comment": "Sound.", "evidence_digest": c.digest},
        probe=lambda c: Decision.objects.filter(review=c.review).count(),
    ),
    "api.delegate": Op(
        "post",
        lambda c: f"/api/v1/reviews/{c.review.pk}/delegate/",
        lambda c: {"username": c.validator2.username, "reason": "On leave."},
        probe=lambda c: Delegation.objects.count(),
    ),
    "api.findings": Op("get", lambda c: "/api/v1/findings/"),
    "api.finding_raise": Op(
        "post",
        lambda c: "/api/v1/findings/",
        lambda c: {**FINDING, "model": c.model.pk, "version": c.version.pk},
        probe=lambda c: Finding.objects.count(),
    ),
    "api.finding": Op("get", lambda c: f"/api/v1/findings/{c.finding.pk}/"),
    "api.finding_update": Op(
        "patch",
        lambda c: f"/api/v1/findings/{c.finding.pk}/",
        lambda c: {"remediation": "Recalibrate on the last two quarters."},
        probe=_finding_state,
    ),
    "api.finding_close": Op(
        "patch",
        lambda c: f"/api/v1/findings/{c.finding.pk}/",
        lambda c: {"status": "closed", "reason": "Checked the new curve."},
        probe=_finding_state,
    ),
    "api.deployments": Op("get", lambda c: "/api/v1/deployments/"),
    "api.deploy": Op(
        "post",
        lambda c: "/api/v1/deployments/",
        lambda c: {"version": c.approved.pk, "environment": "production"},
        probe=lambda c: Deployment.objects.count(),
    ),
    "api.gate": Op(
        "get",
        lambda c: "/api/v1/gate/",
        lambda c: {"model": c.model.name, "version": c.approved.number, "environment": "production"},
    ),
    "api.retire": Op(
        "post",
        lambda c: f"/api/v1/versions/{c.approved.pk}/retire/",
        lambda c: {"reason": "Replaced by the next model."},
        probe=lambda c: _status(c.approved.pk),
    ),
    "api.policies": Op("get", lambda c: "/api/v1/policies/"),
    "api.policy_publish": Op(
        "post",
        lambda c: "/api/v1/policies/",
        lambda c: {"tier": "low", "stages": STAGES, "review_period_days": 365},
        probe=lambda c: ApprovalPolicy.objects.count(),
    ),
    "page.submit": Op(
        "post",
        lambda c: f"/workflows/versions/{c.draft.pk}/submit/",
        probe=lambda c: Review.objects.filter(version=c.draft).count(),
    ),
    "page.review": Op("get", lambda c: f"/workflows/reviews/{c.review.pk}/"),
    "page.decide": Op(
        "post",
        lambda c: f"/workflows/reviews/{c.review.pk}/",
        lambda c: {"kind": "approve", "comment": "Sound.", "evidence_digest": c.digest},
        probe=lambda c: Decision.objects.filter(review=c.review).count(),
    ),
    "page.delegate": Op(
        "post",
        lambda c: f"/workflows/reviews/{c.review.pk}/delegate/",
        lambda c: {"username": c.validator2.username, "reason": "On leave."},
        probe=lambda c: Delegation.objects.count(),
    ),
    "page.finding_raise": Op(
        "post",
        lambda c: f"/workflows/reviews/{c.review.pk}/findings/",
        lambda c: FINDING,
        probe=lambda c: Finding.objects.count(),
    ),
    "page.finding_update": Op(
        "post",
        lambda c: f"/workflows/findings/{c.finding.pk}/",
        lambda c: {"status": "remediated", "remediation": "Recalibrated.", "next_review": c.review.pk},
        probe=_finding_state,
    ),
    "page.deploy": Op(
        "post",
        lambda c: f"/workflows/versions/{c.approved.pk}/deploy/",
        lambda c: {"environment": "production"},
        probe=lambda c: Deployment.objects.count(),
    ),
    "page.retire": Op(
        "post",
        lambda c: f"/workflows/versions/{c.approved.pk}/retire/",
        lambda c: {"reason": "Replaced by the next model."},
        probe=lambda c: _status(c.approved.pk),
    ),
    "page.policies": Op("get", lambda c: "/workflows/policies/"),
    "page.policy_edit": Op("get", lambda c: "/workflows/policies/low/edit/"),
}

workflows = built_once_per_module(Workflows)


@pytest.fixture
def ctx(workflows: Workflows, db: None) -> Workflows:
    for instance in (workflows.project, workflows.model, workflows.version, workflows.approved, workflows.draft):
        instance.refresh_from_db()
    return workflows


@pytest.mark.parametrize(("operation", "persona"), cases(TABLE, OPS))
def test_each_persona_gets_what_the_table_says(ctx: Workflows, operation: str, persona: str) -> None:
    check_case(ctx, OPS, TABLE, operation, persona)


def test_the_gate_answers_a_yes_only_to_those_who_can_see_the_model(ctx: Workflows) -> None:
    from django.test import Client

    from tests.conftest import bearer

    query: dict[str, Any] = {"model": ctx.model.name, "version": ctx.approved.number, "environment": "production"}
    for persona in ("it_ops", "developer", "auditor"):
        assert Client(headers=bearer(ctx.tokens[persona])).get("/api/v1/gate/", query).json()["allowed"] is True
    assert Client(headers=bearer(ctx.tokens["outsider"])).get("/api/v1/gate/", query).json()["allowed"] is False
