"""Ensembles: many runs of one or more scenarios over seeds and parameter samples, resumable.

>>> from shatterbelt.experiments import Ensemble
>>> ens = Ensemble(["iraq-2010"], runs=20, sample="lhs", scale=0.01, out="out/ens")  # doctest: +SKIP
>>> res = ens.run(workers=2)                                                         # doctest: +SKIP
>>> res.metrics("iraq-2010")["deaths.total"].describe()                             # doctest: +SKIP

Several scenarios in one ensemble share one design (seeds and sampled values),
which makes their runs *paired*: ``compare`` and ``claims`` are built on that.
The design comes from the first scenario; each other scenario skips the
parameters its variant pins, so a lever keeps its value in every run.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import ShatterbeltError, UsageError
from ..resolve import expand_defaults
from ..scenario.loader import scenario_hash
from ..scenario.provenance import collect_params
from ..scenario.schema import MONTH_RE
from .design import Design, constraint_groups, extend_lhs, grid_design, is_pinned, make_design, repair_design
from .executor import make_executor, progress_bar, sigterm_as_interrupt
from .metrics import OUTCOMES_VERSION
from .overlay import read_overlay, resolve_raw, scenario_from_raw
from .runner import PANEL_MODES, RunOutput, RunSpec
from .store import MANIFEST, ResultStore, manifest_fingerprint


def expand_raw(raw: dict[str, Any], label: str) -> dict[str, Any]:
    """The raw scenario with everything the loader fills in at validation (module parameter
    defaults, a named politics configuration) already in place: overrides then cost
    milliseconds instead of re-reading files, and the result validates to the same scenario."""
    return expand_defaults(raw, label)


def slug(label: str) -> str:
    """A file-name-safe id for a scenario label (``iraq-2010+us-stays`` -> ``iraq-2010_us-stays``)."""
    base = Path(label).stem if label.endswith((".yaml", ".yml")) else label
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", base)[:80]


@dataclass
class EnsembleResult:
    """A finished (or partly finished) ensemble, readable from its store."""

    store: ResultStore
    specs: list[RunSpec]
    done: int
    computed: int
    failed: list[tuple[str, str]]
    wall_s: float
    executor: str

    def metrics(self, scenario: str) -> Any:
        """pandas DataFrame: one row per finished run (index: run index), one column per metric."""
        return self.store.metrics_wide(scenario)

    @property
    def complete(self) -> bool:
        return self.done == len(self.specs)

    def close(self) -> None:
        self.store.close()


@dataclass
class Ensemble:
    """An ensemble's definition; :meth:`run` executes what its folder does not hold yet."""

    scenarios: list[str]
    runs: int
    out: str | Path
    sample: str = "none"
    samples: int | None = None
    seed: int = 0
    scale: float = 0.01
    until: str | None = None
    params_file: str | None = None
    overrides: list[str] = field(default_factory=list)
    vary: list[str] = field(default_factory=list)
    panel: str = "full"
    events: bool = True
    kind: str = "ensemble"
    design: Design | None = None
    extra_manifest: dict[str, Any] = field(default_factory=dict)
    #: ``path=v1,v2,...`` items of a full factorial design (instead of ``sample``), each point run ``seeds`` times
    grid: list[str] = field(default_factory=list)
    seeds: int = 1

    def __post_init__(self) -> None:
        if not self.scenarios:
            raise UsageError("scenario: at least one is needed")
        if self.runs < 1:
            raise UsageError(f"--runs: must be >= 1, got {self.runs}")
        if not (0.0 < self.scale <= 1.0):
            raise UsageError(f"--scale: must be in (0, 1], got {self.scale}")
        if self.panel not in PANEL_MODES:
            raise UsageError(f"--panel: must be one of {', '.join(PANEL_MODES)}, got '{self.panel}'")
        self._overlay = read_overlay(self.params_file) if self.params_file else None
        self._raw: dict[str, dict[str, Any]] = {}
        self._skip: dict[str, set[str]] = {}
        self._sha: dict[str, str] = {}
        ref = None
        for label in self.scenarios:
            raw, _ = resolve_raw(label, self._overlay)
            raw = expand_raw(raw, label)
            # validates the scenario, the overlay and the --set overrides up front (one-line errors)
            sc = scenario_from_raw(raw, label, list(self.overrides))
            if self.until is not None:
                if not MONTH_RE.match(self.until):
                    raise UsageError(f"--until: '{self.until}' is not a month written YYYY-MM")
                if not (sc.start <= self.until <= sc.horizon):
                    raise UsageError(f"--until: {self.until} is outside the scenario's {sc.start}..{sc.horizon}")
            params = collect_params(sc)
            free = {p["path"] for p in params if not is_pinned(p)}
            self._raw[label] = raw
            self._sha[label] = scenario_hash(sc)
            self._skip[label] = free  # paths a sample may set in this scenario
            if ref is None:
                ref = sc
        assert ref is not None
        if self.design is None and self.grid:
            if self.sample != "none" or self.vary:
                raise UsageError("--grid: not with --sample lhs or --vary (a grid is its own design)")
            self.design = grid_design(ref, self.grid, self.seeds, self.seed)
            if self.design.n_runs != self.runs:
                P = self.design.n_runs // self.seeds
                raise UsageError(f"--runs: with --grid the runs are {P} points x {self.seeds} seeds = "
                                 f"{self.design.n_runs}, got {self.runs}")
            for row in self.design.samples:
                err = self._check(list(zip(self.design.paths, row.tolist(), strict=True)))
                if err is not None:
                    point = ", ".join(f"{p}={v:g}" for p, v in zip(self.design.paths, row, strict=True))
                    raise UsageError(f"--grid: the point {point} is not a valid scenario: {err}")
        if self.design is None:
            if self.sample == "lhs" and self.samples in (None, 0):
                self.design = extend_lhs(ref, self._stored_design(), self.runs, self.seed, self.vary or None)
            if self.design is None:
                self.design = make_design(ref, self.runs, self.sample, self.samples, self.seed, self.vary or None)
        elif self.design.n_runs != self.runs:
            raise UsageError(f"design has {self.design.n_runs} runs, --runs says {self.runs}")
        if self.design.samples.size and self.design.method != "grid":
            assert ref is not None
            nominal = {p["path"]: p["value"] for p in collect_params(ref)}
            if "constraints" not in self.design.meta:
                self.design.meta["constraints"] = constraint_groups(ref, self.design.paths)
            repair_design(self.design, nominal, self._check)

    def _stored_design(self) -> dict[str, Any]:
        """The design in the folder's manifest when it is an ensemble of the same scenarios (for growth)."""
        try:
            m = json.loads((Path(self.out) / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(m, dict) or [s.get("label") for s in m.get("scenarios", []) if isinstance(s, dict)] != list(
                self.scenarios):
            return {}
        d = m.get("design")
        return d if isinstance(d, dict) else {}

    def _check(self, overrides: list[tuple[str, float]]) -> str | None:
        """The first validation error of a sample in any of the ensemble's scenarios, or None."""
        for label in self.scenarios:
            free = self._skip[label]
            strings = list(self.overrides) + [f"{p}={v!r}" for p, v in overrides if p in free]
            try:
                scenario_from_raw(self._raw[label], label, strings, warn=False)
            except ShatterbeltError as exc:
                return str(exc)
        return None

    # ------------------------------------------------------------------ plan
    def plan(self) -> list[RunSpec]:
        """Every run of the ensemble, paired runs of the scenarios next to each other."""
        d = self.design
        assert d is not None
        specs = []
        for i in range(d.n_runs):
            for label in self.scenarios:
                free = self._skip[label]
                skip = {p for p in d.paths if p not in free}
                specs.append(
                    RunSpec(
                        run_id=f"{slug(label)}.{i:05d}",
                        scenario=label,
                        index=i,
                        sample=d.run_sample[i],
                        seed=d.run_seed[i],
                        scale=self.scale,
                        until=self.until,
                        overrides=d.overrides(i, skip),
                        extra=tuple(self.overrides),
                        raw=self._raw[label],
                        panel=self.panel,
                        events=self.events,
                        scenario_sha256=self._sha[label],
                    )
                )
        ids = [s.run_id for s in specs]
        if len(set(ids)) != len(ids):
            raise UsageError("scenario: two scenarios have the same file-name id; give distinct names")
        return specs

    def manifest(self) -> dict[str, Any]:
        d = self.design
        assert d is not None
        overlay = None
        if self._overlay is not None:
            body = {k: v for k, v in self._overlay.items() if k != "_file"}
            overlay = {
                "file": self._overlay["_file"],
                "sha256": hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest(),
            }
        return {
            "format": 1,
            "kind": self.kind,
            "package_version": __version__,
            "outcomes_version": OUTCOMES_VERSION,
            "scenarios": [{"label": s, "sha256": self._sha[s]} for s in self.scenarios],
            "scale": self.scale,
            "until": self.until,
            "panel": self.panel,
            "events": self.events,
            "overrides": list(self.overrides),
            "overlay": overlay,
            "design": d.to_json(),
            "runs": [
                {"run_id": s.run_id, "scenario": s.scenario, "index": s.index, "sample": s.sample, "seed": s.seed}
                for s in self.plan()
            ],
            **self.extra_manifest,
            "command_line": " ".join(sys.argv),
        }

    # ------------------------------------------------------------------ run
    def run(
        self,
        workers: int | None = None,
        scheduler: str | None = None,
        progress: bool = False,
        rebuild: bool = False,
        connect_timeout: float = 10.0,
        description: str | None = None,
    ) -> EnsembleResult:
        """Run every run the folder lacks; keep what is done on any interruption."""
        specs = self.plan()
        manifest = self.manifest()
        store = ResultStore(self.out)
        store.open(manifest, rebuild=rebuild, plan=specs)
        t0 = time.perf_counter()
        computed = 0
        failed: list[tuple[str, str]] = []
        executor = None
        executor_name = "none (all runs were already stored)"
        params_file = self._overlay["_file"] if self._overlay else None
        try:
            done = store.done_ids()
            todo = [s for s in specs if s.run_id not in done]
            if todo:
                executor = make_executor(workers, scheduler, connect_timeout, tag=manifest_tag(manifest))
                executor_name = executor.name

                def on_result(out: RunOutput, spec: RunSpec) -> None:
                    nonlocal computed
                    store.add(out, spec, spec.command(params_file))
                    computed += 1
                    advance(1)

                with sigterm_as_interrupt(), progress_bar(
                    len(todo), description or f"{self.kind}: {len(todo)} runs", progress
                ) as advance:
                    failed = executor.run(todo, on_result)
        except KeyboardInterrupt:
            n = len(store.done_ids()) if store.con is not None else 0
            print(
                f"interrupted: {n} of {len(specs)} runs are stored in {self.out}; "
                "rerun the same command to resume",
                file=sys.stderr,
            )
            if executor is not None:
                executor.close()
                executor = None
            store.close()
            raise
        except BaseException:
            store.close()
            raise
        finally:
            if executor is not None:
                executor.close()
        done_n = len(store.done_ids())
        return EnsembleResult(store, specs, done_n, computed, failed, time.perf_counter() - t0, executor_name)


def manifest_tag(manifest: dict[str, Any]) -> str:
    return manifest_fingerprint(manifest)[:10]


def check_failures(res: EnsembleResult) -> None:
    """One-line error when runs raised; the finished ones stay stored."""
    if res.failed:
        from .executor import RunFailures

        rid, msg = res.failed[0]
        raise RunFailures(
            f"{len(res.failed)} of {len(res.specs)} runs failed ({res.done} are stored in {res.store.dir}); "
            f"first: {rid}: {msg}"
        )
