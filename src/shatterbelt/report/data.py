"""What a report draws, read from the files a run or an ensemble writes.

A run folder (``shatterbelt run --out DIR``) holds ``panel.parquet``, ``summary.json``,
``scenario.resolved.yaml`` and ``run_info.json``; an ensemble folder (``shatterbelt
ensemble``, ``compare``, ``claims``, ``backtest``) holds ``manifest.json`` and
``runs/<run_id>/`` with ``panel.parquet``, ``summary.json`` and ``run.json``, plus the
tables its command saved (``claims.json``, ``backtest.json``, ``compare.json``).  This
module turns either into one :class:`ReportData`: every run's panel as an array
``[run, month, place, metric]`` grouped by scenario, the summaries, names and the
reproducibility facts.  It reads nothing of the engine's internals.

Documented history comes from the scenario's own observations: the observed file its
``evaluation`` section names (``evaluation.observed``, a CSV in the package's data folder, the
format of ``shatterbelt backtest``), for any scenario that has one; documented displacement from
the ``idps_total`` rows of the ``outcomes_annual.csv`` beside it, where there are such rows.  The
calibration window and out-of-sample years come from the same section.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

import shatterbelt

from .. import __version__
from ..errors import ShatterbeltError
from ..exports.panel import compact

NATIONAL = "national"


class ReportError(ShatterbeltError):
    """A folder that holds no run or ensemble, or a figure that cannot be drawn from it."""


@dataclass
class Group:
    """The runs of one scenario: values ``[run, month, place, metric]`` (NaN where not recorded)."""

    label: str
    seeds: list[int]
    values: np.ndarray
    summaries: list[dict[str, Any]]

    @property
    def n(self) -> int:
        return int(self.values.shape[0])


@dataclass
class ReportData:
    kind: str  # "run" or "ensemble"
    source: str  # the folder read, as given
    months: list[str]
    places: list[str]  # "national" first, then region ids
    metrics: list[str]
    groups: list[Group]
    region_names: dict[str, str]
    actor_names: dict[str, str] = field(default_factory=dict)
    actor_kinds: dict[str, str] = field(default_factory=dict)
    community_names: dict[str, str] = field(default_factory=dict)
    patron_names: dict[str, str] = field(default_factory=dict)
    entity_names: dict[str, str] = field(default_factory=dict)
    country: str = ""
    scenario: dict[str, Any] | None = None  # the resolved scenario (a run folder only)
    facts: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, Any] = field(default_factory=dict)  # claims / backtest / compare when present
    evaluation: dict[str, Any] | None = None  # the scenario's evaluation section (windows, observed file)
    observed: list[dict[str, str]] = field(default_factory=list)  # rows of its observed file
    sources: dict[str, str] = field(default_factory=dict)  # the scenario's sources (credits)

    # ------------------------------------------------------------------ access
    @property
    def regions(self) -> list[str]:
        return [p for p in self.places if p != NATIONAL]

    def has(self, metric: str, place: str = NATIONAL) -> bool:
        if metric not in self._mi or place not in self._pi:
            return False
        return bool(np.isfinite(self.groups[0].values[:, :, self._pi[place], self._mi[metric]]).any())

    def get(self, metric: str, place: str = NATIONAL, group: int = 0) -> np.ndarray:
        """``[run, month]`` values of one metric at one place (NaN where absent)."""
        g = self.groups[group]
        if metric not in self._mi or place not in self._pi:
            return np.full((g.n, len(self.months)), np.nan)
        return g.values[:, :, self._pi[place], self._mi[metric]]

    def regional(self, metric: str, group: int = 0) -> np.ndarray:
        """``[run, month, region]`` values of one metric in every region."""
        g = self.groups[group]
        idx = [self._pi[r] for r in self.regions]
        if metric not in self._mi:
            return np.full((g.n, len(self.months), len(idx)), np.nan)
        return g.values[:, :, idx, self._mi[metric]]

    def prefixed(self, prefix: str, place: str = NATIONAL) -> list[str]:
        """Suffixes of the metrics ``prefix + suffix`` recorded at ``place`` (e.g. actors of ``fighters_``)."""
        return [m[len(prefix):] for m in self.metrics if m.startswith(prefix) and self.has(m, place)]

    def __post_init__(self) -> None:
        self._mi = {m: i for i, m in enumerate(self.metrics)}
        self._pi = {p: i for i, p in enumerate(self.places)}

    def actor(self, a: str) -> str:
        return self.actor_names.get(a, a.replace("_", " "))

    def entity(self, e: str) -> str:
        return "the state" if e == "state" else self.entity_names.get(e, self.actor_names.get(e, e))

    def community(self, c: str) -> str:
        return self.community_names.get(c, c.capitalize())

    def patron(self, p: str) -> str:
        return self.patron_names.get(p, p.upper() if len(p) <= 3 else p.capitalize())

    @property
    def fit_until(self) -> str | None:
        """Last month of the scenario's in-sample (calibration) window, if it has an evaluation section."""
        return (self.evaluation or {}).get("fit_until") or None

    def documented(self, measure: str, granularity: str) -> dict[str, list[tuple[str, float]]]:
        """Observed ``measure`` by period (``month`` or ``year``), grouped into labelled series by source."""
        rows = [r for r in self.observed if r.get("measure") == measure
                and (len(r.get("period", "")) == 7) == (granularity == "month")]
        out: dict[str, list[tuple[str, float]]] = {}
        for r in rows:
            out.setdefault(_source_label(r.get("source", ""), self.evaluation), []).append(
                (r["period"], float(r["value"])))
        if len(out) > 4:  # too many sources to tell apart: one series
            merged = [pt for pts in out.values() for pt in pts]
            out = {f"documented ({(self.evaluation or {}).get('observed', 'observed')})": merged}
        return {k: sorted(v) for k, v in out.items()}


