"""The numba backend's kernels against the NumPy backend (``shatterbelt._fast``, ``modules/*_kernels.py``).

The contract is byte-identical results for the same seed, whatever the backend and the number
of threads; the incremental census must always equal a full recount.  Skipped where numba
cannot be used (not installed, or ``SHATTERBELT_NO_NUMBA`` set), where the NumPy path is the
only one anyway.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shatterbelt import _fast, _fast_kernels
from shatterbelt import world as world_mod
from shatterbelt.backend import have_numba
from shatterbelt.kernels import group_rank_select, select_in_cells, smallest_sorted
from shatterbelt.modules import violence_kernels
from shatterbelt.population import CIV, DEAD, DETAINED, FIGHTER, People
from shatterbelt.resolve import load_scenario
from shatterbelt.rng import uniforms
from shatterbelt.sim import Simulation
from tests.conftest import TINY

needs_numba = pytest.mark.skipif(not have_numba(), reason="numba not available (or SHATTERBELT_NO_NUMBA set)")


def _digest(res) -> dict[str, str]:
    """Hashes of everything a run produced: people, panel arrays, events, summary."""
    import json

    w = res.world
    out = {}
    for name in ("region", "origin", "community", "fighting_age", "hardship", "risk", "status", "actor",
                 "allegiance", "displaced", "timer", "term"):
        out[name] = hashlib.sha256(getattr(w.people, name).tobytes()).hexdigest()
    out["nat"] = hashlib.sha256(w.record.nat.tobytes()).hexdigest()
    out["reg"] = hashlib.sha256(w.record.reg.tobytes()).hexdigest()
    for col in res.events.column_names:
        out["ev." + col] = hashlib.sha256(repr(res.events.column(col).to_pylist()).encode()).hexdigest()
    out["summary"] = hashlib.sha256(json.dumps(res.summary, sort_keys=True, default=str).encode()).hexdigest()
    return out


def _run(spec: str, scale: float, seed: int, backend: str, until: str | None = None):
    return Simulation(load_scenario(spec), scale=scale, seed=seed, until=until, backend=backend).run()


# ---------------------------------------------------------------------------- whole runs
@needs_numba
@pytest.mark.parametrize("spec,scale,seed,until", [
    (TINY, 1.0, 1, None),
    (TINY, 1.0, 5, None),
    ("iraq-2010", 0.01, 3, None),
    ("iraq-2010+us-stays", 0.005, 4, "2013-06"),
])
def test_numba_and_numpy_give_identical_runs(spec, scale, seed, until, monkeypatch):
    monkeypatch.setattr(world_mod, "_CHECK_CENSUS", True)  # and the maintained census equals a recount
    a = _run(spec, scale, seed, "numpy", until)
    b = _run(spec, scale, seed, "numba", until)
    assert a.world.backend == "numpy" and b.world.backend == "numba"
    da, db = _digest(a), _digest(b)
    assert da == db, [k for k in da if da[k] != db[k]]
    assert a.summary["deaths_total"] > 0


@needs_numba
def test_results_do_not_depend_on_the_number_of_threads():
    import numba

    n0 = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = _digest(_run(TINY, 1.0, 2, "numba"))
    finally:
        numba.set_num_threads(n0)
    assert one == _digest(_run(TINY, 1.0, 2, "numba"))


def test_backend_resolution(monkeypatch):
    from shatterbelt.errors import UsageError

    assert _fast.Kernels("numpy").name == "numpy"
    assert _fast.Kernels("auto").name == ("numba" if have_numba() else "numpy")  # whatever the population
    with pytest.raises(UsageError):
        _fast.Kernels("cuda")
    monkeypatch.setenv("SHATTERBELT_BACKEND", "numpy")
    sim = Simulation(load_scenario(TINY), scale=1.0, seed=1)
    assert sim.world.backend == "numpy"


def test_incremental_census_equals_recount_numpy(monkeypatch):
    """The NumPy path maintains the census through the same helpers; checked at every snapshot."""
    monkeypatch.setattr(world_mod, "_CHECK_CENSUS", True)
    res = _run(TINY, 0.5, 3, "numpy")
    w = res.world
    w.touched()
    cen = w.census()
    assert cen.t.sum() == w.people.n
    assert np.array_equal(w.fighter_idx, np.flatnonzero(w.people.status == FIGHTER))


def test_changing_keeps_counts_exact():
    sim = Simulation(load_scenario(TINY), scale=1.0, seed=1, backend="numpy")
    w = sim.world
    w.census()
    ppl = w.people
    civ = np.flatnonzero(ppl.status == CIV)[:50]
    with w.changing(civ):
        ppl.status[civ] = DEAD
    fresh = _fast.census_counts(False, ppl, w.A + 1, w.R, w.C)
    assert np.array_equal(fresh, w._counts)
    assert w.live_count(DEAD) == int((ppl.status == DEAD).sum())
    assert w.live_count(DETAINED) == int((ppl.status == DETAINED).sum())


# ---------------------------------------------------------------------------- kernels
@needs_numba
@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**64 - 1), st.integers(0, 2**40))
def test_numba_uniforms_are_bit_exact(key, start):
    nb = _fast_kernels
    idx = start + np.arange(2000, dtype=np.int64) * 7919
    assert np.array_equal(nb.uniforms_idx(np.uint64(key), idx), uniforms(key, idx))
    out = np.empty(3000, np.float32)
    nb.uniforms_f32(np.uint64(key), out)
    assert np.array_equal(out, uniforms(key, np.arange(3000)).astype(np.float32))


@settings(max_examples=200, deadline=None)
@given(st.floats(0.0, 2.0, allow_nan=False), st.integers(0, 2**53 - 1))
def test_threshold_bits_equals_the_float_test(q, bits):
    """u < q  <=>  bits < threshold_bits(q), for u = bits * 2**-53 (also at the edges)."""
    thr = _fast.threshold_bits(np.array([q]))[0]
    u = bits * 2.0**-53
    assert (u < q) == (np.uint64(bits) < thr)
    # the boundary itself
    b = int(np.floor(q * 2.0**53))
    for bb in (b - 1, b, b + 1):
        if 0 <= bb < 2**53:
            assert ((bb * 2.0**-53) < q) == (np.uint64(bb) < thr)


def _random_people(n: int, seed: int) -> People:
    rng = np.random.default_rng(seed)
    p = People.allocate(n)
    p.region[:] = rng.integers(0, 5, n)
    p.origin[:] = rng.integers(0, 5, n)
    p.community[:] = rng.integers(0, 3, n)
    p.status[:] = rng.choice([CIV, FIGHTER, DETAINED, DEAD], n, p=[0.8, 0.1, 0.05, 0.05])
    p.actor[:] = np.where(p.status == CIV, -1, rng.integers(0, 4, n))
    p.fighting_age[:] = rng.random(n) < 0.3
    p.displaced[:] = rng.random(n) < 0.1
    p.hardship[:] = rng.random(n).astype(np.float32)
    p.risk[:] = rng.random(n).astype(np.float32)
    return p


@needs_numba
@pytest.mark.parametrize("seed", [0, 1])
def test_census_and_where_kernels(seed):
    p = _random_people(100_003, seed)
    assert np.array_equal(_fast.census_counts(True, p, 5, 5, 3), _fast.census_counts(False, p, 5, 5, 3))
    nb, np_ = _fast.Kernels("numba"), _fast.Kernels("numpy")
    for v in (CIV, FIGHTER, DETAINED, DEAD):
        assert np.array_equal(nb.where_eq(p.status, v), np.flatnonzero(p.status == v))
        assert np.array_equal(np_.where_eq(p.status, v), np.flatnonzero(p.status == v))


@needs_numba
@pytest.mark.parametrize("n", [1, 7, 8, 9, 100_001])
def test_compact_flags(n):
    rng = np.random.default_rng(n)
    buf = np.zeros((n + 7) // 8 * 8, np.int8)
    buf[:n] = rng.choice([0, 1, 2, 3], n, p=[0.97, 0.01, 0.01, 0.01])
    for bit in (1, 2):
        for kern in (_fast.Kernels("numba"), _fast.Kernels("numpy")):
            assert np.array_equal(kern.compact_flags(buf, n, bit), np.flatnonzero(buf[:n] & bit))


@needs_numba
@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**31), st.integers(1, 40))
def test_civilian_prefilter_selects_what_a_full_sort_selects(seed, kmax):
    p = _random_people(20_000, seed)
    C = 3
    cell = np.where(p.status == CIV, p.region.astype(np.int64) * C + p.community, -1)
    avail = np.bincount(cell[cell >= 0], minlength=15)
    rng = np.random.default_rng(seed)
    k = np.minimum(rng.integers(0, kmax + 1, 15), avail)
    key = int(rng.integers(0, 2**62))
    flag = np.zeros(20_000, np.int8)
    kern = _fast.Kernels("numba")
    args = (p.status, p.region, p.community, C, k, avail, key, flag, lambda bit: kern.compact_flags(flag, flag.size, bit))
    got = violence_kernels.select_civilians_numba(*args)
    assert np.array_equal(got, violence_kernels.select_civilians_numpy(*args))
    assert np.array_equal(got, select_in_cells(cell, k, avail, lambda i: uniforms(key, i)))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31), st.integers(0, 300))
def test_smallest_sorted_is_a_stable_argsort_prefix(seed, k):
    rng = np.random.default_rng(seed)
    u = np.round(rng.random(250), 2)  # many ties
    assert np.array_equal(smallest_sorted(u, k), np.argsort(u, kind="stable")[:k])


def test_group_rank_select_prefilter_path_is_exact():
    """Above the pre-filter size the result must be the plain lexsort's."""
    from shatterbelt.kernels import _rank_select

    rng = np.random.default_rng(3)
    n = 400_000
    g = rng.integers(0, 12, n)
    u = np.round(rng.random(n), 4)  # ties
    k = rng.integers(0, 30_000, 12)
    k[2] = 10**6
    k[5] = 0
    assert np.array_equal(group_rank_select(g, u, k), _rank_select(g, u, k))


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31))
def test_hardship_floor_is_safe(seed):
    """Nobody at or below the floor has a positive pull toward any actor (the skipped are never best)."""
    from shatterbelt.modules.mobilization import F_, G_, L_
    from shatterbelt.modules.mobilization_kernels import net_pull

    sim = Simulation(load_scenario(TINY), scale=0.2, seed=1, backend="numpy")
    w = sim.world
    mob = sim.module("mobilization")
    rng = np.random.default_rng(seed)
    w.motivation = rng.choice([0.0, 0.3, 1.0, -0.2], size=w.motivation.shape)
    w.L = rng.random(w.L.shape)
    w.fear = rng.random(w.fear.shape)
    w.risk = rng.random(w.risk.shape)
    const = rng.normal(-0.5, 0.5, (w.A, w.R))
    ok = rng.random((w.A, w.R, w.C)) < 0.7
    hmin = mob._hardship_floor(ok, const).reshape(w.R, w.C)
    M = w.motivation
    for r in range(w.R):
        for c in range(w.C):
            if not np.isfinite(hmin[r, c]) or hmin[r, c] < 0:
                continue
            # the largest hardship (a float32, as stored) at or below the floor
            hf = np.float32(min(hmin[r, c], 1.0))
            if np.float64(hf) > hmin[r, c]:
                hf = np.nextafter(hf, np.float32(-1.0))
            h = np.float64(hf)
            for a in np.flatnonzero(ok[:, r, c]):
                for rr in (0.0, 0.5, 1.0):
                    L = w.L[r, c]
                    net = net_pull(M[a, G_], M[a, F_], M[a, L_], h, L, w.fear[r, c], const[a, r], rr, w.risk[a, r])
                    assert net <= 0.0
