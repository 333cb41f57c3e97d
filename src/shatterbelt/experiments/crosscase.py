"""Cross-case comparison: two scenarios (two countries) side by side, what differs between their
inputs, and which mechanism channels separate the one that escalates from the one that does not.

:func:`run_crosscase`

1. runs a small ensemble of each scenario on the same seeds (point values, ``sample="none"``
   unless asked otherwise) and reports the headline outcomes (:data:`HEADLINE`) side by side:
   the runs' mean with a 90% bootstrap interval of the mean, and the runs' median and 90% range;
2. lists the parameters (``{value, range, source}`` leaves at the same path in both scenarios)
   whose values differ, largest relative difference first, and counts those only one has;
3. takes the case with the higher deaths per 100,000 people per year as the escalating one (or
   the one named by ``escalating``) and
   reruns it with each mechanism channel (:data:`CHANNELS`, ``parameters.*`` of the modules, the
   same for every scenario; the patrons' money is each of the scenario's own patrons' budget) set
   to zero through ``--set`` overrides, on the same seeds; a channel *separates* the cases when
   zeroing it closes at least half of the gap in deaths per 100,000 a year between the two, with
   the 90% interval of the paired change excluding zero.

Nothing here names a country: the channels are module parameters and the scenario's own ids.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..scenario.provenance import collect_params
from .ensemble import Ensemble, check_failures, slug
from .overlay import scenario_from_raw

#: headline outcomes: metric key, label
HEADLINE: tuple[tuple[str, str], ...] = (
    ("deaths.per_100k_year", "deaths per 100,000 people per year"),
    ("civil_war.any", "share of runs with a civil-war year (>= 1,000 battle deaths)"),
    ("civil_war.years", "civil-war years per run"),
    ("army_collapses.count", "army collapses (local) per run"),
    ("vacuum_months_total", "months without a government (vacuum) per run"),
    ("insurgent_fighters_peak", "insurgent fighters at their peak"),
)
#: the essay's mechanism channels: name -> (what it is, module parameters set to zero to remove it)
CHANNELS: dict[str, tuple[str, tuple[str, ...]]] = {
    "war_next_door": ("a war in a neighbouring country: havens, recruits and war income across the border",
                      ("parameters.mobilization.haven_pull", "parameters.economy.war_income_boost",
                       "parameters.violence.haven_quality", "parameters.violence.haven_detention")),
    "vacuum": ("the political vacuum's pull on recruits, legitimacy and the army",
               ("parameters.mobilization.vacuum_pull", "parameters.legitimacy.w_vac", "parameters.army.a_vac")),
    "occupation": ("the weight of a foreign army's presence in the state's legitimacy",
                   ("parameters.legitimacy.w_occ",)),
    "exclusion": ("rival leaders moved against (arrests, exclusion from posts; with a politics layer) and the weight "
                  "of a community's exclusion in the state's legitimacy", ("parameters.legitimacy.w_excl",)),
    "army_politicisation": ("an army 'distributed among the entities': politicisation eroding its cohesion",
                            ("parameters.army.a_pol",)),
    "network_growth": ("armed groups growing through their members' ties", ("parameters.mobilization.network_rate",)),
    "patron_money": ("foreign patrons' money to their clients (every patron's budget)", ()),
}
#: share of the gap between the cases a channel must close to separate them
SEPARATES = 0.5
BOOT = 2000


def _ci_mean(x: np.ndarray, seed: int = 0) -> tuple[float, float, float]:
    """Mean and 90% bootstrap interval of the mean (NaN-free input)."""
    if x.size == 0:
        return math.nan, math.nan, math.nan
    if x.size == 1:
        return float(x[0]), float(x[0]), float(x[0])
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, (BOOT, x.size))].mean(1)
    return float(x.mean()), float(np.quantile(means, 0.05)), float(np.quantile(means, 0.95))


def describe(x: np.ndarray) -> dict[str, float]:
    """Mean with a 90% bootstrap interval, median and the runs' 90% range."""
    x = x[np.isfinite(x)]
    m, lo, hi = _ci_mean(x)
    return {"runs": int(x.size), "mean": m, "mean_lo90": lo, "mean_hi90": hi,
            "median": float(np.median(x)) if x.size else math.nan,
            "p05": float(np.quantile(x, 0.05)) if x.size else math.nan,
            "p95": float(np.quantile(x, 0.95)) if x.size else math.nan}


def differing_parameters(a: Any, b: Any) -> tuple[list[dict[str, Any]], int, int]:
    """Parameters at the same path in both scenarios with different values (largest relative difference
    first), and how many paths only the first / only the second has.  The elements of a list
    (``politics.violence.monthly[3]``) are one row, ``[*]``, with the mean of each side's values."""
    def grouped(sc: Any) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for p in collect_params(sc):
            key = re.sub(r"\[\d+\]", "[*]", p["path"])
            g = out.setdefault(key, {"values": [], "source": p["source"]})
            g["values"].append(p["value"])
        return out

    pa, pb = grouped(a), grouped(b)
    rows = []
    for path in sorted(set(pa) & set(pb)):
        va, vb = float(np.mean(pa[path]["values"])), float(np.mean(pb[path]["values"]))
        if va == vb and pa[path]["values"] == pb[path]["values"]:
            continue
        rel = abs(va - vb) / max(abs(va), abs(vb), 1e-12)
        rows.append({"path": path, "a": va, "b": vb, "relative_difference": rel,
                     "values_a": len(pa[path]["values"]), "values_b": len(pb[path]["values"]),
                     "source_a": pa[path]["source"], "source_b": pb[path]["source"]})
    rows.sort(key=lambda r: (-r["relative_difference"], r["path"]))
    return rows, len(set(pa) - set(pb)), len(set(pb) - set(pa))


