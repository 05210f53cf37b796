"""Serializer fields shared by every app's API."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.core.ids import MAX_ID


class IdField(serializers.IntegerField):
    """The id of a row named in a request body: a positive integer a database key can hold."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)
