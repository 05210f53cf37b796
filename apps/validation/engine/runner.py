"""Run a suite on a reference and a current dataset and return every result.

A run checks both files, settles the columns and the list of checks, then computes in units of
work: the quality scan of the current dataset, each feature's drift, performance, each sensitive
attribute's fairness. A unit reads the columns it needs, keeps only the small measures it computes
and lets the arrays go, so memory stays near a few columns of the larger dataset however many
columns there are. Results are then assembled in the order of the checks.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from apps.validation.engine import drift, performance, quality
from apps.validation.engine.errors import InputError
from apps.validation.engine.fairness import AttributeFairness, attribute_fairness
from apps.validation.engine.labels import BinaryColumn, binary_column
from apps.validation.engine.measure import RESULT_KEYS, Measure, plural, result
from apps.validation.engine.reader import (
    CATEGORICAL_KINDS,
    NUMERIC_KINDS,
    Dataset,
    label_text,
    open_dataset,
    to_categories,
    to_groups,
    to_labels,
    to_numbers,
    unify,
)
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
    Thresholds,
    standard_thresholds,
)

Progress = Callable[[int, str], None]
_SHA256 = re.compile(r"[0-9a-f]{64}\Z")
_STATUS_ORDER = ("fail", "error", "warn", "pass")
# Units of work (a column's drift, the quality scan, ...) run two at a time: numpy's sorts and
# searches and pyarrow's reads release the GIL, so a second thread uses a second core; more
# threads would mostly add memory.
THREADS = min(2, os.cpu_count() or 1)


@dataclass(frozen=True)
class Documentation:
    """The model card's state for the documentation check."""

    completeness: float  # share of the tier's required sections that are written, 0..1
    missing_sections: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Artifact:
    """The model artifact for the integrity check; path None when it is not reachable from here."""

    path: Path | None
    expected_sha256: str


@dataclass
class SuiteResult:
    """A run's outcome: the overall status and every result in DESIGN section 6's shape."""

    status: str
    results: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "results": self.results}


def overall_status(results: list[dict[str, Any]]) -> str:
    """Return fail if any result fails, else error, else warn, else pass; skipped if nothing ran."""
    statuses = {item["status"] for item in results}
    for status in _STATUS_ORDER:
        if status in statuses:
            return status
    return "skipped"


def run_suite(
    reference: Path,
    current: Path,
    spec: Spec,
    *,
    progress: Progress | None = None,
    documentation: Documentation | None = None,
    artifact: Artifact | None = None,
) -> SuiteResult:
    """Run `spec` on the two dataset files and return the results.

    `progress(percent, step)` is called as the run proceeds. Raises InputError when a dataset is
    missing, not a CSV or Parquet file, damaged or hostile, or lacks a column the suite names.
    Never unpickles anything: the artifact, if given, is only hashed.
    """
    return _Run(spec, progress, documentation, artifact).execute(Path(reference), Path(current))


@dataclass
class _Labels:
    """Binary labels of the current dataset, prepared once for performance and fairness."""

    target: np.ndarray | None  # True where the target is the positive label
    target_present: np.ndarray | None
    prediction: np.ndarray | None
    prediction_present: np.ndarray | None
    note: str | None  # said on every result that uses them


