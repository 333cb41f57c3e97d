"""Step 10 - Control of each region by contest function, and the microstate count.

Entities contest each region: the state (its army, police and any foreign force
while present), each bloc that has an armed wing, and each armed actor with no
parent entity.  An entity's strength is the sum of its actors' effective
strengths.  The state's is discounted by infiltration: soldiers and police who
answer to an entity whose armed wing is present in the region do not fight it
(``infiltration_discount`` of their share).  Control shares are
S_e^gamma / sum_e S_e^gamma (Tullock / Hirshleifer contest).

A *microstate* is a connected set of regions (over the adjacency graph) each
dominated by the same non-state entity with at least ``dominance`` of control.
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


class Control(Module):
    name = "control"
    title = "Control by contest function; microstates"
    PARAMS = {
        "gamma": Param(domain="positive number", value=1.5, range=(1.0, 3.0), source="assumption", note="decisiveness of the contest function"),
        "dominance": Param(domain="share", value=0.5, range=(0.4, 0.7), source="assumption", note="control share for a region to count as dominated"),
        "infiltration_discount": Param(domain="unit weight", value=0.8, range=(0.3, 1.0), source="seed claim", note="S3: the army 'breached by militias'"),
    }
    STATE = ("strength", "entity_strength", "foreign_r", "control", "dominant", "microstates")
    READS = STRENGTH_READS
    RESULTS = (
        ("regional", "foreign_troops"), ("regional", "dominant_share"), ("regional", "control_{entity}"),
        ("national", "microstates"),
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
        self.define("dominant", 0, (w.R,), np.int64)
        self.define("microstates", 0)

    def init_pre(self) -> None:
        """Strength and foreign deployment of the starting forces, for the modules' ``init``."""
        w = self.world
        w.strength = compute_strength(w)
        w.foreign_r = foreign_deployment(w).sum(0)

    def init(self) -> None:
        self.update(first=True)

    def step(self, t: int) -> None:
        self.update()

    def entity_strengths(self, S: np.ndarray) -> np.ndarray:
        """Strength of every entity in every region, the state's discounted by infiltration."""
        w, p = self.world, self.p
        E = np.zeros((w.E, w.R))
        np.add.at(E, w.entity_of_actor, S)
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

    def update(self, first: bool = False) -> None:
        w, p = self.world, self.p
        S = compute_strength(w)
        E = self.entity_strengths(S)
        w.strength = S
        w.foreign_r = foreign_deployment(w).sum(0)
        Eg = E ** p["gamma"]
        tot = Eg.sum(0)
        ctrl = np.where(tot > 0, Eg / np.maximum(tot, 1e-300), 0.0)
        ctrl[0, tot <= 0] = 1.0
        w.entity_strength = E
        w.control = ctrl
        w.dominant = np.argmax(ctrl, axis=0)
        n = 0
        dom_share = ctrl[w.dominant, np.arange(w.R)]
        for e in range(1, w.E):
            members = (w.dominant == e) & (dom_share >= p["dominance"])
            n += connected_components(w.adj, members)
        w.microstates = n

    def record(self, t: int, out: MonthRecord) -> None:
        w = self.world
        out.reg["foreign_troops"] = w.foreign_r
        out.reg["dominant_share"] = w.control[w.dominant, np.arange(w.R)]
        for ei, e in enumerate(w.entities.ids):
            out.reg[f"control_{e}"] = w.control[ei]
        out.nat["microstates"] = w.microstates
