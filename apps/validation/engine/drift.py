"""Drift of one feature between the reference and the current dataset (DESIGN section 6).

Numeric: PSI over the reference's decile bins and the two-sample Kolmogorov-Smirnov test.
Categorical: PSI over the union of both datasets' categories and the chi-square test of the
2 x k table of counts. Missing values (and text that is not a number, and infinities) are left
out of both datasets and counted in the message.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from apps.validation.engine import stats
from apps.validation.engine.gamma import chi2_sf
from apps.validation.engine.measure import Measure, plural
from apps.validation.engine.reader import Codes, Numbers, unify

# Quantiles 0.1, ..., 0.9 as the nearest doubles to those decimals (np.linspace would round differently).
DECILES = np.arange(1, 10) / 10
PSI_FLOOR = 1e-4  # a proportion of 0 is replaced by this, so the logarithm stays finite


@dataclass(frozen=True)
class Sample:
    """A numeric column's present values, sorted, and what was left out of it."""

    values: np.ndarray
    missing: int
    invalid: int
    infinite: int


def sample(numbers: Numbers) -> Sample:
    """Return the sorted present values of `numbers`, sorting its array in place when nothing is left out."""
    values = numbers.values[~np.isnan(numbers.values)] if numbers.excluded else numbers.values
    values.sort()
    return Sample(values, numbers.missing, numbers.invalid, numbers.infinite)


def numeric_drift(reference: Sample, current: Sample) -> dict[str, Measure]:
    """Return PSI, KS statistic and KS p-value of a numeric feature."""
    note = excluded_note(reference, current)
    ref = reference.values
    cur = current.values
    empty = empty_numeric_drift(ref.shape[0], cur.shape[0], note)
    if empty is not None:
        return empty
    psi = numeric_psi(ref, cur)
    statistic, pvalue = stats.ks_2samp(ref, cur)
    return numeric_measures(psi, statistic, pvalue, note)


def empty_numeric_drift(ref_size: int, cur_size: int, note: str | None) -> dict[str, Measure] | None:
    """Return the undefined measures when either dataset has no numeric value in the column, else None."""
    if ref_size and cur_size:
        return None
    which = "reference" if ref_size == 0 else "current"
    undefined = Measure.undefined(_sentence(note, f"the {which} dataset has no numeric values in this column"))
    return dict.fromkeys(("psi", "ks_statistic", "ks_pvalue"), undefined)


def numeric_measures(psi: float, statistic: float, pvalue: float, note: str | None) -> dict[str, Measure]:
    """Return the PSI and KS measures of a numeric feature, saying why a p-value is undefined."""
    measures = {
        "psi": Measure.number(psi, note),
        "ks_statistic": Measure.number(statistic, note),
    }
    if np.isnan(pvalue):
        measures["ks_pvalue"] = Measure.undefined(
            _sentence(note, "the KS p-value needs more than one value in each dataset")
        )
    else:
        measures["ks_pvalue"] = Measure.number(pvalue, note)
    return measures


def numeric_psi(ref_sorted: np.ndarray, cur_sorted: np.ndarray) -> float:
    """Return the PSI of two sorted samples over bins cut at the reference's unique deciles.

    A value v falls in bin i = the number of edges strictly below v, so bin i holds
    edge[i-1] < v <= edge[i]; with sorted samples each bin's count is a difference of searches.
    """
    edges = psi_edges(ref_sorted)
    return psi(_bin_shares(ref_sorted, edges), _bin_shares(cur_sorted, edges))


def sorted_quantiles(sorted_values: np.ndarray, quantiles: np.ndarray) -> np.ndarray:
    """Return numpy.quantile(values, quantiles) (method "linear") of an already sorted, NaN-free sample.

    The same arithmetic as numpy's implementation: virtual index (n - 1) * q, its floor and the
    next index (both the last element past the end), and numpy's two-sided lerp; reading the order
    statistics from the sorted sample spares numpy's copy and partition of the whole column.
    """
    n = sorted_values.shape[0]
    virtual = (n - 1) * quantiles
    previous = np.floor(virtual)
    following = previous + 1
    beyond = virtual >= n - 1
    previous[beyond] = -1
    following[beyond] = -1
    previous_index = previous.astype(np.intp)
    following_index = following.astype(np.intp)
    gamma = virtual - previous_index
    low = sorted_values[previous_index]
    high = sorted_values[following_index]
    difference = high - low
    result = low + difference * gamma
    return np.where(gamma >= 0.5, high - difference * (1 - gamma), result)


