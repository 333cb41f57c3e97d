"""Which parameters drive the outcomes: Morris screening and Sobol indices (SALib), over groups of parameters.

**Groups** (SALib ``groups``).  With ``groups="module"`` (the default) parameters are
screened by the part of the model they belong to: ``parameters.<module>`` (the engine's
violence, army, mobilization ... rules), ``politics.<section>``, and for the scenario's
facts ``actors``, ``patrons``, ``communities``, ``population``, ``blocs``, ``army``,
``economy``.  With ``groups="parameter"`` each parameter is its own group.  Either way
a composition (shares summing to 1, seat counts: ``design.constraint_groups``) is one
group: its members move together and are then rescaled to keep their sum, so no
one-at-a-time step breaks it.

**Designs.**  Morris (elementary effects): ``r`` trajectories of ``G + 1`` points each
(G groups, 4 levels); mu* ranks influence, sigma (for one-parameter groups) flags
interactions and non-linearity.  Sobol (Saltelli's scheme): ``N (G + 2)`` points for
first-order and total indices.  ``runs=None`` sizes the design from ``trajectories``
(Morris, default 4) or ``base`` (Sobol, default 16, a power of two); a ``runs``
budget instead sets the largest design that fits it, and one too small is refused.

**Seeds.**  Every design point runs with ``seeds`` seeds (default 2; the same seeds
at every point: common random numbers) and the indices are computed on the mean over
them.  The share of the outcome's variance that is seed noise (the mean
within-point variance over the total) is reported beside the indices.

**Outcomes that vary.**  The defaults are continuous outcomes (deaths, mean number of
microstates, newly displaced).  An outcome equal in every run has no index and is
reported as ``constant`` instead of a table of zeros.
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
from .design import Design, apply_constraints, constraint_groups, parameter_space
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
DEFAULT_OUTCOMES = ("deaths", "microstates", "displaced")
NUM_LEVELS = 4
GROUPINGS = ("module", "parameter")
DEFAULT_TRAJECTORIES = 4
DEFAULT_BASE = 16
DEFAULT_SEEDS = 2
_FACT_SECTIONS = ("parameters", "politics")


@dataclass
class Sensitivity:
    """Indices per outcome (rows per group), and how the design was built."""

    method: str
    outcomes: dict[str, list[dict[str, Any]]]
    parameters: int
    groups: int
    grouping: str
    points: int
    seeds: int
    runs: int
    repaired: int
    noise: dict[str, float]
    constant: list[str]
    out: Path

    def to_json(self) -> dict[str, Any]:
        return finite_or_none({
            "method": self.method, "parameters": self.parameters, "groups": self.groups, "grouping": self.grouping,
            "design_points": self.points, "seeds_per_point": self.seeds, "runs": self.runs,
            "points_pulled_to_valid": self.repaired, "seed_noise_share": self.noise,
            "constant_outcomes": self.constant, "outcomes": self.outcomes,
            "saved": str(self.out / f"sensitivity_{self.method}.json"),
        })


def metric_of(name: str) -> str:
    """The metric key of a short outcome name (other names are taken as metric keys)."""
    return OUTCOMES.get(name, name)


def group_of(path: str, grouping: str) -> str:
    """A parameter's group: its module or section (``grouping='module'``) or itself."""
    if grouping == "parameter":
        return path
    parts = path.split(".")
    if parts[0] in _FACT_SECTIONS and len(parts) > 2:
        return ".".join(parts[:2]).split("[")[0]
    return parts[0]


def build_problem(sc: Any, vary: list[str] | None, grouping: str, only_groups: list[str] | None = None) -> dict[str, Any]:
    """The SALib problem: the uncertain parameters, their bounds, and a group per parameter."""
    if grouping not in GROUPINGS:
        raise UsageError(f"--groups: must be one of {', '.join(GROUPINGS)}, got '{grouping}'")
    space = parameter_space(sc, vary)
    paths = [p["path"] for p in space]
    comps = constraint_groups(sc, paths)
    group = {p: group_of(p, grouping) for p in paths}
    for g in comps:  # a composition is one group (named after its first member's group)
        name = group[g["members"][0]] if grouping == "module" else "composition:" + g["members"][0].rsplit(".", 1)[0]
        for m in g["members"]:
            group[m] = name
    if only_groups is not None:
        space = [p for p in space if group[p["path"]] in only_groups]
        paths = [p["path"] for p in space]
    names = list(dict.fromkeys(group[p] for p in paths))
    if len(names) < 2:
        raise UsageError("--vary: sensitivity analysis needs at least 2 groups of uncertain parameters "
                         f"(got {len(names)}; try --groups parameter or a wider --vary)")
    return {
        "num_vars": len(space),
        "names": paths,
        "bounds": [list(p["range"]) for p in space],
        "groups": [group[p] for p in paths],
        "constraints": [g for g in comps if all(m in paths for m in g["members"])],
    }


