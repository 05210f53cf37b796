"""The layout's navigation: which sections the person may open. Here, above the apps, since it asks each."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from apps.audit.permissions import can_read_audit_trail
from apps.integrations.permissions import can_manage_connections
from apps.notifications.permissions import can_manage_webhooks
from apps.notifications.selectors import unread_count
from apps.portfolio.permissions import can_view_portfolio
from apps.workflows.permissions import can_edit_policies


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Tell the layout which sections the signed-in person may open, and how many notifications wait."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"show_audit_link": False}
    return {
        "show_audit_link": can_read_audit_trail(user),
        "show_webhooks_link": can_manage_webhooks(user),
        "show_policies_link": can_edit_policies(user),
        "show_portfolio_link": can_view_portfolio(user),
        "show_mlflow_link": can_manage_connections(user),
        "unread_notifications": unread_count(user),
    }
