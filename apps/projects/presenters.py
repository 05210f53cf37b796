"""What the project page draws of its KPIs: target against actual over time, and the sentence a reader needs.

Pure layout over what the selectors read: the measurements of each KPI (its newest ones) and, from
monitoring, which version was in production when each was measured. No query runs here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from apps.core.charts import Marker, Point, TimeChart, format_day, format_value, time_chart
from apps.projects.choices import KpiDirection
from apps.projects.models import Kpi, KpiMeasurement


@dataclass(frozen=True)
class KpiChart:
    kpi: Kpi
    chart: TimeChart | None
    sentence: str
    label: str  # the chart's accessible name: what it shows, over which dates
    missed: int
    rows: list[dict[str, Any]]  # the values as a table, newest first, for readers who do not see the chart


def misses(kpi: Kpi, value: Decimal) -> bool:
    """Whether ``value`` misses the KPI's target (above it when lower is better, below it otherwise)."""
    return value > kpi.target if kpi.direction == KpiDirection.LOWER else value < kpi.target


def _amount(value: Decimal | float, unit: str) -> str:
    return f"{format_value(float(value))} {unit}".strip()


def sentence(kpi: Kpi, last: KpiMeasurement | None, version: str = "") -> str:
    """One plain sentence on the newest value against the target ("The last value, 0.71 on 3 Dec, is below ...")."""
    target = _amount(kpi.target, kpi.unit)
    if last is None:
        return f"{kpi.name} has not been measured yet; its target is {target}."
    value = f"The last value, {_amount(last.value, kpi.unit)} on {format_day(last.measured_at)}"
    under = f", while {version} was in production" if version else ""
    if not misses(kpi, last.value):
        return f"{value}{under}, meets the target {target}."
    side = "above" if kpi.direction == KpiDirection.LOWER else "below"
    better = " (lower is better)" if kpi.direction == KpiDirection.LOWER else ""
    return f"{value}{under}, is {side} the target {target}{better}."


def _markers(measurements: list[KpiMeasurement], versions: Mapping[int, Mapping[str, Any]]) -> list[Marker]:
    """Where the version in production changed between two measurements (the first one it was seen at)."""
    markers, previous = [], None
    for m in measurements:
        label = versions.get(m.pk, {}).get("label", "")
        if label and label != previous:
            markers.append(Marker(m.measured_at, label.rsplit(" ", 1)[-1]))
        previous = label or previous
    return markers


def kpi_chart(kpi: Kpi, versions: Mapping[int, Mapping[str, Any]]) -> KpiChart:
    """The chart of one KPI from the measurements its selector prefetched (newest first)."""
    # An empty prefetch is an answer (no values yet), not a reason to ask the database again for each KPI.
    prefetched = getattr(kpi, "recent_measurements", None)
    recent: list[KpiMeasurement] = list(prefetched if prefetched is not None else kpi.measurements.all()[::-1])
    measurements = recent[::-1]  # oldest first
    last = measurements[-1] if measurements else None
    version_of = {m.pk: versions.get(m.pk, {}).get("label", "") for m in measurements}
    words = sentence(kpi, last, version_of.get(last.pk, "") if last else "")
    rows = [
        {"at": m.measured_at, "value": m.value, "missed": misses(kpi, m.value), "version": version_of[m.pk]}
        for m in recent
    ]
    missed = sum(1 for row in rows if row["missed"])
    if not measurements:
        return KpiChart(kpi, None, words, f"{kpi.name}: no values yet", 0, rows)
    points = [
        Point(
            at=m.measured_at,
            value=float(m.value),
            missed=misses(kpi, m.value),
            note=f"{version_of[m.pk]} in production" if version_of[m.pk] else "",
        )
        for m in measurements
    ]
    chart = time_chart(points, target=float(kpi.target), markers=_markers(measurements, versions))
    first, final = measurements[0].measured_at, measurements[-1].measured_at
    label = (
        f"{kpi.name} against its target {_amount(kpi.target, kpi.unit)}, {len(points)} value"
        f"{'s' if len(points) != 1 else ''} from {format_day(first)} to {format_day(final)}, {missed} missed"
    )
    return KpiChart(kpi, chart, words, label, missed, rows)


def kpi_charts(kpis: list[Kpi], versions: Mapping[int, Mapping[str, Any]]) -> list[KpiChart]:
    return [kpi_chart(kpi, versions) for kpi in kpis]


def measurement_ids(kpis: list[Kpi]) -> list[int]:
    """The ids of the measurements the page shows (those the selector prefetched)."""
    return [m.pk for kpi in kpis for m in getattr(kpi, "recent_measurements", [])]
