"""Effects with intervals from paired runs, and the three-way verdict against a minimum effect.

**Sign convention** (one for ``compare`` and ``claims``): an effect is **B - A**, the
mean over pairs of (scenario B - scenario A), where A is the reference and B the
scenario with the lever pulled.  ``compare A B`` reports B - A; ``claims`` uses the
essay's world as A and the counterfactual as B, so a lever has the same sign in
both (``compare iraq-2010 iraq-2010+us-stays`` and claim C1 agree).

Paired runs share seed and sampled parameters (common random numbers), so the
difference of a metric between them removes most of the noise both runs share.
The effect's 90% interval is the bias-corrected and accelerated (BCa) bootstrap
of the mean paired difference (``scipy.stats.bootstrap``, a fixed generator, so
the interval is reproducible).  One pair gives no interval and is refused.

Verdict rule (documented in docs/experiments.md): with ``delta`` the metric's
minimum effect that counts, *supported* when the 90% interval lies wholly beyond
``delta`` on the side the claim predicts, *contradicted* when it lies wholly
beyond ``delta`` on the other side, *inconclusive* otherwise -- an interval
straddling the band, or one inside ``[-delta, delta]`` (a real but too small
effect), or a zero effect (the lever changes nothing in the model).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..errors import UsageError

LEVEL = 0.90
N_BOOT = 2000
BOOT_SEED = 20100307  # the date of the 2010 election, as good a constant as any


@dataclass
class Effect:
    """Mean paired difference with a bootstrap interval."""

    n: int
    mean_a: float
    mean_b: float
    effect: float
    lo: float
    hi: float
    share_positive: float
    share_negative: float

    def to_json(self) -> dict[str, Any]:
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in asdict(self).items()}


MIN_PAIRS = 2


def bootstrap_mean_ci(x: np.ndarray, level: float = LEVEL, n_boot: int = N_BOOT, seed: int = BOOT_SEED) -> tuple[float, float]:
    """BCa bootstrap interval of the mean of ``x`` (exact when every value is equal).

    Fewer than two finite values give no interval: a ``UsageError`` for one value,
    ``(nan, nan)`` for none.  Should BCa be undefined (a degenerate jackknife), the
    percentile interval of the same resamples is returned.
    """
    from scipy import stats as sps

    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return (math.nan, math.nan)
    if x.size < MIN_PAIRS:
        raise UsageError("--runs: a single pair gives no interval; run at least 2 (20 or more for a verdict)")
    if np.all(x == x[0]):
        return (float(x[0]), float(x[0]))
    rng = np.random.default_rng(seed)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = sps.bootstrap((x,), np.mean, confidence_level=level, n_resamples=n_boot, method="BCa",
                          vectorized=True, rng=rng)
    lo, hi = float(r.confidence_interval.low), float(r.confidence_interval.high)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        means = np.asarray(r.bootstrap_distribution, float)
        a = (1.0 - level) / 2.0
        lo, hi = float(np.quantile(means, a)), float(np.quantile(means, 1.0 - a))
    m = float(x.mean())
    return (min(lo, m), max(hi, m))


def paired_effect(a: np.ndarray, b: np.ndarray, level: float = LEVEL) -> Effect:
    """Effect of b over a: mean(b - a) over pairs where both are finite (one pair is refused)."""
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    ok = np.isfinite(a) & np.isfinite(b)
    d = b[ok] - a[ok]
    n = int(d.size)
    if n == 0:
        nan = math.nan
        return Effect(0, nan, nan, nan, nan, nan, nan, nan)
    lo, hi = bootstrap_mean_ci(d, level) if n >= MIN_PAIRS else (math.nan, math.nan)
    return Effect(
        n, float(a[ok].mean()), float(b[ok].mean()), float(d.mean()), lo, hi,
        float((d > 0).mean()), float((d < 0).mean()),
    )


def one_sample(x: np.ndarray, level: float = LEVEL) -> tuple[float, float, float, int]:
    """Mean of x with its bootstrap interval, and n."""
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return (math.nan, math.nan, math.nan, 0)
    lo, hi = bootstrap_mean_ci(x, level) if x.size >= MIN_PAIRS else (math.nan, math.nan)
    return (float(x.mean()), lo, hi, int(x.size))


def verdict(lo: float, hi: float, direction: int, threshold: float = 0.0, min_effect: float = 0.0) -> str:
    """'supported' / 'contradicted' / 'inconclusive' from an interval of an effect (or of a value vs ``threshold``).

    ``direction`` is +1 when the claim predicts an effect above ``threshold``, -1 below.
    The interval must clear ``min_effect`` (>= 0) beyond the threshold to decide either way.
    """
    return verdict_reason(lo, hi, direction, threshold, min_effect)[0]


def verdict_reason(
    lo: float, hi: float, direction: int, threshold: float = 0.0, min_effect: float = 0.0
) -> tuple[str, str]:
    """The verdict of :func:`verdict` and the reason, in a few words."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return "inconclusive", "no interval"
    if min_effect < 0:
        raise ValueError("min_effect must be >= 0")
    lo, hi = lo - threshold, hi - threshold
    if direction < 0:
        lo, hi = -hi, -lo
    if lo > min_effect:
        return "supported", "interval clears the minimum effect on the predicted side"
    if hi < -min_effect:
        return "contradicted", "interval clears the minimum effect on the other side"
    if lo == hi == 0.0:
        return "inconclusive", "no effect: the paired runs are identical"
    if -min_effect <= lo and hi <= min_effect:
        return "inconclusive", "interval inside the minimum effect: too small to count"
    return "inconclusive", "interval reaches into the minimum effect band"


def fmt(x: float | None, digits: int = 3) -> str:
    """Compact number for tables: 12,345 / 0.123 / 1.2e-05."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    ax = abs(x)
    if ax >= 1000:
        return f"{x:,.0f}"
    if ax >= 1 or ax == 0:
        return f"{x:.{max(digits - 1, 0)}f}".rstrip("0").rstrip(".") if ax < 100 else f"{x:.0f}"
    return f"{x:.{digits}g}"


def finite_or_none(o: Any) -> Any:
    """JSON-safe copy: non-finite floats (an undefined interval, say) become null, recursively."""
    if isinstance(o, float):
        return o if math.isfinite(o) else None
    if isinstance(o, dict):
        return {k: finite_or_none(v) for k, v in o.items()}
    if isinstance(o, list):
        return [finite_or_none(v) for v in o]
    return o
