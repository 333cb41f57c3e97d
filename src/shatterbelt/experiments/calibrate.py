"""Calibration on data up to a cut-off only: sequential Monte Carlo ABC (ABC-SMC) with importance weights.

Why ABC: the model has no likelihood, but it can be run; ABC keeps the parameter
draws whose simulated outcomes come close to the documented ones.  Why sequential
with weights (Beaumont, Cornuet, Marin & Robert 2009; Toni et al. 2009): each round
proposes near the previous round's accepted draws, so the tolerance can shrink
without wasting runs, and importance weights undo the proposal's bias so that the
accepted, weighted draws stay a sample of the ABC posterior (prior x closeness).
It runs on the ensemble runner (local or Dask) and is reproducible from a seed.

1. Prior: uniform on the parameters' ranges (by default those whose provenance is
   ``calibrated (<=2012)``).  Round 1 draws ``runs`` points from it (Latin hypercube),
   one seed per run.
2. Each run stops at the cut-off (``--until``, at most 2012-12), so the model never
   sees a later month; targets after the cut-off are refused.
3. Distance: root mean square of log(1 + simulated) - log(1 + documented) over the
   targets (IBC civilian deaths, UCDP battle deaths, by year).
4. Tolerance: the ``accept`` quantile of the round's distances (the ``accept x runs``
   closest draws are accepted).  Proposals concentrate where the fit is good, so it
   usually shrinks from round to round; the weights stay valid whatever it does (the
   target is prior x [distance <= tolerance] in every round).
5. Round t > 1 proposes ``runs`` points: pick an accepted draw j of round t - 1 with
   probability w_j, add a Gaussian step with twice the population's weighted
   covariance (Beaumont et al. 2009), redraw when outside the prior's box.  An
   accepted draw's weight is prior(theta) / sum_j w_j K(theta | theta_j): the prior
   density over the mixture of perturbation kernels (the box truncation is a constant
   that normalization removes).  Round 1's weights are equal.
6. Posterior: the last round's accepted draws with their weights: weighted median and
   5-95% quantiles, effective sample size ESS = (sum w)^2 / sum w^2.  Fewer than
   :data:`MIN_ESS` effective draws cannot place a 5% and a 95% quantile, and the
   posterior is refused in one line (before any run when ``runs x accept`` is too small).
7. Posterior predictive check: ``ppc`` new runs at draws resampled by weight, fresh
   seeds; per target the predictive median and 90% interval and whether the
   documented value falls in it.
8. The overlay written holds, per parameter, the posterior median as value, its 5-95%
   range as range, and a ``calibrated (<=2012): ...`` source.  ``run``, ``ensemble`` and
   the other commands apply it with ``--params FILE``.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field, replace
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
from .stats import finite_or_none


@dataclass
class Calibration:
    """A fit: the weighted posterior per parameter, the rounds, the predictive check, the overlay written."""

    params: list[dict[str, Any]]
    targets: list[dict[str, Any]]
    rounds: list[dict[str, Any]]
    overlay_path: Path
    cutoff: str
    accepted: int = 0
    ess: float = 0.0
    check: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"cutoff": self.cutoff, "method": "ABC-SMC with importance weights",
                "posterior": {"accepted": self.accepted, "ess": self.ess, "min_ess": MIN_ESS},
                "parameters": self.params, "targets": self.targets, "rounds": self.rounds,
                "predictive_check": self.check, "overlay": str(self.overlay_path)}


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


#: the fewest effective draws a posterior is reported from: a 5% and a 95% quantile need 20
MIN_ESS = 20


def weighted_quantile(x: np.ndarray, w: np.ndarray, q: float | list[float]) -> np.ndarray:
    """Quantiles of ``x`` under weights ``w`` (linear interpolation between the weighted mid-ranks)."""
    x = np.asarray(x, float)
    w = np.asarray(w, float)
    order = np.argsort(x, kind="stable")
    xs, ws = x[order], w[order]
    cdf = (np.cumsum(ws) - 0.5 * ws) / ws.sum()
    return np.interp(np.atleast_1d(q), cdf, xs)


def ess(w: np.ndarray) -> float:
    """Kish's effective sample size of importance weights: (sum w)^2 / sum w^2."""
    w = np.asarray(w, float)
    return float(w.sum() ** 2 / (w**2).sum()) if w.size and (w**2).sum() > 0 else 0.0


