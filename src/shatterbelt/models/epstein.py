"""Epstein's (2002) civil-violence models, as fast reference implementations.

Model I: citizens rebel against a central authority whose cops arrest them.
Model II: two groups whose actives kill members of the other group, with
cops acting as peacekeepers (they arrest actives of either group).

Reference: J. M. Epstein, "Modeling civil violence: An agent-based
computational approach", PNAS 99 suppl. 3 (2002) 7243-7250.

Why the switches exist.  The printed model leaves three choices open and the
well-known implementations made them differently, with large effects on the
dynamics (see ``docs/epstein.md``):

* ``discretisation`` of the cop-to-active ratio in ``P = 1 - exp(-k (C/A))``:
  ``floor`` (NetLogo's Rebellion; gives punctuated equilibrium), ``round``
  (Mesa, PR #2429; banker's rounding as Python's ``round``) or ``none``
  (the formula as printed, which gives a quiet system);
* ``neighbourhood`` of radius ``vision``: ``disc`` (Euclidean, NetLogo's
  ``in-radius``), ``von_neumann`` (Manhattan diamond, Mesa) or ``cross``;
* ``activation``: ``sequential`` (every agent acts in a fresh random order
  each step, seeing the moves of those before it, as Mesa's ``shuffle_do``)
  or ``simultaneous`` (everyone decides from the same snapshot; conflicts
  resolved by fixed rules; threaded in numba).

Everything random is a counter-based hash of ``(seed, stream, step, agent)``,
so a run is reproducible from its seed and identical with or without numba
(set ``SHATTERBELT_NO_NUMBA=1`` to force the NumPy fallback) and with any
number of threads.
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
import time
import types
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import UsageError
from . import _epstein_kernels as K

__all__ = [
    "ACTIVATIONS",
    "DISCRETISATIONS",
    "HAVE_NUMBA",
    "NEIGHBOURHOODS",
    "EpsteinParams",
    "EpsteinResult",
    "EpsteinSim",
    "arrest_probability_table",
    "half_widths",
    "load_mesa_model",
    "mesa_series",
    "neighbourhood_size",
    "outburst_steps",
    "run_model1",
    "run_model2",
]

HAVE_NUMBA: bool = K.HAVE_NUMBA

DISCRETISATIONS = ("floor", "round", "none")
NEIGHBOURHOODS = ("disc", "von_neumann", "cross")
ACTIVATIONS = ("sequential", "simultaneous")
BACKENDS = ("auto", "numba", "numpy")

_ALIASES = {
    "von-neumann": "von_neumann",
    "vonneumann": "von_neumann",
    "diamond": "von_neumann",
    "euclidean": "disc",
    "circle": "disc",
    "random-sequential": "sequential",
    "random_sequential": "sequential",
    "asynchronous": "sequential",
    "synchronous": "simultaneous",
}

MAX_VISION = 20


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _canon(value: str, allowed: tuple[str, ...], name: str) -> str:
    v = str(value).strip().lower()
    v = _ALIASES.get(v, v)
    if v not in allowed:
        raise UsageError(f"{_flag(name)}: unknown value {value!r} (choose one of: {', '.join(allowed)})")
    return v


@dataclass(frozen=True)
class EpsteinParams:
    """Parameters of Model I and II.  Defaults are NetLogo's Rebellion parameter set.

    ``citizen_density`` and ``cop_density`` are per-cell probabilities (as
    Mesa places agents), so agent counts are binomial around density × cells.
    ``group_a_share`` is used by Model II only.
    """

    width: int = 40
    height: int = 40
    citizen_density: float = 0.70
    cop_density: float = 0.04
    vision: int = 7
    cop_vision: int = 7
    legitimacy: float = 0.82
    max_jail: int = 30
    threshold: float = 0.1
    arrest_constant: float = 2.3
    discretisation: str = "floor"
    neighbourhood: str = "disc"
    activation: str = "sequential"
    movement: bool = True
    group_a_share: float = 0.5

    def __post_init__(self) -> None:
        for name, allowed in (
            ("discretisation", DISCRETISATIONS),
            ("neighbourhood", NEIGHBOURHOODS),
            ("activation", ACTIVATIONS),
        ):
            object.__setattr__(self, name, _canon(getattr(self, name), allowed, name))
        self.validate()

    @classmethod
    def netlogo(cls, **overrides: Any) -> EpsteinParams:
        """NetLogo Rebellion's parameter set and rules (floor, Euclidean disc)."""
        return cls(**overrides)

    @classmethod
    def mesa_defaults(cls, **overrides: Any) -> EpsteinParams:
        """Mesa 3.3.1 example defaults and rules (round, von Neumann, random sequential)."""
        base: dict[str, Any] = dict(
            citizen_density=0.7,
            cop_density=0.074,
            legitimacy=0.8,
            max_jail=1000,
            discretisation="round",
            neighbourhood="von_neumann",
            activation="sequential",
        )
        base.update(overrides)
        return cls(**base)

    @classmethod
    def mesa_rules(cls, **overrides: Any) -> EpsteinParams:
        """NetLogo's parameter set with Mesa's rules: the configuration of the equivalence test."""
        base: dict[str, Any] = dict(
            discretisation="round", neighbourhood="von_neumann", activation="sequential"
        )
        base.update(overrides)
        return cls(**base)

    def replace(self, **changes: Any) -> EpsteinParams:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def validate(self) -> None:
        """Raise :class:`UsageError` naming the flag of the first bad field."""

        def bad(name: str, why: str) -> UsageError:
            return UsageError(f"{_flag(name)}: {why} (got {getattr(self, name)!r})")

        for name in ("width", "height", "vision", "cop_vision", "max_jail"):
            val = getattr(self, name)
            if isinstance(val, bool) or not isinstance(val, int | np.integer):
                raise bad(name, "must be an integer")
        for name in (
            "citizen_density",
            "cop_density",
            "legitimacy",
            "threshold",
            "arrest_constant",
            "group_a_share",
        ):
            val = getattr(self, name)
            if isinstance(val, bool) or not isinstance(val, int | float | np.floating | np.integer):
                raise bad(name, "must be a number")
            if not math.isfinite(float(val)):
                raise bad(name, "must be finite")
        for name in ("width", "height"):
            if getattr(self, name) < 1:
                raise bad(name, "must be a positive integer")
        for name in ("vision", "cop_vision"):
            if not 1 <= getattr(self, name) <= MAX_VISION:
                raise bad(name, f"must be between 1 and {MAX_VISION}")
        pad = max(self.vision, self.cop_vision)
        for name in ("width", "height"):
            if getattr(self, name) < 2 * pad + 1:
                raise bad(name, f"must be at least 2 x vision + 1 = {2 * pad + 1}")
        if self.width * self.height >= 2**31:
            raise bad("width", "grid too large (width x height must be below 2**31)")
        for name in ("citizen_density", "cop_density", "legitimacy", "group_a_share"):
            if not 0.0 <= float(getattr(self, name)) <= 1.0:
                raise bad(name, "must be between 0 and 1")
        if float(self.citizen_density) + float(self.cop_density) > 1.0:
            raise bad("cop_density", "citizen density + cop density must not exceed 1")
        if not 0 <= self.max_jail <= 32767:
            raise bad("max_jail", "must be between 0 and 32767")
        if float(self.arrest_constant) < 0:
            raise bad("arrest_constant", "must be non-negative")

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# --------------------------------------------------------------------------
# neighbourhoods and the arrest-probability table
# --------------------------------------------------------------------------


