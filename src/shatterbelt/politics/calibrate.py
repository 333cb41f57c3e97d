"""Calibration of the politics layer on the 2010 case only (data up to 2012).

Two fits, each reproducible with ``python -m shatterbelt.politics.calibrate``:

1. **Apportionment exponent** (Gamson with a small-party bonus): least squares
   between the continuous shares of the documented 2010-11 coalition and the
   documented split of 37 ministries (National Alliance 17, Iraqiya 11,
   Kurdistan Alliance 6, others 3).
2. **Formation delay parameters** (``delay_cost``, ``caretaker_cost_factor``,
   ``optimism_sd``): a grid; each point runs the 2010 formation and scores
   ``((median vacuum - 289) / 30)**2``, plus 1 if 289 lies outside the 10-90%
   band (up to 0.5 if it lies within 20 days of its edge) and 1 if the documented
   PM is not the most likely one.

The out-of-sample formations (2005, 2014, 2018) are never used here.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..scenario.loader import load_politics
from ..scenario.politics_schema import PoliticsConfig
from .apportion import apportion
from .formation import run_formations, summarize


def fit_exponent(cfg: PoliticsConfig, grid: Sequence[float] = tuple(np.round(np.arange(0.5, 1.001, 0.05), 2))) -> list[tuple[float, float]]:
    """(exponent, sum of squared errors in ministries) over ``grid``, best first."""
    d = cfg.documented
    seats = cfg.documented_bloc_seats()
    if seats is None or not d.cabinet_coalition or not d.portfolios:
        raise ValueError(f"{cfg.name}: no documented cabinet to fit")
    n = float(cfg.apportionment.n_portfolios.value)
    na = {b for g, m in d.portfolio_groups.items() if len(m) > 1 and g != "others" for b in m}
    units = {b: ("alliance" if b in na else b) for b in d.cabinet_coalition}
    out = []
    for e in grid:
        sh = apportion(d.cabinet_coalition, seats, "gamson_bonus", exponent=float(e), units=units)
        sse = 0.0
        for g, doc in d.portfolios.items():
            model = n * sum(sh.get(b, 0.0) for b in d.portfolio_groups[g])
            sse += (model - doc.value) ** 2
        out.append((float(e), float(sse)))
    return sorted(out, key=lambda t: t[1])


def score(summary: dict[str, Any], documented_days: float, documented_pm: str | None) -> float:
    v = summary["vacuum_days"]
    s = ((v["p50"] - documented_days) / 30.0) ** 2
    margin = min(documented_days - v["p10"], v["p90"] - documented_days)
    if margin < 0:
        s += 1.0
    elif margin < 20:  # inside the band, but only just: fragile at 60 runs
        s += 0.5 * (20 - margin) / 20
    pm = summary["pm_share"]
    if documented_pm is not None and max(pm, key=lambda k: pm[k]) != documented_pm:
        s += 1.0
    return s


def grid_formation(
    name: str = "iraq-2010",
    runs: int = 60,
    seed: int = 3,
    grid: dict[str, Sequence[float]] | None = None,
) -> list[tuple[float, dict[str, float], dict[str, Any]]]:
    """Score every grid point (best first)."""
    grid = grid or {
        "formation.delay_cost": (0.01, 0.0125, 0.015, 0.02),
        "formation.caretaker_cost_factor": (0.25, 0.4, 0.5, 0.6),
        "formation.optimism_sd": (0.1, 0.2, 0.3),
    }
    base = load_politics(name)
    if base.documented.days is None:
        raise ValueError(f"{name}: no documented formation length")
    keys = list(grid)
    out = []
    for vals in itertools.product(*grid.values()):
        ov = [f"{k}={v}" for k, v in zip(keys, vals, strict=True)]
        cfg = load_politics(name, ov)
        s = summarize(run_formations(cfg, runs, seed), cfg)
        out.append((score(s, base.documented.days.value, base.documented.pm_candidate),
                    dict(zip(keys, map(float, vals), strict=True)), s))
    return sorted(out, key=lambda t: t[0])


def main() -> None:  # pragma: no cover - a reporting script
    cfg = load_politics("iraq-2010")
    print("apportionment exponent (SSE in ministries):")
    for e, sse in fit_exponent(cfg)[:5]:
        print(f"  {e:.2f}  {sse:.2f}")
    print("formation grid (best first):")
    for sc, point, s in grid_formation()[:10]:
        pm = ", ".join(f"{k} {v:.2f}" for k, v in s["pm_share"].items() if v > 0)
        v = s["vacuum_days"]
        print(f"  score {sc:.2f}  {point}  PM: {pm}  vacuum p10/p50/p90 {v['p10']:.0f}/{v['p50']:.0f}/{v['p90']:.0f}")


if __name__ == "__main__":  # pragma: no cover
    main()
