"""Who may do what with people, teams and tokens."""

from __future__ import annotations

from typing import Any


def is_administrator(user: Any) -> bool:
    """Administrators are active superusers (see docs/decisions/0002)."""
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_superuser)


def awaits_own_password(user: Any) -> bool:
    """Whether an administrator set up or changed the account since its owner last set their own password."""
    changed = getattr(user, "admin_changed_at", None)
    if changed is None:
        return False
    own = user.own_password_set_at
    return own is None or own < changed
