"""Inspect an uploaded CSV or Parquet file before the registry accepts it.

The file is already on disk. We check that its first bytes match the claimed format before any
parser sees it, then let pyarrow read it with bounded memory: CSV is streamed block by block,
Parquet is judged from its footer alone and its data pages are never read. Nothing in the file is
ever executed or unpickled.

Every refusal is an `UnusableFile` whose text is meant for the person who uploaded the file.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.csv as pa_csv  # type: ignore[import-untyped, unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]

FORMATS = ("csv", "parquet")
_EXTENSIONS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}

HEAD_BYTES = 64 * 1024  # checked for UTF-8 before a CSV is parsed
NUL_WINDOW_BYTES = 8 * 1024  # text never holds NUL; most binary formats do early on
CSV_BLOCK_BYTES = 4 * 1024 * 1024  # pyarrow's unit of work; a single CSV row may not exceed it
MAX_TYPE_RETRIES = 8  # re-reads allowed when a column's inferred type fails further down the file
MAX_PARQUET_FOOTER_BYTES = 64 * 1024 * 1024  # far above any honest footer, low enough to parse safely
# Honest, well-compressed files reach a few thousand times their size (1M zeros, zstd: ~2,500x);
# a footer claiming more than this is lying about the data, to make a reader allocate for it.
MAX_SIZE_RATIO = 100_000
MAX_DETAIL_CHARS = 200
MAX_COLUMN_NAME_CHARS = 256

_PARQUET_MAGIC = b"PAR1"
_PARQUET_ENCRYPTED_MAGIC = b"PARE"
_PARQUET_MIN_BYTES = 12  # leading magic, footer length, trailing magic
_DAMAGED_PARQUET = "The Parquet file is damaged or incomplete."

# Catching these around pyarrow calls, and nothing broader, keeps our own bugs visible while turning
# anything pyarrow raises on hostile input into a refusal. ArrowException covers pyarrow's own
# subclasses of MemoryError, KeyError and the like.
_ARROW_ERRORS: tuple[type[Exception], ...] = (
    pa.ArrowException,
    OSError,
    ValueError,
    TypeError,
    LookupError,
    ArithmeticError,
    NotImplementedError,
    MemoryError,
    RecursionError,
)

_ROW_NUMBER = re.compile(r"Row #(\d+): ")
_CONVERSION_ERROR = re.compile(
    r"In CSV column #(?P<index>\d+): (?:Row #(?P<row>\d+): )?CSV conversion error to [^:]+: "
    r"invalid value '(?P<value>.*)'\Z",
    re.DOTALL,
)
_INTEGER_TEXT = re.compile(r"[+-]?\d+\Z")
_FLOAT_TEXT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")
_QUOTED = re.compile(rb'"[^"]*"')

# Checked in order; the first match names the column's type, and anything unmatched is "other".
# Decimals are non-integral numbers, and the coarse vocabulary has one word for those.
_COLUMN_KINDS: tuple[tuple[Callable[[Any], bool], str], ...] = (
    (pa.types.is_boolean, "boolean"),
    (pa.types.is_integer, "integer"),
    (pa.types.is_floating, "float"),
    (pa.types.is_decimal, "float"),
    (pa.types.is_string, "string"),
    (pa.types.is_large_string, "string"),
    (pa.types.is_string_view, "string"),
    (pa.types.is_timestamp, "datetime"),
    (pa.types.is_date, "date"),
)


class UnusableFile(Exception):
    """The file is not what it claims, or cannot be read safely; str(exc) is a message for a person."""


@dataclass(frozen=True)
class FileFacts:
    """What the registry records about an accepted file."""

    format: str  # "csv" or "parquet"
    sha256: str  # hex digest of the whole file
    size: int  # bytes
    row_count: int
    # [{"name": ..., "type": ...}] in file order; type is one of
    # "integer", "float", "boolean", "string", "datetime", "date", "other".
    columns: list[dict[str, str]]


def detect_format(filename: str) -> str:
    """Return "csv" or "parquet" from the file name's extension, or raise UnusableFile."""
    # Browsers may send a full client path, with either separator.
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    _, dot, extension = name.rpartition(".")
    fmt = _EXTENSIONS.get("." + extension.lower()) if dot else None
    if fmt is None:
        raise UnusableFile("Upload a CSV (.csv) or Parquet (.parquet) file.")
    return fmt


