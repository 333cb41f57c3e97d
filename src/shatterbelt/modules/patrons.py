"""Step 11 - Patrons: foreign money for alignment, and for clients under threat (S4).

Each patron's monthly budget moves with the world: Iran's (``leans_in_as_us_leaves``)
grows as foreign troops leave, the Gulf's (``follows_exclusion``) as a community
loses its share of power.  A patron splits its budget between its armed clients
and its political clients (``bloc_share``), and within each group in proportion
to objective x (alignment + a0) x strength^beta x (1 + threat_gain x threat)
(money follows those who can use it, who are already loyal, and who are in
danger).  In a calm month it spends ``spend_base`` of each part and holds the rest
back; it spends up to the whole budget as its clients come under threat (never
more).  A client's threat is the ground its entity lost last month (control
share, summed over regions) and its losses (fighters killed, detained or
deserted, relative to ``loss_ref`` of its ranks) for an armed actor, its lost
power (seats x portfolio) for an entity, with memory ``threat_memory``.  The
money arrives next month (economy step).

Every client's alignment moves toward each patron's share of the client's own
resources this month (loyalty follows marginal pay):
a <- (1 - mu) a + mu x money from p / (all patron money + own_weight x own),
where own is an armed actor's income other than patron money and an entity's
political budget of its own (economy: the political share of its rents).  An
entity's leaders' private rents are kept apart: they buy no alignment, so a
patron's relative share of what the political machine receives decides.
Influence of a patron = strength-weighted alignment over all armed actors, the
state's forces counting with the alignment of the entities that command them.
"""

from __future__ import annotations

import numpy as np

from ..scenario.params import Param
from .base import Module
from .record import MonthRecord


