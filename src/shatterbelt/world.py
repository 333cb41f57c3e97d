"""The world: the scenario turned into index arrays, the people, the census, and the state registry.

Modules never look names up at run time: communities, regions, blocs, actors
and patrons become integer indices here, once.  Per-person state lives in
:class:`~shatterbelt.population.People`; a census (kept exact as people change)
gives every count the mechanisms need.

The world holds no mechanism code and owns no mechanism state.  Each module
registers the state it owns with :meth:`World.define` (name, owner, initial
value, shape, dtype) and the month-log entries it writes with
:meth:`World.define_log`; registered state is then read as an attribute
(``world.cohesion``).  A field has one writer, its owner: in check mode
(:meth:`World.acting`, ``Simulation(check=True)``) every array owned by
another module is read-only while a module runs, and assigning another
module's field raises :class:`OwnershipError`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._fast import Kernels, census_counts
from .kernels import hop_distances
from .population import (
    CIV,
    DEAD,
    DETAINED,
    FIGHTER,
    NO_ACTOR,
    NSTATUS,
    People,
    build_blocks,
    cell_counts,
    foreign_pool_size,
)
from .rng import Streams
from .scenario.params import Param
from .scenario.schema import ActorKind, Scenario

KIND_CODES = {k: i for i, k in enumerate(ActorKind)}
_CHECK_CENSUS = os.environ.get("SHATTERBELT_CHECK_CENSUS", "").strip().lower() not in ("", "0", "false", "no")
MOTIVES = ("grievance", "fear", "pay", "legitimacy", "ideology")
#: the world's working arrays (census counts, index lists, scratch), which modules change through its methods
_WORLD_WORKING = frozenset({"_counts", "fighter_idx", "_scratch"})


class Index:
    """Bidirectional id <-> position map."""

    def __init__(self, ids: list[str]) -> None:
        self.ids = list(ids)
        self.pos = {x: i for i, x in enumerate(self.ids)}

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, x: str) -> int:
        return self.pos[x]

    def get(self, x: str | None, default: int = -1) -> int:
        return self.pos.get(x, default) if x is not None else default


@dataclass
class Census:
    """Counts in agents, indexed [status, actor+1, region, community, fighting_age, displaced]."""

    t: np.ndarray
    w: float

    def alive_rc(self) -> np.ndarray:
        return self.t[:DEAD].sum(axis=(0, 1, 4, 5))

    def civ_rc(self) -> np.ndarray:
        return self.t[CIV].sum(axis=(0, 3, 4))

    def fa_civ_rc(self) -> np.ndarray:
        return self.t[CIV, :, :, :, 1, :].sum(axis=(0, 3))

    def fighters_ar(self) -> np.ndarray:
        return self.t[FIGHTER, 1:].sum(axis=(2, 3, 4))

    def fighters_ac(self) -> np.ndarray:
        return self.t[FIGHTER, 1:].sum(axis=(1, 3, 4))

    def fighters_arc(self) -> np.ndarray:
        return self.t[FIGHTER, 1:].sum(axis=(3, 4))

    def detained_a(self) -> np.ndarray:
        return self.t[DETAINED, 1:].sum(axis=(1, 2, 3, 4))

    def displaced_rc(self) -> np.ndarray:
        return self.t[:DEAD, :, :, :, :, 1].sum(axis=(0, 1, 4))

    def dead(self) -> int:
        return int(self.t[DEAD].sum())

    def alive(self) -> int:
        return int(self.t[:DEAD].sum())


class OwnershipError(RuntimeError):
    """A module wrote state that another module owns (raised in check mode)."""


@dataclass(frozen=True)
class StateField:
    """One registered piece of state: its name, the module that owns (writes) it, and its layout."""

    name: str
    owner: str
    shape: tuple[int, ...] | None
    dtype: Any
    log: bool = False  # a month-log entry: zeroed at the start of every month


class MonthLog:
    """What happened this month: the entries modules registered with :meth:`World.define_log`, all zero
    at the start of the month; last month's log stays readable as ``world.prev_log``."""

    def __init__(self, fields: dict[str, StateField]) -> None:
        for f in fields.values():
            if f.log:
                setattr(self, f.name, np.zeros(f.shape, f.dtype))


