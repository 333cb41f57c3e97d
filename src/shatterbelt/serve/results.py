"""What the API reads back from a finished job's folder: summaries, panel slices, events,
the figures of the shared report builders, and the comparison with a baseline job.

Everything here reads the files a run or an ensemble writes (through
:mod:`shatterbelt.report.data`), never the engine.  Figures are the report's own
(:func:`shatterbelt.report.standard_figures`, :func:`~shatterbelt.report.maps.governorate_map`),
rendered to SVG on the server, so the dashboard draws exactly what the report draws.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from ..exports.panel import compact
from ..report.data import NATIONAL, Group, ReportData, load
from ..report.figures import Figure, comparison_bars, standard_figures
from ..report.html import key_figures
from ..report.maps import governorate_map
from ..report.svg import render_map

#: the headline figures compared between a job and its baseline: (name, label, from a summary)
HEADLINE: list[tuple[str, str]] = [
    ("civilian_deaths", "civilian deaths, whole run"),
    ("battle_deaths", "battle deaths, whole run"),
    ("civil_war_years", "civil-war years"),
    ("peak_displaced", "peak displaced"),
    ("microstates_final", "microstates at the end"),
    ("army_cohesion_final", "army cohesion at the end"),
    ("vacuum_months", "months without a government"),
]


def headline_value(s: dict[str, Any], name: str) -> float:
    if name == "civilian_deaths":
        return float(sum(s.get("civilian_deaths_by_year", {}).values()))
    if name == "battle_deaths":
        return float(sum(s.get("battle_deaths_by_year", {}).values()))
    if name == "civil_war_years":
        return float(len(s.get("civil_war_years", [])))
    if name == "vacuum_months":
        v = s.get("vacuum_months_total")
        return math.nan if v is None else float(v)
    v = s.get(name)
    return math.nan if v is None else float(v)


def run_dirs(folder: Path) -> list[Path]:
    """The run folders of a job: itself (one run) or ``runs/*`` in manifest order (an ensemble)."""
    m = folder / "manifest.json"
    if not m.exists():
        return [folder]
    manifest = json.loads(m.read_text(encoding="utf-8"))
    return [folder / "runs" / r["run_id"] for r in manifest.get("runs", [])]


def summaries(folder: Path) -> list[dict[str, Any]]:
    return [json.loads((d / "summary.json").read_text(encoding="utf-8")) for d in run_dirs(folder)]


def panel_index(folder: Path) -> dict[str, Any]:
    df = compact(pq.read_table(run_dirs(folder)[0] / "panel.parquet")).to_pandas()
    national = sorted(set(df.loc[df["region"] == NATIONAL, "metric"]))
    regional = sorted(set(df.loc[df["region"] != NATIONAL, "metric"]))
    regions = sorted(set(df["region"]) - {NATIONAL})
    return {"national_metrics": national, "regional_metrics": regional, "regions": regions}


def panel_slice(folder: Path, metric: str, region: str, run: int) -> dict[str, Any] | None:
    """One metric at one place of one run by month (None when not recorded)."""
    dirs = run_dirs(folder)
    t = compact(pq.read_table(dirs[run] / "panel.parquet")).to_pandas()
    rows = t[(t["metric"] == metric) & (t["region"] == region)]
    if rows.empty:
        return None
    vals = [None if not math.isfinite(float(v)) else float(v) for v in rows["value"]]
    return {"metric": metric, "region": region, "run": run, "months": rows["month"].astype(str).tolist(),
            "values": vals}


def events(folder: Path, run: int, offset: int, limit: int, event_type: str | None) -> dict[str, Any]:
    t = pq.read_table(run_dirs(folder)[run] / "events.parquet").to_pandas()
    if event_type is not None:
        t = t[t["event_type"] == event_type]
    page = t.iloc[offset:offset + limit]
    rows = json.loads(page.to_json(orient="records", date_format="iso"))
    return {"run": run, "total": int(len(t)), "offset": offset, "limit": limit, "events": rows}


def _map_payload(fig: Figure) -> dict[str, Any]:
    d = fig.data
    return {"svg": render_map(fig, interactive=True), "months": d["months"],
            "names": [f["name"] for f in d["features"]],
            "layers": [{"title": L["title"], "button": L.get("button", L["title"]),
                        "colors": [i["color"] for i in L["legend"]], "cls": L["cls"], "text": L["text"]}
                       for L in d["layers"]]}


def _charts(fs: list[Figure]) -> list[dict[str, str]]:
    return [{"id": f.id, "title": f.title, "svg": f.svg()} for f in fs]


@lru_cache(maxsize=32)
def job_figures(folder: str) -> dict[str, Any]:
    """The map (SVG and the classes the page recolours it with), the charts and key figures of a job."""
    data = load(folder)
    m = governorate_map(data)
    return {"map": None if m is None else _map_payload(m), "charts": _charts(standard_figures(data)),
            "key_html": key_figures(data), "months": data.months}


def _merge(a: ReportData, b: ReportData, label_a: str, label_b: str) -> ReportData:
    """Two jobs as one ReportData with two groups (a comparison), aligned on metrics and places."""
    if a.months != b.months:
        raise ValueError(f"baseline covers {a.months[0]}..{a.months[-1]}, the job {b.months[0]}..{b.months[-1]}")
    places = [NATIONAL] + sorted(set(a.places + b.places) - {NATIONAL})
    metrics = sorted(set(a.metrics) | set(b.metrics))

    def aligned(d: ReportData) -> np.ndarray:
        g = d.groups[0]
        out = np.full((g.n, len(d.months), len(places), len(metrics)), np.nan)
        pi = np.array([places.index(p) for p in d.places])
        mi = np.array([metrics.index(m) for m in d.metrics])
        out[:, :, pi[:, None], mi[None, :]] = g.values
        return out
    ga = Group(label_a, a.groups[0].seeds, aligned(a), a.groups[0].summaries)
    gb = Group(label_b, b.groups[0].seeds, aligned(b), b.groups[0].summaries)
    out = ReportData(kind="ensemble", source="comparison", months=a.months, places=places, metrics=metrics,
                     groups=[ga, gb], region_names=dict(a.region_names), actor_names=dict(a.actor_names),
                     actor_kinds=dict(a.actor_kinds), community_names=dict(a.community_names),
                     patron_names=dict(a.patron_names), entity_names=dict(a.entity_names), country=a.country,
                     facts={"scale": a.facts.get("scale")})
    return out


def _effects(sa: list[dict[str, Any]], sb: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per headline figure: means, the change of the mean over paired runs and a 90% bootstrap interval."""
    rng = np.random.default_rng(0)
    n = min(len(sa), len(sb))
    rows = []
    for name, label in HEADLINE:
        xa = np.array([headline_value(s, name) for s in sa[:n]])
        xb = np.array([headline_value(s, name) for s in sb[:n]])
        ok = np.isfinite(xa) & np.isfinite(xb)
        if not ok.any():
            continue
        d = xb[ok] - xa[ok]
        eff = float(d.mean())
        if d.size > 1:
            boots = d[rng.integers(0, d.size, (2000, d.size))].mean(axis=1)
            lo, hi = (float(x) for x in np.quantile(boots, [0.05, 0.95]))
        else:
            lo = hi = eff
        ma, mb = float(xa[ok].mean()), float(xb[ok].mean())
        rows.append({"metric": name, "label": label, "mean_a": ma, "mean_b": mb, "effect": eff, "lo": lo, "hi": hi,
                     "percent": None if ma == 0 else 100.0 * eff / abs(ma), "pairs": int(ok.sum())})
    return rows


@lru_cache(maxsize=32)
def comparison(folder: str, baseline: str, label: str, base_label: str) -> dict[str, Any]:
    """A job against its baseline: headline effects, both scenarios' charts and the effects' bars."""
    a, b = load(baseline), load(folder)
    data = _merge(a, b, base_label, label)
    effects = _effects(a.groups[0].summaries, b.groups[0].summaries)
    data.tables["compare"] = {"a": base_label, "b": label, "pairs": min(a.groups[0].n, b.groups[0].n),
                              "metrics": effects, "headline": [r["metric"] for r in effects]}
    bars = comparison_bars(data)
    charts = [f for f in standard_figures(data) if not f.subtitle.endswith(" only")]
    return {"effects": effects, "bars_svg": None if bars is None or not bars.data["bars"] else bars.svg(),
            "charts": _charts(charts)}
