"""Resolve ids named in a request body through what the caller may see."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import exceptions


def visible_or_invalid(queryset: QuerySet[Any], field: str, what: str, **lookup: Any) -> Any:
    """Return the one object of ``queryset`` matching ``lookup``, or a 400 naming ``field``.

    ``queryset`` starts from what the caller may see, so an unknown id and a hidden one read the same.
    """
    found = queryset.filter(**lookup).first()
    if found is None:
        key = "slug" if "slug" in lookup else "id"
        raise exceptions.ValidationError({field: [f"No {what} with this {key} that you can see."]})
    return found