def inspect_file(
    path: Path,
    *,
    claimed_format: str,
    max_columns: int = 2000,
    max_rows: int = 50_000_000,
) -> FileFacts:
    """Check that the file at `path` is a readable `claimed_format` file and return its facts.

    Raises UnusableFile when the content does not match the claim, is damaged, or exceeds the
    limits; ValueError when `claimed_format` is not one of FORMATS (a caller's bug); OSError when
    the server cannot read its own file.
    """
    if claimed_format not in FORMATS:
        raise ValueError(f"claimed_format must be one of {FORMATS}, not {claimed_format!r}")
    size = path.stat().st_size
    if size == 0:
        raise UnusableFile("The file is empty.")

    if claimed_format == "csv":
        _refuse_non_text(path, size)
        row_count, columns = _inspect_csv(path, max_columns=max_columns, max_rows=max_rows)
    else:
        _refuse_non_parquet(path, size)
        row_count, columns = _inspect_parquet(path, size, max_columns=max_columns, max_rows=max_rows)

    return FileFacts(
        format=claimed_format,
        sha256=_sha256(path),
        size=size,
        row_count=row_count,
        columns=columns,
    )


# Sniffing: decide from raw bytes, before a parser sees the file.


def _disguise(head: bytes) -> str | None:
    """Name the binary format `head` starts with, if it is one we know to refuse."""
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        return "a ZIP archive"
    if head.startswith(b"\x1f\x8b"):
        return "a gzip archive"
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return "a Python pickle"
    if head.startswith(_PARQUET_MAGIC):
        return "a Parquet file"
    return None


def _refuse_non_text(path: Path, size: int) -> None:
    """Refuse a file claimed as CSV whose first bytes are binary or not UTF-8."""
    with path.open("rb") as file:
        head = file.read(HEAD_BYTES)
    disguise = _disguise(head)
    if disguise is not None:
        raise UnusableFile(f"This file is {disguise}, not a CSV file.")
    if b"\x00" in head[:NUL_WINDOW_BYTES]:
        raise UnusableFile("This file contains NUL bytes, so it is not a text CSV file. Save it as UTF-8 CSV.")
    # The head may end in the middle of a multi-byte character; only the real end of file may not.
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head, final=size <= len(head))
    except UnicodeDecodeError as exc:
        raise UnusableFile(
            f"This file is not UTF-8 text (byte {exc.start + 1:,} is invalid). Save it as UTF-8 CSV."
        ) from exc


def _refuse_non_parquet(path: Path, size: int) -> None:
    """Refuse a file claimed as Parquet without its magic at both ends or with an impossible footer."""
    with path.open("rb") as file:
        head = file.read(_PARQUET_MIN_BYTES)
        if size < _PARQUET_MIN_BYTES:
            tail = b""
        else:
            file.seek(size - 8)
            tail = file.read(8)
    if not head.startswith(_PARQUET_MAGIC):
        disguise = _disguise(head)
        if disguise is not None:
            raise UnusableFile(f"This file is {disguise}, not a Parquet file.")
        raise UnusableFile("This file is not a Parquet file: it does not start with the Parquet signature.")
    if len(tail) < 8:
        raise UnusableFile(_DAMAGED_PARQUET)
    if tail.endswith(_PARQUET_ENCRYPTED_MAGIC):
        raise UnusableFile("Encrypted Parquet files are not supported. Upload it without encryption.")
    if not tail.endswith(_PARQUET_MAGIC):
        raise UnusableFile(_DAMAGED_PARQUET)
    footer_length = int.from_bytes(tail[:4], "little")
    # The footer sits between the leading magic and the last eight bytes; a longer claim is a lie
    # that would otherwise make the reader seek or allocate past the file.
    if footer_length == 0 or footer_length > size - _PARQUET_MIN_BYTES:
        raise UnusableFile(_DAMAGED_PARQUET)
    if footer_length > MAX_PARQUET_FOOTER_BYTES:
        raise UnusableFile(
            f"The Parquet file's metadata is {footer_length // (1024 * 1024):,} MiB; "
            f"at most {MAX_PARQUET_FOOTER_BYTES // (1024 * 1024):,} MiB is supported."
        )


# CSV


class _TypeMismatch(Exception):
    """A value further down the file does not fit the type pyarrow inferred from the first block."""

    def __init__(self, schema: Any, index: int, value: str) -> None:
        super().__init__(f"column #{index}: {value!r}")
        self.schema = schema
        self.index = index
        self.value = value


def _inspect_csv(path: Path, *, max_columns: int, max_rows: int) -> tuple[int, list[dict[str, str]]]:
    """Stream the CSV once (more only if types need widening) and return its row count and columns."""
    _refuse_wide_header(path, max_columns)
    column_types: dict[str, Any] = {}
    names: list[str] = []
    for _ in range(MAX_TYPE_RETRIES):
        try:
            return _scan_csv(path, column_types, max_columns=max_columns, max_rows=max_rows)
        except _TypeMismatch as mismatch:
            field = mismatch.schema.field(mismatch.index)
            column_types[field.name] = _wider_type(field.type, mismatch.value)
            names = mismatch.schema.names
    # Too many surprises to keep guessing: read everything as text, which cannot mismatch.
    column_types = dict.fromkeys(names, pa.string())
    try:
        return _scan_csv(path, column_types, max_columns=max_columns, max_rows=max_rows)
    except _TypeMismatch as mismatch:  # pragma: no cover - text columns accept any valid UTF-8
        raise UnusableFile("The CSV could not be read.") from mismatch


