"""``shatterbelt run``, ``scenarios``, ``validate``, ``params`` and ``model``."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import UsageError
from .common import emit_json

DEFAULT_SCENARIO = "iraq-2010"


def _check_scale(scale: float) -> float:
    if not (0.0 < scale <= 1.0):
        raise UsageError(f"--scale: must be in (0, 1], got {scale}")
    return scale


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
    from rich.console import Console
    from rich.table import Table

    t = Table(title=title, show_header=False, box=None, pad_edge=False)
    t.add_column(style="bold")
    t.add_column()
    for k, v in rows:
        t.add_row(k, v)
    Console().print(t)


def register(app: typer.Typer) -> None:
    @app.command()
    def run(
        scenario: Annotated[str, typer.Argument(help="built-in name, base+variant, or a YAML file")] = DEFAULT_SCENARIO,
        scale: Annotated[float, typer.Option(help="share of the population simulated (1.0 = every person)")] = 0.01,
        until: Annotated[str | None, typer.Option(help="stop after this month, YYYY-MM")] = None,
        seed: Annotated[int, typer.Option(help="random seed")] = 0,
        out: Annotated[Path | None, typer.Option(help="output folder (default out/<scenario>-seed<N>)")] = None,
        set_: Annotated[
            list[str] | None, typer.Option("--set", help="override a parameter: path=value (repeatable)")
        ] = None,
        json_: Annotated[bool, typer.Option("--json", help="print one JSON document on stdout")] = False,
        quiet: Annotated[bool, typer.Option(help="no progress bar")] = False,
        params: Annotated[
            Path | None, typer.Option("--params", help="parameter overlay YAML (e.g. from calibrate), before --set")
        ] = None,
        backend: Annotated[
            str | None,
            typer.Option(help="per-person kernels: auto (numba from 1M agents if installed), numba or numpy; same results"),
        ] = None,
    ) -> None:
        """Run a scenario month by month over every person (at --scale) and write its outputs."""
        from ..resolve import load_scenario
        from ..sim import Simulation

        _check_scale(scale)
        if seed < 0:
            raise UsageError(f"--seed: must be >= 0, got {seed}")
        if params is not None:
            from ..experiments.overlay import load_with_overlay

            sc = load_with_overlay(scenario, params, set_ or [])
        else:
            sc = load_scenario(scenario, set_ or [])
        out_dir = out or Path("out") / f"{sc.name.replace('+', '_')}-seed{seed}"
        t0 = time.perf_counter()
        sim = Simulation(sc, scale=scale, seed=seed, until=until, backend=backend)
        interrupted = False
        show = not (json_ or quiet) and sys.stderr.isatty()
        try:
            if show:
                from rich.progress import (
                    BarColumn,
                    MofNCompleteColumn,
                    Progress,
                    TextColumn,
                    TimeElapsedColumn,
                )

                with Progress(
                    TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    transient=True,
                ) as bar:
                    task = bar.add_task(f"{sc.name} {sim.world.months[0]}", total=sim.world.T)
                    res = sim.run(lambda t, T, m: bar.update(task, completed=t, description=f"{sc.name} {m}"))
            else:
                res = sim.run()
        except KeyboardInterrupt:
            interrupted = True
            if sim.t == 0:
                raise
            res = sim.result()
        paths = res.write(str(out_dir))
        wall = time.perf_counter() - t0
        if json_:
            emit_json({"summary": res.summary, "outputs": paths, "wall_seconds": round(wall, 3)})
        else:
            print_table(summary_rows(res.summary), title=f"shatterbelt run {sc.name}")
            print(f"\nresults in {out_dir}/ (panel.parquet, events.parquet, events.csv, summary.json, "
                  f"scenario.resolved.yaml) in {wall:.1f} s")
        if interrupted:
            print(f"error: interrupted after {sim.t} of {sim.world.T} months; the completed months were written "
                  f"to {out_dir}/", file=sys.stderr)
            raise typer.Exit(130)

    @app.command()
    def scenarios(json_: Annotated[bool, typer.Option("--json")] = False) -> None:
        """List the built-in scenarios and variants (compose variants as base+variant)."""
        from ..scenario.loader import describe_builtins

        items = describe_builtins()
        if json_:
            emit_json({"scenarios": items})
            return
        for it in items:
            print(f"{it['name']:<28} {it['kind']:<9} {it['description']}")

    @app.command()
    def validate(
        file: Annotated[str, typer.Argument(help="scenario YAML file (or built-in name, base+variant)")],
        json_: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Check a scenario file; one line naming the field and the reason if it is wrong."""
        from ..resolve import load_scenario
        from ..scenario.loader import scenario_hash

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
    def params(
        scenario: Annotated[str, typer.Argument()] = DEFAULT_SCENARIO,
        json_: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """List every model parameter of a scenario with its value, range and provenance."""
        from ..resolve import load_scenario
        from ..scenario.provenance import collect_params

        sc = load_scenario(scenario)
        rows = collect_params(sc)
        if json_:
            emit_json({"scenario": sc.name, "parameters": rows})
            return
        for r in rows:
            rng = "" if r["range"] is None else f"[{r['range'][0]:g}, {r['range'][1]:g}]"
            print(f"{r['path']:<58} {r['value']:<12g} {rng:<22} {r['source']}")

    @app.command()
    def model(json_: Annotated[bool, typer.Option("--json")] = False) -> None:
        """Print the model's process overview: the modules in the order the month loop runs them."""
        from ..modules import PROCESS

        if json_:
            emit_json({"process": [{"step": i, "module": m.name, "title": m.title, "parameters": sorted(m.PARAMS)}
                                   for i, m in enumerate(PROCESS, 1)]})
            return
        from ..sim import Simulation

        print(Simulation.describe())