# ---------------------------------------------------------------------- panels
def _panel_array(tables: list[pa.Table]) -> tuple[list[str], list[str], list[str], np.ndarray]:
    """Stack compact panels (month, region, metric, value) into ``[run, month, place, metric]``
    (a run's written self-describing panel is read through :func:`~shatterbelt.exports.panel.compact`)."""
    months: set[str] = set()
    places: set[str] = set()
    metrics: set[str] = set()
    cols = []
    for t in tables:
        m = t.column("month").to_numpy(zero_copy_only=False).astype(str)
        r = t.column("region").to_numpy(zero_copy_only=False).astype(str)
        k = t.column("metric").to_numpy(zero_copy_only=False).astype(str)
        v = t.column("value").to_numpy(zero_copy_only=False).astype(np.float64)
        cols.append((m, r, k, v))
        months.update(np.unique(m).tolist())
        places.update(np.unique(r).tolist())
        metrics.update(np.unique(k).tolist())
    mlist = sorted(months)
    plist = [NATIONAL] + sorted(places - {NATIONAL})
    klist = sorted(metrics)
    arr = np.full((len(tables), len(mlist), len(plist), len(klist)), np.nan)
    for i, (m, r, k, v) in enumerate(cols):
        mi = np.searchsorted(mlist, m)
        ki = np.searchsorted(klist, k)
        pidx = {p: j for j, p in enumerate(plist)}
        pi = np.fromiter((pidx[x] for x in r), np.int64, len(r))
        arr[i, mi, pi, ki] = v
    return mlist, plist, klist, arr


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _source_label(source: str, evaluation: dict[str, Any] | None) -> str:
    """A short legend label for a row's source: its text before the first ' (', ';' or ':'."""
    short = source
    for sep in (" (", ";", ":"):
        short = short.split(sep)[0]
    short = short.strip()[:48]
    if not short or short.endswith(".csv"):
        return f"documented ({(evaluation or {}).get('observed', 'observed')})"
    return short


def read_observed_rows(observed: str) -> list[dict[str, str]]:
    """The rows of an observed file in the package's data folder (``lebanon/observed.csv``); [] if absent."""
    if not observed or ".." in observed:
        return []
    path = resources.files("shatterbelt") / "data"
    for part in observed.split("/"):
        path = path / part
    if not path.is_file():
        return []
    return [r for r in csv.DictReader(path.read_text(encoding="utf-8-sig").splitlines())
            if r.get("period") and r.get("measure") and r.get("value")]


def documented_idps(observed: str) -> dict[int, float]:
    """Documented internally displaced people by year (``idps_total`` in the observed file's folder's
    ``outcomes_annual.csv``), if that folder has such rows."""
    folder = observed.split("/")[0] if "/" in observed else ""
    path = resources.files("shatterbelt") / "data" / folder / "outcomes_annual.csv"
    if not folder or ".." in folder or not path.is_file():
        return {}
    rows = csv.DictReader(path.read_text(encoding="utf-8").splitlines())
    return {int(r["year"]): float(r["value"]) for r in rows if r.get("metric") == "idps_total"}


