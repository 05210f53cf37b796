"""Idle timeout and absolute lifetime of browser sessions."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse

from apps.accounts.services import SESSION_AUTH_AT, SESSION_SEEN_AT, user_sign_out
from apps.core.choices import AuthMethod
from apps.core.context import set_auth_method, set_user

# Write the "last seen" time at most this often, so a busy page does not save the session each time.
_SEEN_RESOLUTION = 30


class SessionLifetimeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = time.time()
            session = request.session
            auth_at = float(session.setdefault(SESSION_AUTH_AT, now))
            seen_at = float(session.setdefault(SESSION_SEEN_AT, now))
            idle = now - seen_at > settings.SIGNET_SESSION_IDLE_MINUTES * 60
            too_old = now - auth_at > settings.SIGNET_SESSION_MAX_HOURS * 3600
            if idle or too_old:
                set_auth_method(AuthMethod.SESSION)
                user_sign_out(request=request, reason="idle_timeout" if idle else "session_lifetime")
                messages.info(request, "Your session has ended; please sign in again.")
            else:
                set_auth_method(AuthMethod.SESSION)
                set_user(request.user.pk)
                if now - seen_at >= _SEEN_RESOLUTION:
                    session[SESSION_SEEN_AT] = now
        return self.get_response(request)
