"""Who is acting and through which channel, for the audit trail.

The request middleware binds a request id, the client IP and the authentication method for the
duration of one request; the API token authentication, Celery workers and management commands
change the method. The audit service reads it so no caller has to pass it along.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar, Token
from dataclasses import dataclass, replace
from typing import Any, TypeVar, cast

from apps.core.choices import AuthMethod

_T = TypeVar("_T")


@dataclass(frozen=True)
class ActorContext:
    request_id: str = ""
    ip: str = ""
    auth_method: str = AuthMethod.SYSTEM
    user_id: int | None = None


# ActorContext is a frozen dataclass: sharing the default instance is safe.
_current: ContextVar[ActorContext] = ContextVar("signet_actor_context", default=ActorContext())  # noqa: B039


def current() -> ActorContext:
    """Return the context of the code running now."""
    return _current.get()


def bind(*, request_id: str, ip: str, auth_method: str) -> Token[ActorContext]:
    """Bind a new context; pass the returned token to ``reset`` when the request ends."""
    return _current.set(ActorContext(request_id=request_id, ip=ip, auth_method=auth_method))


# The binding of the request being served, undone when its response is closed.
_request: ContextVar[Token[ActorContext] | None] = ContextVar("signet_request_binding", default=None)
# What one request has read about people and may read again (a user's teams: every permission check
# asks): None outside a request, so tasks, commands and tests that call services read afresh.
_memo: ContextVar[dict[Hashable, Any] | None] = ContextVar("signet_request_memo", default=None)


def bind_request(*, request_id: str, ip: str, auth_method: str) -> None:
    """Bind the context of one request until ``end_request`` (Django's ``request_finished``)."""
    end_request()  # a request that never finished (its response was not closed) ends here
    _request.set(bind(request_id=request_id, ip=ip, auth_method=auth_method))
    _memo.set({})


def end_request(**_: object) -> None:
    """Restore the context from before the request; connected to ``request_finished``."""
    _memo.set(None)
    token = _request.get()
    if token is not None:
        _request.set(None)
        with suppress(ValueError):  # bound in another context (a thread that is gone): nothing to restore
            reset(token)


def memoised(key: Hashable, read: Callable[[], _T]) -> _T:
    """Return ``read()``, kept for the rest of the request being served (outside one: read every time).

    Only for facts that ``forget`` is told about when they change (apps/accounts/receivers.py): a
    request that changes someone's teams and checks them again sees the change.
    """
    memo = _memo.get()
    if memo is None:
        return read()
    if key not in memo:
        memo[key] = read()
    return cast(_T, memo[key])


def forget() -> None:
    """Drop what the request being served has kept (something it kept has just changed)."""
    memo = _memo.get()
    if memo is not None:
        memo.clear()


def reset(token: Token[ActorContext]) -> None:
    """Restore the context that was current before ``bind``."""
    _current.reset(token)


@contextmanager
def isolated() -> Iterator[None]:
    """Run a block in the default context, then restore whatever was current before it.

    Whatever the block binds or changes (a request left unfinished, a task's ``set_auth_method``)
    ends with it; the test suite wraps every test in one, so no test inherits another's actor.
    """
    token = _current.set(ActorContext())
    try:
        yield
    finally:
        end_request()
        with suppress(ValueError):  # changed from another context (a thread): nothing to restore here
            _current.reset(token)


def set_auth_method(method: str) -> None:
    """Record how the current actor authenticated (session, token, task, system)."""
    _current.set(replace(_current.get(), auth_method=method))


def set_user(user_id: int | None) -> None:
    """Record who is signed in, for code that has no request at hand (admin forms)."""
    _current.set(replace(_current.get(), user_id=user_id))
