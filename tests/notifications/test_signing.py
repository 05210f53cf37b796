"""Webhook signatures in the Standard Webhooks format, secrets made before it, and replacing a secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from apps.audit.models import AuditEvent
from apps.notifications import signing, webhooks
from apps.notifications.models import WebhookSubscription
from tests.conftest import bearer, signed_in
from tests.notifications import standard_webhooks as spec
from tests.workflows.conftest import Flow

BODY = json.dumps({"id": "e1", "event": "review.closed", "title": "pd-model v3: approved"}).encode()


def _signed(secret: str) -> dict[str, str]:
    return signing.headers(secret, message_id="e1", timestamp=int(time.time()), body=BODY)


def test_the_signature_is_the_specifications_own_on_its_worked_example() -> None:
    headers = signing.headers(
        spec.EXAMPLE_SECRET, message_id=spec.EXAMPLE_ID, timestamp=spec.EXAMPLE_TIMESTAMP, body=spec.EXAMPLE_BODY
    )
    assert headers["webhook-id"] == spec.EXAMPLE_ID
    assert headers["webhook-timestamp"] == str(spec.EXAMPLE_TIMESTAMP)
    assert headers["webhook-signature"] == spec.EXAMPLE_SIGNATURE
    # The receiver written from the spec computes the same value, so it is a fair judge below.
    assert spec.signature(spec.EXAMPLE_SECRET, spec.EXAMPLE_ID, spec.EXAMPLE_TIMESTAMP, spec.EXAMPLE_BODY) == (
        spec.EXAMPLE_SIGNATURE
    )
    assert spec.verify(spec.EXAMPLE_SECRET, headers, spec.EXAMPLE_BODY, now=spec.EXAMPLE_TIMESTAMP + 60)


def test_a_new_secret_is_a_standard_one_and_any_library_verifies_with_it() -> None:
    secret = signing.new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
    headers = _signed(secret)
    assert Webhook(secret).verify(BODY, headers) == json.loads(BODY)
    assert headers["webhook-signature"] == spec.signature(secret, "e1", headers["webhook-timestamp"], BODY)
    assert spec.verify(secret, headers, BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.new_secret()).verify(BODY, headers)
    assert not spec.verify(signing.new_secret(), headers, BODY)
    assert not spec.verify(secret, headers, BODY + b" ")
    assert not spec.verify(secret, {**headers, "webhook-id": "e2"}, BODY)
    stale = signing.headers(secret, message_id="e1", timestamp=int(time.time()) - 3600, body=BODY)
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(BODY, stale)
    assert not spec.verify(secret, stale, BODY)


@pytest.mark.parametrize("seed", range(20))
def test_a_secret_made_before_the_standard_format_signs_with_its_url_safe_bytes(seed: int) -> None:
    legacy = f"whsec_{secrets.token_urlsafe(32)}"  # how subscriptions were given secrets before
    body = legacy.removeprefix("whsec_")
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    headers = _signed(legacy)
    # A receiver holding the raw key (every library takes bytes) verifies the standard signature ...
    assert Webhook(raw).verify(BODY, headers) == json.loads(BODY)
    assert spec.verify(raw, headers, BODY)
    # ... and one written for the earlier format checks the header it always checked.
    expected = hmac.new(legacy.encode(), headers["Signet-Timestamp"].encode() + b"." + BODY, hashlib.sha256)
    assert headers["Signet-Signature"] == "v1=" + expected.hexdigest()
    assert signing.legacy_verify(legacy, headers["Signet-Timestamp"], BODY, headers["Signet-Signature"])
    assert not signing.legacy_verify(legacy, "not a time", BODY, headers["Signet-Signature"])


@pytest.mark.django_db
def test_replacing_a_secret_keeps_the_old_one_signing_for_a_while_then_only_the_new_one(flow: Flow) -> None:
    hook = webhooks.webhook_create(
        actor=flow.administrator, url="https://hooks.example.test/in", events=["review.closed"]
    )
    old = hook.secret
    with pytest.raises(PermissionDenied):
        webhooks.webhook_rotate_secret(actor=flow.compliance, subscription=hook)
    assert WebhookSubscription.objects.get().secret == old
    replaced = webhooks.webhook_rotate_secret(actor=flow.administrator, subscription=hook)
    assert replaced.secret != old
    assert WebhookSubscription.objects.get().secret == replaced.secret
    event = AuditEvent.objects.get(action="notifications.webhook.secret_replaced")
    assert event.actor_id == flow.administrator.pk
    assert old not in str(event.data)
    assert replaced.secret not in str(event.data)

    now = timezone.now()
    previous = replaced.previous_secret_in_use(now)
    assert previous == old
    assert replaced.previous_secret_in_use(now + timedelta(hours=23, minutes=59)) == old
    assert replaced.previous_secret_in_use(now + timedelta(hours=24, minutes=1)) is None
    during = signing.headers(replaced.secret, previous=previous, message_id="e1", timestamp=int(time.time()), body=BODY)
    assert len(during["webhook-signature"].split(" ")) == 2
    # Receivers on either secret verify while both sign; the legacy header stays on the old one.
    assert Webhook(replaced.secret).verify(BODY, during) == json.loads(BODY)
    assert Webhook(old).verify(BODY, during) == json.loads(BODY)
    assert during["webhook-signature"].split(" ") == [
        spec.signature(replaced.secret, "e1", during["webhook-timestamp"], BODY),
        spec.signature(old, "e1", during["webhook-timestamp"], BODY),
    ]
    assert spec.verify(replaced.secret, during, BODY)
    assert spec.verify(old, during, BODY)
    assert signing.legacy_verify(old, during["Signet-Timestamp"], BODY, during["Signet-Signature"])
    after = _signed(replaced.secret)
    assert Webhook(replaced.secret).verify(BODY, after) == json.loads(BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(BODY, after)
    assert spec.verify(replaced.secret, after, BODY)
    assert not spec.verify(old, after, BODY)


@pytest.mark.django_db
def test_a_leaked_secret_stops_at_once_and_bad_hours_are_refused(flow: Flow) -> None:
    hook = webhooks.webhook_create(
        actor=flow.administrator, url="https://hooks.example.test/in", events=["review.closed"]
    )
    hostile: list[Any] = [-1, 169, True, "24", 1.5]
    for hours in hostile:
        with pytest.raises(ValidationError, match="from 0 to 168 hours"):
            webhooks.webhook_rotate_secret(actor=flow.administrator, subscription=hook, keep_previous_hours=hours)
    assert WebhookSubscription.objects.get().secret == hook.secret
    leaked = webhooks.webhook_rotate_secret(actor=flow.administrator, subscription=hook, keep_previous_hours=0)
    assert leaked.previous_secret_in_use(timezone.now()) is None
    assert (leaked.previous_secret, leaked.previous_secret_until) == ("", None)
    event = AuditEvent.objects.get(action="notifications.webhook.secret_replaced")
    assert event.data == {"previous_secret_until": None}


@pytest.mark.django_db
def test_the_api_and_the_page_replace_a_secret_and_show_it_once(flow: Flow, token_for) -> None:
    hook = webhooks.webhook_create(
        actor=flow.administrator, url="https://hooks.example.test/in", events=["review.closed"]
    )
    refused = Client(headers=bearer(token_for(flow.compliance))).post(f"/api/v1/webhooks/{hook.pk}/secret/")
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == "Only administrators manage webhooks."
    api = Client(headers=bearer(token_for(flow.administrator)))
    assert api.post("/api/v1/webhooks/999999/secret/").status_code == 404
    assert Client().post(f"/api/v1/webhooks/{hook.pk}/secret/").status_code == 401
    assert api.get(f"/api/v1/webhooks/{hook.pk}/secret/").status_code == 405
    assert WebhookSubscription.objects.get().secret == hook.secret  # refused calls changed nothing
    answered = api.post(f"/api/v1/webhooks/{hook.pk}/secret/", content_type="application/json")  # no body: 24 h
    assert answered.status_code == 200
    assert answered["Cache-Control"] == "no-store"
    secret = WebhookSubscription.objects.get().secret
    assert answered.json()["secret"] == secret != hook.secret
    assert WebhookSubscription.objects.get().previous_secret_in_use(timezone.now()) == hook.secret
    assert secret not in api.get(f"/api/v1/webhooks/{hook.pk}/").content.decode()

    for hours in (-1, 1000, "24", None):
        bad = api.post(
            f"/api/v1/webhooks/{hook.pk}/secret/", {"keep_previous_hours": hours}, content_type="application/json"
        )
        assert bad.status_code == 400, hours
        assert "keep_previous_hours" in bad.json()["error"]["details"]
    assert WebhookSubscription.objects.get().secret == secret

    page = signed_in(flow.administrator)
    shown = page.post(f"/notifications/webhooks/{hook.pk}/", {"action": "replace-secret", "leaked": "on"}, follow=True)
    replaced = WebhookSubscription.objects.get()
    assert replaced.secret != secret
    assert replaced.previous_secret_in_use(timezone.now()) is None  # "it leaked": the old one stops now
    assert "the old one no longer signs" in shown.content.decode()
    newest = replaced.secret
    assert newest in shown.content.decode()
    assert newest not in page.get(f"/notifications/webhooks/{hook.pk}/").content.decode()
    assert AuditEvent.objects.filter(action="notifications.webhook.secret_replaced").count() == 2