def half_widths(shape: str, v: int) -> np.ndarray:
    """Half-width of each row ``dy = -v..v`` of a neighbourhood shape (all shapes are row spans)."""
    shape = _canon(shape, NEIGHBOURHOODS, "neighbourhood")
    dy = np.arange(-v, v + 1)
    if shape == "von_neumann":
        hw = v - np.abs(dy)
    elif shape == "disc":
        # exact integer test dx^2 + dy^2 <= v^2 (no float sqrt at the boundary)
        hw = np.array([max(h for h in range(v + 1) if h * h + d * d <= v * v) for d in dy])
    else:  # cross
        hw = np.where(dy == 0, v, 0)
    return hw.astype(np.int32)


def neighbourhood_size(shape: str, v: int) -> int:
    """Number of cells seen at vision ``v``, the agent's own cell excluded."""
    return int(np.sum(2 * half_widths(shape, v).astype(np.int64) + 1) - 1)


def arrest_probability_table(discretisation: str, k: float, n_cells: int) -> np.ndarray:
    """``P[C, A] = 1 - exp(-k · d(C/A))`` for every possible cop count C and active count A.

    Built once with NumPy and read by both back ends, so that the two give
    identical decisions.  ``d`` is ``floor``, Python's ``round`` (half to
    even, as Mesa) or the identity; column ``A = 0`` is never used.
    """
    disc = _canon(discretisation, DISCRETISATIONS, "discretisation")
    c = np.arange(n_cells + 1, dtype=np.float64)[:, None]
    a = np.arange(n_cells + 2, dtype=np.float64)[None, :]
    a[0, 0] = 1.0
    ratio = c / a
    if disc == "floor":
        x = np.floor(ratio)
    elif disc == "round":
        x = np.rint(ratio)  # half to even, as Python's round()
    else:
        x = ratio
    return np.ascontiguousarray(1.0 - np.exp(-float(k) * x))