def design_size(method: str, groups: int, runs: int | None, trajectories: int | None, base: int | None,
                seeds: int) -> int:
    """Trajectories (Morris) or base samples (Sobol) from the options or the ``runs`` budget."""
    per = (groups + 1) if method == "morris" else (groups + 2)
    if runs is None:
        if method == "morris":
            return trajectories or DEFAULT_TRAJECTORIES
        return base or DEFAULT_BASE
    if method == "morris":
        r = runs // (per * seeds)
        if r < 2:
            raise UsageError(
                f"--runs: Morris over {groups} groups with {seeds} seeds needs at least {2 * per * seeds} runs "
                "(2 trajectories); leave --runs out to size the design, raise it, or restrict with --vary"
            )
        return r
    n = 1
    while 2 * n * per * seeds <= runs:
        n *= 2
    if n < 2 or n * per * seeds > runs:
        raise UsageError(
            f"--runs: Sobol over {groups} groups with {seeds} seeds needs at least {2 * per * seeds} runs; leave "
            "--runs out to size the design, raise it, or restrict with --vary or --top K"
        )
    return n


def _top_from_morris(out: Path, outcome: str, k: int) -> list[str]:
    f = out / "sensitivity_morris.json"
    if not f.exists():
        raise UsageError(f"--top: no Morris screening in {out} (run 'sensitivity --method morris' there first)")
    data = json.loads(f.read_text(encoding="utf-8"))
    rows = data["outcomes"].get(outcome) or next(iter(data["outcomes"].values()), [])
    if not rows:
        raise UsageError(f"--top: the Morris screening in {out} has no varying outcome")
    return [r["group"] for r in rows[:k]]


