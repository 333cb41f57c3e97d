"""ABC-SMC's weighting maths, the posterior summaries, and the refusals (fast: one small calibration on tiny)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from shatterbelt.errors import UsageError
from shatterbelt.experiments.calibrate import (
    MIN_ESS,
    check_ess,
    ess,
    kernel_cov,
    perturb,
    run_calibration,
    smc_weights,
    weighted_quantile,
)

TINY = str(Path(__file__).parent / "data" / "tiny.yaml")


def test_importance_weights_turn_kernel_proposals_back_into_the_prior() -> None:
    # proposals from the weighted mixture of kernels around a previous population, restricted to the prior's
    # box, weighted by prior / sum_j w_j K(theta | theta_j): the weighted sample must have the prior's moments
    lows, highs = np.array([0.0, -1.0]), np.array([10.0, 1.0])
    prev = np.array([[1.0, -0.5], [3.0, 0.0], [4.0, 0.6], [8.0, 0.2], [6.0, -0.9]])
    w_prev = np.array([0.1, 0.4, 0.2, 0.2, 0.1])
    cov = kernel_cov(prev, w_prev, lows, highs)
    rng = np.random.default_rng(3)
    theta = perturb(rng, prev, w_prev, cov, lows, highs, 40_000)
    assert np.all((theta >= lows) & (theta <= highs))
    assert abs(theta[:, 0].mean() - 5.0) > 0.2  # the proposals themselves are not the prior
    w = smc_weights(theta, prev, w_prev, cov, lows, highs)
    assert w.sum() == pytest.approx(1.0)
    mean = w @ theta
    var = w @ (theta - mean) ** 2
    assert mean == pytest.approx([5.0, 0.0], abs=0.12)
    assert var == pytest.approx([100 / 12, 4 / 12], rel=0.06)
    assert weighted_quantile(theta[:, 0], w, 0.25)[0] == pytest.approx(2.5, abs=0.2)


def test_weighted_quantiles_and_effective_sample_size() -> None:
    x = np.arange(1.0, 101.0)
    assert weighted_quantile(x, np.ones(100), 0.5)[0] == pytest.approx(50.5)
    # integer weights act as repeated draws
    xs = np.array([1.0, 2.0, 3.0])
    assert weighted_quantile(xs, np.array([1.0, 0.0, 3.0]), [0.5])[0] == pytest.approx(
        np.quantile([1, 3, 3, 3], 0.5), abs=0.5)
    assert ess(np.ones(30)) == pytest.approx(30.0)
    assert ess(np.r_[1.0, np.zeros(9)]) == pytest.approx(1.0)
    assert ess(np.r_[np.ones(10), np.full(10, 3.0)]) == pytest.approx(16.0)  # (10 + 30)^2 / (10 + 90)


def test_a_posterior_from_too_few_effective_draws_is_refused(tmp_path: Path) -> None:
    assert check_ess(np.ones(MIN_ESS), tmp_path) == pytest.approx(MIN_ESS)
    with pytest.raises(UsageError, match="effective draws") as e:
        check_ess(np.r_[np.ones(25), np.full(5, 20.0)], tmp_path)
    assert "\n" not in str(e.value)
    with pytest.raises(UsageError, match="use at least --runs 100"):
        run_calibration(60, tmp_path / "few", scenario=TINY, until="2011-12", accept=0.2)
    assert not (tmp_path / "few").exists()


@pytest.mark.slow  # about 20 s: 52 runs
def test_a_small_calibration_on_tiny_reports_a_weighted_posterior_and_a_predictive_check(tmp_path: Path) -> None:
    obs = {"ibc_2010": 100.0, "ibc_2011": 700.0, "ucdp_2011": 250.0}  # synthetic targets for Tinyland
    cal = run_calibration(24, tmp_path / "c", scenario=TINY, until="2011-12", accept=0.9, rounds=2, scale=0.01,
                          params=["parameters.violence.rate_insurgency"], observed=obs, ppc=4, workers=1,
                          progress=False)
    r1, r2 = cal.rounds
    assert r1["accepted"] == r2["accepted"] == 22  # the 0.9 x 24 closest draws of each round
    assert r1["ess"] == pytest.approx(22)  # round 1: equal weights
    assert r2["ess"] <= 22 and r2["tolerance"] > 0
    p = cal.params[0]
    assert 70 <= p["posterior_5"] <= p["posterior_median"] <= p["posterior_95"] <= 400
    assert cal.ess >= MIN_ESS
    draws = json.loads((tmp_path / "c" / "posterior.json").read_text())
    assert len(draws) == cal.accepted and sum(d["weight"] for d in draws) == pytest.approx(1.0)
    assert cal.check["runs"] == 4 and [t["observed"] for t in cal.check["targets"]] == list(obs.values())
    assert all(t["source"].startswith("synthetic") for t in cal.targets)
    with pytest.raises(UsageError, match="observed.ibc_2013"):
        run_calibration(24, tmp_path / "bad", scenario=TINY, until="2011-12", accept=0.9, observed={"ibc_2013": 1.0})
