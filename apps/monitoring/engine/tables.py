"""Open a batch or an outcomes file safely, check its columns, ids and timestamps, join its outcomes.

Files go through the validation engine's reader (the registry's hostile-file checks: the bytes are
what the extension claims, a CSV is UTF-8 without NUL bytes, a Parquet footer fits the file, at most
2,000 columns and 50,000,000 rows), so a batch is refused for the same reasons a dataset is. A
pyarrow Table (JSON rows converted by the caller) gets the same column and size limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped, unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]

from apps.monitoring.engine.errors import BatchError
from apps.registry.ingest import UnusableFile
from apps.registry.ingest.common import ARROW_ERRORS, check_names, column_type, one_line
from apps.validation.engine.errors import InputError
from apps.validation.engine.reader import MAX_COLUMNS, MAX_ROWS, Dataset, numpy_of, open_dataset

Source = str | Path | Any  # a CSV or Parquet file, or a pyarrow Table
NUMERIC = frozenset({"integer", "float"})
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class TableDataset(Dataset):
    """A Dataset whose columns are already in memory: the validation families read it like a file."""

    table: Any = None

    def column(self, name: str) -> Any:
        if name not in self.kinds:
            raise InputError(f"The {self.label} dataset has no column {name!r}.")
        return self.table.column(name)

    def release(self, name: str) -> None:
        """Nothing to release: the table is the caller's."""


def table_dataset(table: Any, label: str) -> TableDataset:
    kinds = {field.name: column_type(field.type) for field in table.schema}
    return TableDataset(
        label=label, path=Path(label), format="parquet", row_count=table.num_rows, kinds=kinds, table=table
    )


def open_source(source: Source, label: str) -> Dataset:
    """Return the batch as a Dataset, its columns read on demand; BatchError if it cannot be used."""
    if isinstance(source, pa.Table):
        try:
            check_names(list(source.column_names), MAX_COLUMNS)
        except UnusableFile as exc:
            raise BatchError(f"The {label}: {exc}") from exc
        if source.num_rows > MAX_ROWS:
            raise BatchError(f"The {label} has {source.num_rows:,} rows; at most {MAX_ROWS:,} rows are allowed.")
        return table_dataset(source, label)
    try:
        return open_dataset(Path(source), label)
    except InputError as exc:
        raise BatchError(str(exc)) from exc


def read_columns(dataset: Dataset, names: list[str]) -> Any:
    """Read the named columns into one pyarrow Table (a CSV in one pass)."""
    dataset.want(names)
    try:
        if dataset.format == "parquet" and not isinstance(dataset, TableDataset):
            return _read_parquet(dataset, names)
        return pa.table({name: dataset.column(name) for name in names})
    except InputError as exc:
        raise BatchError(str(exc)) from exc


def _read_parquet(dataset: Dataset, names: list[str]) -> Any:
    """Read the columns in one pass over the file, text dictionary-encoded as the validation reader does."""
    dictionary = [name for name in names if dataset.kinds[name] == "string"]
    try:
        with pa.OSFile(str(dataset.path)) as source, pq.ParquetFile(source, read_dictionary=dictionary) as parquet:
            return parquet.read(columns=names, use_threads=True)
    except MemoryError:
        raise
    except ARROW_ERRORS as exc:
        raise BatchError(
            f"The {dataset.label} ({dataset.path.name}): the Parquet file is damaged or incomplete."
        ) from exc


def check_columns(dataset: Dataset, expected: list[str], optional: tuple[str, ...], what: str) -> None:
    """Refuse a file whose columns are not exactly `expected` (plus any of `optional`)."""
    present = set(dataset.kinds)
    missing = [name for name in expected if name not in present]
    allowed = set(expected) | set(optional)
    extra = [name for name in dataset.kinds if name not in allowed]
    if not missing and not extra:
        return
    parts = []
    if missing:
        parts.append(f"it lacks {_names(missing)}")
    if extra:
        parts.append(f"it has columns the monitor does not know: {_names(extra)}")
    raise BatchError(f"The {dataset.label} does not have the columns of {what}: {'; '.join(parts)}.")


def check_kind(dataset: Dataset, table: Any, name: str, wanted: frozenset[str] | None, role: str) -> None:
    """Refuse a column of the wrong coarse type (an all-null column of any type is accepted)."""
    column = table.column(name)
    if column.null_count == len(column):
        return
    kind = dataset.kinds[name]
    nested = kind == "other" and not pa.types.is_null(column.type)
    if nested or (wanted is not None and kind not in wanted):
        expected = "numbers" if wanted == NUMERIC else "simple values (text, numbers or booleans)"
        sample = one_line(repr(column.drop_null()[0].as_py()))[:60]
        raise BatchError(
            f"Column {name!r} ({role}) of the {dataset.label} should hold {expected} but holds {kind} values "
            f"(for example {sample})."
        )


def check_ids(ids: Any, label: str, name: str) -> Any:
    """Return the id column; refuse nulls, types other than integers and text, and repeated ids."""
    if pa.types.is_dictionary(ids.type):
        # Text of Parquet arrives dictionary-encoded (validation's reader), which Arrow's counting and
        # joining kernels do not take: the ids as plain text.
        ids = ids.cast(ids.type.value_type)
    kind = column_type(ids.type)
    if kind not in ("integer", "string"):
        raise BatchError(f"The id column {name!r} of the {label} must hold integers or text, not {kind} values.")
    if ids.null_count:
        raise BatchError(f"{ids.null_count:,} rows of the {label} have no value in the id column {name!r}.")
    if _all_distinct(ids):
        return ids
    distinct = int(pc.count_distinct(ids).as_py())
    if distinct != len(ids):
        counts = pc.value_counts(ids).flatten()
        repeated = pc.filter(counts[0], pc.greater(counts[1], 1))
        example = one_line(repr(repeated[0].as_py()))[:60]
        raise BatchError(
            f"The {label} repeats prediction ids: {len(ids) - distinct:,} rows share an id with another row "
            f"(for example {example}). Every prediction needs its own id."
        )
    return ids


