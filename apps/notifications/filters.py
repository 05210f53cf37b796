"""The filters of the notification list, one FilterSet for its page and its API endpoint alike."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet

from apps.core.filters import ListFilterSet
from apps.notifications.models import Notification

UNREAD_INVALID = "Use unread=true for the unread ones, or false for all."


class NotificationFilter(ListFilterSet):
    unread = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        method="filter_unread",
        help_text="true for the notifications you have not read",
        error_messages={"invalid_choice": UNREAD_INVALID},
    )

    class Meta:
        model = Notification
        fields = ("unread",)

    def filter_unread(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(read_at__isnull=True) if value == "true" else queryset
