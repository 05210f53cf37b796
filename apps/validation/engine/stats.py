"""The Kolmogorov-Smirnov functions the drift checks need, written here so the engine needs only numpy.

`ks_2samp` reproduces `scipy.stats.ks_2samp(method="asymp")`: the statistic is the largest gap
between the two empirical distribution functions, and the p-value is the survival function of the
*one-sample* two-sided Kolmogorov-Smirnov distribution D_n at n = round(n1 * n2 / (n1 + n2)), which
is what SciPy evaluates (`scipy.stats.kstwo.sf`). That distribution is computed the way Simard and
L'Ecuyer (2011) recommend, choosing between exact and approximate formulas by n and n * d**2:

- Ruben-Gambino closed forms for d <= 1/n and d >= 1 - 1/n;
- the Durbin matrix (Marsaglia, Tsang and Wang 2003) where it is exact and cheap;
- the Pelz-Good (1976) expansion for large n and small n * d**2;
- twice the one-sided Smirnov tail (Birnbaum and Tingey 1951) where the two tails cannot overlap
  enough to matter.

SciPy switches between these at the same points, so matching them keeps us within 1e-6 of its
p-values everywhere (including where SciPy itself is an approximation). For n <= 140 SciPy uses the
Pomeranz recursion in a middle band; the Durbin matrix is exact there too and is used instead.

The chi-square tail and the log-factorials are in engine/gamma.py.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from fractions import Fraction

import numpy as np

from apps.validation.engine.gamma import UNDERFLOW_LOG, clip, log_binomial

_SQRT_2PI = math.sqrt(2 * math.pi)
_PI_SQUARED = math.pi**2
_PI_FOUR = math.pi**4
_PI_SIX = math.pi**6
_SQRT3 = math.sqrt(3)
_MIN_LOG = -708  # exp() of anything lower underflows to a denormal or zero
_SCALE_EXPONENT = 128  # rescale matrix powers by 2**128 to stay within float range
_SMIRNOV_MAX_N = 1_000_000  # SciPy's cut-over to the closed-form approximation of the one-sided tail
_BLOCK = 1 << 18  # values per block when two sorted samples are compared (see run_counts)


# Kolmogorov-Smirnov


def ks_2samp(sorted1: np.ndarray, sorted2: np.ndarray) -> tuple[float, float]:
    """Return the two-sample KS statistic and asymptotic p-value of two sorted, non-empty samples.

    The p-value is NaN when SciPy's would be: n1 * n2 / (n1 + n2) rounds to 0 (one value each).
    """
    n1 = sorted1.shape[0]
    n2 = sorted2.shape[0]
    if n1 == 0 or n2 == 0:
        raise ValueError("ks_2samp needs two non-empty samples")
    statistic = ks_statistic(sorted1, sorted2)
    # SciPy sorts the sizes so the product is formed in the same order; round() halves to even as np.round.
    m, n = sorted([float(n1), float(n2)], reverse=True)
    effective_n = round(m * n / (m + n))
    if effective_n < 1:
        return statistic, math.nan
    return statistic, kstwo_sf(statistic, effective_n)


def ks_statistic(sorted1: np.ndarray, sorted2: np.ndarray) -> float:
    """Return sup |F1 - F2| of the empirical distribution functions of two sorted samples.

    Both functions are right-continuous steps, so the supremum is reached at an observed value,
    and SciPy evaluates them at every observed value. Each distinct value is visited once (see
    run_counts); the comparisons are exact in integers, and the two winners are then turned into
    floats as SciPy does, dividing before subtracting, so the statistic is the same float.
    """
    n1 = sorted1.shape[0]
    n2 = sorted2.shape[0]
    # (F1 - F2) * n1 * n2 = count1 * n2 - count2 * n1: exact in int64 up to 3e9 rows per dataset.
    best_above: tuple[int, int, int] | None = None  # (scaled difference, count1, count2)
    best_below: tuple[int, int, int] | None = None
    for own, other, first in ((sorted1, sorted2, True), (sorted2, sorted1, False)):
        for own_counts, other_counts, _ in run_counts(own, other):
            count1, count2 = (own_counts, other_counts) if first else (other_counts, own_counts)
            scaled = count1 * n2 - count2 * n1
            high, low = int(np.argmax(scaled)), int(np.argmin(scaled))
            if best_above is None or scaled[high] > best_above[0]:
                best_above = (int(scaled[high]), int(count1[high]), int(count2[high]))
            if best_below is None or scaled[low] < best_below[0]:
                best_below = (int(scaled[low]), int(count1[low]), int(count2[low]))
    assert best_above is not None  # both samples are non-empty, so at least one block ran
    assert best_below is not None
    largest = best_above[1] / n1 - best_above[2] / n2
    smallest = min(max(-(best_below[1] / n1 - best_below[2] / n2), 0.0), 1.0)
    return smallest if smallest > largest else largest


def run_counts(
    own: np.ndarray, other: np.ndarray, *, strictly_below: bool = False
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray | None]]:
    """Yield, block by block over the distinct values v of sorted `own`, how many values are <= v.

    Each block yields (count of `own` <= v, count of sorted `other` <= v, and, if asked, count of
    `other` < v). Working in blocks of a few hundred thousand values keeps every temporary small
    enough to reuse and every binary search inside the narrow slice of `other` the block spans,
    which matters far more than the search itself once the arrays outgrow the CPU caches.
    """
    n = own.shape[0]
    for start in range(0, n, _BLOCK):
        stop = min(start + _BLOCK, n)
        block = own[start:stop]
        last_of_run = np.empty(stop - start, dtype=bool)
        if stop < n:
            np.not_equal(block, own[start + 1 : stop + 1], out=last_of_run)
        else:
            np.not_equal(block[:-1], block[1:], out=last_of_run[:-1])
            last_of_run[-1] = True
        positions = np.flatnonzero(last_of_run)
        if positions.shape[0] == 0:
            continue
        keys = block[positions]
        low = int(np.searchsorted(other, keys[0], side="left"))
        high = int(np.searchsorted(other, keys[-1], side="right"))
        window = other[low:high]
        at_or_below = np.searchsorted(window, keys, side="right") + low
        below = np.searchsorted(window, keys, side="left") + low if strictly_below else None
        yield positions + (start + 1), at_or_below, below


def kstwo_sf(d: float, n: int) -> float:  # noqa: PLR0911, PLR0912 - SciPy's case analysis, kept whole
    """Return P(D_n >= d) for the two-sided one-sample KS statistic D_n, as scipy.stats.kstwo.sf."""
    if n < 1 or math.isnan(d):
        return math.nan
    # Outside the support (0.5/n, 1) SciPy's distribution machinery answers without the formulas.
    if d >= 1.0:
        return 0.0
    if d <= 0.5 / n:
        return 1.0
    t = n * d
    if t <= 1.0:
        if t <= 0.5:
            return 1.0
        # Ruben-Gambino: P(D_n <= d) = n!/n**n * (2t - 1)**n for 1/2n <= d <= 1/n.
        if n <= 140:
            cdf = float(np.prod(np.arange(1, n + 1) * (1.0 / n) * (2 * t - 1)))
        else:
            cdf = math.exp(_log_factorial_over_power(n) + n * math.log(2 * t - 1))
        return clip(1.0 - cdf)
    if t >= n - 1:
        return clip(2 * (1.0 - d) ** n)
    if d >= 0.5:
        return clip(2 * smirnov_sf(n, d))
    n_d_squared = t * d
    if n <= 140:
        if n_d_squared <= 4:
            return clip(1.0 - _durbin_cdf(n, d))
        return clip(2 * smirnov_sf(n, d))
    if n_d_squared >= 370.0:
        return 0.0
    if n_d_squared >= 2.2:
        return clip(2 * smirnov_sf(n, d))
    if n <= 100_000 and n * d**1.5 <= 1.4:
        return clip(1.0 - _durbin_cdf(n, d))
    return clip(1.0 - _pelz_good_cdf(n, d))


def _log_factorial_over_power(n: int) -> float:
    """Return log(n! / n**n)."""
    return math.lgamma(n + 1) - n * math.log(n)


def _durbin_cdf(n: int, d: float) -> float:
    """Return P(D_n <= d) exactly by Durbin's matrix method (Marsaglia, Tsang and Wang 2003).

    With n*d = k - h (k an integer, 0 <= h < 1) the probability is n!/n**n times the (k, k) entry
    of H**n for a (2k - 1)-square matrix H built from h. Powers are rescaled by 2**128 as they grow.
    """
    nd = n * d
    if nd <= 0.5:
        return 0.0
    k = math.ceil(nd)
    h = k - nd
    m = 2 * k - 1
    powers = np.arange(1, m + 1)
    factorials = np.cumprod(np.concatenate([[1.0], powers[:-1].astype(float)]))  # 0!, 1!, ..., (m-1)!
    inverse_factorials = 1.0 / factorials
    first_column = (1.0 - h**powers) / (factorials * powers)  # (1 - h**i) / i!
    first_column[-1] = (1.0 + max(2 * h - 1.0, 0.0) ** m - 2 * h**m) / (factorials[-1] * m)
    matrix = np.zeros((m, m))
    for column in range(1, m):
        matrix[column - 1 :, column] = inverse_factorials[: m - column + 1]
    matrix[:, 0] = first_column
    matrix[-1, :] = first_column[::-1]

    result = np.eye(m)
    result_exponent = 0
    matrix_exponent = 0
    remaining = n
    while remaining > 0:
        if remaining % 2:
            result = result @ matrix
            result_exponent += matrix_exponent
        matrix = matrix @ matrix
        matrix_exponent *= 2
        if abs(matrix[k - 1, k - 1]) > 2.0**_SCALE_EXPONENT:
            matrix /= 2.0**_SCALE_EXPONENT
            matrix_exponent += _SCALE_EXPONENT
        remaining //= 2
    entry = float(result[k - 1, k - 1])
    if entry <= 0.0:
        return 0.0
    log_cdf = math.log(entry) + result_exponent * math.log(2) + _log_factorial_over_power(n)
    return math.exp(min(log_cdf, 0.0))


def _pelz_good_cdf(n: int, d: float) -> float:
    """Return the Pelz-Good (1976) approximation of P(D_n <= d), as SciPy evaluates it.

    Li-Chien and Korolyuk's expansion K0(z) + K1(z)/sqrt(n) + K2(z)/n + K3(z)/n**1.5 at z = d*sqrt(n),
    each K transformed with Jacobi theta identities into sums that converge fast for small z.
    """
    if d <= 0.0:
        return 0.0
    if d >= 1.0:
        return 1.0
    z = math.sqrt(n) * d
    z2, z3, z4, z6 = z**2, z**3, z**4, z**6
    q_log = -_PI_SQUARED / 8 / z2
    if q_log < _MIN_LOG:
        return 0.0
    q = math.exp(q_log)

    k1a = -z2
    k1b = _PI_SQUARED / 4
    k2a = 6 * z6 + 2 * z4
    k2b = (2 * z4 - 5 * z2) * _PI_SQUARED / 4
    k2c = _PI_FOUR * (1 - 2 * z2) / 16
    k3d = _PI_SIX * (5 - 30 * z2) / 64
    k3c = _PI_FOUR * (-60 * z2 + 212 * z4) / 16
    k3b = _PI_SQUARED * (135 * z4 - 96 * z6) / 4
    k3a = -30 * z6 - 90 * z**8

    # Horner scheme over odd m = 2k - 1 of c(m) * q**(m**2), highest k first.
    terms = np.zeros(4)
    max_k = math.ceil(16 * z / math.pi)
    for k in range(max_k, 0, -1):
        m = 2 * k - 1
        m2, m4, m6 = m**2, m**4, m**6
        coefficients = np.array(
            [
                1.0,
                k1a + k1b * m2,
                k2a + k2b * m2 + k2c * m4,
                k3a + k3b * m2 + k3c * m4 + k3d * m6,
            ]
        )
        terms *= q ** (8 * k)
        terms += coefficients
    terms *= q * _SQRT_2PI
    terms /= np.array([z, 6 * z4, 72 * z**7, 6480 * z**10])

    # The sums over all integers k that K2 and K3 also carry.
    q_all = math.exp(-_PI_SQUARED / 2 / z2)
    ks = np.arange(max_k, 0, -1)
    k_squared = ks**2
    q_powers = q_all**k_squared
    terms[2] += float(np.sum(k_squared * q_powers)) * _PI_SQUARED * _SQRT_2PI / (-36 * z3)
    root3_z = _SQRT3 * z
    k_pi = np.pi * ks
    k3_extra = float(np.sum((root3_z + k_pi) * (root3_z - k_pi) * k_squared * q_powers))
    terms[3] += k3_extra * _PI_SQUARED * _SQRT_2PI / (216 * z6)
    terms /= np.power(float(n), np.arange(4) / 2.0)
    return float(sum(terms))


def smirnov_sf(n: int, d: float) -> float:  # noqa: PLR0911 - one return per closed-form case
    """Return P(D+_n >= d), the one-sided KS tail, as scipy.special.smirnov.

    Birnbaum-Tingey: d * sum over v = 0..floor(n(1-d)) of C(n, v) (d + v/n)**(v-1) (1 - d - v/n)**(n-v).
    Every term is positive, so the sum is evaluated in logarithms, all at once, without cancellation.
    """
    if not (n > 0 and 0.0 <= d <= 1.0):
        return math.nan
    if n == 1:
        return 1.0 - d
    if d == 0.0:
        return 1.0
    if d == 1.0:
        return 0.0
    # n*d split exactly into its integer and fractional parts: a rounded product could cross an integer.
    exact = Fraction(d) * n
    nd_floor = math.floor(exact)
    alpha = float(exact - nd_floor)
    if nd_floor == 0 or (nd_floor == 1 and alpha == 0):
        return clip(1.0 - d * (1.0 + d) ** (n - 1))
    if -2 * n * d * d < UNDERFLOW_LOG:
        return 0.0
    if nd_floor >= n - 1:
        return (1.0 - d) ** n
    if n > _SMIRNOV_MAX_N:
        log_p = -((6.0 * n * d + 1) ** 2) / 18.0 / n
        return math.exp(log_p) if log_p < -math.log(2) else 1.0 - (-math.expm1(log_p))
    # Terms v = 0 .. last; when n(1-d) is an integer its term is zero (a zero base) and is left out.
    last = n - nd_floor - 1
    v = np.arange(0, last + 1, dtype=np.float64)
    above = v + nd_floor + alpha  # n * (d + v/n)
    below = (n - nd_floor - v) - alpha  # n * (1 - d - v/n)
    log_terms = log_binomial(n, v) + (v - 1) * np.log(above) + (n - v) * np.log(below) - (n - 1) * math.log(n)
    peak = float(log_terms.max())
    total = float(np.sum(np.exp(log_terms - peak)))
    log_sf = math.log(d) + peak + math.log(total)
    if log_sf < UNDERFLOW_LOG:
        return 0.0
    return clip(math.exp(log_sf))
