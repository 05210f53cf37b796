"""Who may do what with people, teams and tokens."""

from __future__ import annotations

from typing import Any


def is_administrator(user: Any) -> bool:
    """Administrators are active superusers (see docs/decisions/0002)."""
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_superuser)
