"""``shatterbelt run``, ``scenarios``, ``validate``, ``params`` and ``model``."""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .. import report
from ..modules import PROCESS
from ..outputs import check_out_dir, safe_name, write_result
from ..resolve import load_scenario
from ..result import Result
from ..scenario.loader import (
    builtin_politics,
    builtin_politics_dir,
    describe_builtins,
    read_yaml,
    scenario_hash,
)
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


#: the signals that end a run the way Ctrl-C does: the months completed are written, marked partial
STOP_SIGNALS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n))


class _Stop:
    """Signal handling of ``run``: the first SIGINT, SIGTERM or SIGHUP stops the month loop
    (raised as KeyboardInterrupt); every later one, and any one while the files are written, is
    only remembered, so a second Ctrl-C cannot lose the write."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.writing = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        first = self.signum is None
        if first:
            self.signum = signum
        if first and not self.writing:
            raise KeyboardInterrupt

    @property
    def status(self) -> int:
        """The exit status: 128 + the signal's number (130 SIGINT, 143 SIGTERM, 129 SIGHUP)."""
        return 128 + int(self.signum if self.signum is not None else signal.SIGINT)

    @property
    def name(self) -> str:
        return signal.Signals(self.signum if self.signum is not None else signal.SIGINT).name


@contextmanager
def _stop_signals() -> Iterator[_Stop]:
    stop = _Stop()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    saved = {s: signal.getsignal(s) for s in STOP_SIGNALS}
    try:
        for s in STOP_SIGNALS:
            signal.signal(s, stop)
        yield stop
    finally:
        for s, h in saved.items():
            signal.signal(s, h)


def _report_into(tmp: Path, out_dir: Path) -> dict[str, str]:
    """Write report.html of the run in ``tmp`` (before it becomes ``out_dir``), naming ``out_dir``."""
    data = report.load(tmp)
    if not data.months:
        return {}
    data.source = str(out_dir)
    cmd = data.facts.get("command")
    if isinstance(cmd, str):
        data.facts["command"] = cmd.replace(str(tmp), str(out_dir))
    html = report.build_html(data, report.standard_figures(data), report.governorate_map(data))
    (tmp / "report.html").write_text(html, encoding="utf-8")
    return {"report.html": "report.html"}


@app.command()
def run(
    scenario: ScenarioArg = DEFAULT_SCENARIO,
    scale: Scale = 0.01,
    until: Until = None,
    seed: Seed = 0,
    out: Annotated[str | None, typer.Option(help="output folder (default out/<scenario>-seed<N>); a run's "
                                             "folder is replaced whole")] = None,
    set_: SetOpt = None,
    json_: Json = False,
    quiet: Quiet = False,
    params: ParamsFile = None,
    backend: Backend = None,
    write_report: Annotated[bool, typer.Option("--report/--no-report", help="also write report.html (the run's "
                                               "self-contained HTML report)")] = True,
) -> None:
    """Run a scenario month by month over every person (at --scale) and write its outputs."""
    with _stop_signals() as stop:
        try:
            _run(stop, scenario, scale, until, seed, out, list(set_ or []), json_, quiet, params, backend,
                 write_report)
        except KeyboardInterrupt:
            # interrupted before a month was completed (loading, start-up): nothing to write
            print(f"error: interrupted ({stop.name}) before the first month was completed; nothing was written",
                  file=sys.stderr)
            raise typer.Exit(stop.status) from None


def _run(stop: _Stop, scenario: str, scale: float, until: str | None, seed: int, out: str | None,
         sets: list[str], json_: bool, quiet: bool, params: Path | None, backend: str | None,
         write_report: bool) -> None:
    if out is not None and str(out).strip() == "":
        check_out_dir("")  # refuses an empty --out in one line
    sc = _load(scenario, params, sets)
    out_dir = check_out_dir(Path(out) if out is not None else Path("out") / f"{safe_name(sc.name)}-seed{seed}")
    t0 = time.perf_counter()
    sim = Simulation(sc, scale=scale, seed=seed, until=until, backend=backend)
    try:
        if not (json_ or quiet) and sys.stderr.isatty():
            res = _run_with_progress(sim, sc.name)
        else:
            res = sim.run()
        stop.writing = True  # from here on a signal is only remembered
    except KeyboardInterrupt:
        stop.writing = True
        if sim.t == 0:
            raise
        res = sim.result()
    paths = write_result(res, out_dir, extra=(lambda tmp: _report_into(tmp, out_dir)) if write_report else None)
    wall = time.perf_counter() - t0
    if json_:
        emit_json({"summary": res.summary, "outputs": paths, "wall_seconds": round(wall, 3)})
    else:
        print_table(summary_rows(res.summary), title=f"shatterbelt run {sc.name}")
        print(f"\nresults in {out_dir}/ (panel.parquet, metrics.csv, events.parquet, events.csv, summary.json, "
              f"scenario.resolved.yaml) in {wall:.1f} s")
        if "report.html" in paths:
            print(f"report: {paths['report.html']}")
    if stop.signum is not None:
        done = "the completed months were written" if not res.summary.get("complete", True) else \
            "the run had completed and was written whole"
        print(f"error: interrupted ({stop.name}) after {sim.t} of {sim.world.T} months; {done} "
              f"to {out_dir}/", file=sys.stderr)
        raise typer.Exit(stop.status)


def runnable() -> list[dict[str, str]]:
    """Everything a user can run or compose: built-in scenarios, variants (``base+variant``) and
    politics configurations (for ``election`` and ``formation``, or a scenario's ``politics:``)."""
    items = describe_builtins()
    for name in builtin_politics():
        raw = read_yaml(builtin_politics_dir() / f"{name}.yaml", name, "politics section")
        sec = raw.get("politics", raw) if isinstance(raw.get("politics", raw), dict) else raw
        items.append({"name": name, "kind": "politics", "description": str(sec.get("description", "")).strip()})
    return items


@app.command()
def scenarios(json_: Json = False) -> None:
    """List what can be run or composed: built-in scenarios, variants (base+variant) and politics
    configurations (election, formation)."""
    items = runnable()
    if json_:
        emit_json({"scenarios": items})
        return
    for it in items:
        print(f"{it['name']:<28} {it['kind']:<9} {it['description']}")
    print("\nrun a scenario: shatterbelt run NAME; compose variants: base+variant; politics configurations: "
          "shatterbelt election NAME, shatterbelt formation NAME")


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