def map_region_names() -> dict[str, str]:
    """ISO 3166-2 code -> governorate name, from every map the package ships (the names a scenario
    without its own region names falls back to)."""
    out: dict[str, str] = {}
    for folder in map_folders():
        out.update({f["properties"]["iso"]: f["properties"]["name"] for f in _map(folder)["features"]})
    return out


def _names(sc: dict[str, Any], key: str) -> dict[str, str]:
    return {x["id"]: x.get("name", x["id"]) for x in sc.get(key, []) or [] if isinstance(x, dict) and "id" in x}


def _scenario_names(data: ReportData, sc: dict[str, Any]) -> None:
    data.region_names.update(_names(sc, "regions"))
    data.actor_names.update(_names(sc, "actors"))
    data.actor_kinds.update({a["id"]: a.get("kind", "") for a in sc.get("actors", []) or []})
    data.community_names.update(_names(sc, "communities"))
    data.patron_names.update(_names(sc, "patrons"))
    data.entity_names.update(_names(sc, "blocs"))
    data.country = sc.get("country") or data.country
    ev = sc.get("evaluation")
    if isinstance(ev, dict):
        data.evaluation = ev
        data.observed = read_observed_rows(str(ev.get("observed") or ""))
    src = sc.get("sources")
    if isinstance(src, dict):
        data.sources = {str(k): str(v) for k, v in src.items()}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_run(path: Path) -> ReportData:
    summary = _read_json(path / "summary.json")
    months, places, metrics, arr = _panel_array([compact(pq.read_table(path / "panel.parquet"))])
    seed = int(summary.get("seed", 0))
    label = str(summary.get("scenario", path.name))
    data = ReportData(
        kind="run", source=str(path), months=months, places=places, metrics=metrics,
        groups=[Group(label, [seed], arr, [summary])], region_names=map_region_names(),
    )
    sc_path = path / "scenario.resolved.yaml"
    facts: dict[str, Any] = {
        "scenario": label, "seed": seed, "scale": summary.get("scale"), "agents": summary.get("agents"),
        "months": f"{summary.get('start')} .. {summary.get('end')} ({summary.get('months')})",
        "complete": summary.get("complete"),
    }
    if sc_path.exists():
        sc = yaml.safe_load(sc_path.read_text(encoding="utf-8")) or {}
        data.scenario = sc
        _scenario_names(data, sc)
        facts["scenario_sha256"] = _sha256(sc_path)
    info_path = path / "run_info.json"
    if info_path.exists():
        facts["backend"] = _read_json(info_path).get("backend")
    facts["command"] = f"shatterbelt run {path / 'scenario.resolved.yaml' if sc_path.exists() else label} " \
                       f"--seed {seed} --scale {summary.get('scale')}"
    facts["report_by"] = f"shatterbelt {__version__}"
    data.facts = facts
    return data


def load_ensemble(path: Path) -> ReportData:
    manifest = _read_json(path / "manifest.json")
    runs = manifest.get("runs", [])
    by_label: dict[str, list[dict[str, Any]]] = {}
    for r in runs:
        d = path / "runs" / r["run_id"]
        if (d / "summary.json").exists():
            by_label.setdefault(r["scenario"], []).append(r)
    if not by_label:
        raise ReportError(f"{path}: the ensemble holds no finished run yet")
    tables, owners = [], []
    summaries: dict[str, list[dict[str, Any]]] = {}
    for label, rs in by_label.items():
        for r in rs:
            d = path / "runs" / r["run_id"]
            p = d / "panel.parquet"
            tables.append(compact(pq.read_table(p)) if p.exists() else pa.table(
                {"month": pa.array([], pa.string()), "region": pa.array([], pa.string()),
                 "metric": pa.array([], pa.string()), "value": pa.array([], pa.float64())}))
            owners.append(label)
            summaries.setdefault(label, []).append(_read_json(d / "summary.json"))
    months, places, metrics, arr = _panel_array(tables)
    groups = []
    owners_a = np.array(owners)
    for label, rs in by_label.items():
        groups.append(Group(label, [int(r["seed"]) for r in rs], arr[owners_a == label], summaries[label]))
    data = ReportData(
        kind="ensemble", source=str(path), months=months, places=places, metrics=metrics, groups=groups,
        region_names=map_region_names(),
    )
    data.country = ""
    try:  # names of actors, communities and patrons from the scenario the label names, when it resolves
        sc = shatterbelt.load_scenario(groups[0].label)
        _scenario_names(data, sc.model_dump(mode="json"))
    except ShatterbeltError:
        pass
    design = manifest.get("design", {})
    data.facts = {
        "kind": manifest.get("kind", "ensemble"),
        "scenarios": ", ".join(f"{s['label']} (sha256 {s['sha256'][:16]}...)" for s in manifest.get("scenarios", [])),
        "runs": ", ".join(f"{g.label}: {g.n}" for g in groups),
        "seeds": ", ".join(f"{g.label}: {min(g.seeds)}..{max(g.seeds)}" for g in groups),
        "scale": manifest.get("scale"),
        "until": manifest.get("until"),
        "design": design.get("method", "none"),
        "sampled parameters": len(design.get("parameters", []) or []),
        "overrides": ", ".join(manifest.get("overrides", []) or []) or "none",
        "panel stored": manifest.get("panel"),
        "simulated by": f"shatterbelt {manifest.get('package_version', '?')}",
        "command": manifest.get("command_line") or "",
        "report_by": f"shatterbelt {__version__}",
    }
    for name in ("claims", "backtest", "compare"):
        p = path / f"{name}.json"
        if p.exists():
            data.tables[name] = _read_json(p)
    return data


