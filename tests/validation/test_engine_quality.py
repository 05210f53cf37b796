"""Data quality: missing values, duplicate rows (as pandas counts them), schema and declared ranges."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd  # type: ignore[import-untyped, unused-ignore]
import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.validation.engine import quality
from apps.validation.engine.reader import to_numbers

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def duplicates_of(table: pa.Table) -> int:
    hasher = quality.RowHasher(table.num_rows)
    for column in table.columns:
        hasher.add(column)
    return hasher.duplicates()


@SETTINGS
@given(
    rows=st.lists(
        st.tuples(
            st.one_of(st.none(), st.integers(min_value=-3, max_value=3)),
            st.one_of(st.none(), st.sampled_from([0.0, -0.0, 1.5, math.nan, 2.0])),
            st.one_of(st.none(), st.sampled_from(["a", "b", ""])),
            st.one_of(st.none(), st.booleans()),
        ),
        max_size=60,
    )
)
def test_duplicate_rows_are_counted_as_pandas_counts_them(rows):
    table = pa.table(
        {
            "i": pa.array([row[0] for row in rows], pa.int64()),
            "f": pa.array([row[1] for row in rows], pa.float64()),
            "s": pa.array([row[2] for row in rows], pa.string()),
            "b": pa.array([row[3] for row in rows], pa.bool_()),
        }
    )
    # pandas reads a float null as NaN, so a null and a NaN are one value there too.
    assert duplicates_of(table) == int(table.to_pandas().duplicated().sum())


def test_duplicate_rows_on_a_million_rows_match_pandas():
    rng = np.random.default_rng(5)
    size = 1_000_000
    frame = pd.DataFrame(
        {
            "x": np.round(rng.normal(size=size), 2),
            "k": rng.integers(0, 50, size),
            "c": rng.choice(["red", "green", "blue"], size),
        }
    )
    table = pa.Table.from_pandas(frame, preserve_index=False)
    assert duplicates_of(table) == int(frame.duplicated().sum())


def test_dictionary_dates_and_wide_integers_are_compared_by_value():
    table = pa.table(
        {
            "d": pa.array(["x", "y", "x", "x"]).dictionary_encode(),
            "t": pa.array([dt.date(2024, 1, 1), dt.date(2024, 1, 2), dt.date(2024, 1, 1), dt.date(2024, 1, 1)]),
            "u": pa.array([2**64 - 1, 5, 2**64 - 1, 2**64 - 1], pa.uint64()),
            "n": pa.array([None, None, None, 0], pa.int64()),  # a null is not the value 0
        }
    )
    assert duplicates_of(table) == 1


def test_columns_of_nested_types_are_left_out_of_the_duplicate_count_and_named():
    table = pa.table({"a": [1, 1, 2], "nested": pa.array([[1], [2], [3]])})
    hasher = quality.RowHasher(table.num_rows)
    for name in table.column_names:
        hasher.add(table.column(name), name)
    assert hasher.duplicates() == 1
    assert hasher.skipped == ["nested"]
    assert "not compared: nested" in (quality.duplicate_rows(1, 3, hasher.skipped).note or "")


def test_no_rows_and_one_row_have_no_duplicates():
    assert quality.RowHasher(0).duplicates() == 0
    assert duplicates_of(pa.table({"a": [1]})) == 0


def test_missing_counts_nulls_and_float_nans():
    assert quality.missing_count(pa.chunked_array([pa.array([1.0, None, math.nan, 2.0])])) == 2
    assert quality.missing_count(pa.chunked_array([pa.array(["a", None, "nan"])])) == 1
    assert quality.missing_count(pa.chunked_array([pa.array(["a", None]).dictionary_encode()])) == 1


def test_missing_rate_of_an_empty_dataset_is_null_with_a_reason():
    measure = quality.missing_rate(0, 0)
    assert measure.value is None
    assert "no rows" in (measure.note or "")
    assert quality.missing_rate(3, 12).value == 0.25


def test_schema_fails_on_missing_columns_and_warns_on_added_ones():
    measure, status = quality.schema(["a", "b", "c"], ["a", "c", "d"], "the reference dataset")
    assert status == "fail"
    assert measure.value == 2
    assert "missing from the current dataset: b" in (measure.note or "")
    assert "not in the reference dataset: d" in (measure.note or "")
    assert quality.schema(["a"], ["a", "z"], "the suite's schema")[1] == "warn"
    assert quality.schema(["a", "b"], ["b", "a"], "the suite's schema")[1] == "pass"


def test_range_counts_values_outside_the_bounds_and_text_that_is_not_a_number():
    numbers = to_numbers(pa.chunked_array([pa.array(["0.5", "1.5", "-2", None, "n/a", "1"])]))
    measure = quality.out_of_range(numbers, 0.0, 1.0)
    assert measure.value == 3  # 1.5, -2 and "n/a"; the bounds themselves are inside
    assert "3 values lie outside [0, 1]" in (measure.note or "")
    assert "1 value is not a number" in (measure.note or "")


@pytest.mark.parametrize(("low", "high", "expected"), [(None, 1.0, 1), (0.0, None, 1), (-5.0, 5.0, 0)])
def test_range_with_one_open_side(low, high, expected):
    numbers = to_numbers(pa.chunked_array([pa.array([-1.0, 0.5, 2.0])]))
    assert quality.out_of_range(numbers, low, high).value == expected
