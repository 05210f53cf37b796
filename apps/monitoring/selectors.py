"""Reads of monitoring, restricted to what the user may see."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from apps.monitoring.models import Batch, Breach, KpiActual, Monitor, WindowResult
from apps.monitoring.permissions import can_monitor
from apps.projects.models import Project
from apps.registry.choices import VersionStatus
from apps.validation.choices import RunStatus
from apps.validation.models import ValidationRun
from apps.workflows.models import Deployment

# A monitor is in service while its version is deployed: a retired version's monitors no longer count on the
# tiles, are not checked for late feeds and their sources are not read (their history stays readable).
IN_SERVICE = Q(version__status=VersionStatus.DEPLOYED)

if TYPE_CHECKING:
    from apps.core.types import Viewer
    from apps.registry.models import ModelVersion

GATE_REASONS_SHOWN = 5


def monitors_visible_to(user: Viewer) -> QuerySet[Monitor]:
    return Monitor.objects.filter(version__model__project__in=Project.objects.visible_to(user)).select_related(
        "version__model__project", "deployment", "reference__dataset", "created_by"
    )


def batches_of(monitor: Monitor) -> QuerySet[Batch]:
    return Batch.objects.filter(monitor=monitor).select_related("received_by")


def breaches_of(monitor: Monitor) -> QuerySet[Breach]:
    return Breach.objects.filter(monitor=monitor).select_related("finding")


def window_series(
    monitor: Monitor,
    *,
    size: str,
    metric: str | None = None,
    column: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[WindowResult]:
    """A monitor's results of one window size over time (oldest first), optionally one metric of one column."""
    results = WindowResult.objects.filter(monitor=monitor, size=size)
    if metric:
        results = results.filter(metric=metric)
    if column is not None:
        results = results.filter(column=column)
    if since is not None:
        results = results.filter(start__gte=since)
    if until is not None:
        results = results.filter(start__lt=until)
    return results.order_by("start", "position")


def kpi_actuals_of(kpi_id: int) -> QuerySet[KpiActual]:
    return (
        KpiActual.objects.filter(measurement__kpi_id=kpi_id)
        .select_related("measurement__recorded_by", "deployment__version__model")
        .order_by("measurement__measured_at", "measurement__pk")
    )


def gate_refusals(version: ModelVersion, label: str) -> list[str]:
    """Why the gate refuses ``version`` for monitoring: its gate-blocking monitors' open breaches."""
    breaches = (
        Breach.objects.filter(monitor__version=version, monitor__gate_blocking=True, recovered_at__isnull=True)
        .select_related("monitor")
        .order_by("opened_at", "pk")[: GATE_REASONS_SHOWN + 1]
    )
    reasons = [
        f"{label} breaches its monitor {b.monitor.name}: {b.check_name} {b.metric}"
        + (f" of {b.column or b.attribute}" if b.column or b.attribute else "")
        + f" since the window of {b.window_start:%Y-%m-%d %H:00} UTC; the gate refuses until it recovers."
        for b in breaches
    ]
    return reasons[:GATE_REASONS_SHOWN]


def recent_windows(monitor: Monitor, *, size: str, windows: int) -> list[WindowResult]:
    """The results of the monitor's newest ``windows`` windows of ``size``, oldest first."""
    starts = list(
        WindowResult.objects.filter(monitor=monitor, size=size, position=0)
        .order_by("-start")
        .values_list("start", flat=True)[:windows]
    )
    if not starts:
        return []
    return list(
        WindowResult.objects.filter(monitor=monitor, size=size, start__gte=min(starts)).order_by("start", "position")
    )


def active_deployments(version: ModelVersion) -> list[Deployment]:
    """The version's latest deployment to each environment (one query): what a new monitor would watch."""
    newer = Deployment.objects.filter(version=version, environment=OuterRef("environment")).filter(
        Q(deployed_at__gt=OuterRef("deployed_at")) | Q(deployed_at=OuterRef("deployed_at"), pk__gt=OuterRef("pk"))
    )
    return list(Deployment.objects.filter(version=version).exclude(Exists(newer)).order_by("environment")[:20])


def monitoring_panel(*, user: Viewer, version: ModelVersion) -> dict[str, object]:
    """What the version page shows of monitoring: its monitors, each with its open breaches counted (one query),
    and, to those who may set one up while the version is deployed, its deployments to monitor (one more)."""
    monitors = (
        Monitor.objects.filter(version=version)
        .select_related("deployment")
        .annotate(breaching=Count("breaches", filter=Q(breaches__recovered_at__isnull=True)))
        .order_by("name")
    )
    setups: list[Deployment] = []
    if version.status == VersionStatus.DEPLOYED and can_monitor(user, version.model.project):
        setups = active_deployments(version)
    return {"monitors": list(monitors[:20]), "monitor_setups": setups}


def approved_validation(deployment: Deployment) -> ValidationRun | None:
    """The newest passing validation run of the deployed version: its evaluation data and suite are the default."""
    return (
        ValidationRun.objects.filter(version=deployment.version, status=RunStatus.SUCCEEDED)
        .select_related("current__dataset")
        .order_by("-created_at", "-pk")
        .first()
    )
