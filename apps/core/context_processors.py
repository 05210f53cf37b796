from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Tell the layout which sections the signed-in person may open."""
    from apps.audit.permissions import can_read_audit_trail

    user = getattr(request, "user", None)
    return {"show_audit_link": bool(user is not None and can_read_audit_trail(user))}
