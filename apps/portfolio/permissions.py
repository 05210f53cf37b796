"""Who reads the organisation-wide portfolio."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from apps.accounts.choices import TeamFunction
from apps.accounts.permissions import is_administrator, team_functions

if TYPE_CHECKING:
    from apps.core.types import Viewer

# The second and third lines and compliance oversee the whole organisation (DESIGN section 4).
OVERSIGHT_TEAMS = (TeamFunction.AUDIT, TeamFunction.RISK_VALIDATION, TeamFunction.COMPLIANCE)
PORTFOLIO_DENIED = "Only administrators, audit, risk validation and compliance read the portfolio."


def can_view_portfolio(user: Viewer) -> bool:
    """Administrators, the audit team, the second line (risk validation) and compliance."""
    if not (user.is_authenticated and user.is_active):
        return False
    return is_administrator(user) or bool(team_functions(user) & set(OVERSIGHT_TEAMS))


class CanViewPortfolio(BasePermission):
    message = PORTFOLIO_DENIED

    def has_permission(self, request: Request, view: Any) -> bool:
        return can_view_portfolio(request.user)
