"""Step 11 - Patrons: foreign money for alignment (S4).

Each patron's monthly budget moves with the world: Iran's (``leans_in_as_us_leaves``)
grows as foreign troops leave, the Gulf's (``follows_exclusion``) as a community
loses its share of power.  A patron splits its budget between its armed clients
and its political clients (``bloc_share``), and within each group in proportion
to objective x (alignment + a0) x strength^beta (money follows those who can use
it and who are already loyal).  The money arrives next month (economy step).
Every client's alignment moves toward the shares of the money it receives:
a <- (1 - mu) a + mu money share (loyalty follows pay).  Influence of a patron =
strength-weighted alignment over all armed actors, the state's forces counting
with the alignment of the entities that command them.
"""

from __future__ import annotations

import numpy as np

from ..scenario.params import Param
from .base import Module
from .record import MonthRecord


class Patrons(Module):
    name = "patrons"
    title = "Patrons: allocation to clients and alignment"
    PARAMS = {
        "bloc_share": Param(domain="share", value=0.3, range=(0.1, 0.6), source="assumption", note="share of a patron's budget for political clients"),
        "a0": Param(domain="non-negative number", value=0.1, range=(0.0, 0.5), source="assumption", note="baseline weight of an unaligned client"),
        "beta": Param(domain="non-negative number", value=0.25, range=(0.0, 1.0), source="assumption", note="how much money follows strength"),
        "own_weight": Param(domain="non-negative number", value=0.05, range=(0.0, 0.5), source="assumption", note="weight of a client's own resources against patron money in its alignment"),
        "mu": Param(domain="unit weight", value=0.05, range=(0.01, 0.2), source="assumption", note="monthly speed at which alignment follows money"),
    }
    STATE = ("patron_budget", "patron_money", "align", "influence")
    READS = ("foreign_level", "representation", "gov", "seats", "income", "rents", "strength")
    RESULTS = (("national", "influence_{patron}"), ("national", "patron_budget_{patron}"))

    def define_states(self) -> None:
        w = self.world
        A, B, P = w.A, w.B, w.P
        self.define("patron_budget", w.patron_budget0, (P,))
        self.define("patron_money", 0.0, (P, A + B))  # paid this month to actors (first A) and blocs
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
        self.allocate(0)
        self.influence()

    def step(self, t: int) -> None:
        self.allocate(t)
        self.realign()
        self.influence()

    def allocate(self, t: int) -> None:
        w, p = self.world, self.p
        left = 1.0 - min(1.0, float(w.foreign_level[w.is_foreign].sum()) / self.foreign_ref)
        excl = 1.0 - np.clip(w.representation, 0.0, 1.0)
        budget = w.patron_budget0 * (1.0 + w.patron_lean * left) * (1.0 + w.patron_excl @ excl)
        w.patron_budget = budget
        A = w.A
        S = w.strength.sum(1)
        bloc_power = w.seats * (1.0 + w.gov.portfolio * 2.0)
        money = np.zeros((w.P, A + w.B))
        for i in range(w.P):
            for lo, hi, size, share in ((0, A, S, 1.0 - p["bloc_share"]), (A, A + w.B, bloc_power, p["bloc_share"])):
                cl = w.client_of[i, lo:hi]
                if not cl.any():
                    continue
                rel = size / max(size[cl].max(), 1e-9)
                wt = cl * w.objective[i, lo:hi] * (w.align[lo:hi, i] + p["a0"]) * np.maximum(rel, 1e-6) ** p["beta"]
                if wt.sum() > 0:
                    money[i, lo:hi] = budget[i] * share * wt / wt.sum()
        w.patron_money = money

    def realign(self) -> None:
        """Loyalty follows pay: alignment moves toward each patron's share of the client's resources.

        A client's resources are its patrons' money plus ``own_weight`` times its own
        income (an armed actor's budget and extortion; an entity's rents), so a client
        that lives on one patron's money ends up aligned with it, one with rich resources
        of its own stays freer, and with no patron money at all alignment fades.
        """
        w, p = self.world, self.p
        got = w.patron_money.T  # clients x patrons
        own = np.concatenate([np.maximum(0.0, w.income - w.patron_money[:, : w.A].sum(0)), w.rents])
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
