"""Results must not depend on scale beyond sampling noise (docs/ODD.md: one agent stands for 1/scale people).

The test: civilian deaths per 100,000 people over the whole run (2010-07 to 2014-12) of the
default scenario, 8 seeds at scale 0.01 against 4 seeds at scale 0.05 (each agent standing for
100 and for 20 people).  Welch's two-sample t-test must not reject equal means at the 1% level
(two-sided).  The seeds are fixed, so the verdict is deterministic; the full comparison
(0.01, 0.1 and 1.0) is in ``benchmarks/bench_engine.py``.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from shatterbelt.resolve import load_scenario
from shatterbelt.sim import Simulation

ALPHA = 0.01


def per_100k(scale: float, seed: int) -> float:
    s = Simulation(load_scenario("iraq-2010"), scale=scale, seed=seed).run().summary
    return sum(s["civilian_deaths_by_year"].values()) / s["population_start"] * 1e5


def test_civilian_deaths_per_100k_agree_across_scales():
    small = np.array([per_100k(0.01, seed) for seed in range(1, 9)])
    large = np.array([per_100k(0.05, seed) for seed in range(1, 5)])
    t, p = stats.ttest_ind(small, large, equal_var=False)
    msg = f"0.01: {small.round(1)} (mean {small.mean():.1f}); 0.05: {large.round(1)} (mean {large.mean():.1f}); Welch t={t:.2f}, p={p:.3f}"
    assert p > ALPHA, msg
    # and the violence is there to compare (a model that kills no one would pass trivially)
    assert small.mean() > 10 and large.mean() > 10, msg
