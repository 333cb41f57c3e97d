"""Effects with intervals from paired runs, and the three-way verdict.

Paired runs share seed and sampled parameters (common random numbers), so the
difference of a metric between them removes most of the noise both runs share.
The effect is the mean paired difference; its 90% interval is a percentile
bootstrap over pairs (a fixed generator, so the interval is reproducible).

Verdict rule (documented in docs/experiments.md): *supported* when the 90%
interval lies entirely on the side the claim predicts, *contradicted* when it
lies entirely on the other side, *inconclusive* otherwise (including a zero
effect, when the lever changes nothing in the model).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

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


def bootstrap_mean_ci(x: np.ndarray, level: float = LEVEL, n_boot: int = N_BOOT, seed: int = BOOT_SEED) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``x`` (exact when every value is equal)."""
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return (math.nan, math.nan)
    if x.size == 1 or np.all(x == x[0]):
        return (float(x[0]) if x.size == 1 else float(x[0]), float(x[0]))
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, x.size, size=(n_boot, x.size))
    means = x[idx].mean(1)
    a = (1.0 - level) / 2.0
    return (float(np.quantile(means, a)), float(np.quantile(means, 1.0 - a)))


def paired_effect(a: np.ndarray, b: np.ndarray, level: float = LEVEL) -> Effect:
    """Effect of b over a: mean(b - a) over pairs where both are finite."""
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    ok = np.isfinite(a) & np.isfinite(b)
    d = b[ok] - a[ok]
    n = int(d.size)
    if n == 0:
        nan = math.nan
        return Effect(0, nan, nan, nan, nan, nan, nan, nan)
    lo, hi = bootstrap_mean_ci(d, level)
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
    lo, hi = bootstrap_mean_ci(x, level)
    return (float(x.mean()), lo, hi, int(x.size))


def verdict(lo: float, hi: float, direction: int, threshold: float = 0.0) -> str:
    """'supported' / 'contradicted' / 'inconclusive' from an interval of (effect - threshold).

    ``direction`` is +1 when the claim predicts an effect above ``threshold``, -1 below.
    """
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return "inconclusive"
    lo, hi = lo - threshold, hi - threshold
    if direction < 0:
        lo, hi = -hi, -lo
    if lo > 0:
        return "supported"
    if hi < 0:
        return "contradicted"
    return "inconclusive"


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
