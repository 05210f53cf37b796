"""Announce what happened: in-app notifications, their e-mail, and signed webhook deliveries.

``announce`` is called by the other apps' services inside their transaction: it writes the rows,
and only after commit hands the sending to Celery, so a rolled-back change announces nothing and a
broker that is down loses nothing (the periodic sweep sends what is still pending).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.accounts.models import User
from apps.core.queue import enqueue
from apps.notifications.choices import DeliveryStatus, EmailStatus, Event
from apps.notifications.models import Notification, WebhookDelivery, WebhookSubscription
from apps.projects.permissions import can_view_project

MAX_EMAIL_ATTEMPTS = 5
logger = logging.getLogger(__name__)


def absolute_url(path: str) -> str:
    return f"{str(settings.SIGNET_BASE_URL).rstrip('/')}{path}" if path else ""


def announce(
    *,
    event: str,
    title: str,
    recipients: Iterable[Any] = (),
    url: str = "",
    body: str = "",
    project: Any = None,
    data: dict[str, Any] | None = None,
    dedupe_key: str = "",
) -> list[Notification]:
    """Notify ``recipients`` in the portal and by e-mail, and queue the event for webhooks.

    Runs inside the caller's transaction. A ``dedupe_key`` makes a reminder go once per person.
    Side effects: Notification and WebhookDelivery rows; after commit, Celery tasks send them.
    """
    assert event in Event.values, event

    title = " ".join(title.split())  # one line: it becomes an e-mail subject
    created: list[Notification] = []
    seen: set[int] = set()
    for person in recipients:
        if person is None or person.pk in seen or not person.is_active:
            continue
        if project is not None and not can_view_project(person, project):
            continue  # someone who left the project no longer hears of it
        seen.add(person.pk)
        if dedupe_key and Notification.objects.filter(recipient=person, dedupe_key=dedupe_key).exists():
            continue
        try:
            with transaction.atomic():
                created.append(
                    Notification.objects.create(
                        recipient=person,
                        event=event,
                        title=title[:200],
                        body=body,
                        url=url[:300],
                        project=project,
                        dedupe_key=dedupe_key,
                        email_status=EmailStatus.PENDING if person.email else EmailStatus.SKIPPED,
                    )
                )
        except IntegrityError:  # the same reminder, written by a concurrent sweep
            continue
    deliveries = _queue_webhooks(
        event=event, title=title, url=url, project=project, data=data or {}, dedupe_key=dedupe_key
    )
    emails = [n.pk for n in created if n.email_status == EmailStatus.PENDING]
    if emails or deliveries:
        transaction.on_commit(lambda: _enqueue(emails, deliveries), robust=True)
    return created


def _queue_webhooks(
    *, event: str, title: str, url: str, project: Any, data: dict[str, Any], dedupe_key: str
) -> list[int]:
    subscriptions = [s for s in WebhookSubscription.objects.filter(is_active=True) if event in s.events]
    if dedupe_key:
        sent = set(WebhookDelivery.objects.filter(dedupe_key=dedupe_key).values_list("subscription_id", flat=True))
        subscriptions = [s for s in subscriptions if s.pk not in sent]
    if not subscriptions:
        return []
    payload = {
        "event": event,
        "occurred_at": timezone.now().isoformat(),
        "title": title,
        "url": absolute_url(url),
        "project": getattr(project, "slug", None),
        "data": data,
    }
    first = WebhookDelivery(subscription=subscriptions[0], event=event, payload={})
    payload["id"] = str(first.event_id)
    deliveries = []
    for subscription in subscriptions:
        try:
            with transaction.atomic():
                deliveries.append(
                    WebhookDelivery.objects.create(
                        subscription=subscription,
                        event=event,
                        event_id=first.event_id,
                        payload=payload,
                        dedupe_key=dedupe_key,
                    )
                )
        except IntegrityError:  # the same reminder, queued by a concurrent sweep
            continue
    return [d.pk for d in deliveries]


def _enqueue(emails: list[int], deliveries: list[int]) -> None:
    for pk in emails:
        enqueue("apps.notifications.tasks.send_notification_email", pk)
    for pk in deliveries:
        enqueue("apps.notifications.tasks.deliver_webhook", pk)


# --- in-app -----------------------------------------------------------------------------------


def notifications_mark_read(*, actor: User, ids: Iterable[int] | None = None) -> int:
    """Mark the actor's own notifications read (all of them when ``ids`` is None); return how many.

    Not audited: a read flag is the person's own inbox, not governed state (docs/decisions/0008).
    """
    unread = Notification.objects.filter(recipient=actor, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=timezone.now())


# --- e-mail -----------------------------------------------------------------------------------


def notification_email_send(notification_id: int) -> str:
    """Send one notification's e-mail unless another worker has it or it went already; return its status.

    Claimed with a conditional update, so a message delivered twice sends one e-mail.
    """
    claimed = Notification.objects.filter(pk=notification_id, email_status=EmailStatus.PENDING).update(
        email_status=EmailStatus.SENDING, email_claimed_at=timezone.now(), email_attempts=F("email_attempts") + 1
    )
    notification = Notification.objects.select_related("recipient").filter(pk=notification_id).first()
    if notification is None:  # its recipient was deleted since
        return "missing"
    if not claimed:
        return str(notification.email_status)
    lines = [notification.body, "", absolute_url(notification.url)] if notification.url else [notification.body]
    try:
        send_mail(
            subject=f"[Signet] {notification.title}",
            message="\n".join(lines).strip() + "\n\n— Signet, your model governance portal\n",
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[notification.recipient.email],
        )
    except OSError:  # the mail server is away (smtplib's errors are OSErrors too): try again later
        status = EmailStatus.FAILED if notification.email_attempts >= MAX_EMAIL_ATTEMPTS else EmailStatus.PENDING
        Notification.objects.filter(pk=notification_id).update(email_status=status)
        raise
    except Exception:  # this message itself cannot be sent (a bad header, say): retrying will not help
        logger.exception("notification %s: the e-mail cannot be sent", notification_id)
        Notification.objects.filter(pk=notification_id).update(email_status=EmailStatus.FAILED)
        return EmailStatus.FAILED
    Notification.objects.filter(pk=notification_id).update(email_status=EmailStatus.SENT)
    return EmailStatus.SENT


def pending_sweep() -> dict[str, int]:
    """Hand Celery again what a lost message or a dead worker left behind; return the counts.

    A claim older than its time limit belonged to a worker that died; it goes back to pending.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=settings.SIGNET_WEBHOOK_TIMEOUT_SECONDS + 120)
    WebhookDelivery.objects.filter(status=DeliveryStatus.SENDING, claimed_at__lt=stale).update(
        status=DeliveryStatus.PENDING
    )
    Notification.objects.filter(email_status=EmailStatus.SENDING, email_claimed_at__lt=stale).update(
        email_status=EmailStatus.PENDING
    )
    lost = now - timedelta(seconds=60)
    deliveries = list(
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lt=lost).values_list(
            "pk", flat=True
        )[:500]
    )
    # A first message that was lost goes again after a minute; a retry (Celery backs off) after an hour.
    emails = list(
        Notification.objects.filter(email_status=EmailStatus.PENDING, email_attempts__lt=MAX_EMAIL_ATTEMPTS)
        .filter(
            Q(email_attempts=0, created_at__lt=lost)
            | Q(email_attempts__gt=0, email_claimed_at__lt=now - timedelta(hours=1))
        )
        .values_list("pk", flat=True)[:500]
    )
    _enqueue(emails, deliveries)
    return {"emails": len(emails), "deliveries": len(deliveries)}
