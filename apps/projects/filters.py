"""The filters of the project list, one FilterSet for its page and its API endpoint alike."""

from __future__ import annotations

import django_filters

from apps.core.filters import ListFilterSet
from apps.projects.models import Project


class ProjectFilter(ListFilterSet):
    status = django_filters.CharFilter(field_name="status")
    tier = django_filters.CharFilter(field_name="risk_tier")
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", help_text="text in the name")

    class Meta:
        model = Project
        fields = ("status", "tier", "q")
