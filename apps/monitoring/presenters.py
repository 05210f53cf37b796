"""What the monitoring page draws: a metric over time against its threshold, as SVG coordinates (no script)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from apps.monitoring.models import WindowResult
from apps.monitoring.windows import describe, metric_key, threshold_words

WIDTH, HEIGHT, LEFT, BOTTOM = 560, 160, 44, 22
SERIES_SHOWN = 12


@dataclass(frozen=True)
class Chart:
    title: str
    sentence: str
    points: str
    dots: list[dict[str, Any]]
    limits: list[dict[str, Any]]
    low: float
    high: float
    first: str
    last: str
    latest: float | None
    status: str


def _bounds(values: list[float], limits: list[float]) -> tuple[float, float]:
    low, high = min(values + limits), max(values + limits)
    if high == low:
        return low - 1, high + 1
    pad = (high - low) * 0.1
    return low - pad, high + pad


def chart(results: Sequence[WindowResult]) -> Chart | None:
    """One metric's windows (oldest first) as a line chart with its threshold; None when nothing has a value."""
    shown = [r for r in results if r.value is not None]
    if not shown:
        return None
    values = [float(r.value) for r in shown if r.value is not None]
    threshold = shown[-1].threshold if isinstance(shown[-1].threshold, dict) else {}
    limits = [float(threshold[k]) for k in ("min", "max") if isinstance(threshold.get(k), (int, float))]
    low, high = _bounds(values, limits)
    inner_w, inner_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - 8
    step = inner_w / max(len(shown) - 1, 1)

    def y(value: float) -> float:
        return 8 + inner_h * (1 - (value - low) / (high - low))

    dots = [
        {"x": round(LEFT + i * step, 1), "y": round(y(v), 1), "value": v, "status": r.status, "start": r.start}
        for i, (r, v) in enumerate(zip(shown, values, strict=True))
    ]
    last = shown[-1]
    where = last.column or last.attribute
    title = f"{last.check_name} {last.metric}".replace("_", " ") + (f" of {where}" if where else "")
    if last.group:
        title += f" (group {last.group})"
    words = describe(last.check_name, last.metric, last.column, last.attribute, last.group, last.value)
    limit = threshold_words(last.threshold)
    sentence = (
        f"In the latest window {words}, beyond its threshold ({limit})."
        if last.status == "fail"
        else f"In the latest window the {last.metric.replace('_', ' ')} is "
        f"{'no value' if last.value is None else format(last.value, '.4g')}"
        + (f", within its threshold ({limit})." if limit else ".")
    )
    return Chart(
        title=title,
        sentence=sentence,
        points=" ".join(f"{d['x']},{d['y']}" for d in dots),
        dots=dots,
        limits=[{"y": round(y(v), 1), "value": v} for v in limits],
        low=low,
        high=high,
        first=f"{shown[0].start:%d %b %H:00}",
        last=f"{last.start:%d %b %H:00}",
        latest=last.value,
        status=last.status,
    )


def charts(results: Sequence[WindowResult]) -> list[Chart]:
    """One chart per metric that has a threshold, breaching ones first, at most ``SERIES_SHOWN``."""
    series: dict[str, list[WindowResult]] = {}
    for result in results:
        if result.threshold:
            series.setdefault(metric_key(result.as_dict()), []).append(result)
    drawn = [c for c in (chart(points) for points in series.values()) if c is not None]
    drawn.sort(key=lambda c: (c.status != "fail", c.title))
    return drawn[:SERIES_SHOWN]