def outburst_steps(active: np.ndarray, threshold: int = 50) -> int:
    """Number of steps with more than ``threshold`` actives (the outburst count used in docs and tests)."""
    return int(np.count_nonzero(np.asarray(active) > threshold))


# --------------------------------------------------------------------------
# the simulation object
# --------------------------------------------------------------------------


def _resolve_backend(backend: str) -> str:
    b = _canon(backend, BACKENDS, "backend")
    if b == "auto":
        return "numba" if HAVE_NUMBA else "numpy"
    if b == "numba" and not HAVE_NUMBA:
        raise UsageError(
            "--backend: numba is not available (install the 'fast' extra or unset SHATTERBELT_NO_NUMBA)"
        )
    return b


_WARM: set[str] = set()


def _warm_up(activation: str) -> None:
    """Compile (or load from cache) the numba kernel outside any timed region."""
    if activation in _WARM:
        return
    _WARM.add(activation)
    p = EpsteinParams(width=9, height=9, vision=2, cop_vision=2, activation=activation)
    EpsteinSim(p, model=2, seed=0, backend="numba", _warm=False).step(1)
    EpsteinSim(p, model=1, seed=0, backend="numba", _warm=False).step(1)


@dataclass
class EpsteinResult:
    """Outcome of a run: per-step series (index 0 is the initial state) and timing."""

    params: EpsteinParams
    model: int
    seed: int
    backend: str
    agents: int
    citizens: int
    cops: int
    steps: int
    seconds: float
    series: dict[str, np.ndarray] = field(repr=False)

    @property
    def agent_steps_per_s(self) -> float:
        return self.agents * self.steps / self.seconds if self.seconds > 0 else float("inf")

    def summary(self, outburst_threshold: int = 50) -> dict[str, float | int]:
        """Means over steps 1..n (the initial state excluded)."""
        s = {k: v[1:] for k, v in self.series.items()}
        out: dict[str, float | int] = {
            "mean_active": float(np.mean(s["active"])) if self.steps else 0.0,
            "mean_jailed": float(np.mean(s["jailed"])) if self.steps else 0.0,
            "max_active": int(np.max(s["active"])) if self.steps else 0,
            "outburst_steps": outburst_steps(s["active"], outburst_threshold),
            "arrests": int(np.sum(s["arrests"])),
        }
        if self.model == 2:
            out.update(
                killed_a=int(np.sum(s["killed_a"])),
                killed_b=int(np.sum(s["killed_b"])),
                alive_a_start=int(self.series["alive_a"][0]),
                alive_b_start=int(self.series["alive_b"][0]),
                alive_a_end=int(self.series["alive_a"][-1]),
                alive_b_end=int(self.series["alive_b"][-1]),
            )
        return out

    def to_dict(self, include_series: bool = True) -> dict[str, Any]:
        d: dict[str, Any] = {
            "model": self.model,
            "backend": self.backend,
            "seed": self.seed,
            "params": self.params.as_dict(),
            "agents": self.agents,
            "citizens": self.citizens,
            "cops": self.cops,
            "steps": self.steps,
            "seconds": self.seconds,
            "agent_steps_per_s": self.agent_steps_per_s if self.seconds > 0 else None,
            "summary": self.summary(),
        }
        if include_series:
            cols = K.SERIES_COLUMNS if self.model == 2 else ("quiet", "active", "jailed", "arrests")
            d["series"] = {c: self.series[c].tolist() for c in cols}
        return d


