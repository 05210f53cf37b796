"""The home page: what waits for the signed-in person, gathered from several apps."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from apps.audit import selectors as audit_selectors
from apps.core.permissions import acting_user
from apps.workflows import selectors as workflow_selectors

# Each list of the page shows at most this many rows, and says when there are more: a validator of a
# large organisation can have hundreds of reviews waiting and thousands of findings.
SHOWN = 10


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Show the signed-in person what concerns them, in the same number of queries however much waits."""
    user = acting_user(request)
    waiting = workflow_selectors.reviews_waiting_for(user, limit=SHOWN + 1)
    findings = list(workflow_selectors.findings_owned_open(user)[:SHOWN])
    recertifications = workflow_selectors.recertifications_for(user, limit=SHOWN + 1)
    context = {
        "recent_events": audit_selectors.audit_events_by_actor(actor=user, limit=10),
        "waiting_reviews": waiting[:SHOWN],
        "waiting_more": len(waiting) > SHOWN,
        "my_findings": findings,
        "my_findings_count": workflow_selectors.findings_owned_open(user).count(),
        "recertifications": recertifications[:SHOWN],
        "recertifications_more": len(recertifications) > SHOWN,
        "shown": SHOWN,
        "now": timezone.now(),
        "my_submissions": workflow_selectors.reviews_visible_to(user).filter(submitted_by_id=user.pk)[:SHOWN],
        "today": timezone.localdate(),
    }
    return render(request, "home/home.html", context)
