"""Publishing policies (versioned, audited), parallel stages, and delegating a decision."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from apps.audit.models import AuditEvent
from apps.workflows import services
from apps.workflows.models import ApprovalPolicy, Review
from tests.conftest import bearer
from tests.factories import TeamFunction, make_user
from tests.workflows.conftest import Flow

pytestmark = pytest.mark.django_db

TWO_PARALLEL = [
    {
        "key": "validation",
        "name": "Validation",
        "project_roles": ["validator"],
        "team": "risk_validation",
        "independent": True,
        "quorum": 1,
    },
    {"key": "it_readiness", "name": "IT readiness", "project_roles": ["it_ops"], "quorum": 1, "parallel": True},
]


def test_compliance_publishes_a_new_policy_version_and_open_reviews_keep_theirs(flow: Flow) -> None:
    open_review = flow.submit()
    policy = services.policy_publish(actor=flow.compliance, tier="low", stages=TWO_PARALLEL, review_period_days=180)
    assert (policy.version, policy.is_current) == (2, True)
    assert ApprovalPolicy.objects.filter(tier="low", is_current=True).count() == 1
    assert [s["key"] for s in Review.objects.get(pk=open_review.pk).stages] == ["validation"]
    event = AuditEvent.objects.get(action="workflows.policy.published")
    assert event.actor_id == flow.compliance.pk
    assert len(event.changes["stages"]["after"]) == 2


@pytest.mark.parametrize("who", ["developer", "validator", "owner"])
def test_only_administrators_and_compliance_change_policies(flow: Flow, who: str) -> None:
    with pytest.raises(PermissionDenied):
        services.policy_publish(actor=flow.persona(who), tier="low", stages=TWO_PARALLEL, review_period_days=180)


@pytest.mark.parametrize(
    ("stages", "period"),
    [
        ([], 180),
        ("validation", 180),
        ([{"key": "a", "project_roles": ["emperor"], "quorum": 1}], 180),
        ([{"key": "a", "project_roles": ["validator"], "quorum": 0}], 180),
        ([{"key": "a", "project_roles": ["validator"], "quorum": 1, "colour": "red"}], 180),
        ([{"key": "a", "project_roles": ["validator"], "quorum": 1, "parallel": True}], 180),
        (
            [
                {"key": "a", "project_roles": ["validator"], "quorum": 1},
                {"key": "a", "project_roles": ["it_ops"], "quorum": 1},
            ],
            180,
        ),
        (TWO_PARALLEL, 5),
    ],
)
def test_malformed_policies_are_refused_and_nothing_changes(flow: Flow, stages: object, period: int) -> None:
    with pytest.raises(ValidationError):
        services.policy_publish(actor=flow.administrator, tier="low", stages=stages, review_period_days=period)
    assert ApprovalPolicy.objects.get(tier="low", is_current=True).version == 1


def test_a_parallel_stage_can_be_signed_alongside_the_one_before(flow: Flow) -> None:
    services.policy_publish(actor=flow.administrator, tier="low", stages=TWO_PARALLEL, review_period_days=180)
    review = flow.submit()
    flow.decide(flow.it_ops, review)  # IT signs before validation is done
    assert flow.version.__class__.objects.get(pk=flow.version.pk).status == "in_review"
    flow.decide(flow.validator, review)
    assert flow.version.__class__.objects.get(pk=flow.version.pk).status == "approved"


def test_the_api_lists_and_publishes_policies(flow: Flow, token_for) -> None:
    client = Client(headers=bearer(token_for(flow.compliance)))
    assert [p["tier"] for p in client.get("/api/v1/policies/").json()] == ["high", "medium", "low"]
    created = client.post(
        "/api/v1/policies/",
        {"tier": "medium", "stages": TWO_PARALLEL, "review_period_days": 365},
        content_type="application/json",
    )
    assert created.status_code == 201
    refused = Client(headers=bearer(token_for(flow.developer))).post(
        "/api/v1/policies/",
        {"tier": "medium", "stages": TWO_PARALLEL, "review_period_days": 365},
        content_type="application/json",
    )
    assert refused.status_code == 403


def test_a_reviewer_delegates_to_another_eligible_person_and_steps_aside(flow: Flow) -> None:
    review = flow.submit()
    services.review_delegate(actor=flow.validator, review=review, to_user=flow.validator2, reason="On leave.")
    with pytest.raises(PermissionDenied, match="delegated"):
        flow.decide(flow.validator, review)
    flow.decide(flow.validator2, review)
    assert AuditEvent.objects.filter(action="workflows.review.delegated", data__to="val2").count() == 1


def test_delegating_to_someone_who_may_not_sign_is_refused(flow: Flow) -> None:
    review = flow.submit()
    stranger = make_user("stranger", TeamFunction.RISK_VALIDATION)
    for target, reason in (
        (flow.developer, "created this version"),
        (stranger, "validators"),
        (flow.validator, "someone else"),
    ):
        with pytest.raises(ValidationError, match=reason):
            services.review_delegate(actor=flow.validator, review=review, to_user=target)
    with pytest.raises(PermissionDenied):
        services.review_delegate(actor=flow.it_ops, review=review, to_user=flow.validator2)
    assert not review.delegations.exists()


def test_a_policy_with_a_nul_or_odd_types_is_a_400_through_the_api(flow: Flow, token_for) -> None:
    client = Client(headers=bearer(token_for(flow.compliance)))
    for stage in (
        {"key": "a", "name": "bad\u0000name", "project_roles": ["validator"], "quorum": 1},
        {"key": "a", "project_roles": ["validator"], "quorum": 1, "independent": "yes"},
    ):
        response = client.post(
            "/api/v1/policies/",
            {"tier": "low", "stages": [stage], "review_period_days": 365},
            content_type="application/json",
        )
        assert response.status_code == 400
    assert ApprovalPolicy.objects.get(tier="low", is_current=True).version == 1
