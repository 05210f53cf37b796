"""The auditor's pages: filter the trail, export it, verify the chain."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from apps.audit import selectors
from apps.audit.downloads import trail_download
from apps.audit.filters import AuditEventFilter
from apps.audit.permissions import can_read_audit_trail, can_verify_audit_trail
from apps.audit.tasks import audit_verify_chain
from apps.core.ids import parse_id
from apps.core.permissions import acting_user

PAGE_SIZE = 50
CURSORS = ("before", "after")
BAD_CURSOR = "The page link is not one this page gave out: follow “Newer” or “Older” as they are, or clear the filters."


def _require_reader(request: HttpRequest) -> None:
    if not can_read_audit_trail(request.user):
        raise PermissionDenied("Only the audit team and administrators can read the audit trail.")


@login_required
@require_GET
def audit_event_list(request: HttpRequest) -> HttpResponse:
    """Show the trail, newest first, with filters, export links and keyset pages (``before``/``after`` a seq)."""
    _require_reader(request)
    filters = request.GET.copy()
    filters.pop("page", None)  # the numbered pages of before: an old link shows the newest page
    raw = {name: filters.pop(name, [None])[-1] for name in CURSORS}
    cursors = {name: parse_id(value) for name, value in raw.items() if value is not None}
    form = AuditEventFilter(filters or None).form
    status = 200
    cursor_error = None
    if None in cursors.values() or len(cursors) > 1:
        cursor_error = BAD_CURSOR
        events = selectors.audit_events_visible_to(request.user).none()
        status = 400
    elif form.is_bound and not form.is_valid():
        events = selectors.audit_events_visible_to(request.user).none()
        status = 400
    else:
        events = selectors.audit_events_filtered(user=request.user, filters=form.cleaned_data if form.is_bound else {})
    page = selectors.audit_event_page(events, before=cursors.get("before"), after=cursors.get("after"), size=PAGE_SIZE)
    context = {
        "form": form,
        "page": page,
        "cursor_error": cursor_error,
        "query": filters.urlencode(),
        "head": selectors.audit_head(),
        "last_verification": selectors.audit_last_verification(),
        "can_verify": can_verify_audit_trail(request.user),
    }
    template = "audit/partials/_event_table.html" if request.htmx else "audit/auditevent_list.html"  # type: ignore[attr-defined]
    return render(request, template, context, status=status)


@login_required
@require_GET
def audit_event_export(request: HttpRequest, export_format: str) -> HttpResponseBase:
    """Stream the filtered trail as CSV or JSON Lines."""
    _require_reader(request)
    form = AuditEventFilter(request.GET).form
    if not form.is_valid():
        return render(request, "audit/auditevent_list.html", {"form": form, "page": None}, status=400)
    return trail_download(actor=acting_user(request), form=form, export_format=export_format)


@login_required
@require_POST
def audit_verify_start(request: HttpRequest) -> HttpResponse:
    """Queue a verification of the whole chain; the outcome appears on the page when it is done."""
    if not can_verify_audit_trail(request.user):
        raise PermissionDenied("Only the audit team and administrators can verify the audit trail.")
    user_id = request.user.pk
    transaction.on_commit(lambda: audit_verify_chain.delay(user_id))
    messages.info(request, "Verification started. The result appears below in a moment.")
    return redirect("audit:auditevent_list")


@login_required
@require_GET
def audit_verification_status(request: HttpRequest) -> HttpResponse:
    """HTMX fragment: the latest verification and the current head."""
    _require_reader(request)
    return render(
        request,
        "audit/partials/_verification.html",
        {
            "head": selectors.audit_head(),
            "last_verification": selectors.audit_last_verification(),
            "can_verify": can_verify_audit_trail(request.user),
        },
    )
