"""Organisation-wide reads for the portfolio; each starts from what the reader may see."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import F, Q, QuerySet

from apps.accounts.models import User
from apps.portfolio.permissions import can_view_portfolio

if TYPE_CHECKING:
    from apps.core.types import Viewer


def accounts_awaiting_owner(*, viewer: Viewer) -> QuerySet[User]:
    """Active accounts an administrator set up or changed since their owner last set a password.

    They cannot sign off or judge findings until their owner signs in and sets a password
    (docs/decisions/0016-judges-and-insider-accounts.md). Raises PermissionDenied.
    """
    if not can_view_portfolio(viewer):
        raise PermissionDenied("Only administrators, audit, risk validation and compliance read the portfolio.")
    waiting = Q(own_password_set_at__isnull=True) | Q(own_password_set_at__lt=F("admin_changed_at"))
    return (
        User.objects.filter(is_active=True, admin_changed_at__isnull=False)
        .filter(waiting)
        .prefetch_related("teams")
        .order_by("-admin_changed_at", "username")
    )
