"""API tokens: created by their owner (or the system), revoked, and checked on every API call.

The secret is shown once and never stored: only its SHA-256 digest and a short prefix are kept.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import ApiToken, User
from apps.accounts.permissions import is_administrator
from apps.audit.actions import Action
from apps.audit.services import audit_record

TOKEN_PREFIX = "sgt_"  # noqa: S105 - a public marker that makes leaked tokens easy to scan for


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def api_token_create(*, actor: User | None, user: User, name: str, days: int | None = None) -> tuple[ApiToken, str]:
    """Create a token for ``user`` and return it with its secret, which is never stored.

    Only the user (or the system, for ``createtoken``) creates a user's token. Side effects:
    ``accounts.api_token.created`` audit event. Raises PermissionDenied, ValidationError.
    """
    if actor is not None and actor.pk != user.pk:
        raise PermissionDenied("You can only create tokens for yourself.")
    name = (name or "").strip()
    errors: dict[str, str] = {}
    if not name or len(name) > 100:
        errors["name"] = "Give the token a name of 1 to 100 characters, such as “CI pipeline”."
    days = settings.SIGNET_API_TOKEN_DEFAULT_DAYS if days is None else days
    if not 1 <= days <= settings.SIGNET_API_TOKEN_MAX_DAYS:
        errors["days"] = f"A token lives between 1 and {settings.SIGNET_API_TOKEN_MAX_DAYS} days."
    if not user.is_active:
        errors["user"] = "This account is deactivated."
    if errors:
        raise ValidationError(errors)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name,
            prefix=raw[:12],
            digest=token_digest(raw),
            expires_at=timezone.now() + timedelta(days=days),
        )
        audit_record(
            actor=actor,
            action=Action.API_TOKEN_CREATED,
            target=token,
            data={"user": user.username, "name": name, "prefix": token.prefix, "expires_at": token.expires_at},
        )
    return token, raw


def api_token_revoke(*, actor: User, token: ApiToken) -> ApiToken:
    """Revoke a token now. Side effects: ``accounts.api_token.revoked``. Raises PermissionDenied."""
    if actor.pk != token.user_id and not is_administrator(actor):
        raise PermissionDenied("You can only revoke your own tokens.")
    with transaction.atomic():
        token = ApiToken.objects.select_for_update(no_key=True).get(pk=token.pk)
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit_record(
                actor=actor,
                action=Action.API_TOKEN_REVOKED,
                target=token,
                data={"user": token.user.username, "prefix": token.prefix},
            )
    return token


def api_token_authenticate(raw: str) -> ApiToken | None:
    """Return the usable token matching ``raw`` (and note its use), or None."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    token = ApiToken.objects.usable().select_related("user").filter(digest=token_digest(raw)).first()
    if token is None:
        return None
    now = timezone.now()
    # Note the use at most once a minute: a write on every request would serialise a busy pipeline.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
