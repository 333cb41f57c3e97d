"""``shatterbelt run``, ``scenarios``, ``validate``, ``params`` and ``model``."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .. import report
from ..modules import PROCESS
from ..resolve import load_scenario
from ..result import Result
from ..scenario.loader import describe_builtins, scenario_hash
from ..scenario.provenance import collect_params
from ..scenario.schema import Scenario
from ..sim import Simulation
from .common import (
    DEFAULT_SCENARIO,
    Backend,
    Json,
    ParamsFile,
    Quiet,
    Scale,
    ScenarioArg,
    Seed,
    SetOpt,
    Until,
    emit_json,
)

app = typer.Typer()


def summary_rows(s: dict[str, Any]) -> list[tuple[str, str]]:
    """The short table a run prints: what a user looks at first."""
    civ = s["civilian_deaths_by_year"]
    bat = s["battle_deaths_by_year"]
    rows = [
        ("scenario", f"{s['scenario']} (seed {s['seed']}, scale {s['scale']:g}, {s['agents']:,} agents)"),
        ("months", f"{s['start']} .. {s['end']} ({s['months']})" + ("" if s.get("complete", True) else "  INTERRUPTED")),
        ("civilian deaths / year", ", ".join(f"{y}: {v:,}" for y, v in civ.items())),
        ("battle deaths / year", ", ".join(f"{y}: {v:,}" for y, v in bat.items())),
        ("civil-war years (>=1,000 battle deaths)", ", ".join(map(str, s["civil_war_years"])) or "none"),
        ("peak displaced", f"{s['peak_displaced']:,} ({s['peak_displaced_month']})"),
        ("microstates at the end", str(s["microstates_final"])),
        ("army collapses", ", ".join(f"{c['region']} {c['month']}" for c in s["army_collapses"]) or "none"),
        ("army cohesion at the end", "n/a" if s["army_cohesion_final"] is None else f"{s['army_cohesion_final']:.2f}"),
        ("legitimacy at the end", ", ".join(f"{c}: {v:.2f}" for c, v in s["legitimacy_final"].items())),
        ("patron influence at the end", ", ".join(f"{p}: {v:.2f}" for p, v in s["patron_influence_final"].items())),
        ("insurgent fighters (end / peak)", f"{s['insurgent_fighters_final']:,} / {s['insurgent_fighters_peak']:,}"),
        ("population start -> end (deaths)", f"{s['population_start']:,} -> {s['population_end']:,} ({s['deaths_total']:,})"),
    ]
    held = {}
    for gov, c in s["final_control"].items():
        if c["entity"] != "state":
            held[gov] = f"{c['entity']} {c['share']:.2f}"
    rows.append(("regions not held by the state", ", ".join(f"{g} ({v})" for g, v in held.items()) or "none"))
    return rows


def print_table(rows: list[tuple[str, str]], title: str) -> None:
    t = Table(title=title, show_header=False, box=None, pad_edge=False)
    t.add_column(style="bold")
    t.add_column()
    for k, v in rows:
        t.add_row(k, v)
    Console().print(t)


def _load(scenario: str, params: Path | None, sets: list[str]) -> Scenario:
    if params is None:
        return load_scenario(scenario, sets)
    # an overlay written by `calibrate`; reading it is part of the experiments package
    from ..experiments.overlay import load_with_overlay

    return load_with_overlay(scenario, params, sets)


def _run_with_progress(sim: Simulation, name: str) -> Result:
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=True,
    ) as bar:
        task = bar.add_task(f"{name} {sim.world.months[0]}", total=sim.world.T)
        return sim.run(lambda t, T, m: bar.update(task, completed=t, description=f"{name} {m}"))


@app.command()
def run(
    scenario: ScenarioArg = DEFAULT_SCENARIO,
    scale: Scale = 0.01,
    until: Until = None,
    seed: Seed = 0,
    out: Annotated[Path | None, typer.Option(help="output folder (default out/<scenario>-seed<N>)")] = None,
    set_: SetOpt = None,
    json_: Json = False,
    quiet: Quiet = False,
    params: ParamsFile = None,
    backend: Backend = None,
    write_report: Annotated[bool, typer.Option("--report/--no-report", help="also write report.html (the run's "
                                               "self-contained HTML report)")] = True,
) -> None:
    """Run a scenario month by month over every person (at --scale) and write its outputs."""
    sc = _load(scenario, params, list(set_ or []))
    out_dir = out or Path("out") / f"{sc.name.replace('+', '_')}-seed{seed}"
    t0 = time.perf_counter()
    sim = Simulation(sc, scale=scale, seed=seed, until=until, backend=backend)
    interrupted = False
    try:
        if not (json_ or quiet) and sys.stderr.isatty():
            res = _run_with_progress(sim, sc.name)
        else:
            res = sim.run()
    except KeyboardInterrupt:
        interrupted = True
        if sim.t == 0:
            raise
        res = sim.result()
    paths = res.write(str(out_dir))
    if write_report:
        paths["report.html"] = report.build_report(out_dir).html
    wall = time.perf_counter() - t0
    if json_:
        emit_json({"summary": res.summary, "outputs": paths, "wall_seconds": round(wall, 3)})
    else:
        print_table(summary_rows(res.summary), title=f"shatterbelt run {sc.name}")
        print(f"\nresults in {out_dir}/ (panel.parquet, events.parquet, events.csv, summary.json, "
              f"scenario.resolved.yaml) in {wall:.1f} s")
        if write_report:
            print(f"report: {paths['report.html']}")
    if interrupted:
        print(f"error: interrupted after {sim.t} of {sim.world.T} months; the completed months were written "
              f"to {out_dir}/", file=sys.stderr)
        raise typer.Exit(130)


@app.command()
def scenarios(json_: Json = False) -> None:
    """List the built-in scenarios and variants (compose variants as base+variant)."""
    items = describe_builtins()
    if json_:
        emit_json({"scenarios": items})
        return
    for it in items:
        print(f"{it['name']:<28} {it['kind']:<9} {it['description']}")


@app.command()
def validate(
    file: Annotated[str, typer.Argument(help="scenario YAML file (or built-in name, base+variant)")],
    json_: Json = False,
) -> None:
    """Check a scenario file; one line naming the field and the reason if it is wrong."""
    sc = load_scenario(file)
    info = {
        "valid": True,
        "name": sc.name,
        "regions": len(sc.regions),
        "actors": len(sc.actors),
        "blocs": len(sc.blocs),
        "patrons": len(sc.patrons),
        "months": len(sc.months()),
        "population": sum(r.population for r in sc.regions),
        "sha256": scenario_hash(sc),
    }
    if json_:
        emit_json(info)
    else:
        print(f"ok: {sc.name}: {info['regions']} regions, {info['actors']} armed actors, {info['blocs']} blocs, "
              f"{info['patrons']} patrons, {info['months']} months, population {info['population']:,}")


@app.command()
def params(scenario: ScenarioArg = DEFAULT_SCENARIO, json_: Json = False) -> None:
    """List every model parameter of a scenario with its value, range and provenance."""
    sc = load_scenario(scenario)
    rows = collect_params(sc)
    if json_:
        emit_json({"scenario": sc.name, "parameters": rows})
        return
    for r in rows:
        rng = "" if r["range"] is None else f"[{r['range'][0]:g}, {r['range'][1]:g}]"
        print(f"{r['path']:<58} {r['value']:<12g} {rng:<22} {r['source']}")


@app.command()
def model(json_: Json = False) -> None:
    """Print the model's process overview: the modules in the order the month loop runs them."""
    if json_:
        emit_json({"process": [{"step": i, "module": m.name, "title": m.title, "parameters": sorted(m.PARAMS)}
                               for i, m in enumerate(PROCESS, 1)]})
        return
    print(Simulation.describe())