def check_ess(w: np.ndarray, out: Path) -> float:
    """The posterior's effective sample size; fewer than :data:`MIN_ESS` is refused in one line."""
    n_eff = ess(w)
    if n_eff < MIN_ESS - 1e-9:  # equal weights give exactly n up to rounding
        raise UsageError(
            f"calibrate: the posterior rests on {n_eff:.1f} effective draws ({len(w)} accepted), fewer than the "
            f"{MIN_ESS} a 5-95% interval needs; raise --runs or --accept (the runs are kept in {out})"
        )
    return n_eff


def kernel_cov(theta: np.ndarray, w: np.ndarray, lows: np.ndarray, highs: np.ndarray) -> np.ndarray:
    """Twice the weighted covariance of a population (Beaumont et al. 2009), kept positive definite."""
    wn = w / w.sum()
    mu = wn @ theta
    c = ((theta - mu).T * wn) @ (theta - mu)
    c = 2.0 * np.atleast_2d(c)
    floor = (1e-6 * (highs - lows)) ** 2 + 1e-300
    return c + np.diag(floor)


def perturb(
    rng: np.random.Generator, theta: np.ndarray, w: np.ndarray, cov: np.ndarray, lows: np.ndarray,
    highs: np.ndarray, n: int,
) -> np.ndarray:
    """``n`` proposals from the weighted mixture of Gaussian kernels, restricted to the prior's box."""
    L = np.linalg.cholesky(cov)
    wn = w / w.sum()
    out = np.empty((n, theta.shape[1]))
    got = 0
    for _ in range(10_000):
        m = 4 * (n - got)
        j = rng.choice(len(wn), size=m, p=wn)
        cand = theta[j] + rng.standard_normal((m, theta.shape[1])) @ L.T
        ok = cand[np.all((cand >= lows) & (cand <= highs), axis=1)]
        take = min(len(ok), n - got)
        out[got:got + take] = ok[:take]
        got += take
        if got == n:
            return out
    raise UsageError("calibrate: the perturbation kernel leaves the prior's box; narrow --param or raise --runs")


def smc_weights(
    new: np.ndarray, prev: np.ndarray, w_prev: np.ndarray, cov: np.ndarray, lows: np.ndarray, highs: np.ndarray
) -> np.ndarray:
    """Importance weights prior(theta) / sum_j w_j K(theta | theta_j), normalized to sum 1 (uniform prior)."""
    from scipy.stats import multivariate_normal

    inside = np.all((new >= lows) & (new <= highs), axis=1).astype(float)
    wn = w_prev / w_prev.sum()
    dens = np.zeros(len(new))
    mvn = multivariate_normal(mean=np.zeros(new.shape[1]), cov=cov, allow_singular=True)
    for j in range(len(prev)):
        dens += wn[j] * np.atleast_1d(mvn.pdf(new - prev[j]))
    wt = np.where(dens > 0, inside / np.where(dens > 0, dens, 1.0), 0.0)
    if wt.sum() <= 0:
        return np.full(len(new), 1.0 / len(new))
    return wt / wt.sum()


def _run_design(
    scenario: str, out: Path, paths: list[str], lows: np.ndarray, highs: np.ndarray, vals: np.ndarray, run_seed: int,
    tag: str, tgs: list[Any], ens_kw: dict[str, Any], run_kw: dict[str, Any],
) -> tuple[np.ndarray, Any]:
    """Run one batch of parameter points (one seed each); their design values and the metrics table."""
    d = explicit_design(paths, lows.tolist(), highs.tolist(), vals, run_seed, "abc", common_seed=False)
    ens = Ensemble(
        [scenario], runs=len(vals), out=out / tag, design=d, panel="none", events=False, kind="calibrate",
        extra_manifest={"batch": tag, "targets": [t.key for t in tgs]}, **ens_kw,
    )
    res = ens.run(**run_kw, description=f"calibrate {tag}: {len(vals)} runs")
    try:
        check_failures(res)
        wide = res.metrics(scenario)
    finally:
        res.close()
    X = d.samples[wide.index.to_numpy()]
    return X, wide


