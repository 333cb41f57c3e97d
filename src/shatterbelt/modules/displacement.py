"""Step 9 - Displacement: threatened minorities move to where their community is the majority.

Civilians of community c in region r move in a month with probability

    p = p_max (1 - exp(-gain x minority_rc^kappa x exposure_rc))

where minority_rc = 1 - c's share of r's people, and exposure_rc = fear[r, c]
plus the control share of actors hostile to c (Weidmann & Salehyan 2013: the
threatened migrate to co-sect areas).  They go to the nearest region (fewest
borders crossed, then the largest community there) where c is the majority and
no hostile actor dominates; if none exists, the least exposed region within two
borders.  The displaced return home, slowly, where fear has ebbed and the state
holds.  Displacement moves people and never creates them.
"""

from __future__ import annotations

import numpy as np

from ..scenario.params import Param
from ..world import World
from . import displacement_kernels as dk
from .base import Module
from .record import MonthRecord


class Displacement(Module):
    name = "displacement"
    title = "Displacement to co-community regions"
    PARAMS = {
        "p_max": Param(domain="probability", value=0.01, range=(0.002, 0.05), source="assumption", note="largest monthly probability of fleeing"),
        "gain": Param(domain="non-negative number", value=1.0, range=(0.3, 3.0), source="assumption"),
        "kappa": Param(domain="non-negative number", value=1.0, range=(0.5, 2.0), source="assumption"),
        "return_rate": Param(domain="probability", value=0.01, range=(0.0, 0.03), source="assumption", note="monthly return probability where it is safe"),
    }
    STATE = ("displaced_new_rc", "returned_rc")
    READS = ("fear", "control")
    RESULTS = (("national", "new_displaced"), ("national", "returned"))

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.k_moves = world.kernels.pick(dk.moves_numpy, dk.moves_numba)

    def define_states(self) -> None:
        w = self.world
        self.define_log("displaced_new_rc", (w.R, w.C))  # persons who fled this month, by origin cell
        self.define_log("returned_rc", (w.R, w.C))  # persons who went home this month

    def record(self, t: int, out: MonthRecord) -> None:
        lg = self.world.log
        out.nat["new_displaced"] = lg.displaced_new_rc.sum()
        out.nat["returned"] = lg.returned_rc.sum()

    def step(self, t: int) -> None:
        w, p = self.world, self.p
        ppl = w.people
        cen = w.census()
        alive = cen.alive_rc().astype(np.float64)
        share = alive / np.maximum(alive.sum(1, keepdims=True), 1.0)
        minority = 1.0 - share
        hostile_ctrl = self._hostile_control()  # R x C
        exposure = w.fear + hostile_ctrl
        prob = p["p_max"] * (1.0 - np.exp(-p["gain"] * minority ** p["kappa"] * exposure))
        dest = self._destinations(share, hostile_ctrl)
        prob[dest == np.arange(w.R)[:, None]] = 0.0
        hard = float(w.sc.population.displaced_hardship.value)
        do_ret = p["return_rate"] > 0
        thr = np.ascontiguousarray(self._return_threshold(hostile_ctrl)) if do_ret else np.zeros((w.R, w.C))
        # who flees and who returns (a person who fled may return in the same month)
        mv, back = self.k_moves(
            ppl.status, ppl.region, ppl.community, ppl.origin, ppl.displaced, w.C, np.ascontiguousarray(prob.reshape(-1)),
            w.rng.key("displacement.flee", t), thr, do_ret, w.rng.key("displacement.return", t), w.scratch8(), w.flagged,
        )
        if mv.size:
            self._flee(mv, dest, hard)
        if back.size:
            self._return(back)
        w.changed()

    def _return_threshold(self, hostile_ctrl: np.ndarray) -> np.ndarray:
        """thr[o, c]: the displaced of community c from o go home when their uniform is below it."""
        w, p = self.world, self.p
        safe = (1.0 - w.fear) * (w.control[0][:, None] > 0.5) * (hostile_ctrl < 0.1)
        return p["return_rate"] * safe

    def _flee(self, mv: np.ndarray, dest: np.ndarray, hard: float) -> None:
        w = self.world
        ppl = w.people
        r0 = ppl.region[mv].astype(np.int64)
        c0 = ppl.community[mv].astype(np.int64)
        np.add.at(w.log.displaced_new_rc, (r0, c0), w.w)
        with w.changing(mv):
            ppl.region[mv] = dest[r0, c0].astype(np.int8)
            ppl.displaced[mv] = True
        ppl.hardship[mv] = np.minimum(1.0, ppl.hardship[mv] + hard).astype(np.float32)

    def _return(self, back: np.ndarray) -> None:
        w = self.world
        ppl = w.people
        np.add.at(w.log.returned_rc, (ppl.origin[back].astype(np.int64), ppl.community[back].astype(np.int64)), w.w)
        with w.changing(back):
            ppl.region[back] = ppl.origin[back]
            ppl.displaced[back] = False

    def _hostile_control(self) -> np.ndarray:
        """Control share in r of entities whose actors are hostile to community c (R x C)."""
        w = self.world
        ent_h = np.zeros((w.E, w.C))
        np.maximum.at(ent_h, w.entity_of_actor, w.hostile_civ)
        return np.clip(w.control.T @ ent_h, 0.0, 1.0)

    def _destinations(self, share: np.ndarray, hostile_ctrl: np.ndarray) -> np.ndarray:
        """dest[r, c]: where c's civilians in r flee (r itself if nowhere is better)."""
        w = self.world
        R, C = w.R, w.C
        dest = np.tile(np.arange(R)[:, None], (1, C))
        pop = w.census().alive_rc().astype(np.float64)
        for c in range(C):
            ok = (share[:, c] > 0.5) & (hostile_ctrl[:, c] < 0.2)
            for r in range(R):
                if ok[r]:
                    continue
                if ok.any():
                    hops = np.where(ok, w.hops[r], 10**6)
                    best = np.flatnonzero(hops == hops.min())
                    dest[r, c] = best[np.argmax(pop[best, c])]
                else:
                    near = np.flatnonzero(w.hops[r] <= 2)
                    expo = w.fear[near, c] + hostile_ctrl[near, c]
                    cand = near[np.argmin(expo)]
                    if expo.min() < w.fear[r, c] + hostile_ctrl[r, c]:
                        dest[r, c] = cand
        return dest
