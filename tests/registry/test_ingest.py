"""Inspecting uploaded CSV and Parquet files: facts for good files, clear refusals for the rest."""

from __future__ import annotations

import contextlib
import hashlib
import io
import pickle  # only to produce a pickle's bytes; nothing here ever loads one
import struct
import zipfile
from pathlib import Path

import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]
import pytest

from apps.registry import ingest
from apps.registry.ingest import FileFacts, UnusableFile, detect_format, inspect_file


def _write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def _parquet(tmp_path: Path, name: str = "data.parquet", rows: int = 3) -> Path:
    table = pa.table(
        {
            "id": pa.array(range(rows), pa.int64()),
            "score": pa.array([i / 2 for i in range(rows)], pa.float64()),
            "label": pa.array([f"row {i}" for i in range(rows)], pa.string()),
            "ok": pa.array([i % 2 == 0 for i in range(rows)], pa.bool_()),
            "seen_at": pa.array([1_700_000_000 + i for i in range(rows)], pa.timestamp("s")),
            "day": pa.array([19_000 + i for i in range(rows)], pa.date32()),
        }
    )
    path = tmp_path / name
    pq.write_table(table, path)
    return path


def _footer_bounds(data: bytes) -> tuple[int, int]:
    """Return where the Parquet footer metadata starts and ends (before its length and magic)."""
    (length,) = struct.unpack("<I", data[-8:-4])
    return len(data) - 8 - length, len(data) - 8


def _zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("data.csv", "a,b\n1,2\n")
    return buffer.getvalue()


def _refusal(path: Path, claimed_format: str, **limits: int) -> str:
    with pytest.raises(UnusableFile) as caught:
        inspect_file(path, claimed_format=claimed_format, **limits)
    return str(caught.value)


# detect_format


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("data.csv", "csv"),
        ("DATA.CSV", "csv"),
        ("data.parquet", "parquet"),
        ("part-0001.pq", "parquet"),
        ("C:\\fakepath\\export.csv", "csv"),
    ],
)
def test_detect_format_reads_the_extension(filename: str, expected: str) -> None:
    assert detect_format(filename) == expected


@pytest.mark.parametrize("filename", ["data.csv.exe", "noext", "data.txt", "data.xlsx", "csv", "data.csv/", ""])
def test_detect_format_refuses_other_names(filename: str) -> None:
    with pytest.raises(UnusableFile, match=r"Upload a CSV \(\.csv\) or Parquet \(\.parquet\) file\."):
        detect_format(filename)


# Good files


def test_a_good_csv_reports_rows_columns_types_and_hash(tmp_path: Path) -> None:
    content = (
        b"id,score,name,active,seen_at,day\n"
        b"1,0.5,alpha,true,2024-01-02 03:04:05,2024-01-02\n"
        b'2,1.5,"beta, with comma",false,2024-01-03 00:00:00,2024-01-03\n'
        b"3,,gamma,true,2024-01-04 12:00:00,2024-01-04\n"
    )
    path = _write(tmp_path, "data.csv", content)

    facts = inspect_file(path, claimed_format="csv")

    assert facts == FileFacts(
        format="csv",
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        row_count=3,
        columns=[
            {"name": "id", "type": "integer"},
            {"name": "score", "type": "float"},
            {"name": "name", "type": "string"},
            {"name": "active", "type": "boolean"},
            {"name": "seen_at", "type": "datetime"},
            {"name": "day", "type": "date"},
        ],
    )


def test_a_header_only_csv_has_zero_rows(tmp_path: Path) -> None:
    path = _write(tmp_path, "data.csv", b"a,b,c\n")

    facts = inspect_file(path, claimed_format="csv")

    assert facts.row_count == 0
    assert [column["name"] for column in facts.columns] == ["a", "b", "c"]


def test_a_character_cut_by_the_64_kib_boundary_is_still_utf8(tmp_path: Path) -> None:
    # "é" is two bytes; put its first byte last in the sniffed head.
    content = b"a\n" + b"x" * (ingest.HEAD_BYTES - 3) + "é".encode() + b"\n"
    assert content[ingest.HEAD_BYTES - 1 : ingest.HEAD_BYTES + 1] == "é".encode()
    path = _write(tmp_path, "data.csv", content)

    facts = inspect_file(path, claimed_format="csv")

    assert facts.row_count == 1
    assert facts.columns == [{"name": "a", "type": "string"}]


