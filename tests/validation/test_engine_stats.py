"""The engine's own KS and chi-square distributions agree with SciPy across their whole range."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats

from apps.validation.engine import drift, gamma, stats

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Sizes on both sides of every cut-over SciPy makes between formulas (140 and 1e5; 1e6 below).
BOUNDARY_SIZES = [1, 2, 3, 7, 10, 50, 139, 140, 141, 500, 5_000, 99_999, 100_000, 100_001, 1_000_001, 20_000_000]


def _statistics_grid(n: int) -> list[float]:
    """Return statistics from the support's lower edge to 1, dense where n*d**2 is moderate."""
    root = math.sqrt(n)
    d_values = [0.5 / n, 0.5 / n + 1e-12, 1 / n, 1 / n + 1e-9, 0.3, 0.5, 0.75, 1 - 1 / n, 0.999, 1.0]
    d_values += [x / root for x in np.linspace(0.05, 4.0, 40 if n < 50_000 else 12)]
    d_values += [math.sqrt(level / n) for level in (0.754693, 0.76, 2.19, 2.2, 2.21, 4.0, 4.01, 18.0, 370.0)]
    return [d for d in d_values if 0 <= d <= 1]


@pytest.mark.parametrize("n", BOUNDARY_SIZES)
def test_kstwo_survival_matches_scipy_at_every_formula_cut_over(n):
    worst = max(abs(stats.kstwo_sf(d, n) - float(scipy_stats.kstwo.sf(d, n))) for d in _statistics_grid(n))
    assert worst < 1e-7


@pytest.mark.parametrize("n", [999_999, 1_000_000])
def test_kstwo_survival_matches_scipy_where_the_one_sided_tail_is_summed_in_full(n):
    # SciPy sums up to a million terms here, slowly, so one statistic per size is compared.
    d = math.sqrt(3.0 / n)
    assert stats.kstwo_sf(d, n) == pytest.approx(float(scipy_stats.kstwo.sf(d, n)), abs=1e-7)


@settings(max_examples=150, deadline=None)
@given(n=st.integers(min_value=1, max_value=20_000_000), scaled=st.floats(min_value=0.0, max_value=6.0))
def test_kstwo_survival_matches_scipy_for_any_size_and_statistic(n, scaled):
    d = min(scaled / math.sqrt(n), 1.0)
    assert stats.kstwo_sf(d, n) == pytest.approx(float(scipy_stats.kstwo.sf(d, n)), abs=1e-7)


@SETTINGS
@given(n=st.integers(min_value=1, max_value=200_000), d=st.floats(min_value=0.0, max_value=1.0))
def test_one_sided_smirnov_tail_matches_scipy(n, d):
    from scipy import special

    assert stats.smirnov_sf(n, d) == pytest.approx(float(special.smirnov(n, d)), abs=1e-8)


def _sample(data, size_max, name):
    size = data.draw(st.integers(min_value=1, max_value=size_max), label=f"{name} size")
    kind = data.draw(st.sampled_from(["continuous", "rounded", "few values"]), label=f"{name} kind")
    seed = data.draw(st.integers(min_value=0, max_value=2**32 - 1), label=f"{name} seed")
    shift = data.draw(st.floats(min_value=-1.0, max_value=1.0), label=f"{name} shift")
    rng = np.random.default_rng(seed)
    values = rng.normal(shift, 1.0, size)
    if kind == "rounded":
        values = np.round(values, 1)
    elif kind == "few values":
        values = rng.integers(0, 4, size).astype(float)
    return values


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")  # SciPy's, when both samples hold one value
@SETTINGS
@given(data=st.data())
def test_two_sample_ks_matches_scipy_asymptotic_with_and_without_ties(data):
    first = _sample(data, 3_000, "first")
    second = _sample(data, 3_000, "second")
    expected = scipy_stats.ks_2samp(first, second, method="asymp")
    statistic, pvalue = stats.ks_2samp(np.sort(first), np.sort(second))
    assert statistic == pytest.approx(float(expected.statistic), abs=1e-12)
    if math.isnan(float(expected.pvalue)):
        assert math.isnan(pvalue)
    else:
        assert pvalue == pytest.approx(float(expected.pvalue), abs=1e-6)


