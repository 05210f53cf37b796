"""Governed changes to people, teams, sessions and API tokens. Each one writes its audit event."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from apps.accounts import throttle
from apps.accounts.models import Team, User
from apps.accounts.permissions import awaits_own_password, is_administrator
from apps.accounts.services.tokens import (
    TOKEN_PREFIX,
    api_token_authenticate,
    api_token_create,
    api_token_revoke,
    token_digest,
)
from apps.audit.actions import Action
from apps.audit.services import audit_chain_lock, audit_record, changes_between
from apps.core.choices import AuthMethod
from apps.core.context import set_auth_method
from apps.core.middleware import client_ip
from apps.core.unset import UNSET, Unset, given

SESSION_AUTH_AT = "_signet_auth_at"
SESSION_SEEN_AT = "_signet_seen_at"
SERVICE_ACCOUNT_SIGN_IN_REFUSED = (
    "This is a service account: it calls the API with a token and never signs in with a password here."
)
SIGN_IN_REFUSED = (
    "Your username or password is not right, or sign-in is paused after repeated failures. Try again later."
)


class SignInRefused(Exception):
    """Wrong credentials, an unknown or inactive user, or a lock: one answer for all of them."""


def _require_administrator(actor: User | None) -> None:
    # actor None is the system itself (a management command run by an operator on the host).
    if actor is not None and not is_administrator(actor):
        raise PermissionDenied("Only administrators manage people and teams.")


# --- sign-in throttling ----------------------------------------------------------------------


def _failure_keys(username: str, ip: str) -> list[tuple[str, int]]:
    limit = settings.SIGNET_LOGIN_MAX_FAILURES
    user_key = hashlib.sha256(username.strip().lower().encode()).hexdigest()
    # Per IP the limit is higher: many people may sit behind one office address.
    return [(f"signin:user:{user_key}", limit), (f"signin:ip:{ip}", limit * 4)]


def sign_in_locked(*, username: str, ip: str) -> bool:
    """Return whether sign-in for this username or from this address is paused.

    While the cache is down, the counts this process kept decide (``apps.accounts.throttle``).
    """
    return any(throttle.failures(key) >= limit for key, limit in _failure_keys(username, ip))


def _lockout_seconds() -> int:
    return int(settings.SIGNET_LOGIN_LOCKOUT_MINUTES) * 60


def _record_failure(username: str, reason: str) -> None:
    # The typed name is kept only when it is an account's: people paste passwords into that field.
    known = User.objects.filter(username=username).exists()
    typed = username if known else "unknown:" + hashlib.sha256(username.encode()).hexdigest()[:12]
    with transaction.atomic():
        audit_record(actor=None, action=Action.SIGN_IN_FAILED, data={"username": typed, "reason": reason})


def _note_failure(username: str, ip: str) -> None:
    for key, _limit in _failure_keys(username, ip):
        throttle.count_failure(key, _lockout_seconds())


def user_sign_in(*, request: HttpRequest, username: str, password: str) -> User:
    """Check the credentials, start a new session and return the user.

    Side effects: session key rotated, ``accounts.sign_in.succeeded`` or ``accounts.sign_in.failed``
    audit event, failure counters in the cache (in this process too, which decides while the cache
    is down). Raises SignInRefused (always with the same message).
    """
    ip = client_ip(request)
    if sign_in_locked(username=username, ip=ip):
        # One "locked" event per lock window: a locked-out script must not flood the trail.
        if throttle.first_time(f"signin:locked-noted:{_failure_keys(username, ip)[0][0]}:{ip}", _lockout_seconds()):
            _record_failure(username, "locked")
        raise SignInRefused(SIGN_IN_REFUSED)
    user = authenticate(request, username=username, password=password)
    if user is None:
        _note_failure(username, ip)
        _record_failure(username, "invalid")
        raise SignInRefused(SIGN_IN_REFUSED)
    assert isinstance(user, User)
    if user.is_service_account:  # a pipeline's password (should it have one) opens no session
        _note_failure(username, ip)
        _record_failure(username, "service_account")
        raise SignInRefused(SERVICE_ACCOUNT_SIGN_IN_REFUSED)
    set_auth_method(AuthMethod.SESSION)
    with transaction.atomic():
        login(request, user)  # cycles the session key
        now = timezone.now().timestamp()
        request.session[SESSION_AUTH_AT] = now
        request.session[SESSION_SEEN_AT] = now
        audit_record(actor=user, action=Action.SIGN_IN_SUCCEEDED, target=user)
    throttle.forget(_failure_keys(username, ip)[0][0])
    return user


def user_sign_out(*, request: HttpRequest, reason: str = "signed_out") -> None:
    """End the session. Side effects: ``accounts.sign_out`` audit event (with the reason)."""
    user = request.user if request.user.is_authenticated else None
    with transaction.atomic():
        if user is not None:
            audit_record(actor=user, action=Action.SIGN_OUT, target=user, data={"reason": reason})
        logout(request)


# --- people and teams ------------------------------------------------------------------------

_USER_FIELDS = (
    "username",
    "email",
    "first_name",
    "last_name",
    "is_active",
    "is_staff",
    "is_superuser",
    "is_service_account",
)
# What an administrator sets that makes an account theirs until its owner sets a password: who it is,
# whether it works, what it may do.
_ADMIN_SET_FIELDS = {"username", "email", "is_active", "is_superuser", "is_service_account", "teams"}


def _user_snapshot(user: User) -> dict[str, Any]:
    snapshot: dict[str, Any] = {field: getattr(user, field) for field in _USER_FIELDS}
    snapshot["teams"] = sorted(user.teams.values_list("slug", flat=True)) if user.pk else []
    return snapshot


def _refuse_self_grant(actor: User | None, user: User, before: dict[str, Any], after: dict[str, Any]) -> None:
    if actor is None or actor.pk != user.pk:
        return
    gained_teams = set(after["teams"]) - set(before["teams"])
    if gained_teams or (after["is_superuser"] and not before["is_superuser"]):
        raise PermissionDenied("Nobody grants a role to themselves: ask another administrator.")


def _refuse_service_account_flags(*, password: str | None, is_superuser: bool) -> None:
    if password:
        raise ValidationError({"password": "A service account has no password: it uses API tokens (createtoken)."})
    if is_superuser:
        raise ValidationError({"is_superuser": "A service account is never an administrator."})


def user_create(
    *,
    actor: User | None,
    username: str,
    password: str | None = None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    is_superuser: bool = False,
    is_service_account: bool = False,
    teams: Iterable[Team] = (),
) -> User:
    """Create a person, or a pipeline's service account (no password, never an administrator).

    Side effects: ``accounts.user.created``. Raises PermissionDenied, ValidationError.
    """
    _require_administrator(actor)
    if is_service_account:
        _refuse_service_account_flags(password=password, is_superuser=is_superuser)
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        is_superuser=is_superuser,
        is_staff=is_superuser,
        is_service_account=is_service_account,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    if actor is not None:  # an administrator's account for someone else: it awaits its owner's password
        user.admin_changed_at = timezone.now()
    user.full_clean(exclude=["password"])
    with transaction.atomic():
        user.save()
        user.teams.set(list(teams))
        audit_record(
            actor=actor,
            action=Action.USER_CREATED,
            target=user,
            changes=changes_between({}, _user_snapshot(user)),
            data={"awaits_own_password": user.admin_changed_at is not None},
        )
    return user


def user_update(
    *,
    actor: User | None,
    user: User,
    teams: Iterable[Team] | None = None,
    username: str | Unset = UNSET,
    email: str | Unset = UNSET,
    first_name: str | Unset = UNSET,
    last_name: str | Unset = UNSET,
    is_active: bool | Unset = UNSET,
    is_staff: bool | Unset = UNSET,
    is_superuser: bool | Unset = UNSET,
    is_service_account: bool | Unset = UNSET,
) -> User:
    """Change the fields given and the teams. Nobody grants themselves a team or an administrative flag.

    Making an account a service account takes its password away (it uses API tokens from then on).

    Side effects: ``accounts.user.updated`` with before/after. Raises PermissionDenied, ValidationError.
    """
    _require_administrator(actor)
    fields = given(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        is_active=is_active,
        is_staff=is_staff,
        is_superuser=is_superuser,
        is_service_account=is_service_account,
    )
    with transaction.atomic():
        user = User.objects.select_for_update(no_key=True).get(pk=user.pk)
        if "username" in fields:  # a key may change: that write comes after the chain lock (0015)
            audit_chain_lock()
        before = _user_snapshot(user)
        for field, value in fields.items():
            setattr(user, field, value)
        user.is_staff = user.is_superuser  # the admin site needs is_staff; it means nothing else here
        after = dict(_user_snapshot(user), **{field: getattr(user, field) for field in _USER_FIELDS})
        if teams is not None:
            after["teams"] = sorted(team.slug for team in teams)
        _refuse_self_grant(actor, user, before, after)
        if user.is_service_account:
            _refuse_service_account_flags(password=None, is_superuser=user.is_superuser)
            if not before["is_service_account"]:
                user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save()
        if teams is not None:
            user.teams.set(list(teams))
        changes = changes_between(before, after)
        by_administrator = actor is not None and actor.pk != user.pk
        if by_administrator and set(changes) & _ADMIN_SET_FIELDS:
            user.admin_changed_at = timezone.now()
            user.save(update_fields=["admin_changed_at"])
        if changes:
            audit_record(
                actor=actor,
                action=Action.USER_UPDATED,
                target=user,
                changes=changes,
                data={"awaits_own_password": awaits_own_password(user)},
            )
    return user


def user_set_password(*, actor: User | None, user: User, password: str | None) -> User:
    """Set a new password, or none at all (``password=None``: the person cannot sign in with one).

    People change their own; administrators anyone's. Side effects: ``accounts.user.password_changed``
    or ``accounts.user.password_disabled`` (never the password). Raises PermissionDenied.
    """
    if actor is not None and actor.pk != user.pk:
        _require_administrator(actor)
    with transaction.atomic():
        if password is None:
            user.set_unusable_password()
        else:
            user.set_password(password)
        if actor is not None and actor.pk != user.pk:
            user.admin_changed_at = timezone.now()
        elif actor is not None and password is not None:
            user.own_password_set_at = timezone.now()
        user.save(update_fields=["password", "admin_changed_at", "own_password_set_at"])
        action = Action.USER_PASSWORD_CHANGED if password is not None else Action.USER_PASSWORD_DISABLED
        audit_record(actor=actor, action=action, target=user, data={"awaits_own_password": awaits_own_password(user)})
    return user


_TEAM_FIELDS = ("name", "slug", "function", "description")


def team_create(*, actor: User | None, name: str, slug: str, function: str, description: str = "") -> Team:
    """Create a team. Side effects: ``accounts.team.created``. Raises PermissionDenied, ValidationError."""
    _require_administrator(actor)
    team = Team(name=name, slug=slug, function=function, description=description)
    team.full_clean()
    with transaction.atomic():
        team.save()
        audit_record(
            actor=actor,
            action=Action.TEAM_CREATED,
            target=team,
            changes=changes_between({}, {field: getattr(team, field) for field in _TEAM_FIELDS}),
        )
    return team


def team_update(
    *,
    actor: User | None,
    team: Team,
    name: str | Unset = UNSET,
    slug: str | Unset = UNSET,
    function: str | Unset = UNSET,
    description: str | Unset = UNSET,
) -> Team:
    """Change the fields given of a team. Side effects: ``accounts.team.updated`` with before/after."""
    _require_administrator(actor)
    fields = given(name=name, slug=slug, function=function, description=description)
    with transaction.atomic():
        team = Team.objects.select_for_update(no_key=True).get(pk=team.pk)
        if fields.keys() & {"name", "slug"}:  # a key may change: that write comes after the chain lock (0015)
            audit_chain_lock()
        before = {field: getattr(team, field) for field in _TEAM_FIELDS}
        for field, value in fields.items():
            setattr(team, field, value)
        team.full_clean()
        team.save()
        changes = changes_between(before, {field: getattr(team, field) for field in _TEAM_FIELDS})
        if changes:
            audit_record(actor=actor, action=Action.TEAM_UPDATED, target=team, changes=changes)
    return team


__all__ = [
    "TOKEN_PREFIX",
    "api_token_authenticate",
    "api_token_create",
    "api_token_revoke",
    "token_digest",
]
