"""Compute a monitor's windows from its hours' profiles, and judge its breaches on the newest window.

One writer per monitor at a time (the monitor's row is locked), so windows computed by workers in
any order end the same: a window's results depend only on the profiles it merges, which are exact.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.monitoring import profiling
from apps.monitoring.choices import COUNTED, BatchKind
from apps.monitoring.models import Batch, BatchProfile, Monitor, WindowResult
from apps.monitoring.services.breaches import judge_breaches
from apps.monitoring.services.common import local_files, read_bytes
from apps.monitoring.services.profiles import JOINABLE
from apps.monitoring.windows import window_of
from apps.validation.models import result_fields


def windows_compute(*, monitor_id: int, hours: list[str]) -> int:
    """Recompute every window of the monitor that holds one of ``hours`` (ISO times); return how many.

    Side effects: WindowResult rows replaced; breaches opened or recovered on the newest window of
    the breach size (``judge_breaches``: audit, finding, notifications).
    """
    moments = sorted({datetime.fromisoformat(hour) for hour in hours})
    with transaction.atomic():
        monitor = Monitor.objects.select_for_update().select_related("version__model__project").get(pk=monitor_id)
        computed = 0
        for size in monitor.window_sizes:
            for start, end in sorted({window_of(size, moment) for moment in moments}):
                _compute(monitor, size, start, end)
                computed += 1
        judge_breaches(monitor)
    return computed


def _compute(monitor: Monitor, size: str, start: datetime, end: datetime) -> None:
    profiles = list(
        BatchProfile.objects.filter(monitor=monitor, start__gte=start, start__lt=end, batch__status__in=COUNTED)
        .select_related("batch")
        .order_by("start", "batch_id")
    )
    WindowResult.objects.filter(monitor=monitor, size=size, start=start).delete()
    if not profiles:
        return
    results = _results(monitor, profiles, start, end)
    rows = sum(p.rows for p in profiles)
    now = timezone.now()
    WindowResult.objects.bulk_create(
        WindowResult(
            monitor=monitor,
            size=size,
            start=start,
            end=end,
            position=position,
            rows=rows,
            computed_at=now,
            **result_fields(item),
        )
        for position, item in enumerate(results)
    )


def _results(monitor: Monitor, profiles: list[BatchProfile], start: datetime, end: datetime) -> list[dict[str, Any]]:
    """The window's results; with every raw batch still kept, the metrics that need rows too."""
    data = [read_bytes(p.file.name) for p in profiles]
    batches = {p.batch_id: p.batch for p in profiles}
    raw = [b.file.name for b in batches.values()]
    if not all(raw) or not monitor.reference.file:
        return profiling.window(data, monitor.reference_state, reference_path=None, start=start, end=end)
    outcomes = list(
        Batch.objects.filter(monitor=monitor, kind=BatchKind.OUTCOMES, status__in=JOINABLE)
        .exclude(file="")
        .order_by("pk")
        .values_list("file", flat=True)
    )
    with local_files([monitor.reference.file.name, *raw, *outcomes]) as (reference, *paths):
        try:
            return profiling.window(
                data,
                monitor.reference_state,
                reference_path=reference,
                predictions=paths[: len(raw)],
                outcomes=paths[len(raw) :],
                start=start,
                end=end,
            )
        except profiling.BatchError:  # a raw file went bad: the profiles alone still give the rest
            return profiling.window(data, monitor.reference_state, reference_path=None, start=start, end=end)