def _refuse_wide_header(path: Path, max_columns: int) -> None:
    """Refuse a header wider than `max_columns` before pyarrow builds one column per name.

    Counting commas is cheap and stops early; quoted names may hide commas, so when quotes appear
    the quoted stretches are removed before counting.
    """
    line = bytearray()
    commas = 0
    quoted = False
    complete = False
    with path.open("rb") as file:
        while len(line) < CSV_BLOCK_BYTES:
            chunk = file.read(min(HEAD_BYTES, CSV_BLOCK_BYTES - len(line)))
            if not chunk:
                complete = True
                break
            end = chunk.find(b"\n")
            if end != -1:
                line += chunk[:end]
                complete = True
                break
            line += chunk
            commas += chunk.count(b",")
            quoted = quoted or b'"' in chunk
            if not quoted and commas >= max_columns:
                break
    unquoted = _QUOTED.sub(b"", bytes(line)).split(b'"', 1)[0]
    count = unquoted.count(b",") + 1
    if count > max_columns:
        at_least = "" if complete else "at least "
        raise UnusableFile(
            f"The CSV header has {at_least}{count:,} columns; at most {max_columns:,} columns are allowed."
        )


def _scan_csv(
    path: Path, column_types: dict[str, Any], *, max_columns: int, max_rows: int
) -> tuple[int, list[dict[str, str]]]:
    """Read the CSV block by block with pyarrow, counting rows and checking names and types."""
    invalid_rows: list[Any] = []

    def on_invalid_row(row: Any) -> str:
        invalid_rows.append(row)
        return "error"

    # One thread keeps memory to about one block and makes pyarrow report row numbers.
    read_options = pa_csv.ReadOptions(use_threads=False, block_size=CSV_BLOCK_BYTES)
    parse_options = pa_csv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_invalid_row)
    convert_options = pa_csv.ConvertOptions(column_types=column_types)
    schema: Any = None
    row_count = 0
    try:
        # An open file rather than a path: given a path, pyarrow decompresses by file extension.
        with (
            pa.OSFile(str(path)) as source,
            pa_csv.open_csv(
                source, read_options=read_options, parse_options=parse_options, convert_options=convert_options
            ) as reader,
        ):
            schema = reader.schema
            _check_names(schema.names, max_columns)
            for batch in reader:
                row_count += batch.num_rows
                if row_count > max_rows:
                    raise UnusableFile(f"The file has more than {max_rows:,} rows; at most {max_rows:,} are allowed.")
    except _ARROW_ERRORS as exc:
        mismatch = _CONVERSION_ERROR.match(str(exc))
        if mismatch is not None and schema is not None and int(mismatch["index"]) < len(schema):
            index = int(mismatch["index"])
            field_type = schema.field(index).type
            # Text cannot be widened further: a mismatch there is bad UTF-8, a real refusal.
            if not (pa.types.is_string(field_type) or pa.types.is_binary(field_type)):
                raise _TypeMismatch(schema, index, mismatch["value"]) from exc
        raise UnusableFile(_csv_error_message(exc, invalid_rows)) from exc

    columns = []
    for field in schema:
        if pa.types.is_binary(field.type):
            # pyarrow falls back to bytes when a column is not valid UTF-8 in the first block.
            raise UnusableFile(
                f"Column {_short(field.name)!r} contains text that is not valid UTF-8. Save the file as UTF-8 CSV."
            )
        # A column with no values at all is empty text, which is what CSV cells are.
        kind = "string" if pa.types.is_null(field.type) else _column_type(field.type)
        columns.append({"name": field.name, "type": kind})
    return row_count, columns


def _wider_type(current: Any, value: str) -> Any:
    """Return the narrowest type wider than `current` that can hold `value`, ending at text."""
    text = value.strip()
    if pa.types.is_null(current) and _INTEGER_TEXT.match(text):
        return pa.int64()
    if (pa.types.is_null(current) or pa.types.is_integer(current)) and _FLOAT_TEXT.match(text):
        return pa.float64()
    return pa.string()


