"""Turn a run's results into what its page shows: a plain-language summary and chart geometry.

Charts are inline SVG computed here (no chart library, no internet asset).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from apps.validation.models import CheckResult, ValidationRun

CHECK_WORDS = {
    "performance": ("Performance", "how well the model predicts on the current data"),
    "drift": ("Data drift", "whether the current data still looks like the reference data"),
    "fairness": ("Fairness", "whether groups of people are treated alike"),
    "quality": ("Data quality", "whether the data is complete and as expected"),
    "documentation": ("Documentation", "whether the model card is complete"),
    "integrity": ("Integrity", "whether the artifact is the one registered"),
}


@dataclass
class Section:
    check: str
    title: str
    meaning: str
    results: list[CheckResult] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for result in self.results:
            counts[result.status] += 1
        return dict(counts)

    @property
    def worst(self) -> str:
        for status in ("fail", "error", "warn", "pass", "skipped"):
            if status in self.counts:
                return status
        return "skipped"


def sections(results: list[CheckResult]) -> list[Section]:
    by_check: dict[str, Section] = {}
    for result in results:
        title, meaning = CHECK_WORDS.get(result.check_name, (result.check_name.title(), ""))
        by_check.setdefault(result.check_name, Section(result.check_name, title, meaning)).results.append(result)
    return list(by_check.values())


def _label(result: CheckResult) -> str:
    where = result.column or result.attribute or ""
    if result.group:
        where = f"{where} = {result.group}" if where else result.group
    return f"{result.metric.replace('_', ' ')}" + (f" of {where}" if where else "")


def summary(run: ValidationRun, parts: list[Section]) -> list[str]:
    """Sentences a business reader understands: the verdict, then what failed and what it means."""
    if run.status == "error":
        return [f"The checks could not run: {run.error}"]
    if not run.finished:
        return ["The checks are still running."]
    lines = []
    failing = [s for s in parts if s.worst == "fail"]
    if not failing:
        lines.append(
            "All checks passed." if all(s.worst != "warn" for s in parts) else "The checks passed, with warnings."
        )
    else:
        names = ", ".join(s.title.lower() for s in failing)
        lines.append(
            f"The model did not pass: {names} {'is' if len(failing) == 1 else 'are'} outside the agreed limits."
        )
    for part in parts:
        failed = [r for r in part.results if r.status == "fail"]
        warned = [r for r in part.results if r.status == "warn"]
        if failed:
            items = "; ".join(_label(r) for r in failed[:5]) + (
                f" and {len(failed) - 5} more" if len(failed) > 5 else ""
            )
            lines.append(f"{part.title} ({part.meaning}): {len(failed)} failed — {items}.")
        elif warned:
            lines.append(
                f"{part.title} ({part.meaning}): passed, with {len(warned)} warning{'s' if len(warned) > 1 else ''}."
            )
        elif part.worst == "pass":
            lines.append(f"{part.title} ({part.meaning}): passed.")
    errors = sum(1 for part in parts for r in part.results if r.status == "error")
    if errors:
        lines.append(f"{errors} value{'s' if errors > 1 else ''} could not be computed; the tables say why.")
    return lines


def drift_bars(results: list[CheckResult], width: int = 360, bar: int = 18) -> dict[str, Any] | None:
    """Horizontal bars of PSI per feature, with the failing limit as a line."""
    rows = [r for r in results if r.check_name == "drift" and r.metric == "psi" and r.value is not None]
    if not rows:
        return None
    limit = next((r.threshold.get("max") for r in rows if isinstance(r.threshold, dict) and "max" in r.threshold), None)
    top = max([r.value for r in rows if r.value is not None] + [limit or 0, 0.01])
    scale = (width - 160) / top  # bars start at x=150, after the label and the value
    bars = [
        {
            "y": i * (bar + 6),
            "label": r.column,
            "w": max(1.0, (r.value or 0) * scale),
            "value": r.value,
            "status": r.status,
        }
        for i, r in enumerate(rows)
    ]
    return {
        "bars": bars,
        "height": len(rows) * (bar + 6),
        "bar": bar,
        "limit_x": 150 + limit * scale if limit is not None else None,
        "limit": limit,
        "width": width,
    }


def group_bars(results: list[CheckResult], width: int = 360, bar: int = 18) -> list[dict[str, Any]]:
    """Per sensitive attribute: selection rate per group as bars, with the parity difference."""
    charts = []
    attributes = sorted({r.attribute for r in results if r.check_name == "fairness" and r.group})
    for attribute in attributes:
        rates = [
            r for r in results
            if r.check_name == "fairness" and r.attribute == attribute and r.metric == "selection_rate" and r.group
        ]  # fmt: skip
        if not rates:
            continue
        disparity = next(
            (r for r in results if r.attribute == attribute and r.metric == "demographic_parity_difference"), None
        )
        scale = (width - 160) / 1.0
        bars = [
            {"y": i * (bar + 6), "label": r.group, "w": max(1.0, (r.value or 0) * scale), "value": r.value}
            for i, r in enumerate(rates)
        ]
        charts.append({
            "attribute": attribute, "bars": bars, "height": len(bars) * (bar + 6), "bar": bar, "width": width,
            "disparity": disparity.value if disparity else None,
            "disparity_status": disparity.status if disparity else None,
        })  # fmt: skip
    return charts


def roc_path(run: ValidationRun, size: int = 220) -> str:
    points = (run.curves or {}).get("roc") or []
    return " ".join(f"{x * size:.1f},{size - y * size:.1f}" for x, y in points)
