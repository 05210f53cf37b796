"""The data-quality family: row count, schema, missing rates, duplicate rows and declared ranges."""

from __future__ import annotations

from typing import Any

from apps.validation.engine import quality
from apps.validation.engine.measure import Measure, result
from apps.validation.engine.reader import Dataset, to_numbers
from apps.validation.engine.spec import Check, Spec, Thresholds

# The metrics that need the scan of the current dataset's columns (one unit of work for them all).
SCANNED = ("missing_rate", "duplicate_rows", "range")


class QualityChecks:
    """The quality checks of a run's plan; missing counts and duplicates come from one scan."""

    def __init__(self, spec: Spec, reference: Dataset, current: Dataset, plan: list[Check]) -> None:
        self.spec = spec
        self.reference = reference
        self.current = current
        self.plan = plan
        self._scan: tuple[dict[str, int], int | None] | None = None
        self._skipped: list[str] = []  # columns the duplicate count could not compare
        self._ranges: dict[tuple[str, float | None, float | None], Measure] = {}

    def needs_scan(self) -> bool:
        return any(c.check == "quality" and c.metric in SCANNED for c in self.plan)

    def scan_columns(self) -> list[str]:
        """Return the current columns the quality scan reads: all of them for duplicates."""
        everything = any(
            c.check == "quality" and (c.metric == "duplicate_rows" or (c.metric == "missing_rate" and not c.column))
            for c in self.plan
        )
        if everything:
            return self.current.names
        return [c.column for c in self.plan if c.check == "quality" and c.metric == "missing_rate" and c.column]

    def named_columns(self) -> set[str]:
        """Return the columns that quality checks name themselves (a range's, a missing rate's)."""
        return {c.column for c in self.plan if c.check == "quality" and c.column}

    def scan(self) -> tuple[dict[str, int], int | None]:
        """Read the current dataset's columns once: missing counts and, if needed, duplicate rows."""
        if self._scan is not None:
            return self._scan
        names = self.scan_columns()
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

    def provide(
        self,
        missing: dict[str, int],
        duplicates: int | None,
        ranges: dict[tuple[str, float | None, float | None], Measure],
        skipped: list[str] | None = None,
    ) -> None:
        """Take the scan's counts and the range measures computed elsewhere (monitoring sums them)."""
        self._scan = (missing, duplicates)
        self._ranges = ranges
        self._skipped = skipped or []

    def results(self, check: Check) -> list[dict[str, Any]]:
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
            key = (check.column, check.thresholds.min, check.thresholds.max)
            if key in self._ranges:
                measure = self._ranges[key]
            else:
                numbers = to_numbers(self.current.column(check.column))
                measure = quality.out_of_range(numbers, check.thresholds.min, check.thresholds.max)
            item = result(check=kind, metric=metric, column=check.column, measure=measure, thresholds=Thresholds())
            item["threshold"] = check.thresholds.as_dict()
            item["status"] = "fail" if measure.value else "pass"
            return [item]
        missing, duplicates = self.scan()
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
