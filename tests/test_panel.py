"""The self-describing panel: the metric dictionary covers every metric, the written panel's
columns, region codes and names shared with the summary and events, xarray and NetCDF round trips."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from shatterbelt.cli.main import main
from shatterbelt.exports.panel import (
    METRICS,
    PANEL_COLUMNS,
    compact,
    describe,
    from_xarray,
    join_metric,
    split_metric,
)
from shatterbelt.modules.record import NATIONAL_ORDER, REGIONAL_ORDER
from shatterbelt.result import Result
from tests.conftest import TINY, cached_run


@pytest.fixture(scope="module")
def tiny() -> Result:
    return cached_run(TINY, 0.05, 1)


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(["measure", "subject", "region_code", "month"]).reset_index(drop=True)


def test_dictionary_covers_every_metric_the_record_step_declares() -> None:
    templates = {m.template for m in METRICS}
    assert set(REGIONAL_ORDER) | set(NATIONAL_ORDER) == templates
    for m in METRICS:
        assert m.unit and m.kind in ("stock", "flow") and m.description and m.levels
    assert split_metric("control_ka") == ("control", "ka", split_metric("control_ka")[2])
    assert split_metric("patron_budget_us")[:2] == ("patron_budget", "us")
    assert split_metric("population")[:2] == ("population", "") and split_metric("population_shia")[:2] == ("population", "shia")


def test_written_panel_and_metrics_csv(tiny: Result, tmp_path: Path) -> None:
    paths = tiny.write(tmp_path / "run")
    panel = pq.read_table(paths["panel.parquet"])
    assert tuple(panel.column_names) == PANEL_COLUMNS
    assert str(panel.schema.field("month").type) == "date32[day]"
    df = panel.to_pandas()
    names = {r.id: r.name for r in tiny.scenario.regions} | {"national": tiny.scenario.country}
    assert (df["region_name"] == df["region_code"].map(names)).all()
    assert not df["measure"].str.contains("_R[0-9]|_pa$|_a$").any()  # measures no longer carry their subject
    metrics = pacsv.read_csv(paths["metrics.csv"]).to_pandas().fillna("")
    kinds = {(m.name, m.subject_kind) for m in METRICS}
    pairs = set()
    for measure, subject in zip(df["measure"], df["subject"], strict=True):
        entry = split_metric(join_metric(measure, subject))[2]
        assert entry is not None, (measure, subject)
        pairs.add((measure, entry.subject_kind))
    assert pairs <= kinds and pairs == set(zip(metrics["name"], metrics["subject_kind"], strict=True))
    assert set(metrics["stock_or_flow"]) == {"stock", "flow"} and (metrics["unit"] != "").all()
    assert metrics.loc[metrics["name"] == "revenue", "unit"].item() == "USD per month"
    # the compact panel comes back from the written one (the report reads it so)
    assert compact(panel).equals(tiny.panel)
    # summary and events use the panel's region names
    summary = json.loads(Path(paths["summary.json"]).read_text())
    assert set(summary["final_control"]) <= set(df["region_name"])
    assert summary["regions"] == {r.id: r.name for r in tiny.scenario.regions}
    for item in summary["army_collapses"] + summary["control_changes"]:
        assert summary["regions"][item["region_code"]] == item["region"]
    ev = pq.read_table(paths["events.parquet"]).to_pandas()
    assert set(ev["admin1"]) <= set(df["region_name"])


def test_to_pandas_is_the_written_panel(tiny: Result) -> None:
    df = tiny.to_pandas()
    assert tuple(df.columns) == PANEL_COLUMNS and len(df) == tiny.panel.num_rows
    assert df["month"].dtype.kind == "M" and (df["month"].dt.day == 1).all()
    ctl = df[(df["measure"] == "control") & (df["region_code"] == "R1")]
    assert set(ctl["subject"]) >= {"state"} and len(ctl) == len(tiny.scenario.months()) * ctl["subject"].nunique()
    wide = tiny.to_pandas(wide=True)
    assert (wide["population/R2"] == tiny.series("population", "R2")).all()


def test_to_xarray_round_trips_to_the_panel(tiny: Result) -> None:
    pytest.importorskip("xarray")
    ds = tiny.to_xarray()
    assert set(ds["control"].dims) == {"month", "region", "subject"} and ds["revenue"].dims == ("month", "region")
    assert ds["revenue"].attrs["units"] == "USD per month" and ds["revenue"].attrs["stock_or_flow"] == "flow"
    assert ds["region_name"].sel(region="R1").item() == tiny.scenario.regions[0].name
    back = from_xarray(ds)
    want = tiny.to_pandas()
    pd.testing.assert_frame_equal(_sorted(back), _sorted(want), check_dtype=False)
    v = ds["fighters"].sel(region="national", subject="ins").to_series()
    assert (v.to_numpy() == tiny.series("fighters_ins").to_numpy()).all()


def test_netcdf_and_csv_exports_round_trip(tiny: Result, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    xr = pytest.importorskip("xarray")
    pytest.importorskip("h5netcdf")
    run_dir = tmp_path / "run"
    tiny.write(run_dir)
    assert main(["export", str(run_dir), "--format", "netcdf"]) == 0
    assert main(["export", str(run_dir), "--format", "csv", "--json"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out.split("\n", 1)[1])["path"].endswith("panel.csv")
    with xr.open_dataset(run_dir / "panel.nc", engine="h5netcdf") as ds:
        back = from_xarray(ds.load())
    pd.testing.assert_frame_equal(_sorted(back), _sorted(tiny.to_pandas()), check_dtype=False)
    csv = pd.read_csv(run_dir / "panel.csv", keep_default_na=False)
    assert tuple(csv.columns) == PANEL_COLUMNS and len(csv) == tiny.panel.num_rows
    # the run's folder keeps its exports and can still be replaced by a new run
    assert main(["run", TINY, "--scale", "0.05", "--until", "2010-08", "--out", str(run_dir), "--quiet",
                 "--no-report"]) == 0


def test_export_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for args, needle in (
        (["export", str(tmp_path / "nope")], "RUN_DIR:"),
        (["export", str(tmp_path)], "scenario.resolved.yaml"),
        (["export", str(tmp_path), "--format", "xls"], "--format: unknown format 'xls'"),
    ):
        assert main(args) == 2
        err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
        assert len(err) == 1 and err[0].startswith("error: ") and needle in err[0], err


def test_describe_keeps_row_order(tiny: Result) -> None:
    d = describe(tiny.panel, tiny.scenario)
    assert d.num_rows == tiny.panel.num_rows
    assert d.column("region_code").to_pylist() == tiny.panel.column("region").to_pylist()


def test_export_reads_a_folder_in_the_compact_layout(tiny: Result, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """A run folder written before the self-describing layout (compact panel and event log) exports alike."""
    d = tmp_path / "old"
    tiny.write(d)
    pq.write_table(tiny.panel, d / "panel.parquet")
    pq.write_table(tiny.events, d / "events.parquet")
    assert main(["export", str(d), "--format", "acled", "--out", str(tmp_path / "a.csv")]) == 0
    assert main(["export", str(d), "--format", "csv", "--out", str(tmp_path / "p.csv")]) == 0
    capsys.readouterr()
    acled = pd.read_csv(tmp_path / "a.csv", keep_default_na=False)
    assert acled.equals(pd.read_csv(d / "events.csv", keep_default_na=False))
    panel = pd.read_csv(tmp_path / "p.csv", keep_default_na=False)
    assert tuple(panel.columns) == PANEL_COLUMNS and len(panel) == tiny.panel.num_rows