class EpsteinSim:
    """A Model I or Model II world that can be stepped and inspected.

    The state lives in compact preallocated arrays (``int8`` codes and kinds,
    ``int16`` jail terms, ``float32`` grievance and risk aversion, ``int32``
    positions); in the numba path a call of :meth:`step` allocates two
    scratch arrays of one and four bytes per agent, whatever the number of
    steps.  The sequential numba kernel also keeps neighbourhood counts, bit
    planes and per-agent decision thresholds (see ``_epstein_kernels``).
    """

    def __init__(
        self,
        params: EpsteinParams | None = None,
        model: int = 1,
        seed: int = 0,
        backend: str = "auto",
        _warm: bool = True,
    ) -> None:
        if model not in (1, 2):
            raise UsageError(f"--model: must be 1 or 2 (got {model!r})")
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
            raise UsageError(f"--seed: must be a non-negative integer (got {seed!r})")
        self.params = p = params if params is not None else EpsteinParams()
        self.model = model
        self.seed = int(seed) & ((1 << 64) - 1)
        self.backend = _resolve_backend(backend)
        if self.backend == "numba" and _warm:
            _warm_up(p.activation)
        H, W = p.height, p.width
        pad = max(p.vision, p.cop_vision)
        Wp = W + 2 * pad
        self.H, self.W, self.pad, self.Wp = H, W, pad, Wp
        self.hw = half_widths(p.neighbourhood, p.vision)
        self.hwc = half_widths(p.neighbourhood, p.cop_vision)
        self.ptab = arrest_probability_table(
            p.discretisation, p.arrest_constant, neighbourhood_size(p.neighbourhood, p.vision)
        )
        # placement: one uniform per cell, as Mesa's random.choices per cell
        ncell = H * W
        u = K.uniforms_np(K.base_py(self.seed, K.S_PLACE, 0), np.arange(ncell))
        cd, kd = float(p.citizen_density), float(p.cop_density)
        is_cit = u < cd
        is_cop = (u >= cd) & (u < cd + kd)
        cells = np.flatnonzero(is_cit | is_cop)
        n = cells.size
        ids = np.arange(n)
        self.pos = cells.astype(np.int32)
        kind = np.where(is_cop[cells], K.KIND_COP, K.KIND_A).astype(np.int8)
        if model == 2:
            ug = K.uniforms_np(K.base_py(self.seed, K.S_GROUP, 0), ids)
            kind = np.where(
                kind == K.KIND_COP, K.KIND_COP, np.where(ug < p.group_a_share, K.KIND_A, K.KIND_B)
            )
        self.kind = kind.astype(np.int8)
        hard = K.uniforms_np(K.base_py(self.seed, K.S_HARD, 0), ids)
        self.grv = (hard * (1.0 - float(p.legitimacy))).astype(np.float32)
        self.risk = K.uniforms_np(K.base_py(self.seed, K.S_RISK, 0), ids).astype(np.float32)
        self.state = np.zeros(n, dtype=np.int8)
        self.jail = np.zeros(n, dtype=np.int16)
        self.occ = np.full(ncell, -1, dtype=np.int32)
        self.occ[cells] = ids
        # one extra (dummy) row: the numba kernel's branch-free halo writes land there
        self.codes = np.zeros((H + 2 * pad + 1) * Wp, dtype=np.int8)
        K.set_codes_np(
            self.codes, H, W, pad, Wp, cells, np.where(self.kind == K.KIND_COP, K.COP, 2 * self.kind + 1)
        )
        self.ip = np.zeros(K.N_IP, dtype=np.int64)
        self.ip[[K.IP_H, K.IP_W, K.IP_PAD, K.IP_WP]] = (H, W, pad, Wp)
        self.ip[K.IP_MODEL2] = int(model == 2)
        self.ip[K.IP_MOVE] = int(bool(p.movement))
        self.ip[K.IP_JMAX] = p.max_jail
        self.ip[K.IP_V] = p.vision
        self.ip[K.IP_VC] = p.cop_vision
        self.ip[K.IP_N] = n
        nw = (Wp + 63) // 64 + 1  # one spare word: a row segment may read the next word
        self.ip[K.IP_NW] = nw
        self.tab = K.probe_table(self.hw, Wp)
        self.tabc = K.probe_table(self.hwc, Wp)
        # scratch, allocated once
        if p.activation == "sequential":
            self._perm = np.zeros(n, dtype=np.int32)
            self._pm = K.PM_MODEL2 if model == 2 else K.PM_MODEL1
            if self.backend == "numba":
                # acceleration structures of the numba kernel, kept in step by it
                self._planes = K.build_planes_np(self.codes, self._pm, H + 2 * pad, Wp, nw)
                S = self.ptab.shape[1]
                self._cnt, self._cntb = K.build_counts_np(
                    H, W, pad, self.hw, self.pos, self.kind, self.state, S
                )
                if model == 1:
                    self._cntb = np.zeros(1, dtype=np.int32)  # group B: Model II only
                rank, self._thr = K.decision_ranks(self.ptab, self.grv, self.risk, float(p.threshold))
                self._rank = rank.ravel()
            else:
                self._planes = np.zeros(0, dtype=np.uint64)
                self._cnt = self._cntb = self._thr = np.zeros(0, dtype=np.int32)
                self._rank = np.zeros(0, dtype=np.int32)
        else:
            self._newst = np.zeros(n, dtype=np.int8)
            self._target = np.zeros(n, dtype=np.int64)
            self._claim = np.full(ncell, -1, dtype=np.int64)
        self.t = 0
        self.seconds = 0.0
        first = np.zeros((1, K.N_COLS), dtype=np.int64)
        K._series_np(self.kind, self.state, first[0])
        self._rows: list[np.ndarray] = [first]

    # ---- inspection -------------------------------------------------------

    @property
    def n_agents(self) -> int:
        return int(self.kind.size)

    @property
    def n_cops(self) -> int:
        return int(np.count_nonzero(self.kind == K.KIND_COP))

    def grid(self) -> np.ndarray:
        """Cell codes of the real grid, shape (height, width) (0 empty, 1 cop, 2 jailed, 3/4 quiet/active A, 5/6 B)."""
        c = self.codes[: (self.H + 2 * self.pad) * self.Wp].reshape(self.H + 2 * self.pad, self.Wp)
        return c[self.pad : self.pad + self.H, self.pad : self.pad + self.W].copy()

    def halo_consistent(self) -> bool:
        """True when every halo cell equals the real cell it mirrors (a kernel invariant)."""
        c = self.codes[: (self.H + 2 * self.pad) * self.Wp].reshape(self.H + 2 * self.pad, self.Wp)
        ys = (np.arange(c.shape[0]) - self.pad) % self.H
        xs = (np.arange(c.shape[1]) - self.pad) % self.W
        return bool(np.array_equal(c, self.grid()[np.ix_(ys, xs)]))

    @property
    def series(self) -> dict[str, np.ndarray]:
        tab = np.concatenate(self._rows, axis=0)
        return {name: tab[:, j].copy() for j, name in enumerate(K.SERIES_COLUMNS)}

    # ---- stepping ---------------------------------------------------------

    def step(self, n: int = 1) -> EpsteinSim:
        """Advance ``n`` steps; only this is timed (``self.seconds``)."""
        if n <= 0:
            return self
        out = np.zeros((n, K.N_COLS), dtype=np.int64)
        p = self.params
        agents = (self.occ, self.pos, self.kind, self.state, self.jail, self.grv, self.risk)
        rules = (self.ptab, self.hw, self.hwc, self.tab, self.tabc, self.ip, float(p.threshold))
        numba_ = self.backend == "numba"
        seed = np.uint64(self.seed) if numba_ else self.seed
        t0 = time.perf_counter()
        if p.activation == "sequential":
            fn = K.seq_steps_nb if numba_ else K.seq_steps_np
            acc = (self._planes, self._pm, self._cnt, self._cntb, self._rank, self._thr)
            fn(self.codes, *acc, *agents, *rules, seed, self.t, n, out, self._perm)
        else:
            fn = K.sim_steps_nb if numba_ else K.sim_steps_np
            fn(self.codes, *agents, *rules, seed, self.t, n, out, self._newst, self._target, self._claim)
        self.seconds += time.perf_counter() - t0
        self.t += n
        self._rows.append(out)
        return self

    def result(self) -> EpsteinResult:
        n = self.n_agents
        return EpsteinResult(
            params=self.params,
            model=self.model,
            seed=self.seed,
            backend=self.backend,
            agents=n,
            citizens=n - self.n_cops,
            cops=self.n_cops,
            steps=self.t,
            seconds=self.seconds,
            series=self.series,
        )


