"""Step 10 - Control of each region: support shares, a controller contested only by its enemies, microstates.

Entities contest each region: the state (its army, police and any foreign force
while present), each bloc that has an armed wing, and each armed actor with no
parent entity.  An entity's strength is the sum of its actors' effective
strengths; an *auxiliary* (a non-state actor on the state's payroll, such as the
Sons of Iraq) lends its strength to the state while it is paid (paid share at
least ``aux_paid_min``).  The state's strength is discounted by infiltration:
soldiers and police who answer to an entity whose armed wing is present in the
region do not fight it (``infiltration_discount`` of their share).

Influence (support share, after JPL's Athena control model) is
S_e^gamma / sum_e S_e^gamma.  Each region has a controller (or none: contested,
Athena's "chaos").  Control is contested only between hostile entities (any
hostility between their actors, either way): the controller loses the region
when the entities hostile to it together reach ``dominance`` of the influence --
to the strongest of them if it alone reaches ``dominance``, else to no one; a
region without a controller goes to an entity that reaches ``dominance``.  An
entity not hostile to the controller never takes a region from it: allies'
influence counts with the controller in the published control shares.  Every
change of controller is an event (ACLED: "Non-state actor overtakes territory"
or "Government regains territory"), and a non-state taker loots the region
(``loot_per_capita``, paid to its actors' cash by the economy next month).

A *microstate* is a connected set of regions (over the adjacency graph) held by
the same non-state entity.
"""

from __future__ import annotations

import numpy as np

from ..kernels import connected_components
from ..scenario.params import Param
from ..world import World
from . import control_kernels as ck
from .base import Module
from .record import MonthRecord
from .strength import STRENGTH_READS, compute_strength, foreign_deployment
from .violence import BATTLE, SUB_GOV_REGAINS, SUB_OVERTAKES, EventBuffer


