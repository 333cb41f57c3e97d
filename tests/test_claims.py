"""Claims as pre-registered tests: the verdict needs the interval to clear a minimum effect.

Unit level (synthetic pairs): a real but tiny effect is inconclusive, a large one supported, a large
one of the wrong sign contradicted; one pair is refused.  End to end: C5 ("leaders buy their remaining
in the political game with more loyalty to foreign parties") can come out contradicted -- on a designed
Tinyland where the PM's patron backs moves against rival leaders, patron money pushes leaders out.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from shatterbelt.errors import UsageError
from shatterbelt.experiments.claims import (
    CLAIMS,
    PROB,
    REL_COUNT,
    RULE,
    ClaimMetric,
    assess,
    combine,
    evaluate,
    pairs_warning,
)
from shatterbelt.experiments.ensemble import Ensemble
from shatterbelt.experiments.stats import bootstrap_mean_ci, verdict_reason

DATA = Path(__file__).parent / "data"
DEATHS = ClaimMetric("deaths.total", "deaths", -1, REL_COUNT)  # the essay predicts fewer deaths in B


def _pairs(effect: float, n: int = 40, sd: float = 50.0, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.normal(10_000.0, 2_000.0, n)  # the essay's world: about 10,000 deaths, run to run spread
    b = a + effect + rng.normal(0.0, sd, n)  # the counterfactual, paired (common random numbers)
    return a, b


def test_a_real_but_tiny_effect_is_inconclusive() -> None:
    a, b = _pairs(-200.0)  # 2% fewer deaths, measured precisely: real, but under the 10% minimum
    r = assess(DEATHS, a, b)
    assert r.hi < 0  # the effect is real: the interval excludes zero
    assert r.min_effect == pytest.approx(0.10 * a.mean())
    assert r.verdict == "inconclusive" and "too small" in r.reason


def test_a_large_effect_is_supported_and_its_mirror_contradicted() -> None:
    a, b = _pairs(-3_000.0)
    r = assess(DEATHS, a, b)
    assert r.verdict == "supported" and r.hi < -r.min_effect
    assert r.effect == pytest.approx(float((b - a).mean()))  # sign convention: B - A
    r2 = assess(DEATHS, a, a + 3_000.0 + (b - a - (b - a).mean()))
    assert r2.verdict == "contradicted" and r2.lo > r2.min_effect


def test_an_effect_whose_interval_reaches_into_the_band_is_inconclusive() -> None:
    a, b = _pairs(-1_000.0, sd=2_500.0, seed=2)
    r = assess(DEATHS, a, b)
    assert r.lo < -r.min_effect < r.hi and r.verdict == "inconclusive"


def test_probability_metric_uses_an_absolute_minimum() -> None:
    m = ClaimMetric("civil_war.from_2012", "P(civil war)", -1, PROB)
    a = np.ones(40)
    b = np.r_[np.zeros(20), np.ones(20)]  # a civil war in half the counterfactual runs: -0.5
    r = assess(m, a, b)
    assert r.min_effect == 0.10 and r.verdict == "supported"
    b2 = np.r_[np.zeros(2), np.ones(38)]  # -0.05: at most a tenth
    assert assess(m, a, b2).verdict == "inconclusive"


def test_a_single_pair_is_refused_and_few_pairs_warn() -> None:
    with pytest.raises(UsageError, match="single pair"):
        assess(DEATHS, np.array([1.0]), np.array([2.0]))
    with pytest.raises(UsageError, match="single pair"):
        bootstrap_mean_ci(np.array([3.0]))
    assert pairs_warning(8) is not None and "20" in pairs_warning(8)
    assert pairs_warning(20) is None


def test_bca_interval_covers_the_mean_and_is_exact_for_constant_pairs() -> None:
    assert bootstrap_mean_ci(np.full(5, 2.0)) == (2.0, 2.0)
    rng = np.random.default_rng(0)
    x = rng.exponential(1.0, 60)
    lo, hi = bootstrap_mean_ci(x)
    assert lo < x.mean() < hi and hi - lo < 1.0
    assert bootstrap_mean_ci(x) == (lo, hi)  # reproducible
    assert verdict_reason(0.0, 0.0, +1, min_effect=0.1) == ("inconclusive", "no effect: the paired runs are identical")


def test_every_metric_is_preregistered_with_a_minimum_effect_and_reason() -> None:
    names = set()
    for c in CLAIMS:
        for m in c.metrics:
            size, _, why = m.min_effect
            assert size >= 0 and len(why) > 20 and m.direction in (-1, 1)
            names.add(m.name)
    # metrics that cannot fail or measure nothing are gone
    assert not names & {"leaders.in_game", "patron_influence.total_final"}
    c2 = next(c for c in CLAIMS if c.id == "C2")
    assert (c2.world, c2.counterfactual) == ("scripted-government", "fast-government")  # same government in both
    assert "at least one" in RULE and combine(["supported", "contradicted"]) == "inconclusive"


# ---------------------------------------------------------------------------- C5 on a designed scenario
def _designed(tmp: Path) -> tuple[str, str]:
    """Tinyland whose PM's patron (east) may back moves against rival leaders, and its no-patrons twin."""
    raw = yaml.safe_load((DATA / "tiny-politics.yaml").read_text(encoding="utf-8"))
    raw["name"] = "tiny-c5"
    for p in raw["politics"]["patrons"]:
        if p["id"] == "east":
            p["leverage"]["pa"] = {"value": 0.5, "range": [0.5, 0.5], "source": "assumption"}
            p["marginalization_stance"] = {"value": 0.0, "range": [-1.0, 1.0], "source": "assumption"}
    raw["politics"]["marginalization"] = {
        "base_rate": {"value": 0.1, "range": [0.1, 0.1], "source": "assumption"},
        "backing_coef": {"value": 3.0, "range": [3.0, 3.0], "source": "assumption"},
    }
    world = tmp / "tiny-c5.yaml"
    world.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    for p in raw["patrons"]:
        p["budget"] = {"value": 0, "range": [0, 0], "source": "assumption"}
    raw["name"] = "tiny-c5-no-patrons"
    cf = tmp / "tiny-c5-no-patrons.yaml"
    cf.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return str(world), str(cf)


