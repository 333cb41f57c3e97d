"""Turning a run into files: panel.parquet, events.parquet/.csv, summary.json, scenario.resolved.yaml.

Analysis and presentation stay out of the kernels: this module only reads the
world's recorded arrays.  Files are written deterministically (no timestamps,
stable row order, fixed compression) so that the same scenario and seed give
byte-identical outputs; wall-clock timings go to a separate ``run_info.json``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

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
    """Events in ACLED's column vocabulary, sorted by date (ties keep generation order)."""
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


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_result(res: Result, out_dir: str | os.PathLike[str]) -> dict[str, str]:
    """Write every output of a run into ``out_dir``; returns name -> path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, tbl in (("panel.parquet", res.panel), ("events.parquet", res.events)):
        p = out / name
        tmp = p.with_suffix(".parquet.tmp")
        pq.write_table(tbl, tmp, compression="zstd", write_statistics=False, store_schema=False)
        os.replace(tmp, p)
        paths[name] = str(p)
    p = out / "events.csv"
    tmp = p.with_suffix(".csv.tmp")
    pacsv.write_csv(res.events, tmp)
    os.replace(tmp, p)
    paths["events.csv"] = str(p)
    _atomic_write_bytes(out / "summary.json", dumps(res.summary).encode())
    paths["summary.json"] = str(out / "summary.json")
    _atomic_write_bytes(out / "scenario.resolved.yaml", dump_scenario(res.scenario).encode())
    paths["scenario.resolved.yaml"] = str(out / "scenario.resolved.yaml")
    info = {
        "timings_s": {k: round(v, 4) for k, v in res.timings.items()},
        "agents": res.world.people.n,
        "backend": res.world.backend,
    }
    _atomic_write_bytes(out / "run_info.json", dumps(info).encode())
    paths["run_info.json"] = str(out / "run_info.json")
    return paths
