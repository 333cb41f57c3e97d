"""The simulation object (:class:`EpsteinSim`) and the one-call runs :func:`run_model1`, :func:`run_model2`."""

from __future__ import annotations

import time

import numpy as np

from ...backend import resolve_backend
from ...errors import UsageError
from . import _jit
from .accel import build_accel, cnt_layout
from .codes import COP, KIND_A, KIND_B, KIND_COP, N_COLS, S_GROUP, S_HARD, S_PLACE, S_RISK, SERIES_COLUMNS
from .draws import stream_key, uniforms
from .grid import count_series_np, set_codes_np
from .params import EpsteinParams
from .result import EpsteinResult
from .rules import arrest_probability_table, half_widths, neighbourhood_size, probe_table
from .sequential import seq_steps_nb, seq_steps_np
from .simultaneous import sim_steps_nb, sim_steps_np
from .state import Config, SeqAccel, SimScratch, Tables, World

_WARM: set[str] = set()


def _warm_up(activation: str) -> None:
    """Compile (or load from numba's cache) the kernel outside any timed region."""
    if activation in _WARM:
        return
    _WARM.add(activation)
    p = EpsteinParams(width=9, height=9, vision=2, cop_vision=2, activation=activation)
    EpsteinSim(p, model=2, seed=0, backend="numba", _warm=False).step(1)
    EpsteinSim(p, model=1, seed=0, backend="numba", _warm=False).step(1)


def _backend(name: str) -> str:
    """``numba`` or ``numpy`` by :func:`shatterbelt.backend.resolve_backend`; errors name the flag."""
    try:
        backend = resolve_backend(name)
    except UsageError as err:
        raise UsageError(f"--{err}") from None
    if backend == "numba" and not _jit.HAVE_NUMBA:  # numba disabled when the kernels were imported
        raise UsageError("--backend: numba is not available (disabled by SHATTERBELT_NO_NUMBA)")
    return backend


def _place(p: EpsteinParams, model: int, seed: int) -> World:
    """The initial world: one uniform per cell places a citizen or a cop (as Mesa), then kinds and traits."""
    H, W = p.height, p.width
    pad = max(p.vision, p.cop_vision)
    Wp = W + 2 * pad
    ncell = H * W
    u = uniforms(stream_key(seed, S_PLACE, 0), np.arange(ncell))
    cd, kd = float(p.citizen_density), float(p.cop_density)
    is_cit = u < cd
    is_cop = (u >= cd) & (u < cd + kd)
    cells = np.flatnonzero(is_cit | is_cop)
    n = cells.size
    ids = np.arange(n)
    kind = np.where(is_cop[cells], KIND_COP, KIND_A).astype(np.int8)
    if model == 2:
        ug = uniforms(stream_key(seed, S_GROUP, 0), ids)
        kind = np.where(kind == KIND_COP, KIND_COP, np.where(ug < p.group_a_share, KIND_A, KIND_B))
    hard = uniforms(stream_key(seed, S_HARD, 0), ids)
    occ = np.full(ncell, -1, dtype=np.int32)
    occ[cells] = ids
    # one extra (dummy) row: the sequential kernel's branch-free halo writes land there
    codes = np.zeros((H + 2 * pad + 1) * Wp, dtype=np.int8)
    return World(
        codes=codes,
        occ=occ,
        pos=cells.astype(np.int32),
        kind=kind.astype(np.int8),
        state=np.zeros(n, dtype=np.int8),
        jail=np.zeros(n, dtype=np.int16),
        grv=(hard * (1.0 - float(p.legitimacy))).astype(np.float32),
        risk=uniforms(stream_key(seed, S_RISK, 0), ids).astype(np.float32),
    )


def _config(p: EpsteinParams, model: int) -> tuple[Config, Tables]:
    """The fixed part of a run: geometry and switches (scalars), and the rule tables."""
    pad = max(p.vision, p.cop_vision)
    Wp = p.width + 2 * pad
    hw = half_widths(p.neighbourhood, p.vision)
    hwc = half_widths(p.neighbourhood, p.cop_vision)
    ptab = arrest_probability_table(
        p.discretisation, p.arrest_constant, neighbourhood_size(p.neighbourhood, p.vision)
    )
    o, lanes, Wc = cnt_layout(p.width, pad, p.vision)
    cf = Config(
        H=p.height,
        W=p.width,
        pad=pad,
        Wp=Wp,
        nw=(Wp + 63) // 64 + 1,  # one spare word: a row segment may read the next word
        model2=model == 2,
        movement=bool(p.movement),
        jmax=p.max_jail,
        v=p.vision,
        vc=p.cop_vision,
        threshold=float(p.threshold),
        S=ptab.shape[1],
        lanes=lanes,
        o=o,
        Wc=Wc,
    )
    return cf, Tables(ptab=ptab, hw=hw, hwc=hwc, tab=probe_table(hw, Wp), tabc=probe_table(hwc, Wp))


