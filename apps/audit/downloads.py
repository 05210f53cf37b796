"""The trail as a download, for the page and the API alike: the export service streamed as a file."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http.response import HttpResponseBase
from django.utils import timezone

from apps.audit import services
from apps.audit.export import export_response

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.audit.forms import AuditFilterForm


def trail_download(*, actor: User, form: AuditFilterForm, export_format: str) -> HttpResponseBase:
    """Stream the trail that passes ``form`` (already valid) as CSV or JSON Lines, audited by the service."""
    lines = services.audit_trail_export(
        actor=actor, filters=form.cleaned_data, active_filters=form.active_filters(), export_format=export_format
    )
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    return export_response(lines, export_format=export_format, stem=f"signet-audit-{stamp}")
