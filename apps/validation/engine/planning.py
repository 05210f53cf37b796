"""Settle a run's columns and its list of checks once both datasets are open.

What the suite leaves unnamed is inferred from the reference's types: numeric and categorical
features become drift columns. The standard suite expands into every check the columns allow;
an explicit list is checked against the data (a named column that is not there is an InputError)
and given the standard suite's thresholds where a check sets none.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from apps.validation.engine.errors import InputError
from apps.validation.engine.reader import CATEGORICAL_KINDS, NUMERIC_KINDS, Dataset
from apps.validation.engine.spec import (
    CATEGORICAL_DRIFT_METRICS,
    FAIRNESS_ATTRIBUTE_METRICS,
    FAIRNESS_GROUP_METRICS,
    FAIRNESS_NEEDS_TARGET,
    NUMERIC_DRIFT_METRICS,
    PERFORMANCE_METRICS,
    SCORE_METRICS,
    Check,
    Spec,
    standard_thresholds,
)


@dataclass
class Features:
    """The drift columns of a run: listed in the suite, or inferred from the reference's types."""

    reference: Dataset
    current: Dataset
    numeric: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    absent: set[str] = field(default_factory=set)  # inferred features the current dataset lacks

    def kind(self, name: str) -> str:
        """Return "numeric" or "categorical" for a drift column, taking it as a feature if unlisted."""
        if name in self.numeric:
            return "numeric"
        if name in self.categorical:
            return "categorical"
        for dataset in (self.reference, self.current):
            if name not in dataset.kinds:
                raise InputError(absent_message(name, "a drift check", dataset))
        kind = self.reference.kinds[name]
        if kind in NUMERIC_KINDS:
            self.numeric.append(name)
            return "numeric"
        if kind in CATEGORICAL_KINDS:
            self.categorical.append(name)
            return "categorical"
        raise InputError(f"Column {name!r} holds {kind} values; drift is measured on numeric or categorical columns.")

    def drift_columns(self, check: Check) -> list[str]:
        """Return the columns a drift check measures: its own, or every feature its test applies to."""
        if check.column is not None:
            return [check.column]
        if check.metric in ("ks_statistic", "ks_pvalue"):
            return list(self.numeric)
        if check.metric == "chi2_pvalue":
            return list(self.categorical)
        return self.numeric + self.categorical


def absent_message(name: str, role: str, dataset: Dataset) -> str:
    names = dataset.names
    shown = ", ".join(repr(n) for n in names[:20]) + (f" and {len(names) - 20:,} more" if len(names) > 20 else "")
    return f"Column {name!r} ({role}) is not in the {dataset.label} dataset, whose columns are {shown or 'none'}."


def resolve_features(spec: Spec, reference: Dataset, current: Dataset) -> Features:
    """Check the named columns exist and infer the features the suite leaves unnamed."""
    columns = spec.columns
    current_names = current.kinds
    for role in ("target", "prediction", "score"):
        name = getattr(columns, role)
        if name is not None and name not in current_names:
            raise InputError(absent_message(name, f"columns.{role}", current))
    for name in columns.sensitive:
        if name not in current_names:
            raise InputError(absent_message(name, "columns.sensitive", current))
    for listed, role in ((columns.numeric, "columns.numeric"), (columns.categorical, "columns.categorical")):
        for name in listed or ():
            for dataset in (reference, current):
                if name not in dataset.kinds:
                    raise InputError(absent_message(name, role, dataset))
    roles = set(columns.roles)
    reference_kinds = reference.kinds
    if columns.numeric is not None:
        numeric = list(columns.numeric)
    else:
        exclude = roles | set(columns.categorical or ())
        numeric = [n for n, k in reference_kinds.items() if k in NUMERIC_KINDS and n not in exclude]
    if columns.categorical is not None:
        categorical = list(columns.categorical)
    else:
        exclude = roles | set(numeric)
        categorical = [n for n, k in reference_kinds.items() if k in CATEGORICAL_KINDS and n not in exclude]
    absent = {name for name in numeric + categorical if name not in current_names}
    return Features(reference=reference, current=current, numeric=numeric, categorical=categorical, absent=absent)


def plan_checks(spec: Spec, features: Features) -> list[Check]:
    """Return the checks to run, with default thresholds where a check sets none."""
    if spec.checks is None:
        return _standard_plan(spec, features)
    for check in spec.checks:
        _validate_against_data(check, features)
    return [_with_default_thresholds(check) for check in spec.checks]


def _standard_plan(spec: Spec, features: Features) -> list[Check]:
    columns = spec.columns
    plan: list[tuple[str, str, dict[str, str]]] = []
    for metric in PERFORMANCE_METRICS[spec.task]:
        needed = columns.score if metric in SCORE_METRICS else columns.prediction
        if columns.target is not None and needed is not None:
            plan.append(("performance", metric, {}))
    for name in features.numeric:
        plan.extend(("drift", metric, {"column": name}) for metric in NUMERIC_DRIFT_METRICS)
    for name in features.categorical:
        plan.extend(("drift", metric, {"column": name}) for metric in CATEGORICAL_DRIFT_METRICS)
    if spec.task == "binary_classification" and columns.prediction is not None:
        for attribute in columns.sensitive:
            for metric in FAIRNESS_GROUP_METRICS + FAIRNESS_ATTRIBUTE_METRICS:
                if columns.target is not None or metric not in FAIRNESS_NEEDS_TARGET:
                    plan.append(("fairness", metric, {"attribute": attribute}))
    for metric in ("row_count", "schema", "missing_rate", "duplicate_rows"):
        plan.append(("quality", metric, {}))
    plan.append(("documentation", "completeness", {}))
    plan.append(("integrity", "sha256", {}))
    return [
        Check(
            check=kind,
            metric=metric,
            column=where.get("column"),
            attribute=where.get("attribute"),
            thresholds=standard_thresholds(kind, metric),
        )
        for kind, metric, where in plan
    ]


def _validate_against_data(check: Check, features: Features) -> None:
    """Refuse a check whose named column the datasets cannot provide."""
    name = check.column
    if name is None:
        return
    if check.check == "quality":
        if name not in features.current.kinds:
            raise InputError(absent_message(name, f"the quality {check.metric} check", features.current))
        return
    kind = features.kind(name)
    if check.metric in ("ks_statistic", "ks_pvalue") and kind != "numeric":
        raise InputError(f"Column {name!r} is categorical; the Kolmogorov-Smirnov test needs a numeric column.")
    if check.metric == "chi2_pvalue" and kind != "categorical":
        raise InputError(f"Column {name!r} is numeric; the chi-square test needs a categorical column.")


def _with_default_thresholds(check: Check) -> Check:
    """Return the check with the standard suite's thresholds if it sets none (a range's are its bounds)."""
    if check.thresholds.empty and not (check.check == "quality" and check.metric == "range"):
        return replace(check, thresholds=standard_thresholds(check.check, check.metric))
    return check
