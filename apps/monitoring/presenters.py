"""What the monitoring page draws: a metric over time against its threshold, as SVG coordinates (no script),
and the plain words of what changed, for a reader who knows the business rather than the statistics."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import pairwise
from typing import Any

from django.core.files.storage import default_storage

from apps.monitoring.choices import COUNTED
from apps.monitoring.models import BatchProfile, Monitor, WindowResult
from apps.monitoring.windows import describe, metric_key, threshold_words
from apps.validation.choices import RunStatus
from apps.validation.models import ValidationRun

logger = logging.getLogger("apps.monitoring.presenters")

WIDTH, HEIGHT, LEFT, BOTTOM = 560, 160, 44, 22
SERIES_SHOWN = 12
# How many hour profiles of the latest window the page reads to say which way a feature moved; a window
# fed more often than that is described without the direction (the page stays quick on object storage).
PROFILES_READ = 200
SHIFT_BINS = 0.5  # the window's mean reference bin moved by half a decile or more: "higher" or "lower"
SPREAD_RATIO = 1.5


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
    crossed: dict[str, Any] | None = None  # where the series last went from within to beyond its threshold


@dataclass(frozen=True)
class Shift:
    """Which way a feature moved in a window against the reference, in words (``what``) and figures (``figures``)."""

    what: str
    figures: str = ""
    start: datetime | None = None  # the window it describes (set by window_shifts)


def _bounds(values: list[float], limits: list[float]) -> tuple[float, float]:
    low, high = min(values + limits), max(values + limits)
    if high == low:
        return low - 1, high + 1
    pad = (high - low) * 0.1
    return low - pad, high + pad


def _name(result: WindowResult) -> str:
    return result.column or result.attribute or "the data"


METRIC_NAMES = {
    "psi": "PSI",
    "ks_statistic": "KS statistic",
    "ks_pvalue": "KS p-value",
    "chi2_pvalue": "chi-square p-value",
    "roc_auc": "ROC AUC",
    "f1": "F1 score",
    "macro_f1": "macro F1 score",
    "mae": "mean absolute error",
    "rmse": "root mean squared error",
    "r2": "R²",
    "tpr": "true positive rate",
    "fpr": "false positive rate",
}


def metric_name(metric: str) -> str:
    return METRIC_NAMES.get(metric, metric.replace("_", " "))


def plain_sentence(result: WindowResult, shift: Shift | None, baseline: str) -> str:
    """The latest window of one metric in a sentence a business reader follows, with what it is measured against.

    ``baseline`` names the reference in words ("at approval", "in the reference data").
    """
    limit = threshold_words(result.threshold)
    within = f", within the threshold of {limit}" if limit else ""
    beyond = f", beyond the threshold of {limit}" if limit else ""
    shown = "no value" if result.value is None else format(result.value, ".4g")
    metric = metric_name(result.metric)
    failing = result.status == "fail"
    where = f" of {_name(result)}" if result.column or result.attribute else ""
    if result.group:
        where += f" (group {result.group})"
    if result.check_name == "drift":
        name = _name(result)
        if not failing:
            return f"In the latest window {name} looks as it did {baseline}: its {metric} is {shown}{within}."
        what = shift.what if shift else f"{name} no longer looks as it did {baseline}"
        figures = f": {shift.figures}" if shift and shift.figures else ""
        return f"In the latest window {what}{figures}. Its {metric} is {shown}{beyond}."
    if failing and isinstance(result.threshold, dict):
        low, high = result.threshold.get("min"), result.threshold.get("max")
        if result.value is not None and isinstance(high, (int, float)) and result.value > high:
            side = "higher than its threshold allows"
        elif result.value is not None and isinstance(low, (int, float)) and result.value < low:
            side = "lower than its threshold allows"
        else:
            side = "out of its threshold"
        return f"In the latest window the {metric}{where} is {side}: {shown}, against {limit}."
    if failing:
        words = describe(result.check_name, result.metric, result.column, result.attribute, result.group, result.value)
        return f"In the latest window {words}{beyond}."
    return f"In the latest window the {metric}{where} is {shown}{within}."


def chart(
    results: Sequence[WindowResult], *, shift: Shift | None = None, baseline: str = "in the reference data"
) -> Chart | None:
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
    crossed = None
    for before, after in pairwise(dots):
        if before["status"] != "fail" and after["status"] == "fail":
            crossed = {"x": after["x"], "start": after["start"]}
    last = shown[-1]
    if shift is not None and shift.start is not None and shift.start != last.start:
        shift = None  # it describes a newer window than this metric's latest value
    where = last.column or last.attribute
    title = f"{last.check_name} {last.metric}".replace("_", " ") + (f" of {where}" if where else "")
    if last.group:
        title += f" (group {last.group})"
    return Chart(
        title=title,
        sentence=plain_sentence(last, shift if last.check_name == "drift" else None, baseline),
        points=" ".join(f"{d['x']},{d['y']}" for d in dots),
        dots=dots,
        limits=[{"y": round(y(v), 1), "value": v} for v in limits],
        low=low,
        high=high,
        first=f"{shown[0].start:%d %b %H:00}",
        last=f"{last.start:%d %b %H:00}",
        latest=last.value,
        status=last.status,
        crossed=crossed,
    )


def charts(
    results: Sequence[WindowResult],
    *,
    shifts: dict[str, Shift] | None = None,
    baseline: str = "in the reference data",
    target: str | None = None,
) -> list[Chart]:
    """One chart per metric that has a threshold, breaching ones first, at most ``SERIES_SHOWN``.

    ``shifts`` says, per drift column, which way it moved in the latest window (``window_shifts``). The
    quality of the ``target`` column is left out: labels arrive later, and it never breaches (as in
    services.breaches).
    """
    series: dict[str, list[WindowResult]] = {}
    for result in results:
        if result.check_name == "quality" and target and result.column == target:
            continue
        if result.threshold:
            series.setdefault(metric_key(result.as_dict()), []).append(result)
    shifts = shifts or {}
    drawn = [
        c
        for c in (chart(points, shift=shifts.get(points[-1].column), baseline=baseline) for points in series.values())
        if c is not None
    ]
    drawn.sort(key=lambda c: (c.status != "fail", c.title))
    return drawn[:SERIES_SHOWN]


def _shares(counts: Sequence[float]) -> list[float]:
    total = float(sum(counts))
    return [c / total for c in counts] if total else []


def _percent(share: float) -> str:
    return f"{share * 100:.0f}%"


def numeric_shift(name: str, reference: dict[str, Any], window: Sequence[int], baseline: str) -> Shift | None:
    """Which way a numeric feature moved: its window's counts in the reference's decile bins against the reference's.

    The bins are ordered, so the mean bin (in deciles of the reference) says higher or lower; when it barely
    moved, the spread of the bins says more spread out or more concentrated.
    """
    ref = _shares(reference.get("counts") or [])
    cur = _shares(window)
    if not ref or len(ref) != len(cur):
        return None
    index = range(len(ref))
    ref_mean = sum(i * p for i, p in zip(index, ref, strict=True))
    cur_mean = sum(i * q for i, q in zip(index, cur, strict=True))
    figures = ""
    edges = reference.get("edges") or []
    if len(edges) == 9 and len(ref) == 10:  # nine distinct deciles: bins 5 to 9 lie above the reference's median
        above, then = _percent(sum(cur[5:])), _percent(sum(ref[5:]))
        figures = f"{above} of its values are above its median {baseline}, against {then} then"
    if cur_mean - ref_mean >= SHIFT_BINS:
        return Shift(f"{name} is higher than {baseline}", figures)
    if ref_mean - cur_mean >= SHIFT_BINS:
        return Shift(f"{name} is lower than {baseline}", figures)
    ref_spread = sum((i - ref_mean) ** 2 * p for i, p in zip(index, ref, strict=True))
    cur_spread = sum((i - cur_mean) ** 2 * q for i, q in zip(index, cur, strict=True))
    if cur_spread > ref_spread * SPREAD_RATIO:
        return Shift(f"{name} is more spread out than {baseline}")
    if cur_spread * SPREAD_RATIO < ref_spread:
        return Shift(f"{name} is more concentrated than {baseline}")
    return Shift(f"{name} is distributed differently than {baseline}")


def categorical_shift(name: str, reference: dict[str, Any], window: dict[str, int], baseline: str) -> Shift | None:
    """Which category of a feature gained most share in the window against the reference."""
    ref_counts: dict[str, int] = reference.get("counts") or {}
    ref_total, cur_total = sum(ref_counts.values()), sum(window.values())
    if not ref_total or not cur_total:
        return None
    gains = {
        text: window.get(text, 0) / cur_total - ref_counts.get(text, 0) / ref_total
        for text in set(ref_counts) | set(window)
    }
    text = max(sorted(gains), key=lambda t: gains[t])
    if gains[text] <= 0:
        return None
    before = ref_counts.get(text, 0) / ref_total
    then = f"{_percent(before)} then" if before else "none then"
    now = _percent(window.get(text, 0) / cur_total)
    return Shift(f"{name} is “{text}” more often than {baseline}", f"{now} of rows, against {then}")


def _sum_profiles(documents: Iterable[dict[str, Any]]) -> tuple[dict[str, list[int]], dict[str, dict[str, int]]]:
    bins: dict[str, list[int]] = {}
    categories: dict[str, dict[str, int]] = {}
    for document in documents:
        for column, counts in (document.get("bins") or {}).items():
            total = bins.setdefault(column, [0] * len(counts))
            if len(total) == len(counts):
                bins[column] = [a + int(b) for a, b in zip(total, counts, strict=True)]
        for column, texts in (document.get("categories") or {}).items():
            total_texts = categories.setdefault(column, {})
            for text, count in texts.items():
                total_texts[text] = total_texts.get(text, 0) + int(count)
    return bins, categories


def window_shifts(monitor: Monitor, *, start: datetime, end: datetime, baseline: str) -> dict[str, Shift]:
    """Per drift column, which way it moved in the window [start, end) against the monitor's reference.

    Reads the window's hour profiles (one query, then at most ``PROFILES_READ`` small JSON files from
    storage); a window with more profiles, or a profile that cannot be read, leaves the direction out.
    """
    files = list(
        BatchProfile.objects.filter(
            monitor=monitor, start__gte=start, start__lt=end, batch__status__in=COUNTED
        ).values_list("file", flat=True)[: PROFILES_READ + 1]
    )
    if not files or len(files) > PROFILES_READ:
        return {}
    documents = []
    try:
        for name in files:
            with default_storage.open(name, "rb") as stored:
                documents.append(json.loads(stored.read().decode("utf-8")))
    except (OSError, ValueError):
        logger.warning("monitor %s: a profile of the window from %s could not be read", monitor.pk, start)
        return {}
    bins, categories = _sum_profiles(documents)
    state = monitor.reference_state or {}
    shifts: dict[str, Shift] = {}
    for column, reference in (state.get("numeric") or {}).items():
        if column in bins and (found := numeric_shift(column, reference, bins[column], baseline)):
            shifts[column] = replace(found, start=start)
    for column, reference in (state.get("categorical") or {}).items():
        if column in categories and (found := categorical_shift(column, reference, categories[column], baseline)):
            shifts[column] = replace(found, start=start)
    return shifts


def baseline_words(monitor: Monitor) -> str:
    """How the page names the reference: "at approval" when it is the data a passing validation run of the
    version was checked on (the default reference), else "in the reference data" (one query)."""
    approved = ValidationRun.objects.filter(
        version=monitor.version_id, current=monitor.reference_id, status=RunStatus.SUCCEEDED
    ).exists()
    return "at approval" if approved else "in the reference data"


def latest_shifts(monitor: Monitor, results: Sequence[WindowResult], baseline: str) -> dict[str, Shift]:
    """The drift directions of the newest window shown, read only when a feature drifts beyond its threshold there."""
    if not results:
        return {}
    newest = max(r.start for r in results)
    latest = [r for r in results if r.start == newest]
    if not any(r.check_name == "drift" and r.status == "fail" for r in latest):
        return {}
    return window_shifts(monitor, start=newest, end=latest[0].end, baseline=baseline)


def summary(charts: Sequence[Chart], size_label: str) -> list[str]:
    """The page's opening words: what is out of its threshold now, or that nothing is."""
    if not charts:
        return []
    failing = [c.sentence.removeprefix("In the latest window ") for c in charts if c.status == "fail"]
    if not failing:
        return [f"In the latest {size_label} window every metric is within its threshold."]
    return [f"In the latest {size_label} window {sentence}" for sentence in failing]
