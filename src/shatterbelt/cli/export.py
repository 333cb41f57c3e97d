"""``shatterbelt export RUN_DIR --format acled|ged|netcdf|csv``: a run's outputs in other formats.

* ``acled``: the events with ACLED's full column set (as ``events.csv``) -> ``acled.csv``;
* ``ged``: the lethal events as UCDP GED rows (type of violence, dyads, best/low/high) -> ``ged.csv``;
* ``netcdf``: the panel as a NetCDF-4 file (month x region x subject, one variable per measure;
  needs the ``interop`` extra) -> ``panel.nc``;
* ``csv``: the self-describing panel as CSV -> ``panel.csv``.

The file goes into the run's folder unless ``--out`` names another path.  It reads only the
run's files (``scenario.resolved.yaml``, ``events.parquet``, ``panel.parquet``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import typer

from ..errors import UsageError
from ..exports import panel as panel_exports
from ..exports.acled import ACLED_COLUMNS, acled_table
from ..exports.ged import ged_table
from ..outputs import EXPORT_FILES
from ..resolve import load_scenario
from ..scenario.schema import Scenario
from .common import Json, emit_json

app = typer.Typer()
FORMATS = tuple(EXPORT_FILES)


def _read(run_dir: Path, name: str) -> pa.Table:
    p = run_dir / name
    if not p.is_file():
        raise UsageError(f"RUN_DIR: {run_dir} holds no {name} (give the folder of a `shatterbelt run`)")
    try:
        return pq.read_table(p)
    except (OSError, pa.ArrowException) as exc:
        raise UsageError(f"RUN_DIR: {p} cannot be read: {' '.join(str(exc).split())[:160]}") from None


def _scenario(run_dir: Path) -> Scenario:
    p = run_dir / "scenario.resolved.yaml"
    if not p.is_file():
        raise UsageError(f"RUN_DIR: {run_dir} holds no scenario.resolved.yaml (give the folder of a `shatterbelt run`)")
    return load_scenario(str(p))


def _acled(run_dir: Path, sc: Scenario) -> pa.Table:
    ev = _read(run_dir, "events.parquet")
    if "inter1" in ev.column_names:
        return ev.select(list(ACLED_COLUMNS))
    # an ensemble run's compact event log: seed and scale from its summary
    try:
        s = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        s = {}
    return acled_table(ev, sc, int(s.get("seed", 0)), float(s.get("scale", 0.0)))


def export_run(run_dir: str | Path, fmt: str, out: str | Path | None = None) -> dict[str, object]:
    """Write one export of the run in ``run_dir``; returns ``{format, path, rows}``."""
    if fmt not in FORMATS:
        raise UsageError(f"--format: unknown format '{fmt}' (expected one of: {', '.join(FORMATS)})")
    d = Path(run_dir)
    if not d.is_dir():
        raise UsageError(f"RUN_DIR: {d} is not a folder")
    target = Path(out) if out is not None else d / EXPORT_FILES[fmt]
    if target.is_dir():
        raise UsageError(f"--out: {target} is a folder; give a file name")
    sc = _scenario(d)
    try:
        if fmt in ("acled", "ged"):
            tbl = _acled(d, sc)
            if fmt == "ged":
                tbl = ged_table(tbl, sc)
            pacsv.write_csv(tbl, target)
            rows = tbl.num_rows
        else:
            panel = _read(d, "panel.parquet")
            if not panel_exports.is_described(panel):
                panel = panel_exports.describe(panel, sc)
            if fmt == "csv":
                pacsv.write_csv(panel, target)
            else:
                ds = panel_exports.to_xarray(panel_exports.to_frame(panel),
                                             {"scenario": sc.name, "country": sc.country or sc.name})
                panel_exports.write_netcdf(ds, str(target))
            rows = panel.num_rows
    except OSError as exc:
        raise UsageError(f"--out: cannot write {target}: {exc.strerror or type(exc).__name__}") from None
    return {"format": fmt, "path": str(target), "rows": rows}


@app.command("export")
def export(
    run_dir: Annotated[Path, typer.Argument(help="folder of a run (shatterbelt run --out DIR)")],
    format_: Annotated[str, typer.Option("--format", help=f"one of: {', '.join(FORMATS)}")] = "acled",
    out: Annotated[Path | None, typer.Option(help="file to write (default: RUN_DIR/<acled.csv|ged.csv|panel.nc|panel.csv>)")] = None,
    json_: Json = False,
) -> None:
    """Write a run's events as ACLED or UCDP GED data, or its panel as NetCDF or CSV."""
    info = export_run(run_dir, format_, out)
    if json_:
        emit_json(info)
    else:
        print(f"{info['format']}: {info['rows']:,} rows -> {info['path']}")