def test_a_column_whose_type_changes_after_the_first_block_is_widened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A small block makes pyarrow infer types from the first rows only, as it does on a big file.
    monkeypatch.setattr(ingest.csvfile, "CSV_BLOCK_BYTES", 1024)
    rows = "".join(f"{i},{i},{i}\n" for i in range(1000))
    path = _write(tmp_path, "data.csv", f"a,b,c\n{rows}2.5,later text,7\n".encode())

    facts = inspect_file(path, claimed_format="csv")

    assert facts.row_count == 1001
    assert facts.columns == [
        {"name": "a", "type": "float"},
        {"name": "b", "type": "string"},
        {"name": "c", "type": "integer"},
    ]


def test_a_good_parquet_reports_rows_columns_types_and_hash(tmp_path: Path) -> None:
    path = _parquet(tmp_path, rows=5)

    facts = inspect_file(path, claimed_format="parquet")

    content = path.read_bytes()
    assert facts == FileFacts(
        format="parquet",
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        row_count=5,
        columns=[
            {"name": "id", "type": "integer"},
            {"name": "score", "type": "float"},
            {"name": "label", "type": "string"},
            {"name": "ok", "type": "boolean"},
            {"name": "seen_at", "type": "datetime"},
            {"name": "day", "type": "date"},
        ],
    )


# CSV refusals


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    assert "empty" in _refusal(_write(tmp_path, "data.csv", b""), "csv")
    assert "empty" in _refusal(_write(tmp_path, "data.parquet", b""), "parquet")


def test_a_csv_with_invalid_utf8_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "data.csv", b"name,city\nJos\xe9,Montr\xe9al\n")

    assert "UTF-8" in _refusal(path, "csv")


def test_a_csv_with_nul_bytes_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "data.csv", b"a,b\n1,\x002\n")

    assert "NUL" in _refusal(path, "csv")


def test_a_pickle_named_csv_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "data.csv", pickle.dumps({"harmless": [1, 2, 3]}, protocol=pickle.HIGHEST_PROTOCOL))

    assert "pickle" in _refusal(path, "csv")


def test_a_zip_named_csv_is_refused(tmp_path: Path) -> None:
    assert "ZIP" in _refusal(_write(tmp_path, "data.csv", _zip_bytes()), "csv")


def test_a_gzip_named_csv_is_refused(tmp_path: Path) -> None:
    assert "gzip" in _refusal(_write(tmp_path, "data.csv", b"\x1f\x8b\x08\x00rest"), "csv")


def test_a_parquet_named_csv_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "data.csv", _parquet(tmp_path).read_bytes())

    assert "Parquet" in _refusal(path, "csv")


def test_a_million_column_csv_header_is_refused(tmp_path: Path) -> None:
    header = ",".join(f"c{i}" for i in range(1_000_000))
    path = _write(tmp_path, "data.csv", f"{header}\n".encode())

    message = _refusal(path, "csv")

    assert "columns" in message
    assert "2,000" in message


def test_a_quoted_comma_in_a_header_name_does_not_count_as_a_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "data.csv", b'"a, b",c\n1,2\n')

    facts = inspect_file(path, claimed_format="csv", max_columns=2)

    assert [column["name"] for column in facts.columns] == ["a, b", "c"]


def test_ragged_csv_rows_are_refused_with_the_line_number(tmp_path: Path) -> None:
    path = _write(tmp_path, "data.csv", b"a,b,c\n1,2,3\n4,5\n6,7,8\n")

    message = _refusal(path, "csv")

    assert message.startswith("Line 3 of the CSV could not be read")


def test_duplicate_column_names_are_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "data.csv", b"id,name,id\n1,a,2\n")

    assert "more than once" in _refusal(path, "csv")


def test_an_empty_column_name_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "data.csv", b"id,,name\n1,2,3\n")

    assert "no name" in _refusal(path, "csv")


def test_a_csv_with_more_rows_than_allowed_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "data.csv", b"a\n1\n2\n3\n")

    assert "rows" in _refusal(path, "csv", max_rows=2)


