"""Experimental designs: which parameter values and seeds each run of an ensemble gets.

A design is a matrix of parameter samples (rows) over the scenario's uncertain
parameters (columns: every parameter with a range of non-zero width, as
``shatterbelt params`` lists them) plus, for each run, the sample it uses and
its seed.  Latin hypercube samples (scipy.stats.qmc) spread a few hundred runs
evenly over a space of 150 dimensions, which plain random draws do not.

``--grid path=v1,v2,...`` gives a full factorial design instead (every combination of the
values, times ``--seeds``), :func:`grid_design`.

Parameters a variant or a ``--set`` pins (their source says ``overridden by``)
are left out: a lever must keep its value in every run.  The same design
applied to two scenarios gives *paired* runs with common random numbers: same
seed, same sampled values, so that they differ only where the lever does.
"""

from __future__ import annotations

import difflib
import fnmatch
import hashlib
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import UsageError
from ..scenario.provenance import collect_params, uncertain_params
from ..scenario.schema import Scenario

SAMPLING = ("none", "lhs")


def _sig(x: float) -> float:
    """Round to 6 significant digits: readable overrides, and exact round trips through text."""
    return float(f"{float(x):.6g}")


def is_pinned(p: dict[str, Any]) -> bool:
    """True when a variant, an overlay of a lever or ``--set`` fixed this parameter."""
    return "overridden by" in str(p.get("source", ""))


def parameter_space(sc: Scenario, vary: list[str] | None = None) -> list[dict[str, Any]]:
    """The uncertain parameters an ensemble samples: path, value, range, source, kind.

    ``vary`` restricts them to paths matching any of the glob patterns.
    """
    params = [p for p in uncertain_params(sc) if not is_pinned(p)]
    if vary:
        params = [p for p in params if any(fnmatch.fnmatchcase(p["path"], pat) for pat in vary)]
        if not params:
            raise UsageError(f"--vary: no uncertain parameter matches {', '.join(vary)}")
    return params


@dataclass
class Design:
    """Samples x parameters, and for every run its sample index (-1: point values) and seed."""

    paths: list[str]
    lows: list[float]
    highs: list[float]
    samples: np.ndarray  # [S, D] parameter values
    run_sample: list[int]
    run_seed: list[int]
    method: str = "none"
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n_runs(self) -> int:
        return len(self.run_seed)

    def overrides(self, i: int, skip: set[str] | None = None) -> tuple[tuple[str, float], ...]:
        """(path, value) pairs of run ``i``, leaving out ``skip`` (pinned or absent in a scenario)."""
        j = self.run_sample[i]
        if j < 0:
            return ()
        skip = skip or set()
        return tuple(
            (p, float(v)) for p, v in zip(self.paths, self.samples[j], strict=True) if p not in skip
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "parameters": [{"path": p, "range": [lo, hi]} for p, lo, hi in zip(self.paths, self.lows, self.highs, strict=True)],
            "samples": [[float(x) for x in row] for row in self.samples],
            "run_sample": list(self.run_sample),
            "run_seed": list(self.run_seed),
            **self.meta,
        }

    def digest(self) -> str:
        """SHA-256 of the design: a resumed ensemble must have the same one."""
        return hashlib.sha256(json.dumps(self.to_json(), sort_keys=True).encode()).hexdigest()


def _template(path: str) -> tuple[str, str, str] | None:
    """(prefix, item, leaf) of ``prefix.<item>.leaf`` paths, for same-leaf groups across list items."""
    parts = path.split(".")
    if len(parts) < 3:
        return None
    return ".".join(parts[:-2]), parts[-2], parts[-1]


