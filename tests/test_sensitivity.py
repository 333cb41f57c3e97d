"""Sensitivity: groups (compositions together), designs sized by default, several seeds, outcomes that vary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shatterbelt.cli.main import main
from shatterbelt.errors import UsageError
from shatterbelt.experiments.design import constraint_groups
from shatterbelt.experiments.sensitivity import (
    DEFAULT_OUTCOMES,
    OUTCOMES,
    build_problem,
    design_size,
    group_of,
)
from shatterbelt.resolve import load_scenario

TINY = str(Path(__file__).parent / "data" / "tiny.yaml")


def test_parameters_are_grouped_by_model_part_and_compositions_stay_together() -> None:
    assert group_of("parameters.violence.rate_insurgency", "module") == "parameters.violence"
    assert group_of("politics.scheduled_elections[0].turnout", "module") == "politics.scheduled_elections"
    assert group_of("actors.aqi.size", "module") == "actors"
    assert group_of("actors.aqi.size", "parameter") == "actors.aqi.size"
    sc = load_scenario("iraq-2010")
    for grouping in ("module", "parameter"):
        pr = build_problem(sc, None, grouping)
        group = dict(zip(pr["names"], pr["groups"], strict=True))
        comps = constraint_groups(sc, pr["names"])
        assert comps
        for g in comps:  # every composition's members share one group
            assert len({group[m] for m in g["members"]}) == 1
        assert len(set(pr["groups"])) < len(pr["names"])
    assert len(set(build_problem(sc, None, "module")["groups"])) < 40  # a screening the default budget affords


def test_the_default_design_is_sized_from_itself_and_a_budget_too_small_is_refused() -> None:
    assert design_size("morris", 27, None, None, None, 2) == 4
    assert design_size("sobol", 27, None, None, None, 2) == 16
    assert design_size("morris", 10, 200, None, None, 2) == 9  # 200 // (11 x 2)
    assert design_size("sobol", 10, 400, None, None, 2) == 16  # 16 x 12 x 2 = 384 <= 400
    with pytest.raises(UsageError, match="at least 44 runs"):
        design_size("morris", 10, 30, None, None, 2)
    with pytest.raises(UsageError, match="--groups"):
        build_problem(load_scenario(TINY), ["economy.*"], "oops")


def test_default_outcomes_are_continuous() -> None:
    assert "civil_war" not in DEFAULT_OUTCOMES
    assert all(OUTCOMES[o] in {"deaths.total", "microstates.mean", "displaced.new_total"} for o in DEFAULT_OUTCOMES)


@pytest.mark.slow  # about 20 s: the default design on Tinyland (16 groups x 4 trajectories x 2 seeds)
def test_plain_sensitivity_runs_with_its_defaults(tmp_path: Path, capsys) -> None:
    out = tmp_path / "sa"
    rc = main(["sensitivity", TINY, "--until", "2010-12", "--workers", "1", "--quiet", "--json", "--out", str(out)])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    doc = json.loads(cap.out)
    assert doc["method"] == "morris" and doc["seeds_per_point"] == 2 and doc["grouping"] == "module"
    assert doc["runs"] == doc["design_points"] * 2 == (doc["groups"] + 1) * 4 * 2
    assert set(doc["outcomes"]) == {"deaths.total", "microstates.mean", "displaced.new_total"} - set(
        doc["constant_outcomes"])
    deaths = doc["outcomes"]["deaths.total"]
    assert len(deaths) == doc["groups"] and deaths[0]["mu_star"] > 0
    assert 0 <= doc["seed_noise_share"]["deaths.total"] <= 1
    groups = json.loads((out / "groups_morris.json").read_text())
    assert sum(len(v) for v in groups.values()) == doc["parameters"]
    # the deprecated --scenario still works, with a warning
    rc = main(["sensitivity", "--scenario", TINY, "--until", "2010-12", "--workers", "1", "--quiet", "--json",
               "--out", str(out)])
    cap = capsys.readouterr()
    assert rc == 0 and "deprecated" in cap.err and json.loads(cap.out)["runs"] == doc["runs"]


def test_sobol_on_the_top_groups_of_a_morris_screen(tmp_path: Path, capsys) -> None:
    common = [TINY, "--groups", "parameter", "--vary", "parameters.violence.rate_*", "--seeds", "1", "--until",
              "2010-12", "--outcome", "deaths", "--workers", "1", "--quiet", "--json", "--out", str(tmp_path)]
    assert main(["sensitivity", *common, "--trajectories", "2"]) == 0
    morris = json.loads(capsys.readouterr().out)
    top = [r["group"] for r in morris["outcomes"]["deaths.total"][:2]]
    assert main(["sensitivity", *common, "--method", "sobol", "--top", "2", "--base", "4"]) == 0
    sobol = json.loads(capsys.readouterr().out)
    assert sobol["runs"] == 4 * (2 + 2) and {r["group"] for r in sobol["outcomes"]["deaths.total"]} == set(top)
    assert main(["sensitivity", *common, "--method", "sobol", "--base", "3"]) == 2
    assert "power of two" in capsys.readouterr().err
