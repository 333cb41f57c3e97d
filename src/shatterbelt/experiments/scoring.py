"""Proper scores for probabilistic forecasts, and the naive baselines a model must beat.

* CRPS (continuous ranked probability score) of an ensemble (the sample formula
  E|X - y| - E|X - X'|/2) and of a normal distribution (closed form), both on
  log(1 + deaths): errors in orders of magnitude, as ViEWS scores fatalities;
* coverage of central 50% and 90% intervals, and the interval score of the 90% interval
  (a second proper score: width plus a penalty for an observation outside);
* Brier score of a probability for a binary outcome.

Lower CRPS and Brier are better.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats


def crps_ensemble(samples: np.ndarray, y: float) -> float:
    """CRPS of the empirical distribution of ``samples`` at observation ``y`` (O(n log n))."""
    x = np.sort(np.asarray(samples, float)[np.isfinite(samples)])
    n = x.size
    if n == 0 or not math.isfinite(y):
        return math.nan
    term1 = np.abs(x - y).mean()
    # E|X - X'| = 2/n^2 * sum_i (2i - n - 1) x_(i)  (1-based i)
    i = np.arange(1, n + 1)
    term2 = (2.0 / (n * n)) * float(((2 * i - n - 1) * x).sum())
    return float(term1 - 0.5 * term2)


def crps_normal(mu: float, sigma: float, y: float) -> float:
    """CRPS of N(mu, sigma^2) at y (Gneiting & Raftery 2007)."""
    if sigma <= 0:
        return abs(y - mu)
    z = (y - mu) / sigma
    return float(sigma * (z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / math.sqrt(math.pi)))


def interval(samples: np.ndarray, level: float) -> tuple[float, float]:
    x = np.asarray(samples, float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return (math.nan, math.nan)
    a = (1 - level) / 2
    return (float(np.quantile(x, a)), float(np.quantile(x, 1 - a)))


def normal_interval(mu: float, sigma: float, level: float) -> tuple[float, float]:
    z = stats.norm.ppf(0.5 + level / 2)
    return (mu - z * sigma, mu + z * sigma)


def covered(lo: float, hi: float, y: float) -> bool | None:
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return None
    return bool(lo <= y <= hi)


def brier(p: float, outcome: bool) -> float:
    return float((p - float(outcome)) ** 2)


def log1p(x: float | np.ndarray) -> float | np.ndarray:
    return np.log1p(np.maximum(x, 0.0))


def interval_score(lo: float, hi: float, y: float, alpha: float) -> float:
    """Interval score of the central (1 - alpha) interval [lo, hi] at y (Gneiting & Raftery 2007,
    eq. 43): its width plus 2/alpha times the distance by which y falls outside.  Proper for the
    interval's quantiles; lower is better."""
    if not (math.isfinite(lo) and math.isfinite(hi) and math.isfinite(y)):
        return math.nan
    return float((hi - lo) + (2.0 / alpha) * max(lo - y, 0.0) + (2.0 / alpha) * max(y - hi, 0.0))
