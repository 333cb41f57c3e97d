"""``shatterbelt ensemble``, ``compare``, ``claims``, ``backtest``, ``calibrate`` and ``sensitivity``.

Every command runs (or resumes) an ensemble in ``--out`` and then analyses it;
rerunning the same command after an interruption skips the finished runs.
They share ``--scale``, ``--until``, ``--runs``, ``--seed``, ``--workers`` /
``--scheduler``, ``--params``, ``--set`` and ``--json`` (one JSON document on
stdout; the progress bar, when shown, goes to stderr).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import UsageError
from .common import emit_json

Scale = Annotated[float, typer.Option(help="share of the population simulated (1.0 = every person)")]
Until = Annotated[str | None, typer.Option(help="stop every run after this month, YYYY-MM")]
Seed = Annotated[int, typer.Option(help="first seed (run i uses seed + i) and the sampling seed")]
Workers = Annotated[int | None, typer.Option(help="local worker processes (default: one per CPU core)")]
Scheduler = Annotated[
    str | None, typer.Option(help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (runs go to its workers)")
]
Out = Annotated[Path | None, typer.Option(help="results folder (resumes what is there)")]
ParamsFile = Annotated[Path | None, typer.Option("--params", help="parameter overlay YAML (e.g. from calibrate)")]
SetOpt = Annotated[list[str] | None, typer.Option("--set", help="override a parameter in every run: path=value")]
Json = Annotated[bool, typer.Option("--json", help="print one JSON document on stdout")]
Quiet = Annotated[bool, typer.Option(help="no progress bar")]
Rebuild = Annotated[bool, typer.Option(help="move a damaged results database aside and rebuild it from the run folders")]
Timeout = Annotated[float, typer.Option(help="seconds to wait for a Dask scheduler and its first worker")]
Vary = Annotated[list[str] | None, typer.Option(help="sample only parameters matching this glob (repeatable)")]


def _check_runs(runs: int) -> None:
    if runs < 1:
        raise UsageError(f"--runs: must be >= 1, got {runs}")


def _common(
    scale: float, until: str | None, seed: int, params: Path | None, set_: list[str] | None
) -> dict[str, Any]:
    if not (0.0 < scale <= 1.0):
        raise UsageError(f"--scale: must be in (0, 1], got {scale}")
    if seed < 0:
        raise UsageError(f"--seed: must be >= 0, got {seed}")
    return {
        "scale": scale,
        "until": until,
        "seed": seed,
        "params_file": str(params) if params else None,
        "overrides": list(set_ or []),
    }


def _run_kw(workers: int | None, scheduler: str | None, quiet: bool, rebuild: bool, timeout: float) -> dict[str, Any]:
    from ..experiments.executor import show_progress

    if workers is not None and workers < 1:
        raise UsageError(f"--workers: must be >= 1, got {workers}")
    return {"workers": workers, "scheduler": scheduler, "progress": show_progress(quiet), "rebuild": rebuild,
            "connect_timeout": timeout}


def _f(x: Any, digits: int = 3) -> str:
    from ..experiments.stats import fmt

    return fmt(x, digits)


def _table(title: str, columns: list[str], rows: list[list[str]]) -> None:
    import sys

    from rich.console import Console
    from rich.table import Table

    t = Table(title=title, show_lines=False, title_justify="left")
    for c in columns:
        t.add_column(c, overflow="fold")
    for r in rows:
        t.add_row(*r)
    # a wide table when written to a file or a pipe (rich would fold it at 80 columns)
    Console(width=None if sys.stdout.isatty() else 160).print(t)


def _default_out(kind: str, label: str = "") -> Path:
    from ..experiments.ensemble import slug

    return Path("out") / (f"{kind}-{slug(label)}" if label else kind)


ENSEMBLE_HEADLINE = [
    "deaths.total", "deaths.civilian", "deaths.battle", "civil_war.any", "peak_displaced", "microstates.mean",
    "army_cohesion_final", "army_collapses.count", "insurgent_fighters_peak", "vacuum_months_total",
]


def register(app: typer.Typer) -> None:
    @app.command()
    def ensemble(
        scenario: Annotated[str, typer.Argument(help="built-in name, base+variant, or a YAML file")] = "iraq-2010",
        runs: Annotated[int, typer.Option(help="number of runs")] = 20,
        sample: Annotated[str, typer.Option(help="'none' (point values, seeds only) or 'lhs' (Latin hypercube over the ranges)")] = "none",
        samples: Annotated[int | None, typer.Option(help="parameter samples with --sample lhs (default: one per run)")] = None,
        vary: Vary = None,
        panel: Annotated[str, typer.Option(help="panel rows to store: full, national or none")] = "full",
        scale: Scale = 0.01,
        until: Until = None,
        seed: Seed = 0,
        workers: Workers = None,
        scheduler: Scheduler = None,
        out: Out = None,
        params: ParamsFile = None,
        set_: SetOpt = None,
        json_: Json = False,
        quiet: Quiet = False,
        rebuild: Rebuild = False,
        connect_timeout: Timeout = 10.0,
    ) -> None:
        """Run a scenario many times (seeds x parameter samples) into a DuckDB database; resumable."""
        from ..experiments.ensemble import Ensemble, check_failures

        _check_runs(runs)
        out_dir = out or _default_out("ensemble", scenario)
        ens = Ensemble([scenario], runs=runs, out=out_dir, sample=sample, samples=samples, vary=list(vary or []),
                       panel=panel, **_common(scale, until, seed, params, set_))
        res = ens.run(**_run_kw(workers, scheduler, quiet, rebuild, connect_timeout))
        try:
            check_failures(res)
            wide = res.metrics(ens.scenarios[0])
        finally:
            res.close()
        rate = res.computed / res.wall_s * 60 if res.computed and res.wall_s > 0 else None
        stats = []
        for m in ENSEMBLE_HEADLINE:
            if m in wide:
                x = wide[m].to_numpy(float)
                x = x[~(x != x)]
                if x.size:
                    import numpy as np

                    stats.append({"metric": m, "mean": float(x.mean()), "p05": float(np.quantile(x, 0.05)),
                                  "median": float(np.median(x)), "p95": float(np.quantile(x, 0.95))})
        info = {
            "scenario": ens.scenarios[0], "runs": len(res.specs), "stored": res.done, "computed_now": res.computed,
            "executor": res.executor, "wall_seconds": round(res.wall_s, 3),
            "runs_per_minute": None if rate is None else round(rate, 2),
            "database": str(Path(out_dir) / "results.duckdb"), "manifest": str(Path(out_dir) / "manifest.json"),
            "parameters_sampled": len(ens.design.paths) if ens.design else 0,
            "samples_pulled_to_valid": len(ens.design.meta.get("repaired", [])) if ens.design else 0,
            "metrics": stats,
        }
        if json_:
            emit_json(info)
            return
        _table(f"shatterbelt ensemble {ens.scenarios[0]}: {res.done} runs", ["metric", "mean", "5%", "median", "95%"],
               [[s["metric"], _f(s["mean"]), _f(s["p05"]), _f(s["median"]), _f(s["p95"])] for s in stats])
        print(f"{res.computed} runs computed now ({res.executor}) in {res.wall_s:.1f} s"
              + (f", {rate:.1f} runs/min" if rate else "") + f"; {res.done} stored in {info['database']}")

    @app.command()
    def compare(
        a: Annotated[str, typer.Argument(help="scenario A (e.g. iraq-2010)")],
        b: Annotated[str, typer.Argument(help="scenario B (e.g. iraq-2010+us-stays)")],
        runs: Annotated[int, typer.Option(help="paired runs")] = 20,
        sample: Annotated[str, typer.Option(help="'none' or 'lhs' (pairs share the sampled values)")] = "none",
        samples: Annotated[int | None, typer.Option(help="parameter samples with --sample lhs")] = None,
        vary: Vary = None,
        all_: Annotated[bool, typer.Option("--all", help="print every metric, not the headline ones")] = False,
        scale: Scale = 0.01,
        until: Until = None,
        seed: Seed = 0,
        workers: Workers = None,
        scheduler: Scheduler = None,
        out: Out = None,
        params: ParamsFile = None,
        set_: SetOpt = None,
        json_: Json = False,
        quiet: Quiet = False,
        rebuild: Rebuild = False,
        connect_timeout: Timeout = 10.0,
    ) -> None:
        """Paired runs of A and B (common random numbers): B - A in every metric with 90% intervals."""
        from ..experiments.compare import run_compare

        _check_runs(runs)
        out_dir = out or _default_out("compare", f"{a}-vs-{b}")
        cmp = run_compare(a, b, runs, out_dir, sample=sample, samples=samples, vary=list(vary or []), panel="national",
                          **_common(scale, until, seed, params, set_),
                          **_run_kw(workers, scheduler, quiet, rebuild, connect_timeout))
        if json_:
            emit_json(cmp.to_json())
            return
        rows = cmp.rows if all_ else cmp.headline()
        _table(f"{b} - {a}: {cmp.n_pairs} paired runs (mean difference, 90% bootstrap interval)",
               ["metric", "A", "B", "B - A", "90% interval", "share B > A"],
               [[r["metric"], _f(r["mean_a"]), _f(r["mean_b"]), _f(r["effect"]), f"[{_f(r['lo'])}, {_f(r['hi'])}]",
                 _f(r["share_positive"], 2)] for r in rows])
        print(f"all {len(cmp.rows)} metrics in {Path(out_dir) / 'compare.csv'}")

    @app.command()
    def claims(
        runs: Annotated[int, typer.Option(help="paired runs per scenario (samples x replicates)")] = 40,
        claim: Annotated[list[str] | None, typer.Option(help="run only these claims (C1..C8, repeatable)")] = None,
        replicates: Annotated[int, typer.Option(help="seeds per parameter sample")] = 2,
        base: Annotated[str, typer.Option(help="the essay's world (variants are composed onto it)")] = "iraq-2010",
        vary: Vary = None,
        scale: Scale = 0.01,
        until: Until = None,
        seed: Seed = 0,
        workers: Workers = None,
        scheduler: Scheduler = None,
        out: Out = None,
        params: ParamsFile = None,
        set_: SetOpt = None,
        json_: Json = False,
        quiet: Quiet = False,
        rebuild: Rebuild = False,
        connect_timeout: Timeout = 10.0,
    ) -> None:
        """The essay's eight claims as paired experiments: effect, 90% interval, verdict, share of parameter space."""
        from ..experiments.claims import run_claims

        _check_runs(runs)
        out_dir = out or _default_out("claims")
        results = run_claims(runs, out_dir, claim_ids=list(claim or []), replicates=replicates, base=base,
                             vary=list(vary or []), panel="none", **_common(scale, until, seed, params, set_),
                             **_run_kw(workers, scheduler, quiet, rebuild, connect_timeout))
        if json_:
            emit_json({"claims": [r.to_json() for r in results],
                       "saved": {"csv": str(Path(out_dir) / "claims.csv"), "json": str(Path(out_dir) / "claims.json")}})
            return
        rows = []
        for r in results:
            rows.append([f"{r.claim.id} {r.claim.title}", "claim, over its metrics", "", "", r.verdict.upper(),
                         _f(r.share, 2)])
            for m in r.metrics:
                sign = "+" if m.direction > 0 else "-"
                label = f"{m.label} ({sign}{'' if not m.threshold else f' vs {m.threshold:g}'})"
                rows.append(["", label, _f(m.effect), f"[{_f(m.lo)}, {_f(m.hi)}]", m.verdict, _f(m.share, 2)])
        n = results[0].n_samples if results else 0
        k = results[0].replicates if results else 0
        _table(f"The essay's claims under this model ({n} parameter samples x {k} seeds; effect = essay's world "
               "- counterfactual; expected sign in brackets)",
               ["claim", "metric (expected sign)", "effect", "90% interval", "verdict", "share of space"], rows)
        for r in results:
            print(f'{r.claim.id}: "{r.claim.sentence}" -- {r.claim.design_note}')
        print(f"saved {Path(out_dir) / 'claims.csv'} and claims.json (per-metric rows in claims_metrics.csv)")

    @app.command()
    def backtest(
        runs: Annotated[int, typer.Option(help="runs (seeds x Latin hypercube samples)")] = 40,
        scenario: Annotated[str, typer.Option(help="scenario starting July 2010")] = "iraq-2010",
        sample: Annotated[str, typer.Option(help="'lhs' (parameter uncertainty in the forecast) or 'none'")] = "lhs",
        vary: Vary = None,
        scale: Scale = 0.01,
        until: Until = None,
        seed: Seed = 0,
        workers: Workers = None,
        scheduler: Scheduler = None,
        out: Out = None,
        params: ParamsFile = None,
        set_: SetOpt = None,
        json_: Json = False,
        quiet: Quiet = False,
        rebuild: Rebuild = False,
        connect_timeout: Timeout = 10.0,
    ) -> None:
        """Score the model from July 2010 against documented outcomes, beside no-change, persistence and trend."""
        from ..experiments.backtest import BASELINES, WINDOWS, run_backtest

        _check_runs(runs)
        out_dir = out or _default_out("backtest", scenario)
        bt = run_backtest(runs, out_dir, scenario=scenario, sample=sample, vary=list(vary or []), panel="none",
                          **_common(scale, until, seed, params, set_),
                          **_run_kw(workers, scheduler, quiet, rebuild, connect_timeout))
        if json_:
            emit_json(bt.to_json())
            return
        for w in WINDOWS:
            rows = []
            for r in bt.rows:
                if r["window"] != w:
                    continue
                if r["kind"] == "deaths":
                    rows.append([r["label"], _f(r["observed"]),
                                 f"{_f(r['model_median'])} [{_f(r['model_lo90'])}, {_f(r['model_hi90'])}]",
                                 "50%" if r["cover50.model"] else ("90%" if r["cover90.model"] else "no"),
                                 _f(r["crps.model"]), *[_f(r.get(f"crps.{b}")) for b in BASELINES]])
                elif r["kind"] == "binary":
                    rows.append([r["label"], "yes" if r["observed"] else "no", f"p = {_f(r['p.model'], 2)}", "",
                                 f"B {_f(r['brier.model'])}",
                                 *[(f"B {_f(r.get(f'brier.{b}'))}" if math.isfinite(r.get(f"brier.{b}", math.nan))
                                    else "n/a") for b in BASELINES]])
                else:
                    rows.append([r["label"], _f(r["observed"]),
                                 f"{_f(r['model_median'])} [{_f(r['model_lo90'])}, {_f(r['model_hi90'])}]",
                                 "90%" if r["cover90.model"] else "no", f"{_f(r['crps_days.model'])} d", "n/a", "n/a", "n/a"])
            s = bt.summary[w]
            rows.append(["mean CRPS (log deaths)", "", "", f"cov50 {s['cover50.model']}, cov90 {s['cover90.model']}",
                         _f(s["crps.model"]), *[_f(s[f"crps.{b}"]) for b in BASELINES]])
            rows.append(["mean Brier", "", "", "", _f(s["brier.model"]), *[_f(s[f"brier.{b}"]) for b in BASELINES]])
            _table(f"back-test, {w}", ["target", "observed", "model median [90%]", "in interval", "model",
                                       *BASELINES], rows)
        for line in bt.lines:
            print(line)
        e = bt.exponent
        if e.get("runs_fitted"):
            print(f"event-size exponent (discrete MLE, x_min by KS): median {e['alpha_median']:.2f} over "
                  f"{e['runs_fitted']} runs (90% of runs in [{e['alpha_lo90']:.2f}, {e['alpha_hi90']:.2f}]); "
                  f"documented for Iraq: about {e['documented_alpha']} (Bohorquez et al. 2009)")
        print(f"politics: {bt.politics}; saved {Path(out_dir) / 'backtest.csv'} and backtest.json")

    @app.command()
    def calibrate(
        until: Annotated[str, typer.Option(help="cut-off month: no target and no simulated month after it (<= 2012-12)")] = "2012-12",
        runs: Annotated[int, typer.Option(help="runs per ABC round")] = 40,
        rounds: Annotated[int, typer.Option(help="ABC rounds (each narrows to the accepted draws' box)")] = 2,
        accept: Annotated[float, typer.Option(help="share of draws accepted per round")] = 0.2,
        param: Annotated[list[str] | None, typer.Option(help="parameter path to fit (default: those marked 'calibrated (<=2012)')")] = None,
        target: Annotated[list[str] | None, typer.Option(help="target key, e.g. ibc_2011, ucdp_2012 (default: all up to the cut-off)")] = None,
        scenario: Annotated[str, typer.Option(help="scenario to calibrate")] = "iraq-2010",
        write: Annotated[Path | None, typer.Option(help="where to write the overlay (default OUT/calibrated.yaml)")] = None,
        scale: Scale = 0.01,
        seed: Seed = 0,
        workers: Workers = None,
        scheduler: Scheduler = None,
        out: Out = None,
        params: ParamsFile = None,
        set_: SetOpt = None,
        json_: Json = False,
        quiet: Quiet = False,
        rebuild: Rebuild = False,
        connect_timeout: Timeout = 10.0,
    ) -> None:
        """Fit uncertain parameters to documented outcomes up to the cut-off (ABC); write an overlay for --params."""
        from ..experiments.calibrate import run_calibration

        _check_runs(runs)
        out_dir = out or _default_out("calibrate", scenario)
        c = _common(scale, None, seed, params, set_)
        c.pop("until")
        cal = run_calibration(runs, out_dir, scenario=scenario, until=until, params=list(param or []) or None,
                              targets=list(target or []) or None, accept=accept, rounds=rounds, write=write, **c,
                              **_run_kw(workers, scheduler, quiet, rebuild, connect_timeout))
        if json_:
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

    @app.command()
    def sensitivity(
        outcome: Annotated[list[str] | None, typer.Option(help="civil_war, deaths, microstates, ... or a metric key (repeatable)")] = None,
        method: Annotated[str, typer.Option(help="morris (screening) or sobol (indices)")] = "morris",
        runs: Annotated[int, typer.Option(help="run budget (sets trajectories or base samples)")] = 200,
        top: Annotated[int | None, typer.Option(help="Sobol over the K most influential parameters of a Morris run in --out")] = None,
        scenario: Annotated[str, typer.Option(help="scenario")] = "iraq-2010",
        vary: Vary = None,
        scale: Scale = 0.01,
        until: Until = None,
        seed: Seed = 0,
        workers: Workers = None,
        scheduler: Scheduler = None,
        out: Out = None,
        params: ParamsFile = None,
        set_: SetOpt = None,
        json_: Json = False,
        quiet: Quiet = False,
        rebuild: Rebuild = False,
        connect_timeout: Timeout = 10.0,
    ) -> None:
        """Which parameters drive an outcome: Morris screening or Sobol indices (SALib)."""
        from ..experiments.sensitivity import run_sensitivity

        _check_runs(runs)
        out_dir = out or _default_out("sensitivity", scenario)
        c = _common(scale, until, seed, params, set_)
        sens = run_sensitivity(runs, out_dir, method=method, outcomes=list(outcome or []) or None, scenario=scenario,
                               vary=list(vary or []) or None, top=top, **c,
                               **_run_kw(workers, scheduler, quiet, rebuild, connect_timeout))
        if json_:
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
