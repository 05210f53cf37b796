"""Sign-in failure counters: shared in the cache, with a stand-in in this process while it is down.

Every counter is kept in the cache (shared by all web processes) and mirrored in a small in-process
table. While the cache answers, it alone decides. When it cannot be reached, the mirror decides:
throttling goes on per process, and an identity this process saw locked stays locked, instead of a
500 or an open door (docs/decisions/0015). The outage is logged once when it starts and once when
it ends; the cache is not asked again for a few seconds after a failure, so a dead cache does not
slow every sign-in down.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache

logger = logging.getLogger(__name__)
T = TypeVar("T")

LOCAL_MAX_KEYS = 10_000  # the oldest counters go first; an attacker spraying names cannot fill memory
RETRY_CACHE_AFTER = 5.0  # seconds without asking the cache after it failed


class _LocalCounters:
    """Expiring counters in this process, thread-safe, at most ``max_keys`` of them."""

    def __init__(self, max_keys: int) -> None:
        self._items: OrderedDict[str, tuple[int, float]] = OrderedDict()
        self._lock = threading.Lock()
        self._max_keys = max_keys

    def _live(self, key: str, now: float) -> tuple[int, float] | None:
        item = self._items.get(key)
        if item is not None and item[1] <= now:
            del self._items[key]
            return None
        return item

    def _put(self, key: str, value: int, expires: float) -> None:
        self._items[key] = (value, expires)
        self._items.move_to_end(key)
        while len(self._items) > self._max_keys:
            self._items.popitem(last=False)

    def get(self, key: str) -> int:
        with self._lock:
            item = self._live(key, time.monotonic())
            return item[0] if item else 0

    def incr(self, key: str, timeout: float) -> int:
        with self._lock:
            now = time.monotonic()
            item = self._live(key, now)
            value, expires = (item[0] + 1, item[1]) if item else (1, now + timeout)
            self._put(key, value, expires)
            return value

    def add(self, key: str, timeout: float) -> bool:
        with self._lock:
            now = time.monotonic()
            if self._live(key, now) is not None:
                return False
            self._put(key, 1, now + timeout)
            return True

    def delete(self, key: str) -> None:
        with self._lock:
            self._items.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class _CacheHealth:
    """Whether the cache answered last time; logs the start and the end of an outage once each."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.down_since: float | None = None
        self._retry_at = 0.0

    def worth_asking(self) -> bool:
        return self.down_since is None or time.monotonic() >= self._retry_at

    def failed(self, exc: BaseException) -> None:
        with self._lock:
            now = time.monotonic()
            self._retry_at = now + RETRY_CACHE_AFTER
            if self.down_since is None:
                self.down_since = now
                logger.warning(
                    "sign-in throttle: the cache is down (%s: %s); counting failed sign-ins in this process "
                    "until it answers again",
                    type(exc).__name__,
                    exc,
                )

    def answered(self) -> None:
        if self.down_since is None:
            return
        with self._lock:
            if self.down_since is not None:
                logger.warning(
                    "sign-in throttle: the cache answers again after %.0f s; counters are shared again",
                    time.monotonic() - self.down_since,
                )
                self.down_since = None


_local = _LocalCounters(LOCAL_MAX_KEYS)
_health = _CacheHealth()


class _Unreachable:
    """What a cache call gives back when the cache could not be asked."""


UNREACHABLE = _Unreachable()


def _shared(call: Callable[[], T]) -> T | _Unreachable:
    if not _health.worth_asking():
        return UNREACHABLE
    try:
        result = call()
    except Exception as exc:  # noqa: BLE001 - any cache failure (refused, timeout, protocol) means "count here"
        _health.failed(exc)
        return UNREACHABLE
    _health.answered()
    return result


def failures(key: str) -> int:
    """Return the failures counted under ``key`` (the cache's count, or this process's while it is down)."""
    shared = _shared(lambda: cache.get(key))
    if isinstance(shared, _Unreachable):
        return _local.get(key)
    return int(shared or 0)


def count_failure(key: str, timeout: int) -> None:
    """Count one failure under ``key`` for ``timeout`` seconds, in the cache and in this process."""
    _local.incr(key, timeout)

    def incr() -> None:
        cache.add(key, 0, timeout)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout)

    _shared(incr)


def first_time(key: str, timeout: int) -> bool:
    """Return True once per ``timeout`` seconds for ``key`` (``cache.add``), False after that."""
    here = _local.add(key, timeout)
    shared = _shared(lambda: cache.add(key, 1, timeout))
    return here if isinstance(shared, _Unreachable) else bool(shared)


def forget(key: str) -> None:
    """Drop the counter under ``key`` everywhere (after a successful sign-in)."""
    _local.delete(key)
    _shared(lambda: cache.delete(key))


def cache_down() -> bool:
    """Whether the last attempt to reach the cache failed."""
    return _health.down_since is not None


def reset() -> None:
    """Forget this process's counters and what it knew of the cache (for tests)."""
    _local.clear()
    with _health._lock:
        _health.down_since = None
