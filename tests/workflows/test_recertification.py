"""Approvals expire: the schedule opens a re-certification, reminds, and the gate applies the grace period."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.notifications.choices import Event
from apps.notifications.models import Notification
from apps.workflows import selectors, services
from apps.workflows.models import Review
from tests.workflows.conftest import Flow


def approved(flow: Flow, *, deploy: bool = True) -> Review:
    review = flow.submit()
    flow.decide(flow.validator, review)
    if deploy:
        services.deployment_record(actor=flow.it_ops, version=flow.version, environment="production")
    review.refresh_from_db()
    return review


def expire_in(review: Review, days: float) -> None:
    Review.objects.filter(pk=review.pk).update(expires_at=timezone.now() + timedelta(days=days))


def notes(event: str) -> list[str]:
    return sorted(Notification.objects.filter(event=event).values_list("recipient__username", flat=True))


def test_an_approval_far_from_expiry_is_left_alone(flow: Flow) -> None:
    approved(flow)
    assert services.workflow_reminders() == {
        "recertifications_opened": 0,
        "due": 0,
        "expired": 0,
        "findings_overdue": 0,
    }
    assert Review.objects.count() == 1


def test_the_schedule_opens_one_recertification_before_expiry_and_reminds_the_owners_once(flow: Flow, settings) -> None:
    settings.SIGNET_RECERT_REMIND_DAYS = 30
    approval = approved(flow)
    expire_in(approval, 10)
    Notification.objects.all().delete()

    counts = services.workflow_reminders()
    assert counts["recertifications_opened"] == 1
    assert counts["due"] == 1
    recert = Review.objects.get(status="open")
    assert (recert.kind, recert.cycle, recert.submitted_by) == ("recertification", 2, None)
    assert notes(Event.RECERTIFICATION_DUE) == ["bob", "olivia"]  # the owner and the business owner
    assert sorted(notes(Event.REVIEW_WAITING)) == ["val2", "vera"]
    opened = AuditEvent.objects.get(action="workflows.review.opened", target_id=str(recert.pk))
    assert (opened.actor_id, opened.actor_name, opened.data["kind"]) == (None, "schedule", "recertification")

    assert services.workflow_reminders()["recertifications_opened"] == 0
    assert Review.objects.filter(status="open").count() == 1
    assert len(notes(Event.RECERTIFICATION_DUE)) == 2  # no second reminder
    flow.version.refresh_from_db()
    assert flow.version.status == "deployed"  # still serving while it is re-certified
    assert services.gate_check(version=flow.version, environment="production").allowed


def test_a_recertification_approved_by_independent_people_renews_the_approval_and_keeps_it_deployed(flow: Flow) -> None:
    approval = approved(flow)
    expire_in(approval, 5)
    services.workflow_reminders()
    recert = Review.objects.get(status="open")
    with pytest.raises(ValidationError, match="already open"):
        services.version_submit(actor=flow.developer, version=flow.version)
    flow.decide(flow.validator2, recert)
    recert.refresh_from_db()
    flow.version.refresh_from_db()
    assert recert.status == "approved"
    assert flow.version.status == "deployed"
    assert recert.expires_at is not None
    assert recert.expires_at > timezone.now() + timedelta(days=700)
    assert services.gate_check(version=flow.version, environment="production").allowed
    assert services.workflow_reminders()["recertifications_opened"] == 0


def test_after_expiry_the_gate_refuses_and_owners_and_it_operations_hear_of_it_once(flow: Flow) -> None:
    approval = approved(flow)
    expire_in(approval, -1)
    counts = services.workflow_reminders()
    assert counts == {"recertifications_opened": 1, "due": 0, "expired": 1, "findings_overdue": 0}
    assert notes(Event.RECERTIFICATION_OVERDUE) == ["bob", "ike", "olivia"]
    answer = services.gate_check(version=flow.version, environment="production")
    assert not answer.allowed
    assert "expired" in answer.reasons[0]
    assert "re-certification" in answer.reasons[0]
    services.workflow_reminders()
    assert len(notes(Event.RECERTIFICATION_OVERDUE)) == 3


def test_the_policy_grace_period_lets_the_gate_allow_an_expired_approval_for_a_while(flow: Flow) -> None:
    policy = services.policy_in_force("low")
    services.policy_publish(
        actor=flow.compliance, tier="low", stages=policy.stages, review_period_days=730, grace_days=7
    )
    approval = approved(flow)
    assert approval.grace_days == 7  # snapshotted from the policy in force when it opened
    expire_in(approval, -3)
    answer = services.gate_check(version=flow.version, environment="production")
    assert answer.allowed
    assert "grace period" in answer.reasons[1]
    expire_in(approval, -7.01)
    assert not services.gate_check(version=flow.version, environment="production").allowed


@pytest.mark.parametrize("grace", [-1, 91, "7", True, 2.5])
def test_a_bad_grace_period_is_refused(flow: Flow, grace) -> None:
    policy = services.policy_in_force("low")
    with pytest.raises(ValidationError, match="grace period"):
        services.policy_publish(
            actor=flow.compliance, tier="low", stages=policy.stages, review_period_days=730, grace_days=grace
        )
    assert services.policy_in_force("low").pk == policy.pk


def test_a_rejected_recertification_takes_the_version_out_of_service(flow: Flow) -> None:
    approval = approved(flow)
    expire_in(approval, 3)
    services.workflow_reminders()
    flow.decide(flow.validator2, Review.objects.get(status="open"), "reject", "The population changed too much.")
    flow.version.refresh_from_db()
    assert flow.version.status == "rejected"
    assert not services.gate_check(version=flow.version, environment="production").allowed


def test_an_overdue_finding_reminds_its_owner_once(flow: Flow) -> None:
    flow.submit()
    finding = services.finding_raise(
        actor=flow.validator, model=flow.model, version=flow.version, owner=flow.developer,
        kind="model_limitation", severity="low", title="Thin-file applicants",
        due_date=timezone.now().date() + timedelta(days=3),
    )  # fmt: skip
    assert services.workflow_reminders()["findings_overdue"] == 0
    type(finding).objects.filter(pk=finding.pk).update(due_date=timezone.now().date() - timedelta(days=1))
    assert services.workflow_reminders()["findings_overdue"] == 1
    assert services.workflow_reminders()["findings_overdue"] == 0
    assert notes(Event.FINDING_OVERDUE) == ["devon"]


# --- retiring ------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["developer", "validator", "business_owner", "compliance", "administrator"])
def test_only_owners_and_it_operations_retire_a_version(flow: Flow, who: str) -> None:
    from django.core.exceptions import PermissionDenied

    approved(flow)
    with pytest.raises(PermissionDenied, match="retire"):
        services.version_retire(actor=flow.persona(who), version=flow.version, reason="Replaced by v2.")


def test_retiring_withdraws_an_open_recertification_and_the_gate_refuses_from_then_on(flow: Flow) -> None:
    approval = approved(flow)
    expire_in(approval, 3)
    services.workflow_reminders()
    with pytest.raises(ValidationError, match="why"):
        services.version_retire(actor=flow.it_ops, version=flow.version, reason="  ")
    services.version_retire(actor=flow.it_ops, version=flow.version, reason="Replaced by the 2027 model.")
    flow.version.refresh_from_db()
    assert flow.version.status == "retired"
    assert Review.objects.get(kind="recertification").status == "withdrawn"
    answer = services.gate_check(version=flow.version, environment="production")
    assert not answer.allowed
    assert "retired" in answer.reasons[0]
    event = AuditEvent.objects.get(action="registry.model_version.retired")
    assert event.changes == {"status": {"before": "deployed", "after": "retired"}}
    assert event.data == {"reason": "Replaced by the 2027 model."}
    assert AuditEvent.objects.filter(action="workflows.review.withdrawn").count() == 1
    with pytest.raises(ValidationError, match="cannot be retired"):
        services.version_retire(actor=flow.owner, version=flow.version, reason="Again.")


def test_a_version_under_review_is_decided_before_it_is_retired(flow: Flow) -> None:
    flow.submit()
    with pytest.raises(ValidationError, match="in review cannot be retired"):
        services.version_retire(actor=flow.owner, version=flow.version, reason="Changed our minds.")


def test_retiring_through_the_api_and_the_page(flow: Flow, token_for) -> None:
    from django.test import Client

    from tests.conftest import bearer, signed_in

    approved(flow)
    api = Client(headers=bearer(token_for(flow.it_ops)))
    blank = api.post(f"/api/v1/versions/{flow.version.pk}/retire/", {"reason": ""}, content_type="application/json")
    assert blank.status_code == 400
    assert blank.json()["error"]["details"]["reason"]
    denied = Client(headers=bearer(token_for(flow.developer))).post(
        f"/api/v1/versions/{flow.version.pk}/retire/", {"reason": "x"}, content_type="application/json"
    )
    assert denied.status_code == 403
    page = signed_in(flow.owner).get(f"/registry/versions/{flow.version.pk}/").content.decode()
    assert "Retire this version" in page
    done = api.post(
        f"/api/v1/versions/{flow.version.pk}/retire/", {"reason": "End of life."}, content_type="application/json"
    )
    assert done.status_code == 200
    assert done.json()["status"] == "retired"


def test_a_short_approval_period_does_not_reopen_a_recertification_right_after_approval(flow: Flow, settings) -> None:
    settings.SIGNET_RECERT_REMIND_DAYS = 365
    policy = services.policy_in_force("low")
    services.policy_publish(actor=flow.compliance, tier="low", stages=policy.stages, review_period_days=30)
    approval = approved(flow)
    assert services.workflow_reminders()["recertifications_opened"] == 0  # 30 days ahead, window is 10
    assert selectors.recertifications_for(flow.owner) == []  # the home page agrees with the schedule
    expire_in(approval, 9)
    assert selectors.recertifications_for(flow.owner) == [approval]
    assert selectors.recertifications_for(flow.developer) == []  # owners and business owners only
    assert services.workflow_reminders()["recertifications_opened"] == 1
    flow.decide(flow.validator2, Review.objects.get(status="open"))
    assert services.workflow_reminders()["recertifications_opened"] == 0
    assert Review.objects.filter(status="open").count() == 0
    assert selectors.recertifications_for(flow.owner) == []  # renewed: the old approval is no longer due


def test_the_model_card_is_frozen_while_a_recertification_is_open(flow: Flow) -> None:
    from apps.registry import services as registry

    approval = approved(flow)
    expire_in(approval, 5)
    services.workflow_reminders()
    with pytest.raises(ValidationError, match="in review"):
        registry.card_update(actor=flow.developer, card=flow.version.card, sections={"limitations": "Changed now."})


def test_an_overdue_finding_whose_date_moved_reminds_again_when_the_new_date_passes(flow: Flow) -> None:
    finding = services.finding_raise(
        actor=flow.validator, model=flow.model, version=flow.version, owner=flow.developer,
        kind="model_limitation", severity="low", title="Thin-file applicants",
        due_date=timezone.now().date() - timedelta(days=1),
    )  # fmt: skip
    assert services.workflow_reminders(now=timezone.now() + timedelta(days=1))["findings_overdue"] == 1
    services.finding_update(actor=flow.validator, finding=finding, due_date=timezone.now().date() + timedelta(days=1))
    assert services.workflow_reminders(now=timezone.now() + timedelta(days=1))["findings_overdue"] == 0
    assert services.workflow_reminders(now=timezone.now() + timedelta(days=3))["findings_overdue"] == 1
    assert len(notes(Event.FINDING_OVERDUE)) == 2


def test_a_deployed_version_renewing_a_stale_approval_keeps_serving_but_the_gate_waits_for_the_new_review(
    flow: Flow,
) -> None:
    from apps.registry import services as registry

    approved(flow)
    registry.card_update(
        actor=flow.developer, card=flow.version.card, sections={"limitations": "Now also covers SMEs."}
    )
    assert not services.gate_check(version=flow.version, environment="production").allowed
    renewal = flow.submit()
    flow.version.refresh_from_db()
    assert flow.version.status == "deployed"
    assert not services.gate_check(version=flow.version, environment="production").allowed
    with pytest.raises(ValidationError, match="under a submission review cannot be retired"):
        services.version_retire(actor=flow.owner, version=flow.version, reason="Replaced.")
    assert Review.objects.get(pk=renewal.pk).status == "open"
    flow.decide(flow.validator2, renewal)
    flow.version.refresh_from_db()
    assert flow.version.status == "deployed"
    assert services.gate_check(version=flow.version, environment="production").allowed


def test_the_project_page_shows_what_is_in_production_until_it_is_retired(flow: Flow) -> None:
    from tests.conftest import signed_in

    approved(flow)
    client = signed_in(flow.business_owner)
    page = client.get(f"/projects/{flow.project.slug}/").content.decode()
    assert 'id="in-service"' in page
    assert "pd-model v1" in page
    services.version_retire(actor=flow.it_ops, version=flow.version, reason="Replaced.")
    assert 'id="in-service"' not in client.get(f"/projects/{flow.project.slug}/").content.decode()
