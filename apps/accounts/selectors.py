from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from apps.accounts.models import ApiToken, User


def api_tokens_of(*, user: User) -> QuerySet[ApiToken]:
    """Return the user's own tokens, newest first."""
    return ApiToken.objects.filter(user=user).order_by("-created_at")


def api_token_get(*, user: User, token_id: int) -> ApiToken:
    """Return one of the user's own tokens; anyone else's is a 404."""

    return get_object_or_404(api_tokens_of(user=user), pk=token_id)


def active_user_by_username(username: str) -> User | None:
    """Return the active person with this username, or None (for forms and API bodies naming someone)."""
    return User.objects.filter(username=username.strip(), is_active=True).first()
