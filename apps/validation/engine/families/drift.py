"""The drift family: each feature's PSI, KS or chi-square between the reference and the current data."""

from __future__ import annotations

from typing import Any

from apps.validation.engine import drift
from apps.validation.engine.measure import Measure, result
from apps.validation.engine.planning import Features
from apps.validation.engine.reader import Dataset, to_categories, to_numbers
from apps.validation.engine.spec import CATEGORICAL_DRIFT_METRICS, NUMERIC_DRIFT_METRICS, Check


class DriftChecks:
    """Drift per column, one unit of work per column."""

    def __init__(self, reference: Dataset, current: Dataset, features: Features) -> None:
        self.reference = reference
        self.current = current
        self.features = features
        self._kinds: dict[str, str] = {}  # drift column -> "numeric", "categorical" or "absent"
        self._measures: dict[str, dict[str, Measure]] = {}

    def columns(self, check: Check) -> list[str]:
        return self.features.drift_columns(check)

    def register(self, name: str) -> bool:
        """Settle how column `name` is measured; return whether both datasets hold it."""
        absent = name in self.features.absent
        self._kinds[name] = "absent" if absent else self.features.kind(name)
        return not absent

    def compute(self, name: str) -> None:
        """Measure one column's drift; safe to run in a worker thread."""
        self._measures[name] = self._column_drift(name, self._kinds[name])

    def provide(self, name: str, measures: dict[str, Measure]) -> None:
        """Take a column's measures computed elsewhere (monitoring sums them from batch profiles)."""
        self._measures[name] = measures

    def results(self, check: Check) -> list[dict[str, Any]]:
        return [
            result(
                check=check.check,
                metric=check.metric,
                column=name,
                measure=self._column_measures(name)[check.metric],
                thresholds=check.thresholds,
            )
            for name in self.columns(check)
        ]

    def _column_measures(self, name: str) -> dict[str, Measure]:
        if name not in self._measures:
            self.compute(name)
        return self._measures[name]

    def _column_drift(self, name: str, kind: str) -> dict[str, Measure]:
        if kind == "absent":
            problem = Measure.unusable(f"Column {name!r} is in the reference dataset but not in the current one.")
            return dict.fromkeys(NUMERIC_DRIFT_METRICS + CATEGORICAL_DRIFT_METRICS, problem)
        if kind == "numeric":
            # Each column becomes its sorted sample at once, so only one copy of it stays in memory.
            measures = drift.numeric_drift(
                drift.sample(to_numbers(self.reference.column(name))),
                drift.sample(to_numbers(self.current.column(name))),
            )
        else:
            measures = drift.categorical_drift(
                to_categories(self.reference.column(name)), to_categories(self.current.column(name))
            )
        self.reference.release(name)
        return measures
