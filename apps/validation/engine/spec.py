"""The suite a run executes: its parts, the metrics each check offers and the standard suite's defaults.

The JSON shape is DESIGN section 6; docs/validation.md describes every key. engine/parsing.py turns
the JSON into a Spec, checking everything that can be checked without the data; what depends on
the files (a named column that is not there) is an InputError at run time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

TASKS = ("binary_classification", "multiclass", "regression", "other")
CHECK_KINDS = ("performance", "drift", "fairness", "quality", "documentation", "integrity")

PERFORMANCE_METRICS: dict[str, tuple[str, ...]] = {
    "binary_classification": ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss", "brier"),
    "multiclass": ("accuracy", "macro_f1"),
    "regression": ("mae", "rmse", "r2"),
    "other": (),
}
SCORE_METRICS = frozenset({"roc_auc", "log_loss", "brier"})
NUMERIC_DRIFT_METRICS = ("psi", "ks_statistic", "ks_pvalue")
CATEGORICAL_DRIFT_METRICS = ("psi", "chi2_pvalue")
DRIFT_METRICS = ("psi", "ks_statistic", "ks_pvalue", "chi2_pvalue")
FAIRNESS_GROUP_METRICS = ("count", "selection_rate", "tpr", "fpr", "accuracy")
FAIRNESS_ATTRIBUTE_METRICS = (
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
)
FAIRNESS_METRICS = FAIRNESS_GROUP_METRICS + FAIRNESS_ATTRIBUTE_METRICS
FAIRNESS_NEEDS_TARGET = frozenset({"tpr", "fpr", "accuracy", "equalized_odds_difference"})
QUALITY_METRICS = ("row_count", "missing_rate", "duplicate_rows", "schema", "range")
METRICS: dict[str, tuple[str, ...]] = {
    "performance": tuple(dict.fromkeys(m for metrics in PERFORMANCE_METRICS.values() for m in metrics)),
    "drift": DRIFT_METRICS,
    "fairness": FAIRNESS_METRICS,
    "quality": QUALITY_METRICS,
    "documentation": ("completeness",),
    "integrity": ("sha256",),
}

THRESHOLD_KEYS = ("min", "max", "warn_min", "warn_max")
SINGLE_COLUMNS = ("target", "prediction", "score")
LIST_COLUMNS = ("sensitive", "numeric", "categorical")
MAX_NAME_CHARS = 256
# Every list a suite holds is capped, so a hostile suite is refused at once instead of parsed for minutes.
MAX_CHECKS = 1000
MAX_COLUMNS = 1000  # per list: "columns.numeric", "columns.categorical", "schema"
MAX_SENSITIVE = 100  # "columns.sensitive": each attribute is its own fairness breakdown


@dataclass(frozen=True)
class Thresholds:
    """Limits on a result's value: outside min/max fails, outside warn_min/warn_max warns.

    For the quality "range" check, min and max are instead the declared bounds of the column's values.
    """

    min: float | None = None
    max: float | None = None
    warn_min: float | None = None
    warn_max: float | None = None

    def as_dict(self) -> dict[str, float] | None:
        """Return the limits that are set, in the result's `threshold` shape, or None."""
        limits = {key: getattr(self, key) for key in THRESHOLD_KEYS if getattr(self, key) is not None}
        return limits or None

    @property
    def empty(self) -> bool:
        return self.as_dict() is None


@dataclass(frozen=True)
class Check:
    """One entry of the suite's "checks" list."""

    check: str
    metric: str
    column: str | None = None
    attribute: str | None = None
    thresholds: Thresholds = field(default_factory=Thresholds)

    def to_dict(self) -> dict[str, Any]:
        """Return the entry as the JSON it was (or could have been) written as."""
        data: dict[str, Any] = {"check": self.check, "metric": self.metric}
        if self.column is not None:
            data["column"] = self.column
        if self.attribute is not None:
            data["attribute"] = self.attribute
        data.update(self.thresholds.as_dict() or {})
        return data


@dataclass(frozen=True)
class Columns:
    """The column mapping; numeric/categorical None means "infer from the reference's types"."""

    target: str | None = None
    prediction: str | None = None
    score: str | None = None
    sensitive: tuple[str, ...] = ()
    numeric: tuple[str, ...] | None = None
    categorical: tuple[str, ...] | None = None

    @property
    def roles(self) -> tuple[str, ...]:
        """Return the mapped non-feature columns: never inferred as features."""
        named = (self.target, self.prediction, self.score)
        return tuple(name for name in named if name is not None) + self.sensitive

    @cached_property
    def _lookup(self) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
        """The roles, numeric and categorical columns as sets: each check asks, so a lookup is O(1)."""
        return frozenset(self.roles), frozenset(self.numeric or ()), frozenset(self.categorical or ())

    def has_role(self, name: str) -> bool:
        return name in self._lookup[0]

    def is_numeric(self, name: str) -> bool:
        return name in self._lookup[1]

    def is_categorical(self, name: str) -> bool:
        return name in self._lookup[2]


@dataclass(frozen=True)
class Spec:
    """A parsed suite. `checks` is None for the standard suite, expanded once the data is known."""

    task: str
    columns: Columns
    checks: tuple[Check, ...] | None
    positive_label: bool | int | str = 1
    schema: tuple[str, ...] | None = None

    @property
    def standard(self) -> bool:
        return self.checks is None

    def to_dict(self) -> dict[str, Any]:
        """Return the suite as normalised JSON; parse_spec(spec.to_dict()) == spec."""
        columns: dict[str, Any] = {}
        for key in SINGLE_COLUMNS:
            if getattr(self.columns, key) is not None:
                columns[key] = getattr(self.columns, key)
        if self.columns.sensitive:
            columns["sensitive"] = list(self.columns.sensitive)
        for key in ("numeric", "categorical"):
            if getattr(self.columns, key) is not None:
                columns[key] = list(getattr(self.columns, key))
        data: dict[str, Any] = {"task": self.task, "columns": columns}
        data["checks"] = "standard" if self.checks is None else [check.to_dict() for check in self.checks]
        data["positive_label"] = self.positive_label
        if self.schema is not None:
            data["schema"] = list(self.schema)
        return data


# The standard suite: every metric the columns allow, with these limits. docs/validation.md lists them.
STANDARD_THRESHOLDS: dict[tuple[str, str], Thresholds] = {
    ("performance", "roc_auc"): Thresholds(min=0.7, warn_min=0.75),
    ("performance", "brier"): Thresholds(max=0.25),
    ("performance", "r2"): Thresholds(min=0.0, warn_min=0.3),
    ("drift", "psi"): Thresholds(max=0.2, warn_max=0.1),
    ("drift", "ks_statistic"): Thresholds(warn_max=0.1),
    ("fairness", "demographic_parity_difference"): Thresholds(max=0.1, warn_max=0.05),
    ("fairness", "demographic_parity_ratio"): Thresholds(min=0.8),
    ("fairness", "equalized_odds_difference"): Thresholds(max=0.1, warn_max=0.05),
    ("quality", "row_count"): Thresholds(min=1),
    ("quality", "missing_rate"): Thresholds(max=0.2, warn_max=0.05),
    ("quality", "duplicate_rows"): Thresholds(warn_max=0),
    ("documentation", "completeness"): Thresholds(min=1.0),
}


def standard_thresholds(check: str, metric: str) -> Thresholds:
    """Return the standard suite's limits for a metric (none: the value is reported, not judged)."""
    return STANDARD_THRESHOLDS.get((check, metric), Thresholds())
