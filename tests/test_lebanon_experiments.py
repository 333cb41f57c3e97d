"""Lebanon through the experiments: the back-test's politics measures, generic metrics, the exports'
crosswalk and the report's documented overlay, all read from the scenario's own data."""

from __future__ import annotations

import csv
import json
import math
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from shatterbelt.cli.main import main
from shatterbelt.errors import UsageError
from shatterbelt.experiments.backtest import (
    Observation,
    event_draws,
    parse_observed,
    run_backtest,
    run_politics_events,
)
from shatterbelt.experiments.metrics import run_outcomes, troop_patrons
from shatterbelt.exports.places import country, data_folder, places
from shatterbelt.report.data import from_result
from shatterbelt.report.figures import standard_figures
from shatterbelt.resolve import load_scenario
from shatterbelt.sim import Simulation
from tests.test_lebanon_generic import SRC, _string_constants, _vocabulary

LEBANON = "lebanon-2005"
TINY = str(Path(__file__).parent / "data" / "tiny.yaml")


@pytest.fixture(scope="module")
def lebanon_to_2008() -> object:
    """Lebanon at scale 0.005 from May 2005 to the end of 2008 (the first vacancy and two formations)."""
    return Simulation(load_scenario(LEBANON), scale=0.005, seed=4, until="2008-12").run()


# ---------------------------------------------------------------------------- back-test: politics measures
def _summary(formations: list[tuple[str, str]], vacancies: list[tuple[str, int]], end: str) -> dict:
    return {
        "end": end,
        "pm_by_term": [{"election": a, "date": b} for a, b in formations],
        "office_events": [{"office": "president", "elected": e, "vacancy_days": d} for e, d in vacancies]
        + [{"office": "speaker", "elected": "2009-06-07", "vacancy_days": 0}],
    }


def test_politics_events_are_read_from_the_summary_and_matched_to_the_nearest_documented_one() -> None:
    s1 = _summary([("2005-06-19", "2005-12-01"), ("2009-06-07", "2009-08-01")], [("2008-05-25", 183)], "2014-12")
    ev = run_politics_events(s1, {"president"})
    assert ev["formation_days"] == [("2005-06-19", 165.0), ("2009-06-07", 55.0)]
    # the vacancy begins vacancy_days before the election; the speaker is not a head of state
    assert ev["presidential_vacancy_days"] == [("2007-11-24", 183.0)]
    # a second run: its 2009 formation began in 2010-03 (9 months late, still its counterpart)
    s2 = _summary([("2005-07-01", "2005-08-01"), ("2010-03-01", "2010-04-10")], [], "2014-12")
    obs = [Observation("LBN", "2005-06", "formation_days", 30), Observation("LBN", "2009-06", "formation_days", 155),
           Observation("LBN", "2007-11", "presidential_vacancy_days", 183)]
    events = [run_politics_events(s, {"president"}) for s in (s1, s2)]
    d = event_draws(obs, events, ["2014-12", "2014-12"])
    assert d[("formation_days", "2005-06")][0].tolist() == [165.0, 31.0]
    assert d[("formation_days", "2009-06")][0].tolist() == [55.0, 40.0]
    # the second run never filled the office, and the horizon is years after: no counterpart (not censored)
    x, censored, _ = d[("presidential_vacancy_days", "2007-11")]
    assert x[0] == 183.0 and math.isnan(x[1]) and censored == 0


def test_an_event_running_at_the_horizon_is_censored_and_so_is_the_observation() -> None:
    # a vacancy documented from May 2014 (890 days); runs end in December 2014
    obs = [Observation("LBN", "2014-05", "presidential_vacancy_days", 890)]
    done = _summary([], [("2014-07-10", 40)], "2014-12")  # filled after 40 days
    running = _summary([], [], "2014-12")  # still vacant at the end
    d = event_draws(obs, [run_politics_events(s, {"president"}) for s in (done, running)], ["2014-12", "2014-12"])
    x, censored, cap = d[("presidential_vacancy_days", "2014-05")]
    assert cap == 244.0  # 1 May 2014 .. 31 Dec 2014
    assert x.tolist() == [40.0, 244.0] and censored == 1


