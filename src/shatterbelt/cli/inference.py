"""``shatterbelt claims``, ``calibrate`` and ``sensitivity``: the experiments that infer something.

They share the options of :func:`shatterbelt.cli.experiments.experiment` (see that module).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from .common import DEFAULT_SCENARIO, Vary, emit_json
from .experiments import ScenarioOpt, Shared, _f, _table, app, experiment

__all__ = ["app"]


@experiment()
def claims(
    opts: Shared,
    runs: Annotated[int, typer.Option(help="paired runs per scenario (samples x replicates); warns below 20")] = 40,
    claim: Annotated[list[str] | None, typer.Option(help="run only these claims (C1..C8, repeatable)")] = None,
    replicates: Annotated[int, typer.Option(help="seeds per parameter sample")] = 2,
    base: Annotated[str, typer.Option(help="the essay's world (variants are composed onto it)")] = DEFAULT_SCENARIO,
    vary: Vary = None,
) -> None:
    """The essay's eight claims as pre-registered paired tests: effect B - A, 90% interval, minimum effect, verdict."""
    from ..experiments.claims import claims_json, pairs_warning, run_claims
    from ..experiments.stats import finite_or_none

    warn = pairs_warning(runs)
    if warn:
        print(warn, file=sys.stderr)
    out_dir = opts.out_dir("claims")
    results = run_claims(runs, out_dir, claim_ids=list(claim or []), replicates=replicates, base=base,
                         vary=list(vary or []), panel="none", **opts.common(), **opts.run_kw())
    saved = {"csv": str(Path(out_dir) / "claims.csv"), "verdicts_csv": str(Path(out_dir) / "claims_verdicts.csv"),
             "json": str(Path(out_dir) / "claims.json")}
    if opts.json:
        emit_json(finite_or_none({**claims_json(results), "saved": saved}))
        return
    rows = []
    for r in results:
        for k, m in enumerate(r.metrics):
            sign = "+" if m.direction > 0 else "-"
            label = f"{m.label} ({sign}{'' if not m.threshold else f' vs {m.threshold:g}'})"
            rows.append([f"{r.claim.id} {r.claim.title}" if k == 0 else "", label, _f(m.effect),
                         f"[{_f(m.lo)}, {_f(m.hi)}]", _f(m.min_effect), m.verdict, _f(m.share, 2)])
    n = results[0].n_samples if results else 0
    k = results[0].replicates if results else 0
    _table(f"The essay's claims under this model, per metric ({n} parameter samples x {k} seeds; effect = B - A = "
           "counterfactual - essay's world, C7: the value; predicted sign in brackets)",
           ["claim", "metric (predicted sign)", "effect", "90% interval", "min. effect", "verdict", "share of space"],
           rows)
    _table("Verdicts per claim (supported: >= 1 metric supported, none contradicted; contradicted: the mirror; "
           "else inconclusive)", ["claim", "verdict", "metric verdicts", "share of space"],
           [[f"{r.claim.id} {r.claim.title}", r.verdict.upper(), ", ".join(m.verdict for m in r.metrics),
             _f(r.share, 2)] for r in results])
    for r in results:
        print(f'{r.claim.id}: "{r.claim.sentence}" -- {r.claim.design_note}'
              + (f"; left out: {r.claim.dropped}" if r.claim.dropped else ""))
    print(f"saved {saved['csv']} (one row per claim and metric), claims_verdicts.csv and claims.json")


