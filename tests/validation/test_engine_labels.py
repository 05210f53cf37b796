"""Integer and boolean label columns are read in place; they must say what the float path says."""

from __future__ import annotations

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.validation.engine.labels import BinaryColumn, binary_column

INTEGER_TYPES = [pa.int8(), pa.int16(), pa.int32(), pa.int64(), pa.uint8(), pa.uint16(), pa.uint32(), pa.uint64()]


def as_floats(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """The same values as float64: binary_column's general path, the reference here."""
    return column.cast(pa.float64())


def same(got: BinaryColumn, want: BinaryColumn) -> None:
    assert got.positive.tolist() == want.positive.tolist()
    assert got.present.tolist() == want.present.tolist()
    assert got.seen == want.seen


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(INTEGER_TYPES),
    values=st.lists(st.one_of(st.none(), st.integers(0, 4)), max_size=60),
    positive=st.sampled_from(["0", "1", "2", "4", "7", "1.5", "-1", "yes", "nan", "1e3"]),
    chunks=st.integers(1, 3),
)
def test_integer_columns_read_in_place_agree_with_the_float_path(kind, values, positive, chunks) -> None:
    size = max(1, len(values) // chunks)
    parts = [values[i : i + size] for i in range(0, len(values), size)] or [[]]
    column = pa.chunked_array([pa.array(part, kind) for part in parts], type=kind)
    same(binary_column(column, positive), binary_column(as_floats(column), positive))


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(st.one_of(st.none(), st.booleans()), max_size=40),
    positive=st.sampled_from(["0", "1", "2"]),
    offset=st.integers(0, 11),  # slices start inside a byte of the bitmaps
)
def test_boolean_columns_agree_with_the_float_path(values, positive, offset) -> None:
    prefix = [True, None, False] * 4
    column = pa.chunked_array([pa.array(prefix[:offset] + values, pa.bool_()).slice(offset)], type=pa.bool_())
    same(binary_column(column, positive), binary_column(as_floats(column), positive))


@settings(max_examples=200, deadline=None)
@given(
    kind=st.sampled_from(INTEGER_TYPES),
    values=st.lists(st.one_of(st.none(), st.integers(0, 3)), min_size=1, max_size=40),
    offset=st.integers(0, 9),
    positive=st.sampled_from(["0", "1", "3"]),
)
def test_sliced_integer_columns_agree_with_the_float_path(kind, values, offset, positive) -> None:
    column = pa.chunked_array([pa.array([2, None, 1] * 3 + values, kind).slice(offset)], type=kind)
    same(binary_column(column, positive), binary_column(as_floats(column), positive))


@pytest.mark.parametrize("kind", [pa.int64(), pa.int8(), pa.uint64()])
def test_extreme_and_sliced_values(kind) -> None:
    limits = np.iinfo(np.dtype(str(kind)))
    data = pa.array([int(limits.min), 1, int(limits.max), None, 1, 0], kind).slice(1)  # an offset into the buffers
    column = pa.chunked_array([data])
    got = binary_column(column, "1")
    assert got.positive.tolist() == [True, False, False, True, False]
    assert got.present.tolist() == [True, True, False, True, True]
    assert got.seen == {"1", str(int(limits.max)), "0"}


def test_integers_beyond_float_precision_are_compared_exactly() -> None:
    big = 2**53
    column = pa.chunked_array([pa.array([big, big + 1, big + 1], pa.int64())])
    got = binary_column(column, str(big + 1))
    assert got.positive.tolist() == [False, True, True]
    assert got.seen == {str(big), str(big + 1)}
    top = 2**64 - 1
    unsigned = pa.chunked_array([pa.array([top, 0], pa.uint64())])
    assert binary_column(unsigned, str(top)).positive.tolist() == [True, False]
    assert binary_column(unsigned, "1e3").seen == {"0", str(top)}
    assert binary_column(pa.chunked_array([pa.array([1000, 1], pa.int16())]), "1e3").positive.tolist() == [True, False]
    huge = binary_column(pa.chunked_array([pa.array([1, 0], pa.int64())]), "1e100000000")  # no giant int is built
    assert huge.positive.tolist() == [False, False]
    assert huge.seen == {"0", "1"}
