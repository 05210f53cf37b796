"""Arrow columns reach numpy through their buffers, exactly, and without importing pandas."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.validation.engine.reader import numpy_of

ROOT = Path(__file__).resolve().parents[2]


@given(
    values=st.lists(st.one_of(st.none(), st.integers(-(2**40), 2**40)), max_size=60),
    start=st.integers(0, 10),
    split=st.integers(0, 60),
)
def test_integers_with_nulls_offsets_and_chunks_match_their_python_values(values, start, split) -> None:
    array = pa.array(values, pa.int64()).slice(min(start, len(values)))
    expected = [-7 if v is None else v for v in array.to_pylist()]
    chunked = pa.chunked_array([array.slice(0, split), array.slice(split)], pa.int64())
    assert numpy_of(array, np.int64, fill=-7).tolist() == expected
    assert numpy_of(chunked, np.int64, fill=-7).tolist() == expected


@given(values=st.lists(st.one_of(st.none(), st.floats(allow_nan=False)), max_size=60), start=st.integers(0, 9))
def test_floats_come_back_with_nan_for_nulls(values, start) -> None:
    array = pa.array(values, pa.float64()).slice(min(start, len(values)))
    result = numpy_of(array, np.float64, fill=np.nan)
    for got, want in zip(result.tolist(), array.to_pylist(), strict=True):
        assert (np.isnan(got) and want is None) or got == want


def test_booleans_and_small_types_are_widened() -> None:
    assert numpy_of(pa.array([True, False, True]), np.uint64).tolist() == [1, 0, 1]
    assert numpy_of(pa.array([3, 250], pa.uint8()), np.int64).tolist() == [3, 250]
    assert numpy_of(pa.chunked_array([], pa.float64()), np.float64).tolist() == []
    with pytest.raises(ValueError, match="fill value"):
        numpy_of(pa.array([1, None]), np.int64)


def test_run_checks_does_not_import_pandas(tmp_path: Path) -> None:
    from tests.validation.conftest import SUITE, evaluation_table

    pq.write_table(evaluation_table(300, seed=1), tmp_path / "reference.parquet")
    pq.write_table(evaluation_table(300, seed=2), tmp_path / "current.parquet")
    (tmp_path / "suite.json").write_text(json.dumps(SUITE))
    script = (
        "import sys, runpy\n"
        "sys.argv = ['manage.py', 'run_checks', '--reference', sys.argv[1], '--current', sys.argv[2],"
        " '--spec', sys.argv[3], '--output', sys.argv[4]]\n"
        "try:\n    runpy.run_path('manage.py', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "print('pandas' in sys.modules)"
    )
    paths = [str(tmp_path / name) for name in ("reference.parquet", "current.parquet", "suite.json", "out.json")]
    done = subprocess.run([sys.executable, "-c", script, *paths], cwd=ROOT, capture_output=True, text=True, check=False)
    assert (tmp_path / "out.json").exists(), done.stderr
    # pandas is installed here (fairlearn needs it); importing it would cost every run a third of a second.
    assert done.stdout.strip().splitlines()[-1] == "False"
