"""Statistical equivalence of our Epstein Model I with Mesa's own example.

Mesa 3.3.1's ``epstein_civil_violence`` example (imported unchanged from the
installed package by ``tests/epstein_mesa_ref.py``) and our Model I with Mesa's rules (round, von Neumann
diamond, random sequential activation) are run at 40x40 with NetLogo's
parameter set (citizen density 0.7, cop density 0.04, legitimacy 0.82, max
jail 30, vision 7).  For each run we take the mean number of actives, the
mean number of jailed and the number of outburst steps (more than 50
actives).  Two-sided Mann-Whitney U and two-sample Kolmogorov-Smirnov tests,
each at level ALPHA, must not distinguish the two models on any statistic;
as a check of the tests' power, the same tests must distinguish Mesa from our
model with NetLogo's floor.  All runs are seeded, so the test is
deterministic.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mesa")
from scipy import stats  # noqa: E402

from shatterbelt.backend import have_numba  # noqa: E402
from shatterbelt.models.epstein import EpsteinParams, run_model1  # noqa: E402

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:  # the Mesa helpers live beside this file, whether or not tests/ is a package
    sys.path.insert(0, _HERE)
from epstein_mesa_ref import load_mesa_model, mesa_series  # noqa: E402

# 200 runs of ours take minutes in the (bit-identical) pure-NumPy fallback
long_runs = pytest.mark.skipif(
    not have_numba(), reason="long runs need numba; the NumPy fallback gives identical results"
)

ALPHA = 0.01
STEPS = 150
MESA_SEEDS = list(range(1, 21))  # 20 runs of Mesa (the slow side)
OUR_SEEDS = list(range(1, 101))  # 100 runs of ours
NETLOGO = dict(width=40, height=40, citizen_density=0.7, cop_density=0.04, legitimacy=0.82)
MESA_KW = dict(NETLOGO, max_jail_term=30, citizen_vision=7, cop_vision=7)
OURS = dict(NETLOGO, max_jail=30, vision=7, cop_vision=7)


def _stats(runs: list[dict[str, list[int]]]) -> dict[str, np.ndarray]:
    act = [np.asarray(r["active"]) for r in runs]
    return {
        "mean_active": np.array([a.mean() for a in act]),
        "mean_jailed": np.array([np.mean(r["jailed"]) for r in runs]),
        "outburst_steps": np.array([np.count_nonzero(a > 50) for a in act]),
    }


def _ours(disc: str) -> dict[str, np.ndarray]:
    p = EpsteinParams.mesa_rules(discretisation=disc, **OURS)
    runs = []
    for s in OUR_SEEDS:
        series = run_model1(p, steps=STEPS, seed=s).series
        runs.append({"active": series["active"][1:], "jailed": series["jailed"][1:]})
    return _stats(runs)


@pytest.fixture(scope="module")
def mesa_stats() -> dict[str, np.ndarray]:
    workers = max(1, min(2, os.cpu_count() or 1))
    ctx = multiprocessing.get_context("spawn")  # no fork of a process that may hold numba threads
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as ex:
        runs = list(ex.map(partial(mesa_series, steps=STEPS, **MESA_KW), MESA_SEEDS))
    return _stats(runs)


def test_mesa_example_uses_the_rules_we_claim() -> None:
    model = load_mesa_model()(seed=1, **MESA_KW)
    cell = next(iter(model.grid.all_cells))
    assert len(cell.get_neighborhood(radius=7)) == 112  # von Neumann diamond, centre excluded


@pytest.mark.slow
@long_runs
def test_model1_with_mesa_rules_matches_mesa_statistically(mesa_stats: dict[str, np.ndarray]) -> None:
    ours = _ours("round")
    assert mesa_stats["outburst_steps"].sum() > 0  # the outburst statistic is not all zeros
    report = []
    for name, m in mesa_stats.items():
        o = ours[name]
        p_mwu = stats.mannwhitneyu(m, o, alternative="two-sided").pvalue
        p_ks = stats.ks_2samp(m, o).pvalue
        report.append(f"{name}: mesa {m.mean():.2f} ours {o.mean():.2f} MWU p={p_mwu:.3f} KS p={p_ks:.3f}")
        assert p_mwu > ALPHA and p_ks > ALPHA, "\n".join(report)
    print("\n".join(report))


@pytest.mark.slow
@long_runs
def test_the_same_tests_tell_floor_from_mesa(mesa_stats: dict[str, np.ndarray]) -> None:
    floor = _ours("floor")
    for name, m in mesa_stats.items():
        p = stats.mannwhitneyu(m, floor[name], alternative="two-sided").pvalue
        assert p < ALPHA, name
    # floor (NetLogo) gives clearly more outbursts than round (Mesa)
    assert floor["outburst_steps"].mean() > 1.5 * mesa_stats["outburst_steps"].mean()