class EpsteinSim:
    """A Model I or Model II world that can be stepped and inspected.

    The state is in the groups of :mod:`.state`: ``world`` (compact preallocated arrays:
    ``int8`` codes, kinds and states, ``int16`` jail terms, ``float32`` grievance and
    risk aversion, ``int32`` positions), ``config`` (geometry and switches), ``tables``
    (the rule tables) and the activation's structures: ``accel`` (sequential: the numba kernel's neighbourhood
    counts, bit planes and decision ranks) or ``scratch`` (simultaneous).  In the numba
    path a call of :meth:`step` allocates two scratch arrays of one and four bytes per
    agent, whatever the number of steps.
    """

    accel: SeqAccel
    scratch: SimScratch

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
        self.backend = _backend(backend)
        if self.backend == "numba" and _warm:
            _warm_up(p.activation)
        self.config, self.tables = cf, tb = _config(p, model)
        self.world = w = _place(p, model, self.seed)
        self.H, self.W, self.pad, self.Wp = cf.H, cf.W, cf.pad, cf.Wp
        set_codes_np(w.codes, cf, w.pos, np.where(w.kind == KIND_COP, COP, 2 * w.kind + 1))
        n = w.kind.size
        if p.activation == "sequential":
            self.accel = build_accel(w, cf, tb, self.backend == "numba")
        else:
            self.scratch = SimScratch(
                newst=np.zeros(n, dtype=np.int8),
                target=np.zeros(n, dtype=np.int64),
                claim=np.full(cf.H * cf.W, -1, dtype=np.int64),
            )
        self.t = 0
        self.seconds = 0.0
        first = np.zeros((1, N_COLS), dtype=np.int64)
        count_series_np(w.kind, w.state, first[0])
        self._rows: list[np.ndarray] = [first]

    # ---- inspection -------------------------------------------------------

    @property
    def codes(self) -> np.ndarray:
        """Cell codes of the padded grid (and its dummy row)."""
        return self.world.codes

    @property
    def occ(self) -> np.ndarray:
        """Agent index on each real cell, -1 for none."""
        return self.world.occ

    @property
    def pos(self) -> np.ndarray:
        """Real cell of each agent."""
        return self.world.pos

    @property
    def kind(self) -> np.ndarray:
        """Kind of each agent (cop, group A, group B)."""
        return self.world.kind

    @property
    def state(self) -> np.ndarray:
        """State of each agent (quiet, active, jailed, dead)."""
        return self.world.state

    @property
    def jail(self) -> np.ndarray:
        """Jail term left of each agent."""
        return self.world.jail

    @property
    def grv(self) -> np.ndarray:
        """Grievance of each agent."""
        return self.world.grv

    @property
    def risk(self) -> np.ndarray:
        """Risk aversion of each agent."""
        return self.world.risk

    @property
    def n_agents(self) -> int:
        """Number of agents (citizens and cops)."""
        return int(self.world.kind.size)

    @property
    def n_cops(self) -> int:
        """Number of cops."""
        return int(np.count_nonzero(self.world.kind == KIND_COP))

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
        """Per-step counts by column of :data:`.codes.SERIES_COLUMNS` (index 0: the initial state)."""
        tab = np.concatenate(self._rows, axis=0)
        return {name: tab[:, j].copy() for j, name in enumerate(SERIES_COLUMNS)}

    # ---- stepping ---------------------------------------------------------

    def step(self, n: int = 1) -> EpsteinSim:
        """Advance ``n`` steps; only this is timed (``self.seconds``)."""
        if n <= 0:
            return self
        out = np.zeros((n, N_COLS), dtype=np.int64)
        numba_ = self.backend == "numba"
        seed = np.uint64(self.seed) if numba_ else self.seed
        t0 = time.perf_counter()
        if self.params.activation == "sequential":
            fn = seq_steps_nb if numba_ else seq_steps_np
            fn(self.world, self.config, self.tables, self.accel, seed, self.t, n, out)
        else:
            fn = sim_steps_nb if numba_ else sim_steps_np
            fn(self.world, self.config, self.tables, self.scratch, seed, self.t, n, out)
        self.seconds += time.perf_counter() - t0
        self.t += n
        self._rows.append(out)
        return self

    def result(self) -> EpsteinResult:
        """The run so far as an :class:`EpsteinResult`."""
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


def run_model(
    params: EpsteinParams | None = None,
    model: int = 1,
    steps: int = 500,
    seed: int = 0,
    backend: str = "auto",
) -> EpsteinResult:
    """Run Model I or II for ``steps`` steps (the one place where ``steps`` is checked)."""
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 0:
        raise UsageError(f"--steps: must be a non-negative integer (got {steps!r})")
    return EpsteinSim(params, model=model, seed=seed, backend=backend).step(int(steps)).result()


def run_model1(
    params: EpsteinParams | None = None, steps: int = 500, seed: int = 0, backend: str = "auto"
) -> EpsteinResult:
    """Run Epstein's Model I (rebellion against a central authority) for ``steps`` steps."""
    return run_model(params, 1, steps, seed, backend)


def run_model2(
    params: EpsteinParams | None = None, steps: int = 500, seed: int = 0, backend: str = "auto"
) -> EpsteinResult:
    """Run Epstein's Model II (two groups, actives kill the other group, cops as peacekeepers)."""
    return run_model(params, 2, steps, seed, backend)
