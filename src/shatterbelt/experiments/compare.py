"""Compare two scenarios over paired runs: the difference a lever makes, with 90% intervals.

Both scenarios run on one design (same seeds, same sampled parameters), so each
pair differs only where the lever changes a decision (common random numbers).
Every scalar outcome is compared: every numeric summary metric and the derived
outcomes of :mod:`shatterbelt.experiments.metrics`.

Sign convention (the same as ``claims``, see :mod:`shatterbelt.experiments.stats`): every
effect is B - A, the scenario with the lever minus the reference, with a 90% BCa bootstrap
interval over pairs.  One pair gives no interval and is refused.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UsageError
from .ensemble import Ensemble, EnsembleResult, check_failures
from .stats import MIN_PAIRS, paired_effect

#: printed by default (all metrics are saved)
HEADLINE = [
    "deaths.total", "deaths.civilian", "deaths.battle", "deaths.from_2012", "civil_war.any", "civil_war.years",
    "peak_displaced", "displaced_final", "microstates.mean", "microstates_final", "army_cohesion_final",
    "army_collapses.count", "insurgent_fighters.mean", "insurgent_fighters_peak", "insurgent_attacks.total",
    "insurgent_control.last12", "militia_fighters.last12", "fragmentation.last12", "leaders.pm_kept",
    "marginalization_events.count",
    "vacuum_months_total", "legitimacy_final.shia", "legitimacy_final.sunni", "legitimacy_final.kurd",
    "patron_influence_final.us", "patron_influence_final.iran", "patron_influence_final.turkey",
    "patron_influence_final.gulf",
]


@dataclass
class Comparison:
    a: str
    b: str
    n_pairs: int
    rows: list[dict[str, Any]]
    out: Path

    def headline(self) -> list[dict[str, Any]]:
        by = {r["metric"]: r for r in self.rows}
        return [by[m] for m in HEADLINE if m in by]

    def to_json(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "pairs": self.n_pairs, "effect": "b - a, mean over pairs",
                "sign": "B - A (the lever's scenario minus the reference)",
                "interval": "90% BCa bootstrap over pairs", "headline": HEADLINE, "metrics": self.rows,
                "saved": {"csv": str(self.out / "compare.csv"), "json": str(self.out / "compare.json")}}


def paired_table(res: EnsembleResult, a: str, b: str) -> tuple[int, list[dict[str, Any]]]:
    """Per-metric paired effects of ``b`` over ``a`` from an ensemble holding both."""
    wa = res.metrics(a)
    wb = res.metrics(b)
    idx = wa.index.intersection(wb.index)
    if len(idx) == 0:
        raise UsageError("compare: no finished pair of runs")
    if len(idx) < MIN_PAIRS:
        raise UsageError(f"--runs: {len(idx)} pair gives no interval; compare needs at least {MIN_PAIRS} paired runs")
    wa, wb = wa.loc[idx], wb.loc[idx]
    rows = []
    for m in sorted(set(wa.columns) | set(wb.columns)):
        xa = wa[m].to_numpy(float) if m in wa else np.full(len(idx), np.nan)
        xb = wb[m].to_numpy(float) if m in wb else np.full(len(idx), np.nan)
        e = paired_effect(xa, xb)
        rows.append({"metric": m, **e.to_json()})
    return len(idx), rows


def run_compare(
    a: str,
    b: str,
    runs: int,
    out: str | Path,
    **kw: Any,
) -> Comparison:
    """Run (or resume) the paired ensemble of ``a`` and ``b`` and tabulate every metric."""
    if runs < MIN_PAIRS:
        raise UsageError(f"--runs: a single pair gives no interval; compare needs at least {MIN_PAIRS} paired runs")
    run_kw = {k: kw.pop(k) for k in ("workers", "scheduler", "progress", "rebuild", "connect_timeout") if k in kw}
    ens = Ensemble([a, b], runs=runs, out=out, kind="compare", **kw)
    res = ens.run(**run_kw)
    try:
        check_failures(res)
        n, rows = paired_table(res, a, b)
    finally:
        res.close()
    out = Path(out)
    cmp = Comparison(a, b, n, rows, out)
    with open(out / "compare.csv", "w", newline="", encoding="utf-8") as f:
        wr = csv.DictWriter(f, fieldnames=list(rows[0]))
        wr.writeheader()
        wr.writerows(rows)
    (out / "compare.json").write_text(json.dumps(cmp.to_json(), indent=2) + "\n", encoding="utf-8")
    return cmp