def constraint_groups(sc: Scenario, paths: list[str]) -> list[dict[str, Any]]:
    """Sampled parameters that must keep their sum (compositions), found from the scenario itself.

    * siblings under one parent whose values (with any fixed siblings) sum to 1 -- shares of a
      whole, like ``politics.community_shares.*`` or a list's ``community_base.*``;
    * one leaf across the items of a list (``politics.blocs.<id>.list_share``) whose sampled
      members sum to 1, and seat counts (``*.seats``), whose total is the chamber: both keep the
      sum of their sampled members, seats as whole numbers.

    Everything else is sampled independently.  The rule is structural, not a list of names, so a
    new scenario's compositions are respected too.
    """
    allp = {p["path"]: p for p in collect_params(sc)}
    sampled = set(paths)
    groups: list[dict[str, Any]] = []
    used: set[str] = set()
    # siblings under one parent
    by_parent: dict[str, list[str]] = {}
    for path in allp:
        by_parent.setdefault(path.rsplit(".", 1)[0], []).append(path)
    for parent, sib in sorted(by_parent.items()):
        members = [q for q in sib if q in sampled]
        if len(sib) < 2 or not members:
            continue
        total = sum(allp[q]["value"] for q in sib)
        if abs(total - 1.0) < 1e-6:
            fixed = total - sum(allp[q]["value"] for q in members)
            groups.append({"members": members, "sum": 1.0 - fixed, "integer": False, "why": f"{parent}.* sum to 1"})
            used.update(members)
    # one leaf across list items
    by_tpl: dict[tuple[str, str], list[str]] = {}
    for path in paths:
        t = _template(path)
        if t is not None and path not in used:
            by_tpl.setdefault((t[0], t[2]), []).append(path)
    for (prefix, leaf), members in sorted(by_tpl.items()):
        if len(members) < 2 and leaf != "seats":
            continue
        total = sum(allp[q]["value"] for q in members)
        if leaf == "seats" and len(members) >= 2:
            groups.append({"members": members, "sum": total, "integer": True, "why": f"{prefix}.*.seats keep their total"})
        elif leaf.endswith("share") and abs(total - 1.0) < 1e-6:
            groups.append({"members": members, "sum": total, "integer": False, "why": f"{prefix}.*.{leaf} sum to 1"})
    return groups


def _largest_remainder(x: np.ndarray, total: float) -> np.ndarray:
    """Whole numbers summing to ``total`` that stay closest to ``x`` (Hamilton's method)."""
    fl = np.floor(x)
    k = int(round(total - fl.sum()))
    order = np.argsort(-(x - fl), kind="stable")
    out = fl.copy()
    if k > 0:
        out[order[:k]] += 1
    elif k < 0:
        out[order[::-1][: -k]] -= 1
    return out


def apply_constraints(vals: np.ndarray, paths: list[str], groups: list[dict[str, Any]]) -> np.ndarray:
    """Rescale each composition in every sample so that it keeps its sum."""
    vals = np.array(vals, float, copy=True)
    pos = {p: i for i, p in enumerate(paths)}
    for g in groups:
        idx = [pos[m] for m in g["members"]]
        block = vals[:, idx]
        s = block.sum(1, keepdims=True)
        block = np.where(s > 0, block * (g["sum"] / np.where(s > 0, s, 1.0)), g["sum"] / len(idx))
        if g["integer"]:
            block = np.array([_largest_remainder(r, g["sum"]) for r in block])
        vals[:, idx] = block
    return vals


def lhs_unit(n: int, d: int, seed: int) -> np.ndarray:
    """n Latin hypercube points in [0, 1)^d (scipy.stats.qmc), reproducible from ``seed``."""
    from scipy.stats import qmc

    if d == 0:
        return np.zeros((n, 0))
    return qmc.LatinHypercube(d=d, rng=np.random.default_rng(seed)).random(n)


