"""Webhook signatures in the Standard Webhooks format, secrets made before it, and replacing a secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from apps.audit.models import AuditEvent
from apps.notifications import services, signing
from apps.notifications.models import WebhookSubscription
from tests.conftest import bearer, signed_in
from tests.workflows.conftest import Flow

BODY = json.dumps({"id": "e1", "event": "review.closed", "title": "pd-model v3: approved"}).encode()


def _signed(secret: str) -> dict[str, str]:
    return signing.headers(secret, message_id="e1", timestamp=int(time.time()), body=BODY)


def test_a_new_secret_is_a_standard_one_and_any_library_verifies_with_it() -> None:
    secret = signing.new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
    headers = _signed(secret)
    assert Webhook(secret).verify(BODY, headers) == json.loads(BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.new_secret()).verify(BODY, headers)
    stale = signing.headers(secret, message_id="e1", timestamp=int(time.time()) - 3600, body=BODY)
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(BODY, stale)


@pytest.mark.parametrize("seed", range(20))
def test_a_secret_made_before_the_standard_format_signs_with_its_url_safe_bytes(seed: int) -> None:
    legacy = f"whsec_{secrets.token_urlsafe(32)}"  # how subscriptions were given secrets before
    body = legacy.removeprefix("whsec_")
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    headers = _signed(legacy)
    # A receiver holding the raw key (every library takes bytes) verifies the standard signature ...
    assert Webhook(raw).verify(BODY, headers) == json.loads(BODY)
    # ... and one written for the earlier format checks the header it always checked.
    expected = hmac.new(legacy.encode(), headers["Signet-Timestamp"].encode() + b"." + BODY, hashlib.sha256)
    assert headers["Signet-Signature"] == "v1=" + expected.hexdigest()
    assert signing.legacy_verify(legacy, headers["Signet-Timestamp"], BODY, headers["Signet-Signature"])
    assert not signing.legacy_verify(legacy, "not a time", BODY, headers["Signet-Signature"])


@pytest.mark.django_db
def test_replacing_a_secret_is_for_administrators_audited_and_the_old_secret_stops_signing(flow: Flow) -> None:
    hook = services.webhook_create(
        actor=flow.administrator, url="https://hooks.example.test/in", events=["review.closed"]
    )
    old = hook.secret
    with pytest.raises(PermissionDenied):
        services.webhook_rotate_secret(actor=flow.compliance, subscription=hook)
    assert WebhookSubscription.objects.get().secret == old
    replaced = services.webhook_rotate_secret(actor=flow.administrator, subscription=hook)
    assert replaced.secret != old
    assert WebhookSubscription.objects.get().secret == replaced.secret
    event = AuditEvent.objects.get(action="notifications.webhook.secret_replaced")
    assert event.actor_id == flow.administrator.pk
    assert old not in str(event.data)
    assert replaced.secret not in str(event.data)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(BODY, _signed(replaced.secret))


@pytest.mark.django_db
def test_the_api_and_the_page_replace_a_secret_and_show_it_once(flow: Flow, token_for) -> None:
    hook = services.webhook_create(
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
    answered = api.post(f"/api/v1/webhooks/{hook.pk}/secret/")
    assert answered.status_code == 200
    assert answered["Cache-Control"] == "no-store"
    secret = WebhookSubscription.objects.get().secret
    assert answered.json()["secret"] == secret != hook.secret
    assert secret not in api.get(f"/api/v1/webhooks/{hook.pk}/").content.decode()

    page = signed_in(flow.administrator)
    shown = page.post(f"/notifications/webhooks/{hook.pk}/", {"action": "replace-secret"}, follow=True)
    newest = WebhookSubscription.objects.get().secret
    assert newest != secret
    assert newest in shown.content.decode()
    assert newest not in page.get(f"/notifications/webhooks/{hook.pk}/").content.decode()
    assert AuditEvent.objects.filter(action="notifications.webhook.secret_replaced").count() == 2
