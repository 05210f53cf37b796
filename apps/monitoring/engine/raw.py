"""The metrics a window cannot take from counts, computed on its raw batches.

The Kolmogorov-Smirnov test needs every value, ROC AUC every score, log loss, the Brier score and
the regression metrics sums of floats, and duplicate rows the rows themselves. These are computed
by the validation engine's own families on the window's rows put together. Float sums depend on
the order of their terms, so the rows they read are first put in one canonical order (sorted by
target and score or prediction): the result then depends only on which rows are in the window,
never on how they were split into batches or in which order the batches are listed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped, unused-ignore]

from apps.monitoring.engine.batches import read_outcomes, read_predictions
from apps.monitoring.engine.errors import BatchError
from apps.monitoring.engine.reference import Reference
from apps.monitoring.engine.tables import Source, TableDataset, arrow_of, common_type, open_source, table_dataset
from apps.validation.engine import drift, quality, stats
from apps.validation.engine.errors import InputError
from apps.validation.engine.families.common import SharedLabels
from apps.validation.engine.families.performance import PerformanceChecks
from apps.validation.engine.measure import Measure
from apps.validation.engine.reader import Dataset, to_numbers
from apps.validation.engine.spec import Spec

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class RawWindow:
    """The reference dataset file and a window's raw batches; rows outside [start, end) are left out."""

    reference: Source
    predictions: Sequence[Source]
    outcomes: Sequence[Source] = ()
    start: datetime | None = None
    end: datetime | None = None


@dataclass
class RawData:
    """A window's rows put together, and the reference dataset, read on demand."""

    reference: Dataset
    current: TableDataset
    _performance: dict[str, Measure] | None = field(default=None)

    def numeric_ks(self, name: str) -> tuple[float, float] | None:
        """Return the KS statistic and p-value of a numeric feature, or None if a side has no value."""
        try:
            ref = drift.sample(to_numbers(self.reference.column(name))).values
        except InputError as exc:
            raise BatchError(str(exc)) from exc
        cur = drift.sample(to_numbers(self.current.column(name))).values
        if ref.shape[0] == 0 or cur.shape[0] == 0:
            return None
        return stats.ks_2samp(ref, cur)

    def performance(self, spec: Spec) -> dict[str, Measure]:
        """Return every performance measure validation computes, on the rows in canonical order."""
        if self._performance is None:
            columns = spec.columns
            names = [name for name in (columns.target, columns.score, columns.prediction) if name]
            names = list(dict.fromkeys(names))
            table = self.current.table.select(names)
            table = table.take(pc.sort_indices(table, sort_keys=[(name, "ascending") for name in names]))
            dataset = table_dataset(table, "current")
            self._performance = PerformanceChecks(spec, dataset, SharedLabels(spec, dataset)).compute()
        return self._performance

    def duplicates(self) -> tuple[int, list[str]]:
        """Return how many rows repeat an earlier row, and the columns that could not be compared."""
        hasher = quality.RowHasher(self.current.row_count)
        for name in self.current.names:
            hasher.add(self.current.column(name), name)
        return hasher.duplicates(), hasher.skipped


def load(raw: RawWindow, reference: Reference) -> RawData:
    """Read the window's raw batches (outcomes joined) and open the reference dataset."""
    outcomes = [read_outcomes(item, reference) for item in raw.outcomes]
    tables = []
    for position, source in enumerate(raw.predictions, start=1):
        table, micros, _ = read_predictions(
            source, reference, now=None, outcomes=outcomes, label=f"raw batch {position} of the window"
        )
        keep = np.ones(micros.shape[0], dtype=bool)
        if raw.start is not None:
            keep &= micros >= _micros(raw.start)
        if raw.end is not None:
            keep &= micros < _micros(raw.end)
        tables.append(table if keep.all() else table.filter(arrow_of(keep)))
    names = list(reference.window_kinds)
    if tables:
        columns = {name: common_type([table.column(name) for table in tables]) for name in names}
        chunks = {name: [chunk for column in arrays for chunk in column.chunks] for name, arrays in columns.items()}
        window = pa.table({name: pa.chunked_array(chunks[name], type=columns[name][0].type) for name in names})
    else:
        window = pa.table({name: pa.nulls(0) for name in names})
    return RawData(reference=open_source(raw.reference, "reference dataset"), current=table_dataset(window, "current"))


def _micros(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("window bounds must be aware datetimes")
    return (moment - EPOCH) // timedelta(microseconds=1)


def window_rows(raw: RawData) -> Any:
    """The window's rows as one pyarrow Table (for tests and tools)."""
    return raw.current.table