def test_c5_comes_out_contradicted_where_the_patron_backs_moves_against_rivals(tmp_path: Path) -> None:
    world, cf = _designed(tmp_path)
    c5 = next(c for c in CLAIMS if c.id == "C5")
    stance = "politics.patrons.east.marginalization_stance"
    ens = Ensemble([world, cf], runs=24, out=tmp_path / "ens", sample="lhs", samples=6, scale=0.01,
                   vary=[stance], panel="none", events=False, kind="claims")
    res = ens.run(workers=1, progress=False)
    try:
        [r] = evaluate(res, [c5], arms={"C5": (world, cf)})
        values = {s.sample: dict(ens.design.overrides(s.index))[stance] for s in res.specs}
    finally:
        res.close()
    pushed = next(m for m in r.metrics if m.metric == "marginalization_events.count")
    assert r.n_samples == 6 and pushed.n == 24
    # with patron money the PM's bloc moves against its rival more often where east backs such moves:
    # the per-sample verdicts are contradicted for the most backing draws, never for the most restraining
    order = sorted(range(6), key=lambda j: values[j])
    verdicts = [pushed.per_sample[j] for j in order]
    assert "contradicted" in verdicts[3:]
    assert verdicts[0] != "contradicted"
    assert r.verdict in {"contradicted", "inconclusive", "supported"}
    assert 0.0 <= r.share <= 1.0


def test_the_report_renders_the_claims_document() -> None:
    from shatterbelt.experiments.claims import ClaimResult, claims_json
    from shatterbelt.report.html import _claims_tests_section

    c1 = next(c for c in CLAIMS if c.id == "C1")
    a, b = _pairs(-3_000.0)
    m = assess(ClaimMetric("deaths.from_2012", "deaths 2012-14", -1, REL_COUNT), a, b)
    doc = claims_json([ClaimResult(c1, "iraq-2010", "iraq-2010+us-stays", [m], combine([m.verdict]), 1.0, 20, 2)])
    assert doc["rows"][0]["verdict"] == "supported" and doc["claims"][0]["rule"] == RULE
    html = _claims_tests_section(doc)
    assert "deaths 2012-14" in html and 'class="v-supported"' in html and "B - A" in html
