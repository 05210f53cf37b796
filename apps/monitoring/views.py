"""The monitoring page of a deployed version's monitor: thin, the reads are selectors'."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from apps.monitoring import presenters, selectors
from apps.monitoring.choices import WindowSize

WINDOWS_SHOWN = 90  # the newest windows of the chosen size on the page; the API gives the rest


@login_required
@require_GET
def monitor_detail(request: HttpRequest, monitor_id: int) -> HttpResponse:
    monitor = get_object_or_404(selectors.monitors_visible_to(request.user), pk=monitor_id)
    size = request.GET.get("size") or monitor.breach_window
    if size not in monitor.window_sizes or size not in WindowSize.values:
        size = monitor.breach_window
    results = selectors.recent_windows(monitor, size=size, windows=WINDOWS_SHOWN)
    context = {
        "monitor": monitor,
        "version": monitor.version,
        "project": monitor.version.model.project,
        "size": size,
        "sizes": [(s, WindowSize(s).label) for s in monitor.window_sizes],
        "charts": presenters.charts(results),
        "breaches": list(selectors.breaches_of(monitor)[:20]),
        "batches": list(selectors.batches_of(monitor)[:20]),
    }
    return render(request, "monitoring/monitor_detail.html", context)
