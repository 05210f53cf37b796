"""Many windows at once, for charts: each result's value and status over time, from profiles only.

window_series(windows, reference) returns, for every result window_results would give, its value and
status in each window (None and "skipped" where a window lacks it, or for the raw metrics), without
the messages (ask window_results for one window's). The counts of all windows are stacked and the
common metrics (numeric PSI, the label metrics, missing rates, row counts, selection rates) are
computed for all windows in one numpy pass with the same arithmetic; a window with anything
unusual (unusable labels, a feature without values, a fairness group, a category the reference
lacks) is computed by window_results itself. The tests check the two agree exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from apps.monitoring.engine.profile import Profile, merge
from apps.monitoring.engine.reference import Reference
from apps.monitoring.engine.window import RAW_METRICS, natural_order, window_results
from apps.validation.engine.drift import PSI_FLOOR
from apps.validation.engine.gamma import chi2_sf
from apps.validation.engine.spec import Check, Spec, Thresholds

Key = tuple[str, str, str | None, str | None, str | None]  # check, metric, column, attribute, group
_FAST = {
    ("drift", "psi"),
    ("drift", "chi2_pvalue"),
    ("fairness", "count"),
    ("fairness", "selection_rate"),
    ("fairness", "tpr"),
    ("fairness", "fpr"),
    ("fairness", "accuracy"),
    ("fairness", "demographic_parity_difference"),
    ("fairness", "demographic_parity_ratio"),
    ("fairness", "equalized_odds_difference"),
    ("performance", "accuracy"),
    ("performance", "precision"),
    ("performance", "recall"),
    ("performance", "f1"),
    ("quality", "row_count"),
    ("quality", "missing_rate"),
    ("quality", "range"),
}


_LIMITS = (("min", "fail", True), ("max", "fail", False), ("warn_min", "warn", True), ("warn_max", "warn", False))
_CONSTANT = {("quality", "schema"), ("documentation", "completeness"), ("integrity", "sha256")}


@dataclass
class Series:
    """Per result (in window_results' order): its key, threshold, and value and status per window."""

    keys: list[Key]
    thresholds: list[dict[str, float] | None]
    values: list[list[Any]]
    statuses: list[list[str]]
    computed_one_by_one: int = 0  # windows answered by window_results (something unusual in them)


def window_series(windows: Sequence[Sequence[Profile]], reference: Reference, spec: Spec | None = None) -> Series:
    """Return every result's value and status in each window (a window = its buckets' profiles)."""
    spec = spec or reference.spec
    totals = [items[0] if len(items) == 1 else merge(items) for items in windows]
    if not totals:
        return Series([], [], [], [])
    _, plan, _, _ = reference.plan(spec, totals[0].rows)
    fast = _Fast(totals, reference, spec)
    first = window_results(windows[0], reference, spec)  # the checks whose result is the same in every window
    columns: dict[Key, tuple[dict[str, float] | None, list[Any], list[str]]] = {}
    order: list[Key] = []
    for check in plan:
        if (check.check, check.metric) in _CONSTANT:
            for item in first:
                if item["check"] == check.check and item["metric"] == check.metric:
                    key = (item["check"], item["metric"], item["column"], item["attribute"], item["group"])
                    columns[key] = (item["threshold"], [item["value"]] * len(totals), [item["status"]] * len(totals))
                    order.append(key)
            continue
        for key, values, statuses in fast.results(check):
            threshold = check.thresholds.as_dict()
            columns[key] = (threshold, values, statuses)
            order.append(key)
    slow = [index for index in range(len(totals)) if not fast.usual[index]]
    for index in slow:
        for column in columns.values():
            column[1][index] = None
            column[2][index] = "skipped"
        for item in window_results(windows[index], reference, spec):
            key = (item["check"], item["metric"], item["column"], item["attribute"], item["group"])
            if key not in columns:
                columns[key] = (item["threshold"], [None] * len(totals), ["skipped"] * len(totals))
                order.append(key)
            columns[key][1][index] = item["value"]
            columns[key][2][index] = item["status"]
    return Series(
        keys=order,
        thresholds=[columns[key][0] for key in order],
        values=[columns[key][1] for key in order],
        statuses=[columns[key][2] for key in order],
        computed_one_by_one=len(slow),
    )


class _Fast:
    """The stacked counts of the windows and the vectorised metrics; `usual` marks the windows it answers."""

    def __init__(self, totals: list[Profile], reference: Reference, spec: Spec) -> None:
        self.totals = totals
        self.reference = reference
        self.spec = spec
        self.rows = np.array([total.rows for total in totals], dtype=np.int64)
        usual = self.rows > 0
        labels = [total.labels for total in totals]
        usual &= np.array([item.error is None for item in labels])
        if spec.task == "binary_classification":
            from apps.validation.engine.families.common import binary_verdict  # noqa: PLC0415 - only binary tasks
            from apps.validation.engine.reader import label_text  # noqa: PLC0415 - only binary tasks

            positive = label_text(spec.positive_label)
            usual &= np.array([binary_verdict(item.seen, positive) == (None, None) for item in labels])
        else:
            usual &= False  # the other tasks' metrics are per window (window_results)
        self.bins: dict[str, np.ndarray] = {}
        for name, bins in reference.numeric.items():
            stacked = np.array([total.bins.get(name, [0] * len(bins.counts)) for total in totals], dtype=np.int64)
            usual &= (stacked.sum(axis=1) > 0) & (bins.counts.sum() > 0)
            self.bins[name] = stacked
        # Categories: one table over every category any window or the reference has; a window lacking
        # one of them would sum a shorter array in validation, so it goes the slow way.
        self.categories: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for name, item in reference.categorical.items():
            texts = sorted(set(item.counts).union(*(total.categories.get(name, {}) for total in totals)))
            ref = np.array([item.counts.get(text, 0) for text in texts], dtype=np.int64)
            cur = np.array([[total.categories.get(name, {}).get(text, 0) for text in texts] for total in totals])
            usual &= np.all((cur > 0) | (ref > 0), axis=1) & (cur.sum(axis=1) > 0) & (ref.sum() > 0)
            self.categories[name] = (ref, cur.astype(np.int64).reshape(len(totals), len(texts)))
        self.groups: dict[str, tuple[list[str], np.ndarray]] = {}
        for attribute in spec.columns.sensitive:
            found = [total.fairness.get(attribute) for total in totals]
            keys: dict[str, Any] = {}
            for groups in found:
                if groups is not None:
                    keys.update(groups.keys)
            names = sorted(keys, key=lambda text: natural_order(keys[text], text))
            table = np.array(
                [[(g.counts.get(text, [0, 0, 0, 0]) if g else [0, 0, 0, 0]) for text in names] for g in found],
                dtype=np.int64,
            ).reshape(len(totals), len(names), 2, 2)
            rows = table.sum(axis=(2, 3))
            positives = table[:, :, 1, :].sum(axis=2)
            usual &= np.all(rows > 0, axis=1) & np.all(positives > 0, axis=1) & np.all(positives < rows, axis=1)
            usual &= np.any(table[:, :, :, 1].sum(axis=2) > 0, axis=1) & (len(names) > 0)
            self.groups[attribute] = (names, table)
        self.usual = usual

    def results(self, check: Check) -> list[tuple[Key, list[Any], list[str]]]:  # noqa: PLR0911 - one per family
        kind, metric = check.check, check.metric
        count = len(self.totals)
        if (kind, metric) not in _FAST and (kind, metric) not in RAW_METRICS:
            return []
        if (kind, metric) in RAW_METRICS:
            keys = self._keys(check)
            return [(key, [None] * count, ["skipped"] * count) for key in keys]
        if kind == "drift" and metric == "chi2_pvalue":
            return [self._chi2(check, key) for key in self._keys(check)]
        if kind == "drift":
            return [self._psi(check, key) for key in self._keys(check)]
        if kind == "fairness":
            return self._fairness(check)
        if kind == "quality" and metric == "range":
            from apps.monitoring.engine.profiling import range_key  # noqa: PLC0415 - only range checks

            assert check.column is not None
            where = range_key(check.column, check.thresholds.min, check.thresholds.max)
            counts = [total.ranges.get(where) for total in self.totals]
            self.usual &= np.array([item is not None for item in counts])
            outside = [item[0] if item is not None else 0 for item in counts]
            return [(self._keys(check)[0], outside, ["fail" if value else "pass" for value in outside])]
        if kind == "quality" and metric == "row_count":
            return [(self._keys(check)[0], *self._judged(self.rows, check.thresholds, as_int=True))]
        if kind == "quality":
            out = []
            for key in self._keys(check):
                missing = np.array([total.missing.get(key[2] or "", 0) for total in self.totals], dtype=np.int64)
                out.append((key, *self._judged(missing / np.maximum(self.rows, 1), check.thresholds)))
            return out
        labels = [total.labels for total in self.totals]
        n = np.array([item.both for item in labels], dtype=np.int64)
        tp = np.array([item.true_positives for item in labels], dtype=np.int64)
        predicted = np.array([item.predicted for item in labels], dtype=np.int64)
        actual = np.array([item.actual for item in labels], dtype=np.int64)
        correct = np.array([item.correct for item in labels], dtype=np.int64)
        self.usual &= n > 0
        numerator, denominator = {
            "accuracy": (correct, n),
            "precision": (tp, predicted),
            "recall": (tp, actual),
            "f1": (2 * tp, predicted + actual),
        }[metric]
        return [(self._keys(check)[0], *self._judged(numerator / np.maximum(denominator, 1), check.thresholds))]

    def _keys(self, check: Check) -> list[Key]:
        if check.check == "drift":
            if check.column is not None:
                return [("drift", check.metric, check.column, None, None)]
            numeric = list(self.reference.numeric)
            if check.metric in ("ks_statistic", "ks_pvalue"):
                names = numeric
            elif check.metric == "chi2_pvalue":
                names = list(self.reference.categorical)
            else:
                names = numeric + list(self.reference.categorical)
            return [("drift", check.metric, name, None, None) for name in names]
        if check.check == "quality" and check.metric == "missing_rate":
            names = [check.column] if check.column else list(self.reference.window_kinds)
            return [("quality", "missing_rate", name, None, None) for name in names]
        return [(check.check, check.metric, check.column, check.attribute, None)]

    def _psi(self, check: Check, key: Key) -> tuple[Key, list[Any], list[str]]:
        name = key[2]
        assert name is not None
        if name in self.categories:
            reference_counts, current = self.categories[name]
        else:
            reference_counts, current = self.reference.numeric[name].counts, self.bins[name]
        ref = reference_counts / max(int(reference_counts.sum()), 1)
        cur = current / np.maximum(current.sum(axis=1, keepdims=True), 1)
        ref = np.where(ref == 0, PSI_FLOOR, ref)
        cur = np.where(cur == 0, PSI_FLOOR, cur)
        values = np.sum((cur - ref) * np.log(cur / ref), axis=1)
        return (key, *self._judged(values, check.thresholds))

    def _chi2(self, check: Check, key: Key) -> tuple[Key, list[Any], list[str]]:
        assert key[2] is not None
        ref, cur = self.categories[key[2]]
        if cur.shape[1] < 2:
            return (key, *self._judged(np.ones(cur.shape[0]), check.thresholds))
        observed = np.stack([np.broadcast_to(ref, cur.shape), cur], axis=1).astype(np.float64)  # windows x 2 x k
        expected = (
            observed.sum(axis=2)[:, :, None]
            * observed.sum(axis=1)[:, None, :]
            / observed.sum(axis=(1, 2))[:, None, None]
        )
        statistic = np.sum((observed - expected) ** 2 / expected, axis=(1, 2))
        values = np.array([chi2_sf(float(value), cur.shape[1] - 1) for value in statistic])
        return (key, *self._judged(values, check.thresholds))

    def _fairness(self, check: Check) -> list[tuple[Key, list[Any], list[str]]]:
        attributes = [check.attribute] if check.attribute is not None else list(self.spec.columns.sensitive)
        out: list[tuple[Key, list[Any], list[str]]] = []
        for attribute in attributes:
            names, table = self.groups[attribute]
            rows = table.sum(axis=(2, 3))
            safe = np.maximum(rows, 1)
            positives = table[:, :, 1, :].sum(axis=2)
            selection = table[:, :, :, 1].sum(axis=2) / safe
            tpr = table[:, :, 1, 1] / np.maximum(positives, 1)
            fpr = table[:, :, 0, 1] / np.maximum(rows - positives, 1)
            per_group = {
                "count": rows,
                "selection_rate": selection,
                "tpr": tpr,
                "fpr": fpr,
                "accuracy": (table[:, :, 0, 0] + table[:, :, 1, 1]) / safe,
            }
            metric = check.metric
            if metric in per_group:
                for index, name in enumerate(names):
                    key = ("fairness", metric, None, attribute, name)
                    out.append(
                        (key, *self._judged(per_group[metric][:, index], check.thresholds, as_int=metric == "count"))
                    )
                continue
            high, low = selection.max(axis=1, initial=0.0), selection.min(axis=1, initial=1.0)
            value = {
                "demographic_parity_difference": high - low,
                "demographic_parity_ratio": low / np.where(high == 0, 1.0, high),
                "equalized_odds_difference": np.maximum(
                    tpr.max(axis=1) - tpr.min(axis=1), fpr.max(axis=1) - fpr.min(axis=1)
                )
                if names
                else np.zeros(rows.shape[0]),
            }[metric]
            out.append((("fairness", metric, None, attribute, None), *self._judged(value, check.thresholds)))
        return out

    def _judged(
        self, values: np.ndarray, thresholds: Thresholds, *, as_int: bool = False
    ) -> tuple[list[Any], list[str]]:
        """Return the values (None where the window is not answered here) and statuses, as measure.judge."""
        status = np.full(values.shape[0], "pass", dtype=object)
        for name, fails, below in _LIMITS:
            limit = getattr(thresholds, name)
            if limit is None:
                continue
            outside = (values < limit) if below else (values > limit)
            status[(status == "pass") & outside] = fails
        listed: list[Any] = [int(value) for value in values] if as_int else [float(value) for value in values]
        return listed, [str(item) for item in status]
