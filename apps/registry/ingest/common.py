"""What the CSV and Parquet readers share: the refusal, pyarrow's errors, column names and types."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]

MAX_DETAIL_CHARS = 200
MAX_COLUMN_NAME_CHARS = 256

PARQUET_MAGIC = b"PAR1"

# Catching these around pyarrow calls, and nothing broader, keeps our own bugs visible while turning
# anything pyarrow raises on hostile input into a refusal. ArrowException covers pyarrow's own
# subclasses of MemoryError, KeyError and the like.
ARROW_ERRORS: tuple[type[Exception], ...] = (
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


# Sniffing: decide from raw bytes, before a parser sees the file.


def binary_kind(head: bytes) -> str | None:
    """Name the binary format `head` starts with, if it is one we know to refuse."""
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        return "a ZIP archive"
    if head.startswith(b"\x1f\x8b"):
        return "a gzip archive"
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return "a Python pickle"
    if head.startswith(PARQUET_MAGIC):
        return "a Parquet file"
    return None


# Shared


def check_names(names: list[str], max_columns: int) -> None:
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
            raise UnusableFile(
                f"The column name {one_line(name)!r} appears more than once. Column names must be unique."
            )
        seen.add(name)


def column_type(arrow_type: Any) -> str:
    """Map a pyarrow type to the registry's coarse column type."""
    if pa.types.is_dictionary(arrow_type):
        return column_type(arrow_type.value_type)
    for is_kind, kind in _COLUMN_KINDS:
        if is_kind(arrow_type):
            return kind
    return "other"


def one_line(text: str) -> str:
    """Return `text` on one printable line of at most MAX_DETAIL_CHARS characters."""
    printable = "".join(char if char.isprintable() else " " for char in text)
    line = " ".join(printable.split())
    if len(line) > MAX_DETAIL_CHARS:
        return line[: MAX_DETAIL_CHARS - 1] + "…"
    return line