@experiment(shared_until=False)
def calibrate(
    opts: Shared,
    until: Annotated[
        str, typer.Option(help="cut-off month: no target and no simulated month after it (<= 2012-12)")
    ] = "2012-12",
    runs: Annotated[int, typer.Option(help="runs per ABC round")] = 40,
    rounds: Annotated[int, typer.Option(help="ABC rounds (each narrows to the accepted draws' box)")] = 2,
    accept: Annotated[float, typer.Option(help="share of draws accepted per round")] = 0.2,
    param: Annotated[
        list[str] | None, typer.Option(help="parameter path to fit (default: those marked 'calibrated (<=2012)')")
    ] = None,
    target: Annotated[
        list[str] | None, typer.Option(help="target key, e.g. ibc_2011, ucdp_2012 (default: all up to the cut-off)")
    ] = None,
    scenario: ScenarioOpt = DEFAULT_SCENARIO,
    write: Annotated[Path | None, typer.Option(help="where to write the overlay (default OUT/calibrated.yaml)")] = None,
) -> None:
    """Fit uncertain parameters to documented outcomes up to the cut-off (ABC); write an overlay for --params."""
    from ..experiments.calibrate import run_calibration

    out_dir = opts.out_dir("calibrate", scenario)
    cal = run_calibration(runs, out_dir, scenario=scenario, until=until, params=list(param or []) or None,
                          targets=list(target or []) or None, accept=accept, rounds=rounds, write=write, **opts.common(until=False), **opts.run_kw())
    if opts.json:
        emit_json(cal.to_json())
        return
    _table(f"ABC calibration up to {until} ({len(cal.targets)} targets)", ["parameter", "prior", "posterior median",
           "posterior 5-95%"],
           [[p["path"], f"[{_f(p['prior'][0])}, {_f(p['prior'][1])}]", _f(p["posterior_median"]),
             f"[{_f(p['posterior_5'])}, {_f(p['posterior_95'])}]"] for p in cal.params])
    for r in cal.rounds:
        print(f"round {r['round']}: {r['accepted']} of {r['runs']} accepted; distance (RMS log error) median "
              f"{r['distance_median_all']:.3f} -> accepted {r['distance_median_accepted']:.3f}, best {r['distance_best']:.3f}")
    print(f"overlay written to {cal.overlay_path}; apply it with --params {cal.overlay_path}")


@experiment()
def sensitivity(
    opts: Shared,
    outcome: Annotated[
        list[str] | None, typer.Option(help="civil_war, deaths, microstates, ... or a metric key (repeatable)")
    ] = None,
    method: Annotated[str, typer.Option(help="morris (screening) or sobol (indices)")] = "morris",
    runs: Annotated[int, typer.Option(help="run budget (sets trajectories or base samples)")] = 200,
    top: Annotated[
        int | None, typer.Option(help="Sobol over the K most influential parameters of a Morris run in --out")
    ] = None,
    scenario: ScenarioOpt = DEFAULT_SCENARIO,
    vary: Vary = None,
) -> None:
    """Which parameters drive an outcome: Morris screening or Sobol indices (SALib)."""
    from ..experiments.sensitivity import run_sensitivity

    out_dir = opts.out_dir("sensitivity", scenario)
    sens = run_sensitivity(runs, out_dir, method=method, outcomes=list(outcome or []) or None, scenario=scenario,
                           vary=list(vary or []) or None, top=top, **opts.common(), **opts.run_kw())
    if opts.json:
        emit_json(sens.to_json())
        return
    for key, rows in sens.outcomes.items():
        if method == "morris":
            _table(f"Morris screening of {key} ({sens.parameters} parameters, {sens.runs} runs)",
                   ["parameter", "mu*", "mu* 95% conf", "sigma"],
                   [[r["parameter"], _f(r["mu_star"]), _f(r["mu_star_conf"]), _f(r["sigma"])] for r in rows[:15]])
        else:
            _table(f"Sobol indices of {key} ({sens.parameters} parameters, {sens.runs} runs)",
                   ["parameter", "S1", "S1 conf", "ST", "ST conf"],
                   [[r["parameter"], _f(r["S1"]), _f(r["S1_conf"]), _f(r["ST"]), _f(r["ST_conf"])] for r in rows[:15]])
    if sens.repaired:
        print(f"note: {sens.repaired} design points violated a joint constraint and were pulled toward the "
              "scenario's values")
    print(f"saved {Path(out_dir) / f'sensitivity_{method}.csv'}")
