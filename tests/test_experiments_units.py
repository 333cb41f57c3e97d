"""Experiments, piece by piece: designs, statistics, scores, the power-law fit, targets and overlays.

No simulation runs here except scenario validation, so these are fast.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml

from shatterbelt.errors import ShatterbeltError, UsageError
from shatterbelt.experiments.backtest import WINDOWS, documented_targets
from shatterbelt.experiments.calibrate import calibration_targets
from shatterbelt.experiments.claims import CLAIMS, combine
from shatterbelt.experiments.design import constraint_groups, make_design, parameter_space
from shatterbelt.experiments.overlay import load_with_overlay, read_overlay
from shatterbelt.experiments.powerlaw import fit_powerlaw, sample_discrete_powerlaw
from shatterbelt.experiments.scoring import brier, crps_ensemble, crps_normal
from shatterbelt.experiments.stats import bootstrap_mean_ci, paired_effect, verdict
from shatterbelt.resolve import load_scenario


@pytest.fixture(scope="module")
def base():
    return load_scenario("iraq-2010")


# ---------------------------------------------------------------------------- designs
def test_lhs_design_is_reproducible_within_ranges_and_stratified(base):
    d1 = make_design(base, 12, "lhs", seed=5)
    d2 = make_design(base, 12, "lhs", seed=5)
    d3 = make_design(base, 12, "lhs", seed=6)
    assert np.array_equal(d1.samples, d2.samples)
    assert not np.array_equal(d1.samples, d3.samples)
    assert d1.run_seed == list(range(5, 17))
    grouped = {m for g in constraint_groups(base, d1.paths) for m in g["members"]}
    lows, highs = np.array(d1.lows), np.array(d1.highs)
    free = np.array([p not in grouped for p in d1.paths])
    assert np.all(d1.samples[:, free] >= lows[free]) and np.all(d1.samples[:, free] <= highs[free])
    # Latin hypercube: each of 12 strata of a free parameter holds exactly one sample
    j = int(np.flatnonzero(free & (highs > lows))[0])
    u = (d1.samples[:, j] - lows[j]) / (highs[j] - lows[j])
    assert sorted(np.minimum((u * 12).astype(int), 11).tolist()) == list(range(12))


def test_design_replicates_samples_over_seeds(base):
    d = make_design(base, 6, "lhs", samples=3, seed=0)
    assert d.run_sample == [0, 1, 2, 0, 1, 2]
    assert len(set(d.run_seed)) == 6
    assert make_design(base, 4, "none").overrides(0) == ()


def test_compositions_keep_their_sums(base):
    d = make_design(base, 16, "lhs", seed=1)
    groups = constraint_groups(base, d.paths)
    assert groups, "the default scenario has compositions (shares, seats)"
    pos = {p: i for i, p in enumerate(d.paths)}
    for g in groups:
        block = d.samples[:, [pos[m] for m in g["members"]]]
        assert np.allclose(block.sum(1), g["sum"], atol=1e-4)
        if g["integer"]:
            assert np.all(block == np.round(block))


def test_levers_a_variant_pins_are_not_sampled():
    sc = load_scenario("iraq-2010+unified-army")
    paths = {p["path"] for p in parameter_space(sc)}
    assert "army.infiltration" not in paths
    assert "army.infiltration" in {p["path"] for p in parameter_space(load_scenario("iraq-2010"))}


def test_bad_design_arguments(base):
    with pytest.raises(UsageError, match="--runs"):
        make_design(base, 0)
    with pytest.raises(UsageError, match="--sample"):
        make_design(base, 2, "sobol")
    with pytest.raises(UsageError, match="--vary"):
        make_design(base, 2, "lhs", vary=["no.such.*"])


# ---------------------------------------------------------------------------- statistics
def test_bootstrap_interval_and_paired_effect():
    assert bootstrap_mean_ci(np.full(7, 3.0)) == (3.0, 3.0)
    rng = np.random.default_rng(0)
    x = rng.normal(1.0, 1.0, 400)
    lo, hi = bootstrap_mean_ci(x)
    assert lo < x.mean() < hi and hi - lo < 0.25
    e = paired_effect(np.array([1.0, 2, 3, np.nan]), np.array([2.0, 3, 4, 9]))
    assert e.n == 3 and e.effect == 1.0 and e.lo == e.hi == 1.0 and e.share_positive == 1.0


def test_verdict_rules():
    assert verdict(0.1, 0.5, +1) == "supported"
    assert verdict(0.1, 0.5, -1) == "contradicted"
    assert verdict(-0.1, 0.5, +1) == "inconclusive"
    assert verdict(0.0, 0.0, +1) == "inconclusive"
    assert verdict(2.5, 3.0, +1, threshold=2) == "supported"
    assert verdict(1.0, 1.5, +1, threshold=2) == "contradicted"
    assert combine(["supported", "inconclusive"]) == "supported"
    assert combine(["supported", "contradicted"]) == "inconclusive"
    assert combine(["contradicted", "inconclusive"]) == "contradicted"


def test_eight_claims_each_with_an_essay_sentence_and_metrics():
    assert [c.id for c in CLAIMS] == [f"C{i}" for i in range(1, 9)]
    for c in CLAIMS:
        assert len(c.sentence) > 30 and c.metrics
    assert CLAIMS[6].counterfactual is None  # C7 looks at the baseline alone


# ---------------------------------------------------------------------------- scores
def test_crps_ensemble_matches_its_definition():
    rng = np.random.default_rng(3)
    x = rng.normal(size=60)
    y = 0.3
    brute = np.abs(x - y).mean() - 0.5 * np.abs(x[:, None] - x[None, :]).mean()
    assert crps_ensemble(x, y) == pytest.approx(brute, rel=1e-12)


def test_crps_normal_matches_a_large_ensemble_and_brier():
    rng = np.random.default_rng(4)
    x = rng.normal(1.0, 2.0, 20000)
    assert crps_normal(1.0, 2.0, 2.5) == pytest.approx(crps_ensemble(x, 2.5), rel=0.03)
    assert brier(0.8, True) == pytest.approx(0.04) and brier(0.8, False) == pytest.approx(0.64)


# ---------------------------------------------------------------------------- power law
def test_powerlaw_fit_recovers_the_exponent_and_xmin():
    rng = np.random.default_rng(11)
    x = sample_discrete_powerlaw(2.5, 1, 6000, rng)
    f = fit_powerlaw(x)
    assert f is not None and abs(f.alpha - 2.5) < 0.08 and f.xmin <= 2
    body = rng.integers(1, 4, 4000)
    mix = np.concatenate([body, sample_discrete_powerlaw(2.2, 6, 4000, rng)])
    g = fit_powerlaw(mix)
    assert g is not None and 4 <= g.xmin <= 9 and abs(g.alpha - 2.2) < 0.12
    assert fit_powerlaw(np.array([1, 2, 3])) is None


# ---------------------------------------------------------------------------- targets, cut-off, overlays
def test_documented_targets_split_windows_and_score_2010_on_july_december():
    targets, info = documented_targets("2010-07", "2014-12")
    by = {t.key: t for t in targets}
    assert by["ibc_2010"].observed == 2022 and by["ibc_2010"].months == 6
    assert by["ibc_2013"].observed == 9852 and by["ibc_2013"].window == WINDOWS[1]
    assert by["ucdp_2012"].window == WINDOWS[0] and "ucdp_2010" not in by
    assert by["war_2014"].observed == 1.0 and by["war_2012"].observed == 0.0
    assert info["sigma_1"] > 0
    for t in targets:
        if t.kind == "deaths":
            assert set(t.baselines) == {"no-change", "persistence", "trend"}


def test_calibration_refuses_targets_after_the_cutoff():
    ok = calibration_targets("2010-07", "2012-12", None)
    assert {t.year for t in ok} == {2010, 2011, 2012}
    with pytest.raises(UsageError, match="after the cut-off"):
        calibration_targets("2010-07", "2012-12", ["ibc_2013"])
    with pytest.raises(UsageError, match="after the cut-off"):
        calibration_targets("2010-07", "2011-12", ["ucdp_2012"])
    with pytest.raises(UsageError, match="out-of-sample"):
        calibration_targets("2010-07", "2013-12", None)


def test_overlay_sets_value_range_and_source(tmp_path):
    f = tmp_path / "cal.yaml"
    src = "calibrated (<=2012): test"
    f.write_text(yaml.safe_dump({"overlay": "calibration", "cutoff": "2012-12", "parameters": {
        "parameters.violence.rate_insurgency": {"value": 123.0, "range": [100.0, 150.0], "source": src}}}))
    sc = load_with_overlay("iraq-2010", f)
    p = sc.parameters["violence"]["rate_insurgency"]
    assert (p.value, tuple(p.range), p.source, p.provenance_kind) == (123.0, (100.0, 150.0), src, "calibrated (<=2012)")
    late = tmp_path / "late.yaml"
    late.write_text(yaml.safe_dump({"overlay": "calibration", "cutoff": "2013-06", "parameters": {"x": 1}}))
    with pytest.raises(UsageError, match="out-of-sample"):
        read_overlay(late)
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"parameters": {"no.such.param": 1}}))
    with pytest.raises(ShatterbeltError):
        load_with_overlay("iraq-2010", bad)
    assert math.isfinite(p.value)