def run_calibration(
    runs: int,
    out: str | Path,
    scenario: str = "iraq-2010",
    until: str = CALIBRATION_LAST_MONTH,
    params: list[str] | None = None,
    targets: list[str] | None = None,
    accept: float = 0.3,
    rounds: int = 3,
    seed: int = 0,
    scale: float = 0.01,
    params_file: str | None = None,
    overrides: list[str] | None = None,
    write: str | Path | None = None,
    ppc: int = 20,
    observed: dict[str, float] | None = None,
    **run_kw: Any,
) -> Calibration:
    """ABC-SMC in ``rounds`` rounds of ``runs`` runs, a predictive check of ``ppc`` runs; writes the overlay.

    ``observed`` (target key -> value) replaces documented values, e.g. a synthetic truth
    produced by the model itself (the recovery benchmark).
    """
    if not 0 < accept <= 1:
        raise UsageError(f"--accept: must be in (0, 1], got {accept}")
    if rounds < 1:
        raise UsageError(f"--rounds: must be >= 1, got {rounds}")
    if runs < 2:
        raise UsageError(f"--runs: calibration needs at least 2 runs per round, got {runs}")
    if ppc < 0:
        raise UsageError(f"--ppc: must be >= 0, got {ppc}")
    if write is not None:
        check_write_path(write)
    k_acc = max(1, int(round(accept * runs)))
    if k_acc < MIN_ESS:
        raise UsageError(
            f"--runs: {runs} runs x --accept {accept:g} accept {k_acc} draws per round, fewer than the {MIN_ESS} a "
            f"5-95% posterior interval needs; use at least --runs {math.ceil(MIN_ESS / accept)}"
        )
    overlay = read_overlay(params_file) if params_file else None
    raw, label = resolve_raw(scenario, overlay)
    sc = scenario_from_raw(expand_raw(raw, label), label, list(overrides or []))
    tgs = calibration_targets(sc.start, until, targets)
    if observed:
        known = {t.key for t in tgs}
        for key in observed:
            if key not in known:
                raise UsageError(f"observed.{key}: not a target of this calibration (targets: {', '.join(sorted(known))})")
        tgs = [replace(t, observed=float(observed.get(t.key, t.observed)),
                       source=("synthetic: " + str(observed[t.key])) if t.key in observed else t.source) for t in tgs]
    space = {p["path"]: p for p in parameter_space(sc)}
    paths = list(params) if params else default_params(sc)
    if not paths:
        raise UsageError("--param: the scenario marks no parameter 'calibrated (<=2012)'; name some with --param")
    for p in paths:
        if p not in space:
            raise UsageError(f"--param {p}: not an uncertain parameter of '{scenario}' (see 'shatterbelt params')")
    prior = {p: tuple(space[p]["range"]) for p in paths}
    old_source = {p["path"]: p["source"] for p in collect_params(sc)}
    lows = np.array([prior[p][0] for p in paths], float)
    highs = np.array([prior[p][1] for p in paths], float)
    out = Path(out)
    ens_kw = {"scale": scale, "until": until, "seed": seed, "params_file": params_file,
              "overrides": list(overrides or [])}
    rounds_info: list[dict[str, Any]] = []
    theta = w = None
    for r in range(rounds):
        if r == 0:
            vals = lows + lhs_unit(runs, len(paths), seed) * (highs - lows)
        else:
            assert theta is not None and w is not None
            cov = kernel_cov(theta, w, lows, highs)
            vals = perturb(np.random.default_rng([seed, r]), theta, w, cov, lows, highs, runs)
        X, wide = _run_design(scenario, out, paths, lows, highs, vals, seed + 100_000 * r, f"round{r + 1}", tgs,
                              ens_kw, run_kw)
        dist = _distance(wide, tgs)
        ok = np.isfinite(dist)
        order = np.argsort(np.where(ok, dist, np.inf), kind="stable")
        keep = np.sort(order[:min(k_acc, int(ok.sum()))])
        eps = float(dist[order[len(keep) - 1]]) if len(keep) else math.inf
        if r == 0:
            w_new = np.full(len(keep), 1.0 / max(len(keep), 1))
        else:
            assert theta is not None and w is not None
            # the kernel the proposals came from (the box truncation's constant cancels on normalizing)
            w_new = smc_weights(X[keep], theta, w, kernel_cov(theta, w, lows, highs), lows, highs)
        if len(keep) == 0:
            raise UsageError("calibrate: no run was accepted (every distance undefined); check the targets")
        theta, w = X[keep], w_new
        rounds_info.append({
            "round": r + 1, "runs": int(len(dist)), "accepted": int(len(keep)), "tolerance": eps,
            "ess": ess(w), "distance_median_all": float(np.nanmedian(dist)),
            "distance_median_accepted": float(np.median(dist[keep])),
            "distance_weighted_mean_accepted": float(np.sum(w * dist[keep])),
            "distance_best": float(np.nanmin(dist)),
        })
    assert theta is not None and w is not None
    n_eff = check_ess(w, out)
    result_params = []
    overlay_params = {}
    tnames = ", ".join(t.key for t in tgs)
    for i, p in enumerate(paths):
        lo, med, hi = (float(v) for v in weighted_quantile(theta[:, i], w, [0.05, 0.5, 0.95]))
        src = (
            f"calibrated (<=2012): ABC-SMC, {rounds} rounds x {runs} runs, {len(w)} accepted (ESS {n_eff:.1f}), "
            f"cut-off {until}, targets {tnames}; shatterbelt {__version__} calibrate; prior {list(prior[p])} from: "
            f"{old_source.get(p, '')}"
        )
        overlay_params[p] = {"value": float(f"{med:.6g}"), "range": [float(f"{lo:.6g}"), float(f"{hi:.6g}")],
                             "source": src}
        result_params.append({"path": p, "prior": list(prior[p]), "posterior_median": med, "posterior_5": lo,
                              "posterior_95": hi, "posterior_mean": float(np.sum(w * theta[:, i]))})
    check = _predictive_check(scenario, out, paths, lows, highs, theta, w, ppc, seed, rounds, tgs, ens_kw, run_kw)
    doc = {
        "overlay": "calibration",
        "scenario": scenario,
        "cutoff": until,
        "method": "ABC-SMC with importance weights (shatterbelt.experiments.calibrate)",
        "targets": [{"key": t.key, "observed": t.observed, "metric": t.metric, "source": t.source} for t in tgs],
        "rounds": rounds_info,
        "posterior": {"accepted": int(len(w)), "ess": n_eff},
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
    cal = Calibration(result_params, doc["targets"], rounds_info, path, until, int(len(w)), n_eff, check)
    (out / "calibration.json").write_text(json.dumps(finite_or_none(cal.to_json()), indent=2) + "\n",
                                          encoding="utf-8")
    draws = [{"round": rounds, **{p: float(theta[k, i]) for i, p in enumerate(paths)}, "weight": float(w[k])}
             for k in range(len(w))]
    (out / "posterior.json").write_text(json.dumps(draws, indent=1) + "\n", encoding="utf-8")
    return cal


def _predictive_check(
    scenario: str, out: Path, paths: list[str], lows: np.ndarray, highs: np.ndarray, theta: np.ndarray,
    w: np.ndarray, n: int, seed: int, rounds: int, tgs: list[Any], ens_kw: dict[str, Any], run_kw: dict[str, Any],
) -> dict[str, Any]:
    """``n`` runs at posterior draws resampled by weight, fresh seeds: predictive intervals against the targets."""
    if n == 0:
        return {"runs": 0}
    rng = np.random.default_rng([seed, 7_777])
    idx = rng.choice(len(w), size=n, p=w / w.sum())
    _, wide = _run_design(scenario, out, paths, lows, highs, theta[idx], seed + 100_000 * (rounds + 1), "ppc", tgs,
                          ens_kw, run_kw)
    rows = []
    for t in tgs:
        x = wide[t.metric].to_numpy(float) if t.metric in wide else np.full(len(wide), np.nan)
        x = x[np.isfinite(x)]
        if x.size == 0:
            rows.append({"target": t.key, "observed": t.observed, "median": None, "lo90": None, "hi90": None,
                         "inside90": None, "p_below": None})
            continue
        lo, med, hi = (float(v) for v in np.quantile(x, [0.05, 0.5, 0.95]))
        rows.append({"target": t.key, "observed": t.observed, "median": med, "lo90": lo, "hi90": hi,
                     "inside90": bool(lo <= t.observed <= hi), "p_below": float((x < t.observed).mean())})
    inside = [r["inside90"] for r in rows if r["inside90"] is not None]
    return {"runs": int(len(wide)), "targets": rows, "inside90": int(sum(inside)), "scored": len(inside),
            "distance_median": float(np.nanmedian(_distance(wide, tgs)))}
