"""Serializer fields shared by every app's API."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api import strict
from apps.core.ids import MAX_ID


class IdField(strict.IntegerField):
    """The id of a row named in a request body: a positive integer a database key can hold."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)


@extend_schema_field({"type": "object", "additionalProperties": True})
class JSONObjectField(serializers.JSONField):
    """A JSON object (never null), whose keys the service checks."""


@extend_schema_field({"type": "array", "items": {"type": "object", "additionalProperties": True}, "minItems": 1})
class JSONObjectListField(serializers.JSONField):
    """A non-empty JSON list of objects (never null), whose contents the service checks."""
