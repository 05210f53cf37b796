"""Cursor pagination for every API list: stable under inserts, no COUNT(*) on large tables.

A cursor or a ``page_size`` the server cannot use is a 400 that says so, never a silent default
(a client that asked for 500 rows and got 200 would take the list for complete).
"""

from __future__ import annotations

import binascii
import re
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model, QuerySet
from rest_framework import exceptions, pagination
from rest_framework.request import Request

MAX_PAGE_SIZE = 200


def _is_base64(text: str) -> bool:
    try:
        binascii.a2b_base64(text.encode("ascii"), strict_mode=True)
    except (ValueError, UnicodeEncodeError):  # binascii.Error is a ValueError
        return False
    return bool(text)


class CursorPagination(pagination.CursorPagination):
    ordering = "-pk"
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    invalid_cursor_message = "The cursor is not one this list gave out; follow the next or previous link as it is."

    def get_page_size(self, request: Request) -> int | None:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not re.fullmatch(r"[0-9]{1,4}", raw) or not 1 <= int(raw) <= MAX_PAGE_SIZE:
            raise exceptions.ValidationError(
                {self.page_size_query_param: [f"Give a whole number of rows from 1 to {MAX_PAGE_SIZE}."]}
            )
        return int(raw)

    def paginate_queryset(self, queryset: QuerySet[Any], request: Request, view: Any = None) -> list[Any] | None:
        self._model: type[Model] = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request: Request) -> Any:
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is not None and not _is_base64(encoded):  # DRF's decoding skips what is not base64
            raise exceptions.ValidationError({self.cursor_query_param: [self.invalid_cursor_message]})
        try:
            cursor = super().decode_cursor(request)
        except exceptions.NotFound:
            cursor = None
            valid = False
        else:
            valid = cursor is None or cursor.position is None or self._position_is_valid(cursor.position)
        if not valid:
            raise exceptions.ValidationError({self.cursor_query_param: [self.invalid_cursor_message]})
        return cursor

    def _position_is_valid(self, position: object) -> bool:
        """Whether a cursor's position is a value of the ordering field (else filtering by it is a 500)."""
        name = self.ordering[0].lstrip("-")
        try:
            field = self._model._meta.pk if name == "pk" else self._model._meta.get_field(name)
            assert field is not None
            value = field.to_python(position)  # type: ignore[union-attr]
            field.run_validators(value)  # type: ignore[union-attr]  # the range a database key can hold
            field.get_prep_value(value)  # type: ignore[union-attr]
        except (FieldDoesNotExist, DjangoValidationError, ValueError, TypeError, OverflowError):
            return False
        return True

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE}
                parameter["description"] = f"Rows per page, 1 to {MAX_PAGE_SIZE} (default {self.page_size})."
        return parameters