class _Run:
    reference: Dataset
    current: Dataset

    def __init__(
        self,
        spec: Spec,
        progress: Progress | None,
        documentation: Documentation | None,
        artifact: Artifact | None,
    ) -> None:
        self.spec = spec
        self.columns = spec.columns
        self.progress = progress
        self.documentation = documentation
        self.artifact = artifact
        self.numeric: list[str] = []
        self.categorical: list[str] = []
        self.absent: set[str] = set()  # inferred features the current dataset lacks
        self.units: list[tuple[str, str]] = []
        self.units_total = 1
        self.units_done = 0
        self._kinds: dict[str, str] = {}  # drift column -> "numeric", "categorical" or "absent"
        self._labels_lock = threading.Lock()
        self._performance: dict[str, Measure] | None = None
        self._labels: _Labels | str | None = None
        self._drift: dict[str, dict[str, Measure]] = {}
        self._fairness: dict[str, AttributeFairness | str] = {}
        self._scan: tuple[dict[str, int], int | None] | None = None
        self.plan: list[Check] = []
        self._skipped: list[str] = []  # columns the duplicate count could not compare

    # The run

    def execute(self, reference_path: Path, current_path: Path) -> SuiteResult:
        self._report(0, "Checking the reference dataset")
        self.reference = open_dataset(reference_path, "reference")
        self._report(2, "Checking the current dataset")
        self.current = open_dataset(current_path, "current")
        self._resolve_columns()
        self.plan = self._plan()
        self._prepare(self.plan)
        self._compute()
        results: list[dict[str, Any]] = []
        for check in self.plan:
            results.extend(self._results(check))
        self._report(100, "Done")
        return SuiteResult(overall_status(results), results)

    def _report(self, percent: int, step: str) -> None:
        if self.progress is not None:
            self.progress(percent, step)

    def _step(self, text: str) -> None:
        """Report that one unit of work (a column's drift, the quality scan, ...) is done."""
        self.units_done += 1
        percent = 5 + (94 * self.units_done) // max(self.units_total, 1)
        self._report(min(percent, 99), text)

    # Columns and plan

    def _resolve_columns(self) -> None:
        """Check the named columns exist and infer the features the suite leaves unnamed."""
        columns = self.columns
        current_names = self.current.kinds
        for role in ("target", "prediction", "score"):
            name = getattr(columns, role)
            if name is not None and name not in current_names:
                raise InputError(self._absent_message(name, f"columns.{role}", self.current))
        for name in columns.sensitive:
            if name not in current_names:
                raise InputError(self._absent_message(name, "columns.sensitive", self.current))
        for listed, role in ((columns.numeric, "columns.numeric"), (columns.categorical, "columns.categorical")):
            for name in listed or ():
                for dataset in (self.reference, self.current):
                    if name not in dataset.kinds:
                        raise InputError(self._absent_message(name, role, dataset))
        roles = set(columns.roles)
        reference_kinds = self.reference.kinds
        if columns.numeric is not None:
            self.numeric = list(columns.numeric)
        else:
            exclude = roles | set(columns.categorical or ())
            self.numeric = [n for n, k in reference_kinds.items() if k in NUMERIC_KINDS and n not in exclude]
        if columns.categorical is not None:
            self.categorical = list(columns.categorical)
        else:
            exclude = roles | set(self.numeric)
            self.categorical = [n for n, k in reference_kinds.items() if k in CATEGORICAL_KINDS and n not in exclude]
        self.absent = {name for name in self.numeric + self.categorical if name not in current_names}

    @staticmethod
    def _absent_message(name: str, role: str, dataset: Dataset) -> str:
        names = dataset.names
        shown = ", ".join(repr(n) for n in names[:20]) + (f" and {len(names) - 20:,} more" if len(names) > 20 else "")
        return f"Column {name!r} ({role}) is not in the {dataset.label} dataset, whose columns are {shown or 'none'}."

    def _plan(self) -> list[Check]:
        """Return the checks to run, with default thresholds where a check sets none."""
        if self.spec.checks is None:
            return self._standard_plan()
        for check in self.spec.checks:
            self._validate_against_data(check)
        return [_with_default_thresholds(check) for check in self.spec.checks]

    def _standard_plan(self) -> list[Check]:
        columns = self.columns
        plan: list[tuple[str, str, dict[str, str]]] = []
        for metric in PERFORMANCE_METRICS[self.spec.task]:
            needed = columns.score if metric in SCORE_METRICS else columns.prediction
            if columns.target is not None and needed is not None:
                plan.append(("performance", metric, {}))
        for name in self.numeric:
            plan.extend(("drift", metric, {"column": name}) for metric in NUMERIC_DRIFT_METRICS)
        for name in self.categorical:
            plan.extend(("drift", metric, {"column": name}) for metric in CATEGORICAL_DRIFT_METRICS)
        if self.spec.task == "binary_classification" and columns.prediction is not None:
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

    def _validate_against_data(self, check: Check) -> None:
        """Refuse a check whose named column the datasets cannot provide."""
        name = check.column
        if name is None:
            return
        if check.check == "quality":
            if name not in self.current.kinds:
                raise InputError(self._absent_message(name, f"the quality {check.metric} check", self.current))
            return
        kind = self._feature_kind(name)
        if check.metric in ("ks_statistic", "ks_pvalue") and kind != "numeric":
            raise InputError(f"Column {name!r} is categorical; the Kolmogorov-Smirnov test needs a numeric column.")
        if check.metric == "chi2_pvalue" and kind != "categorical":
            raise InputError(f"Column {name!r} is numeric; the chi-square test needs a categorical column.")

    def _feature_kind(self, name: str) -> str:
        """Return "numeric" or "categorical" for a drift column, taking it as a feature if unlisted."""
        if name in self.numeric:
            return "numeric"
        if name in self.categorical:
            return "categorical"
        for dataset in (self.reference, self.current):
            if name not in dataset.kinds:
                raise InputError(self._absent_message(name, "a drift check", dataset))
        kind = self.reference.kinds[name]
        if kind in NUMERIC_KINDS:
            self.numeric.append(name)
            return "numeric"
        if kind in CATEGORICAL_KINDS:
            self.categorical.append(name)
            return "categorical"
        raise InputError(f"Column {name!r} holds {kind} values; drift is measured on numeric or categorical columns.")

    def _prepare(self, checks: list[Check]) -> None:
        """List the units of work in the order they start, and tell CSV datasets every column they will serve."""
        units: dict[tuple[str, str], None] = {}  # an ordered set
        reference_columns: set[str] = set()
        current_columns: set[str] = set()
        columns = self.columns
        if any(c.check == "quality" and c.metric in ("missing_rate", "duplicate_rows", "range") for c in checks):
            # First: the scan of every column is the longest unit, and the others fill the second thread.
            units[("quality", "")] = None
            current_columns.update(self._scan_columns(checks))
            current_columns.update(c.column for c in checks if c.check == "quality" and c.column)
        for check in checks:
            if check.check == "drift":
                for name in self._drift_columns(check):
                    units[("drift", name)] = None
                    self._kinds[name] = "absent" if name in self.absent else self._feature_kind(name)
                    if name not in self.absent:
                        reference_columns.add(name)
                        current_columns.add(name)
            elif check.check == "performance":
                units[("performance", "")] = None
                current_columns.update(n for n in (columns.target, columns.prediction, columns.score) if n)
            elif check.check == "fairness":
                current_columns.update(n for n in (columns.target, columns.prediction) if n)
                for attribute in self._attributes(check):
                    units[("fairness", attribute)] = None
                    current_columns.add(attribute)
        for check in checks:
            if check.check in ("documentation", "integrity"):
                units[(check.check, "")] = None
        self.units = list(units)
        self.units_total = len(self.units)
        self.reference.want(reference_columns)
        self.current.want(current_columns)

    def _compute(self) -> None:
        """Run every unit that reads data, THREADS at a time; results land in the caches."""
        work = [unit for unit in self.units if unit[0] not in ("documentation", "integrity")]
        self._report(4, "Computing the checks")
        if THREADS < 2 or len(work) < 2:
            for unit in work:
                self._run_unit(unit)
                self._step(_describe(unit))
            return
        with ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="checks") as pool:
            futures = {pool.submit(self._run_unit, unit): unit for unit in work}
            try:
                for future in as_completed(futures):
                    future.result()
                    self._step(_describe(futures[future]))
            except BaseException:
                pool.shutdown(cancel_futures=True)
                raise

    def _run_unit(self, unit: tuple[str, str]) -> None:
        kind, name = unit
        if kind == "drift":
            self._drift[name] = self._column_drift(name, self._kinds[name])
        elif kind == "performance":
            self._performance_measures()
        elif kind == "fairness":
            self._attribute_fairness(name)
        elif kind == "quality":
            self._quality_scan()

    def _drift_columns(self, check: Check) -> list[str]:
        if check.column is not None:
            return [check.column]
        if check.metric in ("ks_statistic", "ks_pvalue"):
            return list(self.numeric)
        if check.metric == "chi2_pvalue":
            return list(self.categorical)
        return self.numeric + self.categorical

    def _attributes(self, check: Check) -> list[str]:
        return [check.attribute] if check.attribute is not None else list(self.columns.sensitive)

    def _scan_columns(self, checks: list[Check]) -> list[str]:
        """Return the current columns the quality scan reads: all of them for duplicates."""
        everything = any(
            c.check == "quality" and (c.metric == "duplicate_rows" or (c.metric == "missing_rate" and not c.column))
            for c in checks
        )
        if everything:
            return self.current.names
        return [c.column for c in checks if c.check == "quality" and c.metric == "missing_rate" and c.column]

    # Results of one check

    def _results(self, check: Check) -> list[dict[str, Any]]:
        kind, metric = check.check, check.metric
        if kind == "performance":
            measure = self._performance_measures()[metric]
            return [result(check=kind, metric=metric, measure=measure, thresholds=check.thresholds)]
        if kind == "drift":
            return [
                result(
                    check=kind,
                    metric=metric,
                    column=name,
                    measure=self._drift_measures(name)[metric],
                    thresholds=check.thresholds,
                )
                for name in self._drift_columns(check)
            ]
        if kind == "fairness":
            return [item for attribute in self._attributes(check) for item in self._fairness_results(check, attribute)]
        if kind == "quality":
            return self._quality_results(check)
        if kind == "documentation":
            return [self._documentation_result(check)]
        item = self._integrity_result()
        self._step("Integrity of the model artifact")
        return [item]

    # Performance

    def _performance_measures(self) -> dict[str, Measure]:
        if self._performance is not None:
            return self._performance
        task = self.spec.task
        if task == "binary_classification":
            measures = self._binary_performance()
        elif task == "multiclass":
            measures = self._multiclass_performance()
        else:
            measures = self._regression_performance()
        self._performance = measures
        return measures

    def _binary_performance(self) -> dict[str, Measure]:
        labels = self._binary_labels()
        metrics = PERFORMANCE_METRICS["binary_classification"]
        if isinstance(labels, str):
            return dict.fromkeys(metrics, Measure.unusable(labels))
        measures: dict[str, Measure] = {}
        assert labels.target is not None
        assert labels.target_present is not None
        if labels.prediction is not None and labels.prediction_present is not None:
            rows = labels.target_present & labels.prediction_present
            left_out = _left_out(rows, "a target or a prediction")
            computed = performance.binary_label_metrics(labels.target[rows], labels.prediction[rows])
            measures.update(_with_note(computed, labels.note, left_out))
        if self.columns.score is not None:
            scores = to_numbers(self.current.column(self.columns.score))
            rows = labels.target_present & ~np.isnan(scores.values)
            left_out = _left_out(rows, "a target or a numeric score")
            computed = performance.binary_score_metrics(labels.target[rows], scores.values[rows])
            measures.update(_with_note(computed, labels.note, left_out))
        return measures

    def _binary_labels(self) -> _Labels | str:
        """Return the positive flags of target and prediction, or why the labels are not binary."""
        with self._labels_lock:  # performance and fairness units may ask at once
            if self._labels is None:
                self._labels = self._read_binary_labels()
            return self._labels

    def _read_binary_labels(self) -> _Labels | str:
        positive = label_text(self.spec.positive_label)
        read: dict[str, BinaryColumn] = {}
        for role in ("target", "prediction"):
            name = getattr(self.columns, role)
            if name is None:
                continue
            try:
                read[role] = binary_column(self.current.column(name), positive)
            except ValueError as exc:
                return f"The {role} column {name!r} has {exc}; binary classification needs two labels."
        seen = set().union(*(column.seen for column in read.values()))
        others = sorted(seen - {positive})
        if len(others) > 1:
            shown = ", ".join(repr(text) for text in others[:10]) + (" …" if len(others) > 10 else "")
            return (
                f"Binary classification needs two labels, one of them the positive label {positive!r}; "
                f'besides it the target and prediction hold {shown}. Set "positive_label" in the suite '
                "or map the labels to 0/1."
            )
        note = None
        if seen and positive not in seen:
            note = f"the positive label {positive!r} never appears in the target or the prediction"
        target, prediction = read.get("target"), read.get("prediction")
        return _Labels(
            target=target.positive if target else None,
            target_present=target.present if target else None,
            prediction=prediction.positive if prediction else None,
            prediction_present=prediction.present if prediction else None,
            note=note,
        )

    def _multiclass_performance(self) -> dict[str, Measure]:
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
        return _with_note(computed, None, _left_out(rows, "a target or a prediction"))

    def _regression_performance(self) -> dict[str, Measure]:
        assert self.columns.target is not None
        assert self.columns.prediction is not None
        target = to_numbers(self.current.column(self.columns.target))
        prediction = to_numbers(self.current.column(self.columns.prediction))
        rows = ~np.isnan(target.values) & ~np.isnan(prediction.values)
        computed = performance.regression_metrics(target.values[rows], prediction.values[rows])
        return _with_note(computed, None, _left_out(rows, "a numeric target or a numeric prediction"))

    # Drift

    def _drift_measures(self, name: str) -> dict[str, Measure]:
        if name not in self._drift:
            self._drift[name] = self._column_drift(name, self._kinds[name])
        return self._drift[name]

    def _column_drift(self, name: str, kind: str) -> dict[str, Measure]:
        """Return the drift measures of one column; safe to run in a worker thread."""
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

    # Fairness

    def _fairness_results(self, check: Check, attribute: str) -> list[dict[str, Any]]:
        fairness = self._attribute_fairness(attribute)
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

    def _attribute_fairness(self, attribute: str) -> AttributeFairness | str:
        if attribute in self._fairness:
            return self._fairness[attribute]
        labels = self._binary_labels()
        if isinstance(labels, str):
            self._fairness[attribute] = labels
            return labels
        assert labels.prediction is not None
        assert labels.prediction_present is not None
        usable = labels.prediction_present.copy()
        if labels.target_present is not None:
            usable &= labels.target_present
        groups, order = to_groups(self.current.column(attribute))
        left_out = _left_out(usable, "a target or a prediction")
        note = "; ".join(part for part in (labels.note, left_out) if part) or None
        fairness = attribute_fairness(groups, order, labels.prediction, labels.target, usable, note)
        self._fairness[attribute] = fairness
        return fairness

    # Quality

    def _quality_results(self, check: Check) -> list[dict[str, Any]]:
        kind, metric = check.check, check.metric
        rows = self.current.row_count
        if metric == "row_count":
            measure = Measure(rows, "the current dataset has no rows" if rows == 0 else None)
            return [result(check=kind, metric=metric, measure=measure, thresholds=check.thresholds)]
        if metric == "schema":
            if self.spec.schema is not None:
                expected, source = list(self.spec.schema), "the suite's schema"
            else:
                expected, source = self.reference.names, "the reference dataset"
            measure, status = quality.schema(expected, self.current.names, source)
            item = result(check=kind, metric=metric, measure=measure, thresholds=Thresholds())
            item["status"] = status
            return [item]
        if metric == "range":
            assert check.column is not None
            numbers = to_numbers(self.current.column(check.column))
            measure = quality.out_of_range(numbers, check.thresholds.min, check.thresholds.max)
            item = result(check=kind, metric=metric, column=check.column, measure=measure, thresholds=Thresholds())
            item["threshold"] = check.thresholds.as_dict()
            item["status"] = "fail" if measure.value else "pass"
            return [item]
        missing, duplicates = self._quality_scan()
        if metric == "duplicate_rows":
            measure = quality.duplicate_rows(duplicates or 0, rows, self._skipped)
            return [result(check=kind, metric=metric, measure=measure, thresholds=check.thresholds)]
        names = [check.column] if check.column else self.current.names
        return [
            result(
                check=kind,
                metric=metric,
                column=name,
                measure=quality.missing_rate(missing[name], rows),
                thresholds=check.thresholds,
            )
            for name in names
        ]

    def _quality_scan(self) -> tuple[dict[str, int], int | None]:
        """Read the current dataset's columns once: missing counts and, if needed, duplicate rows."""
        if self._scan is not None:
            return self._scan
        names = self._scan_columns(self.plan)
        wants_duplicates = any(c.check == "quality" and c.metric == "duplicate_rows" for c in self.plan)
        hasher = quality.RowHasher(self.current.row_count) if wants_duplicates else None
        missing: dict[str, int] = {}
        for name in names:
            column = self.current.column(name)
            missing[name] = quality.missing_count(column)
            if hasher is not None:
                hasher.add(column, name)
            del column
        self._scan = (missing, hasher.duplicates() if hasher is not None else None)
        self._skipped = hasher.skipped if hasher is not None else []
        return self._scan

    # Documentation and integrity

    def _documentation_result(self, check: Check) -> dict[str, Any]:
        self._step("Documentation")  # instant: it only reads what it was given
        kind, metric = check.check, check.metric
        card = self.documentation
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

    def _integrity_result(self) -> dict[str, Any]:
        artifact = self.artifact
        expected = artifact.expected_sha256.strip().lower() if artifact is not None else ""
        item: dict[str, Any] = dict.fromkeys(RESULT_KEYS)
        item.update(check="integrity", metric="sha256", status="skipped")
        item["threshold"] = {"equals": expected} if expected else None
        if artifact is None:
            item["message"] = "No model artifact was given to this run."
            return item
        if artifact.path is None:
            item["message"] = "The artifact is not reachable from this run, so its SHA-256 was not checked."
            return item
        if not expected:
            item["message"] = "No SHA-256 is registered for the artifact."
            return item
        if not _SHA256.match(expected):
            item["status"] = "error"
            item["message"] = "The registered SHA-256 is not 64 hexadecimal characters."
            return item
        path = Path(artifact.path)
        try:
            # Only hashed, in chunks: the artifact is never opened as a model, so never unpickled.
            with path.open("rb") as file:
                digest = hashlib.file_digest(file, "sha256").hexdigest()
        except OSError as exc:
            item["status"] = "error"
            item["message"] = f"The artifact {path.name!r} could not be read: {exc.strerror or exc}."
            return item
        item["value"] = digest
        if digest == expected:
            item["status"] = "pass"
            item["message"] = "The artifact's SHA-256 matches the registered one."
        else:
            item["status"] = "fail"
            item["message"] = "The artifact's SHA-256 differs from the registered one: the file was changed."
        return item


def _describe(unit: tuple[str, str]) -> str:
    kind, name = unit
    return {
        "drift": f"Drift of {name}",
        "performance": "Performance",
        "fairness": f"Fairness across {name}",
        "quality": "Data quality of the current dataset",
    }[kind]


def _with_default_thresholds(check: Check) -> Check:
    """Return the check with the standard suite's thresholds if it sets none (a range's are its bounds)."""
    if check.thresholds.empty and not (check.check == "quality" and check.metric == "range"):
        return replace(check, thresholds=standard_thresholds(check.check, check.metric))
    return check


def _left_out(rows: np.ndarray, what: str) -> str | None:
    excluded = int(rows.shape[0] - np.count_nonzero(rows))
    if not excluded:
        return None
    return f"{plural(excluded, 'row')} without {what} {'was' if excluded == 1 else 'were'} left out"


def _with_note(measures: dict[str, Measure], *notes: str | None) -> dict[str, Measure]:
    """Return the measures with `notes` said before each measure's own note."""
    prefix = [note for note in notes if note]
    if not prefix:
        return measures
    return {
        name: Measure(measure.value, "; ".join([*prefix, *([measure.note] if measure.note else [])]), measure.error)
        for name, measure in measures.items()
    }
