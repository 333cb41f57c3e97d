"""``shatterbelt claims``, ``calibrate`` and ``sensitivity``: the experiments that infer something.

They share the options of :func:`shatterbelt.cli.experiments.experiment` (see that module).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Annotated

import typer

from ..errors import UsageError
from .common import DEFAULT_SCENARIO, ScenarioArg, Vary, emit_json
from .experiments import Shared, _f, _table, app, experiment

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
    from ..experiments.claims import check_claims_args, claims_json, pairs_warning, run_claims
    from ..experiments.stats import finite_or_none

    check_claims_args(runs, replicates, list(claim or []))
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
            label = m.label if not m.direction else f"{m.label} ({sign}{'' if not m.threshold else f' vs {m.threshold:g}'})"
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
        print(f'{r.claim.id}: "{r.claim.sentence}" -- '
              + (f"not applicable: {r.not_applicable}" if r.not_applicable else r.experiment or r.claim.design_note)
              + (f"; left out: {r.claim.dropped}" if r.claim.dropped and not r.not_applicable else ""))
    print(f"saved {saved['csv']} (one row per claim and metric), claims_verdicts.csv and claims.json")


#: ``--scenario``: kept as a deprecated alias of the positional argument
ScenarioAlias = Annotated[
    str | None, typer.Option("--scenario", hidden=True, help="deprecated: give the scenario as the argument")
]


def _scenario(arg: str, alias: str | None) -> str:
    """The positional scenario, or the deprecated ``--scenario`` (a conflicting pair is refused)."""
    if alias is None:
        return arg
    if arg != DEFAULT_SCENARIO and arg != alias:
        raise UsageError(f"--scenario: '{alias}' conflicts with the argument '{arg}'; give the scenario once")
    print("warning: --scenario is deprecated; give the scenario as the first argument", file=sys.stderr)
    return alias


@experiment(shared_until=False)
def calibrate(
    opts: Shared,
    scenario: ScenarioArg = DEFAULT_SCENARIO,
    until: Annotated[
        str, typer.Option(help="cut-off month: no target and no simulated month after it (<= 2012-12)")
    ] = "2012-12",
    runs: Annotated[int, typer.Option(help="runs per ABC-SMC round")] = 100,
    rounds: Annotated[int, typer.Option(help="ABC-SMC rounds (each proposes near the last, weighted)")] = 3,
    accept: Annotated[float, typer.Option(help="share of a round's draws within its tolerance")] = 0.3,
    ppc: Annotated[int, typer.Option(help="posterior predictive runs (0: no check)")] = 20,
    param: Annotated[
        list[str] | None, typer.Option(help="parameter path to fit (default: those marked 'calibrated (<=2012)')")
    ] = None,
    target: Annotated[
        list[str] | None, typer.Option(help="target key, e.g. ibc_2011, ucdp_2012 (default: all up to the cut-off)")
    ] = None,
    write: Annotated[Path | None, typer.Option(help="where to write the overlay (default OUT/calibrated.yaml)")] = None,
    scenario_opt: ScenarioAlias = None,
) -> None:
    """Fit uncertain parameters to documented outcomes up to the cut-off (ABC-SMC); write an overlay for --params."""
    from ..experiments.calibrate import run_calibration
    from ..experiments.stats import finite_or_none

    scenario = _scenario(scenario, scenario_opt)
    out_dir = opts.out_dir("calibrate", scenario)
    cal = run_calibration(runs, out_dir, scenario=scenario, until=until, params=list(param or []) or None,
                          targets=list(target or []) or None, accept=accept, rounds=rounds, write=write, ppc=ppc,
                          **opts.common(until=False), **opts.run_kw())
    if opts.json:
        emit_json(finite_or_none(cal.to_json()))
        return
    _table(f"ABC-SMC calibration up to {until} ({len(cal.targets)} targets; posterior from {cal.accepted} weighted "
           f"draws, effective sample size {cal.ess:.1f})",
           ["parameter", "prior", "posterior median", "posterior 5-95%"],
           [[p["path"], f"[{_f(p['prior'][0])}, {_f(p['prior'][1])}]", _f(p["posterior_median"]),
             f"[{_f(p['posterior_5'])}, {_f(p['posterior_95'])}]"] for p in cal.params])
    for r in cal.rounds:
        print(f"round {r['round']}: {r['accepted']} of {r['runs']} within tolerance {r['tolerance']:.3f} (ESS "
              f"{r['ess']:.1f}); distance (RMS log error) median {r['distance_median_all']:.3f}, accepted "
              f"{r['distance_median_accepted']:.3f}, best {r['distance_best']:.3f}")
    ck = cal.check
    if ck.get("runs"):
        _table(f"Posterior predictive check ({ck['runs']} runs at posterior draws, new seeds)",
               ["target", "documented", "predictive median", "90% predictive interval", "inside"],
               [[t["target"], _f(t["observed"]), _f(t["median"]), f"[{_f(t['lo90'])}, {_f(t['hi90'])}]",
                 "yes" if t["inside90"] else "no"] for t in ck["targets"]])
        print(f"{ck['inside90']} of {ck['scored']} documented values inside the 90% predictive interval; "
              f"predictive distance median {ck['distance_median']:.3f}")
    print(f"overlay written to {cal.overlay_path}; apply it with --params {cal.overlay_path}")


@experiment()
def sensitivity(
    opts: Shared,
    scenario: ScenarioArg = DEFAULT_SCENARIO,
    outcome: Annotated[
        list[str] | None, typer.Option(help="deaths, microstates, displaced, insurgents, ... or a metric key "
                                       "(repeatable)")
    ] = None,
    method: Annotated[str, typer.Option(help="morris (screening) or sobol (indices)")] = "morris",
    runs: Annotated[
        int | None, typer.Option(help="run budget (default: the design's own size, printed)")
    ] = None,
    seeds: Annotated[int, typer.Option(help="seeds per design point (indices use their mean)")] = 2,
    groups: Annotated[str, typer.Option(help="module (parameters grouped by model part) or parameter")] = "module",
    trajectories: Annotated[int | None, typer.Option(help="Morris trajectories (default 4)")] = None,
    base: Annotated[int | None, typer.Option(help="Sobol base samples, a power of two (default 16)")] = None,
    top: Annotated[
        int | None, typer.Option(help="Sobol over the K most influential groups of a Morris run in --out")
    ] = None,
    vary: Vary = None,
    scenario_opt: ScenarioAlias = None,
) -> None:
    """Which groups of parameters drive an outcome: Morris screening or Sobol indices (SALib), several seeds a point."""
    from ..experiments.sensitivity import run_sensitivity

    scenario = _scenario(scenario, scenario_opt)
    out_dir = opts.out_dir("sensitivity", scenario)
    sens = run_sensitivity(runs, out_dir, method=method, outcomes=list(outcome or []) or None, scenario=scenario,
                           vary=list(vary or []) or None, top=top, seeds=seeds, grouping=groups,
                           trajectories=trajectories, base=base, **opts.common(), **opts.run_kw())
    if opts.json:
        emit_json(sens.to_json())
        return
    design = (f"{sens.parameters} parameters in {sens.groups} groups, {sens.points} points x {sens.seeds} seeds = "
              f"{sens.runs} runs")
    for key, rows in sens.outcomes.items():
        noise = sens.noise.get(key)
        note = f"; seed noise {noise:.0%} of the variance" if noise is not None and math.isfinite(noise) else ""
        if method == "morris":
            _table(f"Morris screening of {key} ({design}{note})",
                   ["group", "members", "mu*", "mu* 95% conf", "sigma"],
                   [[r["group"], str(r["members"]), _f(r["mu_star"]), _f(r["mu_star_conf"]), _f(r["sigma"])]
                    for r in rows[:15]])
        else:
            _table(f"Sobol indices of {key} ({design}{note})",
                   ["group", "members", "S1", "S1 conf", "ST", "ST conf"],
                   [[r["group"], str(r["members"]), _f(r["S1"]), _f(r["S1_conf"]), _f(r["ST"]), _f(r["ST_conf"])]
                    for r in rows[:15]])
    for key in sens.constant:
        print(f"{key}: the same in every run; no index")
    if sens.repaired:
        print(f"note: {sens.repaired} design points violated a joint constraint and were pulled toward the "
              "scenario's values")
    print(f"saved {Path(out_dir) / f'sensitivity_{method}.csv'} (groups' members in groups_{method}.json)")