class Patrons(Module):
    name = "patrons"
    title = "Patrons: allocation to clients, response to threats, alignment"
    PARAMS = {
        "bloc_share": Param(domain="share", value=0.3, range=(0.1, 0.6), source="assumption", note="share of a patron's budget for political clients"),
        "a0": Param(domain="non-negative number", value=0.1, range=(0.0, 0.5), source="assumption", note="baseline weight of an unaligned client"),
        "beta": Param(domain="non-negative number", value=0.25, range=(0.0, 1.0), source="assumption", note="how much money follows strength"),
        "own_weight": Param(domain="non-negative number", value=0.05, range=(0.0, 0.5), source="assumption", note="weight of a client's own resources (an actor's income, an entity's own political budget) against patron money in its alignment"),
        "mu": Param(domain="unit weight", value=0.05, range=(0.01, 0.2), source="assumption", note="monthly speed at which alignment follows money"),
        "spend_base": Param(domain="share", value=0.8, range=(0.5, 1.0), source="assumption", note="share of its budget a patron spends in a month when no client is threatened; the rest is held back for clients under threat"),
        "threat_gain": Param(domain="non-negative number", value=2.0, range=(0.0, 4.0), source="assumption", note="how strongly a patron's money follows threats to its clients (0: no response)"),
        "loss_ref": Param(domain="positive number", value=0.05, range=(0.02, 0.2), source="assumption", note="share of an armed client's ranks lost in a month (killed, detained, deserted) that counts as one unit of threat"),
        "threat_memory": Param(domain="unit weight", value=0.5, range=(0.0, 0.9), source="assumption", note="share of last month's threat to a client that carries over"),
    }
    STATE = ("patron_budget", "patron_money", "align", "influence", "client_threat", "patron_spent")
    READS = (
        "foreign_level", "representation", "gov", "seats", "income", "bloc_funds", "rents", "strength", "control",
        "fighter_deaths_ar", "detentions_a", "deserters_a",
    )
    RESULTS = (("national", "influence_{patron}"), ("national", "patron_budget_{patron}"))

    def define_states(self) -> None:
        w = self.world
        A, B, P = w.A, w.B, w.P
        self.define("patron_budget", w.patron_budget0, (P,))
        self.define("patron_money", 0.0, (P, A + B))  # paid this month to actors (first A) and blocs
        self.define("patron_spent", 0.0, (P,))  # what each patron spent this month (never above its budget)
        self.define("client_threat", 0.0, (A + B,))  # threat to each client in [0, 1)
        align = np.zeros((A + B, P))  # alignment of each client with each patron
        for i, a in enumerate(w.sc.actors):
            for p, v in a.patrons.items():
                align[i, w.pat[p]] = v
        for i, b in enumerate(w.sc.blocs):
            for p, v in b.patrons.items():
                align[A + i, w.pat[p]] = v
        self.define("align", align, (A + B, P))
        self.define("influence", 0.0, (P,))

    def record(self, t: int, out: MonthRecord) -> None:
        w = self.world
        for pi, p in enumerate(w.pat.ids):
            out.nat[f"influence_{p}"] = w.influence[pi]
            out.nat[f"patron_budget_{p}"] = w.patron_budget[pi]

    def init(self) -> None:
        w = self.world
        self.foreign_ref = max(float(w.size0[w.is_foreign].sum()), 1.0)
        self.control_prev = w.control.copy()
        self.power_prev = self._bloc_power()
        self.allocate(0)
        self.influence()

    def step(self, t: int) -> None:
        self.assess_threats()
        self.allocate(t)
        self.realign()
        self.influence()

    def _bloc_power(self) -> np.ndarray:
        w = self.world
        return w.seats * (1.0 + w.gov.portfolio * 2.0)

    def assess_threats(self) -> None:
        """Threat to each client this month: ground lost and ranks lost (armed actors), power lost (entities)."""
        w, p = self.world, self.p
        A = w.A
        lost_ground = np.maximum(0.0, self.control_prev - w.control).sum(1)  # E: control share lost, in regions
        self.control_prev = w.control.copy()
        fighters = w.census().fighters_ar().sum(1).astype(np.float64) * w.w
        lost = w.log.fighter_deaths_ar.sum(1) + w.log.detentions_a + w.log.deserters_a
        ranks = np.where(w.has_agents, lost / np.maximum(fighters + lost, 1.0), 0.0)
        x = np.zeros(A + w.B)
        x[:A] = lost_ground[w.entity_of_actor] + ranks / p["loss_ref"]
        power = self._bloc_power()
        x[A:] = np.maximum(0.0, 1.0 - power / np.maximum(self.power_prev, 1e-12)) / 0.5  # half its power lost: one unit
        self.power_prev = power
        now = 1.0 - np.exp(-x)
        w.client_threat = np.maximum(now, p["threat_memory"] * w.client_threat)

    def allocate(self, t: int) -> None:
        """Each patron's money to its clients this month: at most its budget, more of it when clients are threatened."""
        w, p = self.world, self.p
        left = 1.0 - min(1.0, float(w.foreign_level[w.is_foreign].sum()) / self.foreign_ref)
        excl = 1.0 - np.clip(w.representation, 0.0, 1.0)
        budget = w.patron_budget0 * (1.0 + w.patron_lean * left) * (1.0 + w.patron_excl @ excl)
        w.patron_budget = budget
        A = w.A
        S = w.strength.sum(1)
        bloc_power = self._bloc_power()
        threat = w.client_threat
        money = np.zeros((w.P, A + w.B))
        for i in range(w.P):
            for lo, hi, size, share in ((0, A, S, 1.0 - p["bloc_share"]), (A, A + w.B, bloc_power, p["bloc_share"])):
                cl = w.client_of[i, lo:hi]
                if not cl.any():
                    continue
                obj = w.objective[i, lo:hi]
                th = threat[lo:hi]
                rel = size / max(size[cl].max(), 1e-9)
                wt = cl * obj * (w.align[lo:hi, i] + p["a0"]) * np.maximum(rel, 1e-6) ** p["beta"] * (1.0 + p["threat_gain"] * th)
                if wt.sum() <= 0:
                    continue
                # the reserve is released as the patron's most valued clients come under threat
                urgency = float((cl * obj * th).max() / max(float((cl * obj).max()), 1e-12))
                spend = min(1.0, p["spend_base"] + (1.0 - p["spend_base"]) * min(1.0, p["threat_gain"] * urgency))
                money[i, lo:hi] = budget[i] * share * spend * wt / wt.sum()
        w.patron_money = money
        w.patron_spent = money.sum(1)

    def realign(self) -> None:
        """Loyalty follows pay: alignment moves toward each patron's share of the client's resources.

        A client's resources are its patrons' money plus ``own_weight`` times its own: an
        armed actor's income other than patron money (budget, extortion, taxes, own income),
        an entity's own political budget (``bloc_funds`` less patron money: the political
        share of its rents; its leaders' private rents are not counted).  A client that
        lives on one patron's money ends up aligned with it; with no patron money alignment
        fades.
        """
        w, p = self.world, self.p
        got = w.patron_money.T  # clients x patrons
        own_actor = np.maximum(0.0, w.income - w.patron_money[:, : w.A].sum(0))
        own_bloc = np.maximum(0.0, w.bloc_funds - w.patron_money[:, w.A :].sum(0))
        own = np.concatenate([own_actor, own_bloc])
        denom = got.sum(1) + p["own_weight"] * own
        shares = np.where(denom[:, None] > 0, got / np.maximum(denom[:, None], 1e-12), 0.0)
        fixed = w.align[: w.A][w.is_foreign].copy()  # a foreign force is its patron's own army
        w.align = (1 - p["mu"]) * w.align + p["mu"] * shares
        w.align[np.flatnonzero(w.is_foreign)] = fixed
        # state forces carry the alignment of the entities commanding them
        cmd_align = w.gov.command @ w.align[w.A :]
        w.align[np.flatnonzero(w.is_state)] = cmd_align

    def influence(self) -> None:
        w = self.world
        S = w.strength.sum(1)
        al = w.align[: w.A].copy()
        al[w.is_state] = w.gov.command @ w.align[w.A :]
        tot = S.sum()
        w.influence = (S @ al) / tot if tot > 0 else np.zeros(w.P)
