"""Read a predictions batch into a window's columns, with its outcomes joined by prediction id.

A predictions batch has the reference's columns (the target optional), an id and a timestamp per
row. Outcomes arrive later as (id, target) files; each is joined here to the predictions it names,
the later file winning where two name the same id. The result is the batch as a validation run
would see it: the reference's columns in the reference's order, the target filled from the outcomes
(null where none has arrived), the id and timestamp kept apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped, unused-ignore]

from apps.monitoring.engine.errors import BatchError
from apps.monitoring.engine.reference import Reference
from apps.monitoring.engine.tables import (
    NUMERIC,
    Source,
    arrow_of,
    check_columns,
    check_ids,
    check_kind,
    common_type,
    open_source,
    read_columns,
    timestamps,
)
from apps.validation.engine.reader import numpy_of

MAX_AGE = timedelta(days=400)
MAX_FUTURE = timedelta(minutes=5)


def read_predictions(
    source: Source,
    reference: Reference,
    *,
    now: datetime | None,
    outcomes: Sequence[Source] = (),
    max_age: timedelta = MAX_AGE,
    max_future: timedelta = MAX_FUTURE,
    label: str = "predictions batch",
) -> tuple[Any, np.ndarray, Any]:
    """Return (the window's columns as a Table, timestamps in µs since 1970 UTC, the ids); BatchError if unusable.

    `now` None skips the plausibility of the timestamps (a batch read again for a window was checked
    when it arrived).
    """
    dataset = open_source(source, label)
    target = reference.spec.columns.target
    expected = [*reference.batch_columns, reference.id_column, reference.timestamp_column]
    check_columns(dataset, expected, (target,) if target else (), "the monitor's predictions")
    table = read_columns(dataset, list(dataset.kinds))
    for name, wanted, role in _typed_columns(reference):
        if name in dataset.kinds:
            check_kind(dataset, table, name, wanted, role)
    ids = check_ids(table.column(reference.id_column), dataset.label, reference.id_column)
    micros = timestamps(
        table.column(reference.timestamp_column),
        dataset.label,
        reference.timestamp_column,
        now=now,
        max_age=max_age,
        max_future=max_future,
    )
    columns = {name: table.column(name) for name in reference.batch_columns}
    if target is not None:
        own = table.column(target) if target in dataset.kinds else None
        columns[target] = join_outcomes(ids, [read_outcomes(item, reference) for item in outcomes], own, reference)
    elif outcomes:
        raise BatchError("The suite maps no target column, so this monitor takes no outcomes.")
    ordered = {name: columns[name] for name in reference.window_kinds}
    return pa.table(ordered), micros, ids


def read_outcomes(source: Source, reference: Reference, label: str = "outcomes batch") -> Any:
    """Return an outcomes file as a Table of (id, target); BatchError if it is not one."""
    target = reference.spec.columns.target
    if target is None:
        raise BatchError("The suite maps no target column, so this monitor takes no outcomes.")
    dataset = open_source(source, label)
    check_columns(dataset, [reference.id_column, target], (), "an outcomes batch (the id and the target)")
    table = read_columns(dataset, [reference.id_column, target])
    wanted = NUMERIC if reference.spec.task == "regression" else None
    check_kind(dataset, table, target, wanted, "the target")
    check_ids(table.column(reference.id_column), dataset.label, reference.id_column)
    return table


def read_ids(source: Source, reference: Reference, label: str = "predictions batch") -> Any:
    """Return the id column of a predictions batch, checked as ``read_predictions`` checks it (BatchError)."""
    dataset = open_source(source, label)
    check_columns(dataset, [reference.id_column], tuple(dataset.kinds), "a predictions batch")
    table = read_columns(dataset, [reference.id_column])
    return check_ids(table.column(reference.id_column), dataset.label, reference.id_column)


def check_outcomes(source: Source, reference: Reference) -> int:
    """Check an outcomes batch as profile_batch will read it and return its number of rows."""
    return int(read_outcomes(source, reference).num_rows)


def join_outcomes(ids: Any, outcomes: list[Any], own: Any, reference: Reference) -> Any:
    """Return the target of each prediction: the last outcome naming its id, else the batch's own value, else null."""
    if not outcomes:
        return own if own is not None else pa.chunked_array([pa.nulls(len(ids))])
    target = reference.spec.columns.target
    newest_first = outcomes[::-1]  # index_in finds the first occurrence: the latest outcome for an id
    id_columns = _id_type([ids, *(table.column(reference.id_column) for table in newest_first)])
    value_set = pa.concat_arrays([chunk for column in id_columns[1:] for chunk in column.chunks])
    labels = common_type([table.column(target) for table in newest_first])
    found = _positions(id_columns[0], value_set)
    joined = pa.chunked_array([chunk for column in labels for chunk in column.chunks], type=labels[0].type).take(found)
    if own is None:
        return joined
    joined, own = common_type([joined, own])
    return pc.coalesce(joined, own)


def _positions(ids: Any, value_set: Any) -> Any:
    """Return, for each id, the position of its first occurrence in `value_set` (null when absent)."""
    if not pa.types.is_integer(value_set.type):
        return pc.index_in(ids, value_set=value_set)
    values = numpy_of(value_set, np.int64)
    wanted = numpy_of(ids, np.int64)
    if values.shape[0] < 2 or bool(np.all(values[1:] > values[:-1])):
        order = np.arange(values.shape[0])  # one file of ids in increasing order: nothing to sort
    else:
        order = np.argsort(values, kind="stable")  # stable: of equal ids, the first occurrence sorts first
    ordered = values[order]
    at = np.searchsorted(ordered, wanted, side="left")
    inside = at < ordered.shape[0]
    found = np.zeros(wanted.shape[0], dtype=bool)
    found[inside] = ordered[at[inside]] == wanted[inside]
    positions = np.where(found, order[np.minimum(at, ordered.shape[0] - 1)] if ordered.shape[0] else 0, 0)
    return arrow_of(positions.astype(np.int64), found)


def _id_type(columns: list[Any]) -> list[Any]:
    """Ids compare as integers when every file has integer ids, else as text."""
    if all(pa.types.is_integer(column.type) for column in columns):
        return [pc.cast(column, pa.int64()) for column in columns]
    return [pc.cast(column, pa.string()) for column in columns]


def _typed_columns(reference: Reference) -> list[tuple[str, frozenset[str] | None, str]]:
    """The batch columns whose type is checked: numeric ones must hold numbers, every one simple values."""
    columns = reference.spec.columns
    numeric = set(reference.numeric)
    if columns.score:
        numeric.add(columns.score)
    if reference.spec.task == "regression":
        numeric.update(name for name in (columns.target, columns.prediction) if name)
    checked: list[tuple[str, frozenset[str] | None, str]] = []
    for name in [*reference.batch_columns, columns.target]:
        if name is None:
            continue
        role = "a numeric column" if name in numeric else "a column"
        checked.append((name, NUMERIC if name in numeric else None, role))
    return checked