def _csv_error_message(exc: Exception, invalid_rows: list[Any]) -> str:
    """Turn a pyarrow CSV error into one short sentence for the uploader."""
    text = str(exc)
    if invalid_rows:
        row = invalid_rows[0]
        where = f"Line {row.number:,}" if row.number is not None else "A line"
        return (
            f"{where} of the CSV could not be read: expected {row.expected_columns:,} columns, "
            f"found {row.actual_columns:,}."
        )
    if "straddling object" in text:
        return (
            f"A row of the CSV is longer than {CSV_BLOCK_BYTES // (1024 * 1024)} MiB, "
            "or a quoted value is never closed."
        )
    if "Empty CSV file" in text:
        return "The CSV file has no header line."
    row_number = _ROW_NUMBER.search(text)
    detail = "it is not valid UTF-8 text." if "invalid UTF8" in text else _short(_ROW_NUMBER.sub("", text))
    if row_number is not None:
        return f"Line {int(row_number[1]):,} of the CSV could not be read: {detail}"
    return f"The CSV could not be read: {detail}"


# Parquet


def _inspect_parquet(path: Path, size: int, *, max_columns: int, max_rows: int) -> tuple[int, list[dict[str, str]]]:
    """Judge the Parquet file from its footer alone and return its row count and columns."""
    with _parquet_errors(), pa.OSFile(str(path)) as source, pq.ParquetFile(source) as parquet:
        metadata = parquet.metadata
        # Leaf columns, as stored: checked before the schema is converted, which costs per column.
        if metadata.num_columns > max_columns:
            raise UnusableFile(
                f"The file has {metadata.num_columns:,} columns; at most {max_columns:,} columns are allowed."
            )
        if metadata.num_rows < 0:
            raise UnusableFile(_DAMAGED_PARQUET)
        if metadata.num_rows > max_rows:
            raise UnusableFile(f"The file has {metadata.num_rows:,} rows; at most {max_rows:,} are allowed.")
        _check_row_groups(metadata, size)
        schema = parquet.schema_arrow

    if len(schema) == 0:
        raise UnusableFile("The Parquet file has no columns.")
    _check_names(schema.names, max_columns)
    columns = [{"name": field.name, "type": _column_type(field.type)} for field in schema]
    return metadata.num_rows, columns


@contextmanager
def _parquet_errors() -> Iterator[None]:
    """Turn whatever pyarrow raises on a bad footer into the single damaged-file refusal."""
    try:
        yield
    except _ARROW_ERRORS as exc:
        raise UnusableFile(_DAMAGED_PARQUET) from exc


def _check_row_groups(metadata: Any, size: int) -> None:
    """Refuse a footer whose row groups disagree with the file or with each other."""
    total_rows = 0
    for index in range(metadata.num_row_groups):
        row_group = metadata.row_group(index)
        if row_group.num_rows < 0 or row_group.total_byte_size < 0:
            raise UnusableFile(_DAMAGED_PARQUET)
        if row_group.total_byte_size > MAX_SIZE_RATIO * size:
            raise UnusableFile(
                "The Parquet file's metadata claims far more data than the file holds; it is damaged or was altered."
            )
        total_rows += row_group.num_rows
    if total_rows != metadata.num_rows:
        raise UnusableFile(_DAMAGED_PARQUET)


# Shared


def _check_names(names: list[str], max_columns: int) -> None:
    """Refuse too many, empty, overlong, unprintable or repeated column names."""
    if len(names) > max_columns:
        raise UnusableFile(f"The file has {len(names):,} columns; at most {max_columns:,} columns are allowed.")
    seen: set[str] = set()
    for position, name in enumerate(names, start=1):
        if not name.strip():
            raise UnusableFile(f"Column {position:,} has no name. Give every column a name in the header.")
        if len(name) > MAX_COLUMN_NAME_CHARS:
            raise UnusableFile(f"The name of column {position:,} is longer than {MAX_COLUMN_NAME_CHARS} characters.")
        if not name.isprintable():
            # NUL and other control characters cannot be stored (PostgreSQL refuses NUL) or shown safely.
            raise UnusableFile(f"The name of column {position:,} contains control characters.")
        if name in seen:
            raise UnusableFile(f"The column name {_short(name)!r} appears more than once. Column names must be unique.")
        seen.add(name)


def _column_type(arrow_type: Any) -> str:
    """Map a pyarrow type to the registry's coarse column type."""
    if pa.types.is_dictionary(arrow_type):
        return _column_type(arrow_type.value_type)
    for is_kind, kind in _COLUMN_KINDS:
        if is_kind(arrow_type):
            return kind
    return "other"


def _short(text: str) -> str:
    """Return `text` on one printable line of at most MAX_DETAIL_CHARS characters."""
    printable = "".join(char if char.isprintable() else " " for char in text)
    line = " ".join(printable.split())
    if len(line) > MAX_DETAIL_CHARS:
        return line[: MAX_DETAIL_CHARS - 1] + "…"
    return line


def _sha256(path: Path) -> str:
    """Return the hex SHA-256 of the file, read in chunks so memory stays flat."""
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()
