"""Who may read the whole audit trail."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from apps.core.permissions import reads_everything

if TYPE_CHECKING:
    from apps.core.types import Viewer


def can_read_audit_trail(user: Viewer) -> bool:
    """Members of an audit team and administrators read the whole trail."""
    return reads_everything(user)


def can_verify_audit_trail(user: Viewer) -> bool:
    return can_read_audit_trail(user)


class CanReadAuditTrail(BasePermission):
    message = "Only the audit team and administrators can read the audit trail."

    def has_permission(self, request: Request, view: Any) -> bool:
        return can_read_audit_trail(request.user)
