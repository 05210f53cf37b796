"""Who may do what with people, teams and tokens."""

from __future__ import annotations

from typing import TYPE_CHECKING

from apps.core.permissions import is_administrator, team_functions, user_teams

if TYPE_CHECKING:
    from apps.accounts.models import User

__all__ = ["awaits_own_password", "is_administrator", "team_functions", "user_teams"]


def awaits_own_password(user: User) -> bool:
    """Whether an administrator set up or changed the account since its owner last set their own password."""
    changed = getattr(user, "admin_changed_at", None)
    if changed is None:
        return False
    own = user.own_password_set_at
    return own is None or own < changed
