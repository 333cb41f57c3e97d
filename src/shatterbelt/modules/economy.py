"""Step 3 - Economy and corruption: revenue funds services and forces; corruption becomes entity rents.

revenue x corruption            -> rents to governing entities by portfolio share
                                   (a share of each entity's rents arms its wing, a
                                   share funds its political machine with its patrons'
                                   money -- the political budget -- and the rest are its
                                   leaders' private rents)
revenue x (1 - corruption)      -> the autonomous region's share (KRG: 17%) and the
                                   federal budget: a security share pays state
                                   forces, the rest buys services by region
Services in a region = (1 - exp(-spend per person / need)) x the state's control
there (no services where it does not rule).  Ghost soldiers (a share of
corruption) are paid but do not fight.  An actor pays its fighters from its
cash; when a month's pay falls short, arrears accumulate (the Sons of Iraq's
were real in 2010).  Capacity = what an actor can pay = budget / pay (it limits what an
actor pays, not how many join: see mobilization).  Territory is income: a non-state
entity taxes the people of the regions it holds (``territory_tax`` per resident x its
control share, split among its actors by size), on top of an actor's extortion of its
own community.  Materiel captured from a collapsing army (army step) and loot taken with
a region (control step) are added to the taker's cash at the next month's payroll.
"""

from __future__ import annotations

import numpy as np

from ..scenario.params import Param
from .base import Module
from .record import MonthRecord


