"""Webhook receivers on internal addresses are refused when a subscription is saved, not only at delivery."""

from __future__ import annotations

import html

import pytest
from django.test import Client

from apps.audit.models import AuditEvent
from apps.notifications import webhooks
from apps.notifications.addresses import address_refusal
from apps.notifications.models import WebhookSubscription
from tests.conftest import bearer, signed_in
from tests.factories import make_user

pytestmark = pytest.mark.django_db

INTERNAL = [
    ("http://169.254.169.254/latest/meta-data/", "link-local"),  # the cloud metadata service
    ("http://[::1]/", "loopback"),
    ("http://localhost/", "loopback"),
    ("http://localhost./hook", "loopback"),
    ("http://signet.localhost:8000/", "loopback"),
    ("http://0x7f000001/", "loopback"),  # 127.0.0.1 written as one hexadecimal number
    ("http://2130706433/", "loopback"),  # and as one decimal number
    ("http://127.1/", "loopback"),  # and with the zeros left out
    ("http://[::ffff:127.0.0.1]/", "loopback"),  # IPv4-mapped IPv6
    ("http://[::ffff:7f00:1]/", "loopback"),  # the same, in hexadecimal
    ("http://[::ffff:169.254.169.254]/", "link-local"),
    ("http://[64:ff9b::7f00:1]/", "loopback"),  # NAT64 of 127.0.0.1
    ("http://[2002:7f00:1::]/", "loopback"),  # 6to4 of 127.0.0.1
    ("http://0.0.0.0:8080/", "unspecified"),
    ("http://10.1.2.3/", "private"),
    ("https://192.168.0.10:8443/hook", "private"),
    ("http://172.16.0.1/", "private"),
    ("http://[fc00::1]/", "private"),
    ("http://[fe80::1]/", "link-local"),
    ("http://224.0.0.251/", "multicast"),
    ("http://[ff02::1]/", "multicast"),
    ("http://240.0.0.1/", "reserved"),
    ("http://100.64.0.1/", "not public"),  # carrier-grade NAT, shared address space
]


@pytest.fixture
def admin_token(token_for) -> dict[str, str]:
    return bearer(token_for(make_user("adam", superuser=True)))


@pytest.mark.parametrize(("url", "kind"), INTERNAL)
def test_an_internal_receiver_is_refused_by_the_api_with_a_reason(
    admin_token: dict[str, str], url: str, kind: str
) -> None:
    response = Client().post(
        "/api/v1/webhooks/",
        {"url": url, "events": ["review.closed"]},
        content_type="application/json",
        headers=admin_token,
    )
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert f"({kind})" in error["details"]["url"][0]
    assert "internal address" in error["message"]
    assert "WEBHOOK_ALLOWED_NETWORKS" in error["message"]
    assert not WebhookSubscription.objects.exists()
    assert not AuditEvent.objects.filter(action="notifications.webhook.created").exists()


@pytest.mark.parametrize("url", ["http://169.254.169.254/", "http://[::1]/", "http://127.1/"])
def test_an_internal_receiver_is_refused_by_the_page_with_a_reason(url: str) -> None:
    client = signed_in(make_user("adam", superuser=True))
    response = client.post("/notifications/webhooks/", {"url": url, "events": ["review.closed"]})
    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    assert "is the internal address" in page
    assert not WebhookSubscription.objects.exists()


def test_changing_a_subscription_to_an_internal_address_is_refused_and_changes_nothing(
    admin_token: dict[str, str],
) -> None:
    hook = webhooks.webhook_create(
        actor=make_user("ada", superuser=True), url="https://8.8.8.8/in", events=["review.closed"]
    )
    response = Client().patch(
        f"/api/v1/webhooks/{hook.pk}/",
        {"url": "http://[::ffff:a9fe:a9fe]/"},
        content_type="application/json",
        headers=admin_token,
    )
    assert response.status_code == 400, response.content
    assert "169.254.169.254 (link-local)" in response.json()["error"]["details"]["url"][0]
    hook.refresh_from_db()
    assert hook.url == "https://8.8.8.8/in"
    assert not AuditEvent.objects.filter(action="notifications.webhook.updated").exists()


def test_an_allowed_internal_network_can_be_subscribed(admin_token: dict[str, str], settings) -> None:
    settings.SIGNET_WEBHOOK_ALLOWED_NETWORKS = ["10.20.0.0/16", "127.0.0.0/8"]
    for url in ("http://10.20.30.40:9000/hook", "http://localhost:8080/", "http://[::ffff:10.20.0.1]/"):
        response = Client().post(
            "/api/v1/webhooks/",
            {"url": url, "events": ["review.closed"]},
            content_type="application/json",
            headers=admin_token,
        )
        assert response.status_code == 201, (url, response.content)
    refused = Client().post(
        "/api/v1/webhooks/",
        {"url": "http://10.21.0.1/", "events": ["review.closed"]},
        content_type="application/json",
        headers=admin_token,
    )
    assert refused.status_code == 400
    assert WebhookSubscription.objects.count() == 3


def test_a_subscription_whose_network_was_disallowed_since_can_still_be_paused(settings) -> None:
    settings.SIGNET_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    admin = make_user("adam", superuser=True)
    hook = webhooks.webhook_create(actor=admin, url="http://127.0.0.1:9000/hook", events=["review.closed"])
    settings.SIGNET_WEBHOOK_ALLOWED_NETWORKS = []
    webhooks.webhook_update(actor=admin, subscription=hook, is_active=False, description="moved away")
    hook.refresh_from_db()
    assert (hook.is_active, hook.description) == (False, "moved away")


def test_public_addresses_and_names_not_yet_in_dns_are_accepted_when_saved() -> None:
    admin = make_user("adam", superuser=True)
    for url in ("https://8.8.8.8/in", "https://[2001:4860:4860::8888]/in", "https://hooks.example.test/in"):
        webhooks.webhook_create(actor=admin, url=url, events=["review.closed"])
    assert WebhookSubscription.objects.count() == 3
    # A delivery checks again, and a name that does not resolve then is no receiver.
    refusal = address_refusal("https://hooks.example.test/in")
    assert refusal is not None
    assert refusal.startswith("No answer: the name hooks.example.test does not resolve")


@pytest.mark.parametrize("url", ["http://224.0.0.251/", "http://[::ffff:10.0.0.1]/", "http://[64:ff9b::a00:1]/"])
def test_a_delivery_to_an_internal_address_is_refused_however_it_is_written(url: str) -> None:
    refusal = address_refusal(url)
    assert refusal is not None
    assert refusal.startswith("Refused: ")
