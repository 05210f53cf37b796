"""The notification and webhook lists: one FilterSet for page and API, and pinned numbers of queries."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from apps.notifications import webhooks
from apps.notifications.choices import Event
from apps.notifications.models import Notification, WebhookDelivery
from tests.conftest import bearer
from tests.factories import TeamFunction, make_user

pytestmark = pytest.mark.django_db


def _inbox(rows: int, token_for) -> Client:
    reader = make_user("rita", TeamFunction.RISK_VALIDATION)
    for i in range(rows):
        Notification.objects.create(
            recipient=reader,
            event=Event.values[0],
            title=f"Notice {i}",
            url="/",
            read_at=timezone.now() if i % 2 else None,
        )
    client = Client(headers=bearer(token_for(reader)))
    client.force_login(reader)
    return client


# Queries of one request, with 1 and with 10 notifications.
PINNED = {"/notifications/": 6, "/api/v1/notifications/": 4}  # the page 8 until a request read its teams once


@pytest.mark.parametrize("rows", [1, 10])
@pytest.mark.parametrize("url", PINNED)
def test_the_notification_list_queries_are_pinned(url: str, rows: int, token_for, django_assert_num_queries) -> None:
    client = _inbox(rows, token_for)
    client.get(url)  # warm up: the first request of a session stores its timestamps
    with django_assert_num_queries(PINNED[url]):
        response = client.get(url)
    assert response.status_code == 200
    assert f"Notice {rows - 1}".encode() in response.content


@pytest.mark.parametrize(("unread", "shown"), [("true", {"Notice 0", "Notice 2"}), ("false", None), ("", None)])
def test_the_page_and_the_endpoint_read_unread_alike(unread: str, shown: set[str] | None, token_for) -> None:
    client = _inbox(4, token_for)
    everything = {f"Notice {i}" for i in range(4)}
    expected = everything if shown is None else shown
    api = {row["title"] for row in client.get(f"/api/v1/notifications/?unread={unread}").json()["results"]}
    assert api == expected
    page = client.get(f"/notifications/?unread={unread}").content.decode()
    assert {title for title in everything if title in page} == expected


def test_an_unknown_unread_value_is_a_400_from_the_api_and_ignored_by_the_page(token_for) -> None:
    client = _inbox(2, token_for)
    response = client.get("/api/v1/notifications/?unread=maybe")
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"unread": ["Use unread=true for the unread ones, or false for all."]}
    assert client.get("/notifications/?unread=maybe").status_code == 200


WEBHOOK_PINNED = {"/notifications/webhooks/": 4, "/api/v1/webhooks/": 4, "deliveries page": 7, "deliveries api": 6}


@pytest.mark.parametrize("rows", [1, 10])
@pytest.mark.parametrize("which", WEBHOOK_PINNED)
def test_the_webhook_lists_queries_are_pinned(which: str, rows: int, token_for, django_assert_num_queries) -> None:
    admin = make_user("ada", superuser=True)
    hooks = [
        webhooks.webhook_create(actor=admin, url=f"https://h{i}.example.test/in", events=["review.closed"])
        for i in range(rows)
    ]
    for i in range(rows):
        WebhookDelivery.objects.create(subscription=hooks[0], event="review.closed", payload={"title": f"Sent {i}"})
    url = {
        "deliveries page": f"/notifications/webhooks/{hooks[0].pk}/",
        "deliveries api": f"/api/v1/webhooks/{hooks[0].pk}/deliveries/",
    }.get(which, which)
    client = Client(headers=bearer(token_for(admin)))
    client.force_login(admin)
    client.get(url)  # warm up: the first request of a session stores its timestamps
    with django_assert_num_queries(WEBHOOK_PINNED[which]):
        response = client.get(url)
    assert response.status_code == 200
