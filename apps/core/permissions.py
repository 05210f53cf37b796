"""Permission classes and predicates shared by the API and the pages."""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from apps.core import context
from apps.core.choices import TeamFunction

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.core.types import Viewer


def is_administrator(user: Viewer | None) -> bool:
    """Administrators are active superusers (see docs/decisions/0002)."""
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_superuser)


def user_teams(user: User) -> tuple[tuple[str, str], ...]:
    """The ``(slug, function)`` of each team of ``user``, by slug: read once per request.

    Every permission check of a request asks about the same person's teams (is an auditor, is a
    validator, the roles kept with each audit event); they change only through ``user.teams`` and a
    team's own form, which tell the request's memo to forget (apps/accounts/receivers.py).
    """
    return context.memoised(
        ("teams", user.pk), lambda: tuple(user.teams.order_by("slug").values_list("slug", "function"))
    )


def team_functions(user: User) -> frozenset[str]:
    """The functions (audit, validation, compliance, ...) of the teams ``user`` is in."""
    return frozenset(function for _, function in user_teams(user))


def reads_everything(user: Viewer) -> bool:
    """Active administrators and members of an audit team: they read every project and the whole trail.

    Read-only unless they hold a role; the audit trail (apps.audit) and project visibility
    (apps.projects) each name it in their own terms, with this one definition.
    """
    if not (user.is_authenticated and user.is_active):
        return False
    return is_administrator(user) or TeamFunction.AUDIT in team_functions(user)


class DenyAll(BasePermission):
    """The API default: a view that does not name its permission serves nobody."""

    message = "This endpoint does not declare who may use it."

    def has_permission(self, request: Request, view: Any) -> bool:
        return False


def unique_or_invalid(field: str, message: str) -> Any:
    """Context manager: a unique constraint that a racing request won becomes a ValidationError."""

    @contextmanager
    def guard() -> Any:
        try:
            with transaction.atomic():
                yield
        except IntegrityError:
            raise ValidationError({field: message}) from None

    return guard()


def require(allowed: bool, message: str) -> None:
    """Raise PermissionDenied with a message a person can read unless ``allowed``."""

    if not allowed:
        raise PermissionDenied(message)


def acting_user(request: Any) -> User:
    """Return the signed-in person behind a page or API request (views call it behind their auth check)."""
    user = request.user
    assert isinstance(user, get_user_model()), "acting_user is only called behind login_required or IsAuthenticated"
    return user
