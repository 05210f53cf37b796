"""Parquet: judge the file from its footer alone; its data pages are never read."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]

from apps.registry.ingest.common import (
    ARROW_ERRORS,
    PARQUET_MAGIC,
    UnusableFile,
    binary_kind,
    check_names,
    column_type,
)

MAX_PARQUET_FOOTER_BYTES = 64 * 1024 * 1024  # far above any honest footer, low enough to parse safely
# Honest, well-compressed files reach a few thousand times their size (1M zeros, zstd: ~2,500x);
# a footer claiming more than this is lying about the data, to make a reader allocate for it.
MAX_SIZE_RATIO = 100_000
_PARQUET_ENCRYPTED_MAGIC = b"PARE"
_PARQUET_MIN_BYTES = 12  # leading magic, footer length, trailing magic
_DAMAGED_PARQUET = "The Parquet file is damaged or incomplete."


def refuse_non_parquet(path: Path, size: int) -> None:
    """Refuse a file claimed as Parquet without its magic at both ends or with an impossible footer."""
    with path.open("rb") as file:
        head = file.read(_PARQUET_MIN_BYTES)
        if size < _PARQUET_MIN_BYTES:
            tail = b""
        else:
            file.seek(size - 8)
            tail = file.read(8)
    if not head.startswith(PARQUET_MAGIC):
        disguise = binary_kind(head)
        if disguise is not None:
            raise UnusableFile(f"This file is {disguise}, not a Parquet file.")
        raise UnusableFile("This file is not a Parquet file: it does not start with the Parquet signature.")
    if len(tail) < 8:
        raise UnusableFile(_DAMAGED_PARQUET)
    if tail.endswith(_PARQUET_ENCRYPTED_MAGIC):
        raise UnusableFile("Encrypted Parquet files are not supported. Upload it without encryption.")
    if not tail.endswith(PARQUET_MAGIC):
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


def inspect_parquet(path: Path, size: int, *, max_columns: int, max_rows: int) -> tuple[int, list[dict[str, str]]]:
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
    check_names(schema.names, max_columns)
    columns = [{"name": field.name, "type": column_type(field.type)} for field in schema]
    return metadata.num_rows, columns


@contextmanager
def _parquet_errors() -> Iterator[None]:
    """Turn whatever pyarrow raises on a bad footer into the single damaged-file refusal."""
    try:
        yield
    except ARROW_ERRORS as exc:
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
