"""The lebanon-2005 scenario: it validates, runs, keeps its people, and its report draws Lebanon."""

from __future__ import annotations

import csv
import json
from importlib import resources
from pathlib import Path

import pytest

from shatterbelt.report import build_report
from shatterbelt.report.data import load_run
from shatterbelt.report.maps import governorate_map
from shatterbelt.resolve import load_scenario
from shatterbelt.sim import Simulation

LEBANON = "lebanon-2005"
DATA = Path(str(resources.files("shatterbelt") / "data" / "lebanon"))


@pytest.fixture(scope="module")
def short_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Lebanon at scale 0.01 from May 2005 to the end of 2007 (the 2006 war's shock, UNIFIL's arrival,
    the presidential window of autumn 2007), written to disk."""
    out = tmp_path_factory.mktemp("lebanon") / "run"
    res = Simulation(load_scenario(LEBANON), scale=0.01, seed=3, until="2007-12").run()
    res.write(str(out))
    return out


def test_the_scenario_validates_with_the_data_packs_geography() -> None:
    sc = load_scenario(LEBANON)
    assert sc.country == "Lebanon"
    assert {r.id for r in sc.regions} == {"LB-BA", "LB-KJ", "LB-JL", "LB-AS", "LB-AK", "LB-BI", "LB-BH", "LB-JA", "LB-NA"}
    assert {c.id for c in sc.communities} >= {"sunni", "shia", "druze", "maronite", "christian_other", "palestinian"}
    # every region is connected to the others by the adjacency
    adj: dict[str, set[str]] = {r.id: set() for r in sc.regions}
    for a, b in sc.adjacency:
        adj[a].add(b)
        adj[b].add(a)
    seen, todo = {"LB-BA"}, ["LB-BA"]
    while todo:
        for n in adj[todo.pop()] - seen:
            seen.add(n)
            todo.append(n)
    assert seen == set(adj)
    # the map's polygons are exactly the scenario's regions
    geo = json.loads((DATA / "lebanon_governorates.geojson").read_text(encoding="utf-8"))
    assert {f["properties"]["iso"] for f in geo["features"]} == {r.id for r in sc.regions}
    # the population adds up to the 2005 UN / MoSA estimate plus the assumed Palestinian camp residents
    assert sum(r.population for r in sc.regions) == 4_570_131 + 260_000


def test_a_short_run_conserves_population_and_produces_events(short_run: Path) -> None:
    s = json.loads((short_run / "summary.json").read_text(encoding="utf-8"))
    assert s["agents_alive"] + s["agents_dead"] == s["agents"]
    assert s["agents_dead"] > 0
    assert sum(s["events_by_type"].values()) > 0
    with (short_run / "events.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and {r["admin1"] for r in rows} <= {
        "Beirut", "Keserwan-Jbeil", "Mount Lebanon", "North", "Akkar", "Bekaa", "Baalbek-Hermel", "South", "Nabatieh"}
    # the formation after the 2005 election ends with a Sunni PM (the office reserved to Sunnis)
    assert s["pm_by_term"], "no government formed in 30 months"
    assert s["pm_by_term"][0]["pm_candidate"] in {"Fouad Siniora", "Saad Hariri", "Najib Mikati", "Tammam Salam", "Omar Karami"}


def test_the_report_draws_lebanons_nine_governorates(short_run: Path) -> None:
    data = load_run(short_run)
    fig = governorate_map(data)
    assert fig is not None
    isos = {f["iso"] for f in fig.data["features"]}
    assert isos == {"LB-BA", "LB-KJ", "LB-JL", "LB-AS", "LB-AK", "LB-BI", "LB-BH", "LB-JA", "LB-NA"}
    assert any("LBN ADM1" in n for n in fig.data["notes"])
    html = Path(build_report(str(short_run)).html).read_text(encoding="utf-8")
    assert "Keserwan-Jbeil" in html and "Baalbek-Hermel" in html


def test_observed_file_has_the_documented_formations_and_vacancies() -> None:
    with (DATA / "observed.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and set(rows[0]) == {"country", "period", "measure", "value", "low", "high", "source"}
    assert {r["country"] for r in rows} == {"LBN"}
    # formations: from the event that began them (election, resignation, new president) to the decree,
    # the span the model counts; low: from the designation (governments.csv's days)
    form = {r["period"]: (float(r["value"]), float(r["low"])) for r in rows if r["measure"] == "formation_days"}
    assert form["2009-06"] == (155, 135) and form["2011-01"] == (152, 139) and form["2013-03"] == (330, 315)
    vac = {r["period"]: float(r["value"]) for r in rows if r["measure"] == "presidential_vacancy_days"}
    assert vac == {"2007-11": 183, "2014-05": 890}
    for r in rows:
        lo, v, hi = float(r["low"]), float(r["value"]), float(r["high"])
        assert lo <= v <= hi, r


def test_same_seed_same_outputs(tmp_path: Path) -> None:
    """Reproducible: the politics layer's confessional rules draw from seeded streams only."""
    digests = []
    for k in range(2):
        res = Simulation(load_scenario(LEBANON), scale=0.005, seed=9, until="2006-03").run()
        paths = res.write(str(tmp_path / f"r{k}"))
        digests.append({f: Path(paths[f]).read_bytes() for f in ("panel.parquet", "events.csv", "summary.json")})
    assert digests[0] == digests[1]
