"""ACLED and UCDP GED exports: every column, type and code list against the codebooks kept as
test data (tests/data/acled_columns.json, tests/data/ged_columns.json), the admin-1 crosswalk,
and the share of suicide bombs on a default run."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from shatterbelt.cli.main import main
from shatterbelt.exports.acled import INTER
from shatterbelt.exports.ged import priogrid_gid
from shatterbelt.exports.places import crosswalk
from shatterbelt.resolve import load_scenario
from shatterbelt.result import Result
from tests.conftest import TINY

DATA = Path(__file__).parent / "data"
ACLED = json.loads((DATA / "acled_columns.json").read_text())
GED = json.loads((DATA / "ged_columns.json").read_text())
PKG_DATA = Path(__file__).resolve().parents[1] / "src" / "shatterbelt" / "data" / "iraq"


def _check_types(df: pd.DataFrame, columns: list[dict[str, str]]) -> None:
    """Every column parses as its codebook type (empty cells allowed only in strings and coordinates)."""
    for c in columns:
        s = df[c["name"]]
        if c["type"] == "integer":
            vals = s.dropna()
            assert (vals.astype("int64") == vals).all(), c["name"]
        elif c["type"] == "number":
            pd.to_numeric(s, errors="raise")
        elif c["type"] == "date":
            parsed = pd.to_datetime(s, format="%Y-%m-%d", errors="raise")
            assert parsed.notna().all(), c["name"]
        elif c["type"] == "boolean":
            assert set(s.astype(str).str.lower()) <= {"true", "false"}, c["name"]


@pytest.fixture(scope="module")
def tiny_run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tiny") / "run"
    assert main(["run", TINY, "--scale", "1", "--seed", "2", "--out", str(out), "--quiet", "--no-report"]) == 0
    return out


def test_events_csv_has_acleds_columns_types_and_codes(tiny_run_dir: Path) -> None:
    df = pd.read_csv(tiny_run_dir / "events.csv", keep_default_na=False, na_values={
        c["name"]: [""] for c in ACLED["columns"] if c["type"] in ("integer", "number")})
    assert df.columns.tolist() == [c["name"] for c in ACLED["columns"]]
    assert len(df) > 50
    _check_types(df, ACLED["columns"])
    for et, sub in zip(df["event_type"], df["sub_event_type"], strict=True):
        assert sub in ACLED["event_types"][et], (et, sub)
    assert (df["disorder_type"] == df["event_type"].map(ACLED["disorder_type"])).all()
    assert set(df["time_precision"]) == {3} and set(df["geo_precision"]) == {3}
    assert set(df["civilian_targeting"]) <= set(ACLED["civilian_targeting"])
    assert set(df["source_scale"]) <= set(ACLED["source_scale"])
    codes = {int(k) for k in ACLED["inter"]}
    assert set(df["inter1"]) <= codes and set(df["inter2"].dropna().astype(int)) <= codes
    # interaction: the two actor types, the smaller first; one actor alone: its type x 10
    for i1, i2, it in zip(df["inter1"], df["inter2"], df["interaction"], strict=True):
        want = int(i1) * 10 if pd.isna(i2) else min(int(i1), int(i2)) * 10 + max(int(i1), int(i2))
        assert int(it) == want
    # civilians as ACLED writes them, their identity in assoc_actor_2
    civ = df[df["inter2"] == 7]
    assert len(civ) and (civ["actor2"] == "Civilians (Tinyland)").all()
    assert set(civ["assoc_actor_2"]) <= {"Community A Group (Tinyland)", "Community B Group (Tinyland)"}
    assert (civ["civilian_targeting"] == "Civilian targeting").all()
    assert not df["actor2"].str.contains(":").any()
    # the day is drawn, the timestamp is the end of the event's month (fixed, reproducible)
    dates = pd.to_datetime(df["event_date"])
    assert (df["year"] == dates.dt.year).all()
    month_end = (dates.dt.to_period("M").dt.end_time.dt.normalize() + pd.Timedelta(days=1))
    assert (df["timestamp"] == (month_end - pd.Timestamp("1970-01-01")).dt.total_seconds().astype("int64")).all()
    assert df["notes"].str.contains("drawn at random within the month").all()
    sc = load_scenario(TINY)
    assert set(df["admin1"]) <= {r.name for r in sc.regions}  # no crosswalk for Tinyland: its own names
    assert (df["iso"] == sc.iso_numeric).all() and (df["country"] == "Tinyland").all()


def test_inter_codes_follow_actor_kinds() -> None:
    # ACLED: 1 state forces, 2 rebel groups, 3 political militias, 4 identity militias, 8 external forces
    assert INTER["state_army"] == INTER["police"] == 1 and INTER["insurgency"] == 2
    assert INTER["militia"] == 3 and INTER["tribal"] == 4 and INTER["foreign_force"] == 8


def test_ged_export_has_geds_columns_codes_and_rules(tiny_run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", str(tiny_run_dir), "--format", "ged", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    df = pd.read_csv(info["path"], keep_default_na=False, na_values={
        c["name"]: [""] for c in GED["columns"] if c["type"] in ("integer", "number")})
    assert df.columns.tolist() == [c["name"] for c in GED["columns"]] and len(df) == info["rows"] > 0
    _check_types(df, GED["columns"])
    assert set(df["type_of_violence"]) <= {1, 2, 3} and 3 in set(df["type_of_violence"])
    assert set(df["code_status"]) <= set(GED["code_status"])
    assert set(df["where_prec"]) == {4} and set(df["date_prec"]) == {4} and set(df["event_clarity"]) == {1}
    one = df[df["type_of_violence"] == 3]
    assert (one["side_b"] == "Civilians").all() and (one["deaths_civilians"] == one["best"]).all()
    state = df[df["type_of_violence"] == 1]
    assert (state["side_a"] == "Government of Tinyland").all()
    assert (df["dyad_name"] == df["side_a"] + " - " + df["side_b"]).all()
    assert ((df["low"] <= df["best"]) & (df["best"] <= df["high"]) & (df["best"] >= 1)).all()
    assert (df["best"] == df[["deaths_a", "deaths_b", "deaths_civilians", "deaths_unknown"]].sum(axis=1)).all()
    start, end = pd.to_datetime(df["date_start"]), pd.to_datetime(df["date_end"])
    assert (start.dt.day == 1).all() and (end == start + pd.offsets.MonthEnd(0)).all()
    yearly = df.groupby(["dyad_new_id", "year"])["best"].sum()
    assert (yearly >= GED["min_dyad_deaths_per_year"]).all()
    # every GED row is a lethal event of the ACLED table, found by its relid
    acled = pd.read_csv(tiny_run_dir / "events.csv", keep_default_na=False)
    fat = dict(zip(acled["event_id_cnty"], acled["fatalities"], strict=True))
    assert all(fat[r] == b for r, b in zip(df["relid"], df["best"], strict=True))


def test_priogrid_cells() -> None:
    assert priogrid_gid(-89.9, -179.9) == 1
    assert priogrid_gid(-89.9, 179.9) == 720
    assert priogrid_gid(33.3152, 44.3661) == (int((33.3152 + 90) / 0.5)) * 720 + int((44.3661 + 180) / 0.5) + 1


def test_crosswalk_ties_every_spelling_to_one_code() -> None:
    cw = crosswalk()
    geo = json.loads((PKG_DATA / "iraq_governorates.geojson").read_text())
    props = {f["properties"]["iso"]: f["properties"] for f in geo["features"]}
    with (PKG_DATA / "governorates.csv").open() as f:
        gov = {r["code"]: r for r in csv.DictReader(f)}
    sc = load_scenario("iraq-2010")
    assert set(cw) == set(props) == set(gov) == {r.id for r in sc.regions}
    for r in sc.regions:
        row = cw[r.id]
        assert row["name"] == r.name == props[r.id]["name"] == gov[r.id]["name"]
        assert row["geoboundaries_name"] == props[r.id]["name_geoboundaries"]
        assert row["capital"] == gov[r.id]["capital"] and row["ocha_pcode"] == gov[r.id]["ocha_pcode"]
        assert 29 < float(row["latitude"]) < 38 and 38 < float(row["longitude"]) < 49  # inside Iraq
    assert len({row["acled_admin1"] for row in cw.values()}) == len(cw)
    assert cw["IQ-AN"]["acled_admin1"] != cw["IQ-AN"]["geoboundaries_name"]  # Al Anbar / Al-Anbar meet at IQ-AN


@pytest.mark.slow
def test_default_run_acled_places_and_suicide_share(default_run: Result) -> None:
    ev = default_run.to_acled().to_pandas()
    cw = crosswalk()
    assert set(ev["admin1"]) <= {r["acled_admin1"] for r in cw.values()}
    assert ev["latitude"].notna().all() and (ev["region"] == "Middle East").all()
    assert ev["event_id_cnty"].str.startswith("IRQ").all()
    expl = ev[ev["event_type"] == "Explosions/Remote violence"]
    share = float((expl["sub_event_type"] == "Suicide bomb").mean())
    p = default_run.scenario.parameters["violence"]["suicide_share"]
    lo, hi = p.range
    # suicide attacks are a minority of explosive attacks, within the documented range
    assert len(expl) > 500 and lo <= share <= hi, share
    ins = {a.name for a in default_run.scenario.actors if a.kind == "insurgency"}
    assert set(expl.loc[expl["sub_event_type"] == "Suicide bomb", "actor1"]) <= ins
    ged = default_run.to_ged().to_pandas()
    assert set(ged["type_of_violence"]) == {1, 2, 3}
    assert ged["adm_1"].isin([r["ged_adm_1"] for r in cw.values()]).all()
    assert (ged["country_id"] == 645).all() and (ged["gwnoa"][ged["type_of_violence"] == 1] == "645").all()
    assert all(isinstance(d, dt.date) for d in default_run.to_ged().column("date_start").to_pylist()[:5])
