"""The performance family: the task's metrics on the current dataset's target, prediction and score."""

from __future__ import annotations

from typing import Any

import numpy as np

from apps.validation.engine import performance
from apps.validation.engine.families.common import SharedLabels, left_out, with_note
from apps.validation.engine.measure import Measure, result
from apps.validation.engine.reader import Dataset, to_labels, to_numbers, unify
from apps.validation.engine.spec import PERFORMANCE_METRICS, Check, Spec


class PerformanceChecks:
    """Every performance metric of the run, computed in one unit of work."""

    def __init__(self, spec: Spec, current: Dataset, labels: SharedLabels) -> None:
        self.spec = spec
        self.columns = spec.columns
        self.current = current
        self.labels = labels
        self._measures: dict[str, Measure] | None = None

    def compute(self) -> dict[str, Measure]:
        if self._measures is not None:
            return self._measures
        task = self.spec.task
        if task == "binary_classification":
            measures = self._binary()
        elif task == "multiclass":
            measures = self._multiclass()
        else:
            measures = self._regression()
        self._measures = measures
        return measures

    def provide(self, measures: dict[str, Measure]) -> None:
        """Take the measures computed elsewhere (monitoring sums them from batch profiles)."""
        self._measures = measures

    def results(self, check: Check) -> list[dict[str, Any]]:
        measure = self.compute()[check.metric]
        return [result(check=check.check, metric=check.metric, measure=measure, thresholds=check.thresholds)]

    def _binary(self) -> dict[str, Measure]:
        labels = self.labels.get()
        metrics = PERFORMANCE_METRICS["binary_classification"]
        if isinstance(labels, str):
            return dict.fromkeys(metrics, Measure.unusable(labels))
        measures: dict[str, Measure] = {}
        assert labels.target is not None
        assert labels.target_present is not None
        if labels.prediction is not None and labels.prediction_present is not None:
            rows = labels.target_present & labels.prediction_present
            missing = left_out(rows, "a target or a prediction")
            computed = performance.binary_label_metrics(labels.target[rows], labels.prediction[rows])
            measures.update(with_note(computed, labels.note, missing))
        if self.columns.score is not None:
            scores = to_numbers(self.current.column(self.columns.score))
            rows = labels.target_present & ~np.isnan(scores.values)
            missing = left_out(rows, "a target or a numeric score")
            computed = performance.binary_score_metrics(labels.target[rows], scores.values[rows])
            measures.update(with_note(computed, labels.note, missing))
        return measures

    def _multiclass(self) -> dict[str, Measure]:
        assert self.columns.target is not None
        assert self.columns.prediction is not None
        try:
            target = to_labels(self.current.column(self.columns.target))
            prediction = to_labels(self.current.column(self.columns.prediction))
        except ValueError as exc:
            return dict.fromkeys(("accuracy", "macro_f1"), Measure.unusable(f"A label column has {exc}."))
        target_codes, prediction_codes, classes = unify(target, prediction)
        rows = (target_codes >= 0) & (prediction_codes >= 0)
        computed = performance.multiclass_metrics(target_codes[rows], prediction_codes[rows], len(classes))
        return with_note(computed, None, left_out(rows, "a target or a prediction"))

    def _regression(self) -> dict[str, Measure]:
        assert self.columns.target is not None
        assert self.columns.prediction is not None
        target = to_numbers(self.current.column(self.columns.target))
        prediction = to_numbers(self.current.column(self.columns.prediction))
        rows = ~np.isnan(target.values) & ~np.isnan(prediction.values)
        computed = performance.regression_metrics(target.values[rows], prediction.values[rows])
        return with_note(computed, None, left_out(rows, "a numeric target or a numeric prediction"))