def make_design(
    sc: Scenario,
    runs: int,
    sample: str = "none",
    samples: int | None = None,
    seed: int = 0,
    vary: list[str] | None = None,
) -> Design:
    """The design of an ensemble of ``runs`` runs.

    ``sample='none'``: every run at the scenario's point values, seeds ``seed .. seed+runs-1``.
    ``sample='lhs'``: ``samples`` Latin hypercube points (default: one per run); run ``i``
    uses point ``i % samples`` and seed ``seed + i``, so with fewer samples than runs
    each point is replicated over different seeds (seeds x samples).
    """
    if runs < 1:
        raise UsageError(f"--runs: must be >= 1, got {runs}")
    if seed < 0:
        raise UsageError(f"--seed: must be >= 0, got {seed}")
    if sample not in SAMPLING:
        raise UsageError(f"--sample: must be one of {', '.join(SAMPLING)}, got '{sample}'")
    seeds = [seed + i for i in range(runs)]
    if sample == "none":
        if samples not in (None, 0):
            raise UsageError("--samples: only with --sample lhs")
        return Design([], [], [], np.zeros((0, 0)), [-1] * runs, seeds, "none")
    S = runs if samples in (None, 0) else int(samples)
    if not 1 <= S <= runs:
        raise UsageError(f"--samples: must be between 1 and --runs ({runs}), got {S}")
    space = parameter_space(sc, vary)
    lows = np.array([p["range"][0] for p in space])
    highs = np.array([p["range"][1] for p in space])
    u = lhs_unit(S, len(space), seed)
    paths = [p["path"] for p in space]
    groups = constraint_groups(sc, paths)
    vals = lows + u * (highs - lows) if space else np.zeros((S, 0))
    # compositions keep their sum (they may then leave a member's range a little: the
    # override widens it and says so); rounding to 6 digits keeps commands readable
    vals = np.clip(vals, lows, highs) if space else vals
    vals = apply_constraints(vals, paths, groups)
    vals = np.vectorize(_sig)(vals) if space else vals
    return Design(
        paths,
        lows.tolist(),
        highs.tolist(),
        vals,
        [i % S for i in range(runs)],
        seeds,
        "lhs",
        {"vary": list(vary or []), "constraints": [{k: g[k] for k in ("members", "sum", "integer", "why")} for g in groups]},
    )


def repair_design(
    d: Design,
    nominal: dict[str, float],
    check: Any,
    groups: list[dict[str, Any]] | None = None,
    steps: int = 10,
) -> Design:
    """Make every sample valid for the scenario, pulling invalid ones toward the nominal values.

    Some parameters are constrained jointly in ways no range says (a patron's leverage over
    a bloc, summed over patrons, must stay <= 1).  ``check(overrides)`` returns an error
    message or None.  An invalid sample is moved along the line to the scenario's own
    values (which are valid) by bisection, to the farthest valid point; the rows moved
    are recorded in ``d.meta['repaired']``.
    """
    if d.samples.size == 0:
        return d
    groups = groups if groups is not None else d.meta.get("constraints", [])
    nom = np.array([nominal[p] for p in d.paths], float)
    repaired = []
    for j in range(d.samples.shape[0]):
        row = d.samples[j]
        err = check(list(zip(d.paths, row.tolist(), strict=True)))
        if err is None:
            continue
        lo, hi = 0.0, 1.0
        best = nom.copy()
        for _ in range(steps):
            lam = (lo + hi) / 2
            cand = apply_constraints((nom + lam * (row - nom))[None, :], d.paths, groups)[0]
            cand = np.vectorize(_sig)(cand)
            if check(list(zip(d.paths, cand.tolist(), strict=True))) is None:
                lo, best = lam, cand
            else:
                hi = lam
        d.samples[j] = best
        repaired.append({"sample": j, "kept": round(lo, 4), "reason": str(err)[:200]})
    d.meta["repaired"] = repaired
    return d


def explicit_design(
    paths: list[str], lows: list[float], highs: list[float], values: np.ndarray, seed: int, method: str,
    common_seed: bool = True,
) -> Design:
    """A design from given samples (Morris, Sobol, ABC): one run per row.

    With ``common_seed`` every run uses the same seed (common random numbers), so
    that differences between rows come from the parameters, not from chance.
    """
    vals = np.vectorize(_sig)(np.asarray(values, float)) if np.size(values) else np.asarray(values, float)
    if np.size(vals):
        vals = np.clip(vals, lows, highs)
    n = vals.shape[0]
    seeds = [seed] * n if common_seed else [seed + i for i in range(n)]
    return Design(list(paths), list(lows), list(highs), vals, list(range(n)), seeds, method)


