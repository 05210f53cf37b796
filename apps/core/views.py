"""Health probes and error pages (the home page lives in apps.home, which brings several apps together)."""

from __future__ import annotations

import logging
import sys

from celery import current_app
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.core.errors import error_response
from apps.core.middleware import database_unavailable, database_unavailable_response, log_database_unavailable

logger = logging.getLogger(__name__)


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Answer 200 while the process can serve requests."""
    return JsonResponse({"status": "ok"})


def _database_ready() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready", and is reported
        logger.warning("readyz: database unreachable: %s", exc)
        return "the database cannot be reached"
    return None


def _broker_ready() -> str | None:
    try:
        with current_app.connection_for_write(url=settings.CELERY_BROKER_URL) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=3)
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready", and is reported
        logger.warning("readyz: broker unreachable: %s", exc)
        return "the task broker cannot be reached"
    return None


@require_GET
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Answer 200 when the database and the broker answer, 503 naming what does not."""
    problems = {
        name: reason for name, reason in (("database", _database_ready()), ("broker", _broker_ready())) if reason
    }
    if problems:
        return JsonResponse({"status": "unavailable", "reasons": problems}, status=503)
    return JsonResponse({"status": "ready"})


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return error_response(400, "bad_request", "The request could not be understood.")
    return render(request, "400.html", status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    message = str(exception) if exception and str(exception) else "You are not allowed to do this."
    if _is_api(request):
        return error_response(403, "permission_denied", message)
    return render(request, "403.html", {"message": message}, status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return error_response(404, "not_found", "Not found.")
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this while handling the exception, so it is still at hand: an unreachable
    # database (found by the session or authentication middleware, say) is a 503, not a 500.
    exc = sys.exc_info()[1]
    if database_unavailable(exc):
        assert exc is not None
        log_database_unavailable(request, exc)
        return database_unavailable_response(request)
    if _is_api(request):
        return error_response(500, "server_error", "Something went wrong on our side; it has been logged.")
    # Rendered without the request: the context processors may need the database that just failed.
    return HttpResponse(loader.get_template("500.html").render(), status=500)
