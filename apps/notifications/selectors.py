"""Reads of notifications and webhooks, restricted to what the user may see."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from apps.notifications.models import Notification, WebhookDelivery, WebhookSubscription
from apps.notifications.permissions import can_manage_webhooks

if TYPE_CHECKING:
    from apps.core.types import Viewer


def notifications_for(user: Viewer) -> QuerySet[Notification]:
    """A person sees their own notifications and nobody else's."""
    if not user.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.filter(recipient=user).select_related("project")


def unread_count(user: Viewer) -> int:
    return notifications_for(user).filter(read_at__isnull=True).count()


def webhooks_visible_to(user: Viewer) -> QuerySet[WebhookSubscription]:
    if not can_manage_webhooks(user):
        return WebhookSubscription.objects.none()
    return WebhookSubscription.objects.select_related("created_by")


def deliveries_visible_to(user: Viewer) -> QuerySet[WebhookDelivery]:
    if not can_manage_webhooks(user):
        return WebhookDelivery.objects.none()
    return WebhookDelivery.objects.select_related("subscription").prefetch_related("attempt_log")
