"""A computed metric before it is judged against a threshold, and the result it becomes."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from apps.validation.engine.spec import Thresholds

STATUSES = ("pass", "warn", "fail", "error", "skipped")
RESULT_KEYS = ("check", "metric", "column", "attribute", "group", "value", "status", "threshold", "message")


@dataclass(frozen=True)
class Measure:
    """A metric's value, or None with a note saying why; `error` marks data the metric cannot use."""

    value: float | int | str | None
    note: str | None = None
    error: bool = False

    @classmethod
    def number(cls, value: float | int, note: str | None = None) -> Measure:
        """Return a Measure for a number; a NaN or infinity becomes None with a note, never JSON."""
        if isinstance(value, float) and not math.isfinite(value):
            return cls(None, _join(note, "the value is not a finite number"))
        return cls(value, note)

    @classmethod
    def undefined(cls, note: str) -> Measure:
        return cls(None, note)

    @classmethod
    def unusable(cls, note: str) -> Measure:
        return cls(None, note, error=True)


def judge(measure: Measure, thresholds: Thresholds) -> tuple[str, str | None]:
    """Return the status and message of a measure against its thresholds.

    A value outside min/max fails, outside warn_min/warn_max warns; no threshold passes. A missing
    value is an error when a threshold expected one (the requirement could not be shown to hold)
    and skipped otherwise.
    """
    value = measure.value
    if measure.error or value is None or not isinstance(value, int | float):
        if measure.error:
            status = "error"
        elif value is None:
            status = "skipped" if thresholds.empty else "error"
        else:
            status = "pass"
        return status, _join(measure.note) if measure.note else None
    limits = (
        ("fail", thresholds.min, "below the minimum"),
        ("fail", thresholds.max, "above the maximum"),
        ("warn", thresholds.warn_min, "below the warning level"),
        ("warn", thresholds.warn_max, "above the warning level"),
    )
    for status, limit, words in limits:
        if limit is not None and (value < limit if words.startswith("below") else value > limit):
            return status, _join(measure.note, f"{_number(value)} is {words} {_number(limit)}")
    return "pass", _join(measure.note) if measure.note else None


def result(
    *,
    check: str,
    metric: str,
    measure: Measure,
    thresholds: Thresholds,
    column: str | None = None,
    attribute: str | None = None,
    group: str | None = None,
) -> dict[str, Any]:
    """Return the result dict of DESIGN section 6, judged against `thresholds`."""
    status, message = judge(measure, thresholds)
    return {
        "check": check,
        "metric": metric,
        "column": column,
        "attribute": attribute,
        "group": group,
        "value": measure.value,
        "status": status,
        "threshold": thresholds.as_dict(),
        "message": message,
    }


def _join(*parts: str | None) -> str:
    text = "; ".join(part for part in parts if part)
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _number(value: float | int) -> str:
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:.4g}"


def plural(count: int, noun: str, plural_noun: str | None = None) -> str:
    """Return "1 row" / "2,000 rows"."""
    word = noun if count == 1 else (plural_noun or noun + "s")
    return f"{count:,} {word}"