def test_observed_files_accept_the_politics_measures_and_lebanon_has_them() -> None:
    obs = parse_observed("country,period,measure,value\nLBN,2009-06,formation_days,155\n"
                         "LBN,2014-05,presidential_vacancy_days,890\n", "x.csv")
    assert [o.measure for o in obs] == ["formation_days", "presidential_vacancy_days"]
    with pytest.raises(UsageError, match="measure 'cabinet_days' is not one of .*formation_days"):
        parse_observed("country,period,measure,value\nLBN,2009-06,cabinet_days,155\n", "x.csv")
    text = (resources.files("shatterbelt") / "data" / "lebanon" / "observed.csv").read_text(encoding="utf-8")
    leb = parse_observed(text, "lebanon/observed.csv")
    assert {o.period: o.value for o in leb if o.measure == "formation_days"} == {
        "2005-06": 30, "2008-05": 47, "2009-06": 155, "2011-01": 152, "2013-03": 330}
    sc = load_scenario(LEBANON)
    assert sc.evaluation is not None and sc.evaluation.country_code == "LBN"
    assert sc.evaluation.fit_until == "2008-12" and sc.evaluation.test_from == "2009-01"


def test_backtest_lebanon_scores_deaths_formations_and_the_vacancy(tmp_path: Path) -> None:
    bt = run_backtest(2, tmp_path / "bt", scenario=LEBANON, scale=0.003, until="2010-06", workers=1,
                      sample="none", progress=False)
    rows = {r["target"]: r for r in bt.rows}
    # deaths per year where documented and wholly simulated (2005 starts in May: not scored)
    assert {"deaths.2006", "deaths.2007", "deaths.2008", "battle_deaths.2007", "civil_war.2007"} <= set(rows)
    assert "deaths.2005" not in rows
    f05 = rows["formation_days.2005-06"]
    assert f05["kind"] == "duration" and f05["granularity"] == "event" and f05["window"].startswith("in-sample")
    assert f05["runs"] == 2 and f05["model_median"] > 0 and math.isfinite(f05["crps.model"])
    assert rows["presidential_vacancy_days.2007-11"]["observed"] == 183
    assert rows["formation_days.2009-06"]["window"].startswith("out-of-sample")
    # the persistence baseline of a formation is the previous documented formation
    assert f05["median.persistence"] != f05["median.persistence"]  # none before the first
    assert rows["formation_days.2008-05"]["median.persistence"] == pytest.approx(30)
    assert bt.summary[bt.windows[0]]["event"]["targets"] >= 2
    doc = json.loads((tmp_path / "bt" / "backtest.json").read_text(encoding="utf-8"))
    assert doc["observed"] == "shatterbelt/data/lebanon/observed.csv"


# ---------------------------------------------------------------------------- metrics
def test_patron_groups_come_from_the_scenario() -> None:
    assert troop_patrons(load_scenario("iraq-2010")) == ["us"]
    assert troop_patrons(load_scenario(LEBANON)) == []  # the Syrian army and UNIFIL have no patron


def test_lebanon_outcomes_name_only_its_own_patrons(lebanon_to_2008: object) -> None:
    o = run_outcomes(lebanon_to_2008)  # type: ignore[arg-type]
    pats = {p.id for p in load_scenario(LEBANON).patrons}
    assert not [k for k in o if k.startswith("patron_influence.foreign_non_")]
    named = {k.split(".")[1] for k in o if k.startswith("patron_influence.") and k.endswith(".mean_from_2012")}
    assert named == pats
    final = lebanon_to_2008.summary["patron_influence_final"]  # type: ignore[attr-defined]
    assert o["patron_influence.without_troops_final"] == pytest.approx(sum(final.values()), rel=1e-5)
    years = 44 / 12
    total = o["deaths.total"]
    assert o["deaths.per_100k_year"] == pytest.approx(total / years / 4_830_000 * 1e5, rel=0.02)


# ---------------------------------------------------------------------------- exports
def _inside(pt: tuple[float, float], ring: list[list[float]]) -> bool:
    x, y = pt
    c = False
    for i in range(len(ring)):
        (x1, y1), (x2, y2) = ring[i], ring[i - 1]
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            c = not c
    return c


