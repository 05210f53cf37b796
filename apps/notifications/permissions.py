"""Who may manage webhooks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from apps.accounts.permissions import is_administrator

if TYPE_CHECKING:
    from apps.core.types import Viewer


def can_manage_webhooks(user: Viewer) -> bool:
    """Webhooks carry every event of the organisation to another system: administrators only."""
    return is_administrator(user)
