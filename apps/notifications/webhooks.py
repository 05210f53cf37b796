"""Webhook subscriptions (administrators) and their signed deliveries, one attempt at a time.

Split from ``services`` (which announces events and queues these deliveries): subscribing,
changing and replacing a secret are governed, audited writes; ``webhook_deliver`` is what the
Celery task calls for one delivery (docs/webhooks.md).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.permissions import is_administrator
from apps.audit.actions import Action
from apps.audit.services import audit_record, changes_between
from apps.core.permissions import require
from apps.core.unset import UNSET, Unset, given
from apps.notifications import signing
from apps.notifications.addresses import address_refusal
from apps.notifications.choices import DeliveryStatus, Event
from apps.notifications.models import WebhookAttempt, WebhookDelivery, WebhookSubscription


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


def webhook_create(*, actor: User, url: str, events: Sequence[str], description: str = "") -> WebhookSubscription:
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
            action=Action.WEBHOOK_CREATED,
            target=subscription,
            data={"url": url, "events": events},
        )
    return subscription


def webhook_update(
    *,
    actor: User,
    subscription: WebhookSubscription,
    url: str | Unset = UNSET,
    events: Sequence[str] | Unset = UNSET,
    description: str | Unset = UNSET,
    is_active: bool | Unset = UNSET,
) -> WebhookSubscription:
    """Change a subscription's address, events, description or activity: those given (administrators).

    Side effects: ``notifications.webhook.updated`` with before/after. Raises PermissionDenied, ValidationError.
    """
    require(is_administrator(actor), "Only administrators manage webhooks.")
    fields = given(url=url, events=events, description=description, is_active=is_active)
    with transaction.atomic():
        subscription = WebhookSubscription.objects.select_for_update(no_key=True).get(pk=subscription.pk)
        before = {
            "url": subscription.url,
            "events": subscription.events,
            "description": subscription.description,
            "is_active": subscription.is_active,
        }
        new_url, new_events, new_description = _validate_subscription(
            fields.get("url", subscription.url),
            fields.get("events", subscription.events),
            fields.get("description", subscription.description),
            # A subscription saved before its network was disallowed can still be paused or described.
            check_address=fields.get("url", subscription.url) != subscription.url,
        )
        active = fields.get("is_active", subscription.is_active)
        if not isinstance(active, bool):
            raise ValidationError({"is_active": "Active is true or false."})
        after = {"url": new_url, "events": new_events, "description": new_description, "is_active": active}
        changes = changes_between(before, after)
        if changes:
            for name, value in after.items():
                setattr(subscription, name, value)
            subscription.save()
            audit_record(actor=actor, action=Action.WEBHOOK_UPDATED, target=subscription, changes=changes)
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
            action=Action.WEBHOOK_SECRET_REPLACED,
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
