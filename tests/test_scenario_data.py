"""The built-in iraq-2010 scenario agrees with the package's copy of the data pack."""

from __future__ import annotations

import csv
from importlib import resources

import pytest

from shatterbelt.resolve import load_scenario

DATA = resources.files("shatterbelt.data") / "iraq"


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def sc():
    return load_scenario("iraq-2010")


def test_regions_match_governorates_csv(sc):
    rows = {r["code"]: r for r in _rows("governorates.csv")}
    assert {r.id for r in sc.regions} == set(rows)
    for reg in sc.regions:
        row = rows[reg.id]
        assert reg.population == int(row["population_2010"])
        assert reg.name == row["name"]
        for c in ("shia", "sunni", "kurd", "other"):
            assert reg.shares[c] == pytest.approx(float(row[c]) / 100, abs=1e-9)
        assert reg.autonomous == (row["status"] == "KRG")


def test_adjacency_is_the_recommended_set(sc):
    rec = {frozenset((r["code_a"], r["code_b"])) for r in _rows("adjacency.csv") if r["recommended"] == "1"}
    assert {frozenset(p) for p in sc.adjacency} == rec


def test_seats_and_troop_timeline(sc):
    assert sum(b.seats for b in sc.blocs) == 325
    seats = {b.id: b.seats for b in sc.blocs}
    assert seats["iraqiya"] == 91 and seats["sol"] == 89 and seats["ka"] == 43
    assert seats["sadrists"] + seats["ina"] == 70
    troops = {str(e.date): e.level for e in sc.timeline if e.type == "foreign_troops"}
    assert troops == {"2010-06-04": 88000, "2010-08-19": 56000, "2010-09-01": 50000, "2011-12-18": 0}
    # the 2010 government is an outcome of the politics layer, not an input ...
    assert not [e for e in sc.timeline if e.type == "government"]
    assert sc.politics is not None and sc.politics.election_date.isoformat() == "2010-03-07"
    # ... unless the historical one is imposed
    gov = [e for e in load_scenario("iraq-2010+scripted-government").timeline if e.type == "government"]
    assert [str(g.date) for g in gov] == ["2010-12-21"]
    assert [str(e.date) for e in sc.timeline if e.type == "election"] == ["2014-04-30"]


def test_actor_sizes_inside_data_pack_ranges(sc):
    rows = _rows("actors.csv")
    lows = {}
    for r in rows:
        if r["size_low"]:
            lows.setdefault(r["actor_id"], []).append((int(r["size_low"]), int(r["size_high"])))
    for aid in ("aqi", "mahdi", "aah", "kh"):
        src = {"aqi": "aqi_isi", "mahdi": "mahdi_army"}.get(aid, aid)
        lo, hi = lows[src][0]
        a = sc.actor(aid)
        assert a.size.range[0] <= lo and a.size.range[1] >= hi, aid
        assert lo <= a.size.value <= hi, aid
