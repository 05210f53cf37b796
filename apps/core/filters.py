"""The base of every list's FilterSet (django-filter), shared by the list's page and its API endpoint."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from drf_spectacular.utils import OpenApiParameter

MAX_FILTER_CHARS = 100  # longer text finds nothing better and only costs the database more


class ListFilterSet(django_filters.FilterSet):
    """Read a list's filters the same way for the page and the API: trimmed text of bounded length.

    Only the declared filters are read, and an empty one filters nothing. ``params`` holds what was
    read, for a page to show in its form.
    """

    def __init__(self, data: Mapping[str, Any] | None = None, *args: Any, **kwargs: Any) -> None:
        self.params = self.read(data)
        super().__init__(self.params, *args, **kwargs)

    @classmethod
    def apply(cls, data: Mapping[str, Any] | None, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """``cls(data, queryset=queryset).qs``: the rows that pass the filters given in ``data``.

        With none given the queryset is the answer as it is, without building the FilterSet and its
        form for nothing (an empty filter filters nothing): most calls of a list's API give none.
        """
        if not any(cls.read(data).values()):
            return queryset.all()
        return cls(data, queryset=queryset).qs

    @classmethod
    def read(cls, data: Mapping[str, Any] | None) -> dict[str, str]:
        """Return the list's filters as given in ``data`` (a query string), trimmed and bounded."""
        given = data or {}
        return {name: str(given.get(name) or "").strip()[:MAX_FILTER_CHARS] for name in cls.base_filters}


class AnyFieldContains(django_filters.CharFilter):
    """Keep the rows where any of ``fields`` contains the text, whatever its case."""

    def __init__(self, *, fields: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fields = fields

    def filter(self, qs: QuerySet[Any], value: str) -> QuerySet[Any]:
        if not value:
            return qs
        where = Q()
        for field in self.fields:
            where |= Q(**{f"{field}__icontains": value})
        return qs.filter(where)


def filter_parameters(filterset: type[ListFilterSet]) -> list[OpenApiParameter]:
    """Describe a list's filters as the query parameters of its API endpoint (for the OpenAPI schema)."""
    return [
        OpenApiParameter(name, str, description=str(field.extra.get("help_text", "")))
        for name, field in filterset.base_filters.items()
    ]
