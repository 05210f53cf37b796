"""The audit trail's filters: one FilterSet for the auditor's page, the exports and the API.

Its form is ``AuditFilterForm``, whose rules (times in UTC, "until" after "from") every reader shares;
a value the form refuses is a 400, never a filter silently dropped.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet

from apps.audit.forms import AuditFilterForm
from apps.audit.models import AuditEvent


class AuditEventFilter(django_filters.FilterSet):
    since = django_filters.DateTimeFilter(
        field_name="occurred_at", lookup_expr="gte", label="From", help_text="UTC, for example 2026-11-01 08:00"
    )
    until = django_filters.DateTimeFilter(field_name="occurred_at", lookup_expr="lte", label="Until")
    actor = django_filters.CharFilter(field_name="actor_name", max_length=150, label="Actor (username)")
    action = django_filters.CharFilter(
        method="filter_action",
        max_length=100,
        label="Action",
        help_text="Exact, or a prefix ending in a dot: accounts.",
    )
    target_type = django_filters.CharFilter(max_length=100, label="Object type", help_text="accounts.user")
    target_id = django_filters.CharFilter(max_length=64, label="Object id")
    project = django_filters.CharFilter(field_name="project_slug", max_length=100, label="Project (slug)")
    request_id = django_filters.CharFilter(max_length=64, label="Request id")

    class Meta:
        model = AuditEvent
        form = AuditFilterForm
        fields = ("since", "until", "actor", "action", "target_type", "target_id", "project", "request_id")

    def filter_action(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(action__startswith=value) if value.endswith(".") else queryset.filter(action=value)

    @classmethod
    def apply(cls, queryset: QuerySet[AuditEvent], cleaned: dict[str, Any]) -> QuerySet[AuditEvent]:
        """Filter ``queryset`` by values the form has already cleaned (the export service gets those)."""
        filterset = cls(queryset=queryset)
        events = filterset.queryset
        for name, value in cleaned.items():
            if name in filterset.filters:
                events = filterset.filters[name].filter(events, value)
        return events
