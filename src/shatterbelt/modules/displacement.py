"""Step 9 - Displacement: flight from violence and from a new controller one has reason to fear.

Civilians of community c in region r move in a month with probability

    p = 1 - (1 - p_v) (1 - p_c)
    p_v = p_max (1 - exp(-gain x minority_rc^kappa x exposure_rc))     (violence)
    p_c = min(1, p_change x shock_rc)                                  (change of control)

where minority_rc = 1 - c's share of r's people, exposure_rc = fear[r, c] plus the
control share of entities hostile to c (Weidmann & Salehyan 2013: the threatened
migrate to co-sect areas), and shock_rc a memory (decaying by ``shock_decay`` a
month) of r passing to a controller hostile to c: when control changes, armed groups
target whole communities they see as disloyal, so any community with reason to fear the
new controller flees, a majority included (Steele 2017).  They go to the nearest region
(fewest borders crossed, then the largest community there) where c is the majority and
no hostile actor dominates; if none exists, the least exposed region within two
borders.  The displaced return home, slowly, only where it is safe: fear has ebbed, the
state holds, no hostile entity has a share, and the controller is not hostile to them.
People displaced before the start (2.8 million in 2010, many since 2006 or before) are
kept apart: they do not return by this rule, and flows are counted without them.
Displacement moves people and never creates them.
"""

from __future__ import annotations

import numpy as np

from ..population import DEAD
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
        "p_change": Param(domain="probability", value=0.15, range=(0.0, 0.4), source="assumption", note="monthly flight probability of a community right after its region passes to a controller hostile to it (Steele 2017)"),
        "shock_decay": Param(domain="unit weight", value=0.5, range=(0.2, 0.8), source="assumption", note="monthly retention of the shock of a hostile change of control"),
    }
    STATE = ("displaced_new_rc", "returned_rc", "prestart", "shock", "seen_controller")
    READS = ("fear", "control", "controller")
    RESULTS = (("national", "new_displaced"), ("national", "returned"), ("national", "displaced_since_start"))

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.k_moves = world.kernels.pick(dk.moves_numpy, dk.moves_numba)

    def define_states(self) -> None:
        w = self.world
        self.define_log("displaced_new_rc", (w.R, w.C))  # persons who fled this month, by origin cell
        self.define_log("returned_rc", (w.R, w.C))  # persons who went home this month
        self.define("prestart", w.people.displaced.copy(), (w.people.displaced.size,), bool)  # displaced before the start
        self.prestart_idx = np.flatnonzero(w.prestart)  # (the set only shrinks: those who flee again leave it)
        self.define("shock", 0.0, (w.R, w.C))  # memory of a change of control to an entity hostile to c
        self.define("seen_controller", -2, (w.R,), np.int64)  # the controller at the last step (-2: not seen yet)

    def record(self, t: int, out: MonthRecord) -> None:
        lg = self.world.log
        out.nat["new_displaced"] = lg.displaced_new_rc.sum()
        out.nat["returned"] = lg.returned_rc.sum()
        w = self.world
        idx = self.prestart_idx
        still = int((w.prestart[idx] & (w.people.status[idx] < DEAD)).sum())  # pre-start displaced, alive, not moved again
        out.nat["displaced_since_start"] = (float(w.census().displaced_rc().sum()) - still) * w.w

    def step(self, t: int) -> None:
        w, p = self.world, self.p
        ppl = w.people
        cen = w.census()
        alive = cen.alive_rc().astype(np.float64)
        share = alive / np.maximum(alive.sum(1, keepdims=True), 1.0)
        minority = 1.0 - share
        hostile_ctrl = self._hostile_control()  # R x C
        exposure = w.fear + hostile_ctrl
        ent_h = self._entity_hostility()
        seen = w.seen_controller
        changed = (seen > -2) & (w.controller != seen) & (w.controller >= 0)
        new_foe = changed[:, None] & (ent_h[np.maximum(w.controller, 0)] > 0)
        w.shock = p["shock_decay"] * w.shock + new_foe
        w.seen_controller = w.controller.copy()
        p_v = p["p_max"] * (1.0 - np.exp(-p["gain"] * minority ** p["kappa"] * exposure))
        p_c = np.minimum(1.0, p["p_change"] * w.shock)
        prob = 1.0 - (1.0 - p_v) * (1.0 - p_c)
        dest = self._destinations(share, hostile_ctrl)
        prob[dest == np.arange(w.R)[:, None]] = 0.0
        hard = float(w.sc.population.displaced_hardship.value)
        do_ret = p["return_rate"] > 0
        thr = np.ascontiguousarray(self._return_threshold(hostile_ctrl, ent_h)) if do_ret else np.zeros((w.R, w.C))
        # who flees and who returns (a person who fled may return in the same month)
        mv, back = self.k_moves(
            ppl.status, ppl.region, ppl.community, ppl.origin, ppl.displaced, w.prestart, w.C,
            np.ascontiguousarray(prob.reshape(-1)),
            w.rng.key("displacement.flee", t), thr, do_ret, w.rng.key("displacement.return", t), w.scratch8(), w.flagged,
        )
        if mv.size:
            self._flee(mv, dest, hard)
        if back.size:
            self._return(back)
        w.changed()

    def _return_threshold(self, hostile_ctrl: np.ndarray, ent_h: np.ndarray) -> np.ndarray:
        """thr[o, c]: the displaced of community c from o go home when their uniform is below it."""
        w, p = self.world, self.p
        friendly = (w.controller >= 0)[:, None] & (ent_h[np.maximum(w.controller, 0)] == 0)
        safe = (1.0 - w.fear) * (w.control[0][:, None] > 0.5) * (hostile_ctrl < 0.1) * friendly
        return p["return_rate"] * safe

    def _entity_hostility(self) -> np.ndarray:
        """ent_h[e, c]: the largest hostility of entity e's actors toward community c."""
        w = self.world
        ent_h = np.zeros((w.E, w.C))
        np.maximum.at(ent_h, w.entity_of_actor, w.hostile_civ)
        return ent_h

    def _flee(self, mv: np.ndarray, dest: np.ndarray, hard: float) -> None:
        w = self.world
        ppl = w.people
        r0 = ppl.region[mv].astype(np.int64)
        c0 = ppl.community[mv].astype(np.int64)
        np.add.at(w.log.displaced_new_rc, (r0, c0), w.w)
        with w.changing(mv):
            ppl.region[mv] = dest[r0, c0].astype(np.int8)
            ppl.displaced[mv] = True
        w.prestart[mv] = False  # a new flight: counted with the new flows
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
        return np.clip(w.control.T @ self._entity_hostility(), 0.0, 1.0)

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