def load(source: str | os.PathLike[str] | Any) -> ReportData:
    """A run folder, an ensemble folder, or an in-memory :class:`~shatterbelt.result.Result`."""
    if not isinstance(source, (str, os.PathLike)):
        return from_result(source)
    path = Path(source)
    if (path / "manifest.json").exists():
        return load_ensemble(path)
    if (path / "panel.parquet").exists() and (path / "summary.json").exists():
        return load_run(path)
    if not path.exists():
        raise ReportError(f"{path}: no such folder")
    raise ReportError(f"{path}: holds neither a run (panel.parquet, summary.json) nor an ensemble (manifest.json)")


def from_result(res: Any) -> ReportData:
    """ReportData of a Result held in memory (its ``panel``, ``summary`` and ``scenario``)."""
    summary = dict(res.summary)
    months, places, metrics, arr = _panel_array([res.panel])
    seed = int(summary.get("seed", 0))
    data = ReportData(
        kind="run", source="(in memory)", months=months, places=places, metrics=metrics,
        groups=[Group(str(summary.get("scenario", "")), [seed], arr, [summary])],
        region_names=map_region_names(),
    )
    sc = getattr(res, "scenario", None)
    if sc is not None and hasattr(sc, "model_dump"):
        d = sc.model_dump(mode="json")
        _scenario_names(data, d)
    data.facts = {"scenario": summary.get("scenario"), "seed": seed, "scale": summary.get("scale")}
    return data


def map_folders() -> list[str]:
    """Data folders of the package that hold a governorate map (``<folder>/<folder>_governorates.geojson``)."""
    root = Path(str(resources.files("shatterbelt") / "data"))
    return sorted(p.name for p in root.iterdir() if (p / f"{p.name}_governorates.geojson").is_file())


def _map_file(folder: str) -> Path:
    return Path(str(resources.files("shatterbelt") / "data" / folder / f"{folder}_governorates.geojson"))


def _map(folder: str) -> dict[str, Any]:
    return json.loads(_map_file(folder).read_text(encoding="utf-8"))


def map_folder(regions: list[str]) -> str | None:
    """The data folder whose map has exactly these regions (ISO codes), if any: the map of any scenario's country."""
    want = set(regions)
    for folder in map_folders():
        if {f["properties"]["iso"] for f in _map(folder)["features"]} == want:
            return folder
    return None


def governorate_features(folder: str = "iraq") -> list[dict[str, Any]]:
    """The governorate polygons (GeoJSON features) of a data folder's map."""
    return _map(folder)["features"]


def map_attribution(folder: str = "iraq") -> str:
    return str(_map(folder).get("attribution", ""))


def map_note(folder: str = "iraq") -> str:
    """The line printed under the map (its boundaries' credit)."""
    g = _map(folder)
    return str(g.get("map_note") or g.get("attribution", ""))


def governorate_areas(folder: str = "iraq") -> dict[str, tuple[float, float]]:
    """ISO code -> (official area km², area of the polygon in the map file km²), where the folder's
    ``governorates.csv`` has them (``code``, ``area_km2``, ``area_km2_geoboundaries_geom``)."""
    out: dict[str, tuple[float, float]] = {}
    path = Path(str(resources.files("shatterbelt") / "data" / folder / "governorates.csv"))
    if not path.is_file():
        return out
    with path.open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            try:
                out[r["code"]] = (float(r["area_km2"]), float(r["area_km2_geoboundaries_geom"]))
            except (KeyError, TypeError, ValueError):
                return {}
    return out
