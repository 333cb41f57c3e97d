"""Step 4 - Legitimacy of the state for community c in region r.

x[r, c] = base + w_rep (rep_c - 1) + w_serv (services_r - services_ref)
          + w_sec (security_r - 1) - w_occ aversion_c occupation_r
          - w_vac vacuum - w_excl excluded_c - penalty_c
L*[r, c] = 1 / (1 + exp(-4 (x - 1/2) / width) )      (a smooth bounded transform)

* rep_c: community c's share of power over its share of people (politics step);
* services_r in [0, 1] (economy step);
* security_r = exp(-recent deaths per 100k / security_scale) (grievance step);
* occupation_r = foreign troops per 1,000 residents / occupation_ref, capped at 1,
  weighted by each community's aversion to the occupation;
* vacuum = min(1, months without a formed government / 12) (S6);
* excluded_c = the seat share of c's entities excluded outright (none in the default scenarios);
* penalty_c = the legitimacy penalties of marginalization events against an entity of c
  (politics layer), each decaying by ``excl_decay`` a month from the month it happened.

The logistic has slope 1/width at x = 1/2, so near the middle it is the weighted sum;
toward 0 and 1 it flattens without ever sticking: every cause still moves L both ways
(a clipped sum would hold L at 0 while its causes improve underneath).  L moves each
month by ``adapt`` of the gap to L*.  The weights are assumptions with ranges,
documented in docs/ODD.md.
"""

from __future__ import annotations

import numpy as np

from ..scenario.params import Param
from .base import Module
from .record import MonthRecord


class Legitimacy(Module):
    name = "legitimacy"
    title = "Legitimacy of the state by community and region"
    PARAMS = {
        "base": Param(domain="unit weight", value=0.6, range=(0.4, 0.8), source="assumption", note="legitimacy with full representation, average services, no violence, no occupation"),
        "w_rep": Param(domain="non-negative number", value=0.6, range=(0.3, 1.0), source="assumption"),
        "w_serv": Param(domain="non-negative number", value=0.3, range=(0.1, 0.5), source="assumption"),
        "services_ref": Param(domain="unit weight", value=0.5, range=(0.3, 0.7), source="assumption"),
        "w_sec": Param(domain="non-negative number", value=0.25, range=(0.1, 0.5), source="assumption"),
        "w_occ": Param(domain="non-negative number", value=0.2, range=(0.0, 0.5), source="assumption"),
        "occupation_ref": Param(domain="positive number", value=3.0, range=(1.0, 6.0), source="assumption", note="foreign troops per 1,000 residents at which occupation counts fully"),
        "w_vac": Param(domain="non-negative number", value=0.1, range=(0.0, 0.25), source="seed claim", note="the essay's 'political vacuum' (S6)"),
        "w_excl": Param(domain="non-negative number", value=0.2, range=(0.0, 0.4), source="assumption"),
        "adapt": Param(domain="share", value=0.5, range=(0.2, 1.0), source="assumption", note="share of the gap to the new level closed each month"),
        "width": Param(domain="positive number", value=1.0, range=(0.6, 1.5), source="assumption", note="width of the logistic bounding legitimacy (slope 1/width at L = 1/2)"),
        "excl_decay": Param(domain="share", value=0.05, range=(0.0, 0.2), source="assumption", note="monthly decay of a marginalization event's legitimacy penalty"),
    }
    STATE = ("L", "excl_seen", "excl_effect")
    READS = ("representation", "gov", "vacuum_months", "excluded", "seats", "excl_penalty", "services", "security", "foreign_r")
    RESULTS = (("regional", "legitimacy_{community}"), ("national", "legitimacy_{community}"))

    def define_states(self) -> None:
        w = self.world
        self.define("L", 0.5, (w.R, w.C))
        self.define("excl_seen", 0.0, (w.C,))  # the politics layer's cumulative penalties seen so far
        self.define("excl_effect", 0.0, (w.C,))  # their decaying effect on legitimacy

    def init(self) -> None:
        w = self.world
        self.aversion = np.array([float(c.occupation_aversion.value) if c.occupation_aversion else 0.0 for c in w.sc.communities])
        self.L_target(first=True)

    def L_target(self, first: bool = False) -> None:
        w, p = self.world, self.p
        # new marginalization penalties enter in full, then decay
        w.excl_effect = (1.0 - p["excl_decay"]) * w.excl_effect + (w.excl_penalty - w.excl_seen)
        w.excl_seen = w.excl_penalty.copy()
        vac = min(1.0, w.vacuum_months / 12.0) if w.gov.caretaker else 0.0
        L = self.target(vac)
        w.L = L if first else w.L + p["adapt"] * (L - w.L)

    def target(self, vacuum: float) -> np.ndarray:
        """L*[r, c] for the present state with the given vacuum in [0, 1] (read-only)."""
        w, p = self.world, self.p
        rep = w.representation
        pop = w.census().alive_rc().sum(1).astype(np.float64) * w.w
        occupation = np.minimum(1.0, w.foreign_r / np.maximum(pop, 1.0) * 1000.0 / p["occupation_ref"])
        excl = np.zeros(w.C)
        if w.excluded.any():
            excl = np.minimum(1.0, (w.bloc_comm[w.excluded] * w.seats[w.excluded, None]).sum(0) / np.maximum((w.bloc_comm * w.seats[:, None]).sum(0), 1e-9) * 2.0)
        x = (
            p["base"]
            + p["w_rep"] * (rep[None, :] - 1.0)
            + p["w_serv"] * (w.services[:, None] - p["services_ref"])
            + p["w_sec"] * (w.security[:, None] - 1.0)
            - p["w_occ"] * self.aversion[None, :] * occupation[:, None]
            - p["w_vac"] * vacuum
            - p["w_excl"] * excl[None, :]
            - w.excl_effect[None, :]
        )
        return 1.0 / (1.0 + np.exp(-4.0 * (x - 0.5) / p["width"]))

    def step(self, t: int) -> None:
        self.L_target()

    def record(self, t: int, out: MonthRecord) -> None:
        w = self.world
        alive = w.census().alive_rc().astype(np.float64) * w.w
        popc = alive.sum(0)
        for ci, c in enumerate(w.comm.ids):
            out.reg[f"legitimacy_{c}"] = w.L[:, ci]
            out.nat[f"legitimacy_{c}"] = float((w.L[:, ci] * alive[:, ci]).sum() / max(popc[ci], 1.0))
