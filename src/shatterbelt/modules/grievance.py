"""Step 5 - Grievance and fear.

Grievance G = H (1 - L) (Epstein 2002) is evaluated per person in the
mobilization step from hardship H and the legitimacy of their region and
community.  Fear is the security dilemma behind 2006-07: a decaying memory of
killings of one's own community by others in one's region, per 100,000 of that
community there, turned into [0, 1) by F = 1 - exp(-fear_gain x memory).
Security (for legitimacy) is the same memory over all deaths in the region.
"""

from __future__ import annotations

import numpy as np

from ..scenario.params import Param
from .base import Module
from .record import MonthRecord


class Grievance(Module):
    name = "grievance"
    title = "Grievance and fear"
    PARAMS = {
        "memory_decay": Param(domain="share", value=0.7, range=(0.5, 0.9), source="assumption", note="monthly retention of the memory of killings"),
        "fear_gain": Param(domain="non-negative number", value=0.02, range=(0.005, 0.06), source="assumption", note="per (killing per 100k) of memory: fear ~0.2 at 2011 levels in Baghdad, ~0.9 at 2006 levels"),
        "security_scale": Param(domain="positive number", value=3.0, range=(1.0, 8.0), source="assumption", note="deaths per 100k of memory at which security falls to 1/e"),
    }
    STATE = ("memory", "fear", "violence_memory", "security")
    READS = ("civ_deaths_rc", "civ_deaths_by_other_rc", "fighter_deaths_ar")
    RESULTS = (("regional", "fear_{community}"),)

    def define_states(self) -> None:
        w = self.world
        self.define("memory", 0.0, (w.R, w.C))  # killings of one's own by others, per 100k, decaying
        self.define("fear", 0.0, (w.R, w.C))
        self.define("violence_memory", 0.0, (w.R,))  # all deaths per 100k, decaying
        self.define("security", 1.0, (w.R,))

    def record(self, t: int, out: MonthRecord) -> None:
        w = self.world
        for ci, c in enumerate(w.comm.ids):
            out.reg[f"fear_{c}"] = w.fear[:, ci]

    def step(self, t: int) -> None:
        # uses last month's killings (the log is reset after recording)
        w, p = self.world, self.p
        alive = w.census().alive_rc().astype(np.float64) * w.w
        prev = w.prev_log
        if prev is not None:
            per100k = np.where(alive > 0, prev.civ_deaths_by_other_rc / np.maximum(alive, 1.0) * 1e5, 0.0)
            w.memory = p["memory_decay"] * w.memory + per100k
            deaths_r = prev.civ_deaths_rc.sum(1) + prev.fighter_deaths_ar.sum(0)
            w.violence_memory = p["memory_decay"] * w.violence_memory + deaths_r / np.maximum(alive.sum(1), 1.0) * 1e5
        w.fear = 1.0 - np.exp(-p["fear_gain"] * w.memory)
        w.security = np.exp(-w.violence_memory / p["security_scale"])
