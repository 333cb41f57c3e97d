"""``shatterbelt ensemble``, ``compare``, ``backtest`` and ``discover`` (``claims``, ``calibrate`` and ``sensitivity`` are in
:mod:`shatterbelt.cli.inference`).

Every command runs (or resumes) an ensemble in ``--out`` and then analyses it;
rerunning the same command after an interruption skips the finished runs.
They share ``--scale``, ``--until``, ``--seed``, ``--workers`` / ``--scheduler``,
``--out``, ``--params``, ``--set``, ``--json`` (one JSON document on stdout; the
progress bar, when shown, goes to stderr), ``--quiet``, ``--rebuild`` and
``--connect-timeout``: :func:`experiment` adds them to each command and hands
them over as one :class:`Shared`.  The commands need the ``experiments`` extra
(and ``dask`` for ``--scheduler``); without it they say so in one line.
"""

from __future__ import annotations

import functools
import inspect
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from .. import report
from ..errors import UsageError
from .common import (
    DEFAULT_SCENARIO,
    ConnectTimeout,
    Json,
    ParamsFile,
    Quiet,
    Rebuild,
    ResultsDir,
    Scale,
    ScenarioArg,
    Scheduler,
    SetOpt,
    Vary,
    Workers,
    check_scheduler,
    emit_json,
    require,
)

app = typer.Typer()


@dataclass
class Shared:
    """The options every experiment command takes."""

    scale: float = 0.01
    until: str | None = None
    seed: int = 0
    workers: int | None = None
    scheduler: str | None = None
    out: Path | None = None
    params: Path | None = None
    set_: list[str] | None = None
    json: bool = False
    quiet: bool = False
    rebuild: bool = False
    connect_timeout: float = 10.0

    def common(self, until: bool = True) -> dict[str, Any]:
        """What defines the runs: scale, horizon (unless ``until=False``), seed, overlay file, overrides."""
        c = {"scale": self.scale, "seed": self.seed, "params_file": str(self.params) if self.params else None,
             "overrides": list(self.set_ or [])}
        return {**c, "until": self.until} if until else c

    def run_kw(self) -> dict[str, Any]:
        """How to run them: workers or a Dask scheduler, progress bar, rebuild, connection timeout."""
        from ..experiments.executor import show_progress

        return {"workers": self.workers, "scheduler": self.scheduler, "progress": show_progress(self.quiet),
                "rebuild": self.rebuild, "connect_timeout": self.connect_timeout}

    def out_dir(self, kind: str, label: str = "") -> Path:
        """``--out``, else ``out/<kind>[-<label>]``."""
        if self.out is not None:
            return self.out
        from ..experiments.ensemble import slug

        return Path("out") / (f"{kind}-{slug(label)}" if label else kind)


#: the shared options as (name, annotation, default); `until` is left out where a command has its own
_SHARED: list[tuple[str, Any, Any]] = [
    ("scale", Scale, 0.01),
    ("until", Annotated[str | None, typer.Option(help="stop every run after this month, YYYY-MM")], None),
    ("seed", Annotated[int, typer.Option(help="first seed (run i uses seed + i) and the sampling seed")], 0),
    ("workers", Workers, None),
    ("scheduler", Scheduler, None),
    ("out", ResultsDir, None),
    ("params", ParamsFile, None),
    ("set_", SetOpt, None),
    ("json", Json, False),
    ("quiet", Quiet, False),
    ("rebuild", Rebuild, False),
    ("connect_timeout", ConnectTimeout, 10.0),
]


