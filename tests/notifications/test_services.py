"""Who hears of what: notifications written with the change they announce, and their e-mail."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from apps.audit.models import AuditEvent
from apps.notifications import services, webhooks
from apps.notifications.choices import EmailStatus, Event
from apps.notifications.models import Notification, WebhookDelivery, WebhookSubscription
from apps.workflows import services as workflows
from tests.workflows.conftest import Flow


def events_of(user) -> list[str]:
    return list(Notification.objects.filter(recipient=user).order_by("pk").values_list("event", flat=True))


def test_a_submitted_review_waits_for_the_eligible_validators_and_nobody_else(flow: Flow) -> None:
    review = flow.submit()
    for person in (flow.validator, flow.validator2):
        note = Notification.objects.get(recipient=person, event=Event.REVIEW_WAITING)
        assert "pd-model v1" in note.title
        assert note.url == f"/workflows/reviews/{review.pk}/"
        assert note.project == flow.project
    for person in (flow.developer, flow.owner, flow.it_ops, flow.outsider, flow.administrator, flow.auditor):
        assert Event.REVIEW_WAITING not in events_of(person)


def test_the_next_stage_hears_of_the_review_only_when_it_opens(high_flow: Flow) -> None:
    flow = high_flow
    review = flow.submit()
    assert Event.REVIEW_WAITING in events_of(flow.business_owner)
    assert Event.REVIEW_WAITING not in events_of(flow.validator)  # validation comes after the business stage
    flow.decide(flow.business_owner, review)
    assert events_of(flow.validator).count(Event.REVIEW_WAITING) == 1
    assert Event.REVIEW_WAITING not in events_of(flow.it_ops)


def test_decisions_and_the_outcome_reach_the_submitter_and_the_owners(flow: Flow) -> None:
    review = flow.submit()
    flow.decide(flow.validator, review, "request_changes", "The evaluation misses the 2024 cohort.")
    decided = Notification.objects.get(recipient=flow.developer, event=Event.REVIEW_DECIDED)
    assert "vera" in decided.title
    assert decided.body == "The evaluation misses the 2024 cohort."
    closed = Notification.objects.get(recipient=flow.owner, event=Event.REVIEW_CLOSED)
    assert "changes requested" in closed.title
    assert Event.REVIEW_CLOSED in events_of(flow.developer)


def test_a_delegate_hears_that_the_decision_is_now_theirs(flow: Flow) -> None:
    review = flow.submit()
    Notification.objects.all().delete()
    workflows.review_delegate(actor=flow.validator, review=review, to_user=flow.validator2, reason="On leave")
    note = Notification.objects.get(recipient=flow.validator2)
    assert note.event == Event.REVIEW_WAITING
    assert "vera handed you" in note.title


def test_the_owner_of_a_new_finding_is_told(flow: Flow) -> None:
    review = flow.submit()
    workflows.finding_raise(
        actor=flow.validator,
        model=review.version.model,
        version=review.version,
        owner=flow.developer,
        kind="validation_issue",
        severity="high",
        title="Drift in income",
        description="PSI 0.31 on income.",
        due_date=date.today() + timedelta(days=14),
    )
    note = Notification.objects.get(recipient=flow.developer, event=Event.FINDING_ASSIGNED)
    assert note.title == "High finding on pd-model: Drift in income"
    assert "PSI 0.31" in note.body
    assert "Raised by vera" in note.body


def test_a_change_that_rolls_back_announces_nothing(flow: Flow, django_capture_on_commit_callbacks) -> None:
    def submit_then_fail() -> None:
        with transaction.atomic():
            flow.submit()
            raise RuntimeError("the request failed after the submit")

    with django_capture_on_commit_callbacks() as sends, pytest.raises(RuntimeError):
        submit_then_fail()
    assert not Notification.objects.exists()
    assert sends == []  # no e-mail or webhook was queued for the broker either


def test_nothing_is_queued_for_the_broker_before_the_change_commits(
    flow: Flow, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as sends:
        notes = services.announce(event=Event.FINDING_ASSIGNED, title="Finding", recipients=[flow.developer])
        assert len(notes) == 1
    assert len(sends) == 1  # the e-mail is sent by a callback that runs only when the transaction commits


def test_a_reminder_with_a_key_goes_once_per_person(flow: Flow) -> None:
    first = services.announce(
        event=Event.FINDING_OVERDUE, title="Overdue", recipients=[flow.developer, flow.developer], dedupe_key="k:1"
    )
    again = services.announce(
        event=Event.FINDING_OVERDUE, title="Overdue", recipients=[flow.developer], dedupe_key="k:1"
    )
    assert (len(first), len(again)) == (1, 0)
    assert Notification.objects.filter(recipient=flow.developer).count() == 1


def test_inactive_people_and_people_without_an_address_get_no_email(flow: Flow) -> None:
    flow.validator2.is_active = False
    flow.validator2.save()
    flow.validator.email = ""
    flow.validator.save()
    flow.submit()
    assert not Notification.objects.filter(recipient=flow.validator2).exists()
    assert Notification.objects.get(recipient=flow.validator).email_status == EmailStatus.SKIPPED


def test_the_email_is_sent_once_even_when_the_task_runs_twice(flow: Flow, settings) -> None:
    settings.SIGNET_BASE_URL = "https://signet.example.test"
    review = flow.submit()
    note = Notification.objects.get(recipient=flow.validator)
    assert services.notification_email_send(note.pk) == EmailStatus.SENT
    assert services.notification_email_send(note.pk) == EmailStatus.SENT
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["vera@example.test"]
    assert message.subject == f"[Signet] {note.title}"
    assert f"https://signet.example.test/workflows/reviews/{review.pk}/" in message.body


def test_a_person_marks_only_their_own_notifications_read(flow: Flow) -> None:
    flow.submit()
    mine = Notification.objects.get(recipient=flow.validator)
    theirs = Notification.objects.get(recipient=flow.validator2)
    assert services.notifications_mark_read(actor=flow.validator, ids=[mine.pk, theirs.pk]) == 1
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert services.notifications_mark_read(actor=flow.validator2) == 1


# --- webhook subscriptions ----------------------------------------------------------------------


def test_only_administrators_subscribe_webhooks_and_the_subscription_is_audited(flow: Flow) -> None:
    with pytest.raises(PermissionDenied):
        webhooks.webhook_create(actor=flow.compliance, url="https://hooks.example.test/in", events=["review.closed"])
    hook = webhooks.webhook_create(
        actor=flow.administrator, url="https://hooks.example.test/in", events=["review.closed", "review.closed"]
    )
    assert hook.events == ["review.closed"]
    assert hook.secret.startswith("whsec_")
    assert len(hook.secret) > 40
    event = AuditEvent.objects.get(action="notifications.webhook.created")
    assert event.data == {"url": "https://hooks.example.test/in", "events": ["review.closed"]}
    assert hook.secret not in str(event.data)
    webhooks.webhook_update(actor=flow.administrator, subscription=hook, is_active=False)
    updated = AuditEvent.objects.get(action="notifications.webhook.updated")
    assert updated.changes == {"is_active": {"before": True, "after": False}}


@pytest.mark.parametrize(
    ("url", "events", "field"),
    [
        ("", ["review.closed"], "url"),
        ("ftp://hooks.example.test/in", ["review.closed"], "url"),
        ("javascript:alert(1)", ["review.closed"], "url"),
        ("https://user:pw@hooks.example.test/in", ["review.closed"], "url"),
        ("https://hooks.example.test/" + "a" * 600, ["review.closed"], "url"),
        ("https://hooks.example.test/in", [], "events"),
        ("https://hooks.example.test/in", ["review.exploded"], "events"),
        ("https://hooks.example.test/in", "review.closed", "events"),
        (["https://hooks.example.test/in"], ["review.closed"], "url"),
    ],
)
def test_a_bad_subscription_is_refused_with_a_reason(flow: Flow, url, events, field) -> None:
    with pytest.raises(ValidationError) as refused:
        webhooks.webhook_create(actor=flow.administrator, url=url, events=events)
    assert field in refused.value.message_dict
    assert not WebhookSubscription.objects.exists()


def test_each_subscribed_receiver_gets_one_delivery_of_the_event(flow: Flow) -> None:
    closed = webhooks.webhook_create(actor=flow.administrator, url="https://a.example.test/", events=["review.closed"])
    webhooks.webhook_create(actor=flow.administrator, url="https://b.example.test/", events=["finding.assigned"])
    paused = webhooks.webhook_create(actor=flow.administrator, url="https://c.example.test/", events=["review.closed"])
    webhooks.webhook_update(actor=flow.administrator, subscription=paused, is_active=False)
    review = flow.submit()
    flow.decide(flow.validator, review)
    delivery = WebhookDelivery.objects.get()
    assert delivery.subscription == closed
    assert delivery.event == "review.closed"
    payload = delivery.payload
    assert payload["id"] == str(delivery.event_id)
    assert payload["data"] == {
        "review": review.pk,
        "version": flow.version.pk,
        "outcome": "approved",
        "kind": "submission",
    }
    assert payload["project"] == flow.project.slug
    assert payload["url"].endswith(f"/workflows/reviews/{review.pk}/")


def test_people_who_left_the_project_hear_nothing_more_of_it(flow: Flow) -> None:
    from apps.projects import services as projects
    from apps.projects.models import Membership

    review = flow.submit()
    membership = Membership.objects.get(project=flow.project, user=flow.developer)
    projects.membership_remove(actor=flow.owner, membership=membership)
    Notification.objects.all().delete()
    flow.decide(flow.validator, review, "reject", "The reason stays inside the project.")
    assert not Notification.objects.filter(recipient=flow.developer).exists()
    assert Notification.objects.filter(recipient=flow.owner, event=Event.REVIEW_CLOSED).exists()


def test_a_title_becomes_one_line_so_it_can_be_an_email_subject(flow: Flow) -> None:
    [note] = services.announce(
        event=Event.FINDING_ASSIGNED, title="Drift\r\nBcc: everyone@example.test", recipients=[flow.developer]
    )
    assert note.title == "Drift Bcc: everyone@example.test"
    assert services.notification_email_send(note.pk) == EmailStatus.SENT
    assert mail.outbox[0].subject == "[Signet] Drift Bcc: everyone@example.test"
    assert mail.outbox[0].bcc == []


def test_the_sweep_resends_what_was_lost_and_leaves_backed_off_retries_alone(flow: Flow) -> None:
    from django.utils import timezone

    old = timezone.now() - timedelta(minutes=5)
    lost, retrying, stuck = (
        services.announce(event=Event.FINDING_OVERDUE, title=f"Reminder {i}", recipients=[flow.developer])[0]
        for i in range(3)
    )
    Notification.objects.filter(pk=lost.pk).update(created_at=old)
    Notification.objects.filter(pk=retrying.pk).update(created_at=old, email_attempts=1, email_claimed_at=old)
    Notification.objects.filter(pk=stuck.pk).update(
        created_at=old - timedelta(hours=2), email_status=EmailStatus.SENDING, email_attempts=1,
        email_claimed_at=old - timedelta(hours=2),
    )  # fmt: skip
    assert services.pending_sweep() == {"emails": 2, "deliveries": 0}  # the lost one, and the stuck one freed
    stuck.refresh_from_db()
    assert stuck.email_status == EmailStatus.PENDING
