"""Scenario discovery: PRIM finds a planted box; outcome expressions are parsed safely."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from shatterbelt.cli.main import main
from shatterbelt.errors import UsageError
from shatterbelt.experiments.discover import bh_adjust, discover_arrays, outcome_mask, parse_outcome, prim
from shatterbelt.experiments.store import Snapshot

TINY_YAML = str(Path(__file__).parent / "data" / "tiny.yaml")
LEVERS = ["parameters.legitimacy.base", "parameters.economy.reserve_months", "population.fighting_age_share"]


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("disc") / "ens"
    vary = [a for v in LEVERS for a in ("--vary", v)]
    assert main(["ensemble", TINY_YAML, "--runs", "24", "--sample", "lhs", *vary, "--scale", "0.02",
                 "--until", "2011-03", "--workers", "1", "--quiet", "--no-report", "--out", str(out)]) == 0
    return out


def test_prim_recovers_a_planted_box() -> None:
    rng = np.random.default_rng(0)
    X = rng.random((600, 5))
    y = (X[:, 2] > 0.7) & (X[:, 4] < 0.5)
    r = prim(X, y, [f"x{i}" for i in range(5)])
    box = r.trajectory[r.chosen]
    assert box["density"] >= 0.8 and box["coverage"] >= 0.7
    lim = {x["parameter"]: x for x in r.limits}
    assert {"x2", "x4"} <= set(lim)
    assert 0.6 < lim["x2"]["low"] < 0.8 and 0.45 < lim["x4"]["high"] < 0.7  # density 0.8 allows some slack
    assert lim["x2"]["qp_value"] < 0.01
    # coverage never rises along the trajectory and mass falls
    cov = [t["coverage"] for t in r.trajectory]
    mass = [t["mass"] for t in r.trajectory]
    assert all(a >= b - 1e-12 for a, b in zip(cov, cov[1:], strict=False))
    assert all(a > b for a, b in zip(mass, mass[1:], strict=False))


def test_discover_runs_with_its_defaults_on_a_small_ensemble(small: Path, capsys) -> None:
    rc = main(["discover", str(small), "--json"])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    doc = json.loads(cap.out)
    assert doc["outcome"].startswith("civilian_deaths_2011 >= 2 * civilian_deaths_2010")
    assert doc["runs"] == 24 and doc["trajectory"] and set(doc["parameters"]) == set(LEVERS)
    rc = main(["discover", str(small)])
    assert rc == 0 and "peeling trajectory" in capsys.readouterr().out


def test_discover_finds_a_box_planted_on_a_parameter(small: Path, capsys) -> None:
    rc = main(["discover", str(small), "--outcome", "parameters.legitimacy.base > 0.6", "--threshold", "1",
               "--json"])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    doc = json.loads(cap.out)
    assert doc["box"]["density"] == 1.0 and doc["box"]["coverage"] == 1.0
    (lim,) = [x for x in doc["limits"] if x["parameter"] == "parameters.legitimacy.base"]
    assert lim["low"] > 0.6 and lim["high"] == lim["data_high"] and lim["qp_value"] < 0.05


def test_parameters_table_has_a_column_per_sampled_parameter(small: Path) -> None:
    with Snapshot(small) as snap:
        df = snap.query("SELECT * FROM parameters ORDER BY run_index")
        runs = snap.query("SELECT overrides FROM runs ORDER BY run_index")
    assert sorted(df.columns[5:]) == sorted(LEVERS) and len(df) == 24
    first = dict(json.loads(runs["overrides"][0]))
    assert df.loc[0, LEVERS[0]] == pytest.approx(first[LEVERS[0]])


@pytest.mark.parametrize(("expr", "needle"), [
    ("army.colapses > 0", "unknown metric 'army.colapses'; did you mean army_collapses.count"),
    ("__import__('os')", "cannot read"),
    ("open(deaths.total)", "unknown function 'open'"),
    ("deaths.total >", "ends too early"),
    ("deaths.total ; 1", "cannot read ';"),
    ("(deaths.total > 1", "expected ')'"),
    ("quantile(deaths.total)", "takes 2 argument"),
])
def test_bad_outcomes_are_one_line_errors(expr: str, needle: str) -> None:
    m = pd.DataFrame({"deaths.total": [1.0, 5.0], "army_collapses.count": [0.0, 2.0]})
    with pytest.raises(UsageError) as e:
        outcome_mask(expr, m)
    assert needle in str(e.value) and "\n" not in str(e.value)


def test_outcome_expressions_evaluate_per_run() -> None:
    m = pd.DataFrame({"civilian_deaths_by_year.2012": [10.0, 10.0, 10.0, np.nan],
                      "civilian_deaths_by_year.2014": [25.0, 15.0, 20.0, 30.0],
                      "army_collapses.count": [0.0, 1.0, 0.0, 0.0], "civil_war.any": [1.0, 0.0, 1.0, 1.0]})
    y, ok, used = outcome_mask("civilian_deaths_2014 >= 2 * civilian_deaths_2012", m)
    assert y.tolist() == [True, False, True, False] and ok.tolist() == [True, True, True, False]
    assert used["civilian_deaths_2014"] == "civilian_deaths_by_year.2014"
    y, _, _ = outcome_mask("army.collapses > 0 or not civil_war.any", m)
    assert y.tolist() == [False, True, False, False]
    y, _, _ = outcome_mask("5 < `civilian_deaths_by_year.2014` <= median(civilian_deaths_2014)", m)
    assert y.tolist() == [False, True, True, False]
    assert parse_outcome("-(1 + 2) * 3 / 4 != 0").op == "cmp"


# ---------------------------------------------------------------------------- not overfitting
def _planted(seed: int, noise_dims: int = 100, n: int = 300) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``n`` runs over one planted lever x0 and ``noise_dims`` noise parameters; the outcome holds in
    80 % of the runs with x0 > 0.7 and 15 % of the others."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, noise_dims + 1))
    u = rng.random(n)
    y = np.where(X[:, 0] > 0.7, u < 0.8, u < 0.15)
    return X, y, [f"x{i}" for i in range(noise_dims + 1)]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_box_restricts_only_the_planted_lever_among_100_noise_parameters(seed: int) -> None:
    X, y, names = _planted(seed)
    features, r = discover_arrays(X, y, names)
    assert features[0]["parameter"] == "x0" and features[0]["q_value"] < 1e-6
    assert features[0]["median_outcome"] > features[0]["median_rest"]
    assert r.candidates == ["x0"]
    (lim,) = r.limits
    assert lim["parameter"] == "x0" and 0.6 < lim["low"] < 0.8 and lim["high"] == lim["data_high"]
    assert lim["qp_value"] <= r.qp_max and lim["qp_high"] is None
    assert r.box is not None and r.box["restricted"] == ["x0"] and r.box["density"] > 0.7
    # plain PRIM over every parameter, keeping every limit, is what overfits
    raw = prim(X, y, names, qp_max=1.0)
    assert len(raw.limits) > 5


def test_two_planted_levers_give_a_two_limit_box() -> None:
    rng = np.random.default_rng(7)
    X = rng.random((300, 102))
    u = rng.random(300)
    y = np.where((X[:, 0] > 0.5) & (X[:, 1] < 0.5), u < 0.9, u < 0.05)
    _, r = discover_arrays(X, y, [f"x{i}" for i in range(102)])
    lim = {x["parameter"]: x for x in r.limits}
    assert set(lim) == {"x0", "x1"}
    assert 0.4 < lim["x0"]["low"] < 0.6 and 0.4 < lim["x1"]["high"] < 0.6
    assert all(x["qp_value"] <= 0.05 for x in r.limits)


def test_a_noise_only_outcome_gives_no_box_in_one_line() -> None:
    X, _, names = _planted(3)
    y = np.random.default_rng(99).random(300) < 0.35
    features, r = discover_arrays(X, y, names)
    assert all(f["q_value"] > 0.05 for f in features)
    assert r.chosen is None and r.box is None and r.limits == []
    assert r.reason.startswith("no box with significant limits") and "\n" not in r.reason
    # forcing PRIM onto every noise parameter: whatever survives has significant limits only
    _, forced = discover_arrays(X, y, names, prim_params=["x*"])
    assert all(x["qp_value"] <= forced.qp_max for x in forced.limits)


def test_benjamini_hochberg_matches_scipy() -> None:
    p = np.array([0.01, 0.04, 0.03, 0.5, 0.001, 0.2])
    assert bh_adjust(p) == pytest.approx(stats.false_discovery_control(p, method="bh"))
    assert bh_adjust(np.array([0.01, 0.04, 0.03, 0.5])) == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.5])


def test_pasting_does_not_lose_coverage_or_density() -> None:
    X, y, names = _planted(0, noise_dims=3)
    _, plain = discover_arrays(X, y, names, peel_alpha=0.1)
    _, pasted = discover_arrays(X, y, names, peel_alpha=0.1, paste=True)
    assert plain.box is not None and pasted.box is not None and pasted.pasted
    assert pasted.box["coverage"] >= plain.box["coverage"]
    assert pasted.box["density"] >= plain.box["density"] - 1e-12


def test_feature_table_and_params_on_an_ensemble(small: Path, capsys) -> None:
    lev = "parameters.legitimacy.base"
    rc = main(["discover", str(small), "--outcome", f"{lev} > 0.6", "--top", "2"])
    out = capsys.readouterr().out
    assert rc == 0 and "feature scores" in out and out.index("feature scores") < out.index("peeling trajectory")
    assert f"PRIM over 1 parameter(s) with q <= 0.05: {lev}" in out
    rc = main(["discover", str(small), "--outcome", f"{lev} > 0.6", "--params", "parameters.economy.*", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0 and doc["prim_parameters"] == ["parameters.economy.reserve_months"]
    assert doc["features"][0]["parameter"] == lev and doc["features"][0]["ks_d"] == 1.0
    assert all(x["parameter"] == "parameters.economy.reserve_months" for x in doc["limits"])


@pytest.mark.parametrize(("args", "needle"), [
    (["--params", "parameters.nope.*"], "error: --params: no sampled parameter"),
    (["--fdr", "0"], "error: --fdr: must be in (0, 1]"),
    (["--qp-max", "2"], "error: --qp-max: must be in (0, 1]"),
    (["--top", "0"], "error: --top: must be at least 1"),
])
def test_bad_discover_flags_are_one_line_errors(small: Path, capsys, args: list[str], needle: str) -> None:
    rc = main(["discover", str(small), "--outcome", "parameters.legitimacy.base > 0.6", *args])
    err = capsys.readouterr().err
    assert rc == 2 and needle in err and len(err.strip().splitlines()) == 1
