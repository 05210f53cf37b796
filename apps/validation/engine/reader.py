"""Open a reference or current dataset safely and hand its columns to numpy.

Before pyarrow parses anything, the file goes through the registry's hostile-file checks
(apps/registry/ingest/): the bytes must be what the extension claims, a CSV must be UTF-8 text
without NUL bytes, a Parquet footer must fit the file, and the limits on rows and columns hold.
Only the columns a run needs are then read: Parquet one column at a time (each read touches that
column's pages only), CSV in one streamed pass over the needed columns, with the types the
inspection settled on so a late surprise in the file cannot fail the read.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped, unused-ignore]
import pyarrow.csv as pa_csv  # type: ignore[import-untyped, unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]

from apps.registry import ingest
from apps.registry.ingest import UnusableFile, detect_format
from apps.validation.engine.errors import InputError

# inspect_file's own limits, applied to the inspection steps called below.
MAX_COLUMNS = 2000
MAX_ROWS = 50_000_000
NUMERIC_KINDS = frozenset({"integer", "float"})
CATEGORICAL_KINDS = frozenset({"string", "boolean"})
MAX_LABELS = 10_000  # distinct labels beyond this mean a mapped label column holds something else
# A number as text, after surrounding blanks are trimmed; anything else in a numeric column is invalid.
_NUMBER_PATTERN = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
_CSV_TYPES = {"integer": pa.int64(), "float": pa.float64(), "boolean": pa.bool_()}
_DAMAGED_PARQUET = "The Parquet file is damaged or incomplete."


@dataclass
class Dataset:
    """A checked dataset file: its facts, and its columns read on demand."""

    label: str  # "reference" or "current", for messages
    path: Path
    format: str
    row_count: int
    kinds: dict[str, str]  # column name -> coarse type ("integer", "float", "string", ...), in file order
    _wanted: set[str] = field(default_factory=set)
    _csv: Any = None  # the CSV's needed columns, read in one pass
    _lock: threading.Lock = field(default_factory=threading.Lock)  # units of work read from two threads

    @property
    def names(self) -> list[str]:
        return list(self.kinds)

    def want(self, names: Iterable[str]) -> None:
        """Declare columns the run will read, so a CSV is parsed once for all of them."""
        self._wanted.update(name for name in names if name in self.kinds)

    def column(self, name: str) -> Any:
        """Return the column as a pyarrow ChunkedArray; raise InputError if it cannot be read."""
        if name not in self.kinds:
            raise InputError(f"The {self.label} dataset has no column {name!r}.")
        if self.format == "csv":
            with self._lock:
                if self._csv is None or name not in self._csv.column_names:
                    self._wanted.add(name)
                    self._csv = self._read_csv(sorted(self._wanted))
                return self._csv.column(name)
        return self._read_parquet_column(name)

    def release(self, name: str) -> None:
        """Forget a CSV column that no later step needs, to return its memory."""
        with self._lock:
            self._wanted.discard(name)
            if self._csv is not None and name in self._csv.column_names:
                self._csv = self._csv.drop_columns([name])

    def _read_csv(self, names: list[str]) -> Any:
        column_types = {name: _CSV_TYPES.get(self.kinds[name], pa.string()) for name in names}
        # The same parse options as the inspection, so the file reads exactly as it was checked.
        read_options = pa_csv.ReadOptions(use_threads=True, block_size=ingest.CSV_BLOCK_BYTES)
        parse_options = pa_csv.ParseOptions(newlines_in_values=True)
        convert_options = pa_csv.ConvertOptions(
            column_types=column_types, include_columns=names, strings_can_be_null=True
        )
        try:
            # An open file rather than a path: given a path, pyarrow decompresses by file extension.
            with pa.OSFile(str(self.path)) as source:
                return pa_csv.read_csv(
                    source, read_options=read_options, parse_options=parse_options, convert_options=convert_options
                )
        except MemoryError:  # ArrowMemoryError too: the data is bigger than a run may hold, not damaged
            raise
        except _ARROW_ERRORS as exc:
            raise InputError(
                f"The {self.label} dataset ({self.path.name}) could not be read: {_short(str(exc))}"
            ) from exc

    def _read_parquet_column(self, name: str) -> Any:
        # Text columns come back dictionary-encoded: categories then need no hashing of strings.
        dictionary = [name] if self.kinds[name] == "string" else None
        try:
            with pa.OSFile(str(self.path)) as source, pq.ParquetFile(source, read_dictionary=dictionary) as parquet:
                return parquet.read(columns=[name], use_threads=True).column(0)
        except MemoryError:  # ArrowMemoryError too: the data is bigger than a run may hold, not damaged
            raise
        except _ARROW_ERRORS as exc:
            raise InputError(f"The {self.label} dataset ({self.path.name}): {_DAMAGED_PARQUET}") from exc


def open_dataset(path: Path, label: str) -> Dataset:
    """Check the file at `path` with the registry's hostile-file checks and return its Dataset.

    Raises InputError with a sentence for a person when the file is missing, not CSV or Parquet,
    damaged, disguised, or beyond the limits.
    """
    path = Path(path)
    where = f"The {label} dataset ({path.name})"
    try:
        if not path.is_file():
            raise InputError(f"{where} does not exist or is not a file.")
        fmt = detect_format(path.name)
        row_count, columns = _inspect(path, fmt)
    except UnusableFile as exc:
        raise InputError(f"{where}: {exc}") from exc
    except OSError as exc:
        raise InputError(f"{where} could not be read: {exc.strerror or exc}.") from exc
    return Dataset(
        label=label,
        path=path,
        format=fmt,
        row_count=row_count,
        kinds={column["name"]: column["type"] for column in columns},
    )


def _inspect(path: Path, fmt: str) -> tuple[int, list[dict[str, str]]]:
    """Run inspect_file's checks on the file and return its row count and columns.

    These are inspect_file's own steps (apps/registry/ingest/), called one by one to leave out its
    SHA-256 of the whole file: the engine does not record the digest, and hashing a large file
    costs about as much as reading the columns a run needs.
    """
    size = path.stat().st_size
    if size == 0:
        raise UnusableFile("The file is empty.")
    if fmt == "csv":
        ingest.refuse_non_text(path, size)
        return ingest.inspect_csv(path, max_columns=MAX_COLUMNS, max_rows=MAX_ROWS)
    ingest.refuse_non_parquet(path, size)
    return ingest.inspect_parquet(path, size, max_columns=MAX_COLUMNS, max_rows=MAX_ROWS)


# What pyarrow may raise on a hostile file, and the one-line shortening of its messages.
_ARROW_ERRORS = ingest.ARROW_ERRORS
_short = ingest.one_line


# Columns to numpy


@dataclass
class Numbers:
    """A column as float64: NaN wherever the value is missing, not a number, or infinite."""

    values: np.ndarray
    missing: int  # null or NaN
    invalid: int  # present but not a number (text that does not parse, a date, ...)
    infinite: int  # +inf or -inf

    @property
    def excluded(self) -> int:
        return self.missing + self.invalid + self.infinite


def to_numbers(column: Any) -> Numbers:
    """Convert a pyarrow column to float64 numbers, counting what had to be left out."""
    column = _decode(column)
    kind = column.type
    invalid = 0
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        trimmed = pc.utf8_trim_whitespace(column)
        parses = pc.match_substring_regex(trimmed, _NUMBER_PATTERN)
        invalid = int(pc.sum(pc.invert(parses)).as_py() or 0)
        column = pc.cast(pc.if_else(parses, trimmed, pa.scalar(None, pa.string())), pa.float64())
    elif pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind):
        column = pc.cast(column, pa.float64())
    elif pa.types.is_decimal(kind):
        column = pc.cast(column, pa.float64(), safe=False)
    else:
        invalid = len(column) - column.null_count
        column = pa.chunked_array([pa.nulls(len(column), pa.float64())], type=pa.float64())
    values = _float_array(column)
    # NaN now stands for nulls, NaN values and unparsed text alike; the text was counted above.
    missing = int(np.count_nonzero(np.isnan(values))) - invalid
    infinite_mask = np.isinf(values)
    infinite = int(np.count_nonzero(infinite_mask))
    if infinite:
        values[infinite_mask] = np.nan
    return Numbers(values=values, missing=missing, invalid=invalid, infinite=infinite)


_NUMPY_TYPES = {
    "double": np.float64, "float": np.float32, "int64": np.int64, "int32": np.int32, "int16": np.int16,
    "int8": np.int8, "uint64": np.uint64, "uint32": np.uint32, "uint16": np.uint16, "uint8": np.uint8,
}  # fmt: skip


def numpy_of(column: Any, dtype: Any, *, fill: Any = None) -> np.ndarray:
    """Return a fixed-width (or boolean) column as a new, writable numpy array of ``dtype``, nulls as ``fill``.

    Read from Arrow's buffers: pyarrow's own ``to_numpy`` (and ``pa.scalar`` of a Python value, which
    ``fill_null`` needs) import pandas wherever it is installed, which alone costs a third of a second.
    """
    if isinstance(column, pa.ChunkedArray):
        column = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
    if pa.types.is_boolean(column.type):
        column = pc.cast(column, pa.uint8())
    if len(column) == 0:
        return np.empty(0, dtype=dtype)
    source = np.dtype(_NUMPY_TYPES[str(column.type)])
    validity, data = column.buffers()[:2]
    values = np.frombuffer(data, dtype=source, count=len(column), offset=column.offset * source.itemsize)
    values = values.astype(dtype, copy=True)
    if column.null_count:
        if fill is None:
            raise ValueError("numpy_of needs a fill value for a column with nulls")
        bits = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")
        values[bits[column.offset : column.offset + len(column)] == 0] = fill
    return values


def integers_of(column: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """Return an integer or boolean column as a read-only numpy view of Arrow's buffer (booleans as uint8,
    one copy), and where values are present (None when none is missing); a null's slot holds any value."""
    if isinstance(column, pa.ChunkedArray):
        column = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
    if pa.types.is_boolean(column.type):
        column = pc.cast(column, pa.uint8())
    source = np.dtype(_NUMPY_TYPES[str(column.type)])
    if len(column) == 0:
        return np.empty(0, dtype=source), None
    validity, data = column.buffers()[:2]
    values = np.frombuffer(data, dtype=source, count=len(column), offset=column.offset * source.itemsize)
    if not column.null_count:
        return values, None
    bits = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")
    return values, bits[column.offset : column.offset + len(column)].astype(bool)