def run_sensitivity(
    runs: int | None,
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
    seeds: int = DEFAULT_SEEDS,
    grouping: str = "module",
    trajectories: int | None = None,
    base: int | None = None,
    **run_kw: Any,
) -> Sensitivity:
    """Run the SALib design (every point over ``seeds`` seeds) on the ensemble runner and analyse each outcome."""
    from SALib.analyze import morris as morris_a
    from SALib.analyze import sobol as sobol_a
    from SALib.sample import morris as morris_s
    from SALib.sample import sobol as sobol_s

    if method not in ("morris", "sobol"):
        raise UsageError(f"--method: must be morris or sobol, got '{method}'")
    if seeds < 1:
        raise UsageError(f"--seeds: must be >= 1, got {seeds}")
    if runs is not None and runs < 1:
        raise UsageError(f"--runs: must be >= 1, got {runs}")
    if trajectories is not None and trajectories < 2:
        raise UsageError(f"--trajectories: Morris needs at least 2, got {trajectories}")
    if base is not None and (base < 2 or base & (base - 1)):
        raise UsageError(f"--base: must be a power of two >= 2, got {base}")
    outcomes = list(outcomes or DEFAULT_OUTCOMES)
    out = Path(out)
    overlay = read_overlay(params_file) if params_file else None
    raw, label = resolve_raw(scenario, overlay)
    sc = scenario_from_raw(expand_raw(raw, label), label, list(overrides or []))
    top_list = _top_from_morris(out, metric_of(outcomes[0]), top) if top else None
    problem = build_problem(sc, vary, grouping, top_list)
    G = len(set(problem["groups"]))
    size = design_size(method, G, runs, trajectories, base, seeds)
    salib = {k: problem[k] for k in ("num_vars", "names", "bounds", "groups")}
    if method == "morris":
        X = morris_s.sample(salib, N=size, num_levels=NUM_LEVELS, seed=seed)
    else:
        X = sobol_s.sample(salib, size, calc_second_order=False, seed=seed)
    lows = np.array([b[0] for b in problem["bounds"]], float)
    highs = np.array([b[1] for b in problem["bounds"]], float)
    X = apply_constraints(np.clip(X, lows, highs), problem["names"], problem["constraints"])
    n = X.shape[0]
    d = Design(problem["names"], lows.tolist(), highs.tolist(), X, [i % n for i in range(n * seeds)],
               [seed + i // n for i in range(n * seeds)], method,
               {"groups": problem["groups"], "seeds_per_point": seeds})
    ens = Ensemble(
        [scenario], runs=d.n_runs, out=out / method, design=d, scale=scale, until=until, seed=seed,
        params_file=params_file, overrides=list(overrides or []), panel="none", events=False, kind="sensitivity",
        extra_manifest={"method": method, "problem": salib, "seeds_per_point": seeds},
    )
    res = ens.run(**run_kw, description=f"sensitivity ({method}): {n} points x {seeds} seeds")
    try:
        check_failures(res)
        wide = res.metrics(scenario)
    finally:
        res.close()
    repaired = len(d.meta.get("repaired", []))
    Xrun = np.asarray(d.samples, float)  # after any repair: what the runs used
    results: dict[str, list[dict[str, Any]]] = {}
    noise: dict[str, float] = {}
    constant: list[str] = []
    group_names = list(dict.fromkeys(problem["groups"]))
    members = {g: [p for p, q in zip(problem["names"], problem["groups"], strict=True) if q == g] for g in group_names}
    for name in outcomes:
        key = metric_of(name)
        if key not in wide:
            raise UsageError(f"--outcome: unknown outcome '{name}' (short names: {', '.join(OUTCOMES)}; or a metric key)")
        Yr = wide[key].reindex(range(d.n_runs)).to_numpy(float).reshape(seeds, n)
        with np.errstate(all="ignore"):
            Y = np.nanmean(Yr, axis=0) if np.isfinite(Yr).any() else np.zeros(n)
        Y = np.where(np.isfinite(Y), Y, np.nanmean(Y) if np.isfinite(Y).any() else 0.0)
        fin = Yr[np.isfinite(Yr)]
        if fin.size == 0 or np.all(fin == fin[0]):
            constant.append(key)
            continue
        total = float(np.nanvar(Yr))
        within = float(np.nanmean(np.nanvar(Yr, axis=0))) if seeds > 1 else math.nan
        noise[key] = within / total if total > 0 and math.isfinite(within) else math.nan
        rows = []
        if method == "morris":
            Si = morris_a.analyze(salib, Xrun, Y, num_levels=NUM_LEVELS, seed=seed, print_to_console=False)
            for i, g in enumerate(Si["names"]):
                rows.append({"group": g, "members": len(members[g]), "mu_star": float(Si["mu_star"][i]),
                             "mu_star_conf": float(Si["mu_star_conf"][i]), "mu": float(Si["mu"][i]),
                             "sigma": float(Si["sigma"][i])})
            rows.sort(key=lambda r: -r["mu_star"] if math.isfinite(r["mu_star"]) else 0.0)
        else:
            Si = sobol_a.analyze(salib, Y, calc_second_order=False, seed=seed, print_to_console=False)
            for i, g in enumerate(group_names):
                rows.append({"group": g, "members": len(members[g]), "S1": float(Si["S1"][i]),
                             "S1_conf": float(Si["S1_conf"][i]), "ST": float(Si["ST"][i]),
                             "ST_conf": float(Si["ST_conf"][i])})
            rows.sort(key=lambda r: -r["ST"] if math.isfinite(r["ST"]) else 0.0)
        results[key] = rows
    sens = Sensitivity(method, results, len(problem["names"]), G, grouping, n, seeds, d.n_runs, repaired, noise,
                       constant, out)
    (out / f"sensitivity_{method}.json").write_text(json.dumps(sens.to_json(), indent=2) + "\n", encoding="utf-8")
    (out / f"groups_{method}.json").write_text(json.dumps(members, indent=1) + "\n", encoding="utf-8")
    with open(out / f"sensitivity_{method}.csv", "w", newline="", encoding="utf-8") as f:
        first = next((rows[0] for rows in results.values() if rows), None)
        cols = ["outcome", *(first.keys() if first else ["group"])]
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        for k, rows in results.items():
            for r in rows:
                w.writerow({"outcome": k, **r})
    return sens
