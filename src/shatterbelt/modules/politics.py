"""Step 2 - Politics: who governs, and how the state is apportioned among entities.

Two implementations of the step, both owning the same state (:class:`PoliticsModule`):

* :class:`ScriptedPolitics` takes the government from the scenario's timeline (for Iraq,
  the caretaker cabinet from the 7 March 2010 election until the coalition approved on
  21 December 2010) and counts the months without a formed government as the vacuum;
* :class:`EndogenousPolitics`, used when the scenario has a ``politics:`` section, runs the
  politics layer (:mod:`shatterbelt.politics`: elections, formation, apportionment,
  marginalization) inside the month loop.  Each month:

  1. a ``government`` event in the scenario's timeline, if any, is imposed (an exogenous
     override, used by counterfactuals such as a government formed at once);
  2. on a scheduled election (``election`` timeline event) votes are cast from each
     community's attachment to the lists in each governorate -- the 2010 attachments of
     the politics configuration -- with turnout = people alive there now x the 2010
     turnout rate x (0.5 + legitimacy now) / (0.5 + legitimacy at the start); seats follow
     the electoral rule of that election; a formation process starts, with the outgoing
     government as caretaker;
  3. while no government is formed, the formation advances by the month's days in weekly
     rounds; its delay costs grow with the violence index (last month's civilian deaths
     per 100,000, from the engine) and patrons' leverage scales with what they spend now
     (a patron with its own foreign force, as the US in Iraq, with its troops there);
  4. once a government governs, the PM's bloc may move against a rival (marginalization
     hazard: patron backing, restraint while a patron's own troops remain, the rival's
     weakness); the target loses command and portfolios and its community's legitimacy falls;
  5. under confessional rules (:mod:`shatterbelt.politics.confessional`): an election fills the
     seats reserved by confession district by district; a ``resignation`` timeline event starts a
     formation in the sitting parliament; an office the chamber elects (a head of state) is voted
     in weekly sessions from its window before the term ends, under its quorum, and a new holder
     may bring down the government (a formation follows).  Filled offices and their vacancies are
     in ``office_events``.

  Portfolio shares become the engine's rents (corruption follows portfolios), command
  shares its army command (allegiances of new and re-drawn state-force members), and the
  caretaker months its vacuum.  A technocratic allocation (claim C4) apportions nothing to
  entities: no rents, no entity command, full representation for every community.

Representation of community c = its share of power (half portfolios, half army
command, through each governing entity's community base) over its share of the
population, capped at 1; it feeds legitimacy.  After every new government (or
marginalization) the army re-draws the allegiance of a share of serving members.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..politics.apportion import Government as Cabinet
from ..politics.apportion import build_government
from ..politics.confessional import OfficeElectionProcess, elect_reserved, next_term_end, speaker
from ..politics.elections import default_attachment, default_turnout_rate, hold_election
from ..politics.formation import FormationProcess, violence_at
from ..politics.marginalization import draw_marginalization
from ..scenario.politics_schema import NONPARTISAN, PoliticsConfig
from ..world import World
from .base import Module
from .record import MonthRecord


@dataclass
class Government:
    """Who governs: the premiership, the coalition and how the state is apportioned among entities."""

    pm_bloc: int
    pm_candidate: str | None
    coalition: np.ndarray  # bool [B]
    portfolio: np.ndarray  # float [B], sums to 1 over the coalition
    command: np.ndarray  # float [B], army command apportionment
    caretaker: bool
    formed_month: int | None = None
    term: int = 0


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
        "seats_by_election", "representation", "marginalization_events", "office_events",
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
        self.define("office_events", [])  # offices filled (and their vacancies), under confessional rules

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
            w.vacuum_months = 0  # the vacuum ends when a government forms
            # new command apportionment: re-draw the allegiance of serving members
            # in proportion to how much command changed hands
            self.reapportion_command()
        if w.gov.caretaker:
            w.vacuum_months += 1
        w.representation = representation(w)


class EndogenousPolitics(PoliticsModule):
    name = "politics"
    title = "Politics: elections, formation, apportionment, marginalization"
    READS = (
        "scripted_government", "election_due", "resignation_due", "L", "patron_budget", "foreign_level", "civ_deaths_rc",
    )

    # ------------------------------------------------------------------ setup
    def init(self) -> None:
        w = self.world
        assert w.sc.politics is not None  # the engine installs this module only when there is one
        self.cfg: PoliticsConfig = w.sc.politics
        self.seats = {b: int(s) for b, s in zip(w.bloc.ids, w.seats, strict=True)}
        self.pgov: Cabinet | None = None
        self.proc: FormationProcess | None = None
        self.election_date: dt.date | None = None
        # a patron with its own foreign force (the US in Iraq): its support follows its troops there
        self.patron_forces: dict[str, np.ndarray] = {}
        for a in np.flatnonzero(w.is_foreign):
            for p in w.sc.actor(w.act.ids[a]).patrons:
                if p in w.pat.pos:
                    self.patron_forces[p] = np.append(self.patron_forces.get(p, np.zeros(0, np.int64)), a)
        self.forces_ref = {p: max(float(w.size0[idx].sum()), 1.0) for p, idx in self.patron_forces.items()}
        # offices the chamber elects: the sitting holder's term end, and the election in progress
        self.offices = [
            {"spec": e, "term_ends": e.term_ends, "proc": None, "new_government": None}
            for e in self.cfg.office_elections or []
        ]
        w.seats_by_election = {}
        w.excl_penalty = np.zeros(w.C)
        self.L0: np.ndarray | None = None  # legitimacy in the first month (turnout baseline), taken at step 0
        start = w.month_date(0)
        g = w.sc.initial_government
        if g.caretaker:
            # the election that opened the vacuum happened before the start: replay the
            # formation from election day to the start on the configuration's documented
            # violence path (inputs known at the start), then go on month by month
            self.election_date = self.cfg.election_date
            self.proc = FormationProcess(self.cfg, self.seats, self.election_date, w.gen("politics.formation", 0))
            self.pgov = self.proc.caretaker()
            day = 0
            days_before = (start - self.election_date).days
            while day < days_before and not self.proc.done:
                step = min(30, days_before - day)
                self.proc.advance(step, violence_at(self.cfg, day))
                day += step
            if self.proc.done and self.proc.government is not None:
                self._install(self.proc.government, -1)
        else:
            seats = self.seats
            self.pgov = build_government(
                self.cfg, self._candidate_id(g.pm_candidate, g.pm_bloc), g.coalition, seats, formed_day=0, term=1
            )
        w.representation = representation(w)

    def _candidate_id(self, name: str | None, bloc: str) -> str:
        for c in self.cfg.candidates:
            if name is not None and (c.id == name or c.name == name):
                return c.id
        for c in self.cfg.candidates:
            if c.bloc == bloc:
                return c.id
        return self.cfg.candidates[0].id

    # ------------------------------------------------------------------ month
    def step(self, t: int) -> None:
        w = self.world
        if self.L0 is None:
            self.L0 = w.L.copy()  # legitimacy has been initialised by now
        ev = w.scripted_government.get(t)
        if ev is not None:
            self.proc = None
            gov = build_government(
                self.cfg, self._candidate_id(ev.pm_candidate, ev.pm_bloc), ev.coalition, self.seats,
                formed_day=(ev.date - self.election_date).days if self.election_date else 0,
                term=(self.pgov.term + 1) if self.pgov else 1,
            )
            if self.cfg.apportionment.method != "technocratic":
                # the imposed government's own shares; under a technocratic allocation the
                # imposed coalition still apportions nothing to entities (claim C4)
                gov = Cabinet(
                    gov.pm_bloc, gov.pm_candidate, gov.coalition, dict(ev.portfolio_shares),
                    dict(ev.portfolio_shares), dict(ev.command_shares or gov.command_shares), gov.formed_day,
                    gov.term, gov.portfolios, False, gov.agreement_day,
                )
            self._install(gov, t, date=ev.date)
        if w.election_due:
            self._election(t)
        if w.resignation_due is not None:
            self._resign(t, w.resignation_due)
        if self.offices:
            self._offices(t)
        if self.proc is not None and not self.proc.done:
            days = w.days_in_month(t)
            d0 = w.month_date(t)
            if self.election_date is not None and self.election_date > d0:
                days = max(0, days - (self.election_date - d0).days)
            formed = self.proc.advance(days, self._violence_index(), self._leverage())
            if formed is not None:
                self._install(formed, t)
        if w.gov.caretaker:
            w.vacuum_months += 1
        else:
            self._marginalize(t)
        w.representation = representation(w)

    # ------------------------------------------------------------------ pieces
    def _violence_index(self) -> float:
        """Last month's civilian deaths per 100,000 people (the politics layer's unit)."""
        w = self.world
        prev = w.prev_log
        if prev is None:
            return float(violence_at(self.cfg, (w.month_date(0) - self.cfg.election_date).days))
        pop = max(float(w.census().alive()) * w.w, 1.0)
        return float(prev.civ_deaths_rc.sum()) / pop * 1e5

    def _support(self) -> dict[str, float]:
        """Each patron's current weight relative to the start: its budget now, the US's troops."""
        w = self.world
        out: dict[str, float] = {}
        for i, p in enumerate(w.pat.ids):
            b0 = float(w.patron_budget0[i])
            out[p] = float(w.patron_budget[i]) / b0 if b0 > 0 else 0.0
        for p, idx in self.patron_forces.items():
            out[p] = float(w.foreign_level[idx].sum()) / self.forces_ref[p]
        return out

    def _leverage(self) -> dict[str, dict[str, float]]:
        sup = self._support()
        lev: dict[str, dict[str, float]] = {}
        for p in self.cfg.patrons:
            if p.id in sup:
                lev[p.id] = {b: float(v.value) * min(2.0, sup[p.id]) for b, v in p.leverage.items()}
        return lev

    def _election(self, t: int) -> None:
        w = self.world
        d0 = w.month_date(t)
        sched = next(
            (s for s in self.cfg.scheduled_elections if s.date.year == d0.year and s.date.month == d0.month), None
        )
        date = sched.date if sched is not None else d0
        system = sched.system if sched is not None and sched.system is not None else None
        reserved = self.cfg.seat_reservations is not None
        # under reserved seats every resident citizen may vote (the community's attachment to the lists
        # decides whether it does); otherwise the documented election's turnout rates
        rate = {} if reserved else default_turnout_rate(self.cfg)
        att = {} if reserved else default_attachment(self.cfg)
        alive = w.census().alive_rc().astype(np.float64) * w.w
        turnout: dict[str, dict[str, float]] = {}
        L0 = self.L0 if self.L0 is not None else w.L
        for r, g in enumerate(w.reg.ids):
            if reserved:
                if g not in self.cfg.seat_reservations.districts:  # type: ignore[union-attr]
                    continue
                rate[g] = dict.fromkeys(w.comm.ids, 1.0)
            elif g not in att:
                continue
            turnout[g] = {}
            for ci, c in enumerate(w.comm.ids):
                rr = rate.get(g, {}).get(c, 0.0)
                factor = (0.5 + w.L[r, ci]) / (0.5 + L0[r, ci])
                turnout[g][c] = float(alive[r, ci] * rr * factor)
        if self.cfg.seat_reservations is not None:
            seats = elect_reserved(self.cfg, turnout, w.gen("politics.election", t), system=system).seats
        else:
            seats = hold_election(self.cfg, att, turnout, w.gen("politics.election", t), system=system)
        self.seats = {b: int(seats.get(b, 0)) for b in w.bloc.ids}
        w.seats = np.array([self.seats[b] for b in w.bloc.ids], np.float64)
        w.seats_by_election[date.isoformat()] = dict(self.seats)
        spk = speaker(self.cfg, self.seats)
        if spk is not None:
            w.office_events.append({"office": self.cfg.reserved_office("speaker").id,  # type: ignore[union-attr]
                                    "bloc": spk, "elected": date.isoformat(), "vacancy_days": 0})
        self._start_formation(t, date, "politics.formation")

    def _start_formation(self, t: int, date: dt.date, stream: str) -> None:
        """A formation in the current parliament from ``date``, the outgoing government as caretaker."""
        w = self.world
        self.election_date = date
        outgoing = self.pgov
        self.proc = FormationProcess(
            self.cfg, {b: s for b, s in self.seats.items() if b in self.cfg.bloc_ids()}, date,
            w.gen(stream, t), outgoing=outgoing,
        )
        if outgoing is not None:
            self.pgov = outgoing.as_caretaker()
        w.gov.caretaker = True

    def _resign(self, t: int, date: dt.date) -> None:
        """The government resigns (a timeline event): a formation starts in the sitting parliament."""
        self._start_formation(t, date, "politics.resignation")

    def _offices(self, t: int) -> None:
        """Offices the chamber elects: open the sessions in the window before the term ends, advance them by
        the month's days, and on an election record it, set the next term's end and (if the rule says so)
        bring the government down once the new term starts."""
        w = self.world
        d0 = w.month_date(t)
        d1 = d0 + dt.timedelta(days=w.days_in_month(t))
        for k, off in enumerate(self.offices):
            spec = off["spec"]
            pending = off["new_government"]
            if pending is not None and pending < d1:
                off["new_government"] = None
                self._start_formation(t, max(pending, d0), "politics.office")
            proc = off["proc"]
            if proc is None:
                opens = off["term_ends"] - dt.timedelta(days=int(round(spec.window_days.value)))
                if opens >= d1:
                    continue
                proc = OfficeElectionProcess(self.cfg, spec, self.seats, off["term_ends"],
                                             w.gen(f"politics.office{k}", t))
                proc.day = max(0, (d0 - proc.opens).days)
                off["proc"] = proc
            out = proc.advance(max(0, (d1 - proc.opens).days - proc.day), self._violence_index())
            if out is None:
                continue
            off["proc"] = None
            off["term_ends"] = next_term_end(spec, out)
            w.office_events.append(out.to_dict())
            if spec.new_government:
                if out.term_starts < d1:
                    self._start_formation(t, out.term_starts, "politics.office")
                else:
                    off["new_government"] = out.term_starts

    def _install(self, gov: Cabinet, t: int, date: dt.date | None = None) -> None:
        """Make ``gov`` the engine's government (rents, command, representation) and record the term."""
        w = self.world
        self.pgov = gov
        w.gov = self._engine_gov(gov, caretaker=False)
        w.gov.formed_month = max(t, 0)
        w.gov.term = len(w.pm_by_term) + 1
        if date is None:
            date = self.election_date + dt.timedelta(days=int(gov.formed_day)) if self.election_date else w.month_date(0)
        cand = self.cfg.candidate(gov.pm_candidate) if gov.pm_candidate in self.cfg.candidate_ids() else None
        vac = int(gov.formed_day)
        w.vacuum_days_by_term.append(vac)
        w.pm_by_term.append(
            {
                "term": w.gov.term,
                "pm_bloc": gov.pm_bloc,
                "pm_candidate": cand.name if cand is not None else gov.pm_candidate,
                "date": date.isoformat(),
                "election": self.election_date.isoformat() if self.election_date else None,
                "vacuum_days": vac,
                "coalition": list(gov.coalition),
                "portfolios": dict(gov.portfolios),
            }
        )
        self.proc = None
        w.vacuum_months = 0  # the vacuum ends when a government forms
        self.reapportion_command()

    def _engine_gov(self, gov: Cabinet, caretaker: bool) -> Government:
        w = self.world
        coal = np.zeros(w.B, bool)
        port = np.zeros(w.B)
        cmd = np.zeros(w.B)
        for b in gov.coalition:
            if b in w.bloc.pos:
                coal[w.bloc[b]] = True
        for b, s in gov.portfolio_shares.items():
            if b != NONPARTISAN and b in w.bloc.pos:
                port[w.bloc[b]] = s
        for b, s in gov.command_shares.items():
            if b != NONPARTISAN and b in w.bloc.pos:
                cmd[w.bloc[b]] = s
        pm = w.bloc.get(gov.pm_bloc) if gov.pm_bloc else -1
        cand = self.cfg.candidate(gov.pm_candidate).name if gov.pm_candidate in self.cfg.candidate_ids() else gov.pm_candidate
        return Government(pm, cand, coal, port, cmd, caretaker)

    def _marginalize(self, t: int) -> None:
        w = self.world
        if self.pgov is None or self.pgov.caretaker:
            return
        ev = draw_marginalization(self.cfg, self.pgov, self.seats, w.gen("politics.marginalization", t),
                                  support=self._support())
        if ev is None:
            return
        self.pgov = ev.government
        keep = (w.gov.formed_month, w.gov.term)
        w.gov = self._engine_gov(ev.government, caretaker=False)
        w.gov.formed_month, w.gov.term = keep
        ci = w.comm.get(ev.community)
        if ci >= 0:
            w.excl_penalty[ci] += ev.legitimacy_penalty
        rec: dict[str, Any] = {"month": w.months[t], **ev.to_dict()}
        w.marginalization_events.append(rec)
        self.reapportion_command()