def _float_array(column: Any) -> np.ndarray:
    """Return a float64 column as a new, writable numpy array, NaN where it is null."""
    return numpy_of(column, np.float64, fill=np.nan)


@dataclass
class Codes:
    """A column as integer codes into `texts` (-1 where missing), for categories, labels and groups."""

    codes: np.ndarray
    texts: list[str]
    missing: int


def to_categories(column: Any) -> Codes:
    """Encode a column's distinct values as codes; the texts are the values as pyarrow prints them."""
    indices, dictionary = encode(column)
    texts = pc.cast(dictionary, pa.string()).to_pylist() if len(dictionary) else []
    return _merge_equal_texts(indices, [str(text) for text in texts])


def to_labels(column: Any) -> Codes:
    """Encode a label column; numbers and booleans get one spelling (1.0, 1 and true are all "1").

    Raises ValueError when the column has more than MAX_LABELS distinct values.
    """
    indices, dictionary = encode(column)
    if len(dictionary) > MAX_LABELS:
        raise ValueError(f"more than {MAX_LABELS:,} distinct values")
    return _merge_equal_texts(indices, [label_text(value) for value in dictionary.to_pylist()])


def to_groups(column: Any) -> tuple[Codes, list[int]]:
    """Encode a sensitive attribute; also return the codes in the values' natural order (2 before 10)."""
    indices, dictionary = encode(column)
    order = pc.sort_indices(dictionary).to_pylist() if len(dictionary) else []
    texts = pc.cast(dictionary, pa.string()).to_pylist() if len(dictionary) else []
    return Codes(indices, [str(text) for text in texts], int(np.count_nonzero(indices < 0))), order