class World:
    """Everything a run knows: static indices and parameters, the people and their census, and the
    registry of the state that modules own."""

    def __init__(self, scenario: Scenario, scale: float, seed: int, backend: str | None = None) -> None:
        if not (0 < scale <= 1):
            raise ValueError("scale must be in (0, 1]")
        object.__setattr__(self, "fields", {})  # name -> StateField, in registration order
        object.__setattr__(self, "_checking", False)
        object.__setattr__(self, "_active", "world")
        self.sc = scenario
        # per-person passes: numba kernels or NumPy (identical results), chosen once per run
        self.kernels = Kernels(backend)
        self.backend = self.kernels.name
        self.scale = float(scale)
        self.w = 1.0 / self.scale
        self.seed = int(seed)
        self.rng = Streams(seed)
        self.months = scenario.months()
        self.T = len(self.months)
        self.params: dict[str, dict[str, float]] = {
            m: {k: float(p.value) for k, p in d.items()} for m, d in scenario.parameters.items()
        }
        # the scenario's economy section (corruption, budget shares, ...): its one home at run time,
        # beside the modules' own parameters above; a timeline shock may change either
        self.economy: dict[str, float] = {k: float(p.value) for k, p in scenario.economy if isinstance(p, Param)}
        self.log: MonthLog = MonthLog({})
        self.prev_log: MonthLog | None = None

        self.comm = Index([c.id for c in scenario.communities])
        self.reg = Index([r.id for r in scenario.regions])
        self.bloc = Index([b.id for b in scenario.blocs])
        self.act = Index([a.id for a in scenario.actors])
        self.pat = Index([p.id for p in scenario.patrons])
        C, R, B, A, P = len(self.comm), len(self.reg), len(self.bloc), len(self.act), len(self.pat)
        self.C, self.R, self.B, self.A, self.P = C, R, B, A, P

        self._static_geography()
        self._static_actors()
        self._static_blocs_patrons()
        self._counts: np.ndarray | None = None  # live census counts, kept exact by :meth:`changing`
        self._new_fighters: list[np.ndarray] = []
        self.fighter_idx = np.zeros(0, np.int64)
        self._census: Census | None = None
        self._scratch: np.ndarray | None = None
        self.people = self._create_people()
        self.t_done = 0
        self.touched()

    # ------------------------------------------------------------------ state registry
    def define(
        self, owner: str, name: str, value: Any, shape: tuple[int, ...] | None = None, dtype: Any = None
    ) -> Any:
        """Register state ``name``, owned (written) by module ``owner``, and set its initial value.

        With ``shape``, an array ``np.full(shape, value, dtype)`` is allocated (``value`` may be an
        array that broadcasts); without, ``value`` is stored as given (a number, a flag, an object).
        Returns the stored value.
        """
        if name in self.fields or name in self.__dict__:
            who = self.fields[name].owner if name in self.fields else "the world"
            raise ValueError(f"state '{name}' of {owner} is already defined by {who}")
        if shape is not None:
            value = np.full(shape, value, dtype=dtype)
        self.fields[name] = StateField(name, owner, shape, None if shape is None else value.dtype)
        object.__setattr__(self, name, value)
        return value

    def define_log(self, owner: str, name: str, shape: tuple[int, ...], dtype: Any = np.float64) -> None:
        """Register a month-log entry ``world.log.<name>`` written by ``owner`` (zero at each month's start)."""
        if name in self.fields:
            raise ValueError(f"log entry '{name}' of {owner} is already defined by {self.fields[name].owner}")
        self.fields[name] = StateField(name, owner, tuple(shape), np.dtype(dtype), log=True)

    def owner_of(self, name: str) -> str:
        """The module that owns state ``name`` (``"world"`` for the world's own attributes)."""
        f = self.fields.get(name)
        return f.owner if f is not None else "world"

    def __setattr__(self, name: str, value: Any) -> None:
        if self._checking:
            f = self.fields.get(name)
            if f is not None and not f.log and f.owner != self._active:
                raise OwnershipError(f"{self._active} assigns '{name}', which {f.owner} owns")
        object.__setattr__(self, name, value)

    def check(self, on: bool = True) -> None:
        """Turn check mode on or off (see :meth:`acting`)."""
        object.__setattr__(self, "_checking", bool(on))
        if not on:
            self._lock(None)

    @contextmanager
    def _acting(self, owner: str) -> Iterator[None]:
        prev = self._active
        object.__setattr__(self, "_active", owner)
        self._lock(owner)
        try:
            yield
        finally:
            object.__setattr__(self, "_active", prev)
            self._lock(prev if prev != "world" else None)

    def acting(self, owner: str) -> Any:
        """Context in which module ``owner`` runs.

        In check mode, every registered array (state and month log) that ``owner`` does not own is
        read-only inside it, and assigning a field ``owner`` does not own raises
        :class:`OwnershipError`; otherwise it does nothing.
        """
        return self._acting(owner) if self._checking else nullcontext()

    def _lock(self, owner: str | None) -> None:
        """Make the arrays ``owner`` owns writable and every other registered array read-only, and the
        world's static arrays (the indices) read-only too; everything writable when ``owner`` is None."""
        for f in self.fields.values():
            v = getattr(self.log, f.name, None) if f.log else self.__dict__.get(f.name)
            if isinstance(v, np.ndarray):
                v.flags.writeable = owner is None or f.owner == owner
        for k, v in self.__dict__.items():
            if isinstance(v, np.ndarray) and k not in self.fields and k not in _WORLD_WORKING:
                v.flags.writeable = owner is None

    def new_month_log(self) -> None:
        """Start a month's log: every registered entry at zero (the month loop keeps the last as ``prev_log``)."""
        self.log = MonthLog(self.fields)
        if self._checking:
            self._lock(None if self._active == "world" else self._active)

    # ------------------------------------------------------------------ static
    def _static_geography(self) -> None:
        sc, R = self.sc, self.R
        self.region_names = [r.name for r in sc.regions]
        self.pop0 = np.array([r.population for r in sc.regions], np.float64)
        self.autonomous = np.array([r.autonomous for r in sc.regions], bool)
        self.adj = np.zeros((R, R), bool)
        for a, b in sc.adjacency:
            self.adj[self.reg[a], self.reg[b]] = self.adj[self.reg[b], self.reg[a]] = True
        self.hops = hop_distances(self.adj)
        self.shares0 = self._reconciled_shares()

    def _reconciled_shares(self) -> np.ndarray:
        """Per-region community shares after the documented reconciliation (``community_tilt``).

        tilt = 0 keeps each region's point estimate; tilt = 1 moves every region to
        the corner of its published ranges closest to the national reference shares
        (e.g. more Shia where the range allows it).  Intermediate values interpolate.
        """
        sc, C, R = self.sc, self.C, self.R
        point = np.zeros((R, C))
        for r, reg in enumerate(sc.regions):
            for c, s in reg.shares.items():
                point[r, self.comm[c]] = s
        point /= point.sum(axis=1, keepdims=True)
        tilt = float(sc.population.community_tilt.value)
        ref = sc.population.national_shares_reference
        if tilt <= 0 or not ref:
            return point
        corner = point.copy()
        pop = self.pop0
        nat = (point * pop[:, None]).sum(0) / pop.sum()
        for r, reg in enumerate(sc.regions):
            for c, (lo, hi) in reg.shares_range.items():
                ci = self.comm[c]
                want = ref.get(c, nat[ci])
                corner[r, ci] = hi if want > nat[ci] else lo
            s = corner[r].sum()
            corner[r] = corner[r] / s if s > 0 else point[r]
        out = (1 - tilt) * point + tilt * corner
        return out / out.sum(axis=1, keepdims=True)

    def _static_actors(self) -> None:
        sc, C, R, A = self.sc, self.C, self.R, self.A
        acts = sc.actors
        self.actor_names = [a.name for a in acts]
        self.kind = np.array([KIND_CODES[a.kind] for a in acts], np.int64)
        self.is_army = np.array([a.kind == ActorKind.state_army for a in acts], bool)
        self.is_police = np.array([a.kind == ActorKind.police for a in acts], bool)
        self.is_state = self.is_army | self.is_police
        self.is_foreign = np.array([a.kind == ActorKind.foreign_force for a in acts], bool)
        self.has_agents = ~self.is_foreign
        self.is_insurgency = np.array([a.kind == ActorKind.insurgency for a in acts], bool)
        self.outlaw = np.array([a.legal == "outlaw" for a in acts], bool)
        self.army_i = self.act[sc.army.actor]
        self.actor_comm = np.zeros((A, C))
        self.open_recruit = np.zeros(A, bool)
        for i, a in enumerate(acts):
            if a.community is None:
                self.open_recruit[i] = True
                self.actor_comm[i] = 1.0 / C
            else:
                for c, s in a.community.items():
                    self.actor_comm[i, self.comm[c]] = s
        self.parent = np.array([self.bloc.get(a.parent) for a in acts], np.int64)
        self.size0 = np.array([a.size.value for a in acts], np.float64)
        self.pay = np.array([a.pay.value for a in acts], np.float64)
        self.quality = np.array([a.quality.value for a in acts], np.float64)
        self.tempo = np.array([a.tempo.value if a.tempo else 1.0 for a in acts], np.float64)
        self.region_w = np.zeros((A, R))
        for i, a in enumerate(acts):
            for r, s in a.regions.items():
                self.region_w[i, self.reg[r]] = s
        self.recruits_in = np.zeros((A, R), bool)
        for i, a in enumerate(acts):
            if a.recruits_in is not None:
                for r in a.recruits_in:
                    self.recruits_in[i, self.reg[r]] = True
            else:
                self.recruits_in[i] = self.region_w[i] > 0
        self.spreads = np.array([a.spreads for a in acts], bool)
        self.hostile = np.zeros((A, A))
        self.hostile_civ = np.zeros((A, C))
        for i, a in enumerate(acts):
            for j, h in a.hostility.actors.items():
                self.hostile[i, self.act[j]] = h
            for c, h in a.hostility.communities.items():
                self.hostile_civ[i, self.comm[c]] = h
        # hostility is mutual for the purpose of danger: if i attacks j, j fights back
        self.danger = np.maximum(self.hostile, self.hostile.T)
        self.explosive_share = np.array([a.civilian_event_share_explosive for a in acts])
        self.motivation = np.zeros((A, len(MOTIVES)))
        for i, a in enumerate(acts):
            for m, v in a.motivation.items():
                self.motivation[i, MOTIVES.index(m)] = v
        f = [a.funding for a in acts]
        self.state_budget_share = np.array([x.state_budget_share.value if x.state_budget_share else 0.0 for x in f])
        self.regional_budget_share = np.array(
            [x.regional_budget_share.value if x.regional_budget_share else 0.0 for x in f]
        )
        self.pay_reliability0 = np.array([x.pay_reliability.value if x.pay_reliability else 1.0 for x in f])
        self.extortion = np.array([x.extortion_per_capita.value if x.extortion_per_capita else 0.0 for x in f])
        self.own_income = np.array([x.own_income.value if x.own_income else 0.0 for x in f])
        # control entities: 0 = the state (state forces and foreign forces while present);
        # then one per parent bloc of a non-state actor; then parentless non-state actors.
        ent_names = ["state"]
        ent_of_actor = np.zeros(A, np.int64)
        bloc_ent: dict[int, int] = {}
        for i, a in enumerate(acts):
            if self.is_state[i] or self.is_foreign[i]:
                ent_of_actor[i] = 0
            elif self.parent[i] >= 0:
                b = int(self.parent[i])
                if b not in bloc_ent:
                    bloc_ent[b] = len(ent_names)
                    ent_names.append(sc.blocs[b].id)
                ent_of_actor[i] = bloc_ent[b]
            else:
                ent_of_actor[i] = len(ent_names)
                ent_names.append(a.id)
        self.entities = Index(ent_names)
        self.E = len(ent_names)
        self.entity_of_actor = ent_of_actor
        self.entity_outlaw = np.zeros(self.E, bool)
        np.logical_or.at(self.entity_outlaw, ent_of_actor, self.outlaw)
        self.entity_outlaw[0] = False

    def _static_blocs_patrons(self) -> None:
        sc, B, P, C, A = self.sc, self.B, self.P, self.C, self.A
        self.bloc_names = [b.name for b in sc.blocs]
        self.bloc_comm = np.zeros((B, C))
        for i, b in enumerate(sc.blocs):
            for c, s in b.community.items():
                self.bloc_comm[i, self.comm[c]] = s
        self.armed_wing_share = np.array(
            [b.armed_wing_share.value if b.armed_wing_share else 0.0 for b in sc.blocs]
        )
        self.patron_names = [p.name for p in sc.patrons]
        self.patron_budget0 = np.array([p.budget.value for p in sc.patrons])
        self.patron_lean = np.array(
            [p.leans_in_as_us_leaves.value if p.leans_in_as_us_leaves else 0.0 for p in sc.patrons]
        )
        self.patron_excl = np.zeros((P, C))
        for i, p in enumerate(sc.patrons):
            for c, v in p.follows_exclusion.items():
                self.patron_excl[i, self.comm[c]] = v.value
        # clients: actors (first A columns) and blocs (next B columns)
        self.client_of = np.zeros((P, A + B), bool)
        self.objective = np.zeros((P, A + B))
        for i, p in enumerate(sc.patrons):
            for cl in p.clients:
                j = self.act.get(cl)
                j = j if j >= 0 else A + self.bloc[cl]
                self.client_of[i, j] = True
                self.objective[i, j] = 1.0
            for cl, v in p.objectives.items():
                j = self.act.get(cl)
                j = j if j >= 0 else A + self.bloc[cl]
                self.objective[i, j] = v

    # ------------------------------------------------------------------ people
    def _create_people(self) -> People:
        sc, R, C = self.sc, self.R, self.C
        counts = cell_counts(self.pop0, self.shares0, self.scale)
        self.cell_n0 = counts
        starts, total = build_blocks(counts)
        self.block_start = starts
        N = int(total[0])
        kern = self.kernels
        # foreign fighters: slots reserved after the residents, activated by mobilization as they arrive
        wars = [float(e.intensity) for e in sc.timeline if getattr(e, "type", None) == "regional_war"]
        pool = foreign_pool_size(self.params.get("mobilization", {}).get("foreign_inflow", 0.0), max(wars, default=0.0), self.T, self.scale)
        ppl = People.allocate(N, pool)
        # agents are laid out by (region, community) blocks: fill each block (no N-sized temporaries)
        for r in range(R):
            for c in range(C):
                s = int(starts[r, c])
                e = s + int(counts[r, c])
                ppl.region[s:e] = r
                ppl.origin[s:e] = r
                ppl.community[s:e] = c
        fa = float(sc.population.fighting_age_share.value)
        kern.fill_uniforms_below(self.rng.key("init.fighting_age", 0), fa, ppl.fighting_age)
        kern.fill_uniforms_f32(self.rng.key("init.hardship", 0), ppl.hardship)
        kern.fill_uniforms_f32(self.rng.key("init.risk", 0), ppl.risk)
        self._init_displaced(ppl, counts)
        return ppl

    def _init_displaced(self, ppl: People, counts: np.ndarray) -> None:
        """Mark the displaced at the start, spread over mixed regions (where 2006-07's unmixing happened).

        Governorates are the model's smallest unit, so displacement *within* a governorate
        (most of Baghdad's) keeps origin == region; it still counts as displaced.
        """
        n_disp = float(self.sc.population.initial_displaced.value) * self.scale
        if n_disp <= 0:
            return
        shares = counts / np.maximum(counts.sum(1, keepdims=True), 1)
        mixed = 1.0 - (shares**2).sum(1)
        weight = counts * mixed[:, None]
        p = np.where(counts > 0, n_disp * weight / max(weight.sum(), 1e-12) / np.maximum(counts, 1), 0.0)
        p = np.clip(p, 0, 0.9)
        # people are still in their (region, community) blocks: one threshold per block
        key = self.rng.key("init.displaced", 0)
        for r, c in zip(*np.nonzero(p > 0), strict=True):
            s = int(self.block_start[r, c])
            e = s + int(counts[r, c])
            ppl.displaced[s:e] = self.kernels.agent_uniforms(key, np.arange(s, e)) < p[r, c]
        hard = float(self.sc.population.displaced_hardship.value)
        ppl.hardship[ppl.displaced] = np.minimum(1.0, ppl.hardship[ppl.displaced] + hard)

    def census(self) -> Census:
        """Counts by status x actor x region x community x fighting age x displaced (cached).

        The counts are kept exact as people change (:meth:`changing`), so a census is a
        copy of a few thousand integers, not a pass over the people; only after
        :meth:`touched` (a change made without :meth:`changing`) are they recounted.  The
        snapshot (and ``fighter_idx``) is refreshed at the first call after
        :meth:`changed` or :meth:`touched`, as a recount would be.
        """
        if self._census is None:
            p = self.people
            A1, R, C = self.A + 1, self.R, self.C
            if self._counts is None:
                self._counts = self.kernels.census_counts(p, A1, R, C)
                self.fighter_idx = self.kernels.where_eq(p.status, FIGHTER)
                self._new_fighters = []
            else:
                self._refresh_fighter_idx()
                if _CHECK_CENSUS:
                    self._check_census()
            self._census = Census(self._counts.reshape(NSTATUS, A1, R, C, 2, 2).copy(), self.w)
        return self._census

    def live_count(self, status: int) -> int | None:
        """Agents with ``status`` now, from the maintained counts (None after :meth:`touched`)."""
        if self._counts is None:
            return None
        return int(self._counts.reshape(NSTATUS, -1)[status].sum())

    def scratch8(self) -> np.ndarray:
        """A preallocated int8 per person for the kernels' intermediate flags (allocated once)."""
        if self._scratch is None:
            n = self.people.n
            self._scratch = np.zeros((n + 7) // 8 * 8, np.int8)  # padded to whole uint64 words, tail stays 0
        return self._scratch[: self.people.n]

    def flagged(self, bit: int) -> np.ndarray:
        """Sorted agents whose scratch flag has ``bit`` (after a kernel wrote the flags)."""
        self.scratch8()
        return self.kernels.compact_flags(self._scratch, self.people.n, bit)

    def touched(self) -> None:
        """Mark people as changed in any way: the next census recounts everyone."""
        self._census = None
        self._counts = None
        self._new_fighters = []

    def changed(self) -> None:
        """Mark people as changed through :meth:`changing`: the next census takes a new snapshot."""
        self._census = None

    @contextmanager
    def changing(self, idx: np.ndarray) -> Iterator[None]:
        """Wrap a change of the status, actor, region or displaced flag of agents ``idx`` (no duplicates).

        Their census cells are taken out before and put back after the change, so the
        counts stay exact at a cost proportional to ``idx``; new fighters are noted for
        ``fighter_idx``.  Call :meth:`changed` when the module is done.
        """
        live = self._counts is not None and len(idx) > 0
        if live:
            self._counts -= np.bincount(self._census_keys(idx), minlength=self._counts.size)
        yield
        if live and self._counts is not None:
            self._counts += np.bincount(self._census_keys(idx), minlength=self._counts.size)
            f = idx[self.people.status[idx] == FIGHTER]
            if f.size:
                self._new_fighters.append(np.asarray(f, np.int64))

    def _census_keys(self, idx: np.ndarray) -> np.ndarray:
        p = self.people
        key = p.status[idx].astype(np.int64) * (self.A + 1) + (p.actor[idx].astype(np.int64) + 1)
        key = (key * self.R + p.region[idx]) * self.C + p.community[idx]
        return (key * 2 + p.fighting_age[idx]) * 2 + p.displaced[idx]

    def _refresh_fighter_idx(self) -> None:
        """``fighter_idx`` = sorted indices of fighters now: the last ones still fighting plus new ones."""
        self.fighter_idx = self.current_fighters()
        self._new_fighters = []

    def current_fighters(self) -> np.ndarray:
        """Sorted indices of the fighters now (``flatnonzero(status == FIGHTER)``), leaving ``fighter_idx``,
        which modules read as of the last census, alone."""
        st = self.people.status
        if self._counts is None:
            return self.kernels.where_eq(st, FIGHTER)
        old = self.fighter_idx
        kept = old[st[old] == FIGHTER]
        if self._new_fighters:
            new = np.unique(np.concatenate(self._new_fighters))
            new = new[st[new] == FIGHTER]
            pos = np.searchsorted(kept, new)
            dup = np.zeros(new.size, bool)
            if kept.size:
                dup = kept[np.minimum(pos, kept.size - 1)] == new
            kept = np.insert(kept, pos[~dup], new[~dup])
        return kept

    def _check_census(self) -> None:
        """Debug (``SHATTERBELT_CHECK_CENSUS=1``): the maintained counts equal a full recount."""
        p = self.people
        full = census_counts(False, p, self.A + 1, self.R, self.C)
        if not np.array_equal(full, self._counts):
            raise AssertionError("census: maintained counts differ from a recount (a change bypassed World.changing)")
        if not np.array_equal(self.fighter_idx, np.flatnonzero(p.status == FIGHTER)):
            raise AssertionError("census: fighter_idx differs from the fighters")

    def gen(self, name: str, t: int) -> np.random.Generator:
        """The aggregate-level random generator of decision ``name`` in month ``t``."""
        return self.rng.generator(name, t)

    def days_in_month(self, t: int) -> int:
        d = self.month_date(t)
        return calendar.monthrange(d.year, d.month)[1]

    # convenience
    def persons(self, agents: Any) -> Any:
        return np.asarray(agents) * self.w

    def month_date(self, t: int) -> dt.date:
        y, m = map(int, self.months[t].split("-"))
        return dt.date(y, m, 1)


__all__ = [
    "CIV", "DEAD", "DETAINED", "FIGHTER", "NO_ACTOR", "Census", "Index", "MonthLog", "OwnershipError",
    "StateField", "World",
]