def experiment(shared_until: bool = True) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register ``fn(<its own options>, opts: Shared)`` as a command taking the shared options too."""

    def register(fn: Callable[..., None]) -> Callable[..., None]:
        own = [p for p in inspect.signature(fn, eval_str=True).parameters.values() if p.name != "opts"]
        names = [n for n, _, _ in _SHARED if shared_until or n != "until"]
        extra = [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=d, annotation=a)
                 for n, a, d in _SHARED if n in names]

        @functools.wraps(fn)
        def command(**kw: Any) -> None:
            require(fn.__name__, "experiments", *(["dask"] if kw.get("scheduler") else []))
            out = kw.get("out")
            if out is not None:
                if not out.strip():
                    raise UsageError("--out: an empty path is not a folder (give a folder to write into)")
                kw["out"] = Path(out)
            opts = Shared(**{n: kw.pop(n) for n in names})
            if opts.scheduler:
                check_scheduler(opts.scheduler, opts.connect_timeout)
            fn(**kw, opts=opts)

        command.__signature__ = inspect.Signature(own + extra)  # type: ignore[attr-defined]
        app.command(fn.__name__)(command)
        return fn

    return register


def _f(x: Any, digits: int = 3) -> str:
    from ..experiments.stats import fmt

    return fmt(x, digits)


def _table(title: str, columns: list[str], rows: list[list[str]]) -> None:
    t = Table(title=title, show_lines=False, title_justify="left")
    for c in columns:
        t.add_column(c, overflow="fold")
    for r in rows:
        t.add_row(*r)
    # a wide table when written to a file or a pipe (rich would fold it at 80 columns)
    Console(width=None if sys.stdout.isatty() else 160).print(t)


ENSEMBLE_HEADLINE = [
    "deaths.total", "deaths.civilian", "deaths.battle", "civil_war.any", "peak_displaced", "microstates.mean",
    "army_cohesion_final", "army_collapses.count", "insurgent_fighters_peak", "vacuum_months_total",
]
Sample = Annotated[str, typer.Option(help="'none' (point values, seeds only) or 'lhs' (Latin hypercube over the ranges)")]
Samples = Annotated[int | None, typer.Option(help="parameter samples with --sample lhs (default: one per run)")]
ScenarioOpt = Annotated[str, typer.Option(help="built-in name, base+variant, or a YAML file")]


@experiment()
def ensemble(
    opts: Shared,
    scenario: ScenarioArg = DEFAULT_SCENARIO,
    runs: Annotated[int | None, typer.Option(help="number of runs (default 20; with --grid: points x --seeds); "
                                             "more runs than a folder holds grow its ensemble")] = None,
    sample: Sample = "none",
    samples: Samples = None,
    vary: Vary = None,
    grid: Annotated[list[str] | None, typer.Option(help="path=v1,v2,...: a full factorial over these values "
                                                   "(repeatable; instead of --sample)")] = None,
    seeds: Annotated[int, typer.Option(help="with --grid: seeds per grid point")] = 1,
    also: Annotated[list[str] | None, typer.Option(help="also run this scenario (e.g. a policy variant) with the "
                                                   "same design: paired runs; with --grid, policies x scenarios "
                                                   "(repeatable)")] = None,
    panel: Annotated[str, typer.Option(help="panel rows to store: full, national or none")] = "full",
    write_report: Annotated[bool, typer.Option("--report/--no-report", help="also write report.html (fan charts "
                                               "and the map of the ensemble)")] = True,
) -> None:
    """Run a scenario many times (seeds x parameter samples) into a DuckDB database; resumable."""
    from ..experiments.design import grid_size
    from ..experiments.ensemble import Ensemble, check_failures

    if grid:
        if seeds < 1:
            raise UsageError(f"--seeds: must be >= 1, got {seeds}")
        n_runs = runs if runs is not None else grid_size(list(grid)) * seeds
    else:
        if seeds != 1:
            raise UsageError("--seeds: only with --grid (otherwise --runs sets the seeds)")
        n_runs = 20 if runs is None else runs
    out_dir = opts.out_dir("ensemble", scenario)
    ens = Ensemble([scenario, *(also or [])], runs=n_runs, out=out_dir, sample=sample, samples=samples,
                   vary=list(vary or []), panel=panel, grid=list(grid or []), seeds=seeds, **opts.common())
    res = ens.run(**opts.run_kw())
    grown = res.store.grown
    try:
        check_failures(res)
        wides = {label: res.metrics(label) for label in ens.scenarios}
    finally:
        res.close()
    rate = res.computed / res.wall_s * 60 if res.computed and res.wall_s > 0 else None
    by_scenario: dict[str, list[dict[str, Any]]] = {}
    for label, wide in wides.items():
        stats = by_scenario.setdefault(label, [])
        for m in ENSEMBLE_HEADLINE:
            if m in wide:
                x = wide[m].to_numpy(float)
                x = x[~(x != x)]
                if x.size:
                    stats.append({"metric": m, "mean": float(x.mean()), "p05": float(np.quantile(x, 0.05)),
                                  "median": float(np.median(x)), "p95": float(np.quantile(x, 0.95))})
    stats = by_scenario[ens.scenarios[0]]
    info = {
        "scenario": ens.scenarios[0], "runs": len(res.specs), "stored": res.done, "computed_now": res.computed,
        "executor": res.executor, "wall_seconds": round(res.wall_s, 3),
        "runs_per_minute": None if rate is None else round(rate, 2),
        "database": str(Path(out_dir) / "results.duckdb"), "manifest": str(Path(out_dir) / "manifest.json"),
        "design": ens.design.method if ens.design else "none",
        "grown_from": grown[0] if grown else None,
        "parameters_sampled": len(ens.design.paths) if ens.design else 0,
        "samples_pulled_to_valid": len(ens.design.meta.get("repaired", [])) if ens.design else 0,
        "metrics": stats,
        **({"scenarios": list(ens.scenarios), "metrics_by_scenario": by_scenario} if also else {}),
    }
    note = None
    if write_report:
        try:
            info["report"] = report.build_report(out_dir).html
        except report.ReportError as exc:  # e.g. --panel none: nothing to draw
            note = f"warning: report: {exc}"
    if note:
        print(note, file=sys.stderr)
    if opts.json:
        emit_json(info)
        return
    for label, st in by_scenario.items():
        _table(f"shatterbelt ensemble {label}: {len(wides[label])} runs", ["metric", "mean", "5%", "median", "95%"],
               [[s["metric"], _f(s["mean"]), _f(s["p05"]), _f(s["median"]), _f(s["p95"])] for s in st])
    if grown:
        print(f"grown from {grown[0]} to {grown[1]} runs (same design; the stored runs were kept)")
    print(f"{res.computed} runs computed now ({res.executor}) in {res.wall_s:.1f} s"
          + (f", {rate:.1f} runs/min" if rate else "") + f"; {res.done} stored in {info['database']}")
    if "report" in info:
        print(f"report: {info['report']}")


@experiment()
def compare(
    opts: Shared,
    a: Annotated[str, typer.Argument(help="scenario A (e.g. iraq-2010)")],
    b: Annotated[str, typer.Argument(help="scenario B (e.g. iraq-2010+us-stays)")],
    runs: Annotated[int, typer.Option(help="paired runs")] = 20,
    sample: Annotated[str, typer.Option(help="'none' or 'lhs' (pairs share the sampled values)")] = "none",
    samples: Samples = None,
    vary: Vary = None,
    all_: Annotated[bool, typer.Option("--all", help="print every metric, not the headline ones")] = False,
) -> None:
    """Paired runs of A and B (common random numbers): B - A in every metric with 90% intervals."""
    from ..experiments.compare import run_compare

    out_dir = opts.out_dir("compare", f"{a}-vs-{b}")
    cmp = run_compare(a, b, runs, out_dir, sample=sample, samples=samples, vary=list(vary or []), panel="national",
                      **opts.common(), **opts.run_kw())
    if opts.json:
        emit_json(cmp.to_json())
        return
    rows = cmp.rows if all_ else cmp.headline()
    _table(f"{b} - {a}: {cmp.n_pairs} paired runs (mean difference, 90% bootstrap interval)",
           ["metric", "A", "B", "B - A", "90% interval", "share B > A"],
           [[r["metric"], _f(r["mean_a"]), _f(r["mean_b"]), _f(r["effect"]), f"[{_f(r['lo'])}, {_f(r['hi'])}]",
             _f(r["share_positive"], 2)] for r in rows])
    print(f"all {len(cmp.rows)} metrics in {Path(out_dir) / 'compare.csv'}")


@experiment()
def backtest(
    opts: Shared,
    scenario: ScenarioArg = DEFAULT_SCENARIO,
    runs: Annotated[int, typer.Option(help="runs (seeds x Latin hypercube samples)")] = 40,
    observed: Annotated[str | None, typer.Option(help="observed outcomes CSV: country, period, measure, value "
                                                 "[, low, high, source] (docs/backtest.md); default: the "
                                                 "scenario's own (evaluation.observed)")] = None,
    views: Annotated[str | None, typer.Option(help="also write the ensemble in the ViEWS layout (month, country, "
                                              "draw, one prediction column per measure) to this .parquet or .csv")] = None,
    sample: Annotated[str, typer.Option(help="'lhs' (parameter uncertainty in the forecast) or 'none'")] = "lhs",
    vary: Vary = None,
) -> None:
    """Score the model's monthly and annual forecasts against observed outcomes, beside no-change, persistence
    and trend, in-sample and out-of-sample (the scenario's evaluation windows)."""
    from ..experiments.backtest import BASELINES, run_backtest

    if observed is not None and not observed.strip():
        raise UsageError("--observed: an empty path is not a file")
    if views is not None and not views.endswith((".parquet", ".csv")):
        raise UsageError(f"--views: '{views}' must end in .parquet or .csv")
    out_dir = opts.out_dir("backtest", scenario)
    bt = run_backtest(runs, out_dir, scenario=scenario, observed=observed, views=views, sample=sample,
                      vary=list(vary or []), **opts.common(), **opts.run_kw())
    if opts.json:
        emit_json(bt.to_json())
        return
    for w in bt.windows:
        for gran, what in (("month", "monthly"), ("year", "annual"), ("event", "events")):
            rows = []
            for r in bt.rows:
                if r["window"] != w or (r["granularity"] != gran and not (gran == "year" and r["kind"] == "binary"
                                                                           and r["granularity"] == "year")):
                    continue
                if r["kind"] in ("deaths", "duration"):
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
                                 "90%" if r["cover90.model"] else "no", f"{_f(r['crps_days.model'])} d", "n/a", "n/a",
                                 "n/a"])
            if not rows:
                continue
            s = bt.summary[w].get(gran)
            if s and s.get("targets"):
                rows.append(["mean CRPS (log 1+x)", "", "", f"cov50 {s['cover50.model']}, cov90 {s['cover90.model']}",
                             _f(s["crps.model"]), *[_f(s[f"crps.{b}"]) for b in BASELINES]])
                rows.append(["mean interval score 90%", "", "", "", _f(s["is90.model"]),
                             *[_f(s[f"is90.{b}"]) for b in BASELINES]])
            _table(f"back-test, {w}, {what}", ["target", "observed", "model median [90%]", "in interval", "model",
                                               *BASELINES], rows)
    for line in bt.lines:
        print(line)
    if bt.left_out:
        print(f"{bt.left_out} observations outside the runs or the windows were not scored (history for baselines)")
    e = bt.exponent
    if e.get("runs_fitted"):
        lr = e.get("vs_lognormal") or {}
        print("pipeline check, event sizes (the engine draws them from a power law, exponent 2.5 by default): "
              f"fitted exponent "
              f"median {e['alpha_median']:.2f} over {e['runs_fitted']} runs (90% of runs in "
              f"[{e['alpha_lo90']:.2f}, {e['alpha_hi90']:.2f}])"
              + (f"; power law vs lognormal: {lr['verdict']}" if lr.get("verdict") else ""))
    if bt.views:
        print(f"ViEWS layout: {bt.views}")
    print(f"observed: {bt.observed}; politics: {bt.politics}; saved {Path(bt.out) / 'backtest.csv'} and backtest.json")


