"""The gamma-function family the drift checks need: log-factorials and the chi-square tail.

`chi2_sf` is the regularized upper incomplete gamma function Q(k/2, x/2), by its power series or
its continued fraction (Numerical Recipes' split at x = a + 1), with the prefactor computed in a
form that stays accurate for large a. `log_factorial` and `log_binomial` (a table, then Stirling's
series) serve the Kolmogorov-Smirnov tails in engine/stats.py.
"""

from __future__ import annotations

import math

import numpy as np

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
UNDERFLOW_LOG = -745.13321910194122  # log of the smallest denormal: below it a probability is 0

# Stirling series coefficients B_2j / (2j (2j - 1)) for j = 1..6, applied to 1/z, 1/z**3, ...
_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360)
_STIRLING_MIN = 64  # below this, log-factorials come from math.lgamma (table)
_LOG_FACTORIAL_TABLE = np.array([math.lgamma(k + 1) for k in range(_STIRLING_MIN)])


def clip(p: float) -> float:
    """Return the probability `p` clipped to [0, 1]."""
    return min(max(p, 0.0), 1.0)


def log_binomial(n: int, v: np.ndarray) -> np.ndarray:
    """Return log C(n, v) for an array of integers v (as floats) in 0..n."""
    return log_factorial(np.array([float(n)]))[0] - log_factorial(v) - log_factorial(n - v)


def log_factorial(k: np.ndarray) -> np.ndarray:
    """Return log(k!) for non-negative integers k (as floats): a table, then Stirling's series."""
    result = np.empty_like(k)
    small = k < _STIRLING_MIN
    result[small] = _LOG_FACTORIAL_TABLE[k[small].astype(np.int64)]
    z = k[~small] + 1.0
    inverse = 1.0 / z
    inverse_squared = inverse * inverse
    correction = np.zeros_like(z)
    for coefficient in reversed(_STIRLING):
        correction = correction * inverse_squared + coefficient
    result[~small] = (z - 0.5) * np.log(z) - z + _LOG_SQRT_2PI + correction * inverse
    return result


# Chi-square


def chi2_sf(x: float, dof: int) -> float:
    """Return P(X >= x) for X chi-square with `dof` degrees of freedom, as scipy.stats.chi2.sf."""
    if dof < 1 or math.isnan(x):
        return math.nan
    if x <= 0.0:
        return 1.0
    if math.isinf(x):
        return 0.0
    return gamma_q(dof / 2.0, x / 2.0)


def gamma_q(a: float, x: float) -> float:
    """Return the regularized upper incomplete gamma function Q(a, x) = Gamma(a, x) / Gamma(a)."""
    if x <= 0.0:
        return 1.0
    log_prefactor = _log_gamma_prefactor(a, x)
    if x < a + 1.0:
        return clip(1.0 - _lower_series(a, x, log_prefactor))
    return clip(_upper_fraction(a, x, log_prefactor))


def _log_gamma_prefactor(a: float, x: float) -> float:
    """Return log(x**a * exp(-x) / Gamma(a)) without the cancellation of large terms.

    For large a the three terms a*log(x), x and lgamma(a) are huge and nearly cancel; written as
    a*(log1p(u) - u) + log(a)/2 - log(sqrt(2 pi)) - stirling(a) with u = (x - a)/a, no large term remains.
    """
    u = (x - a) / a
    if a < 10.0 or abs(u) > 0.5:
        # Far from x = a the terms do not nearly cancel (and log1p(u) would reach its pole at u = -1).
        return a * math.log(x) - x - math.lgamma(a)
    inverse = 1.0 / a
    inverse_squared = inverse * inverse
    correction = 0.0
    for coefficient in reversed(_STIRLING):
        correction = correction * inverse_squared + coefficient
    return a * (math.log1p(u) - u) + 0.5 * math.log(a) - _LOG_SQRT_2PI - correction * inverse


def _lower_series(a: float, x: float, log_prefactor: float) -> float:
    """Return P(a, x) by its power series, which converges quickly for x < a + 1."""
    term = 1.0 / a
    total = term
    denominator = a
    for _ in range(1_000_000):
        denominator += 1.0
        term *= x / denominator
        total += term
        if term < total * 1e-17:
            break
    if log_prefactor < UNDERFLOW_LOG:
        return 0.0
    return total * math.exp(log_prefactor)


def _upper_fraction(a: float, x: float, log_prefactor: float) -> float:
    """Return Q(a, x) by its continued fraction (modified Lentz), which converges for x >= a + 1."""
    tiny = 1e-300
    b = x + 1.0 - a
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    for i in range(1, 1_000_000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        if abs(d) < tiny:
            d = tiny
        c = b + an / c
        if abs(c) < tiny:
            c = tiny
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-16:
            break
    log_q = log_prefactor + math.log(h)
    if log_q < UNDERFLOW_LOG:
        return 0.0
    return math.exp(log_q)
