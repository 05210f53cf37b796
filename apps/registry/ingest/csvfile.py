"""CSV: refuse what is not UTF-8 text, then stream it through pyarrow block by block."""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.csv as pa_csv  # type: ignore[import-untyped, unused-ignore]

from apps.registry.ingest.common import ARROW_ERRORS, UnusableFile, binary_kind, check_names, column_type, one_line

HEAD_BYTES = 64 * 1024  # checked for UTF-8 before a CSV is parsed
NUL_WINDOW_BYTES = 8 * 1024  # text never holds NUL; most binary formats do early on
CSV_BLOCK_BYTES = 4 * 1024 * 1024  # pyarrow's unit of work; a single CSV row may not exceed it
MAX_TYPE_RETRIES = 8  # re-reads allowed when a column's inferred type fails further down the file

_ROW_NUMBER = re.compile(r"Row #(\d+): ")
_CONVERSION_ERROR = re.compile(
    r"In CSV column #(?P<index>\d+): (?:Row #(?P<row>\d+): )?CSV conversion error to [^:]+: "
    r"invalid value '(?P<value>.*)'\Z",
    re.DOTALL,
)
_INTEGER_TEXT = re.compile(r"[+-]?\d+\Z")
_FLOAT_TEXT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")
_QUOTED = re.compile(rb'"[^"]*"')


def refuse_non_text(path: Path, size: int) -> None:
    """Refuse a file claimed as CSV whose first bytes are binary or not UTF-8."""
    with path.open("rb") as file:
        head = file.read(HEAD_BYTES)
    disguise = binary_kind(head)
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


class _TypeMismatch(Exception):
    """A value further down the file does not fit the type pyarrow inferred from the first block."""

    def __init__(self, schema: Any, index: int, value: str) -> None:
        super().__init__(f"column #{index}: {value!r}")
        self.schema = schema
        self.index = index
        self.value = value


def inspect_csv(path: Path, *, max_columns: int, max_rows: int) -> tuple[int, list[dict[str, str]]]:
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
            check_names(schema.names, max_columns)
            for batch in reader:
                row_count += batch.num_rows
                if row_count > max_rows:
                    raise UnusableFile(f"The file has more than {max_rows:,} rows; at most {max_rows:,} are allowed.")
    except ARROW_ERRORS as exc:
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
                f"Column {one_line(field.name)!r} contains text that is not valid UTF-8. Save the file as UTF-8 CSV."
            )
        # A column with no values at all is empty text, which is what CSV cells are.
        kind = "string" if pa.types.is_null(field.type) else column_type(field.type)
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
    detail = "it is not valid UTF-8 text." if "invalid UTF8" in text else one_line(_ROW_NUMBER.sub("", text))
    if row_number is not None:
        return f"Line {int(row_number[1]):,} of the CSV could not be read: {detail}"
    return f"The CSV could not be read: {detail}"
