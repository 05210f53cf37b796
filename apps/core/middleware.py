"""Request-scoped context: request id, client IP, authentication method."""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from apps.core import context
from apps.core.choices import AuthMethod

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")


def _valid_ip(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    """Return the client address.

    Behind a trusted proxy (TRUST_X_FORWARDED_FOR) it is the last X-Forwarded-For entry: the one our
    proxy appended. Entries before it come from the client and could say anything.
    """
    if settings.SIGNET_TRUST_X_FORWARDED_FOR:
        entries = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        forwarded = _valid_ip(entries[-1]) if entries else None
        if forwarded:
            return forwarded
    return _valid_ip(str(request.META.get("REMOTE_ADDR", ""))) or ""


class RejectNulMiddleware:
    """Answer 400 to a query string holding a NUL character: PostgreSQL cannot compare text with one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.META.get("QUERY_STRING", "") or any(
            "\x00" in value for values in request.GET.lists() for value in values[1]
        ):
            from apps.core.api.exceptions import error_response

            message = "The address holds a NUL character, which Signet does not accept."
            if request.path.startswith("/api/"):
                return error_response(400, "bad_request", message)
            return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class RequestContextMiddleware:
    """Give every request an id (kept from a well-formed ``X-Request-ID``) and echo it back."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = context.bind(request_id=request_id, ip=client_ip(request), auth_method=AuthMethod.ANONYMOUS)
        try:
            response = self.get_response(request)
        finally:
            context.reset(token)
        response["X-Request-ID"] = request_id
        return response
