"""The home page: what waits for the signed-in person, gathered from several apps."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from apps.audit import selectors as audit_selectors
from apps.core.permissions import acting_user
from apps.workflows import selectors as workflow_selectors


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Show the signed-in person what concerns them, in the same number of queries however much waits."""
    user = acting_user(request)
    context = {
        "recent_events": audit_selectors.audit_events_by_actor(actor=user, limit=10),
        "waiting_reviews": workflow_selectors.reviews_waiting_for(user),
        "my_findings": workflow_selectors.findings_owned_open(user),
        "recertifications": workflow_selectors.recertifications_for(user),
        "now": timezone.now(),
        "my_submissions": workflow_selectors.reviews_visible_to(user).filter(submitted_by_id=user.pk)[:10],
        "today": timezone.localdate(),
    }
    return render(request, "home/home.html", context)
