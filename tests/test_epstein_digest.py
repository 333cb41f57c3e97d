"""Digest guard of the Epstein models: fixed runs must give byte-identical results.

Each case runs one Model I or II world for a fixed number of steps and hashes (sha256)
its per-step series and its final state (cell codes of the real grid, positions,
states and jail terms).  The digests in ``tests/data/epstein_digests.json`` were
taken from the implementation before its split into a package and are never
regenerated: a change to the kernels, the state layout or the random numbers that
alters any run fails here.  Both back ends must give the stored digest; the large
sequential cases run on numba only (the NumPy twin loops over agents in Python).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import typer

from shatterbelt.backend import have_numba
from shatterbelt.cli.epstein import register
from shatterbelt.models.epstein import EpsteinParams, EpsteinSim

DIGESTS = Path(__file__).parent / "data" / "epstein_digests.json"

# name -> (model, seed, steps, params, backends)
BOTH = ("numba", "numpy")
CASES: dict[str, tuple[int, int, int, dict[str, Any], tuple[str, ...]]] = {
    "m1-seq-netlogo-40": (1, 1, 60, dict(), BOTH),
    "m1-seq-mesa-33x29": (
        1,
        7,
        60,
        dict(
            width=33, height=29, vision=5, cop_vision=6, discretisation="round", neighbourhood="von_neumann"
        ),
        BOTH,
    ),
    "m2-seq-40": (2, 3, 60, dict(legitimacy=0.75, cop_density=0.06), BOTH),
    "m1-seq-crowded-v9": (
        1,
        4,
        40,
        dict(width=27, height=25, vision=9, cop_vision=8, legitimacy=0.7, citizen_density=0.8),
        BOTH,
    ),
    "m1-sim-40": (1, 2, 100, dict(activation="simultaneous"), BOTH),
    "m2-sim-50x40": (
        2,
        4,
        100,
        dict(width=50, height=40, activation="simultaneous", neighbourhood="von_neumann", legitimacy=0.75),
        BOTH,
    ),
    "m1-seq-mesa-100": (
        1,
        1,
        300,
        dict(width=100, height=100, discretisation="round", neighbourhood="von_neumann"),
        ("numba",),
    ),
    "m2-seq-100-v9": (
        2,
        5,
        150,
        dict(width=100, height=100, vision=9, cop_vision=9, cop_density=0.06),
        ("numba",),
    ),
    "m1-sim-200": (
        1,
        0,
        50,
        dict(width=200, height=200, activation="simultaneous", cop_vision=5),
        ("numba",),
    ),
}


def digest(sim: EpsteinSim) -> str:
    """sha256 of a world's per-step series and final state."""
    h = hashlib.sha256()
    series = sim.series
    for name in sorted(series):
        h.update(name.encode())
        h.update(np.ascontiguousarray(series[name], dtype=np.int64).tobytes())
    for arr in (sim.grid(), sim.pos, sim.kind, sim.state, sim.jail):
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


def run_case(name: str, backend: str) -> str:
    model, seed, steps, params, _ = CASES[name]
    return digest(EpsteinSim(EpsteinParams(**params), model=model, seed=seed, backend=backend).step(steps))


CASE_BACKENDS = [(n, b) for n, c in CASES.items() for b in c[4]]


@pytest.mark.parametrize("name,backend", CASE_BACKENDS)
def test_epstein_run_is_byte_identical(name: str, backend: str) -> None:
    if backend == "numba" and not have_numba():
        pytest.skip("numba not available")
    want = json.loads(DIGESTS.read_text())[name]
    assert run_case(name, backend) == want, f"{name} on {backend} changed"


CLI_CASES = {
    "cli-m1": ["--steps", "80", "--seed", "2", "--discretisation", "round", "--neighbourhood", "von_neumann"],
    "cli-m2": ["--model", "2", "--steps", "60", "--seed", "9", "--legitimacy", "0.75", "--width", "45"],
    "cli-m2-sim": ["--model", "2", "--steps", "60", "--seed", "1", "--activation", "simultaneous"],
}
TIMING = ("seconds", "agent_steps_per_s", "peak_rss_mb", "backend")


def cli_digest(args: list[str], backend: str) -> str:
    """sha256 of ``shatterbelt epstein ... --json`` without its timing, memory and back-end fields."""
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

    @app.callback()
    def _root() -> None:
        """(forces sub-command mode)"""

    register(app)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        app(args=["epstein", *args, "--backend", backend, "--json"], standalone_mode=False)
    doc = json.loads(buf.getvalue())
    for k in TIMING:
        doc.pop(k)
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


@pytest.mark.parametrize("name", sorted(CLI_CASES))
def test_epstein_cli_json_is_byte_identical(name: str) -> None:
    backend = "numba" if have_numba() else "numpy"
    want = json.loads(DIGESTS.read_text())[name]
    assert cli_digest(CLI_CASES[name], backend) == want, f"{name} changed"