def run_model1(
    params: EpsteinParams | None = None, steps: int = 500, seed: int = 0, backend: str = "auto"
) -> EpsteinResult:
    """Run Epstein's Model I (rebellion against a central authority) for ``steps`` steps."""
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 0:
        raise UsageError(f"--steps: must be a non-negative integer (got {steps!r})")
    return EpsteinSim(params, model=1, seed=seed, backend=backend).step(int(steps)).result()


def run_model2(
    params: EpsteinParams | None = None, steps: int = 500, seed: int = 0, backend: str = "auto"
) -> EpsteinResult:
    """Run Epstein's Model II (two groups, actives kill the other group, cops as peacekeepers)."""
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 0:
        raise UsageError(f"--steps: must be a non-negative integer (got {steps!r})")
    return EpsteinSim(params, model=2, seed=seed, backend=backend).step(int(steps)).result()


# --------------------------------------------------------------------------
# Mesa's own example, for the equivalence test and the benchmark
# --------------------------------------------------------------------------


def load_mesa_model() -> type:
    """Return ``EpsteinCivilViolence`` from the installed Mesa's examples.

    ``mesa.examples/__init__.py`` imports every example, some of which need
    optional packages (networkx, ...).  We register the three parent packages
    as bare namespace modules so that only the Epstein example is imported,
    unchanged, from Mesa's own files.
    """
    import mesa  # noqa: PLC0415 - optional dependency (test/bench extras)

    root = os.path.join(os.path.dirname(mesa.__file__), "examples")
    chain = (
        ("mesa.examples", root),
        ("mesa.examples.advanced", os.path.join(root, "advanced")),
        (
            "mesa.examples.advanced.epstein_civil_violence",
            os.path.join(root, "advanced", "epstein_civil_violence"),
        ),
    )
    for name, path in chain:
        if name not in sys.modules:
            mod = types.ModuleType(name)
            mod.__path__ = [path]
            sys.modules[name] = mod
    from mesa.examples.advanced.epstein_civil_violence.model import EpsteinCivilViolence  # noqa: PLC0415

    return EpsteinCivilViolence


def mesa_series(seed: int, steps: int, **kwargs: Any) -> dict[str, list[int]]:
    """Run Mesa's own example for ``steps`` steps and return its per-step actives and jailed.

    ``kwargs`` are the example's constructor arguments (``cop_density``,
    ``legitimacy``, ``max_jail_term``, ...).  A module-level function so that
    it can run in worker processes.
    """
    model_cls = load_mesa_model()
    m = model_cls(seed=seed, max_iters=10**9, **kwargs)
    active: list[int] = []
    jailed: list[int] = []
    for _ in range(steps):
        m.step()
        active.append(int(m.ACTIVE))
        jailed.append(int(m.ARRESTED))
    return {"active": active, "jailed": jailed}