@app.command("discover")
def discover_cmd(
    ensemble_dir: Annotated[str, typer.Argument(metavar="ENSEMBLE_DIR", help="an ensemble's folder (--out of "
                                                "ensemble, with --sample lhs or --grid)")],
    outcome: Annotated[str | None, typer.Option(help="boolean expression over each run's metrics, e.g. "
                                                "'civilian_deaths_2014 >= 2 * civilian_deaths_2012', 'civil_war.any', "
                                                "'army.collapses > 0' (default: that escalation over the last two "
                                                "years the runs cover)")] = None,
    scenario: Annotated[str | None, typer.Option(help="which of the ensemble's scenarios (default: its first)")] = None,
    inputs: Annotated[list[str] | None, typer.Option(help="only sampled parameters matching this glob (repeatable)")] = None,
    params: Annotated[list[str] | None, typer.Option(help="PRIM may restrict only these parameters (glob, repeatable; "
                                                     "default: those whose feature q-value <= --fdr)")] = None,
    top: Annotated[int, typer.Option(help="rows of the feature-scoring table shown")] = 10,
    fdr: Annotated[float, typer.Option(help="false discovery rate: features with a Benjamini-Hochberg q-value at "
                                            "most this go to PRIM")] = 0.05,
    qp_max: Annotated[float, typer.Option(help="every limit of the reported box must have a qp-value at most this "
                                               "(others are un-peeled)")] = 0.05,
    paste: Annotated[bool, typer.Option("--paste", help="widen the chosen box by pasting while its density "
                                                        "does not fall")] = False,
    peel_alpha: Annotated[float, typer.Option(help="share of the box's runs peeled off per step")] = 0.05,
    mass_min: Annotated[float, typer.Option(help="stop peeling when the box holds less than this share of runs")] = 0.05,
    threshold: Annotated[float, typer.Option(help="density the reported box should reach (else: the best balance "
                                                  "of coverage and density)")] = 0.8,
    json_: Json = False,
) -> None:
    """Scenario discovery: which sampled parameters separate the runs where the outcome happens (feature
    scores), then the PRIM box over the significant ones, with its peeling trajectory."""
    require("discover", "experiments")
    from ..experiments.discover import discover
    from ..experiments.stats import finite_or_none

    if not ensemble_dir.strip():
        raise UsageError("ENSEMBLE_DIR: an empty path is not a folder")
    if top < 1:
        raise UsageError(f"--top: must be at least 1, got {top}")
    d = discover(ensemble_dir, outcome, scenario, list(inputs or []), peel_alpha, mass_min, threshold,
                 list(params or []), fdr, qp_max, paste)
    if json_:
        emit_json(finite_or_none(d.to_json()))
        return
    r = d.result
    print(f"outcome: {d.outcome}  ({r.n_outcome} of {r.n} runs of {d.scenario}"
          + (f"; {d.dropped} runs without a value left out" if d.dropped else "") + f"; {len(d.parameters)} parameters)")
    n_sig = sum(f["q_value"] <= d.fdr for f in d.features)
    if 0 < r.n_outcome < r.n:
        _table(f"feature scores: two-sample Kolmogorov-Smirnov, outcome runs vs the rest ({n_sig} of "
               f"{len(d.features)} with q <= {d.fdr:g}; top {min(top, len(d.features))})",
               ["rank", "parameter", "KS D", "p", "q (BH)", "median (outcome)", "median (rest)"],
               [[("* " if f["q_value"] <= d.fdr else "") + str(f["rank"]), f["parameter"], _f(f["ks_d"], 2),
                 _f(f["p_value"], 2), _f(f["q_value"], 2), _f(f["median_outcome"], 4), _f(f["median_rest"], 4)]
                for f in d.features[:top]])
    if r.candidates:
        print(f"PRIM over {len(r.candidates)} parameter(s)"
              + (" given by --params" if params else f" with q <= {d.fdr:g}") + f": {', '.join(r.candidates)}")
    if r.trajectory:
        step = max(1, len(r.trajectory) // 12)
        shown = sorted(set(list(range(0, len(r.trajectory), step)) + [len(r.trajectory) - 1]
                           + ([r.chosen] if r.chosen is not None else [])))
        _table(f"peeling trajectory (' = after un-peeling limits with qp-value > {r.qp_max:g})",
               ["step", "coverage", "density", "mass", "runs", "restricted", "coverage'", "density'", "kept"],
               [[("* " if t["step"] == r.chosen else "") + str(t["step"]), _f(t["coverage"]), _f(t["density"]),
                 _f(t["mass"]), str(t["runs"]), str(len(t["restricted"])), _f(t["pruned"]["coverage"]),
                 _f(t["pruned"]["density"]), str(len(t["pruned"]["restricted"]))]
                for t in (r.trajectory[i] for i in shown)])
    if r.chosen is None or r.box is None:
        print(r.reason)
        return
    b = r.box
    print(f"box {r.chosen}: {r.reason}")
    _table(f"box {r.chosen}: {len(r.limits)} parameter(s); coverage {_f(b['coverage'])}, density "
           f"{_f(b['density'])} (base {_f(r.n_outcome / r.n)}), mass {_f(b['mass'])}, {b['runs']} runs",
           ["parameter", "low", "high", "range in the runs", "qp-value (low, high)"],
           [[lim["parameter"], _f(lim["low"], 4), _f(lim["high"], 4),
             f"[{_f(lim['data_low'], 4)}, {_f(lim['data_high'], 4)}]",
             ", ".join("-" if q is None else _f(q, 2) for q in (lim["qp_low"], lim["qp_high"]))]
            for lim in r.limits])
