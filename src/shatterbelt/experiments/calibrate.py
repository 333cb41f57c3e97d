"""Calibration on data up to a cut-off only: approximate Bayesian computation (ABC) by rejection.

Why ABC: the model has no likelihood, but it can be run; ABC keeps the parameter
draws whose simulated outcomes come closest to the documented ones, and their
spread says how well the data pin each parameter down.  Why rejection with a
second, narrowed round: it is simple, embarrassingly parallel (it runs on the
ensemble runner, local or Dask), and reproducible from a seed.

1. Prior: the parameters' own ranges (by default those whose provenance is
   ``calibrated (<=2012)``), Latin hypercube, one seed per draw.
2. Each draw runs only up to the cut-off (``--until``, at most 2012-12), so the
   model never sees a later month; targets after the cut-off are refused.
3. Distance: root mean square of log(1 + simulated) - log(1 + documented) over
   the targets (IBC civilian deaths, UCDP battle deaths, by year).
4. The best ``accept`` share of draws is kept; a second round samples the box
   those draws span, and its accepted draws are the posterior.
5. The overlay written holds, per parameter, the posterior median as value, its
   5-95% range as range, and a ``calibrated (<=2012): ...`` source.  ``run``,
   ``ensemble`` and the other commands apply it with ``--params FILE``.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from .. import __version__
from ..errors import UsageError
from ..scenario.provenance import collect_params
from .backtest import documented_targets
from .design import explicit_design, lhs_unit, parameter_space
from .ensemble import Ensemble, check_failures, expand_raw
from .overlay import CALIBRATION_LAST_MONTH, read_overlay, resolve_raw, scenario_from_raw


@dataclass
class Calibration:
    params: list[dict[str, Any]]
    targets: list[dict[str, Any]]
    rounds: list[dict[str, Any]]
    overlay_path: Path
    cutoff: str

    def to_json(self) -> dict[str, Any]:
        return {"cutoff": self.cutoff, "parameters": self.params, "targets": self.targets, "rounds": self.rounds,
                "overlay": str(self.overlay_path)}


def calibration_targets(start: str, cutoff: str, keys: list[str] | None) -> list[Any]:
    """Documented death counts up to the cut-off; a requested target after it is an error."""
    if cutoff > CALIBRATION_LAST_MONTH:
        raise UsageError(
            f"--until: calibration may use data up to {CALIBRATION_LAST_MONTH} only (got {cutoff}); "
            "2013-2014 are the out-of-sample years"
        )
    every, _ = documented_targets(start, "2014-12")
    deaths = {t.key: t for t in every if t.kind == "deaths"}
    last_year = int(cutoff[:4]) if cutoff[5:7] == "12" else int(cutoff[:4]) - 1
    if keys:
        out = []
        for k in keys:
            if k not in deaths:
                raise UsageError(f"--target: unknown target '{k}' (known: {', '.join(sorted(deaths))})")
            t = deaths[k]
            if t.year > last_year:
                raise UsageError(
                    f"--target {k}: its period ({t.year}) ends after the cut-off {cutoff}; calibration "
                    "uses data up to the cut-off only"
                )
            out.append(t)
        return out
    out = [t for t in deaths.values() if t.year <= last_year]
    if not out:
        raise UsageError(f"--until {cutoff}: no documented target ends by the cut-off")
    return out


def default_params(sc: Any) -> list[str]:
    """The engine's parameters marked ``calibrated (<=2012)``: the death-count targets inform them.

    The politics layer's calibrated parameters (``politics.*``) are fitted to the 2010
    formation by that layer (shatterbelt.politics.calibrate) and are left alone here.
    """
    return [
        p["path"] for p in parameter_space(sc)
        if p["kind"] == "calibrated (<=2012)" and p["path"].startswith("parameters.")
    ]


def _distance(wide: Any, targets: list[Any]) -> np.ndarray:
    errs = []
    for t in targets:
        x = wide[t.metric].to_numpy(float) if t.metric in wide else np.full(len(wide), np.nan)
        errs.append(np.log1p(np.maximum(x, 0)) - math.log1p(t.observed))
    e = np.vstack(errs)
    return np.sqrt(np.nanmean(e**2, axis=0))


def check_write_path(write: str | Path) -> None:
    """``--write``: checked before any run (an empty path, a folder, a path under a file or where no
    file can be created is refused in one line; a missing folder is created when the overlay is written)."""
    if str(write).strip() in ("", "."):
        raise UsageError("--write: an empty path is not a file")
    p = Path(write)
    if p.is_dir():
        raise UsageError(f"--write {p}: is a folder; give the overlay file's path")
    probe = p.absolute().parent
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise UsageError(f"--write {p}: lies under {probe}, which is not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise UsageError(f"--write {p}: cannot create a file under {probe} (permission denied)")


def run_calibration(
    runs: int,
    out: str | Path,
    scenario: str = "iraq-2010",
    until: str = CALIBRATION_LAST_MONTH,
    params: list[str] | None = None,
    targets: list[str] | None = None,
    accept: float = 0.2,
    rounds: int = 2,
    seed: int = 0,
    scale: float = 0.01,
    params_file: str | None = None,
    overrides: list[str] | None = None,
    write: str | Path | None = None,
    **run_kw: Any,
) -> Calibration:
    """ABC rejection in ``rounds`` rounds of ``runs`` runs; writes the overlay and returns the fit."""
    if not 0 < accept <= 1:
        raise UsageError(f"--accept: must be in (0, 1], got {accept}")
    if rounds < 1:
        raise UsageError(f"--rounds: must be >= 1, got {rounds}")
    if runs < 2:
        raise UsageError(f"--runs: calibration needs at least 2 runs per round, got {runs}")
    if write is not None:
        check_write_path(write)
    overlay = read_overlay(params_file) if params_file else None
    raw, label = resolve_raw(scenario, overlay)
    sc = scenario_from_raw(expand_raw(raw, label), label, list(overrides or []))
    start = sc.start
    tgs = calibration_targets(start, until, targets)
    space = {p["path"]: p for p in parameter_space(sc)}
    paths = list(params) if params else default_params(sc)
    if not paths:
        raise UsageError("--param: the scenario marks no parameter 'calibrated (<=2012)'; name some with --param")
    for p in paths:
        if p not in space:
            raise UsageError(f"--param {p}: not an uncertain parameter of '{scenario}' (see 'shatterbelt params')")
    prior = {p: tuple(space[p]["range"]) for p in paths}
    old_source = {p["path"]: p["source"] for p in collect_params(sc)}
    lows = np.array([prior[p][0] for p in paths])
    highs = np.array([prior[p][1] for p in paths])
    out = Path(out)
    rounds_info = []
    accepted = None
    for r in range(rounds):
        u = lhs_unit(runs, len(paths), seed + 1000 * r)
        vals = lows + u * (highs - lows)
        d = explicit_design(paths, lows.tolist(), highs.tolist(), vals, seed + 100_000 * r, "abc", common_seed=False)
        ens = Ensemble(
            [scenario], runs=runs, out=out / f"round{r + 1}", design=d, scale=scale, until=until, seed=seed,
            params_file=params_file, overrides=list(overrides or []), panel="none", events=False, kind="calibrate",
            extra_manifest={"round": r + 1, "targets": [t.key for t in tgs]},
        )
        res = ens.run(**run_kw, description=f"calibrate round {r + 1}: {runs} runs")
        try:
            check_failures(res)
            wide = res.metrics(scenario)
        finally:
            res.close()
        dist = _distance(wide, tgs)
        X = d.samples[wide.index.to_numpy()]
        k = max(1, int(round(accept * len(dist))))
        order = np.argsort(dist, kind="stable")
        keep = order[:k]
        accepted = (X[keep], dist[keep])
        rounds_info.append({
            "round": r + 1, "runs": int(len(dist)), "accepted": k,
            "distance_median_all": float(np.median(dist)), "distance_median_accepted": float(np.median(dist[keep])),
            "distance_best": float(dist[order[0]]),
            "box": {p: [float(lows[i]), float(highs[i])] for i, p in enumerate(paths)},
        })
        # next round: the box the accepted draws span (never outside the prior)
        lows = np.maximum(X[keep].min(0), [prior[p][0] for p in paths])
        highs = np.minimum(X[keep].max(0), [prior[p][1] for p in paths])
        same = highs <= lows
        highs = np.where(same, lows + 1e-9 * np.maximum(np.abs(lows), 1.0), highs)
    assert accepted is not None
    post, _ = accepted
    result_params = []
    overlay_params = {}
    tnames = ", ".join(t.key for t in tgs)
    for i, p in enumerate(paths):
        col = post[:, i]
        med = float(np.median(col))
        lo, hi = float(np.quantile(col, 0.05)), float(np.quantile(col, 0.95))
        lo, hi = min(lo, med), max(hi, med)
        src = (
            f"calibrated (<=2012): ABC rejection, {rounds} rounds x {runs} runs, {len(col)} accepted, cut-off {until}, "
            f"targets {tnames}; shatterbelt {__version__} calibrate; prior {list(prior[p])} from: {old_source.get(p, '')}"
        )
        overlay_params[p] = {"value": float(f"{med:.6g}"), "range": [float(f"{lo:.6g}"), float(f"{hi:.6g}")], "source": src}
        result_params.append({"path": p, "prior": list(prior[p]), "posterior_median": med, "posterior_5": lo,
                              "posterior_95": hi})
    doc = {
        "overlay": "calibration",
        "scenario": scenario,
        "cutoff": until,
        "method": "ABC rejection (shatterbelt.experiments.calibrate)",
        "targets": [{"key": t.key, "observed": t.observed, "metric": t.metric, "source": t.source} for t in tgs],
        "rounds": rounds_info,
        "parameters": overlay_params,
    }
    path = Path(write) if write else out / "calibrated.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    header = (
        f"# Parameter overlay written by 'shatterbelt calibrate' (shatterbelt {__version__}); apply with --params.\n"
        f"# Fitted to documented outcomes up to {until} only; 2013-2014 stay out-of-sample.\n"
    )
    path.write_text(header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=120), encoding="utf-8")
    read_overlay(path)  # what we wrote must load
    cal = Calibration(result_params, doc["targets"], rounds_info, path, until)
    (out / "calibration.json").write_text(json.dumps(cal.to_json(), indent=2) + "\n", encoding="utf-8")
    return cal
