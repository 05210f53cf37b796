"""The filters of the registry's lists, one FilterSet per list for its page and its API endpoint alike."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet

from apps.core.filters import AnyFieldContains, ListFilterSet
from apps.registry.models import Dataset, RegisteredModel


class RegisteredModelFilter(ListFilterSet):
    project = django_filters.CharFilter(field_name="project__slug", help_text="slug of the model's project")
    task = django_filters.CharFilter(field_name="task")
    tag = django_filters.CharFilter(method="filter_tag", help_text="one tag, whatever its case")
    q = AnyFieldContains(fields=("name", "description"), help_text="text in the name or the description")

    class Meta:
        model = RegisteredModel
        fields = ("project", "task", "tag", "q")

    def filter_tag(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        # A semi-join on the tag's unique name and the link table's tag index: each model once, and a
        # COUNT or a keyset page needs no DISTINCT whatever else filters the list.
        tagged = RegisteredModel.tags.through.objects.filter(tag__name=value.lower()).values("registeredmodel_id")
        return queryset.filter(pk__in=tagged)


class DatasetFilter(ListFilterSet):
    project = django_filters.CharFilter(field_name="project__slug", help_text="slug of the dataset's project")
    q = AnyFieldContains(fields=("name", "description"), help_text="text in the name or the description")

    class Meta:
        model = Dataset
        fields = ("project", "q")
