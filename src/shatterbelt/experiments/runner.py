"""One run of an ensemble, as a self-contained task that any process can execute.

A :class:`RunSpec` carries everything a worker needs (the raw scenario after its
variant and overlay, the parameter overrides, seed, scale, horizon), so a Dask
worker on another machine needs the package but no file of ours.  The worker
resolves the scenario exactly as ``shatterbelt run`` does (raw -> ``--set``
overrides -> validation), so a run is bit-identical whether it ran alone, in a
local pool or on a Dask worker: the engine's random streams are keyed by
(seed, decision, month) and never by process, thread or order.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import socket
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from .. import __version__
from ..scenario.loader import scenario_hash
from ..sim import Simulation
from .metrics import OUTCOMES_VERSION, run_outcomes
from .overlay import scenario_from_raw

PANEL_MODES = ("full", "national", "none")

#: the code a stored run was computed with: the package version and the outcome definitions
CODE_VERSION = f"{__version__}/outcomes-{OUTCOMES_VERSION}"


def _plain(obj: Any) -> Any:
    """JSON for the few non-JSON types a spec holds (NumPy scalars, dates in a raw scenario)."""
    item = getattr(obj, "item", None)
    return item() if callable(item) else str(obj)


def canonical_json(obj: Any) -> str:
    """One fixed JSON text for ``obj`` (sorted keys, no spaces): equal values, equal text."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=_plain)


def raw_sha256(raw: dict[str, Any]) -> str:
    """SHA-256 of a raw scenario (variant and overlay applied) in canonical JSON."""
    return hashlib.sha256(canonical_json(raw).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class RunSpec:
    """What one run is: scenario, overrides, seed, scale and horizon."""

    run_id: str
    scenario: str
    index: int
    sample: int
    seed: int
    scale: float
    until: str | None
    overrides: tuple[tuple[str, float], ...]
    extra: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    panel: str = "full"
    events: bool = True
    #: the scenario's hash as the ensemble's manifest records it ("" = hash of ``raw``)
    scenario_sha256: str = ""

    def identity(self) -> dict[str, Any]:
        """What this run is, stored beside its results: a stored run is reused only when
        every field matches (scenario and its hash, seed, parameter sample and its values,
        ``--set`` overrides, scale, horizon, what is kept, code version)."""
        return json.loads(canonical_json({
            "scenario": self.scenario,
            "scenario_sha256": self.scenario_sha256 or raw_sha256(self.raw),
            "index": self.index,
            "seed": self.seed,
            "sample": self.sample,
            "parameters": [[p, v] for p, v in self.overrides],
            "overrides": list(self.extra),
            "scale": self.scale,
            "until": self.until,
            "panel": self.panel,
            "events": self.events,
            "code_version": CODE_VERSION,
        }))

    def override_strings(self) -> list[str]:
        """``--set`` strings in the order the worker applies them: user's first, then sampled."""
        return list(self.extra) + [f"{p}={v!r}" for p, v in self.overrides]

    def command(self, params_file: str | None = None) -> str:
        """The ``shatterbelt run`` command that reproduces this run alone."""
        parts = ["shatterbelt", "run", self.scenario, "--seed", str(self.seed), "--scale", f"{self.scale:g}"]
        if self.until:
            parts += ["--until", self.until]
        if params_file:
            parts += ["--params", params_file]
        for s in self.override_strings():
            parts += ["--set", s]
        return " ".join(parts)


@dataclass
class RunOutput:
    """What a worker sends back: outputs of one run and how long it took."""

    run_id: str
    scenario_sha256: str
    complete: bool
    months: int
    summary: dict[str, Any]
    metrics: dict[str, float]
    panel: pa.Table
    events: pa.Table
    wall_s: float
    host: str
    pid: int
    n_events: int = 0
    cpu_s: float = 0.0


def execute_run(spec: RunSpec) -> RunOutput:
    """Run one spec and return its outputs (called in a worker process or in-process)."""
    t0 = time.perf_counter()
    c0 = time.process_time()
    sc = scenario_from_raw(spec.raw, spec.scenario, spec.override_strings(), warn=False)
    res = Simulation(sc, scale=spec.scale, seed=spec.seed, until=spec.until).run()
    panel = res.panel
    if spec.panel == "national":
        panel = panel.filter(pc.equal(panel.column("region"), "national"))
    elif spec.panel == "none":
        panel = panel.slice(0, 0)
    return RunOutput(
        run_id=spec.run_id,
        scenario_sha256=scenario_hash(res.scenario),
        complete=bool(res.summary.get("complete", True)),
        months=int(res.summary["months"]),
        summary=res.summary,
        metrics=run_outcomes(res),
        panel=panel,
        events=res.events if spec.events else res.events.slice(0, 0),
        n_events=int(res.events.num_rows),
        wall_s=time.perf_counter() - t0,
        cpu_s=time.process_time() - c0,
        host=socket.gethostname(),
        pid=os.getpid(),
    )


#: environment that keeps a worker process to one thread (several workers share the cores)
SINGLE_THREAD_ENV = {
    "NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
}


def single_threaded() -> None:
    """Limit numba's parallel loops to one thread in this process (results do not depend on it)."""
    if "numba" in sys.modules or importlib.util.find_spec("numba") is not None:
        try:
            import numba

            numba.set_num_threads(1)
        except Exception:  # an unusable numba only means the engine's NumPy path runs
            pass


def execute_run_single_threaded(spec: RunSpec) -> RunOutput:
    """:func:`execute_run` on one thread: what a Dask worker slot runs."""
    single_threaded()
    return execute_run(spec)


def worker_version() -> str:
    """The package version a worker runs (checked against the coordinator's)."""
    return __version__
