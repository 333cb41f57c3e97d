"""Step 12 - Record: the month's metrics into preallocated panel arrays.

Regional metrics go into a [month, region, metric] array and national ones into
[month, metric]; both are allocated before the first month (LASER: never append
per step).  Names are built once from the scenario's communities, actors,
entities and patrons.
"""

from __future__ import annotations

import numpy as np

from ..population import DETAINED
from .base import Module


class Record(Module):
    name = "record"
    title = "Record metrics"

    def init(self) -> None:
        w = self.world
        comm, acts, ents, pats = w.comm.ids, w.act.ids, w.entities.ids, w.pat.ids
        self.reg_names = (
            ["population", "displaced", "civilian_deaths", "battle_deaths", "attacks", "army_cohesion", "army_collapsed",
             "services", "foreign_troops", "dominant_share", "politicization"]
            + [f"legitimacy_{c}" for c in comm]
            + [f"fear_{c}" for c in comm]
            + [f"population_{c}" for c in comm]
            + [f"fighters_{a}" for a in acts]
            + [f"control_{e}" for e in ents]
        )
        self.nat_names = (
            ["population", "deaths_cumulative", "civilian_deaths", "battle_deaths", "displaced", "new_displaced",
             "returned", "detained", "microstates", "vacuum", "vacuum_months", "revenue", "ghost_share",
             "army_cohesion", "insurgent_fighters", "attacks"]
            + [f"legitimacy_{c}" for c in comm]
            + [f"representation_{c}" for c in comm]
            + [f"fighters_{a}" for a in acts]
            + [f"capacity_{a}" for a in acts]
            + [f"recruits_{a}" for a in acts]
            + [f"unpaid_months_{a}" for a in acts]
            + [f"detentions_{a}" for a in acts]
            + [f"influence_{p}" for p in pats]
            + [f"patron_budget_{p}" for p in pats]
            + [f"rents_{b}" for b in w.bloc.ids]
        )
        self.reg = np.full((w.T, w.R, len(self.reg_names)), np.nan)
        self.nat = np.full((w.T, len(self.nat_names)), np.nan)
        self.ri = {n: i for i, n in enumerate(self.reg_names)}
        self.ni = {n: i for i, n in enumerate(self.nat_names)}
        w.record = self

    def step(self, t: int) -> None:
        w = self.world
        cen = w.census()
        lg = w.log
        W = w.w
        alive = cen.alive_rc().astype(np.float64) * W
        pop_r = alive.sum(1)
        fighters = cen.fighters_ar().astype(np.float64) * W
        reg = self.reg[t]
        ri = self.ri
        reg[:, ri["population"]] = pop_r
        reg[:, ri["displaced"]] = cen.displaced_rc().sum(1) * W
        reg[:, ri["civilian_deaths"]] = lg.civ_deaths_rc.sum(1)
        reg[:, ri["battle_deaths"]] = lg.battle_deaths_r
        reg[:, ri["attacks"]] = lg.attacks_ar.sum(0)
        reg[:, ri["army_cohesion"]] = np.where(fighters[w.army_i] > 0, w.cohesion, np.nan)
        reg[:, ri["army_collapsed"]] = w.collapsed
        reg[:, ri["services"]] = w.services
        reg[:, ri["foreign_troops"]] = w.foreign_r
        reg[:, ri["dominant_share"]] = w.control[w.dominant, np.arange(w.R)]
        reg[:, ri["politicization"]] = getattr(w, "politicization", np.zeros(w.R))
        for ci, c in enumerate(w.comm.ids):
            reg[:, ri[f"legitimacy_{c}"]] = w.L[:, ci]
            reg[:, ri[f"fear_{c}"]] = w.fear[:, ci]
            reg[:, ri[f"population_{c}"]] = alive[:, ci]
        for ai, a in enumerate(w.act.ids):
            reg[:, ri[f"fighters_{a}"]] = fighters[ai] if w.has_agents[ai] else w.strength[ai] / max(w.quality[ai], 1e-9)
        for ei, e in enumerate(w.entities.ids):
            reg[:, ri[f"control_{e}"]] = w.control[ei]

        nat = self.nat[t]
        ni = self.ni
        nat[ni["population"]] = cen.alive() * W
        nat[ni["deaths_cumulative"]] = cen.dead() * W
        nat[ni["civilian_deaths"]] = lg.civ_deaths_rc.sum()
        nat[ni["battle_deaths"]] = lg.battle_deaths_r.sum()
        nat[ni["displaced"]] = cen.displaced_rc().sum() * W
        nat[ni["new_displaced"]] = lg.displaced_new_rc.sum()
        nat[ni["returned"]] = lg.returned_rc.sum()
        nat[ni["detained"]] = cen.t[DETAINED].sum() * W
        nat[ni["microstates"]] = w.microstates
        nat[ni["vacuum"]] = float(w.gov.caretaker)
        nat[ni["vacuum_months"]] = w.vacuum_months
        nat[ni["revenue"]] = w.revenue
        nat[ni["ghost_share"]] = w.ghost_share
        army = fighters[w.army_i]
        nat[ni["army_cohesion"]] = float((w.cohesion * army).sum() / army.sum()) if army.sum() > 0 else np.nan
        nat[ni["insurgent_fighters"]] = fighters[w.is_insurgency].sum()
        nat[ni["attacks"]] = lg.attacks_ar.sum()
        popc = alive.sum(0)
        for ci, c in enumerate(w.comm.ids):
            nat[ni[f"legitimacy_{c}"]] = float((w.L[:, ci] * alive[:, ci]).sum() / max(popc[ci], 1.0))
            nat[ni[f"representation_{c}"]] = w.representation[ci]
        for ai, a in enumerate(w.act.ids):
            nat[ni[f"fighters_{a}"]] = fighters[ai].sum() if w.has_agents[ai] else w.foreign_level[ai]
            nat[ni[f"capacity_{a}"]] = w.capacity[ai]
            nat[ni[f"recruits_{a}"]] = lg.recruits_a[ai]
            nat[ni[f"unpaid_months_{a}"]] = w.unpaid_months[ai]
            nat[ni[f"detentions_{a}"]] = lg.detentions_a[ai]
        for pi, p in enumerate(w.pat.ids):
            nat[ni[f"influence_{p}"]] = w.influence[pi]
            nat[ni[f"patron_budget_{p}"]] = w.patron_budget[pi]
        for bi, b in enumerate(w.bloc.ids):
            nat[ni[f"rents_{b}"]] = w.rents[bi]
