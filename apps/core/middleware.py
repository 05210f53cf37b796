"""Request-scoped context (request id, client IP, authentication method) and the outage answer."""

from __future__ import annotations

import ipaddress
import logging
import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template import loader

from apps.core import context
from apps.core.choices import AuthMethod
from apps.core.errors import error_response

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
logger = logging.getLogger(__name__)

# How long a client should wait before asking again while the database cannot be reached.
RETRY_AFTER_SECONDS = 30
UNAVAILABLE_MESSAGE = "Signet cannot reach its database just now. Nothing was changed; try again in a moment."
# SQLSTATEs that mean "no usable connection": class 08 (connection exception), the server shutting
# down or starting up, too many connections. A deadlock or a cancelled statement is not an outage.
_OUTAGE_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")
_SQLITE_OUTAGES = ("unable to open database file", "database is locked", "disk i/o error")


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
            message = "The address holds a NUL character, which Signet does not accept."
            if request.path.startswith("/api/"):
                return error_response(400, "bad_request", message)
            return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class RequestContextMiddleware:
    """Give every request an id (kept from a well-formed ``X-Request-ID`` set by our proxy) and echo it back."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Only our own proxy's id is kept (TRUST_X_FORWARDED_FOR says there is one): a client's own
        # could repeat another request's id in the audit trail and the logs.
        incoming = request.headers.get("X-Request-ID", "") if settings.SIGNET_TRUST_X_FORWARDED_FOR else ""
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        # Unbound when the response is closed (request_finished), not here: Django logs a 4xx or 5xx
        # answer after the middleware returned, and that line belongs to this request too.
        context.bind_request(request_id=request_id, ip=client_ip(request), auth_method=AuthMethod.ANONYMOUS)
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


def database_unavailable(exc: BaseException | None) -> bool:
    """Return whether ``exc`` says the database cannot be reached (as opposed to a bug in a query)."""
    if isinstance(exc, InterfaceError):
        return True  # the connection is already closed
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    code = getattr(cause, "pgcode", None)
    if code is not None:
        return str(code).startswith(_OUTAGE_SQLSTATES)
    if type(cause).__module__.startswith("psycopg2"):
        return True  # no SQLSTATE at all: the client library lost the connection or never got one
    return any(text in str(exc).lower() for text in _SQLITE_OUTAGES)


def database_unavailable_response(request: HttpRequest) -> HttpResponse:
    """Return the 503 answer, with ``Retry-After``: the error document for /api/, a page otherwise."""
    if request.path.startswith("/api/"):
        response: HttpResponse = error_response(503, "unavailable", UNAVAILABLE_MESSAGE)
    else:
        # Rendered without the request: the context processors would need the database.
        page = loader.get_template("503.html").render({"retry_after": RETRY_AFTER_SECONDS})
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def log_database_unavailable(request: HttpRequest, exc: BaseException) -> None:
    logger.warning("database unreachable, answered 503 to %s %s: %s", request.method, request.path, exc)


class DatabaseUnavailableMiddleware:
    """Answer 503 with ``Retry-After`` instead of a 500 when a view finds the database unreachable.

    Failures in the middleware before the view (sessions, authentication) reach ``handler500``,
    which gives the same answer (``apps.core.views.server_error``).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not database_unavailable(exception):
            return None
        log_database_unavailable(request, exception)
        return database_unavailable_response(request)