def channel_overrides(name: str, sc: Any) -> list[str]:
    """The ``--set`` overrides that remove a channel from scenario ``sc``."""
    if name == "patron_money":
        return [f"patrons.{p.id}.budget=0" for p in sc.patrons]
    out = [f"{p}=0" for p in CHANNELS[name][1]]
    if name == "exclusion" and sc.politics is not None and sc.politics.marginalization is not None:
        out.append("politics.marginalization.base_rate=0")
    return out


@dataclass
class CrossCase:
    a: str
    b: str
    runs: int
    headline: dict[str, dict[str, Any]]
    parameters: list[dict[str, Any]]
    only_a: int
    only_b: int
    escalating: str
    calm: str
    ablations: list[dict[str, Any]]
    out: Path
    separating: list[str] = field(default_factory=list)
    gap: float = math.nan  # deaths per 100,000 a year, escalating minus calm (means)

    def to_json(self) -> dict[str, Any]:
        def clean(o: Any) -> Any:
            if isinstance(o, float):
                return o if math.isfinite(o) else None
            if isinstance(o, dict):
                return {k: clean(v) for k, v in o.items()}
            if isinstance(o, list):
                return [clean(v) for v in o]
            return o

        return clean({
            "a": self.a, "b": self.b, "runs": self.runs, "headline": self.headline,
            "parameters_differing": self.parameters, "parameters_only_a": self.only_a,
            "parameters_only_b": self.only_b, "escalating": self.escalating, "calm": self.calm,
            "ablations": self.ablations, "separating_channels": self.separating,
            "gap": self.gap,
            "rule": f"a channel separates the cases when removing it from the escalating case closes at least "
                    f"{SEPARATES:.0%} of the gap in deaths per 100,000 a year, the 90% interval of the paired "
                    "change excluding zero",
            "saved": str(self.out / "crosscase.json"),
        })


def _values(res: Any, label: str, metric: str) -> np.ndarray:
    wide = res.metrics(label)
    if metric not in wide:
        return np.full(len(wide), np.nan)
    return wide[metric].to_numpy(float)


def run_crosscase(a: str, b: str, runs: int, out: str | Path, channels: list[str] | None = None,
                  escalating: str | None = None, **kw: Any) -> CrossCase:
    """Run both cases, compare them, and ablate the escalating one's channels (module docstring);
    ``escalating`` (``a`` or ``b``'s label) names the case to ablate instead of the model's deadlier one
    (the case that escalated in history, say)."""
    run_kw = {k: kw.pop(k) for k in ("workers", "scheduler", "progress", "rebuild", "connect_timeout") if k in kw}
    kw.setdefault("sample", "none")
    kw.setdefault("panel", "none")
    out = Path(out)
    ens = Ensemble([a, b], runs=runs, out=out / "cases", kind="crosscase", **kw)
    sca = scenario_from_raw(ens._raw[a], a, list(ens.overrides), warn=False)
    scb = scenario_from_raw(ens._raw[b], b, list(ens.overrides), warn=False)
    res = ens.run(**run_kw)
    try:
        check_failures(res)
        vals = {lab: {m: _values(res, lab, m) for m, _ in HEADLINE} for lab in (a, b)}
    finally:
        res.close()
    headline = {m: {"label": label, a: describe(vals[a][m]), b: describe(vals[b][m])} for m, label in HEADLINE}
    params, only_a, only_b = differing_parameters(sca, scb)
    key = "deaths.per_100k_year"
    ma, mb = headline[key][a]["mean"], headline[key][b]["mean"]
    if escalating is not None:
        esc, calm = (a, b) if escalating == a else (b, a)
    else:
        esc, calm = (a, b) if (ma if math.isfinite(ma) else -1) >= (mb if math.isfinite(mb) else -1) else (b, a)
    sc_esc = sca if esc == a else scb
    gap = headline[key][esc]["mean"] - headline[key][calm]["mean"]
    base = vals[esc][key]
    base_war = vals[esc]["civil_war.any"]
    ablations = []
    for name in channels if channels is not None else list(CHANNELS):
        sets = channel_overrides(name, sc_esc)
        ab = Ensemble([esc], runs=runs, out=out / f"ablate-{slug(esc)}-{slug(name)}", kind="crosscase-ablation",
                      **{**kw, "overrides": [*kw.get("overrides", []), *sets]})
        r = ab.run(**run_kw)
        try:
            check_failures(r)
            x = _values(r, esc, key)
            war = _values(r, esc, "civil_war.any")
        finally:
            r.close()
        n = min(x.size, base.size)
        diff = (x[:n] - base[:n])[np.isfinite(x[:n] - base[:n])]
        d, lo, hi = _ci_mean(diff)
        closed = -d / gap if gap > 0 and math.isfinite(d) else math.nan  # no gap: the case is not the deadlier
        sep = bool(math.isfinite(closed) and closed >= SEPARATES and hi < 0)
        ablations.append({
            "channel": name, "what": CHANNELS[name][0], "set": sets,
            key: describe(x), "civil_war.any": describe(war),
            "change": d, "change_lo90": lo, "change_hi90": hi,
            "civil_war_share_change": float(np.nanmean(war[:n]) - np.nanmean(base_war[:n])) if n else math.nan,
            "gap_closed": closed, "separates": sep,
        })
    cc = CrossCase(a, b, runs, headline, params, only_a, only_b, esc, calm, ablations, out,
                   [x["channel"] for x in ablations if x["separates"]], gap)
    out.mkdir(parents=True, exist_ok=True)
    (out / "crosscase.json").write_text(json.dumps(cc.to_json(), indent=2) + "\n", encoding="utf-8")
    return cc
