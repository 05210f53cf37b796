"""Idle timeout and absolute lifetime of browser sessions."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url

from apps.accounts.services import SESSION_AUTH_AT, SESSION_SEEN_AT, user_sign_out
from apps.core.choices import AuthMethod
from apps.core.context import set_auth_method, set_user

# Write the "last seen" time at most this often, so a busy page does not save the session each time.
_SEEN_RESOLUTION = 30
# Sent by parts of a page that refresh themselves; they are not a person being active.
POLL_HEADER = "X-Signet-Poll"


class SessionLifetimeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            self._enforce(request)
        response = self.get_response(request)
        return self._redirect_htmx_to_sign_in(request, response)

    def _enforce(self, request: HttpRequest) -> None:
        now = time.time()
        session = request.session
        auth_at = float(session.setdefault(SESSION_AUTH_AT, now))
        seen_at = float(session.setdefault(SESSION_SEEN_AT, now))
        idle = now - seen_at > settings.SIGNET_SESSION_IDLE_MINUTES * 60
        too_old = now - auth_at > settings.SIGNET_SESSION_MAX_HOURS * 3600
        set_auth_method(AuthMethod.SESSION)
        if idle or too_old:
            user_sign_out(request=request, reason="idle_timeout" if idle else "session_lifetime")
            messages.info(request, "Your session has ended; please sign in again.")
            return
        set_user(request.user.pk)
        if now - seen_at >= _SEEN_RESOLUTION and not request.headers.get(POLL_HEADER):
            session[SESSION_SEEN_AT] = now

    @staticmethod
    def _redirect_htmx_to_sign_in(request: HttpRequest, response: HttpResponse) -> HttpResponse:
        """An HTMX fragment must not swap the sign-in page into itself: send the whole page there."""
        sign_in = resolve_url(settings.LOGIN_URL)
        if getattr(request, "htmx", False) and response.status_code == 302 and response["Location"].startswith(sign_in):
            redirect = HttpResponse(status=204)
            redirect["HX-Redirect"] = response["Location"]
            return redirect
        return response
