"""Scenario discovery: PRIM finds a planted box; outcome expressions are parsed safely."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shatterbelt.cli.main import main
from shatterbelt.errors import UsageError
from shatterbelt.experiments.discover import outcome_mask, parse_outcome, prim
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
