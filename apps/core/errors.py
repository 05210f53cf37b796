"""The API's error document, shared by DRF's exception handler, middleware and plain views."""

from __future__ import annotations

from typing import Any

from django.http import JsonResponse


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """Return the API's error document."""
    return {"error": {"code": code, "message": message, "details": details if details is not None else {}}}


def error_response(status_code: int, code: str, message: str, details: Any = None) -> JsonResponse:
    """Return the error document as a plain Django response (for views outside DRF)."""
    return JsonResponse(error_body(code, message, details), status=status_code)
