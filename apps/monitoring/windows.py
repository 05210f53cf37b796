"""Window arithmetic and the words for a metric: pure functions the services and selectors share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from apps.monitoring.choices import WINDOW_SECONDS, WindowSize


def window_of(size: str, moment: datetime) -> tuple[datetime, datetime]:
    """The UTC window of ``size`` that holds ``moment``: hours, days from midnight, weeks from Monday."""
    moment = moment.astimezone(UTC)
    start = moment.replace(minute=0, second=0, microsecond=0)
    if size in (WindowSize.DAY, WindowSize.WEEK):
        start = start.replace(hour=0)
    if size == WindowSize.WEEK:
        start -= timedelta(days=start.weekday())
    return start, start + timedelta(seconds=WINDOW_SECONDS[WindowSize(size)])


def metric_key(result: dict[str, Any]) -> str:
    """One metric of a monitor, whatever window it is read in: check, metric, column, attribute, group."""
    parts = (
        result.get("check"),
        result.get("metric"),
        result.get("column"),
        result.get("attribute"),
        result.get("group"),
    )
    return ":".join("" if part is None else str(part) for part in parts)[:700]


def threshold_words(threshold: object) -> str:
    if not isinstance(threshold, dict):
        return ""
    bounds = []
    if isinstance(threshold.get("max"), (int, float)):
        bounds.append(f"at most {threshold['max']:g}")
    if isinstance(threshold.get("min"), (int, float)):
        bounds.append(f"at least {threshold['min']:g}")
    return " and ".join(bounds)


def describe(check: str, metric: str, column: str, attribute: str, group: str, value: float | None) -> str:
    """The metric in words a business reader follows: what it measures, on what, and its value."""
    what = {
        "drift": f"the distribution of {column or 'the data'} has moved away from the reference",
        "performance": f"the model's {metric.replace('_', ' ')} has changed",
        "fairness": f"the model treats the groups of {attribute or 'a sensitive attribute'} differently",
        "quality": f"the data quality of {column or 'the batches'} has changed",
    }.get(check, f"{check} {metric} has changed")
    if check == "fairness" and group:
        what = f"the model treats group {group} of {attribute} differently"
    shown = "no value" if value is None else f"{value:.4g}"
    return f"{what} ({metric.replace('_', ' ')} {shown})"
