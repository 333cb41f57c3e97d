"""Step 2 - Politics: who governs, and how the state is apportioned among entities.

This engine step is *scripted*: the government comes from the scenario's
timeline (for Iraq, the caretaker cabinet from the 7 March 2010 election until
the coalition approved on 21 December 2010), and the months without a formed
government are counted as the vacuum.  The endogenous bargaining model
(elections, formation, apportionment, marginalization) replaces this module
when a scenario has a ``politics:`` section and the politics layer is installed.

Representation of community c = its share of power (half portfolios, half army
command, through each governing entity's community base) over its share of the
population, capped at 1; it feeds legitimacy.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from ..world import World
from .base import Module


def representation(world: World) -> np.ndarray:
    """Power share / population share per community, capped at 1."""
    g = world.gov
    if g.portfolio.sum() <= 1e-12 and g.command.sum() <= 1e-12:
        # a technocratic (non-sectarian) state apportions nothing to entities: no community
        # is under-represented by apportionment
        return np.ones(world.C)
    live = ~world.excluded
    power = 0.5 * (g.portfolio * live) @ world.bloc_comm + 0.5 * (g.command * live) @ world.bloc_comm
    pop = world.census().alive_rc().sum(0).astype(np.float64)
    share = pop / max(pop.sum(), 1.0)
    return np.minimum(1.0, np.where(share > 0, power / np.maximum(share, 1e-12), 1.0))


class ScriptedPolitics(Module):
    name = "politics"
    title = "Politics: government from the timeline, vacuum counted"
    STATE = ("gov", "vacuum_months", "representation")
    RESULTS = ("pm_by_term", "vacuum_days_by_term")

    def init(self) -> None:
        w = self.world
        g = w.sc.initial_government
        self.vacuum_start: dt.date | None = g.vacuum_since if g.caretaker else None
        w.representation = representation(w)

    def step(self, t: int) -> None:
        w = self.world
        timeline = w.modules["timeline"]
        ev = timeline.scripted_government.get(t)
        if ev is not None:
            w.gov = w._government_from(
                ev.pm_bloc, ev.pm_candidate, ev.coalition, ev.portfolio_shares, ev.command_shares, caretaker=False
            )
            w.gov.formed_month = t
            w.gov.term = len(w.pm_by_term) + 1
            days = (ev.date - self.vacuum_start).days if self.vacuum_start else 0
            w.vacuum_days_by_term.append(int(days))
            w.pm_by_term.append(
                {"term": w.gov.term, "pm_bloc": ev.pm_bloc, "pm_candidate": ev.pm_candidate, "date": ev.date.isoformat()}
            )
            self.vacuum_start = None
            # new command apportionment: re-draw the allegiance of serving members
            # in proportion to how much command changed hands
            w.reapportion_command()
        if w.gov.caretaker:
            w.vacuum_months += 1
        w.representation = representation(w)