class Economy(Module):
    name = "economy"
    title = "Economy and corruption: rents, services, pay and arrears"
    PARAMS = {
        "reserve_months": Param(domain="non-negative number", value=6, range=(3, 12), source="assumption", note="cash an actor keeps, in months of payroll"),
        "war_income_boost": Param(domain="non-negative number",
            value=0.3, range=(0.0, 2.0), source="calibrated (<=2012)",
            note="insurgent own income multiplier slope with a neighbouring war (Syria from 2011)",
        ),
        "reserve_draw_months": Param(domain="positive number", value=24, range=(6, 48), source="assumption", note="months over which an actor would spend its reserves on more fighters"),
        "income_smoothing": Param(domain="unit weight", value=0.2, range=(0.05, 0.5), source="assumption", note="weight of this month's income in the expected income"),
        "arrears_threshold": Param(domain="share", value=0.75, range=(0.5, 0.95), source="assumption", note="paid share below which a month counts as unpaid"),
        "pay_quality": Param(domain="share", value=0.3, range=(0.0, 0.6), source="assumption", note="share of an actor's effectiveness that depends on pay (supplies, ammunition, turning up): strength x (1 - pay_quality x unpaid share of its payroll)"),
        "rent_political_share": Param(domain="share", value=0.01, range=(0.0, 0.05), source="assumption", note="share of an entity's rents (after its armed wing) spent by its political machine; the rest are its leaders' private rents, which buy no patron's alignment"),
        "territory_tax": Param(domain="money", value=0.2, range=(0.0, 1.0), source="assumption", note="USD per resident per month a non-state entity raises where it holds control (taxation, checkpoints, smuggling)"),
    }
    STATE = (
        "services", "cash", "income", "income_ema", "capacity", "paid_frac", "unpaid_months", "rents", "bloc_funds",
        "ghost_share",
    )
    READS = ("revenue", "regional_war", "pay_reliability", "gov", "excluded", "control", "patron_money", "captured", "looted")
    RESULTS = (
        ("regional", "services"), ("national", "ghost_share"), ("national", "capacity_{actor}"),
        ("national", "unpaid_months_{actor}"), ("national", "rents_{bloc}"),
    )

    def define_states(self) -> None:
        w = self.world
        A, B = w.A, w.B
        self.define("services", 0.5, (w.R,))
        cash = w.size0 * w.pay * 2.0  # two months of payroll in hand at the start
        cash[w.is_foreign] = 0.0
        self.define("cash", cash, (A,))
        self.define("income", 0.0, (A,))
        self.define("income_ema", np.nan, (A,))
        self.define("capacity", w.size0, (A,))
        self.define("paid_frac", 1.0, (A,))
        self.define("unpaid_months", 0.0, (A,))
        self.define("rents", 0.0, (B,))
        self.define("bloc_funds", 0.0, (B,))
        self.define("ghost_share", 0.0)

    def record(self, t: int, out: MonthRecord) -> None:
        w = self.world
        out.reg["services"] = w.services
        out.nat["ghost_share"] = w.ghost_share
        for ai, a in enumerate(w.act.ids):
            out.nat[f"capacity_{a}"] = w.capacity[ai]
            out.nat[f"unpaid_months_{a}"] = w.unpaid_months[ai]
        for bi, b in enumerate(w.bloc.ids):
            out.nat[f"rents_{b}"] = w.rents[bi]

    def step(self, t: int) -> None:
        w = self.world
        cen = w.census()
        rev = w.revenue
        eco = w.economy
        c = eco["corruption"]
        diverted = rev * c
        public = rev - diverted
        regional = public * eco["regional_budget_share"] if w.autonomous.any() else 0.0
        federal = public - regional
        security = federal * eco["security_share"]
        services_money = federal - security
        w.ghost_share = c * float(w.sc.army.ghost_factor.value)

        # services by region
        pop_r = cen.alive_rc().sum(1).astype(np.float64) * w.w
        fed_pop = pop_r[~w.autonomous].sum()
        reg_pop = pop_r[w.autonomous].sum()
        spend = np.zeros(w.R)
        if fed_pop > 0:
            spend[~w.autonomous] = services_money / fed_pop
        if reg_pop > 0:
            reg_services = regional * max(0.0, 1.0 - w.regional_budget_share.sum())
            spend[w.autonomous] = reg_services / reg_pop
        ruled = 1.0 - (w.control * w.entity_outlaw[:, None]).sum(0)
        w.services = (1.0 - np.exp(-spend / eco["services_need"])) * np.clip(ruled, 0.0, 1.0)

        # rents to entities by portfolio share (the caretaker's when no government)
        gov = w.gov
        share = gov.portfolio * ~w.excluded
        share = share / max(share.sum(), 1e-12)
        w.rents = diverted * share

        # incomes of armed actors
        fighters = cen.fighters_ar().sum(1).astype(np.float64) * w.w
        inc = np.zeros(w.A)
        g = w.gen("economy.pay", t)
        reliab = w.pay_reliability
        arrive = g.random(w.A) < reliab
        budgeted = security * w.state_budget_share + regional * w.regional_budget_share
        inc += budgeted * arrive
        expected_extra = budgeted * (reliab - arrive)  # what a reliable payer would have sent on average
        # armed wings of entities: split among the bloc's actors by size
        wing = w.rents * w.armed_wing_share
        for b in np.flatnonzero(wing > 0):
            kids = np.flatnonzero((w.parent == b) & w.has_agents)
            if kids.size:
                sz = fighters[kids] + 1.0
                inc[kids] += wing[b] * sz / sz.sum()
        # an entity's political budget: the political share of its rents plus its patrons' money; the
        # rest of its rents are its leaders' private rents (patrons: what buys alignment)
        w.bloc_funds = (w.rents - wing) * self.p["rent_political_share"] + w.patron_money[:, w.A :].sum(0)
        # extortion where the actor's entity controls: persons of its base community under control
        civ = cen.civ_rc().astype(np.float64) * w.w
        for a in np.flatnonzero(w.extortion > 0):
            e = w.entity_of_actor[a]
            base = civ @ w.actor_comm[a] if not w.open_recruit[a] else civ.sum(1)
            inc[a] += w.extortion[a] * float((w.control[e] * base).sum())
        # taxation of the territory a non-state entity holds, split among its actors by size
        tax = self.p["territory_tax"]
        if tax > 0:
            held = w.control @ civ.sum(1)  # E: residents under each entity's control
            nonstate = w.has_agents & ~w.is_state & (w.entity_of_actor != 0)
            for e in np.unique(w.entity_of_actor[nonstate]):
                kids = np.flatnonzero(nonstate & (w.entity_of_actor == e))
                sz = fighters[kids] + 1.0
                inc[kids] += tax * held[e] * sz / sz.sum()
        boost = 1.0 + self.p["war_income_boost"] * w.regional_war * w.is_insurgency
        inc += w.own_income * boost
        inc += w.patron_money[:, : w.A].sum(0)
        inc += w.looted  # loot of the regions actors took last month (control step)
        inc[w.is_foreign] = 0.0
        w.income = inc

        # payroll: state forces also pay their ghosts
        unit = w.pay * np.where(w.is_state, 1.0 / max(1.0 - w.ghost_share, 0.05), 1.0)
        payroll = fighters * unit
        cash = w.cash.copy()
        for a, value in w.captured:  # materiel the army's deserters left to an actor last month
            cash[a] += value
        cash = cash + inc
        paid = np.where(payroll > 0, np.minimum(1.0, cash / np.maximum(payroll, 1e-9)), 1.0)
        cash -= paid * payroll
        cap_cash = self.p["reserve_months"] * np.maximum(payroll, inc)
        w.cash = np.clip(cash, 0.0, cap_cash)
        w.paid_frac = paid
        short = paid < self.p["arrears_threshold"]
        w.unpaid_months = np.where(short, w.unpaid_months + 1, 0.0)
        # capacity: what the actor can keep paying -- its expected (smoothed) income plus a draw on
        # its reserves -- so that one missed transfer does not read as a collapse of its budget
        expected = inc + expected_extra
        ema = w.income_ema
        a_ = self.p["income_smoothing"]
        w.income_ema = np.where(np.isnan(ema), expected, (1 - a_) * ema + a_ * expected)
        w.capacity = np.where(unit > 0, (w.income_ema + w.cash / self.p["reserve_draw_months"]) / np.maximum(unit, 1e-9), 0.0)
        w.capacity[w.is_foreign] = 0.0
