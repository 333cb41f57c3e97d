"""The back-test for any scenario: an observed file in the documented format, checked against the
scenario's country, scored month by month and year by year beside naive baselines."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml

from shatterbelt.cli.main import main
from shatterbelt.errors import ShatterbeltError, UsageError
from shatterbelt.experiments.backtest import Windows, baselines_for, parse_observed, read_observed
from shatterbelt.experiments.scoring import crps_ensemble, crps_normal, interval_score
from shatterbelt.resolve import load_scenario

TINY_YAML = str(Path(__file__).parent / "data" / "tiny.yaml")
FAST = ["--scale", "0.1", "--workers", "1", "--quiet"]

HEADER = "country,period,measure,value,low,high,source\n"


def synthetic(path: Path, country: str = "Tinyland") -> Path:
    """Monthly civilian deaths from 2010-01 (history before the July start) to 2011-12, and 2011 in total."""
    rows = [f"{country},2010-{m:02d},civilian_deaths,{3 + m % 4},,,synthetic" for m in range(1, 13)]
    rows += [f"{country},2011-{m:02d},civilian_deaths,{5 + m % 3},,,synthetic" for m in range(1, 13)]
    rows += [f"{country},2011,battle_deaths,20,10,40,synthetic", f"{country},2011,deaths,90,,,synthetic"]
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_without_observations_tiny_refuses_in_one_line(tmp_path: Path, capsys) -> None:
    rc = main(["backtest", TINY_YAML, "--runs", "2", *FAST, "--out", str(tmp_path / "bt")])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("error: --observed:") and "no observations of its own" in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "bt").exists()  # refused before any run


def test_synthetic_observations_are_scored_monthly_with_views_export(tmp_path: Path, capsys) -> None:
    obs = synthetic(tmp_path / "obs.csv")
    views = tmp_path / "views.parquet"
    rc = main(["backtest", TINY_YAML, "--runs", "3", *FAST, "--out", str(tmp_path / "bt"), "--observed", str(obs),
               "--views", str(views), "--json"])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    doc = json.loads(cap.out)
    # tiny has no evaluation section: every month it covers is out-of-sample
    (w,) = [k for k in doc["summary"] if k.startswith("out-of-sample")]
    monthly = [r for r in doc["targets"] if r["granularity"] == "month"]
    assert [r["period"] for r in monthly] == [f"2010-{m:02d}" for m in range(7, 13)] + [
        f"2011-{m:02d}" for m in range(1, 13)]
    s = doc["summary"][w]["month"]
    assert s["targets"] == 18 and s["crps.model"] is not None and s["is90.model"] is not None
    for b in ("no-change", "persistence", "trend"):
        assert s[f"crps.{b}"] is not None
    annual = {r["target"]: r for r in doc["targets"] if r["granularity"] == "year"}
    assert {"battle_deaths.2011", "deaths.2011", "civil_war.2011"} <= set(annual)
    # the model's annual deaths are its monthly civilian + battle deaths summed
    t = pq.read_table(views).to_pandas()
    assert list(t.columns[:4]) == ["month", "month_id", "country", "draw"]
    assert t["draw"].nunique() == 3 and t["month"].nunique() == 18
    assert t.loc[t["month"] == "2010-07", "month_id"].iloc[0] == (2010 - 1980) * 12 + 7
    y11 = t[t["month"].str.startswith("2011")].groupby("draw")[["pred_civilian_deaths", "pred_battle_deaths"]].sum()
    assert annual["deaths.2011"]["model_median"] == pytest.approx(float(np.median(y11.sum(axis=1))))
    assert np.allclose(t["pred_deaths"], t["pred_civilian_deaths"] + t["pred_battle_deaths"])


def test_observed_country_must_be_the_scenarios(tmp_path: Path, capsys) -> None:
    obs = synthetic(tmp_path / "obs.csv", country="IRQ")
    rc = main(["backtest", TINY_YAML, "--runs", "2", *FAST, "--out", str(tmp_path / "bt"), "--observed", str(obs)])
    err = capsys.readouterr().err
    assert rc == 2 and "country 'IRQ'" in err and "Tinyland" in err and len(err.strip().splitlines()) == 1
    # Iraq's rows must carry its ISO code, not its name
    obs = synthetic(tmp_path / "obs2.csv", country="Iraq")
    rc = main(["backtest", "--runs", "2", *FAST, "--out", str(tmp_path / "bt2"), "--observed", str(obs)])
    err = capsys.readouterr().err
    assert rc == 2 and "IRQ" in err


@pytest.mark.parametrize(("line", "needle"), [
    ("Tinyland,2010-13,civilian_deaths,3,,,", "period '2010-13'"),
    ("Tinyland,2010-01,kills,3,,,", "measure 'kills'"),
    ("Tinyland,2010-01,civilian_deaths,many,,,", "value 'many'"),
    ("Tinyland,2010-01,civilian_deaths,-1,,,", "value must be"),
    ("Tinyland,2010-01,civilian_deaths,5,6,9,", "outside its own low..high"),
])
def test_bad_observed_rows_are_one_line_errors(line: str, needle: str) -> None:
    with pytest.raises(UsageError) as e:
        parse_observed(HEADER + line + "\n", "obs.csv")
    assert needle in str(e.value) and "line 2" in str(e.value) and "\n" not in str(e.value)


def test_missing_columns_and_duplicates_are_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="missing column"):
        parse_observed("country,period,value\nX,2010,1\n", "obs.csv")
    with pytest.raises(UsageError, match="already on line 2"):
        parse_observed(HEADER + "X,2010,deaths,1,,,\nX,2010,deaths,2,,,\n", "obs.csv")
    with pytest.raises(UsageError, match="cannot read"):
        read_observed(tmp_path / "absent.csv")


def test_crps_and_normal_crps_match_properscoring() -> None:
    properscoring = pytest.importorskip("properscoring")
    rng = np.random.default_rng(3)
    for n in (1, 2, 7, 40):
        x = rng.lognormal(2, 1, n)
        for y in (0.0, 5.0, float(np.median(x)), 300.0):
            assert crps_ensemble(x, y) == pytest.approx(float(properscoring.crps_ensemble(y, x)), rel=1e-10, abs=1e-12)
    for mu, sd, y in ((0.0, 1.0, 0.3), (5.0, 0.4, 7.0), (2.0, 3.0, -1.0)):
        assert crps_normal(mu, sd, y) == pytest.approx(float(properscoring.crps_gaussian(y, mu, sd)), rel=1e-10)


@pytest.mark.slow  # importing scoringrules compiles its kernels (about 10 s)
def test_crps_matches_scoringrules() -> None:
    scoringrules = pytest.importorskip("scoringrules")
    rng = np.random.default_rng(4)
    for n in (1, 5, 40):
        x = rng.lognormal(2, 1, n)
        for y in (0.0, float(np.median(x)), 300.0):
            assert crps_ensemble(x, y) == pytest.approx(float(scoringrules.crps_ensemble(y, x)), rel=1e-9)
    assert crps_normal(1.0, 2.0, 0.5) == pytest.approx(float(scoringrules.crps_normal(0.5, 1.0, 2.0)), rel=1e-9)


def test_interval_score_rewards_narrow_intervals_and_penalises_misses() -> None:
    assert interval_score(1.0, 3.0, 2.0, 0.1) == pytest.approx(2.0)
    assert interval_score(1.0, 3.0, 4.0, 0.1) == pytest.approx(2.0 + 20 * 1.0)
    assert interval_score(1.0, 3.0, 0.5, 0.5) == pytest.approx(2.0 + 4 * 0.5)


def test_baselines_use_only_history_before_the_origin_except_persistence() -> None:
    obs = parse_observed(HEADER + "".join(f"X,2010-{m:02d},deaths,{10 * m},,,\n" for m in range(1, 10)), "o")
    bls, info = baselines_for(obs, "2010-07")
    assert info["series"]["deaths/month"]["last_known"] == "2010-06"
    sep = bls[("deaths", "month", "2010-09")]
    assert np.expm1(sep["no-change"][0]) == pytest.approx(60)  # June, held flat
    assert np.expm1(sep["persistence"][0]) == pytest.approx(80)  # August: one step ahead
    assert np.expm1(sep["trend"][0]) > 60  # a rising series extrapolated
    assert sep["no-change"][1] > sep["persistence"][1]  # three steps ahead are less certain than one


def test_windows_split_in_and_out_of_sample() -> None:
    w = Windows("2010-07", "2014-12", "2012-12", "2013-01", "2014-12")
    assert w.of("2010-06") is None and w.of("2010") is None  # before the start / not covered whole
    assert w.of("2011-05") == w.of("2012") == "in-sample (<=2012)"
    assert w.of("2013-02") == w.of("2014") == "out-of-sample (2013..2014)"


@pytest.mark.parametrize(("evaluation", "needle"), [
    ({"fit_until": "2012-12", "test_from": "2012-06", "test_until": "2014-12"}, "must come after fit_until"),
    ({"fit_until": "2012-12", "test_from": "2013-01", "test_until": "2012-12"}, "is before test_from"),
    ({"fit_until": "2012-13", "test_from": "2013-01", "test_until": "2014-12"}, "not a month"),
    ({"country_code": "Iraq", "fit_until": "2012-12", "test_from": "2013-01", "test_until": "2014-12"}, "alpha-3"),
    ({"fit_until": "2012-12", "test_from": "2013-01", "test_until": "2014-12", "observed": "../x.csv"}, "inside"),
])
def test_evaluation_section_is_checked_on_load(evaluation: dict, needle: str, tmp_path: Path) -> None:
    raw = yaml.safe_load(Path(TINY_YAML).read_text(encoding="utf-8"))
    raw["evaluation"] = evaluation
    p = tmp_path / "t.yaml"
    p.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(ShatterbeltError) as e:
        load_scenario(str(p))
    assert needle in str(e.value) and "evaluation" in str(e.value) and "\n" not in str(e.value)