def _all_distinct(ids: Any) -> bool:
    """Whether no id repeats: integers by a sort (nothing to sort when they arrive in order), text by hashing."""
    if not pa.types.is_integer(ids.type):
        return int(pc.count_distinct(ids).as_py()) == len(ids)
    values = numpy_of(ids, np.int64)
    if values.shape[0] < 2 or bool(np.all(values[1:] > values[:-1])):
        return True
    values.sort()
    return not bool(np.any(values[1:] == values[:-1]))


def timestamps(
    column: Any, label: str, name: str, *, now: datetime | None, max_age: timedelta, max_future: timedelta
) -> Any:
    """Return the timestamps as int64 microseconds since 1970 UTC; refuse missing, unreadable or implausible ones."""
    micros = _to_micros(column, label, name)
    if micros.shape[0] == 0 or now is None:
        return micros
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    latest = int(micros.max())
    earliest = int(micros.min())
    if latest > _micros(now + max_future):
        raise BatchError(
            f"The {label} has rows timestamped in the future (up to {_iso(latest)}; now is {_iso(_micros(now))}): "
            "check the clock of the serving process or the timestamp column."
        )
    if earliest < _micros(now - max_age):
        raise BatchError(
            f"The {label} has rows timestamped {_iso(earliest)}, more than {max_age.days:,} days ago: "
            "monitoring takes recent predictions only."
        )
    return micros


def _to_micros(column: Any, label: str, name: str) -> np.ndarray:
    kind = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
    if pa.types.is_dictionary(column.type):
        column = column.cast(kind)
    try:
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            column = _parse_text_times(column)
        elif pa.types.is_date(kind):
            column = pc.cast(column, pa.timestamp("us"))
        elif not pa.types.is_timestamp(kind):
            raise BatchError(
                f"The timestamp column {name!r} of the {label} holds {column_type(kind)} values; "
                "send timestamps (ISO 8601 text such as 2026-12-07T10:00:00Z, or a timestamp type)."
            )
        column = pc.cast(column, pa.timestamp("us", tz=column.type.tz))
    except ARROW_ERRORS as exc:
        if isinstance(exc, BatchError):
            raise
        raise BatchError(
            f"The timestamp column {name!r} of the {label} could not be read ({one_line(str(exc)).rstrip('.')}); "
            "send ISO 8601 text such as 2026-12-07T10:00:00Z or a timestamp type."
        ) from exc
    if column.null_count:
        raise BatchError(f"{column.null_count:,} rows of the {label} have no timestamp in column {name!r}.")
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    arrays = [
        np.frombuffer(chunk.buffers()[1], dtype=np.int64, count=len(chunk), offset=chunk.offset * 8) for chunk in chunks
    ]
    return np.concatenate(arrays) if arrays else np.empty(0, dtype=np.int64)


def _parse_text_times(column: Any) -> Any:
    """Parse ISO 8601 text: with a zone offset ("Z", "+01:00") or without one (taken as UTC)."""
    trimmed = pc.utf8_trim_whitespace(column)
    try:
        return pc.cast(trimmed, pa.timestamp("us", tz="UTC"))
    except pa.ArrowInvalid:
        return pc.cast(trimmed, pa.timestamp("us"))


def _micros(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def _iso(micros: int) -> str:
    return (EPOCH + timedelta(microseconds=micros)).strftime("%Y-%m-%d %H:%M:%S UTC")


def arrow_of(values: np.ndarray, valid: np.ndarray | None = None) -> Any:
    """Return a numpy array (int64, float64 or bool) as a pyarrow Array, null where `valid` is False.

    Built from buffers: pa.array() of a numpy array imports pandas wherever it is installed.
    """
    length = values.shape[0]
    validity = None if valid is None else pa.py_buffer(np.packbits(valid, bitorder="little"))
    if values.dtype == np.bool_:
        data = pa.py_buffer(np.packbits(values, bitorder="little"))
        return pa.Array.from_buffers(pa.bool_(), length, [validity, data])
    kind = {np.dtype(np.int64): pa.int64(), np.dtype(np.float64): pa.float64()}[values.dtype]
    return pa.Array.from_buffers(kind, length, [validity, pa.py_buffer(np.ascontiguousarray(values))])


def common_type(arrays: list[Any]) -> list[Any]:
    """Cast columns of one role from several files to one type: numbers to float64 if they differ, else text."""
    decoded = [array.cast(array.type.value_type) if pa.types.is_dictionary(array.type) else array for array in arrays]
    types = {array.type for array in decoded if not pa.types.is_null(array.type)}
    if len(types) <= 1:
        target = types.pop() if types else pa.null()
    elif all(pa.types.is_integer(t) or pa.types.is_floating(t) for t in types):
        target = pa.float64()
    else:
        target = pa.string()
    return [array if array.type == target else pc.cast(array, target) for array in decoded]


def _names(names: list[str], limit: int = 10) -> str:
    shown = ", ".join(repr(name) for name in names[:limit])
    return shown if len(names) <= limit else f"{shown} and {len(names) - limit:,} more"