def parse_grid(items: list[str]) -> list[tuple[str, list[float]]]:
    """``path=v1,v2,...`` items as (path, values), in the order given (one-line errors)."""
    out: list[tuple[str, list[float]]] = []
    for item in items:
        path, eq, vals = item.partition("=")
        path = path.strip()
        if not eq or not path or not vals.strip():
            raise UsageError(f"--grid: '{item}' is not path=v1,v2,... (e.g. parameters.army.a_pol=0,0.5,1)")
        if any(p == path for p, _ in out):
            raise UsageError(f"--grid: {path} is given twice")
        values: list[float] = []
        for v in vals.split(","):
            try:
                x = float(v)
            except ValueError:
                raise UsageError(f"--grid: {path}: '{v.strip()}' is not a number") from None
            if x != x or x in (float("inf"), float("-inf")):
                raise UsageError(f"--grid: {path}: '{v.strip()}' is not a finite number")
            if x in values:
                raise UsageError(f"--grid: {path}: the value {v.strip()} is given twice")
            values.append(x)
        out.append((path, values))
    return out


def grid_size(items: list[str]) -> int:
    """Points of the full factorial ``--grid`` design."""
    n = 1
    for _, v in parse_grid(items):
        n *= len(v)
    return n


def grid_design(sc: Scenario, items: list[str], seeds: int = 1, seed: int = 0) -> Design:
    """A full factorial over the ``--grid`` values, every point run with ``seeds`` seeds.

    Run ``i`` uses point ``i % P`` (P points; the first path varies slowest) and seed ``seed + i``:
    the first P runs cover every point once, the next P again with new seeds, so adding seeds
    grows the ensemble without changing its first runs.
    """
    if seeds < 1:
        raise UsageError(f"--seeds: must be >= 1, got {seeds}")
    if seed < 0:
        raise UsageError(f"--seed: must be >= 0, got {seed}")
    grid = parse_grid(items)
    known = {p["path"]: p for p in collect_params(sc)}
    for path, _ in grid:
        p = known.get(path)
        if p is None:
            close = difflib.get_close_matches(path, sorted(known), n=3, cutoff=0.7)
            hint = f"; did you mean {', '.join(close)}?" if close else "; `shatterbelt params` lists them"
            raise UsageError(f"--grid: '{path}' is not a parameter of the scenario{hint}")
        if is_pinned(p):
            raise UsageError(f"--grid: {path} is pinned ({p['source']}); a grid cannot vary it")
    paths = [p for p, _ in grid]
    points = np.array(list(itertools.product(*[v for _, v in grid])), float)
    P = points.shape[0]
    runs = P * seeds
    lows = [float(min(v)) for _, v in grid]
    highs = [float(max(v)) for _, v in grid]
    return Design(paths, lows, highs, points, [i % P for i in range(runs)], [seed + i for i in range(runs)], "grid",
                  {"grid": [[p, v] for p, v in grid], "seeds_per_point": seeds})


def extend_lhs(sc: Scenario, stored: dict[str, Any], runs: int, seed: int, vary: list[str] | None) -> Design | None:
    """Grow a stored Latin hypercube design (one sample per run) to ``runs`` runs: its samples are kept,
    the new runs get a new Latin hypercube over the same ranges (seeded by ``seed`` and the old size).
    None when the stored design is not such a design or has the runs already."""
    if not isinstance(stored, dict) or stored.get("method") != "lhs":
        return None
    old = np.array(stored.get("samples", []), float)
    n_old = len(stored.get("run_seed", []))
    if n_old == 0 or old.shape[0] != n_old or runs <= n_old or stored.get("run_sample") != list(range(n_old)):
        return None
    fresh = make_design(sc, runs - n_old, "lhs", None, seed + 1_000_003 * n_old, vary)
    if fresh.paths != [p["path"] for p in stored.get("parameters", [])] or old.shape[1] != len(fresh.paths):
        return None
    fresh.samples = np.vstack([old, fresh.samples]) if fresh.paths else np.zeros((runs, 0))
    fresh.run_sample = list(range(runs))
    fresh.run_seed = [seed + i for i in range(runs)]
    fresh.meta["grown_from"] = n_old
    return fresh