# Parquet refusals


def test_a_zip_named_parquet_is_refused(tmp_path: Path) -> None:
    assert "ZIP" in _refusal(_write(tmp_path, "data.parquet", _zip_bytes()), "parquet")


def test_a_pickle_named_parquet_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "data.parquet", pickle.dumps({"harmless": True}, protocol=pickle.HIGHEST_PROTOCOL))

    assert "pickle" in _refusal(path, "parquet")


def test_a_truncated_parquet_is_refused(tmp_path: Path) -> None:
    content = _parquet(tmp_path).read_bytes()
    path = _write(tmp_path, "cut.parquet", content[:-100])

    assert "damaged" in _refusal(path, "parquet")


def test_a_bit_flipped_parquet_footer_is_refused(tmp_path: Path) -> None:
    content = bytearray(_parquet(tmp_path).read_bytes())
    start, end = _footer_bounds(bytes(content))
    for index in range(start, end):
        content[index] ^= 0xFF
    path = _write(tmp_path, "flipped.parquet", bytes(content))

    assert "damaged" in _refusal(path, "parquet")


def test_single_byte_damage_to_a_parquet_footer_never_escapes_as_another_error(tmp_path: Path) -> None:
    content = _parquet(tmp_path).read_bytes()
    start, _ = _footer_bounds(content)
    path = tmp_path / "damaged.parquet"
    for index in range(start, len(content)):
        damaged = bytearray(content)
        damaged[index] ^= 0x5A
        path.write_bytes(bytes(damaged))
        # Some flips still leave a readable footer; anything other than UnusableFile fails the test.
        with contextlib.suppress(UnusableFile):
            inspect_file(path, claimed_format="parquet")


def test_a_parquet_footer_length_larger_than_the_file_is_refused(tmp_path: Path) -> None:
    content = bytearray(_parquet(tmp_path).read_bytes())
    content[-8:-4] = struct.pack("<I", len(content) + 1)
    path = _write(tmp_path, "lying.parquet", bytes(content))

    assert "damaged" in _refusal(path, "parquet")


def test_a_parquet_with_more_rows_than_allowed_is_refused(tmp_path: Path) -> None:
    path = _parquet(tmp_path, rows=10)

    message = _refusal(path, "parquet", max_rows=5)

    assert "rows" in message
    assert "10" in message


def test_a_parquet_with_more_columns_than_allowed_is_refused(tmp_path: Path) -> None:
    assert "columns" in _refusal(_parquet(tmp_path), "parquet", max_columns=3)


def _dense_parquet(tmp_path: Path) -> Path:
    # Zeros without dictionary encoding, compressed hard: eight megabytes claimed in a few kilobytes.
    table = pa.table({"zero": pa.array([0] * 1_000_000, pa.int64())})
    path = tmp_path / "dense.parquet"
    pq.write_table(table, path, use_dictionary=False, compression="zstd", write_statistics=False)
    assert pq.ParquetFile(path).metadata.row_group(0).total_byte_size > 1000 * path.stat().st_size
    return path


def test_an_honest_highly_compressed_parquet_is_accepted(tmp_path: Path) -> None:
    assert inspect_file(_dense_parquet(tmp_path), claimed_format="parquet").row_count == 1_000_000


def test_a_row_group_claiming_more_than_the_ratio_allows_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest.parquetfile, "MAX_SIZE_RATIO", 1000)  # the dense file then claims too much
    assert "far more data" in _refusal(_dense_parquet(tmp_path), "parquet")


def test_a_file_without_the_parquet_signature_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "data.parquet", b"a,b\n1,2\n")

    assert "not a Parquet file" in _refusal(path, "parquet")


@pytest.mark.parametrize("name", ["a\x00b", "tab\there", "x" * 300])
def test_parquet_column_names_that_cannot_be_stored_or_shown_are_refused(tmp_path: Path, name: str) -> None:
    path = tmp_path / "names.parquet"
    pq.write_table(pa.table({name: [1, 2]}), path)
    assert "column 1" in _refusal(path, "parquet")


def test_an_overlong_csv_column_name_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "long.csv", ("a," + "b" * 300 + "\n1,2\n").encode())
    assert "longer than 256" in _refusal(path, "csv")
