"""``shatterbelt crosscase A B``: two scenarios side by side, the parameters that differ, and the
channels removed from the escalating case."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shatterbelt.cli.main import main
from shatterbelt.experiments.crosscase import CHANNELS, channel_overrides, differing_parameters, run_crosscase
from shatterbelt.resolve import load_scenario

TINY = Path(__file__).parent / "data" / "tiny.yaml"


@pytest.fixture
def two_cases(tmp_path: Path) -> tuple[str, str]:
    """Tinyland and a copy with a larger insurgency (a second 'country' that differs in one input)."""
    text = TINY.read_text(encoding="utf-8")
    other = tmp_path / "tiny2.yaml"
    other.write_text(text.replace("name: tiny\n", "name: tiny2\n", 1)
                     .replace("fighting_age_share: {value: 0.25", "fighting_age_share: {value: 0.27", 1),
                     encoding="utf-8")
    return str(TINY), str(other)


def test_differing_parameters_and_channel_overrides(two_cases: tuple[str, str]) -> None:
    a, b = (load_scenario(x) for x in two_cases)
    rows, only_a, only_b = differing_parameters(a, b)
    assert [r["path"] for r in rows] == ["population.fighting_age_share"]
    assert (rows[0]["a"], rows[0]["b"]) == (0.25, 0.27) and only_a == only_b == 0
    # the patrons' channel is the scenario's own patrons; the others are module parameters
    assert channel_overrides("patron_money", a) == [f"patrons.{p.id}.budget=0" for p in a.patrons]
    assert channel_overrides("occupation", a) == ["parameters.legitimacy.w_occ=0"]
    assert all(s.startswith("parameters.") for c in CHANNELS if c != "patron_money" for s in channel_overrides(c, a))


def test_crosscase_runs_both_cases_and_ablates_the_escalating_one(two_cases: tuple[str, str], tmp_path: Path) -> None:
    a, b = two_cases
    cc = run_crosscase(a, b, 3, tmp_path / "cc", channels=["patron_money", "occupation"], scale=1.0,
                       workers=1, progress=False)
    for m in ("deaths.per_100k_year", "civil_war.any", "army_collapses.count", "vacuum_months_total"):
        for case in (a, b):
            d = cc.headline[m][case]
            assert d["runs"] == 3 and d["mean_lo90"] <= d["mean"] <= d["mean_hi90"]
    dpc = cc.headline["deaths.per_100k_year"]
    assert dpc[cc.escalating]["mean"] >= dpc[cc.calm]["mean"]
    assert [x["channel"] for x in cc.ablations] == ["patron_money", "occupation"]
    for x in cc.ablations:
        assert x["deaths.per_100k_year"]["runs"] == 3 and x["change_lo90"] <= x["change"] <= x["change_hi90"]
        assert x["separates"] == (x["channel"] in cc.separating)
    doc = json.loads((tmp_path / "cc" / "crosscase.json").read_text(encoding="utf-8"))
    assert doc["escalating"] == cc.escalating and doc["parameters_differing"][0]["path"] == "population.fighting_age_share"


def test_crosscase_command_json_and_bad_input(two_cases: tuple[str, str], tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    a, b = two_cases
    assert main(["crosscase", a, b, "--runs", "2", "--scale", "1.0", "--workers", "1", "--quiet",
                 "--channel", "exclusion", "--out", str(tmp_path / "cc"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["runs"] == 2 and [x["channel"] for x in doc["ablations"]] == ["exclusion"]
    assert main(["crosscase", a, b, "--channel", "luck", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --channel: 'luck' is not one of war_next_door") and err.count("\n") == 1
    assert main(["crosscase", a, a, "--out", str(tmp_path / "y")]) == 2
    assert "the two cases are the same scenario" in capsys.readouterr().err


def test_the_case_to_ablate_can_be_named(two_cases: tuple[str, str], tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    a, b = two_cases
    cc = run_crosscase(a, b, 2, tmp_path / "cc", channels=["occupation"], escalating=b, scale=1.0, workers=1,
                       progress=False)
    assert cc.escalating == b and cc.calm == a
    if not cc.gap > 0:  # the named case is not the deadlier one: nothing to close, nothing separates
        assert cc.separating == [] and cc.ablations[0]["gap_closed"] != cc.ablations[0]["gap_closed"]
    assert main(["crosscase", a, b, "--escalating", "elsewhere", "--out", str(tmp_path / "x")]) == 2
    assert "--escalating: 'elsewhere' is neither case" in capsys.readouterr().err