class Control(Module):
    name = "control"
    title = "Control by contest function; microstates"
    PARAMS = {
        "gamma": Param(domain="positive number", value=1.5, range=(1.0, 3.0), source="assumption", note="decisiveness of the contest function"),
        "dominance": Param(domain="share", value=0.5, range=(0.4, 0.7), source="assumption", note="influence (support share) needed to take or hold a region against hostile entities (Athena's control threshold)"),
        "infiltration_discount": Param(domain="unit weight", value=0.8, range=(0.3, 1.0), source="seed claim", note="S3: the army 'breached by militias'"),
        "aux_paid_min": Param(domain="share", value=0.75, range=(0.5, 1.0), source="assumption", note="paid share at which an auxiliary on the state payroll counts with the state"),
        "loot_per_capita": Param(domain="money", value=2.0, range=(0.0, 10.0), source="assumption", note="USD per resident a non-state entity loots from a region it takes (banks, arms, stores)"),
    }
    STATE = (
        "strength", "entity_strength", "foreign_r", "control", "support", "controller", "dominant", "microstates",
        "control_changes", "control_events", "looted",
    )
    READS = (*STRENGTH_READS, "paid_frac", "active_a")
    RESULTS = (
        ("regional", "foreign_troops"), ("regional", "dominant_share"), ("regional", "control_{entity}"),
        ("national", "microstates"), ("national", "contested_regions"), ("national", "control_changes"),
    )

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.k_infiltration = world.kernels.pick(ck.infiltration_counts_numpy, ck.infiltration_counts_numba)

    def define_states(self) -> None:
        w = self.world
        self.define("strength", 0.0, (w.A, w.R))  # the month's final strength (after this step)
        self.define("entity_strength", 0.0, (w.E, w.R))
        self.define("foreign_r", 0.0, (w.R,))  # foreign troops by region (persons)
        ctrl = np.zeros((w.E, w.R))
        ctrl[0] = 1.0
        self.define("control", ctrl, (w.E, w.R))
        self.define("support", ctrl.copy(), (w.E, w.R))  # influence (support shares) before alliances
        self.define("controller", 0, (w.R,), np.int64)  # entity holding each region, -1: contested
        self.define("dominant", 0, (w.R,), np.int64)
        self.define("microstates", 0)
        self.define("control_changes", [])  # (region, month, from entity or None, to entity or None)
        self.define("control_events", EventBuffer())
        self.define("looted", 0.0, (w.A,))  # USD looted this month by each actor (its cash next month)
        # entities hostile to each other: any hostility between their actors, either way
        eh = np.zeros((w.E, w.E))
        np.maximum.at(eh, (w.entity_of_actor[:, None], w.entity_of_actor[None, :]), w.danger)
        self.ent_hostile = (eh > 0) & ~np.eye(w.E, dtype=bool)
        # auxiliaries: non-state actors on the state's payroll
        self.auxiliary = (w.state_budget_share > 0) & (w.entity_of_actor != 0) & ~self.ent_hostile[0, w.entity_of_actor]

    def init_pre(self) -> None:
        """Strength and foreign deployment of the starting forces, for the modules' ``init``."""
        w = self.world
        w.strength = compute_strength(w)
        w.foreign_r = foreign_deployment(w).sum(0)

    def init(self) -> None:
        self.update(first=True)

    def step(self, t: int) -> None:
        self.update(t=t)

    def entity_strengths(self, S: np.ndarray) -> np.ndarray:
        """Strength of every entity in every region, the state's discounted by infiltration."""
        w, p = self.world, self.p
        E = np.zeros((w.E, w.R))
        ent = w.entity_of_actor.copy()
        ent[self.auxiliary & (w.paid_frac >= p["aux_paid_min"])] = 0  # paid auxiliaries fight for the state
        np.add.at(E, ent, S)
        # infiltration: state members answering to an entity with an armed wing present here
        ppl = w.people
        fidx = w.fighter_idx
        if fidx.size:
            tot_i, bad_i = self.k_infiltration(
                fidx, ppl.status, ppl.actor, ppl.allegiance, ppl.region, w.is_state, self._armed_wings(S), w.R
            )
            if tot_i.sum():
                tot, bad = tot_i.astype(np.float64), bad_i.astype(np.float64)
                frac = np.where(tot > 0, bad / np.maximum(tot, 1.0), 0.0)
                state_members = S[w.is_state].sum(0)
                E[0] -= p["infiltration_discount"] * frac * state_members
        return np.maximum(E, 0.0)

    def _armed_wings(self, S: np.ndarray) -> np.ndarray:
        """armed_b[b, r]: bloc b has an armed wing with strength in region r."""
        w = self.world
        armed_b = np.zeros((w.B, w.R), bool)
        for a in np.flatnonzero(w.parent >= 0):
            armed_b[w.parent[a]] |= S[a] > 0
        return armed_b

    def update(self, first: bool = False, t: int = -1) -> None:
        w, p = self.world, self.p
        S = compute_strength(w)
        E = self.entity_strengths(S)
        w.strength = S
        w.foreign_r = foreign_deployment(w).sum(0)
        Eg = E ** p["gamma"]
        tot = Eg.sum(0)
        inf = np.where(tot > 0, Eg / np.maximum(tot, 1e-300), 0.0)
        inf[0, tot <= 0] = 1.0
        w.entity_strength = E
        w.support = inf
        thr = p["dominance"]
        top = np.argmax(inf, axis=0)
        if first:
            new = np.where(inf[top, np.arange(w.R)] >= thr, top, -1)
        else:
            new = w.controller.copy()
            for r in range(w.R):
                c = int(new[r])
                if c < 0:
                    if inf[top[r], r] >= thr:
                        new[r] = top[r]
                    continue
                foes = np.flatnonzero(self.ent_hostile[c])
                if foes.size == 0 or inf[foes, r].sum() < thr:
                    continue
                j = foes[np.argmax(inf[foes, r])]
                new[r] = j if inf[j, r] >= thr else -1
        if not first:
            self._changes(t, w.controller, new)
        w.controller = new
        # published shares: allies' influence counts with the controller
        ctrl = inf.copy()
        for r in np.flatnonzero(new >= 0):
            c = int(new[r])
            allies = ~self.ent_hostile[c]
            allies[c] = False
            ctrl[c, r] += ctrl[allies, r].sum()
            ctrl[allies, r] = 0.0
        w.control = ctrl
        w.dominant = np.where(new >= 0, new, top)
        n = 0
        for e in range(1, w.E):
            n += connected_components(w.adj, new == e)
        w.microstates = n

    def _changes(self, t: int, old: np.ndarray, new: np.ndarray) -> None:
        """Record every change of controller as an event; a non-state taker loots the region."""
        w, p = self.world, self.p
        w.looted = np.zeros(w.A)
        moved = np.flatnonzero(old != new)
        if moved.size == 0:
            return
        ids = w.entities.ids
        S = w.strength
        pop = w.census().civ_rc().sum(1).astype(np.float64) * w.w
        a1, a2, rr = [], [], []
        for r in moved:
            o, n = int(old[r]), int(new[r])
            w.control_changes.append((w.reg.ids[r], w.months[t], ids[o] if o >= 0 else None, ids[n] if n >= 0 else None))
            if n < 0:
                continue
            acts = np.flatnonzero(w.entity_of_actor == n)
            taker = acts[np.argmax(S[acts, r])]
            loser = -1
            if o >= 0:
                lacts = np.flatnonzero(w.entity_of_actor == o)
                loser = lacts[np.argmax(S[lacts, r])]
                if not w.active_a[loser]:
                    loser = -1  # a dissolved actor does not fight for what it held: no opponent named
            a1.append(taker)
            a2.append(loser if loser >= 0 else taker)
            rr.append(r)
            if n != 0:
                w.looted[taker] += p["loot_per_capita"] * pop[r]
        if rr:
            k = len(rr)
            takers = np.array(a1, np.int64)
            w.control_events.add(
                month=np.full(k, t), day=np.full(k, 1), etype=np.full(k, BATTLE),
                sub=np.where(w.entity_of_actor[takers] == 0, SUB_GOV_REGAINS, SUB_OVERTAKES), actor1=takers,
                actor2=np.array(a2, np.int64), region=np.array(rr, np.int64), fatalities=np.zeros(k, np.int64),
                civ=np.zeros(k, bool),
            )

    def record(self, t: int, out: MonthRecord) -> None:
        w = self.world
        out.reg["foreign_troops"] = w.foreign_r
        out.reg["dominant_share"] = w.control[w.dominant, np.arange(w.R)]
        for ei, e in enumerate(w.entities.ids):
            out.reg[f"control_{e}"] = w.control[ei]
        out.nat["microstates"] = w.microstates
        out.nat["contested_regions"] = float((w.controller < 0).sum())
        out.nat["control_changes"] = float(sum(1 for c in w.control_changes if c[1] == w.months[t]))
