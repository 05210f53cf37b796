"""The fairness family: per sensitive attribute, its groups' rates and the between-groups measures."""

from __future__ import annotations

from typing import Any

from apps.validation.engine.fairness import AttributeFairness, attribute_fairness
from apps.validation.engine.families.common import SharedLabels, left_out
from apps.validation.engine.measure import Measure, result
from apps.validation.engine.reader import Dataset, to_groups
from apps.validation.engine.spec import FAIRNESS_ATTRIBUTE_METRICS, Check, Columns


class FairnessChecks:
    """Fairness per sensitive attribute, one unit of work per attribute."""

    def __init__(self, columns: Columns, current: Dataset, labels: SharedLabels) -> None:
        self.columns = columns
        self.current = current
        self.labels = labels
        self._fairness: dict[str, AttributeFairness | str] = {}

    def attributes(self, check: Check) -> list[str]:
        return [check.attribute] if check.attribute is not None else list(self.columns.sensitive)

    def compute(self, attribute: str) -> AttributeFairness | str:
        """Return the attribute's fairness, or why it cannot be computed; safe to run in a worker thread."""
        if attribute in self._fairness:
            return self._fairness[attribute]
        labels = self.labels.get()
        if isinstance(labels, str):
            self._fairness[attribute] = labels
            return labels
        assert labels.prediction is not None
        assert labels.prediction_present is not None
        usable = labels.prediction_present.copy()
        if labels.target_present is not None:
            usable &= labels.target_present
        groups, order = to_groups(self.current.column(attribute))
        missing = left_out(usable, "a target or a prediction")
        note = "; ".join(part for part in (labels.note, missing) if part) or None
        fairness = attribute_fairness(groups, order, labels.prediction, labels.target, usable, note)
        self._fairness[attribute] = fairness
        return fairness

    def provide(self, attribute: str, fairness: AttributeFairness | str) -> None:
        """Take an attribute's fairness computed elsewhere (monitoring sums it from batch profiles)."""
        self._fairness[attribute] = fairness

    def results(self, check: Check) -> list[dict[str, Any]]:
        return [item for attribute in self.attributes(check) for item in self._attribute_results(check, attribute)]

    def _attribute_results(self, check: Check, attribute: str) -> list[dict[str, Any]]:
        fairness = self.compute(attribute)
        kind, metric = check.check, check.metric
        if isinstance(fairness, str):
            measure = Measure.unusable(fairness)
            thresholds = check.thresholds
            return [result(check=kind, metric=metric, attribute=attribute, measure=measure, thresholds=thresholds)]
        if metric in FAIRNESS_ATTRIBUTE_METRICS:
            return [
                result(
                    check=kind,
                    metric=metric,
                    attribute=attribute,
                    measure=fairness.measures[metric],
                    thresholds=check.thresholds,
                )
            ]
        return [
            result(
                check=kind,
                metric=metric,
                attribute=attribute,
                group=group.group,
                measure=group.measures[metric],
                thresholds=check.thresholds,
            )
            for group in fairness.groups
        ]
