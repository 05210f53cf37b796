"""The documentation family: the model card's completeness against the tier's required sections."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from apps.validation.engine.measure import Measure, result
from apps.validation.engine.spec import Check


@dataclass(frozen=True)
class Documentation:
    """The model card's state for the documentation check."""

    completeness: float  # share of the tier's required sections that are written, 0..1
    missing_sections: list[str] = field(default_factory=list)


def documentation_result(check: Check, card: Documentation | None) -> dict[str, Any]:
    """Return the completeness result; skipped when the run was given no model card."""
    kind, metric = check.check, check.metric
    if card is None:
        item = result(
            check=kind,
            metric=metric,
            measure=Measure.undefined("no model card was given to this run"),
            thresholds=check.thresholds,
        )
        item["status"] = "skipped"
        return item
    note = None
    if card.missing_sections:
        note = "missing sections: " + ", ".join(card.missing_sections)
    measure = Measure.number(float(card.completeness), note)
    return result(check=kind, metric=metric, measure=measure, thresholds=check.thresholds)
