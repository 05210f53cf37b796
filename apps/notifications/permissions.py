"""Who may manage webhooks."""

from __future__ import annotations

from typing import Any

from apps.accounts.permissions import is_administrator


def can_manage_webhooks(user: Any) -> bool:
    """Webhooks carry every event of the organisation to another system: administrators only."""
    return is_administrator(user)
