"""Who may read the whole audit trail."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from apps.core.choices import TeamFunction
from apps.core.permissions import is_administrator

if TYPE_CHECKING:
    from apps.core.types import Viewer


def can_read_audit_trail(user: Viewer) -> bool:
    """Members of an audit team and administrators read the whole trail."""
    if not (user.is_authenticated and user.is_active):
        return False
    return is_administrator(user) or user.teams.filter(function=TeamFunction.AUDIT).exists()


def can_verify_audit_trail(user: Viewer) -> bool:
    return can_read_audit_trail(user)


class CanReadAuditTrail(BasePermission):
    message = "Only the audit team and administrators can read the audit trail."

    def has_permission(self, request: Request, view: Any) -> bool:
        return can_read_audit_trail(request.user)
