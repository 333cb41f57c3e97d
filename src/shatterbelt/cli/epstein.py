"""``shatterbelt epstein``: run Epstein's (2002) civil-violence Model I or II.

The defaults are NetLogo Rebellion's parameter set and rules (floor, Euclidean
disc, random sequential activation); ``--discretisation round
--neighbourhood von_neumann`` gives Mesa's rules.  With ``--json`` exactly one
JSON document is printed (``agents``, ``steps``, ``seconds`` for the stepping
alone, ``agent_steps_per_s``, a summary and the per-step series).
"""

from __future__ import annotations

import resource
import sys

import typer

from ..models.epstein import EpsteinParams, run_model
from .common import emit_json


def _peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (Linux reports KiB, macOS bytes)."""
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / (1024 * 1024) if sys.platform == "darwin" else r / 1024


def epstein(
    model: int = typer.Option(
        1, "--model", help="1: rebellion against a central authority; 2: two groups and peacekeepers."
    ),
    width: int = typer.Option(40, "--width", help="Grid width (torus)."),
    height: int = typer.Option(40, "--height", help="Grid height (torus)."),
    steps: int = typer.Option(200, "--steps", help="Number of steps."),
    seed: int = typer.Option(
        0, "--seed", help="Random seed; the same seed gives the same run on any back end."
    ),
    citizen_density: float = typer.Option(
        0.70, "--citizen-density", help="Probability that a cell holds a citizen."
    ),
    cop_density: float = typer.Option(
        0.04, "--cop-density", help="Probability that a cell holds a cop (peacekeeper)."
    ),
    vision: int = typer.Option(7, "--vision", help="Citizens' vision radius."),
    cop_vision: int = typer.Option(7, "--cop-vision", help="Cops' vision radius."),
    legitimacy: float = typer.Option(
        0.82, "--legitimacy", help="Perceived legitimacy L (Model II: of the other group)."
    ),
    max_jail: int = typer.Option(30, "--max-jail", help="Jail terms are uniform on 0..max-jail."),
    threshold: float = typer.Option(0.1, "--threshold", help="Activation threshold T."),
    arrest_constant: float = typer.Option(2.3, "--arrest-constant", help="k in P = 1 - exp(-k C/A)."),
    discretisation: str = typer.Option(
        "floor",
        "--discretisation",
        "--discretization",
        help="C/A: floor (NetLogo), round (Mesa) or none (as printed).",
    ),
    neighbourhood: str = typer.Option(
        "disc", "--neighbourhood", "--neighborhood", help="disc (NetLogo), von_neumann (Mesa) or cross."
    ),
    activation: str = typer.Option(
        "sequential", "--activation", help="sequential (random order, as Mesa) or simultaneous."
    ),
    movement: bool = typer.Option(
        True, "--movement/--no-movement", help="Agents move to a random empty cell in vision."
    ),
    group_a_share: float = typer.Option(
        0.5, "--group-a-share", help="Model II: share of citizens in group A."
    ),
    backend: str = typer.Option(
        "auto", "--backend", help="auto, numba or numpy (same results; numpy is slower)."
    ),
    series: bool = typer.Option(
        True, "--series/--no-series", help="Include the per-step series in --json output."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document on stdout."),
) -> None:
    """Run Epstein's civil-violence model (NetLogo's parameter set by default)."""
    params = EpsteinParams(
        width=width,
        height=height,
        citizen_density=citizen_density,
        cop_density=cop_density,
        vision=vision,
        cop_vision=cop_vision,
        legitimacy=legitimacy,
        max_jail=max_jail,
        threshold=threshold,
        arrest_constant=arrest_constant,
        discretisation=discretisation,
        neighbourhood=neighbourhood,
        activation=activation,
        movement=movement,
        group_a_share=group_a_share,
    )
    result = run_model(params, model=model, steps=steps, seed=seed, backend=backend)
    if as_json:
        doc = result.to_dict(include_series=series)
        doc["peak_rss_mb"] = round(_peak_rss_mb(), 1)
        emit_json(doc)
        return
    s = result.summary()
    p = params
    print(
        f"Epstein Model {'I' if model == 1 else 'II'} ({p.discretisation}, {p.neighbourhood}, {p.activation}) "
        f"{p.width}x{p.height}, seed {seed}: {result.agents} agents ({result.citizens} citizens, {result.cops} cops), "
        f"{result.steps} steps"
    )
    rate = f"{result.agent_steps_per_s / 1e6:.2f} M agent-steps/s" if result.seconds > 0 else "n/a"
    print(f"  stepping {result.seconds:.3f} s = {rate} ({result.backend}); peak RSS {_peak_rss_mb():.0f} MiB")
    print(
        f"  mean active {s['mean_active']:.1f}, mean jailed {s['mean_jailed']:.1f}, max active {s['max_active']}, "
        f"outburst steps (>50 active) {s['outburst_steps']}, arrests {s['arrests']}"
    )
    if model == 2:
        print(
            f"  group A {s['alive_a_start']} -> {s['alive_a_end']} (killed {s['killed_a']}), "
            f"group B {s['alive_b_start']} -> {s['alive_b_end']} (killed {s['killed_b']})"
        )


def register(app: typer.Typer) -> None:
    """Add the ``epstein`` command to the CLI."""
    app.command("epstein")(epstein)
