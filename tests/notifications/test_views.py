"""The notification list, its API, and the administrators' webhook pages and API."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.notifications import webhooks
from apps.notifications.models import Notification, WebhookAttempt, WebhookDelivery, WebhookSubscription
from tests.conftest import bearer, signed_in
from tests.workflows.conftest import Flow


def test_the_notification_page_lists_my_notifications_and_opening_one_marks_it_read(flow: Flow) -> None:
    review = flow.submit()
    client = signed_in(flow.validator)
    home = client.get("/").content.decode()
    assert 'id="unread-count"' in home
    page = client.get("/notifications/").content.decode()
    assert "pd-model v1 waits for your independent validation" in page
    mine = Notification.objects.get(recipient=flow.validator)
    response = client.post("/notifications/read/", {"id": mine.pk})
    assert response.status_code == 302
    assert response["Location"] == f"/workflows/reviews/{review.pk}/"
    mine.refresh_from_db()
    assert mine.read_at is not None
    assert 'id="unread-count"' not in client.get("/").content.decode()


def test_nobody_opens_or_marks_anybody_elses_notification(flow: Flow) -> None:
    flow.submit()
    theirs = Notification.objects.get(recipient=flow.validator2)
    client = signed_in(flow.validator)
    assert client.post("/notifications/read/", {"id": theirs.pk}).status_code == 404
    for hostile in ("1 OR 1=1", "²", "9" * 30, "-1", ""):  # "²".isdigit() is true; int("²") fails
        assert client.post("/notifications/read/", {"id": hostile}).status_code == 404
    assert "val2" not in client.get("/notifications/").content.decode()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read_on_the_page_and_through_the_api(flow: Flow, token_for) -> None:
    flow.submit()
    api = Client(headers=bearer(token_for(flow.validator)))
    listed = api.get("/api/v1/notifications/?unread=true").json()["results"]
    assert [n["event"] for n in listed] == ["review.waiting"]
    assert api.post("/api/v1/notifications/read/", {}, content_type="application/json").status_code == 400
    for ids in (["x"], [2**63], ["²"], [0]):  # 2**63 in an IN list overflows SQLite's driver
        bad = api.post("/api/v1/notifications/read/", {"ids": ids}, content_type="application/json")
        assert bad.status_code == 400, ids
    largest = api.post("/api/v1/notifications/read/", {"ids": [2**63 - 1]}, content_type="application/json")
    assert largest.json() == {"marked": 0}
    assert api.post("/api/v1/notifications/read/", {"all": True}, content_type="application/json").json() == {
        "marked": 1
    }
    assert api.get("/api/v1/notifications/?unread=true").json()["results"] == []
    assert len(api.get("/api/v1/notifications/").json()["results"]) == 1
    signed_in(flow.validator2).post("/notifications/read/", {"id": "all"})
    assert not Notification.objects.filter(read_at__isnull=True).exists()


@pytest.mark.parametrize("who", ["owner", "developer", "validator", "compliance", "auditor", "outsider"])
def test_only_administrators_see_the_webhook_pages_and_api(flow: Flow, token_for, who: str) -> None:
    person = flow.persona(who)
    client = signed_in(person)
    assert client.get("/notifications/webhooks/").status_code == 403
    assert (
        client.post(
            "/notifications/webhooks/", {"url": "https://x.example.test/", "events": ["review.closed"]}
        ).status_code
        == 403
    )
    api = Client(headers=bearer(token_for(person)))
    assert api.get("/api/v1/webhooks/").status_code == 403
    created = api.post(
        "/api/v1/webhooks/",
        {"url": "https://x.example.test/", "events": ["review.closed"]},
        content_type="application/json",
    )
    assert created.status_code == 403
    assert not WebhookSubscription.objects.exists()
    hook = webhooks.webhook_create(actor=flow.administrator, url="https://x.example.test/", events=["review.closed"])
    assert api.get(f"/api/v1/webhooks/{hook.pk}/").status_code == 404
    assert (
        api.patch(f"/api/v1/webhooks/{hook.pk}/", {"is_active": False}, content_type="application/json").status_code
        == 404
    )
    assert api.get(f"/api/v1/webhooks/{hook.pk}/deliveries/").status_code == 404
    assert client.get(f"/notifications/webhooks/{hook.pk}/").status_code == 403


def test_an_administrator_subscribes_through_the_api_and_sees_the_secret_once(flow: Flow, token_for) -> None:
    api = Client(headers=bearer(token_for(flow.administrator)))
    created = api.post(
        "/api/v1/webhooks/",
        {
            "url": "https://hooks.example.test/signet",
            "events": ["review.closed", "finding.assigned"],
            "description": "SIEM",
        },
        content_type="application/json",
    )
    assert created.status_code == 201
    body = created.json()
    hook = WebhookSubscription.objects.get()
    assert body["secret"] == hook.secret
    listed = api.get("/api/v1/webhooks/").json()["results"]
    assert "secret" not in listed[0]
    assert listed[0]["secret_hint"] == hook.secret[:10] + "…"
    assert hook.secret not in api.get(f"/api/v1/webhooks/{hook.pk}/").content.decode()
    paused = api.patch(f"/api/v1/webhooks/{hook.pk}/", {"is_active": False}, content_type="application/json")
    assert paused.status_code == 200
    assert paused.json()["is_active"] is False


@pytest.mark.parametrize(
    "payload",
    [
        {"url": "not a url", "events": ["review.closed"]},
        {"url": "https://hooks.example.test/", "events": ["nope"]},
        {"url": "https://hooks.example.test/", "events": []},
        {"url": "https://hooks.example.test/", "events": "review.closed"},
        {"url": "gopher://hooks.example.test/", "events": ["review.closed"]},
        {"url": "https://hooks.example.test/\x00", "events": ["review.closed"]},
        {"events": ["review.closed"]},
    ],
)
def test_a_bad_subscription_through_the_api_is_a_400_with_details(flow: Flow, token_for, payload) -> None:
    api = Client(headers=bearer(token_for(flow.administrator)))
    response = api.post("/api/v1/webhooks/", payload, content_type="application/json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["details"]
    assert error["message"]
    assert not WebhookSubscription.objects.exists()


def test_the_webhook_pages_create_pause_and_show_the_delivery_log(flow: Flow) -> None:
    client = signed_in(flow.administrator)
    bad = client.post("/notifications/webhooks/", {"url": "ftp://x.example.test/", "events": ["review.closed"]})
    assert bad.status_code == 400
    assert "http:// or https://" in bad.content.decode()
    response = client.post(
        "/notifications/webhooks/", {"url": "https://x.example.test/in", "events": ["review.closed"]}, follow=True
    )
    hook = WebhookSubscription.objects.get()
    assert hook.secret in response.content.decode()  # shown once, right after subscribing
    assert hook.secret not in client.get(f"/notifications/webhooks/{hook.pk}/").content.decode()
    delivery = WebhookDelivery.objects.create(
        subscription=hook, event="review.closed", payload={"title": "pd-model v1: approved"}
    )
    WebhookAttempt.objects.create(
        delivery=delivery, number=1, status_code=502, error="The receiver answered 502 Bad Gateway"
    )
    log = client.get(f"/notifications/webhooks/{hook.pk}/").content.decode()
    assert "HTTP 502" in log
    assert "pd-model v1: approved" in log
    client.post(f"/notifications/webhooks/{hook.pk}/", {"is_active": "false"})
    hook.refresh_from_db()
    assert hook.is_active is False
    assert client.post(f"/notifications/webhooks/{hook.pk}/", {"is_active": "maybe"}).status_code == 302
    hook.refresh_from_db()
    assert hook.is_active is False


def test_a_finding_on_the_whole_model_leads_its_owner_to_the_model_page_that_shows_it(flow: Flow) -> None:
    from apps.workflows import services as workflows

    finding = workflows.finding_raise(
        actor=flow.validator, model=flow.model, version=None, owner=flow.developer,
        kind="model_limitation", severity="medium", title="Unfit for small business loans",
    )  # fmt: skip
    note = Notification.objects.get(recipient=flow.developer, event="finding.assigned")
    assert note.url == f"/registry/models/{flow.model.pk}/#finding-{finding.pk}"
    client = signed_in(flow.developer)
    response = client.post("/notifications/read/", {"id": note.pk})
    assert response["Location"] == note.url
    page = client.get(f"/registry/models/{flow.model.pk}/").content.decode()
    assert f'id="finding-{finding.pk}"' in page
    assert "Unfit for small business loans" in page
