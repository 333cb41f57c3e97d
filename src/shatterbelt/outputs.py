"""Turning a run into files: panel.parquet, metrics.csv, events.parquet/.csv, summary.json,
scenario.resolved.yaml.

``panel.parquet`` holds the self-describing panel (``month, region_code, region_name, measure,
subject, value``) and ``metrics.csv`` its dictionary (:mod:`shatterbelt.exports.panel`);
``events.parquet`` and ``events.csv`` hold the events with ACLED's full column set
(:mod:`shatterbelt.exports.acled`).  The engine's compact tables (``Result.panel``,
``Result.events``) are what ensembles store.

Analysis and presentation stay out of the kernels: this module only reads the
world's recorded arrays.  Files are written deterministically (no timestamps,
stable row order, fixed compression) so that the same scenario and seed give
byte-identical outputs; wall-clock timings go to a separate ``run_info.json``.

A run's files are written whole: :func:`check_out_dir` refuses an unusable folder before any
computing, and :func:`write_result` writes every file into a temporary folder beside the
target and swaps it in, so a folder holds one complete run (or a partial one whose
``summary.json`` says ``complete: false``), never a mix of two runs, never a stale file of an
earlier run and never a leftover ``.tmp``.  A failed write (a full disk) leaves the target as
it was and raises one line (:class:`OutputError`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .errors import ShatterbeltError
from .exports.acled import acled_table
from .exports.panel import describe, metrics_table
from .modules.violence import EVENT_TYPES, SUB_TYPES
from .scenario.loader import dump_scenario

if TYPE_CHECKING:
    from .result import Result
    from .world import World

NATIONAL = "national"


def build_panel(w: World) -> pa.Table:
    """Tidy panel: one row per (month, region, metric); region 'national' for country-wide metrics."""
    rec = w.record
    T = w.t_done
    _, R, M = rec.reg.shape
    months = np.array(w.months[:T], dtype=object)
    regions = np.array(w.reg.ids, dtype=object)
    mnames = np.array(rec.reg_names, dtype=object)
    tt, rr, mm = np.meshgrid(np.arange(T), np.arange(R), np.arange(M), indexing="ij")
    v = rec.reg[:T].reshape(-1)
    keep = ~np.isnan(v)
    reg_tbl = {
        "month": months[tt.reshape(-1)[keep]],
        "region": regions[rr.reshape(-1)[keep]],
        "metric": mnames[mm.reshape(-1)[keep]],
        "value": v[keep],
    }
    Mn = rec.nat.shape[1]
    tn, mn = np.meshgrid(np.arange(T), np.arange(Mn), indexing="ij")
    vn = rec.nat[:T].reshape(-1)
    kn = ~np.isnan(vn)
    nnames = np.array(rec.nat_names, dtype=object)
    nat_tbl = {
        "month": months[tn.reshape(-1)[kn]],
        "region": np.full(int(kn.sum()), NATIONAL, dtype=object),
        "metric": nnames[mn.reshape(-1)[kn]],
        "value": vn[kn],
    }
    cols = {k: np.concatenate([nat_tbl[k], reg_tbl[k]]) for k in ("month", "region", "metric", "value")}
    return pa.table(
        {
            "month": pa.array(cols["month"].tolist(), pa.string()),
            "region": pa.array(cols["region"].tolist(), pa.string()),
            "metric": pa.array(cols["metric"].tolist(), pa.string()),
            "value": pa.array(cols["value"].astype(np.float64), pa.float64()),
        }
    )


def build_events(w: World, seed: int) -> pa.Table:
    """The engine's event log, sorted by date (ties keep generation order): a few of ACLED's columns
    (``event_id, event_date, event_type, sub_event_type, actor1, actor2, admin1, iso, fatalities,
    civilian_targeting``; civilians as ``Civilians (<country>): <community>``).  The written
    ``events.csv`` has ACLED's full column set (:func:`shatterbelt.exports.acled.acled_table`)."""
    ev = w.events.columns()
    ctl = w.control_events.columns()  # changes of control (control step)
    if len(ctl["month"]):
        ev = {k: np.concatenate([ev[k], ctl[k]]) for k in ev}
    n = len(ev["month"])
    order = np.lexsort((np.arange(n), ev["day"], ev["month"])) if n else np.zeros(0, np.int64)
    ev = {k: v[order] for k, v in ev.items()}
    dates = [
        dt.date(*map(int, w.months[int(m)].split("-")), int(d)) for m, d in zip(ev["month"], ev["day"], strict=True)
    ]
    country = w.sc.country or w.sc.name
    actor_names = np.array(w.actor_names, dtype=object)
    comm_names = np.array([c.name for c in w.sc.communities], dtype=object)
    a2 = ev["actor2"].astype(np.int64)
    actor2 = np.where(
        a2 >= 0,
        actor_names[np.maximum(a2, 0)],
        np.array([f"Civilians ({country}): {comm_names[-x - 1]}" if x < 0 else "" for x in a2], dtype=object),
    )
    region_names = np.array(w.region_names, dtype=object)
    return pa.table(
        {
            "event_id": pa.array([f"SB{seed}-{i + 1:06d}" for i in range(n)], pa.string()),
            "event_date": pa.array(dates, pa.date32()),
            "event_type": pa.array([EVENT_TYPES[int(x)] for x in ev["etype"]], pa.string()),
            "sub_event_type": pa.array([SUB_TYPES[int(x)] for x in ev["sub"]], pa.string()),
            "actor1": pa.array(actor_names[ev["actor1"].astype(np.int64)].tolist() if n else [], pa.string()),
            "actor2": pa.array(actor2.tolist() if n else [], pa.string()),
            "admin1": pa.array(region_names[ev["region"].astype(np.int64)].tolist() if n else [], pa.string()),
            "iso": pa.array(np.full(n, w.sc.iso_numeric, np.int32), pa.int32()),
            "fatalities": pa.array(ev["fatalities"].astype(np.int64), pa.int64()),
            "civilian_targeting": pa.array(["Civilian targeting" if c else "" for c in ev["civ"]], pa.string()),
        }
    )


