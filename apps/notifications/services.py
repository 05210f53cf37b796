"""Announce what happened: in-app notifications, their e-mail, and signed webhook deliveries.

``announce`` is called by the other apps' services inside their transaction: it writes the rows,
and only after commit hands the sending to Celery, so a rolled-back change announces nothing and a
broker that is down loses nothing (the periodic sweep sends what is still pending).
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.permissions import is_administrator
from apps.audit.services import audit_record, changes_between
from apps.core.permissions import require
from apps.notifications import signing
from apps.notifications.addresses import address_refusal
from apps.notifications.choices import DeliveryStatus, EmailStatus, Event
from apps.notifications.models import Notification, WebhookAttempt, WebhookDelivery, WebhookSubscription

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
    from apps.projects.permissions import can_view_project

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
    from apps.notifications import tasks

    for pk in emails:
        tasks.send_notification_email.delay(pk)
    for pk in deliveries:
        tasks.deliver_webhook.delay(pk)


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


# --- webhooks ---------------------------------------------------------------------------------


def _validate_subscription(
    url: Any, events: Any, description: Any, *, check_address: bool = True
) -> tuple[str, list[str], str]:
    if not isinstance(url, str) or not url.strip():
        raise ValidationError({"url": "Give the address that receives the events, starting with https://."})
    url = url.strip()
    if len(url) > 500:
        raise ValidationError({"url": "The address is longer than 500 characters."})
    try:
        parts = urlsplit(url)
    except ValueError:
        raise ValidationError({"url": "Give a full http:// or https:// address."}) from None
    if parts.username or parts.password:
        raise ValidationError({"url": "Leave credentials out of the address; the signature authenticates Signet."})
    # Before the format check, so that 127.1 or 0x7f000001 are refused for what they reach.
    refusal = address_refusal(url, unresolved_ok=True) if check_address and parts.scheme in ("http", "https") else None
    if refusal:
        raise ValidationError({"url": refusal})
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise ValidationError({"url": "Give a full http:// or https:// address."}) from None
    if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
        raise ValidationError({"events": "Choose at least one event type."})
    unknown = sorted(set(events) - set(Event.values))
    if unknown:
        raise ValidationError(
            {"events": f"Unknown event type {unknown[0][:60]!r}; choose from {', '.join(Event.values)}."}
        )
    if not isinstance(description, str) or "\x00" in description or len(description) > 200:
        raise ValidationError({"description": "The description is plain text of at most 200 characters."})
    return url, sorted(set(events)), description.strip()


def webhook_create(*, actor: User, url: Any, events: Any, description: Any = "") -> WebhookSubscription:
    """Subscribe a URL to event types (administrators). The secret is generated here and shown once.

    An internal address, or a name resolving to one, is refused unless WEBHOOK_ALLOWED_NETWORKS allows it.

    Side effects: ``notifications.webhook.created`` (without the secret). Raises PermissionDenied, ValidationError.
    """
    require(is_administrator(actor), "Only administrators manage webhooks.")
    url, events, description = _validate_subscription(url, events, description)
    with transaction.atomic():
        subscription = WebhookSubscription.objects.create(
            url=url,
            events=events,
            description=description,
            secret=signing.new_secret(),
            created_by=actor,
        )
        audit_record(
            actor=actor,
            action="notifications.webhook.created",
            target=subscription,
            data={"url": url, "events": events},
        )
    return subscription


def webhook_update(*, actor: User, subscription: WebhookSubscription, **fields: Any) -> WebhookSubscription:
    """Change a subscription's address, events, description or whether it is active (administrators).

    Side effects: ``notifications.webhook.updated`` with before/after. Raises PermissionDenied, ValidationError.
    """
    require(is_administrator(actor), "Only administrators manage webhooks.")
    unknown = set(fields) - {"url", "events", "description", "is_active"}
    if unknown:
        raise ValueError(f"webhook_update cannot change {sorted(unknown)}")
    with transaction.atomic():
        subscription = WebhookSubscription.objects.select_for_update(no_key=True).get(pk=subscription.pk)
        before = {
            "url": subscription.url,
            "events": subscription.events,
            "description": subscription.description,
            "is_active": subscription.is_active,
        }
        url, events, description = _validate_subscription(
            fields.get("url", subscription.url),
            fields.get("events", subscription.events),
            fields.get("description", subscription.description),
            # A subscription saved before its network was disallowed can still be paused or described.
            check_address=fields.get("url", subscription.url) != subscription.url,
        )
        is_active = fields.get("is_active", subscription.is_active)
        if not isinstance(is_active, bool):
            raise ValidationError({"is_active": "Active is true or false."})
        after = {"url": url, "events": events, "description": description, "is_active": is_active}
        changes = changes_between(before, after)
        if changes:
            for name, value in after.items():
                setattr(subscription, name, value)
            subscription.save()
            audit_record(actor=actor, action="notifications.webhook.updated", target=subscription, changes=changes)
    return subscription


KEEP_PREVIOUS_HOURS_MAX = 7 * 24


def webhook_rotate_secret(
    *, actor: User, subscription: WebhookSubscription, keep_previous_hours: int = 24
) -> WebhookSubscription:
    """Give a subscription a new signing secret (administrators), shown once by the caller.

    The old secret goes on signing beside the new one for ``keep_previous_hours`` (0 to 168), so a
    receiver can be moved to the new one without refusing deliveries meanwhile; 0 stops it at once,
    for a secret that leaked. Also how a subscription made before Standard Webhooks gets a secret in
    its alphabet. Side effects: ``notifications.webhook.secret_replaced`` (without either secret).
    Raises PermissionDenied, ValidationError.
    """
    require(is_administrator(actor), "Only administrators manage webhooks.")
    if (
        isinstance(keep_previous_hours, bool)
        or not isinstance(keep_previous_hours, int)
        or not 0 <= keep_previous_hours <= KEEP_PREVIOUS_HOURS_MAX
    ):
        raise ValidationError(
            {"keep_previous_hours": f"Keep the old secret from 0 to {KEEP_PREVIOUS_HOURS_MAX} hours (0: stop it now)."}
        )
    with transaction.atomic():
        subscription = WebhookSubscription.objects.select_for_update(no_key=True).get(pk=subscription.pk)
        until = timezone.now() + timedelta(hours=keep_previous_hours) if keep_previous_hours else None
        subscription.previous_secret = subscription.secret if until else ""
        subscription.previous_secret_until = until
        subscription.secret = signing.new_secret()
        subscription.save(update_fields=["secret", "previous_secret", "previous_secret_until"])
        audit_record(
            actor=actor,
            action="notifications.webhook.secret_replaced",
            target=subscription,
            data={"previous_secret_until": until.isoformat() if until else None},
        )
    return subscription


def retry_delays() -> list[float]:
    return list(settings.SIGNET_WEBHOOK_RETRY_DELAYS)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A receiver answers; it does not send Signet's signed payload on to somewhere else."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def webhook_deliver(delivery_id: int) -> tuple[str, float | None]:
    """Make one signed attempt at a delivery that is due; return its status and the retry delay, if any.

    Claimed with a conditional update, so a message delivered twice makes one request. Every attempt
    is logged (status code or error, duration); after the last retry the delivery is given up as failed.
    """
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now + timedelta(seconds=1)
    ).update(status=DeliveryStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    delivery = WebhookDelivery.objects.select_related("subscription").filter(pk=delivery_id).first()
    if delivery is None:
        return "missing", None
    if not claimed:
        return str(delivery.status), None
    subscription = delivery.subscription
    body = json.dumps(delivery.payload, sort_keys=True, separators=(",", ":")).encode()
    stamp = int(time.time())
    request = urllib.request.Request(  # noqa: S310 - the address was validated as http(s) when subscribed
        subscription.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Signet-Webhooks/1",
            **signing.headers(
                subscription.secret,
                previous=subscription.previous_secret_in_use(timezone.now()),
                message_id=str(delivery.event_id),
                timestamp=stamp,
                body=body,
            ),
            signing.EVENT_HEADER: delivery.event,
            signing.DELIVERY_HEADER: str(delivery.event_id),
        },
    )
    code: int | None = None
    error = ""
    started = time.monotonic()
    refusal = address_refusal(subscription.url) if subscription.is_active else None
    if not subscription.is_active:
        error = "The subscription was deactivated."
    elif refusal:
        error = refusal
    else:
        try:
            with _opener.open(request, timeout=settings.SIGNET_WEBHOOK_TIMEOUT_SECONDS) as response:
                code = response.status
        except urllib.error.HTTPError as exc:
            code, error = exc.code, f"The receiver answered {exc.code} {exc.reason}"
        except (urllib.error.URLError, OSError, ValueError) as exc:
            error = f"No answer: {getattr(exc, 'reason', exc)}"
    duration = int((time.monotonic() - started) * 1000)
    if code is not None and not 200 <= code < 300 and not error:
        error = f"The receiver answered {code}; only 2xx counts as delivered."
    WebhookAttempt.objects.create(
        delivery=delivery, number=delivery.attempts, status_code=code, error=error[:300], duration_ms=duration
    )
    if code is not None and 200 <= code < 300:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.SUCCEEDED, delivered_at=timezone.now()
        )
        return DeliveryStatus.SUCCEEDED, None
    delays = retry_delays()
    if delivery.attempts > len(delays) or not subscription.is_active:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED)
        return DeliveryStatus.FAILED, None
    delay = delays[delivery.attempts - 1]
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.PENDING, next_attempt_at=timezone.now() + timedelta(seconds=delay)
    )
    return DeliveryStatus.PENDING, delay


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
