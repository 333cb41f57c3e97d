"""The event-size check: a power law against a lognormal (Clauset, Shalizi & Newman's likelihood ratio)."""

from __future__ import annotations

import numpy as np

from shatterbelt.experiments.powerlaw import compare_lognormal, fit_powerlaw, sample_discrete_powerlaw


def test_power_law_draws_are_not_called_lognormal() -> None:
    x = sample_discrete_powerlaw(2.5, 1, 4000, np.random.default_rng(1))
    fit = fit_powerlaw(x, min_tail=50)
    lr = compare_lognormal(x, fit)
    assert fit is not None and lr is not None
    assert 2.3 < fit.alpha < 2.7
    assert not lr.verdict.startswith("lognormal")


def test_lognormal_draws_are_told_apart_from_a_power_law() -> None:
    rng = np.random.default_rng(2)
    x = np.floor(rng.lognormal(3.0, 0.6, 5000)).astype(int) + 1
    fit = fit_powerlaw(x, xmin=5)
    lr = compare_lognormal(x, fit)
    assert lr is not None and lr.R < 0 and lr.p_value < 0.01
    assert lr.verdict.startswith("lognormal favoured")
    assert 2.7 < lr.lognormal_mu < 3.3 and 0.45 < lr.lognormal_sigma < 0.75
