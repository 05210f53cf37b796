"""Who may do what with people, teams and tokens."""

from __future__ import annotations

from typing import Any

from apps.core.permissions import is_administrator

__all__ = ["awaits_own_password", "is_administrator"]


def awaits_own_password(user: Any) -> bool:
    """Whether an administrator set up or changed the account since its owner last set their own password."""
    changed = getattr(user, "admin_changed_at", None)
    if changed is None:
        return False
    own = user.own_password_set_at
    return own is None or own < changed
