"""Drift: PSI exactly as DESIGN section 6 defines it, KS and chi-square as SciPy computes them."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats

from apps.validation.engine import drift
from apps.validation.engine.reader import to_categories, to_numbers

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def reference_numeric_psi(reference: np.ndarray, current: np.ndarray) -> float:
    """PSI written straight from DESIGN section 6, the way a reviewer would write it."""
    edges = np.unique(np.quantile(reference, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]))

    def shares(values: np.ndarray) -> np.ndarray:
        bins = np.searchsorted(edges, values, side="left")  # the number of edges strictly below v
        proportions = np.bincount(bins, minlength=len(edges) + 1) / len(values)
        return np.where(proportions == 0, 1e-4, proportions)

    ref, cur = shares(reference), shares(current)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def reference_categorical_psi(reference: list[str], current: list[str]) -> float:
    categories = sorted(set(reference) | set(current))
    ref = np.array([reference.count(c) for c in categories]) / len(reference)
    cur = np.array([current.count(c) for c in categories]) / len(current)
    ref = np.where(ref == 0, 1e-4, ref)
    cur = np.where(cur == 0, 1e-4, cur)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def numeric_drift(reference: np.ndarray | list, current: np.ndarray | list) -> dict:
    return drift.numeric_drift(
        drift.sample(to_numbers(pa.chunked_array([pa.array(reference, pa.float64())]))),
        drift.sample(to_numbers(pa.chunked_array([pa.array(current, pa.float64())]))),
    )


def _numbers(data, name):
    size = data.draw(st.integers(min_value=1, max_value=2_000), label=f"{name} size")
    seed = data.draw(st.integers(min_value=0, max_value=2**32 - 1), label=f"{name} seed")
    kind = data.draw(st.sampled_from(["continuous", "rounded", "integers", "constant"]), label=f"{name} kind")
    rng = np.random.default_rng(seed)
    values = rng.normal(data.draw(st.floats(min_value=-2, max_value=2), label=f"{name} mean"), 1.0, size)
    if kind == "rounded":
        return np.round(values, 1)
    if kind == "integers":
        return np.round(values * 2)
    if kind == "constant":
        return np.full(size, 1.5)
    return values


@SETTINGS
@given(data=st.data())
def test_numeric_psi_follows_the_decile_rule_of_the_design(data):
    reference, current = _numbers(data, "reference"), _numbers(data, "current")
    measures = numeric_drift(reference, current)
    assert measures["psi"].value == pytest.approx(reference_numeric_psi(reference, current), abs=1e-9)


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")  # SciPy's, when both samples hold one value
@SETTINGS
@given(data=st.data())
def test_numeric_ks_matches_scipy(data):
    reference, current = _numbers(data, "reference"), _numbers(data, "current")
    measures = numeric_drift(reference, current)
    expected = scipy_stats.ks_2samp(reference, current, method="asymp")
    assert measures["ks_statistic"].value == pytest.approx(float(expected.statistic), abs=1e-12)
    if len(reference) == len(current) == 1:
        assert measures["ks_pvalue"].value is None
    else:
        assert measures["ks_pvalue"].value == pytest.approx(float(expected.pvalue), abs=1e-6)


def test_numeric_drift_on_a_million_rows_matches_the_references():
    rng = np.random.default_rng(7)
    reference = rng.normal(0, 1, 1_000_000)
    current = rng.normal(0.01, 1.02, 1_000_000)
    measures = numeric_drift(reference, current)
    expected = scipy_stats.ks_2samp(reference, current, method="asymp")
    assert measures["psi"].value == pytest.approx(reference_numeric_psi(reference, current), abs=1e-9)
    assert measures["ks_statistic"].value == pytest.approx(float(expected.statistic), abs=1e-12)
    assert measures["ks_pvalue"].value == pytest.approx(float(expected.pvalue), abs=1e-6)


def test_missing_values_are_left_out_of_drift_and_counted():
    reference = [1.0, 2.0, None, 3.0, math.nan, 4.0]
    current = [1.5, None, None, 2.5, 3.5]
    measures = numeric_drift(reference, current)
    clean_reference, clean_current = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.5, 2.5, 3.5])
    assert measures["psi"].value == pytest.approx(reference_numeric_psi(clean_reference, clean_current), abs=1e-12)
    expected = scipy_stats.ks_2samp(clean_reference, clean_current, method="asymp")
    assert measures["ks_statistic"].value == pytest.approx(float(expected.statistic))
    assert "missing: 2 in the reference, 2 in the current dataset" in (measures["psi"].note or "")


def test_text_and_infinities_in_a_numeric_column_are_left_out_and_counted():
    reference = to_numbers(pa.chunked_array([pa.array(["1", " 2.5 ", "abc", "4e0", None, "inf"])]))
    assert reference.invalid == 2  # "abc" and "inf" (only plain decimal numbers parse)
    assert reference.missing == 1
    current = to_numbers(pa.chunked_array([pa.array([1.0, math.inf, -math.inf, 2.0])]))
    assert current.infinite == 2
    measures = drift.numeric_drift(drift.sample(reference), drift.sample(current))
    expected = reference_numeric_psi(np.array([1.0, 2.5, 4.0]), np.array([1.0, 2.0]))
    assert measures["psi"].value == pytest.approx(expected, abs=1e-12)
    note = measures["psi"].note or ""
    assert "not numbers: 2 in the reference" in note
    assert "infinite: 0 in the reference, 2 in the current dataset" in note


def test_a_constant_reference_column_gives_a_finite_psi_with_two_bins():
    measures = numeric_drift([5.0] * 20, [5.0] * 10 + [6.0] * 10)
    assert measures["psi"].value == pytest.approx(
        reference_numeric_psi(np.full(20, 5.0), np.array([5.0] * 10 + [6.0] * 10))
    )
    assert math.isfinite(measures["psi"].value)


@pytest.mark.parametrize("empty_side", ["reference", "current"])
def test_an_all_missing_column_gives_null_drift_with_a_reason(empty_side):
    values = [1.0, 2.0, 3.0]
    nothing = [None, None]
    reference, current = (nothing, values) if empty_side == "reference" else (values, nothing)
    for measure in numeric_drift(reference, current).values():
        assert measure.value is None
        assert f"the {empty_side} dataset has no numeric values" in (measure.note or "")


def _categories(data, name):
    size = data.draw(st.integers(min_value=1, max_value=500), label=f"{name} size")
    alphabet = data.draw(st.lists(st.sampled_from("abcdefgh"), min_size=1, max_size=8, unique=True), label=name)
    return data.draw(st.lists(st.sampled_from(alphabet), min_size=size, max_size=size), label=f"{name} values")


@SETTINGS
@given(data=st.data())
def test_categorical_psi_uses_the_union_of_categories(data):
    reference, current = _categories(data, "reference"), _categories(data, "current")
    measures = drift.categorical_drift(
        to_categories(pa.chunked_array([pa.array(reference)])), to_categories(pa.chunked_array([pa.array(current)]))
    )
    assert measures["psi"].value == pytest.approx(reference_categorical_psi(reference, current), abs=1e-9)


@SETTINGS
@given(data=st.data())
def test_categorical_chi_square_matches_chi2_contingency_without_correction(data):
    reference, current = _categories(data, "reference"), _categories(data, "current")
    measures = drift.categorical_drift(
        to_categories(pa.chunked_array([pa.array(reference)])), to_categories(pa.chunked_array([pa.array(current)]))
    )
    categories = sorted(set(reference) | set(current))
    table = np.array([[reference.count(c) for c in categories], [current.count(c) for c in categories]])
    expected = scipy_stats.chi2_contingency(table, correction=False).pvalue if len(categories) > 1 else 1.0
    assert measures["chi2_pvalue"].value == pytest.approx(float(expected), abs=1e-9)


def test_categories_unseen_in_the_reference_are_counted_in_the_message():
    reference = to_categories(pa.chunked_array([pa.array(["a", "a", "b", None])]))
    current = to_categories(pa.chunked_array([pa.array(["a", "c", "d", "d"])]))
    measures = drift.categorical_drift(reference, current)
    assert measures["psi"].value == pytest.approx(reference_categorical_psi(["a", "a", "b"], ["a", "c", "d", "d"]))
    assert "2 categories of the current dataset never appear in the reference" in (measures["psi"].note or "")
    assert "1 in the reference, 0 in the current dataset" in (measures["psi"].note or "")


def test_dictionary_entries_no_row_uses_are_not_categories():
    # A Parquet dictionary may carry values that no row holds; they must not become empty categories.
    unused = pa.DictionaryArray.from_arrays(pa.array([0, 0, 1], pa.int32()), pa.array(["a", "b", "zombie"]))
    reference = to_categories(pa.chunked_array([unused]))
    current = to_categories(pa.chunked_array([pa.array(["a", "b", "b"])]))
    measures = drift.categorical_drift(reference, current)
    table = np.array([[2, 1], [1, 2]])
    assert measures["chi2_pvalue"].value == pytest.approx(
        float(scipy_stats.chi2_contingency(table, correction=False).pvalue)
    )
    assert measures["psi"].value == pytest.approx(reference_categorical_psi(["a", "a", "b"], ["a", "b", "b"]))


def test_a_categorical_column_with_no_values_gives_null_drift():
    reference = to_categories(pa.chunked_array([pa.array([None, None], pa.string())]))
    current = to_categories(pa.chunked_array([pa.array(["a"])]))
    measures = drift.categorical_drift(reference, current)
    assert measures["psi"].value is None
    assert "reference dataset has no values" in (measures["psi"].note or "")
