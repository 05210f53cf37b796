"""A window's results from its profiles: the results a validation run on the window's rows would give.

The window's checks are planned by the validation planner on stand-ins of the reference and of the
window's data (their columns and types), so the list, order and thresholds of the checks are a
validation run's. Each family of the validation engine is then given the measures computed here
from the summed counts, with the validation engine's own functions (drift.psi,
categorical_count_drift, binary_count_metrics, table_fairness, ...), and shapes its results as in a
run. What counts cannot give (KS, ROC AUC, log loss, Brier, regression metrics, duplicate rows)
comes from the raw batches when they are given, and is reported as skipped otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from apps.monitoring.engine.errors import BatchError
from apps.monitoring.engine.profile import Groups, Profile, merge
from apps.monitoring.engine.profiling import range_key
from apps.monitoring.engine.raw import RawData, RawWindow, load
from apps.monitoring.engine.reference import Reference
from apps.validation.engine import drift, performance, quality
from apps.validation.engine.drift import Sample
from apps.validation.engine.fairness import table_fairness
from apps.validation.engine.families.common import binary_verdict, left_out_count, with_note
from apps.validation.engine.families.documentation import documentation_result
from apps.validation.engine.families.drift import DriftChecks
from apps.validation.engine.families.fairness import FairnessChecks
from apps.validation.engine.families.integrity import integrity_result
from apps.validation.engine.families.performance import PerformanceChecks
from apps.validation.engine.families.quality import QualityChecks
from apps.validation.engine.measure import Measure
from apps.validation.engine.reader import label_text
from apps.validation.engine.spec import PERFORMANCE_METRICS, SCORE_METRICS, Check, Spec

RAW_METRICS = frozenset(
    {
        ("drift", "ks_statistic"),
        ("drift", "ks_pvalue"),
        ("performance", "roc_auc"),
        ("performance", "log_loss"),
        ("performance", "brier"),
        ("performance", "mae"),
        ("performance", "rmse"),
        ("performance", "r2"),
        ("quality", "duplicate_rows"),
    }
)
RAW_MESSAGE = "Needs the window's raw batches (computed by the window task, not from profiles)."
_EMPTY = np.empty(0, dtype=np.float64)


def window_results(
    profiles: Sequence[Profile], reference: Reference, spec: Spec | None = None, *, raw: RawWindow | None = None
) -> list[dict[str, Any]]:
    """Return the window's results, in DESIGN section 6's shape and a validation run's order.

    `profiles` are the profiles of the window's buckets; `raw`, if given, its raw batches for the
    metrics counts cannot give. Raises BatchError when the profiles are of another reference, when
    `spec` maps other columns than the reference's suite, or when a raw batch cannot be read.
    """
    spec = spec or reference.spec
    if spec.columns != reference.spec.columns or spec.task != reference.spec.task:
        raise BatchError("This suite maps other columns than the monitor's reference; build a new reference for it.")
    total = merge(profiles)
    if total.reference != reference.key:
        raise BatchError("These profiles were made against another reference.")
    return _Window(total, reference, spec, load(raw, reference) if raw is not None else None).results()


class _Window:
    def __init__(self, total: Profile, reference: Reference, spec: Spec, raw: RawData | None) -> None:
        self.total = total
        self.reference = reference
        self.spec = spec
        self.raw = raw
        self.features, self.plan, ref_ds, cur_ds = reference.plan(spec, total.rows)
        self.drift = DriftChecks(ref_ds, cur_ds, self.features)
        self.performance = PerformanceChecks(spec, cur_ds, labels=None)  # type: ignore[arg-type]  # given its measures
        self.fairness = FairnessChecks(spec.columns, cur_ds, labels=None)  # type: ignore[arg-type]
        self.quality = QualityChecks(spec, ref_ds, cur_ds, self.plan)

    def results(self) -> list[dict[str, Any]]:
        problem, note = self._labels()
        for name in self.features.numeric:
            self.drift.provide(name, self._numeric(name))
        for name in self.features.categorical:
            self.drift.provide(name, self._categorical(name))
        kinds = {check.check for check in self.plan}
        if "performance" in kinds:
            self.performance.provide(self._performance(problem, note))
        if "fairness" in kinds:
            for attribute in self.spec.columns.sensitive:
                self.fairness.provide(attribute, problem or self._fairness(attribute, note))
        self._quality()
        results: list[dict[str, Any]] = []
        for check in self.plan:
            results.extend(self._check_results(check))
        if self.raw is None:
            for item in results:
                if (item["check"], item["metric"]) in RAW_METRICS:
                    item.update(value=None, status="skipped", message=RAW_MESSAGE)
        return results

    def _check_results(self, check: Check) -> list[dict[str, Any]]:
        kind = check.check
        if kind == "drift":
            return self.drift.results(check)
        if kind == "performance":
            return self.performance.results(check)
        if kind == "fairness":
            return self.fairness.results(check)
        if kind == "quality":
            return self.quality.results(check)
        if kind == "documentation":
            return [documentation_result(check, None)]
        return [integrity_result(None)]

    def _labels(self) -> tuple[str | None, str | None]:
        """Return (why the labels are unusable, the note results using them say), as SharedLabels would."""
        labels = self.total.labels
        if labels.error is not None:
            return labels.error, None
        if self.spec.task != "binary_classification":
            return None, None
        return binary_verdict(labels.seen, label_text(self.spec.positive_label))

    def _numeric(self, name: str) -> dict[str, Measure]:
        bins = self.reference.numeric[name]
        current = np.array(self.total.bins.get(name, [0] * len(bins.counts)), dtype=np.int64)
        excluded = self.total.excluded.get(name, [0, 0, 0])
        note = drift.excluded_note(Sample(_EMPTY, bins.missing, bins.invalid, bins.infinite), Sample(_EMPTY, *excluded))
        ref_size, cur_size = int(bins.counts.sum()), int(current.sum())
        empty = drift.empty_numeric_drift(ref_size, cur_size, note)
        if empty is not None:
            return empty
        psi = drift.psi(bins.counts / ref_size, current / cur_size)
        ks = self.raw.numeric_ks(name) if self.raw is not None else None
        if ks is None:
            undefined = Measure.undefined(RAW_MESSAGE)
            return {"psi": Measure.number(psi, note), "ks_statistic": undefined, "ks_pvalue": undefined}
        return drift.numeric_measures(psi, ks[0], ks[1], note)

    def _categorical(self, name: str) -> dict[str, Measure]:
        ref = self.reference.categorical[name]
        cur = self.total.categories.get(name, {})
        texts = sorted(set(ref.counts) | set(cur))
        ref_counts = np.array([ref.counts.get(text, 0) for text in texts], dtype=np.int64)
        cur_counts = np.array([cur.get(text, 0) for text in texts], dtype=np.int64)
        cur_missing = self.total.category_missing.get(name, 0)
        return drift.categorical_count_drift(ref_counts, cur_counts, ref.missing, cur_missing)

    def _performance(self, problem: str | None, note: str | None) -> dict[str, Measure]:
        task = self.spec.task
        metrics = PERFORMANCE_METRICS[task]
        if problem is not None:
            return dict.fromkeys(metrics, Measure.unusable(problem))
        labels = self.total.labels
        undefined = Measure.undefined(RAW_MESSAGE)
        if task == "regression":
            return self.raw.performance(self.spec) if self.raw is not None else dict.fromkeys(metrics, undefined)
        missing = left_out_count(self.total.rows - labels.both, "a target or a prediction")
        if task == "multiclass":
            classes = sorted(labels.classes)
            counts = np.array([labels.classes[text] for text in classes], dtype=np.int64).reshape(-1, 3)
            computed = performance.multiclass_count_metrics(counts[:, 0], counts[:, 1], counts[:, 2])
            return with_note(computed, None, missing)
        measures: dict[str, Measure] = {}
        if self.spec.columns.prediction is not None:
            computed = performance.binary_count_metrics(
                labels.both, labels.true_positives, labels.predicted, labels.actual, labels.correct
            )
            measures.update(with_note(computed, note, missing))
        if self.spec.columns.score is not None:
            if self.raw is not None:
                scored = self.raw.performance(self.spec)
                measures.update({metric: scored[metric] for metric in SCORE_METRICS})
            else:
                measures.update(dict.fromkeys(SCORE_METRICS, undefined))
        return measures

    def _fairness(self, attribute: str, note: str | None) -> Any:
        groups = self.total.fairness.get(attribute, Groups())
        texts = sorted(groups.counts, key=lambda text: natural_order(groups.keys.get(text), text))
        table = np.array([groups.counts[text] for text in texts], dtype=np.int64).reshape(len(texts), 2, 2)
        missing = left_out_count(self.total.rows - self.total.labels.usable, "a target or a prediction")
        said = "; ".join(part for part in (note, missing) if part) or None
        has_target = self.spec.columns.target is not None
        return table_fairness(table, texts, list(range(len(texts))), has_target, groups.without_group, said)

    def _quality(self) -> None:
        ranges = {}
        for check in self.plan:
            if check.check == "quality" and check.metric == "range" and check.column is not None:
                low, high = check.thresholds.min, check.thresholds.max
                counts = self.total.ranges.get(range_key(check.column, low, high))
                if counts is None:
                    measure = Measure.unusable("The batches were profiled before this range check; profile them again.")
                else:
                    measure = quality.range_measure(counts[0], counts[1], counts[2], low, high)
                ranges[(check.column, low, high)] = measure
        duplicates, skipped = (None, None)
        if self.raw is not None and any(check.metric == "duplicate_rows" for check in self.plan):
            duplicates, skipped = self.raw.duplicates()
        missing = {name: self.total.missing.get(name, 0) for name in self.reference.window_kinds}
        self.quality.provide(missing, duplicates, ranges, skipped)


def natural_order(key: Any, text: str) -> tuple[int, Any]:
    """Order groups as validation does (the values' natural order: 2 before 10, text by code point)."""
    if isinstance(key, bool | int | float):
        return (0, key)
    return (1, text)