def test_lebanon_places_and_codes_come_from_its_data_folder() -> None:
    sc = load_scenario(LEBANON)
    assert data_folder(422) == "lebanon" and data_folder(368) == "iraq" and data_folder(999) is None
    c = country(sc)
    assert (c.iso3, c.gwno, c.acled_region) == ("LBN", 660, "Middle East")
    pl = {p.code: p for p in places(sc)}
    assert set(pl) == {r.id for r in sc.regions}
    assert pl["LB-AS"].capital == "Tripoli" and pl["LB-BA"].acled_admin1 == "Beirut"
    geo = json.loads((resources.files("shatterbelt") / "data" / "lebanon" / "lebanon_governorates.geojson")
                     .read_text(encoding="utf-8"))
    for f in geo["features"]:
        p = pl[f["properties"]["iso"]]
        polys = f["geometry"]["coordinates"] if f["geometry"]["type"] == "MultiPolygon" else [f["geometry"]["coordinates"]]
        assert any(_inside((p.longitude, p.latitude), poly[0]) for poly in polys), p.code
    # a scenario of a country without a data folder keeps its names and has no coordinates
    tiny = load_scenario(TINY)
    assert all(p.latitude is None and p.acled_admin1 == p.name for p in places(tiny))


def test_export_acled_for_lebanon_has_coordinates(tmp_path: Path, lebanon_to_2008: object,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    lebanon_to_2008.write(str(run))  # type: ignore[attr-defined]
    assert main(["export", str(run), "--format", "ged", "--out", str(tmp_path / "ged.csv"), "--json"]) == 0
    capsys.readouterr()
    rows = list(csv.DictReader((tmp_path / "ged.csv").open(encoding="utf-8")))
    assert rows and all(r["country"] == "Lebanon" and r["country_id"] == "660" for r in rows)
    assert all(r["latitude"] and 33.0 < float(r["latitude"]) < 34.8 for r in rows)


# ---------------------------------------------------------------------------- report overlay
def test_lebanon_report_overlays_its_documented_deaths(lebanon_to_2008: object) -> None:
    data = from_result(lebanon_to_2008)
    assert data.fit_until == "2008-12"
    figs = {f.id: f for f in standard_figures(data)}
    total = figs["deaths-annual"]
    hist = total.data["history"]
    assert len(hist) == 1 and hist[0]["x"] == [2006, 2007, 2008]  # 2005 is partial in the run
    assert hist[0]["y"] == [1150.0, 457.0, 81.0]
    assert total.data["calibration_end"] == 2008
    spans = figs["civilian-deaths"].data["spans"]
    assert spans and spans[0]["to"] == "2008-12" and spans[0]["label"] == "calibration window (to 2008)"
    bat = figs["battle_deaths-annual"].data["history"]
    assert [h["x"] for h in bat] == [[2007]]


def test_a_scenario_without_evaluation_has_no_overlay() -> None:
    data = from_result(Simulation(load_scenario(TINY), scale=1.0, seed=1, until="2011-06").run())
    figs = standard_figures(data)
    assert figs and all(not f.data.get("history") for f in figs)
    assert all(not f.data.get("spans") for f in figs if f.kind == "timeseries")
    assert np.all([f.id != "deaths-annual" for f in figs])


# ---------------------------------------------------------------------------- election
def test_election_without_votes_says_what_is_missing(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["election", LEBANON]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err
    assert err.startswith("error: politics.votes_file: configuration 'lebanon-2005' has no votes file")
    assert "valid votes by district and list" in err and "documents seats only (3 lists, 128 seats)" in err


# ---------------------------------------------------------------------------- no country in generic code
def test_experiment_export_and_report_code_names_no_country_or_actor() -> None:
    """metrics, crosscase, the exports' places and the report's figures and page name no country, community,
    bloc, actor, patron or region of a built-in scenario: they read them from the scenario."""
    ids, countries = _vocabulary()
    #: crosswalk()'s default folder, kept for its callers from before there was a second country
    allowed = {("exports/places.py", "iraq")}
    hits = []
    for rel in ("experiments/metrics.py", "experiments/crosscase.py", "exports/places.py", "report/figures.py",
                "report/html.py"):
        for line, s in _string_constants(SRC / rel):
            if (rel, s) in allowed:
                continue
            if s in ids or any(c in s.lower() for c in countries):
                hits.append(f"{rel}:{line}: {s[:60]!r}")
    assert not hits, "country-specific literals:\n" + "\n".join(hits)


def test_a_scenario_without_such_events_scores_nothing_rather_than_censoring() -> None:
    obs = [Observation("LBN", "2014-05", "presidential_vacancy_days", 890)]
    no_office = _summary([], [], "2014-12")
    d = event_draws(obs, [run_politics_events(no_office, set())] * 3, ["2014-12"] * 3)
    x, censored, _ = d[("presidential_vacancy_days", "2014-05")]
    assert np.isnan(x).all() and censored == 0
