"""Escalation figures of an ensemble folder (docs/ODD.md section 8).

    shatterbelt ensemble iraq-2010 --runs 200 --sample lhs --seed 1000 --scale 0.01 --out ENS
    python tools/escalation_stats.py ENS [PATH=VALUE ...]

PATH=VALUE repeats the ``--set`` overrides the ensemble was run with (the script reads each run's
sampled parameters from its ``run.json``; values set for every run are taken from the command
line, others from the scenario).  Prints the share of runs whose 2014 civilian deaths are at least
twice their own 2012 level, army collapses and changes of control among them, the insurgents'
peak size against the fighters their outside income alone (own income at the full war-next-door
boost, plus Syria's budget for the JRTN) would pay at their pay, and the sampled parameters that
best separate escalating from calm runs (two-sample Kolmogorov-Smirnov).
"""

from __future__ import annotations

import glob
import json
import os
import sys
from typing import Any

import numpy as np
from scipy.stats import ks_2samp

from shatterbelt.resolve import load_scenario

WAR_PEAK = 1.0  # the war next door's intensity from 2013 (iraq-2010 timeline)


def _defaults() -> dict[str, float]:
    sc = load_scenario("iraq-2010")
    act = {a.id: a for a in sc.actors}
    syria = next(p for p in sc.patrons if p.id == "syria")
    return {
        "actors.aqi.funding.own_income": act["aqi"].funding.own_income.value,
        "actors.jrtn.funding.own_income": act["jrtn"].funding.own_income.value,
        "actors.aqi.pay": act["aqi"].pay.value,
        "actors.jrtn.pay": act["jrtn"].pay.value,
        "patrons.syria.budget": syria.budget.value,
        "parameters.economy.war_income_boost": 0.3,
    }


def load_runs(folder: str, fixed: dict[str, str]) -> list[dict[str, Any]]:
    """One record per finished run of the ensemble in ``folder``."""
    dflt = _defaults()
    rows = []
    for d in sorted(glob.glob(os.path.join(folder, "runs", "*"))):
        try:
            with open(os.path.join(d, "summary.json")) as f:
                s = json.load(f)
            with open(os.path.join(d, "run.json")) as f:
                r = json.load(f)
        except FileNotFoundError:
            continue
        o = {k: v for k, v in json.loads(r["run"]["overrides"])}

        def g(k: str, o: dict[str, Any] = o) -> float:
            return float(fixed.get(k, o.get(k, dflt[k])))

        boost = 1.0 + g("parameters.economy.war_income_boost") * WAR_PEAK
        payable = (g("actors.aqi.funding.own_income") * boost / g("actors.aqi.pay")
                   + (g("actors.jrtn.funding.own_income") * boost + g("patrons.syria.budget")) / g("actors.jrtn.pay"))
        c = s["civilian_deaths_by_year"]
        changes = s["control_changes"]
        rows.append({
            "sampled": o, "escalating": c["2014"] >= 2 * c["2012"], "collapse": len(s["army_collapses"]) > 0,
            "control_change": (len(changes) if isinstance(changes, list) else changes) > 0,
            "peak": float(s["insurgent_fighters_peak"]), "payable": payable,
        })
    return rows


def report(rows: list[dict[str, Any]]) -> str:
    """The figures, as text."""
    out = []
    esc = np.array([r["escalating"] for r in rows])
    col = np.array([r["collapse"] for r in rows])
    chg = np.array([r["control_change"] for r in rows])
    out.append(f"runs {len(rows)}; escalating {esc.sum()} ({100 * esc.mean():.1f}%)")
    out.append(f"army collapse in {col.sum()} runs ({(col & esc).sum()} escalating); "
               f"a change of control in {chg.sum()} ({(chg & esc).sum()} escalating)")
    peak = np.array([r["peak"] for r in rows])
    payable = np.array([r["payable"] for r in rows])
    ratio = peak / payable
    for name, m in (("escalating", esc), ("calm", ~esc)):
        if m.any():
            out.append(f"{name}: insurgents' peak / fighters payable from outside income alone: median "
                       f"{np.median(ratio[m]):.1f}, above 1 in {100 * (ratio[m] > 1).mean():.0f}% "
                       f"(median peak {np.median(peak[m]):.0f}, median payable {np.median(payable[m]):.0f})")
    ks = []
    if esc.sum() >= 3 and (~esc).sum() >= 3:
        for k in sorted(set().union(*[r["sampled"].keys() for r in rows])):
            v = np.array([float(r["sampled"].get(k, np.nan)) for r in rows])
            if not np.isnan(v).any() and np.ptp(v) > 0:
                st = ks_2samp(v[esc], v[~esc])
                ks.append((st.pvalue, k, float(np.median(v[esc])), float(np.median(v[~esc])), st.statistic))
    ks.sort()
    out.append("parameters separating escalating from calm runs (KS D, p; median escalating vs calm):")
    out += [f"  {k}: D={d:.2f} p={p:.2g}  {a:.4g} vs {b:.4g}" for p, k, a, b, d in ks[:8]]
    return "\n".join(out)


if __name__ == "__main__":
    fixed = dict(a.split("=", 1) for a in sys.argv[2:])
    print(report(load_runs(sys.argv[1], fixed)))