def label_text(value: object) -> str:
    """Return the canonical spelling of a label value: true/1/1.0 all read "1", text stays text."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value))
        return repr(value)
    return str(value)


def _decode(column: Any) -> Any:
    if pa.types.is_dictionary(column.type):
        return column.cast(column.type.value_type)
    return column


def encode(column: Any) -> tuple[np.ndarray, Any]:
    """Return (int64 codes with -1 for missing, dictionary array) for any column; NaN counts as missing."""
    if pa.types.is_null(column.type):
        return np.full(len(column), -1, dtype=np.int64), pa.nulls(0, pa.string())  # pa.array() would import pandas
    if pa.types.is_floating(column.type):
        column = pc.if_else(pc.is_nan(column), pa.scalar(None, column.type), column)
    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(column)
    combined = column.unify_dictionaries().combine_chunks()
    indices = numpy_of(combined.indices, np.int64, fill=-1)
    return indices, combined.dictionary


def _merge_equal_texts(indices: np.ndarray, texts: list[str]) -> Codes:
    """Give values that print the same one code (e.g. 1 and 1.0 in a label column)."""
    missing = int(np.count_nonzero(indices < 0))
    unique: dict[str, int] = {}
    remap = np.array([unique.setdefault(text, len(unique)) for text in texts] + [-1], dtype=np.int64)
    if len(unique) == len(texts):
        return Codes(indices, texts, missing)
    # Index -1 (missing) picks the appended -1.
    return Codes(remap[indices], list(unique), missing)


def unify(first: Codes, second: Codes) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Re-code two encoded columns into one shared, sorted list of texts; -1 stays missing."""
    union = sorted(set(first.texts) | set(second.texts))
    position = {text: index for index, text in enumerate(union)}
    recoded = []
    for codes in (first, second):
        # Index -1 (missing) picks the appended -1.
        remap = np.array([position[text] for text in codes.texts] + [-1], dtype=np.int64)
        recoded.append(remap[codes.codes])
    return recoded[0], recoded[1], union
