"""Epstein civil-violence reference models: back ends, invariants, dynamics, CLI.

The Mesa equivalence test lives in ``test_epstein_mesa.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import typer

from shatterbelt import rng
from shatterbelt.backend import have_numba
from shatterbelt.cli.epstein import register
from shatterbelt.errors import UsageError
from shatterbelt.models.epstein import (
    EpsteinParams,
    EpsteinSim,
    _jit,
    arrest_probability_table,
    half_widths,
    neighbourhood_size,
    outburst_steps,
    run_model1,
    run_model2,
)
from shatterbelt.models.epstein import codes as K
from shatterbelt.models.epstein.accel import build_counts_np, build_planes_np, real_counts
from shatterbelt.models.epstein.rules import decision_ranks

HAVE_NUMBA = have_numba()
needs_numba = pytest.mark.skipif(not HAVE_NUMBA, reason="numba not installed (or SHATTERBELT_NO_NUMBA set)")
# long runs: minutes in the (bit-identical, tested above) pure-NumPy sequential fallback
long_runs = pytest.mark.skipif(
    not HAVE_NUMBA, reason="long runs need numba; the NumPy fallback gives identical results"
)


def _same_world(a: EpsteinSim, b: EpsteinSim) -> None:
    for k, v in a.series.items():
        np.testing.assert_array_equal(v, b.series[k], err_msg=k)
    for name in ("codes", "occ", "pos", "state", "jail", "kind"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


# --------------------------------------------------------------------------
# back ends, determinism
# --------------------------------------------------------------------------

BACKEND_CASES = [
    # (activation, model, extra params): small grids so that the Python-loop fallback is quick
    ("sequential", 1, dict(discretisation="round", neighbourhood="von_neumann")),
    ("sequential", 1, dict(width=21, height=17, vision=4, cop_vision=6, cop_density=0.1, max_jail=4)),
    ("sequential", 2, dict(discretisation="none", neighbourhood="cross", legitimacy=0.75)),
    # a crowded grid: many moves need the exact fallback after the probes fail
    ("sequential", 1, dict(citizen_density=0.9, cop_density=0.08, legitimacy=0.7, discretisation="round")),
    # vision above 7: the general (not 16-lane) paths of the numba kernel
    ("sequential", 1, dict(width=27, height=25, vision=9, cop_vision=8, legitimacy=0.7, citizen_density=0.8)),
    ("simultaneous", 1, dict()),
    ("simultaneous", 2, dict(neighbourhood="von_neumann", legitimacy=0.75, cop_density=0.08)),
    ("simultaneous", 1, dict(movement=False, discretisation="round")),
]


@needs_numba
@pytest.mark.parametrize("activation,model,extra", BACKEND_CASES)
def test_numpy_fallback_identical_to_numba(activation: str, model: int, extra: dict) -> None:
    kw = dict(width=24, height=22, activation=activation)
    kw.update(extra)
    p = EpsteinParams(**kw)
    a = EpsteinSim(p, model=model, seed=17, backend="numba").step(30)
    b = EpsteinSim(p, model=model, seed=17, backend="numpy").step(30)
    _same_world(a, b)
    # something happened, so the comparison is not vacuous
    assert a.series["arrests"].sum() > 0
    if model == 2:
        assert a.series["killed_a"].sum() + a.series["killed_b"].sum() > 0


@needs_numba
@pytest.mark.parametrize(
    "model,extra",
    [
        (1, dict(discretisation="round", neighbourhood="von_neumann")),
        (1, dict(width=23, height=19, vision=4, cop_vision=6, legitimacy=0.7)),
        (1, dict(width=33, height=41, vision=9, cop_vision=9, legitimacy=0.7, neighbourhood="disc")),
        (2, dict(legitimacy=0.75, cop_density=0.06, vision=5, cop_vision=3)),
    ],
)
def test_sequential_kernel_keeps_its_counts_and_planes_in_step(model: int, extra: dict) -> None:
    # the numba kernel updates neighbourhood counts and bit planes incrementally; rebuilt from
    # scratch after many steps (arrests, moves near the wrap-around edges, killings) they must agree
    p = EpsteinParams(**extra)
    s = EpsteinSim(p, model=model, seed=8, backend="numba")
    for _ in range(4):
        s.step(15)
        cf, acc = s.config, s.accel
        cnt, cntb = build_counts_np(s.H, s.W, s.pad, s.tables.hw, s.pos, s.kind, s.state, cf.S)
        v = p.vision
        np.testing.assert_array_equal(
            real_counts(acc.cnt, s.H, s.W, s.pad, v), real_counts(cnt, s.H, s.W, s.pad, v)
        )
        if model == 2:
            np.testing.assert_array_equal(
                real_counts(acc.cntb, s.H, s.W, s.pad, v), real_counts(cntb, s.H, s.W, s.pad, v)
            )
        planes = build_planes_np(s.codes, acc.pm, s.H + 2 * s.pad, s.Wp, cf.nw)
        n_real = (s.H + 2 * s.pad) * cf.nw * K.NPL  # the dummy row is scratch
        np.testing.assert_array_equal(acc.planes[:n_real], planes[:n_real])
    assert s.series["arrests"].sum() > 0 and s.series["active"].max() > 0


@pytest.mark.parametrize("disc", ["floor", "round", "none"])
def test_decision_ranks_are_exactly_the_formula(disc: str) -> None:
    # the numba kernel decides by comparing two integers; it must agree with G - R P > T everywhere
    rng = np.random.default_rng(1)
    n_cells = neighbourhood_size("von_neumann", 4)
    ptab = arrest_probability_table(disc, 2.3, n_cells)
    grv = rng.random(400).astype(np.float32)
    risk = rng.random(400).astype(np.float32)
    grv[:3], risk[:3] = np.float32(0.35), np.float32(0.0)  # no risk aversion: always active
    grv[3:6] = np.float32(0.05)  # grievance below the threshold: never active
    grv[6:9], risk[6:9] = np.float32(0.1), np.float32(0.0)  # float32(0.1) > 0.1: always active
    T = 0.1
    rank, thr = decision_ranks(ptab, grv, risk, T)
    a = ptab[:, 1:]
    want = (grv.astype(np.float64)[:, None, None] - risk.astype(np.float64)[:, None, None] * a[None]) > T
    got = rank[None, :, 1:] < thr[:, None, None]
    np.testing.assert_array_equal(got, want)
    assert want[:3].all() and not want[3:6].any() and want[6:9].all() and 0 < want.mean() < 1


@needs_numba
def test_kernels_draw_the_engines_uniforms() -> None:
    # the kernels hash with shatterbelt.rng.hash64 compiled by numba: bit for bit rng.uniforms
    for key in (rng.stream_key(5, "x", 3), rng.stream_key(2**63 + 11, "y", 0)):
        idx = np.arange(0, 10**6, 997, dtype=np.int64)
        want = rng.uniforms(key, idx)
        got = np.array([_jit.u01(np.uint64(key), np.int64(i)) for i in idx])
        np.testing.assert_array_equal(got, want)


@needs_numba
def test_numba_results_do_not_depend_on_thread_count() -> None:
    import numba

    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("only one thread available")
    p = EpsteinParams(activation="simultaneous", neighbourhood="von_neumann")
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = EpsteinSim(p, model=1, seed=3).step(60)
        numba.set_num_threads(min(4, numba.config.NUMBA_NUM_THREADS))
        many = EpsteinSim(p, model=1, seed=3).step(60)
    finally:
        numba.set_num_threads(before)
    _same_world(one, many)
    assert one.series["active"].max() > 0


def test_same_seed_same_run_and_stepping_in_chunks() -> None:
    p = EpsteinParams()
    a = EpsteinSim(p, seed=5).step(80)
    b = EpsteinSim(p, seed=5)
    for _ in range(8):
        b.step(10)
    _same_world(a, b)
    c = EpsteinSim(p, seed=6).step(80)
    assert not np.array_equal(a.series["active"], c.series["active"])


def test_numpy_backend_selected_by_environment_variable() -> None:
    code = (
        "from shatterbelt.backend import have_numba;"
        "from shatterbelt.models.epstein import EpsteinSim, EpsteinParams;"
        "s = EpsteinSim(EpsteinParams(width=16, height=16), seed=1).step(2);"
        "print(have_numba(), s.backend, int(s.series['quiet'][0]))"
    )
    env = dict(os.environ, SHATTERBELT_NO_NUMBA="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    have, backend, quiet0 = out.stdout.split()
    assert (have, backend) == ("False", "numpy")
    # placement does not depend on the back end either
    assert int(quiet0) == int(EpsteinSim(EpsteinParams(width=16, height=16), seed=1).series["quiet"][0])


# --------------------------------------------------------------------------
# invariants
# --------------------------------------------------------------------------


def _check_invariants(s: EpsteinSim, n_cit: int, n_cop: int) -> None:
    alive = s.state != K.DEAD
    cops = s.kind == K.KIND_COP
    assert int(np.count_nonzero(cops)) == n_cop
    assert int(np.count_nonzero(~cops)) == n_cit
    last = {k: int(v[-1]) for k, v in s.series.items()}
    assert last["quiet"] + last["active"] + last["jailed"] + last["dead"] == n_cit
    assert np.all(s.jail >= 0) and np.all(s.jail <= s.params.max_jail)
    assert np.all(s.jail[s.state != K.JAILED_ST] == 0)  # a term is only set on arrest and runs down in jail
    # at most one agent per cell, and occ/pos/codes agree
    pos = s.pos[alive]
    assert np.unique(pos).size == pos.size
    assert np.array_equal(s.occ[pos], np.flatnonzero(alive))
    assert int(np.count_nonzero(s.occ >= 0)) == int(alive.sum())
    grid = s.grid().ravel()
    expect = np.zeros_like(grid)
    ids = np.flatnonzero(alive)
    codes = np.where(
        cops[ids], K.COP, np.where(s.state[ids] == K.JAILED_ST, K.JAILED, 2 * s.kind[ids] + 1 + s.state[ids])
    )
    expect[s.pos[ids]] = codes
    np.testing.assert_array_equal(grid, expect)
    assert s.halo_consistent()


@pytest.mark.parametrize(
    "activation,model",
    [("sequential", 1), ("sequential", 2), ("simultaneous", 1), ("simultaneous", 2)],
)
def test_invariants_hold_every_step(activation: str, model: int) -> None:
    p = EpsteinParams(activation=activation, legitimacy=0.78, cop_density=0.06, max_jail=12)
    s = EpsteinSim(p, model=model, seed=2)
    n_cop = s.n_cops
    n_cit = s.n_agents - n_cop
    for _ in range(40):
        s.step(1)
        _check_invariants(s, n_cit, n_cop)
    series = s.series
    assert np.all(series["jailed"] >= 0)
    assert series["arrests"].sum() > 0
    if model == 1:
        assert series["dead"].max() == 0
    else:
        # deaths are permanent and add up
        assert np.all(np.diff(series["dead"]) >= 0)
        assert series["dead"][-1] == series["killed_a"].sum() + series["killed_b"].sum()


def test_placement_follows_densities() -> None:
    s = EpsteinSim(EpsteinParams(width=200, height=200, citizen_density=0.6, cop_density=0.05), seed=9)
    cells = 200 * 200
    assert abs(s.n_cops / cells - 0.05) < 0.005
    assert abs((s.n_agents - s.n_cops) / cells - 0.6) < 0.01


# --------------------------------------------------------------------------
# rules
# --------------------------------------------------------------------------


def test_neighbourhood_shapes() -> None:
    # Mesa's von Neumann diamond, NetLogo's in-radius disc (149 patches with the centre), a strict cross
    assert neighbourhood_size("von_neumann", 7) == 112
    assert neighbourhood_size("disc", 7) == 148
    assert neighbourhood_size("cross", 7) == 28
    hw = half_widths("disc", 7)
    assert hw.tolist() == [0, 3, 4, 5, 6, 6, 6, 7, 6, 6, 6, 5, 4, 3, 0]


def test_arrest_probability_discretisations() -> None:
    k = 2.3
    floor = arrest_probability_table("floor", k, 20)
    rnd = arrest_probability_table("round", k, 20)
    none = arrest_probability_table("none", k, 20)
    for c in range(21):
        for a in range(1, 22):
            assert floor[c, a] == pytest.approx(1 - np.exp(-k * (c // a)))
            assert rnd[c, a] == pytest.approx(1 - np.exp(-k * round(c / a)))  # Python's half-to-even, as Mesa
            assert none[c, a] == pytest.approx(1 - np.exp(-k * c / a))
    # the cases that separate the rules: one cop, two actives
    assert floor[1, 2] == 0.0 and rnd[1, 2] == 0.0 and none[1, 2] > 0
    assert rnd[3, 2] == pytest.approx(1 - np.exp(-2 * k))  # round(1.5) == 2
    assert floor[3, 2] == pytest.approx(1 - np.exp(-k))


def test_no_cops_and_low_legitimacy_everyone_aggrieved_rebels() -> None:
    # with no cops P = 0, so exactly the citizens with H (1 - L) > T turn active at their first step
    p = EpsteinParams(cop_density=0.0, legitimacy=0.5, movement=False)
    s = EpsteinSim(p, seed=4)
    expected = int(np.count_nonzero(s.grv.astype(np.float64) > p.threshold))
    s.step(1)
    assert int(s.series["active"][1]) == expected > 0


def _episodes(active: np.ndarray, high: int = 50, low: int = 10) -> int:
    """Outbursts (> high actives) counted once each, a new one only after a quiet spell (<= low)."""
    n, bursting = 0, False
    for x in active:
        if not bursting and x > high:
            n, bursting = n + 1, True
        elif bursting and x <= low:
            bursting = False
    return n


@long_runs
def test_punctuated_equilibrium_with_floor_and_quiet_without_discretisation() -> None:
    for seed in range(4):
        floor = run_model1(EpsteinParams(), steps=500, seed=seed).series["active"][1:]
        # repeated outbursts of more than 50 actives, separated by quiet spells, mostly quiet
        assert _episodes(floor) >= 5, seed
        assert 0.02 < np.mean(floor > 50) < 0.5, seed
        assert np.median(floor) <= 15, seed
        raw = run_model1(EpsteinParams(discretisation="none"), steps=500, seed=seed).series["active"][1:]
        assert outburst_steps(raw) == 0 and raw.max() < 40, seed


@long_runs
def test_floor_gives_more_outbursts_than_round() -> None:
    def total(disc: str) -> int:
        p = EpsteinParams.mesa_rules(discretisation=disc)
        return sum(outburst_steps(run_model1(p, steps=300, seed=s).series["active"][1:]) for s in range(10))

    assert total("floor") > 1.5 * total("round")


@long_runs
def test_model2_genocide_without_peacekeepers_and_less_killing_with_them() -> None:
    no_keep, keep = [], []
    for seed in range(5):
        r0 = run_model2(EpsteinParams(cop_density=0.0), steps=200, seed=seed).summary()
        r1 = run_model2(EpsteinParams(cop_density=0.10), steps=200, seed=seed).summary()
        for r, out in ((r0, no_keep), (r1, keep)):
            surv = min(r["alive_a_end"] / r["alive_a_start"], r["alive_b_end"] / r["alive_b_start"])
            killed = (r["killed_a"] + r["killed_b"]) / (r["alive_a_start"] + r["alive_b_start"])
            out.append((surv, killed))
    no_keep_a, keep_a = np.array(no_keep), np.array(keep)
    # without peacekeepers one group is (nearly) wiped out in every run
    assert np.all(no_keep_a[:, 0] < 0.1)
    # with enough peacekeepers both groups survive and far fewer are killed
    assert np.all(keep_a[:, 0] > 0.4)
    assert keep_a[:, 1].mean() < 0.5 * no_keep_a[:, 1].mean()


# --------------------------------------------------------------------------
# parameters, API and CLI
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kw,flag",
    [
        (dict(width=-3), "--width"),
        (dict(height=0), "--height"),
        (dict(width=10), "--width"),  # smaller than 2 x vision + 1
        (dict(citizen_density=1.2), "--citizen-density"),
        (dict(cop_density=-0.1), "--cop-density"),
        (dict(citizen_density=0.8, cop_density=0.3), "--cop-density"),
        (dict(vision=0), "--vision"),
        (dict(cop_vision=99), "--cop-vision"),
        (dict(legitimacy=1.5), "--legitimacy"),
        (dict(max_jail=-1), "--max-jail"),
        (dict(neighbourhood="moore"), "--neighbourhood"),
        (dict(discretisation="ceil"), "--discretisation"),
        (dict(activation="parallel"), "--activation"),
        (dict(threshold=float("nan")), "--threshold"),
    ],
)
def test_bad_parameters_name_the_flag(kw: dict, flag: str) -> None:
    with pytest.raises(UsageError) as err:
        EpsteinParams(**kw)
    msg = str(err.value)
    assert msg.startswith(flag + ":") and "\n" not in msg


def test_aliases_and_presets() -> None:
    p = EpsteinParams(neighbourhood="von-neumann", activation="synchronous")
    assert (p.neighbourhood, p.activation) == ("von_neumann", "simultaneous")
    m = EpsteinParams.mesa_defaults()
    assert (m.cop_density, m.legitimacy, m.max_jail, m.discretisation) == (0.074, 0.8, 1000, "round")
    with pytest.raises(UsageError, match="--model"):
        EpsteinSim(model=3)
    with pytest.raises(UsageError, match="--steps"):
        run_model1(steps=-1)


def test_result_timing_and_summary() -> None:
    r = run_model1(EpsteinParams(), steps=50, seed=1)
    assert r.steps == 50 and r.agents == r.citizens + r.cops > 0
    assert r.seconds > 0 and r.agent_steps_per_s == pytest.approx(r.agents * 50 / r.seconds)
    s = r.summary()
    assert s["mean_active"] == pytest.approx(r.series["active"][1:].mean())
    assert s["arrests"] == r.series["arrests"].sum() > 0


def _app() -> typer.Typer:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

    @app.callback()
    def _root() -> None:
        """test root (forces sub-command mode)"""

    register(app)
    return app


def test_cli_json_is_one_document_with_timing(capsys: pytest.CaptureFixture[str]) -> None:
    _app()(
        args=["epstein", "--width", "30", "--height", "30", "--steps", "20", "--seed", "3", "--json"],
        standalone_mode=False,
    )
    out = capsys.readouterr().out
    doc = json.loads(out)  # exactly one document (json.loads rejects trailing data)
    assert doc["steps"] == 20 and doc["agents"] > 0
    assert doc["seconds"] > 0 and doc["agent_steps_per_s"] > 0
    assert doc["params"]["legitimacy"] == 0.82 and doc["params"]["cop_density"] == 0.04  # NetLogo defaults
    assert len(doc["series"]["active"]) == 21
    same = run_model1(EpsteinParams(width=30, height=30), steps=20, seed=3)
    assert doc["series"]["active"] == same.series["active"].tolist()


def test_cli_model2_text_output(capsys: pytest.CaptureFixture[str]) -> None:
    _app()(
        args=["epstein", "--model", "2", "--steps", "10", "--neighborhood", "cross"], standalone_mode=False
    )
    out = capsys.readouterr().out
    assert "Model II" in out and "group A" in out and "cross" in out


@pytest.mark.parametrize(
    "args,flag",
    [
        (["--width", "-5"], "--width"),
        (["--cop-density", "1.5"], "--cop-density"),
        (["--neighbourhood", "hexagon"], "--neighbourhood"),
        (["--steps", "-1"], "--steps"),
        (["--model", "3"], "--model"),
        (["--backend", "cuda"], "--backend"),
    ],
)
def test_cli_bad_flags_raise_usage_error(args: list[str], flag: str) -> None:
    with pytest.raises(UsageError, match="^" + flag):
        _app()(args=["epstein", *args], standalone_mode=False)
