"""Step 1 - Timeline: exogenous events (foreign troop levels, revenue, a neighbouring war, elections,
resignations of the government, pay).

Shocks (``shock`` events) set a module's parameter from a date on: the timeline is the
only writer of parameters during a run.  Troop levels are averaged over the days of each month, so a withdrawal on the
18th counts for 17/31 of December.  Events dated before the start set the
initial state (e.g. 88,000 US troops on 4 June 2010).
"""

from __future__ import annotations

import calendar
import datetime as dt

import numpy as np

from ..scenario.schema import (
    Election,
    ForeignTroops,
    GovernmentFormed,
    PayChange,
    RegionalWar,
    Resignation,
    Shock,
)
from .base import Module
from .record import MonthRecord


class Timeline(Module):
    name = "timeline"
    title = "Timeline: exogenous events"
    STATE = (
        "foreign_level", "regional_war", "border", "pay_reliability", "election_due", "revenue", "scripted_government",
        "resignation_due",
    )
    RESULTS = (("national", "revenue"),)

    def define_states(self) -> None:
        w = self.world
        self.define("foreign_level", np.where(w.is_foreign, w.size0, 0.0), (w.A,))
        self.define("regional_war", 0.0)
        self.define("border", False, (w.R,), bool)
        self.define("pay_reliability", w.pay_reliability0, (w.A,))
        self.define("election_due", False)
        self.define("revenue", 0.0)
        self.define("scripted_government", {})  # month -> the government the timeline imposes then
        self.define("resignation_due", None)  # the date the government resigns this month, if it does

    def init(self) -> None:
        w = self.world
        evs = sorted(w.sc.timeline, key=lambda e: e.date)
        self.events = evs
        # foreign troop level per month: day-weighted average of a step function
        self.troops = np.zeros((w.T, w.A))
        for a in np.flatnonzero(w.is_foreign):
            aid = w.act.ids[a]
            steps = [(dt.date(1900, 1, 1), float(w.size0[a]))]
            steps += [(e.date, e.level) for e in evs if isinstance(e, ForeignTroops) and e.force == aid]
            for t in range(w.T):
                d0 = w.month_date(t)
                nd = calendar.monthrange(d0.year, d0.month)[1]
                tot = 0.0
                for day in range(nd):
                    d = d0 + dt.timedelta(days=day)
                    lvl = steps[0][1]
                    for sd, sl in steps:
                        if sd <= d:
                            lvl = sl
                    tot += lvl
                self.troops[t, a] = tot / nd
        # revenue step series
        pts = [(p.month, p.value) for p in w.sc.economy.revenue]
        self.revenue = np.zeros(w.T)
        for t, m in enumerate(w.months):
            v = pts[0][1]
            for pm, pv in pts:
                if pm <= m:
                    v = pv
            self.revenue[t] = v
        scripted: dict[int, GovernmentFormed] = w.scripted_government
        start = w.month_date(0)
        for e in evs:
            if isinstance(e, GovernmentFormed):
                key = (e.date.year - start.year) * 12 + e.date.month - start.month
                scripted[max(key, 0)] = e

    def _month_of(self, d: dt.date) -> int:
        s = self.world.month_date(0)
        return (d.year - s.year) * 12 + d.month - s.month

    def step(self, t: int) -> None:
        w = self.world
        w.foreign_level = np.where(w.is_foreign, self.troops[t], 0.0)
        w.revenue = self.revenue[t] * w.economy["revenue_scale"]
        w.election_due = False
        w.resignation_due = None
        for e in self.events:
            m = self._month_of(e.date)
            if m > t or (m < t and not (t == 0 and m < 0)):
                continue
            if isinstance(e, RegionalWar):
                w.regional_war = e.intensity
                w.border = np.zeros(w.R, bool)
                for r in e.border_regions:
                    w.border[w.reg[r]] = True
            elif isinstance(e, Election) and m == t:
                w.election_due = True
            elif isinstance(e, Resignation) and m == t:
                w.resignation_due = e.date
            elif isinstance(e, PayChange):
                w.pay_reliability[w.act[e.actor]] = e.reliability
            elif isinstance(e, Shock):
                # the target is the parameter's scenario path (checked at load)
                head, _, rest = e.target.partition(".")
                if head == "economy":
                    w.economy[rest] = e.value
                else:
                    mod, _, key = rest.partition(".")
                    w.params[mod][key] = e.value

    def record(self, t: int, out: MonthRecord) -> None:
        out.nat["revenue"] = self.world.revenue