def _json_default(o: Any) -> Any:
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(type(o).__name__)


def dumps(obj: Any) -> str:
    return json.dumps(obj, indent=2, default=_json_default, allow_nan=False, ensure_ascii=False) + "\n"


#: what ``shatterbelt export`` writes into a run's folder (format -> file name)
EXPORT_FILES = {"acled": "acled.csv", "ged": "ged.csv", "netcdf": "panel.nc", "csv": "panel.csv"}
#: what a run folder may hold: the files :func:`write_result` writes, the report and the exports beside them
RUN_FILES = frozenset({
    "panel.parquet", "metrics.csv", "events.parquet", "events.csv", "summary.json", "scenario.resolved.yaml",
    "run_info.json", "report.html", "figures", *EXPORT_FILES.values(),
})


class OutputError(ShatterbeltError):
    """An output folder cannot be used or written (one line naming the folder and the cause)."""


def safe_name(name: str) -> str:
    """``name`` as one harmless path component (no separator, no ``..``, no leading dot)."""
    s = re.sub(r"[^A-Za-z0-9_.+-]+", "_", str(name)).replace("+", "_").lstrip(".")
    return s[:80] or "scenario"


def _why(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def check_out_dir(out_dir: str | os.PathLike[str]) -> Path:
    """Check before computing that a run can be written to ``out_dir``; returns it as a Path.

    Refused, with one line: an empty path, a path that is a file (``/dev/null``) or lies under
    one, a folder that holds files other than a run's outputs (``--out .``), and a place where
    no folder can be created (``/proc``, no permission).  Nothing is left behind by the check.
    """
    if str(out_dir).strip() == "":
        raise OutputError("out: an empty path is not a folder (give a folder to write into)")
    out = Path(out_dir)
    if out.exists() or out.is_symlink():
        if not out.is_dir():
            raise OutputError(f"out: {out} exists and is not a folder")
        try:
            foreign = sorted(p.name for p in out.iterdir() if p.name not in RUN_FILES)
        except OSError as exc:
            raise OutputError(f"out: cannot read the folder {out}: {_why(exc)}") from None
        if foreign:
            shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
            raise OutputError(f"out: {out} holds files that are not a run's outputs ({shown}); "
                              "give a new or empty folder, or a run's folder to replace") from None
    parent = out.absolute().parent
    probe = parent
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise OutputError(f"out: {out} lies under {probe}, which is not a folder")
    try:
        tmp = tempfile.mkdtemp(prefix=".shatterbelt-check-", dir=probe)
        os.rmdir(tmp)
    except OSError as exc:
        raise OutputError(f"out: cannot create a folder in {probe}: {_why(exc)}") from None
    return out


def _write_files(res: Result, out: Path) -> None:
    """Every file of a run into the (new, empty) folder ``out``."""
    panel = describe(res.panel, res.scenario)
    events = acled_table(res.events, res.scenario, res.seed, res.scale)
    for name, tbl in (("panel.parquet", panel), ("events.parquet", events)):
        pq.write_table(tbl, out / name, compression="zstd", write_statistics=False, store_schema=False)
    pacsv.write_csv(metrics_table(res.panel.column("metric").unique().to_pylist()), out / "metrics.csv")
    pacsv.write_csv(events, out / "events.csv")
    (out / "summary.json").write_bytes(dumps(res.summary).encode())
    (out / "scenario.resolved.yaml").write_bytes(dump_scenario(res.scenario).encode())
    info = {
        "timings_s": {k: round(v, 4) for k, v in res.timings.items()},
        "agents": res.world.people.n,
        "backend": res.world.backend,
    }
    (out / "run_info.json").write_bytes(dumps(info).encode())


#: the files of a run, in the order :func:`write_result` returns them
OUTPUT_NAMES = ("panel.parquet", "metrics.csv", "events.parquet", "events.csv", "summary.json",
                "scenario.resolved.yaml", "run_info.json")


def write_result(res: Result, out_dir: str | os.PathLike[str],
                 extra: Callable[[Path], dict[str, str]] | None = None) -> dict[str, str]:
    """Write every output of a run into ``out_dir`` whole; returns name -> path.

    The files go to a temporary folder beside ``out_dir`` which then replaces it (an earlier
    run's folder is removed with its stale files).  ``extra(tmp)`` may add files to the
    temporary folder before the swap (the CLI's ``report.html``); it returns name -> file name.
    On any failure the temporary folder is removed, ``out_dir`` is left as it was and
    :class:`OutputError` names the cause.
    """
    out = check_out_dir(out_dir)
    parent = out.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=parent))
    except OSError as exc:
        raise OutputError(f"out: cannot create a folder in {parent}: {_why(exc)}") from None
    old: Path | None = None
    try:
        _write_files(res, tmp)
        names = {n: n for n in OUTPUT_NAMES}
        if extra is not None:
            names.update(extra(tmp))
        os.chmod(tmp, 0o777 & ~_umask())
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=parent))
            os.rmdir(old)
            os.replace(out, old)
        os.replace(tmp, out)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and old.exists() and not out.exists():
            os.replace(old, out)  # put the earlier run back
        raise OutputError(f"out: cannot write the run to {out}: {_why(exc)}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and old.exists() and not out.exists():
            os.replace(old, out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return {k: str(out / v) for k, v in names.items()}


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
