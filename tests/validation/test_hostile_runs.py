"""Hostile files under a run: each ends as an error with a reason a person can read, never a crash.

The registry refuses these files at upload (tests/registry/test_ingest.py). Here they reach a run
anyway — written over a stored file, as damage at rest or a tampered volume would — and the check
process must turn them into a readable error without taking the worker down.
"""

from __future__ import annotations

import io
import pickle
import struct
from collections.abc import Callable
from pathlib import Path

import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from apps.registry import services as registry
from apps.validation import services
from apps.validation.models import ValidationRun
from tests.registry.test_ingest import _footer_bounds, _zip_bytes
from tests.validation.conftest import SUITE, evaluation_table
from tests.workflows.conftest import Flow


def good_parquet(path: Path) -> bytes:
    pq.write_table(evaluation_table(500, seed=5), path)
    return path.read_bytes()


def truncated(path: Path) -> bytes:
    return good_parquet(path)[:-100]


def footer_flipped(path: Path) -> bytes:
    content = bytearray(good_parquet(path))
    start, end = _footer_bounds(bytes(content))
    for index in range(start, end):
        content[index] ^= 0xFF
    return bytes(content)


def footer_claims_more_than_the_file(path: Path) -> bytes:
    content = bytearray(good_parquet(path))
    content[-8:-4] = struct.pack("<I", 2**31)
    return bytes(content)


def _varint(number: int) -> bytes:
    out = bytearray()
    while True:
        low, number = number & 0x7F, number >> 7
        out.append(low | (0x80 if number else 0))
        if not number:
            return bytes(out)


def metadata_claims_a_trillion_rows(path: Path) -> bytes:
    """Rewrite the Thrift footer so every row count (zigzag varints) says 10**12 instead of 4321."""
    rows = 4321
    pq.write_table(evaluation_table(rows, seed=5), path, row_group_size=rows)
    content = path.read_bytes()
    start, end = _footer_bounds(content)
    footer = content[start:end].replace(_varint(2 * rows), _varint(2 * 10**12))
    assert (
        pq.ParquetFile(
            io.BytesIO(content[:start] + footer + struct.pack("<I", len(footer)) + b"PAR1")
        ).metadata.num_rows
        == 10**12
    )
    return content[:start] + footer + struct.pack("<I", len(footer)) + b"PAR1"


def pickle_bytes(_path: Path) -> bytes:
    return pickle.dumps({"weights": [1, 2, 3]})


def zip_bytes(_path: Path) -> bytes:
    return _zip_bytes()


def invalid_utf8(_path: Path) -> bytes:
    return b"y_true,y_pred,y_score\n1,1,0.9\n0,0,\xff\xfe0.1\n"


def nul_bytes(_path: Path) -> bytes:
    return b"y_true,y_pred,y_score\n1,1,0.9\x00\x00\n"


def million_columns(_path: Path) -> bytes:
    return (",".join(f"c{i}" for i in range(1_000_000)) + "\n").encode()


CASES: dict[str, tuple[str, Callable[[Path], bytes]]] = {
    "truncated parquet": ("parquet", truncated),
    "bit-flipped parquet footer": ("parquet", footer_flipped),
    "parquet footer claiming more than the file": ("parquet", footer_claims_more_than_the_file),
    "parquet metadata claiming a trillion rows": ("parquet", metadata_claims_a_trillion_rows),
    "pickle named .parquet": ("parquet", pickle_bytes),
    "zip named .parquet": ("parquet", zip_bytes),
    "pickle named .csv": ("csv", pickle_bytes),
    "zip named .csv": ("csv", zip_bytes),
    "csv with invalid utf-8": ("csv", invalid_utf8),
    "csv with nul bytes": ("csv", nul_bytes),
    "csv with a million-column header": ("csv", million_columns),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_hostile_current_file_ends_the_run_as_an_error_with_a_readable_reason(
    flow: Flow, tmp_path: Path, case: str
) -> None:
    fmt, make = CASES[case]
    reference_path = tmp_path / f"reference.{fmt}"
    table = evaluation_table(500, seed=4)
    pq.write_table(table, reference_path) if fmt == "parquet" else pa_csv.write_csv(table, reference_path)
    reference = registry.dataset_version_upload(
        actor=flow.developer, dataset=flow.dataset, path=reference_path, original_name=reference_path.name
    )
    current_path = tmp_path / f"current.{fmt}"
    pq.write_table(table, current_path) if fmt == "parquet" else pa_csv.write_csv(table, current_path)
    current = registry.dataset_version_upload(
        actor=flow.developer, dataset=flow.dataset, path=current_path, original_name=current_path.name
    )
    Path(current.file.path).write_bytes(make(tmp_path / "scratch.parquet"))

    run = services.run_create(
        actor=flow.developer, version=flow.version, reference=reference, current=current, spec=SUITE
    )
    assert services.run_execute(run.pk) == "error"
    run = ValidationRun.objects.get(pk=run.pk)
    assert run.error
    assert len(run.error) < 500
    assert "Traceback" not in run.error
    assert run.attempts == 1  # a file judged unusable is not tried again
    assert not run.results.exists()
