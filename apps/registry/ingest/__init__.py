"""Inspect an uploaded CSV or Parquet file before the registry accepts it.

The file is already on disk. We check that its first bytes match the claimed format before any
parser sees it, then let pyarrow read it with bounded memory: CSV is streamed block by block,
Parquet is judged from its footer alone and its data pages are never read. Nothing in the file is
ever executed or unpickled.

Every refusal is an `UnusableFile` whose text is meant for the person who uploaded the file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from apps.registry.ingest.common import ARROW_ERRORS, UnusableFile, one_line
from apps.registry.ingest.csvfile import CSV_BLOCK_BYTES, HEAD_BYTES, inspect_csv, refuse_non_text
from apps.registry.ingest.parquetfile import inspect_parquet, refuse_non_parquet

__all__ = [
    "ARROW_ERRORS",
    "CSV_BLOCK_BYTES",
    "FORMATS",
    "HEAD_BYTES",
    "FileFacts",
    "UnusableFile",
    "detect_format",
    "inspect_csv",
    "inspect_file",
    "inspect_parquet",
    "one_line",
    "refuse_non_parquet",
    "refuse_non_text",
]

FORMATS = ("csv", "parquet")
_EXTENSIONS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


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
        refuse_non_text(path, size)
        row_count, columns = inspect_csv(path, max_columns=max_columns, max_rows=max_rows)
    else:
        refuse_non_parquet(path, size)
        row_count, columns = inspect_parquet(path, size, max_columns=max_columns, max_rows=max_rows)

    return FileFacts(
        format=claimed_format,
        sha256=_sha256(path),
        size=size,
        row_count=row_count,
        columns=columns,
    )


def _sha256(path: Path) -> str:
    """Return the hex SHA-256 of the file, read in chunks so memory stays flat."""
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()
