"""One error shape for the whole API: ``{"error": {"code", "message", "details"}}``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from apps.core.errors import error_body
from apps.core.middleware import (
    RETRY_AFTER_SECONDS,
    UNAVAILABLE_MESSAGE,
    database_unavailable,
    log_database_unavailable,
)


def _from_django(exc: Exception) -> Exception:
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            details = {("non_field_errors" if k == "__all__" else k): v for k, v in exc.message_dict.items()}
            return exceptions.ValidationError(detail=details)
        return exceptions.ValidationError(detail={"non_field_errors": exc.messages})
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(detail=str(exc) or None)
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    return exc


def _first_message(detail: Any) -> str:
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    if isinstance(detail, dict) and detail:
        key, value = next(iter(detail.items()))
        text = _first_message(value)
        return text if key in ("non_field_errors", "detail") else f"{key}: {text}"
    return str(detail)


def _database_unavailable(exc: Exception, context: dict[str, Any]) -> Response | None:
    if not database_unavailable(exc):
        return None
    log_database_unavailable(context["request"], exc)
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
    return Response(error_body("unavailable", UNAVAILABLE_MESSAGE), status=503, headers=headers)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Turn every API exception into the error shape; unknown errors become a 500 in that shape.

    An unreachable database is a 503 with ``Retry-After`` (docs/decisions/0015).
    """
    unavailable = _database_unavailable(exc, context)
    if unavailable is not None:
        return unavailable
    exc = _from_django(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # Django's handler500 answers, in the same shape for /api/ paths.
    if isinstance(exc, exceptions.ValidationError):
        body = error_body("invalid", "The request has invalid fields: " + _first_message(exc.detail), exc.detail)
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
        body = error_body(str(code), str(exc.detail))
    else:  # pragma: no cover - DRF only handles APIException, Http404 and PermissionDenied
        body = error_body("error", "The request failed.")
    if response.status_code == status.HTTP_401_UNAUTHORIZED and not response.has_header("WWW-Authenticate"):
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    response.data = body
    return response
