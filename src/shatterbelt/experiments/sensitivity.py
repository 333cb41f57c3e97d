"""Which parameters drive the outcomes: Morris screening and Sobol indices (SALib).

Morris (elementary effects) screens many parameters cheaply: ``r`` trajectories
of ``D + 1`` runs each; mu* ranks influence, sigma flags interactions and
non-linearity.  Sobol's variance decomposition is exact but costs ``N (D + 2)``
runs (first-order and total indices), so it is meant for the few parameters a
Morris screen (``--top K``) or the user (``--vary``) selects.

All runs use one seed (common random numbers): differences between runs then
come from the parameters, not from chance.  ``--runs`` is the budget; the
number of trajectories (Morris) or base samples (Sobol, a power of two) is the
largest that fits it.

Parameters that belong to a composition (shares summing to 1, seat counts) are
left out by default: a one-at-a-time step in one of them would have to move the
others too.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UsageError
from .design import constraint_groups, explicit_design, parameter_space
from .ensemble import Ensemble, check_failures, expand_raw
from .overlay import read_overlay, resolve_raw, scenario_from_raw
from .stats import finite_or_none

#: short outcome names -> metric keys
OUTCOMES = {
    "civil_war": "civil_war.any",
    "civil_war_years": "civil_war.years",
    "deaths": "deaths.total",
    "civilian_deaths": "deaths.civilian",
    "microstates": "microstates.mean",
    "insurgents": "insurgent_fighters.mean",
    "displaced": "displaced.new_total",
    "cohesion": "army_cohesion.mean",
}
DEFAULT_OUTCOMES = ("civil_war", "deaths", "microstates")
NUM_LEVELS = 4


@dataclass
class Sensitivity:
    method: str
    outcomes: dict[str, list[dict[str, Any]]]
    parameters: int
    runs: int
    repaired: int
    out: Path

    def to_json(self) -> dict[str, Any]:
        return finite_or_none({"method": self.method, "parameters": self.parameters, "runs": self.runs,
                      "points_pulled_to_valid": self.repaired, "outcomes": self.outcomes,
                      "saved": str(self.out / f"sensitivity_{self.method}.json")})


def metric_of(name: str) -> str:
    return OUTCOMES.get(name, name)


def _problem(sc: Any, vary: list[str] | None, top: list[str] | None) -> dict[str, Any]:
    space = parameter_space(sc, vary)
    if top:
        by = {p["path"]: p for p in space}
        space = [by[p] for p in top if p in by]
    else:
        grouped = {m for g in constraint_groups(sc, [p["path"] for p in space]) for m in g["members"]}
        space = [p for p in space if p["path"] not in grouped]
    if len(space) < 2:
        raise UsageError("--vary: sensitivity analysis needs at least 2 uncertain parameters")
    return {
        "num_vars": len(space),
        "names": [p["path"] for p in space],
        "bounds": [list(p["range"]) for p in space],
    }


def _top_from_morris(out: Path, outcome: str, k: int) -> list[str]:
    f = out / "sensitivity_morris.json"
    if not f.exists():
        raise UsageError(f"--top: no Morris screening in {out} (run 'sensitivity --method morris' there first)")
    data = json.loads(f.read_text(encoding="utf-8"))
    rows = data["outcomes"].get(outcome) or next(iter(data["outcomes"].values()))
    return [r["parameter"] for r in rows[:k]]


def run_sensitivity(
    runs: int,
    out: str | Path,
    method: str = "morris",
    outcomes: list[str] | None = None,
    scenario: str = "iraq-2010",
    vary: list[str] | None = None,
    top: int | None = None,
    seed: int = 0,
    scale: float = 0.01,
    until: str | None = None,
    params_file: str | None = None,
    overrides: list[str] | None = None,
    **run_kw: Any,
) -> Sensitivity:
    """Run the SALib design on the ensemble runner and analyse each outcome."""
    from SALib.analyze import morris as morris_a
    from SALib.analyze import sobol as sobol_a
    from SALib.sample import morris as morris_s
    from SALib.sample import sobol as sobol_s

    if method not in ("morris", "sobol"):
        raise UsageError(f"--method: must be morris or sobol, got '{method}'")
    outcomes = list(outcomes or DEFAULT_OUTCOMES)
    out = Path(out)
    overlay = read_overlay(params_file) if params_file else None
    raw, label = resolve_raw(scenario, overlay)
    sc = scenario_from_raw(expand_raw(raw, label), label, list(overrides or []))
    top_list = _top_from_morris(out, metric_of(outcomes[0]), top) if top else None
    problem = _problem(sc, vary, top_list)
    D = problem["num_vars"]
    if method == "morris":
        r = runs // (D + 1)
        if r < 2:
            raise UsageError(
                f"--runs: Morris over {D} parameters needs at least {2 * (D + 1)} runs (2 trajectories); "
                "raise --runs or restrict with --vary"
            )
        X = morris_s.sample(problem, N=r, num_levels=NUM_LEVELS, seed=seed)
    else:
        n = 1
        while 2 * n * (D + 2) <= runs:
            n *= 2
        if n * (D + 2) > runs or n < 2:
            raise UsageError(
                f"--runs: Sobol over {D} parameters needs at least {2 * (D + 2)} runs; raise --runs, or restrict "
                "with --vary or --top K (the K most influential parameters of a Morris screening)"
            )
        X = sobol_s.sample(problem, n, calc_second_order=False, seed=seed)
    lows = [b[0] for b in problem["bounds"]]
    highs = [b[1] for b in problem["bounds"]]
    d = explicit_design(problem["names"], lows, highs, X, seed, method, common_seed=True)
    ens = Ensemble(
        [scenario], runs=d.n_runs, out=out / method, design=d, scale=scale, until=until, seed=seed,
        params_file=params_file, overrides=list(overrides or []), panel="none", events=False, kind="sensitivity",
        extra_manifest={"method": method, "problem": problem},
    )
    res = ens.run(**run_kw, description=f"sensitivity ({method}): {d.n_runs} runs")
    try:
        check_failures(res)
        wide = res.metrics(scenario)
    finally:
        res.close()
    repaired = len(d.meta.get("repaired", []))
    Xrun = np.asarray(X, float)
    results: dict[str, list[dict[str, Any]]] = {}
    for name in outcomes:
        key = metric_of(name)
        if key not in wide:
            raise UsageError(f"--outcome: unknown outcome '{name}' (short names: {', '.join(OUTCOMES)}; or a metric key)")
        Y = wide[key].reindex(range(d.n_runs)).to_numpy(float)
        Y = np.where(np.isfinite(Y), Y, np.nanmean(Y) if np.isfinite(Y).any() else 0.0)
        rows = []
        if method == "morris":
            Si = morris_a.analyze(problem, Xrun, Y, num_levels=NUM_LEVELS, seed=seed, print_to_console=False)
            for i, p in enumerate(problem["names"]):
                rows.append({"parameter": p, "mu_star": float(Si["mu_star"][i]),
                             "mu_star_conf": float(Si["mu_star_conf"][i]), "mu": float(Si["mu"][i]),
                             "sigma": float(Si["sigma"][i])})
            rows.sort(key=lambda r: -r["mu_star"] if math.isfinite(r["mu_star"]) else 0.0)
        else:
            Si = sobol_a.analyze(problem, Y, calc_second_order=False, seed=seed, print_to_console=False)
            for i, p in enumerate(problem["names"]):
                rows.append({"parameter": p, "S1": float(Si["S1"][i]), "S1_conf": float(Si["S1_conf"][i]),
                             "ST": float(Si["ST"][i]), "ST_conf": float(Si["ST_conf"][i])})
            rows.sort(key=lambda r: -r["ST"] if math.isfinite(r["ST"]) else 0.0)
        results[key] = rows
    sens = Sensitivity(method, results, D, d.n_runs, repaired, out)
    (out / f"sensitivity_{method}.json").write_text(json.dumps(sens.to_json(), indent=2) + "\n", encoding="utf-8")
    with open(out / f"sensitivity_{method}.csv", "w", newline="", encoding="utf-8") as f:
        cols = ["outcome", *next(iter(results.values()))[0].keys()]
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        for k, rows in results.items():
            for r in rows:
                w.writerow({"outcome": k, **r})
    return sens
