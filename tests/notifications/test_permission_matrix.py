"""Every notifications operation, API and page, for every persona, from one table.

Each person reads and marks read only their own notifications (someone else's is not found);
webhook subscriptions carry every event of the organisation, so only administrators see and
manage them: the API's lists and actions refuse others with 403, a subscription by id is not found.
"""

from __future__ import annotations

import pytest
from django.test import Client

from apps.notifications import services
from apps.notifications.choices import Event
from apps.notifications.models import Notification, WebhookSubscription
from tests.conftest import PERSONAS, Org, bearer
from tests.matrix import Op, built_once_per_module, cases, check_case, parse_table, tokens_for

TABLE = parse_table(
    """
    operation              owner biz  dev  val  ops  comp aud  admin out  anon
    api.notifications      200   200  200  200  200  200  200  200   200  401
    api.unread             200   200  200  200  200  200  200  200   200  401
    api.read_all           200   200  200  200  200  200  200  200   200  401
    api.read_one           200x  200x 200  200x 200x 200x 200x 200x  200x 401
    api.webhooks           403   403  403  403  403  403  403  200   403  401
    api.webhook_create     403   403  403  403  403  403  403  201   403  401
    api.webhook            404   404  404  404  404  404  404  200   404  401
    api.webhook_update     404   404  404  404  404  404  404  200   404  401
    api.webhook_secret     403   403  403  403  403  403  403  200   403  401
    api.webhook_deliveries 404   404  404  404  404  404  404  200   404  401
    page.notifications     200   200  200  200  200  200  200  200   200  302x
    page.read_all          302   302  302  302  302  302  302  302   302  302x
    page.read_one          404   404  302  404  404  404  404  404   404  302x
    page.webhooks          403   403  403  403  403  403  403  200   403  302x
    page.webhook_create    403   403  403  403  403  403  403  302   403  302x
    page.webhook           403   403  403  403  403  403  403  200   403  302x
    page.webhook_pause     403   403  403  403  403  403  403  302   403  302x
    page.webhook_secret    403   403  403  403  403  403  403  302   403  302x
    """
)

HOOK = {"url": "https://hooks.example.test/signet", "events": ["review.closed"], "description": "SIEM"}


class Notifications(Org):
    def __init__(self) -> None:
        super().__init__()
        self.notes = {
            name: services.announce(
                event=Event.REVIEW_WAITING, title=f"A review waits for {name}", recipients=[self.persona(name)]
            )[0]
            for name in PERSONAS
        }
        self.tokens = tokens_for(self)
        created = Client(headers=bearer(self.tokens["administrator"])).post(
            "/api/v1/webhooks/", HOOK, content_type="application/json"
        )
        assert created.status_code == 201, created.content
        self.hook = WebhookSubscription.objects.get(pk=created.json()["id"])


def _unread(ctx: Notifications) -> int:
    return Notification.objects.filter(read_at__isnull=True).count()


def _developer_note(ctx: Notifications) -> object:
    return Notification.objects.get(pk=ctx.notes["developer"].pk).read_at


def _hook(ctx: Notifications) -> tuple[object, ...]:
    hook = WebhookSubscription.objects.get(pk=ctx.hook.pk)
    return hook.secret, hook.description, hook.is_active


def _hooks(ctx: Notifications) -> int:
    return WebhookSubscription.objects.count()


OPS: dict[str, Op] = {
    "api.notifications": Op("get", lambda c: "/api/v1/notifications/"),
    "api.unread": Op("get", lambda c: "/api/v1/notifications/", lambda c: {"unread": "true"}),
    "api.read_all": Op("post", lambda c: "/api/v1/notifications/read/", lambda c: {"all": True}, _unread),
    "api.read_one": Op(
        "post", lambda c: "/api/v1/notifications/read/", lambda c: {"ids": [c.notes["developer"].pk]}, _developer_note
    ),
    "api.webhooks": Op("get", lambda c: "/api/v1/webhooks/"),
    "api.webhook_create": Op(
        "post", lambda c: "/api/v1/webhooks/", lambda c: {**HOOK, "description": "Second"}, _hooks
    ),
    "api.webhook": Op("get", lambda c: f"/api/v1/webhooks/{c.hook.pk}/"),
    "api.webhook_update": Op(
        "patch", lambda c: f"/api/v1/webhooks/{c.hook.pk}/", lambda c: {"description": "Renamed"}, _hook
    ),
    "api.webhook_secret": Op(
        "post", lambda c: f"/api/v1/webhooks/{c.hook.pk}/secret/", lambda c: {"keep_previous_hours": 24}, _hook
    ),
    "api.webhook_deliveries": Op("get", lambda c: f"/api/v1/webhooks/{c.hook.pk}/deliveries/"),
    "page.notifications": Op("get", lambda c: "/notifications/"),
    "page.read_all": Op("post", lambda c: "/notifications/read/", lambda c: {"id": "all"}, _unread),
    "page.read_one": Op(
        "post", lambda c: "/notifications/read/", lambda c: {"id": c.notes["developer"].pk}, _developer_note
    ),
    "page.webhooks": Op("get", lambda c: "/notifications/webhooks/"),
    "page.webhook_create": Op(
        "post", lambda c: "/notifications/webhooks/", lambda c: {**HOOK, "description": "Second"}, _hooks
    ),
    "page.webhook": Op("get", lambda c: f"/notifications/webhooks/{c.hook.pk}/"),
    "page.webhook_pause": Op(
        "post", lambda c: f"/notifications/webhooks/{c.hook.pk}/", lambda c: {"is_active": "false"}, _hook
    ),
    "page.webhook_secret": Op(
        "post", lambda c: f"/notifications/webhooks/{c.hook.pk}/", lambda c: {"action": "replace-secret"}, _hook
    ),
}

notifications = built_once_per_module(Notifications)


@pytest.fixture
def ctx(notifications: Notifications, db: None) -> Notifications:
    return notifications


@pytest.mark.parametrize(("operation", "persona"), cases(TABLE, OPS))
def test_each_persona_gets_what_the_table_says(ctx: Notifications, operation: str, persona: str) -> None:
    check_case(ctx, OPS, TABLE, operation, persona)
