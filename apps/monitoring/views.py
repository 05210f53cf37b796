"""The monitoring pages of a deployed version: its monitor, and the form that sets one up. Thin: reads are
selectors', the one write is the service's (which checks the permission and writes the audit event)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from apps.core.forms import add_service_errors
from apps.core.permissions import acting_user, require
from apps.monitoring import presenters, selectors, services
from apps.monitoring.choices import WindowSize
from apps.monitoring.forms import MonitorForm
from apps.monitoring.permissions import MONITOR_DENIED, can_monitor
from apps.registry import selectors as registry_selectors
from apps.registry.choices import VersionStatus
from apps.validation import selectors as validation_selectors
from apps.workflows import selectors as workflow_selectors

WINDOWS_SHOWN = 90  # the newest windows of the chosen size on the page; the API gives the rest


@login_required
@require_GET
def monitor_detail(request: HttpRequest, monitor_id: int) -> HttpResponse:
    monitor = get_object_or_404(selectors.monitors_visible_to(request.user), pk=monitor_id)
    size = request.GET.get("size") or monitor.breach_window
    if size not in monitor.window_sizes or size not in WindowSize.values:
        size = monitor.breach_window
    results = selectors.recent_windows(monitor, size=size, windows=WINDOWS_SHOWN)
    baseline = presenters.baseline_words(monitor)
    shifts = presenters.latest_shifts(monitor, results, baseline)
    target = (monitor.spec.get("columns") or {}).get("target") if isinstance(monitor.spec, dict) else None
    charts = presenters.charts(results, shifts=shifts, baseline=baseline, target=target)
    batches = list(selectors.batches_of(monitor)[:20])
    context = {
        "monitor": monitor,
        "version": monitor.version,
        "project": monitor.version.model.project,
        "size": size,
        "size_label": WindowSize(size).label.lower(),
        "sizes": [(s, WindowSize(s).label) for s in monitor.window_sizes if s in WindowSize.values],
        "charts": charts,
        "summary": presenters.summary(charts, WindowSize(size).label.lower()),
        "baseline": baseline,
        "breaches": list(selectors.breaches_of(monitor)[:20]),
        "batches": batches,
    }
    return render(request, "monitoring/monitor_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def monitor_create(request: HttpRequest, deployment_id: int) -> HttpResponse:
    """Set up a monitor of a deployment (the project's owners, developers and IT operations)."""
    deployment = get_object_or_404(
        workflow_selectors.deployments_visible_to(request.user).select_related("version__model__project"),
        pk=deployment_id,
    )
    version = deployment.version
    project = version.model.project
    require(can_monitor(request.user, project), MONITOR_DENIED)
    datasets = list(
        registry_selectors.dataset_versions_visible_to(request.user)
        .filter(dataset__project=project)
        .exclude(file="")
        .select_related("dataset")
        .order_by("dataset__name", "-number")
    )
    suites = list(validation_selectors.suites_visible_to(request.user).filter(project=project).order_by("name"))
    form = MonitorForm(request.POST or None, datasets=datasets, suites=suites)
    if request.method == "POST" and form.is_valid():
        try:
            monitor = services.monitor_create(
                actor=acting_user(request), deployment=deployment, **form.service_arguments()
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Monitor {monitor.name} set up. Next: send it batches of predictions.")
            return redirect("monitoring:monitor_detail", monitor_id=monitor.pk)
    context = {
        "form": form,
        "deployment": deployment,
        "version": version,
        "project": project,
        "deployed_now": version.status == VersionStatus.DEPLOYED,
        "default_run": selectors.approved_validation(deployment),
    }
    return render(request, "monitoring/monitor_form.html", context, status=400 if request.method == "POST" else 200)
