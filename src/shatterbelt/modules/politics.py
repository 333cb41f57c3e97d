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
from typing import Any

import numpy as np

from ..world import Government, World
from .base import Module
from .record import MonthRecord


def government_from(
    world: World,
    pm_bloc: str,
    pm_candidate: str | None,
    coalition: list[str],
    portfolio: dict[str, float],
    command: dict[str, float] | None,
    caretaker: bool,
) -> Government:
    """The engine's government from bloc ids: coalition flags, portfolio and command shares (normalised;
    command defaults to the scenario's ``army.command_apportionment``)."""
    w = world
    coal = np.zeros(w.B, bool)
    for b in coalition:
        coal[w.bloc[b]] = True
    port = np.zeros(w.B)
    for b, s in portfolio.items():
        port[w.bloc[b]] = s
    port /= max(port.sum(), 1e-12)
    cmd = np.zeros(w.B)
    src = command if command else w.sc.army.command_apportionment
    for b, s in src.items():
        cmd[w.bloc[b]] = s
    cmd /= max(cmd.sum(), 1e-12)
    return Government(w.bloc[pm_bloc], pm_candidate, coal, port, cmd, caretaker)


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


class PoliticsModule(Module):
    """The state every politics step owns (the scripted and the endogenous one alike)."""

    name = "politics"
    STATE = (
        "gov", "vacuum_months", "vacuum_days_by_term", "pm_by_term", "excluded", "excl_penalty", "seats",
        "seats_by_election", "representation", "marginalization_events",
    )
    USES = ("army",)
    RESULTS = (
        ("national", "vacuum"), ("national", "vacuum_months"), ("national", "representation_{community}"),
    )

    def define_states(self) -> None:
        w = self.world
        sc = w.sc
        g = sc.initial_government
        self.define(
            "gov",
            government_from(
                w, g.pm_bloc, g.pm_candidate, g.coalition, g.portfolio_shares, sc.army.command_apportionment, g.caretaker
            ),
        )
        vacuum = 0
        if g.caretaker and g.vacuum_since is not None:
            start = w.month_date(0)
            vacuum = max(0, (start.year - g.vacuum_since.year) * 12 + start.month - g.vacuum_since.month)
        self.define("vacuum_months", vacuum)
        self.define("vacuum_days_by_term", [])
        pm: list[dict[str, Any]] = []
        self.define("pm_by_term", pm)
        self.define("excluded", False, (w.B,), bool)  # entities excluded outright from power
        self.define("excl_penalty", 0.0, (w.C,))  # legitimacy lost by each community to marginalization events
        self.define("seats", np.array([b.seats for b in sc.blocs], np.float64), (w.B,))
        self.define("seats_by_election", {})
        self.define("representation", 1.0, (w.C,))
        self.define("marginalization_events", [])

    def reapportion_command(self) -> None:
        """A new command apportionment: the army re-draws the allegiance of serving members."""
        self.dep("army").reapportion_command()  # type: ignore[attr-defined]

    def record(self, t: int, out: MonthRecord) -> None:
        w = self.world
        out.nat["vacuum"] = float(w.gov.caretaker)
        out.nat["vacuum_months"] = w.vacuum_months
        for ci, c in enumerate(w.comm.ids):
            out.nat[f"representation_{c}"] = w.representation[ci]


class ScriptedPolitics(PoliticsModule):
    title = "Politics: government from the timeline, vacuum counted"
    READS = ("scripted_government",)

    def init(self) -> None:
        w = self.world
        g = w.sc.initial_government
        self.vacuum_start: dt.date | None = g.vacuum_since if g.caretaker else None
        w.representation = representation(w)

    def step(self, t: int) -> None:
        w = self.world
        ev = w.scripted_government.get(t)
        if ev is not None:
            w.gov = government_from(
                w, ev.pm_bloc, ev.pm_candidate, ev.coalition, ev.portfolio_shares, ev.command_shares, caretaker=False
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
            self.reapportion_command()
        if w.gov.caretaker:
            w.vacuum_months += 1
        w.representation = representation(w)
