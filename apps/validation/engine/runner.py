"""Run a suite on a reference and a current dataset and return every result.

A run checks both files, settles the columns and the list of checks (engine/planning.py), then
computes in units of work: the quality scan of the current dataset, each feature's drift,
performance, each sensitive attribute's fairness. Each check family (engine/families/) reads the
columns its units need, keeps only the small measures it computes and lets the arrays go, so
memory stays near a few columns of the larger dataset however many columns there are. Results are
then assembled in the order of the checks.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apps.validation.engine.families.common import SharedLabels
from apps.validation.engine.families.documentation import Documentation, documentation_result
from apps.validation.engine.families.drift import DriftChecks
from apps.validation.engine.families.fairness import FairnessChecks
from apps.validation.engine.families.integrity import Artifact, integrity_result
from apps.validation.engine.families.performance import PerformanceChecks
from apps.validation.engine.families.quality import QualityChecks
from apps.validation.engine.planning import plan_checks, resolve_features
from apps.validation.engine.reader import open_dataset
from apps.validation.engine.spec import Check, Spec

__all__ = ["Artifact", "Documentation", "Progress", "SuiteResult", "overall_status", "run_suite"]

Progress = Callable[[int, str], None]
_STATUS_ORDER = ("fail", "error", "warn", "pass")
# Units of work (a column's drift, the quality scan, ...) run two at a time: numpy's sorts and
# searches and pyarrow's reads release the GIL, so a second thread uses a second core; more
# threads would mostly add memory.
THREADS = min(2, os.cpu_count() or 1)


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


Unit = tuple[str, str]  # (family, column or attribute, "" for a family that is one unit)


class _Run:
    performance: PerformanceChecks
    drift: DriftChecks
    fairness: FairnessChecks
    quality: QualityChecks

    def __init__(
        self,
        spec: Spec,
        progress: Progress | None,
        documentation: Documentation | None,
        artifact: Artifact | None,
    ) -> None:
        self.spec = spec
        self.progress = progress
        self.documentation = documentation
        self.artifact = artifact
        self.units: list[Unit] = []
        self.units_total = 1
        self.units_done = 0

    def execute(self, reference_path: Path, current_path: Path) -> SuiteResult:
        self._report(0, "Checking the reference dataset")
        reference = open_dataset(reference_path, "reference")
        self._report(2, "Checking the current dataset")
        current = open_dataset(current_path, "current")
        features = resolve_features(self.spec, reference, current)
        plan = plan_checks(self.spec, features)
        labels = SharedLabels(self.spec, current)
        self.performance = PerformanceChecks(self.spec, current, labels)
        self.drift = DriftChecks(reference, current, features)
        self.fairness = FairnessChecks(self.spec.columns, current, labels)
        self.quality = QualityChecks(self.spec, reference, current, plan)
        reference_columns, current_columns = self._prepare(plan)
        reference.want(reference_columns)
        current.want(current_columns)
        self._compute()
        results: list[dict[str, Any]] = []
        for check in plan:
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

    def _prepare(self, checks: list[Check]) -> tuple[set[str], set[str]]:
        """List the units of work in the order they start; return the columns each dataset will serve.

        CSV datasets are told every column at once, so they read the file once for all of them.
        """
        units: dict[Unit, None] = {}  # an ordered set
        reference_columns: set[str] = set()
        current_columns: set[str] = set()
        columns = self.spec.columns
        if self.quality.needs_scan():
            # First: the scan of every column is the longest unit, and the others fill the second thread.
            units[("quality", "")] = None
            current_columns.update(self.quality.scan_columns())
            current_columns.update(self.quality.named_columns())
        for check in checks:
            if check.check == "drift":
                for name in self.drift.columns(check):
                    units[("drift", name)] = None
                    if self.drift.register(name):
                        reference_columns.add(name)
                        current_columns.add(name)
            elif check.check == "performance":
                units[("performance", "")] = None
                current_columns.update(n for n in (columns.target, columns.prediction, columns.score) if n)
            elif check.check == "fairness":
                current_columns.update(n for n in (columns.target, columns.prediction) if n)
                for attribute in self.fairness.attributes(check):
                    units[("fairness", attribute)] = None
                    current_columns.add(attribute)
        for check in checks:
            if check.check in ("documentation", "integrity"):
                units[(check.check, "")] = None
        self.units = list(units)
        self.units_total = len(self.units)
        return reference_columns, current_columns

    def _compute(self) -> None:
        """Run every unit that reads data, THREADS at a time; the families keep what they compute."""
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

    def _run_unit(self, unit: Unit) -> None:
        kind, name = unit
        if kind == "drift":
            self.drift.compute(name)
        elif kind == "performance":
            self.performance.compute()
        elif kind == "fairness":
            self.fairness.compute(name)
        elif kind == "quality":
            self.quality.scan()

    def _results(self, check: Check) -> list[dict[str, Any]]:
        kind = check.check
        if kind == "performance":
            return self.performance.results(check)
        if kind == "drift":
            return self.drift.results(check)
        if kind == "fairness":
            return self.fairness.results(check)
        if kind == "quality":
            return self.quality.results(check)
        if kind == "documentation":
            self._step("Documentation")  # instant: it only reads what it was given
            return [documentation_result(check, self.documentation)]
        item = integrity_result(self.artifact)
        self._step("Integrity of the model artifact")
        return [item]


def _describe(unit: Unit) -> str:
    kind, name = unit
    return {
        "drift": f"Drift of {name}",
        "performance": "Performance",
        "fairness": f"Fairness across {name}",
        "quality": "Data quality of the current dataset",
    }[kind]