@pytest.mark.parametrize(("n1", "n2"), [(200_000, 150_000), (1_000_000, 1_000_000), (3_000_000, 2_000_000)])
@pytest.mark.parametrize("shift", [0.0, 0.002, 0.01, 0.2])
def test_two_sample_ks_matches_scipy_on_large_samples(n1, n2, shift):
    rng = np.random.default_rng(n1 + n2)
    first = rng.normal(0.0, 1.0, n1)
    second = rng.normal(shift, 1.0, n2)
    expected = scipy_stats.ks_2samp(first, second, method="asymp")
    statistic, pvalue = stats.ks_2samp(np.sort(first), np.sort(second))
    assert statistic == pytest.approx(float(expected.statistic), abs=1e-12)
    assert pvalue == pytest.approx(float(expected.pvalue), abs=1e-6)


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")  # SciPy's, on a zero-size distribution
def test_ks_of_one_value_each_has_no_pvalue_as_in_scipy():
    statistic, pvalue = stats.ks_2samp(np.array([1.0]), np.array([2.0]))
    assert statistic == 1.0
    assert math.isnan(pvalue)
    assert math.isnan(float(scipy_stats.ks_2samp([1.0], [2.0], method="asymp").pvalue))


def test_ks_of_identical_constant_samples_is_zero_with_pvalue_one():
    assert stats.ks_2samp(np.full(50, 3.0), np.full(70, 3.0)) == (0.0, 1.0)


@SETTINGS
@given(dof=st.integers(min_value=1, max_value=200_000), scale=st.floats(min_value=0.0, max_value=4.0))
def test_chi_square_survival_matches_scipy_for_any_degrees_of_freedom(dof, scale):
    x = dof * scale
    assert gamma.chi2_sf(x, dof) == pytest.approx(float(scipy_stats.chi2.sf(x, dof)), abs=1e-12, rel=1e-9)


@SETTINGS
@given(dof=st.integers(min_value=1, max_value=50), x=st.floats(min_value=0.0, max_value=2_000.0))
def test_chi_square_survival_matches_scipy_far_into_both_tails(dof, x):
    assert gamma.chi2_sf(x, dof) == pytest.approx(float(scipy_stats.chi2.sf(x, dof)), abs=1e-12, rel=1e-9)


def test_chi_square_survival_edges_are_exact():
    assert gamma.chi2_sf(0.0, 3) == 1.0
    assert gamma.chi2_sf(math.inf, 3) == 0.0
    assert math.isnan(gamma.chi2_sf(1.0, 0))


@SETTINGS
@given(
    counts=st.lists(
        st.tuples(st.integers(min_value=0, max_value=10_000), st.integers(min_value=0, max_value=10_000)),
        min_size=2,
        max_size=40,
    ).filter(lambda pairs: all(a + b > 0 for a, b in pairs) and sum(a for a, _ in pairs) and sum(b for _, b in pairs))
)
def test_chi_square_pvalue_of_a_two_row_table_matches_chi2_contingency_without_correction(counts):
    table = np.array(counts).T
    expected = scipy_stats.chi2_contingency(table, correction=False).pvalue
    assert drift.chi2_pvalue(table[0], table[1]) == pytest.approx(float(expected), abs=1e-9)


def test_chi_square_of_a_single_category_is_one_as_in_scipy():
    assert drift.chi2_pvalue(np.array([5]), np.array([9])) == 1.0
    assert scipy_stats.chi2_contingency(np.array([[5], [9]]), correction=False).pvalue == 1.0


@SETTINGS
@given(
    values=st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=1, max_size=300),
    rounding=st.integers(min_value=-1, max_value=3),
)
def test_deciles_of_a_sorted_sample_are_bit_identical_to_numpy_quantile(values, rounding):
    sample = np.array(values) if rounding < 0 else np.round(np.array(values), rounding)
    expected = np.quantile(sample, np.arange(1, 10) / 10)
    assert np.array_equal(drift.sorted_quantiles(np.sort(sample), drift.DECILES), expected)


def test_block_boundaries_do_not_change_run_counts(monkeypatch):
    rng = np.random.default_rng(3)
    own = np.sort(np.round(rng.normal(size=5_000), 1))
    other = np.sort(np.round(rng.normal(size=4_000), 1))
    monkeypatch.setattr(stats, "_BLOCK", 17)  # runs of equal values straddle many blocks
    blocks = list(stats.run_counts(own, other, strictly_below=True))
    own_counts = np.concatenate([block[0] for block in blocks])
    at_or_below = np.concatenate([block[1] for block in blocks])
    below = np.concatenate([block[2] for block in blocks])
    distinct = np.unique(own)
    assert np.array_equal(own_counts, np.searchsorted(own, distinct, side="right"))
    assert np.array_equal(at_or_below, np.searchsorted(other, distinct, side="right"))
    assert np.array_equal(below, np.searchsorted(other, distinct, side="left"))
