"""Submitting, deciding, segregation of duties, stale approvals and the deployment gate."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from apps.audit import selectors as audit_selectors
from apps.audit.chain import verify
from apps.audit.models import AuditEvent
from apps.projects import services as projects
from apps.projects.models import Membership
from apps.registry import services as registry
from apps.registry.models import ModelVersion
from apps.workflows import services
from apps.workflows.models import Review
from tests.conftest import bearer, signed_in
from tests.factories import TeamFunction, make_user
from tests.workflows.conftest import Flow

pytestmark = pytest.mark.django_db


def _status(flow: Flow) -> str:
    return ModelVersion.objects.get(pk=flow.version.pk).status


def test_submitting_needs_a_complete_model_card(org) -> None:
    with pytest.raises(ValidationError, match="Complete the model card first"):
        services.version_submit(actor=org.developer, version=org.version)
    assert not Review.objects.exists()


def test_a_low_tier_version_is_approved_by_one_independent_validator_and_may_deploy(flow: Flow) -> None:
    review = flow.submit()
    assert _status(flow) == "in_review"
    assert [s["key"] for s in review.stages] == ["validation"]
    flow.decide(flow.validator, review)
    review.refresh_from_db()
    assert (review.status, _status(flow)) == ("approved", "approved")
    assert review.approved_digest == services.evidence_digest(flow.version)
    assert services.gate_check(version=flow.version, environment="production").allowed
    services.deployment_record(actor=flow.it_ops, version=flow.version, environment="production")
    assert _status(flow) == "deployed"
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "registry.model_version.submitted",
        "workflows.decision.recorded",
        "workflows.review.closed",
        "workflows.deployment.recorded",
    } <= actions
    assert verify(audit_selectors.audit_chain()).ok


def test_a_high_tier_version_needs_every_stage_and_two_distinct_validators(high_flow: Flow) -> None:
    flow = high_flow
    review = flow.submit()
    assert [s["key"] for s in review.stages] == ["business", "validation", "it_readiness", "compliance"]
    with pytest.raises(PermissionDenied, match="business owners or owners"):
        flow.decide(flow.validator, review)  # stages are signed in order
    flow.decide(flow.business_owner, review)
    flow.decide(flow.validator, review)
    with pytest.raises(PermissionDenied, match="one person fills one place"):
        flow.decide(flow.validator, review)
    assert _status(flow) == "in_review"
    flow.decide(flow.validator2, review)
    flow.decide(flow.it_ops, review)
    assert _status(flow) == "in_review"
    flow.decide(flow.compliance, review)
    assert _status(flow) == "approved"
    deciders = list(review.decisions.values_list("decider__username", flat=True))
    assert len(deciders) == len(set(deciders)) == 5


@pytest.mark.parametrize("who", ["author", "submitter", "card_editor", "developer_validator", "administrator", "owner"])
def test_segregation_of_duties_refuses_with_a_reason_in_service_api_and_page(flow: Flow, who: str, token_for) -> None:
    # Everyone here is made to look like a validator, so only the separation rules can refuse them.
    people = {
        "author": flow.developer,
        "submitter": flow.owner,
        "card_editor": make_user("carla", TeamFunction.RISK_VALIDATION),
        "developer_validator": make_user("dual", TeamFunction.RISK_VALIDATION),
        "administrator": flow.administrator,
        "owner": flow.owner,
    }
    person = people[who]
    if who != "administrator":
        # Builders holding the validator role: a state the membership service refuses today (it may
        # predate that rule), so it is written directly; sign-off must still refuse each of them.
        for role in ("validator",) if who != "developer_validator" else ("validator", "developer"):
            Membership.objects.get_or_create(project=flow.project, user=person, role=role)
        person.teams.add(*flow.validator.teams.all())
    if who == "card_editor":
        Membership.objects.create(project=flow.project, user=person, role="developer")
        registry.card_update(
            actor=person, card=flow.version.card, sections={"limitations": "Edited by the would-be reviewer."}
        )
    review = services.version_submit(actor=flow.owner, version=flow.version) if who == "submitter" else flow.submit()
    reasons = {
        "author": "You created this version.",
        "submitter": "You submitted this version for review.",
        "card_editor": "You changed this version's model card in this review cycle.",
        "developer_validator": "Independent validation cannot be signed by the project's developers or owners.",
        "administrator": "Administrators manage Signet; they do not sign off models.",
        "owner": "Independent validation cannot be signed by the project's developers or owners.",
    }
    digest = services.evidence_digest(flow.version)
    with pytest.raises(PermissionDenied) as caught:
        services.review_decide(actor=person, review=review, kind="approve", evidence_digest_seen=digest)
    assert str(caught.value) == reasons[who]
    api = Client(headers=bearer(token_for(person))).post(
        f"/api/v1/reviews/{review.pk}/decisions/",
        {"kind": "approve", "evidence_digest": digest},
        content_type="application/json",
    )
    assert api.status_code == 403
    assert api.json()["error"]["message"] == reasons[who]
    page = signed_in(person).post(f"/workflows/reviews/{review.pk}/", {"kind": "approve", "evidence_digest": digest})
    assert page.status_code == 403
    assert not review.decisions.exists()
    assert _status(flow) == "in_review"


def test_reject_is_final_and_request_changes_opens_a_new_cycle(flow: Flow) -> None:
    review = flow.submit()
    with pytest.raises(ValidationError, match="Say why"):
        flow.decide(flow.validator, review, kind="request_changes", comment=" ")
    flow.decide(flow.validator, review, kind="request_changes", comment="Add the fairness analysis.")
    assert _status(flow) == "changes_requested"
    registry.card_update(
        actor=flow.developer, card=flow.version.card, sections={"ethical_considerations": "Fairness by age band added."}
    )
    with pytest.raises(ValidationError, match="already changes requested"):
        flow.decide(flow.validator2, Review.objects.get(pk=review.pk))
    second = flow.submit()
    assert second.cycle == 2
    flow.decide(flow.validator2, second, kind="reject", comment="Not fit for purpose.")
    assert _status(flow) == "rejected"
    with pytest.raises(ValidationError, match="cannot be submitted"):
        flow.submit()


def test_decisions_are_bound_to_the_evidence_seen(flow: Flow) -> None:
    review = flow.submit()
    with pytest.raises(ValidationError, match="evidence changed"):
        services.review_decide(actor=flow.validator, review=review, kind="approve", evidence_digest_seen="0" * 64)
    assert not review.decisions.exists()


def test_editing_the_card_after_approval_makes_the_gate_refuse(flow: Flow) -> None:
    review = flow.submit()
    flow.decide(flow.validator, review)
    assert services.gate_check(version=flow.version, environment="prod").allowed
    registry.card_update(
        actor=flow.developer, card=flow.version.card, sections={"limitations": "Changed after approval."}
    )
    answer = services.gate_check(version=flow.version, environment="prod")
    assert not answer.allowed
    assert "stale" in answer.reasons[0]
    with pytest.raises(ValidationError, match="stale"):
        services.deployment_record(actor=flow.it_ops, version=flow.version, environment="prod")


def test_an_expired_approval_is_refused_by_the_gate(flow: Flow) -> None:
    review = flow.submit()
    flow.decide(flow.validator, review)
    Review.objects.filter(pk=review.pk).update(expires_at=timezone.now() - timedelta(days=1))
    answer = services.gate_check(version=flow.version, environment="prod")
    assert not answer.allowed
    assert "expired" in answer.reasons[0]


def test_open_high_findings_block_approval_until_remediated_or_accepted_by_compliance(flow: Flow) -> None:
    review = flow.submit()
    finding = services.finding_raise(
        actor=flow.validator, model=flow.model, version=flow.version, owner=flow.developer,
        kind="validation_issue", severity="high", title="Calibration is off for thin files",
    )  # fmt: skip
    with pytest.raises(ValidationError, match="block approval"):
        flow.decide(flow.validator2, review)
    with pytest.raises(ValidationError, match="Only a policy exception can be accepted"):
        services.finding_update(actor=flow.compliance, finding=finding, status="accepted", reason="Known.")
    services.finding_update(actor=flow.developer, finding=finding, status="remediated", remediation="Recalibrated.")
    with pytest.raises(ValidationError, match="block approval"):
        flow.decide(flow.validator2, review)  # the owner's own remediation waits for an independent check
    with pytest.raises(PermissionDenied, match="severity"):
        services.finding_update(actor=flow.developer, finding=finding, severity="low")
    with pytest.raises(PermissionDenied, match="close"):
        services.finding_update(actor=flow.developer, finding=finding, status="closed")
    services.finding_update(actor=flow.validator, finding=finding, status="closed", reason="Checked the recalibration.")
    flow.decide(flow.validator2, review)
    assert _status(flow) == "approved"
    assert AuditEvent.objects.filter(action="workflows.finding.updated").exists()


@pytest.mark.parametrize("state", ["draft", "in_review", "rejected", "changes_requested", "approved", "stale"])
def test_the_gate_endpoint_answers_pipelines_in_words(flow: Flow, token_for, state: str) -> None:
    if state != "draft":
        review = flow.submit()
        if state in ("rejected", "changes_requested"):
            flow.decide(
                flow.validator, review, kind="reject" if state == "rejected" else "request_changes", comment="No."
            )
        if state in ("approved", "stale"):
            flow.decide(flow.validator, review)
        if state == "stale":
            registry.card_update(
                actor=flow.developer, card=flow.version.card, sections={"limitations": "Changed later on."}
            )
    url = f"/api/v1/gate/?model={flow.model.name}&version={flow.version.number}&environment=production"
    body = Client(headers=bearer(token_for(flow.it_ops))).get(url).json()
    assert body["allowed"] is (state == "approved")
    assert body["reasons"]
    assert flow.model.name in body["reasons"][0]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "model=x",
        "model=x&version=abc&environment=p",
        "model=x&version=99999999999&environment=p",
        "model=x&version=%C2%B2&environment=p",
    ],
)
def test_the_gate_refuses_bad_questions_with_400(flow: Flow, token_for, query: str) -> None:
    response = Client(headers=bearer(token_for(flow.it_ops))).get(f"/api/v1/gate/?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_the_gate_does_not_confirm_models_the_caller_cannot_see(flow: Flow, token_for) -> None:
    body = (
        Client(headers=bearer(token_for(flow.outsider)))
        .get(f"/api/v1/gate/?model={flow.model.name}&version=1&environment=production")
        .json()
    )
    assert body["allowed"] is False
    assert "that you can see" in body["reasons"][0]


def test_only_it_operations_record_deployments(flow: Flow) -> None:
    review = flow.submit()
    flow.decide(flow.validator, review)
    with pytest.raises(PermissionDenied):
        services.deployment_record(actor=flow.developer, version=flow.version, environment="production")


def test_the_inbox_shows_what_waits_for_each_person(flow: Flow) -> None:
    review = flow.submit()
    link = f"/workflows/reviews/{review.pk}/"
    assert link in signed_in(flow.validator).get("/").content.decode()
    assert link not in signed_in(flow.it_ops).get("/").content.decode()
    api = Client(
        headers=bearer(
            __import__("apps.accounts.services", fromlist=["x"]).api_token_create(
                actor=None, user=flow.validator, name="t", days=1
            )[1]
        )
    )
    assert [r["id"] for r in api.get("/api/v1/reviews/?assigned=me").json()["results"]] == [review.pk]


def test_a_blocking_finding_on_the_model_as_a_whole_blocks_its_versions(flow: Flow) -> None:
    review = flow.submit()
    services.finding_raise(
        actor=flow.validator, model=flow.model, version=None, owner=flow.developer,
        kind="model_limitation", severity="critical", title="Target leakage in the whole model family",
    )  # fmt: skip
    with pytest.raises(ValidationError, match="block approval"):
        flow.decide(flow.validator2, review)


def test_someone_who_submitted_an_earlier_cycle_cannot_sign_a_later_one(flow: Flow) -> None:
    review = services.version_submit(actor=flow.owner, version=flow.version)
    flow.decide(flow.validator, review, kind="request_changes", comment="More detail.")
    second = flow.submit()
    with pytest.raises(PermissionDenied, match="You submitted this version"):
        services.review_decide(
            actor=flow.owner, review=second, kind="approve", evidence_digest_seen=services.evidence_digest(flow.version)
        )


def test_only_compliance_accepts_a_policy_exception_with_a_justification_and_it_stays_accepted(flow: Flow) -> None:
    review = flow.submit()
    exception = services.finding_raise(
        actor=flow.compliance, model=flow.model, version=flow.version, owner=flow.owner,
        kind="policy_exception", severity="high", title="Deploy before the quarterly fairness review",
    )  # fmt: skip
    with pytest.raises(PermissionDenied, match="compliance"):
        services.finding_update(actor=flow.validator, finding=exception, status="accepted", reason="Fine by me.")
    second = make_user("cleo", TeamFunction.COMPLIANCE)
    projects.membership_add(actor=flow.owner, project=flow.project, user=second, role="compliance")
    with pytest.raises(ValidationError, match="justification"):
        services.finding_update(actor=second, finding=exception, status="accepted")
    with pytest.raises(PermissionDenied, match="another compliance officer accepts it"):
        services.finding_update(actor=flow.compliance, finding=exception, status="accepted", reason="Mine, fine.")
    services.finding_update(actor=second, finding=exception, status="accepted", reason="Board decision 2026-14.")
    with pytest.raises(ValidationError, match="stays so"):
        services.finding_update(actor=flow.owner, finding=exception, status="open")
    flow.decide(flow.validator, review)
    assert _status(flow) == "approved"


def test_the_card_is_frozen_in_review_and_a_stale_approval_can_be_renewed(flow: Flow) -> None:
    review = flow.submit()
    with pytest.raises(ValidationError, match="in review"):
        registry.card_update(
            actor=flow.developer, card=flow.version.card, sections={"limitations": "Mid-review edit here."}
        )
    flow.decide(flow.validator, review)
    with pytest.raises(ValidationError, match="cannot be submitted"):
        flow.submit()  # a current approval needs no new review
    registry.card_update(
        actor=flow.developer, card=flow.version.card, sections={"limitations": "Edited after approval."}
    )
    renewal = flow.submit()
    assert (renewal.cycle, _status(flow)) == (2, "in_review")
    flow.decide(flow.validator2, renewal)
    assert services.gate_check(version=flow.version, environment="production").allowed


def test_metrics_are_evidence_and_freeze_when_the_version_is_submitted(flow: Flow) -> None:
    flow.submit()
    with pytest.raises(ValidationError, match="register a new one"):
        registry.version_update(actor=flow.developer, version=flow.version, metrics={"roc_auc": 0.99})
    registry.version_update(actor=flow.developer, version=flow.version, description="Notes may change.")


def test_a_former_developer_re_added_as_validator_is_not_independent(flow: Flow) -> None:
    former = make_user("former", TeamFunction.RISK_VALIDATION)
    projects.membership_add(actor=flow.owner, project=flow.project, user=former, role="developer")
    membership = flow.project.memberships.get(user=former, role="developer")
    projects.membership_remove(actor=flow.owner, membership=membership)
    with pytest.raises(ValidationError, match="builds or owns this project, or once did"):
        projects.membership_add(actor=flow.owner, project=flow.project, user=former, role="validator")
    Membership.objects.create(project=flow.project, user=former, role="validator")  # as if granted before the rule
    review = flow.submit()
    with pytest.raises(PermissionDenied, match="developed or owned this project"):
        flow.decide(former, review)
