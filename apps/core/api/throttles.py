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
import math
import time
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
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
    """DRF's throttle with its rate from settings, counted in a sliding window of two counters.

    DRF's own keeps the time of every call of the last period in one cache entry that each call
    reads and writes whole: at 1,200 calls a minute, 1,200 numbers twice a call, and a busy
    pipeline's calls get slower the busier it is. Here each period has a counter; a call is let
    through while this period's count plus the last period's, weighted by how much of the last
    period the sliding window still covers (rounded up), is under the rate: on Redis one round trip
    (a script that reads both and counts the call), whatever the rate.
    """

    num_requests: int | None  # set by SimpleRateThrottle.__init__ from the rate
    duration: int | None
    _wait_s: float | None = None

    def get_rate(self) -> str | None:
        return str(settings.SIGNET_API_RATES[str(self.scope)])

    def allow_request(self, request: Any, view: Any) -> bool:
        if time.monotonic() < _skip_cache_until:
            return True
        try:
            return self._count(request, view)
        except (RedisError, OSError) as exc:
            _cache_failed(exc)
            return True

    def _count(self, request: Any, view: Any) -> bool:
        key = self.get_cache_key(request, view)
        if key is None or self.num_requests is None or self.duration is None:
            return True
        limit, period = self.num_requests, self.duration
        now = self.timer()
        window, elapsed = divmod(now, period)
        current, previous = f"{key}:{int(window)}", f"{key}:{int(window) - 1}"
        weight = 1 - elapsed / period
        backend = caches["default"]  # DRF's ``self.cache`` is a proxy of it: not a RedisCache itself
        if isinstance(backend, RedisCache):
            allowed, done, before = _redis_count(backend, current, previous, limit, weight, 2 * period)
        else:
            counts = backend.get_many([current, previous])
            done, before = counts.get(current, 0), counts.get(previous, 0)
            allowed = done + math.ceil(before * weight) < limit
            if allowed and not backend.add(current, 1, timeout=2 * period):
                backend.incr(current)
        if not allowed:
            # Until the weighted count falls under the rate: the last period slides out, or this one ends.
            room = limit - done - 1
            self._wait_s = period - room * period / before - elapsed if room >= 0 else period - elapsed
        return allowed

    def wait(self) -> float | None:
        return self._wait_s


# Redis: the same decision and increment in one round trip, atomically. Lua numbers are doubles, so
# ``math.ceil(before * weight)`` is the same number as in Python. Keys and integers as Django's
# RedisCache stores them (its serializer keeps integers as they are), so either path reads the other's.
_SLIDING_WINDOW = """
local done = tonumber(redis.call('GET', KEYS[1]) or '0')
local before = tonumber(redis.call('GET', KEYS[2]) or '0')
if done + math.ceil(before * tonumber(ARGV[2])) >= tonumber(ARGV[1]) then
  return {0, done, before}
end
redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {1, done, before}
"""


def _redis_count(
    cache: RedisCache, current: str, previous: str, limit: int, weight: float, ttl: int
) -> tuple[bool, int, int]:
    keys = [cache.make_and_validate_key(current), cache.make_and_validate_key(previous)]
    client = cache._cache.get_client(keys[0], write=True)  # type: ignore[attr-defined]  # no public way to run a script
    allowed, done, before = client.eval(_SLIDING_WINDOW, 2, *keys, limit, repr(weight), ttl)
    return bool(allowed), int(done), int(before)


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