def psi_edges(ref_sorted: np.ndarray) -> np.ndarray:
    """Return the PSI bin edges of a sorted, non-empty reference sample: its unique deciles."""
    return np.unique(sorted_quantiles(ref_sorted, DECILES))


def bin_counts(sorted_values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Return how many values of a sorted sample fall in each bin (edge[i-1] < v <= edge[i])."""
    n = sorted_values.shape[0]
    at_or_below = np.searchsorted(sorted_values, edges, side="right")
    return np.diff(np.concatenate([[0], at_or_below, [n]]))


def _bin_shares(sorted_values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    return bin_counts(sorted_values, edges) / sorted_values.shape[0]


def psi(reference_shares: np.ndarray, current_shares: np.ndarray) -> float:
    """Return sum((cur - ref) * ln(cur / ref)) with zero shares replaced by PSI_FLOOR."""
    ref = np.where(reference_shares == 0, PSI_FLOOR, reference_shares)
    cur = np.where(current_shares == 0, PSI_FLOOR, current_shares)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def categorical_drift(reference: Codes, current: Codes) -> dict[str, Measure]:
    """Return PSI and the chi-square p-value of a categorical feature."""
    ref_codes, cur_codes, texts = unify(reference, current)
    size = len(texts)
    ref_counts = np.bincount(ref_codes[ref_codes >= 0], minlength=size)
    cur_counts = np.bincount(cur_codes[cur_codes >= 0], minlength=size)
    return categorical_count_drift(ref_counts, cur_counts, reference.missing, current.missing)


def categorical_count_drift(
    ref_counts: np.ndarray, cur_counts: np.ndarray, ref_missing: int, cur_missing: int
) -> dict[str, Measure]:
    """Return PSI and the chi-square p-value from both datasets' counts over the sorted union of categories."""
    # A Parquet dictionary may list values no row uses; they are not categories of either dataset.
    present = (ref_counts + cur_counts) > 0
    ref_counts, cur_counts = ref_counts[present], cur_counts[present]
    notes = []
    if ref_missing or cur_missing:
        notes.append(
            f"missing values left out: {ref_missing:,} in the reference, {cur_missing:,} in the current dataset"
        )
    unseen = int(np.count_nonzero((ref_counts == 0) & (cur_counts > 0)))
    if unseen:
        notes.append(f"{plural(unseen, 'category', 'categories')} of the current dataset never appear in the reference")
    note = "; ".join(notes) or None
    ref_total, cur_total = int(ref_counts.sum()), int(cur_counts.sum())
    if ref_total == 0 or cur_total == 0:
        which = "reference" if ref_total == 0 else "current"
        undefined = Measure.undefined(_sentence(note, f"the {which} dataset has no values in this column"))
        return {"psi": undefined, "chi2_pvalue": undefined}
    return {
        "psi": Measure.number(psi(ref_counts / ref_total, cur_counts / cur_total), note),
        "chi2_pvalue": Measure.number(chi2_pvalue(ref_counts, cur_counts), note),
    }


def chi2_pvalue(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    """Return the p-value of Pearson's chi-square test on the 2 x k table, without continuity correction.

    As scipy.stats.chi2_contingency(correction=False): expected counts from the margins, k - 1
    degrees of freedom, and p = 1 when there is a single category (no degree of freedom).
    """
    observed = np.vstack([ref_counts, cur_counts]).astype(np.float64)
    if observed.shape[1] < 2:
        return 1.0
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / observed.sum()
    statistic = float(np.sum((observed - expected) ** 2 / expected))
    return chi2_sf(statistic, observed.shape[1] - 1)


def excluded_note(reference: Sample, current: Sample) -> str | None:
    parts = []
    for what, attribute in (("missing", "missing"), ("not numbers", "invalid"), ("infinite", "infinite")):
        ref_count, cur_count = getattr(reference, attribute), getattr(current, attribute)
        if ref_count or cur_count:
            parts.append(f"{what}: {ref_count:,} in the reference, {cur_count:,} in the current dataset")
    if not parts:
        return None
    return "values left out (" + "; ".join(parts) + ")"


def _sentence(note: str | None, text: str) -> str:
    return f"{note}; {text}" if note else text
