"""API rate limits: per person (all their tokens and their session together) and, for anonymous
callers, per address.

DRF's throttles, reading their rates from settings when asked (``API_RATE_PER_TOKEN``,
``API_RATE_PER_ADDRESS``) and kept in the shared cache. A 429 answers in the error shape with
``Retry-After``. While the cache cannot be reached the limits are not applied and that is logged
(docs/decisions/0018): a rate limit protects capacity, not secrets, and an API that answers 500 to
every call because Redis restarted protects nothing. Sign-in keeps its own, stricter throttle.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from redis.exceptions import RedisError
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from apps.core.middleware import client_ip

logger = logging.getLogger(__name__)
_OUTAGE_LOG_EVERY = 60.0  # seconds between two log lines about the same outage
_SKIP_CACHE_AFTER_FAILURE = 5.0  # seconds: a cache that drops packets must not slow every call down
_last_outage_log = 0.0
_skip_cache_until = 0.0


class _SettingsRate(SimpleRateThrottle):
    def get_rate(self) -> str | None:
        return str(settings.SIGNET_API_RATES[str(self.scope)])

    def allow_request(self, request: Any, view: Any) -> bool:
        if time.monotonic() < _skip_cache_until:
            return True
        try:
            return super().allow_request(request, view)
        except (RedisError, OSError) as exc:
            _cache_failed(exc)
            return True


def _cache_failed(exc: BaseException) -> None:
    global _last_outage_log, _skip_cache_until  # noqa: PLW0603 - per process, like the sign-in throttle's
    now = time.monotonic()
    _skip_cache_until = now + _SKIP_CACHE_AFTER_FAILURE
    if now - _last_outage_log >= _OUTAGE_LOG_EVERY:
        _last_outage_log = now
        logger.warning("API rate limits: the cache is down, limits are not applied (%s)", exc)


class TokenRateThrottle(_SettingsRate):
    """Calls per person: every token of theirs and their session share one budget (a person who
    makes ten tokens does not get ten times the rate)."""

    scope = "token"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if not request.user or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class AddressRateThrottle(_SettingsRate):
    """Calls per client address, for callers who are not signed in."""

    scope = "address"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request) or "unknown"}
