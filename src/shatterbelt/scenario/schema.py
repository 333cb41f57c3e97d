"""The scenario as validated data.

A scenario is everything the model needs to know about one country at one
moment: its regions and communities, its political entities (blocs), its armed
actors, its army, the foreign patrons, the economy, a timeline of exogenous
events and the model's parameters.  It is written in YAML and validated here
with pydantic so that a bad file fails at load time with one line naming the
field (see :mod:`shatterbelt.resolve`), never deep inside a run.

Every number that the model uses is a :class:`~shatterbelt.scenario.params.Param`
carrying a value, a plausible range for ensembles and its provenance.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, TypeAdapter, ValidationError, field_validator, model_validator

from .params import (
    Count,
    Money,
    Multiplier,
    NonNegative,
    Number,
    Param,
    Positive,
    Probability,
    Share,
    Strict,
    UnitWeight,
)
from .politics_schema import PoliticsConfig, check_politics

#: the most persons a region may have (ten times the most populous country)
MAX_POPULATION = 15_000_000_000

MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
ID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")


def _check_month(v: str) -> str:
    if not isinstance(v, str) or not MONTH_RE.match(v):
        raise ValueError(f"'{v}' is not a month written YYYY-MM")
    return v


def _check_id(v: str) -> str:
    if not ID_RE.match(v):
        raise ValueError(f"'{v}' is not a valid id (letters, digits, '_' or '-', starting with a letter)")
    return v


MonthStr = Annotated[str, AfterValidator(_check_month)]
Id = Annotated[str, AfterValidator(_check_id)]
Shares = dict[str, float]


def _check_shares(v: dict[str, float], what: str, tol: float = 1e-6, must_sum: bool = True) -> dict[str, float]:
    for k, x in v.items():
        if not math.isfinite(x):
            raise ValueError(f"{what} '{k}' is not a finite number ({x})")
        if x < 0:
            raise ValueError(f"{what} '{k}' is negative ({x})")
    if must_sum and not v:
        raise ValueError(f"{what} are empty; they must sum to 1")
    if must_sum and v:
        s = sum(v.values())
        if abs(s - 1.0) > tol:
            raise ValueError(f"{what} sum to {s:.6g}, not 1")
    return v


# --------------------------------------------------------------------------- geography


class Community(Strict):
    id: Id
    name: str
    occupation_aversion: UnitWeight | None = Field(
        None, description="how much a foreign military presence lowers this community's view of the state, in [0, 1]"
    )


class Region(Strict):
    """A governorate (or any first-level region) and who lives there."""

    id: str = Field(description="ISO 3166-2 code or other stable id")
    name: str
    population: int = Field(description="persons at the start")
    population_source: str
    shares: Shares = Field(description="community -> share of the population (sums to 1)")
    shares_range: dict[str, tuple[float, float]] = Field(default_factory=dict)
    shares_source: str = "assumption"
    autonomous: bool = Field(False, description="inside an autonomous region with its own budget share (KRG)")
    disputed: bool = False
    border: list[str] = Field(default_factory=list, description="international neighbours")

    @field_validator("population")
    @classmethod
    def _pop(cls, v: int) -> int:
        if v < 0:
            raise ValueError(f"must be >= 0, got {v}")
        if v > MAX_POPULATION:
            raise ValueError(f"must be at most {MAX_POPULATION:,} persons, got {v:,}")
        return v

    @field_validator("shares")
    @classmethod
    def _shares(cls, v: Shares) -> Shares:
        return _check_shares(v, "shares", tol=1e-3)

    @model_validator(mode="after")
    def _ranges(self) -> Region:
        for c, (lo, hi) in self.shares_range.items():
            if c not in self.shares:
                raise ValueError(f"shares_range names community '{c}' absent from shares")
            if lo > hi:
                raise ValueError(f"shares_range.{c} has low > high")
        return self


# --------------------------------------------------------------------------- politics


class Bloc(Strict):
    """A political entity: an electoral list / party with a community base and patrons."""

    id: Id
    name: str
    community: Shares = Field(description="community base: community -> share of its support")
    seats: int = 0
    patrons: dict[str, float] = Field(default_factory=dict, description="patron -> initial alignment (sum <= 1)")
    armed_wing_share: Share | None = Field(None, description="share of the bloc's rents passed to its armed wing")

    @field_validator("community")
    @classmethod
    def _c(cls, v: Shares) -> Shares:
        return _check_shares(v, "community shares", tol=1e-3)

    @field_validator("seats")
    @classmethod
    def _seats(cls, v: int) -> int:
        if v < 0:
            raise ValueError(f"must be >= 0, got {v}")
        return v

    @field_validator("patrons")
    @classmethod
    def _p(cls, v: dict[str, float]) -> dict[str, float]:
        _check_shares(v, "patron alignments", must_sum=False)
        if sum(v.values()) > 1 + 1e-6:
            raise ValueError(f"patron alignments sum to {sum(v.values()):.4g} > 1")
        return v


class ActorKind(StrEnum):
    state_army = "state_army"
    police = "police"
    regional_guard = "regional_guard"
    militia = "militia"
    tribal = "tribal"
    insurgency = "insurgency"
    foreign_force = "foreign_force"


STATE_KINDS = {ActorKind.state_army, ActorKind.police}


class Funding(Strict):
    """Where an actor's money comes from (all USD per month)."""

    state_budget_share: Share | None = Field(
        None, description="share of the federal security budget paying this actor (state-paid forces)"
    )
    regional_budget_share: Share | None = Field(
        None, description="share of the autonomous region's budget (KRG) paying this actor"
    )
    pay_reliability: Probability | None = Field(None, description="probability a month's pay arrives (arrears when not)")
    extortion_per_capita: Money | None = Field(
        None, description="USD per month raised per person of its community under its control"
    )
    own_income: Money | None = Field(None, description="other own income, USD per month")


class Hostility(Strict):
    actors: dict[str, float] = Field(default_factory=dict, description="actor -> hostility in [0,1]")
    communities: dict[str, float] = Field(
        default_factory=dict, description="community -> propensity to target its civilians, in [0,1]"
    )

    @model_validator(mode="after")
    def _unit(self) -> Hostility:
        for what, d in (("actors", self.actors), ("communities", self.communities)):
            for k, x in d.items():
                if not 0 <= x <= 1:
                    raise ValueError(f"{what}.{k} must lie in [0, 1], got {x}")
        return self


class Actor(Strict):
    """An armed actor: state army, police, regional guard, militia, tribal force, insurgency or foreign force."""

    id: Id
    name: str
    kind: ActorKind
    community: Shares | None = Field(None, description="community base; None = recruits from all communities")
    parent: str | None = Field(None, description="parent entity (bloc id)")
    patrons: dict[str, float] = Field(default_factory=dict, description="patron -> initial alignment")
    legal: Literal["recognized", "outlaw"] = "recognized"
    size: Count = Field(description="fighters (persons) at the start; for a foreign force, troops")
    regions: dict[str, float] = Field(description="region -> share of its fighters at the start")
    recruits_in: list[str] | None = Field(None, description="regions it may recruit in (default: where present)")
    pay: Money = Field(description="USD per fighter per month")
    quality: Multiplier = Field(description="combat effectiveness per fighter relative to the army")
    tempo: Multiplier | None = Field(None, description="multiplier on its kind's attack rate (operational tempo; default 1)")
    funding: Funding = Field(default_factory=Funding)
    hostility: Hostility = Field(default_factory=Hostility)
    civilian_event_share_explosive: float = Field(
        0.0, ge=0, le=1, description="share of its attacks on civilians that are bombings (ACLED Explosions/Remote violence)"
    )
    motivation: dict[str, float] = Field(
        default_factory=dict,
        description="weights of grievance, fear, pay, legitimacy, ideology in the joining rule (see mobilization)",
    )
    threshold: Number | None = Field(None, description="joining threshold T of the activation rule")
    spreads: bool = Field(False, description="can become present in neighbouring regions it does not hold")
    foreign_fighters: bool = Field(
        False,
        description="an insurgency that receives the foreign fighters of a war next door (if no insurgency is marked, all do)",
    )
    active_from: MonthStr | None = Field(
        None, description="first month the actor exists (YYYY-MM, not before the start; default: the start); it enters with its `size` placed by `regions`"
    )
    active_until: MonthStr | None = Field(
        None, description="last month the actor exists (YYYY-MM; default: the horizon); its fighters then return to civilian life"
    )

    @field_validator("community")
    @classmethod
    def _c(cls, v: Shares | None) -> Shares | None:
        return None if v is None else _check_shares(v, "community shares", tol=1e-3)

    @field_validator("regions")
    @classmethod
    def _r(cls, v: dict[str, float]) -> dict[str, float]:
        return _check_shares(v, "region shares", tol=1e-3)

    @field_validator("motivation")
    @classmethod
    def _m(cls, v: dict[str, float]) -> dict[str, float]:
        allowed = {"grievance", "fear", "pay", "legitimacy", "ideology"}
        for k in v:
            if k not in allowed:
                raise ValueError(f"unknown motivation '{k}' (allowed: {', '.join(sorted(allowed))})")
        return v

    @property
    def is_state(self) -> bool:
        return self.kind in STATE_KINDS

    @property
    def has_agents(self) -> bool:
        return self.kind != ActorKind.foreign_force


def _check_dates(a: Actor, where: str, start: str) -> None:
    """An actor's ``active_from`` / ``active_until``: only on actors with agents, not before the start, in order.

    A month after the horizon is accepted: a run cut short (``until``) keeps its scenario's later
    dates (its resolved scenario must load again), and an actor dated after the horizon simply does
    not enter, or is not dissolved, within the run.
    """
    for f in ("active_from", "active_until"):
        d = getattr(a, f)
        if d is None:
            continue
        if not a.has_agents:
            raise ValueError(f"{where}.{f}: a foreign force enters and leaves through the timeline's troop levels, not dates")
        if d < start:
            raise ValueError(f"{where}.{f}: {d} is before the start of the run ({start})")
    if a.active_from is not None and a.active_until is not None and a.active_until <= a.active_from:
        raise ValueError(f"{where}.active_until: {a.active_until} is not after active_from {a.active_from}")


class Army(Strict):
    """The official army: its command apportioned among entities (S3's infiltration)."""

    actor: str = Field(description="id of the state_army actor")
    command_apportionment: Shares = Field(description="bloc -> share of army command before a government forms")
    community_mix: Shares = Field(description="community -> share of recruits")
    deployment: dict[str, float] = Field(description="region -> share of deployed soldiers")
    infiltration: UnitWeight = Field(description="weight of entity allegiance over plain community loyalty (0 = none)")
    ghost_factor: Share = Field(description="share of corruption that becomes ghost soldiers")

    @field_validator("command_apportionment", "community_mix", "deployment")
    @classmethod
    def _s(cls, v: Shares) -> Shares:
        return _check_shares(v, "shares", tol=1e-3)


class Patron(Strict):
    """A foreign patron funding clients in exchange for alignment (S4)."""

    id: Id
    name: str
    budget: Money = Field(description="USD per month for clients")
    clients: list[str] = Field(description="actor or bloc ids")
    objectives: dict[str, float] = Field(
        default_factory=dict, description="client id -> weight of the patron's objective served by that client"
    )
    leans_in_as_us_leaves: Number | None = Field(None, description="budget multiplier slope as foreign troops leave")
    follows_exclusion: dict[str, Number] = Field(
        default_factory=dict, description="community -> budget multiplier slope with that community's exclusion"
    )


class SeriesPoint(Strict):
    month: MonthStr
    value: float


class Economy(Strict):
    revenue: list[SeriesPoint] = Field(description="government revenue, USD per month (held after the last point)")
    revenue_source: str
    revenue_scale: Multiplier = Field(description="multiplier on the revenue series (ensembles)")
    corruption: Share = Field(description="share of revenue diverted into entity rents")
    regional_budget_share: Share = Field(description="share of the non-diverted budget for the autonomous region")
    security_share: Share = Field(description="share of the federal budget for security forces")
    services_need: Positive = Field(description="USD per person per month at which services reach 63% (1 - 1/e)")

    @field_validator("revenue")
    @classmethod
    def _rev(cls, v: list[SeriesPoint]) -> list[SeriesPoint]:
        if not v:
            raise ValueError("needs at least one point")
        months = [p.month for p in v]
        if months != sorted(months):
            raise ValueError("points must be in time order")
        for p in v:
            if p.value < 0:
                raise ValueError(f"revenue at {p.month} is negative")
        return v


# --------------------------------------------------------------------------- timeline


class EventBase(Strict):
    date: dt.date
    note: str | None = None
    source: str = "assumption"


class ForeignTroops(EventBase):
    type: Literal["foreign_troops"]
    force: str = Field(description="foreign_force actor id")
    level: float = Field(ge=0, description="troops from this date")


class GovernmentFormed(EventBase):
    type: Literal["government"]
    pm_bloc: str
    pm_candidate: str | None = None
    coalition: list[str]
    portfolio_shares: Shares
    command_shares: Shares | None = None

    @field_validator("portfolio_shares")
    @classmethod
    def _ps(cls, v: Shares) -> Shares:
        return _check_shares(v, "portfolio shares", tol=1e-3)


class RegionalWar(EventBase):
    type: Literal["regional_war"]
    intensity: float = Field(ge=0, le=1, description="0 = none, 1 = full civil war next door")
    border_regions: list[str] = Field(default_factory=list)


class Election(EventBase):
    type: Literal["election"]


class Resignation(EventBase):
    """The government resigns on this date (an exogenous input); with a politics section a formation
    starts in the sitting parliament, with the outgoing government as caretaker."""

    type: Literal["resignation"]


class PayChange(EventBase):
    type: Literal["pay_change"]
    actor: str
    reliability: float = Field(ge=0, le=1)


class Shock(EventBase):
    type: Literal["shock"]
    target: str = Field(
        description="the parameter's path: economy.<name> (e.g. economy.revenue_scale) or parameters.<module>.<name>"
    )
    value: float


TimelineEvent = Annotated[
    ForeignTroops | GovernmentFormed | RegionalWar | Election | Resignation | PayChange | Shock,
    Field(discriminator="type"),
]


class InitialGovernment(Strict):
    pm_bloc: str
    pm_candidate: str | None = None
    coalition: list[str]
    portfolio_shares: Shares
    caretaker: bool = Field(True, description="a caretaker government (a vacuum) at the start")
    vacuum_since: dt.date | None = Field(None, description="date the vacuum began (the election)")

    @field_validator("portfolio_shares")
    @classmethod
    def _ps(cls, v: Shares) -> Shares:
        return _check_shares(v, "portfolio shares", tol=1e-3)


# --------------------------------------------------------------------------- population


class PopulationSpec(Strict):
    fighting_age_share: Share = Field(description="share of persons who can fight (men 15-49)")
    community_tilt: UnitWeight = Field(
        description="0 = per-region point shares; 1 = each region at the corner of its ranges closest to the national figure"
    )
    national_shares_reference: Shares = Field(
        default_factory=dict, description="national community shares quoted elsewhere (reported against)"
    )
    national_shares_source: str = ""
    initial_displaced: Count = Field(description="internally displaced persons at the start")
    displaced_hardship: NonNegative = Field(description="hardship added to a displaced person")


class Evaluation(Strict):
    """How ``shatterbelt backtest`` scores this scenario: the windows and the observations.

    Periods up to ``fit_until`` are *in-sample* (the calibrated parameters may have seen
    them); ``test_from`` .. ``test_until`` are *out-of-sample*.  ``observed`` names a CSV
    file in the package's data folder (``iraq/observed.csv``) in the back-test's observed
    format; ``country_code`` is the ISO 3166-1 alpha-3 code the file's rows must carry.
    """

    country_code: str = Field("", description="ISO 3166-1 alpha-3 code of the scenario's country, e.g. IRQ")
    fit_until: MonthStr = Field(description="last month of the in-sample (calibration) window")
    test_from: MonthStr = Field(description="first month of the out-of-sample window")
    test_until: MonthStr = Field(description="last month of the out-of-sample window")
    observed: str = Field("", description="observed-outcomes CSV in the package's data folder, e.g. iraq/observed.csv")

    @model_validator(mode="after")
    def _order(self) -> Evaluation:
        if self.country_code and not re.fullmatch(r"[A-Z]{3}", self.country_code):
            raise ValueError(f"country_code: '{self.country_code}' is not an ISO 3166-1 alpha-3 code (three capitals)")
        if not self.fit_until < self.test_from:
            raise ValueError(f"test_from: {self.test_from} must come after fit_until {self.fit_until}")
        if self.test_until < self.test_from:
            raise ValueError(f"test_until: {self.test_until} is before test_from {self.test_from}")
        if self.observed and (self.observed.startswith(("/", ".")) or ".." in self.observed
                              or not self.observed.endswith(".csv")):
            raise ValueError(f"observed: '{self.observed}' must name a .csv file inside the package's data folder")
        return self


# --------------------------------------------------------------------------- the scenario


class Scenario(Strict):
    name: str
    description: str = ""
    country: str = ""
    iso_numeric: int = Field(0, ge=0, le=999, description="ISO 3166-1 numeric code used in the events' iso column")
    start: MonthStr
    horizon: MonthStr
    communities: list[Community]
    regions: list[Region]
    adjacency: list[tuple[str, str]]
    population: PopulationSpec
    blocs: list[Bloc]
    actors: list[Actor]
    army: Army
    patrons: list[Patron]
    economy: Economy
    initial_government: InitialGovernment
    timeline: list[TimelineEvent] = Field(default_factory=list)
    parameters: dict[str, dict[str, Param]] = Field(
        default_factory=dict, description="module -> parameter -> Param (defaults come from each module)"
    )
    politics: PoliticsConfig | None = Field(
        None,
        description="politics layer (endogenous elections and formation); a built-in name is expanded at load",
    )
    sources: dict[str, str] = Field(default_factory=dict, description="short key -> full citation")
    evaluation: Evaluation | None = Field(None, description="back-test windows and observations (optional)")

    # ----------------------------------------------------------- cross references
    @model_validator(mode="after")
    def _cross(self) -> Scenario:  # noqa: C901 - one place for every cross-reference check
        comm = [c.id for c in self.communities]
        _unique(comm, "communities")
        reg = [r.id for r in self.regions]
        _unique(reg, "regions")
        blocs = [b.id for b in self.blocs]
        _unique(blocs, "blocs")
        actors = [a.id for a in self.actors]
        _unique(actors, "actors")
        patrons = [p.id for p in self.patrons]
        _unique(patrons, "patrons")
        if self.horizon < self.start:
            raise ValueError(f"horizon {self.horizon} is before start {self.start}")
        cs, rs, bs, as_, ps = set(comm), set(reg), set(blocs), set(actors), set(patrons)

        for i, r in enumerate(self.regions):
            for c in r.shares:
                _known(c, cs, f"regions[{i}].shares", "community")
        for i, (a, b) in enumerate(self.adjacency):
            _known(a, rs, f"adjacency[{i}]", "region")
            _known(b, rs, f"adjacency[{i}]", "region")
            if a == b:
                raise ValueError(f"adjacency[{i}]: region '{a}' adjacent to itself")
        for i, b in enumerate(self.blocs):
            for c in b.community:
                _known(c, cs, f"blocs[{i}].community", "community")
            for p in b.patrons:
                _known(p, ps, f"blocs[{i}].patrons", "patron")
        for i, a in enumerate(self.actors):
            where = f"actors[{i}]"
            for c in a.community or {}:
                _known(c, cs, f"{where}.community", "community")
            if a.parent is not None:
                _known(a.parent, bs, f"{where}.parent", "bloc")
            for p in a.patrons:
                _known(p, ps, f"{where}.patrons", "patron")
            for r in a.regions:
                _known(r, rs, f"{where}.regions", "region")
            _check_dates(a, where, self.start)
            for r in a.recruits_in or []:
                _known(r, rs, f"{where}.recruits_in", "region")
            for x in a.hostility.actors:
                _known(x, as_, f"{where}.hostility.actors", "actor")
            for c in a.hostility.communities:
                _known(c, cs, f"{where}.hostility.communities", "community")
        army_ids = [a.id for a in self.actors if a.kind == ActorKind.state_army]
        if self.army.actor not in as_:
            raise ValueError(f"army.actor: unknown actor '{self.army.actor}'")
        if self.army.actor not in army_ids:
            raise ValueError(f"army.actor: '{self.army.actor}' is not a state_army actor")
        army_a = next(a for a in self.actors if a.id == self.army.actor)
        if army_a.active_from is not None or army_a.active_until is not None:
            raise ValueError(f"army.actor: the state's army '{self.army.actor}' exists for the whole run (no active_from / active_until)")
        for b in self.army.command_apportionment:
            _known(b, bs, "army.command_apportionment", "bloc")
        for c in self.army.community_mix:
            _known(c, cs, "army.community_mix", "community")
        for r in self.army.deployment:
            _known(r, rs, "army.deployment", "region")
        for i, p in enumerate(self.patrons):
            for cl in p.clients:
                if cl not in as_ and cl not in bs:
                    raise ValueError(f"patrons[{i}].clients: unknown actor or bloc '{cl}'")
            for cl in p.objectives:
                if cl not in as_ and cl not in bs:
                    raise ValueError(f"patrons[{i}].objectives: unknown actor or bloc '{cl}'")
            for c in p.follows_exclusion:
                _known(c, cs, f"patrons[{i}].follows_exclusion", "community")
        g = self.initial_government
        _known(g.pm_bloc, bs, "initial_government.pm_bloc", "bloc")
        for b in g.coalition:
            _known(b, bs, "initial_government.coalition", "bloc")
        for b in g.portfolio_shares:
            _known(b, bs, "initial_government.portfolio_shares", "bloc")
        foreign = {a.id for a in self.actors if a.kind == ActorKind.foreign_force}
        for i, ev in enumerate(self.timeline):
            where = f"timeline[{i}]"
            if isinstance(ev, ForeignTroops):
                _known(ev.force, foreign, f"{where}.force", "foreign_force actor")
            elif isinstance(ev, GovernmentFormed):
                _known(ev.pm_bloc, bs, f"{where}.pm_bloc", "bloc")
                for b in ev.coalition:
                    _known(b, bs, f"{where}.coalition", "bloc")
                for b in ev.portfolio_shares:
                    _known(b, bs, f"{where}.portfolio_shares", "bloc")
                for b in ev.command_shares or {}:
                    _known(b, bs, f"{where}.command_shares", "bloc")
            elif isinstance(ev, RegionalWar):
                for r in ev.border_regions:
                    _known(r, rs, f"{where}.border_regions", "region")
            elif isinstance(ev, PayChange):
                _known(ev.actor, as_, f"{where}.actor", "actor")
            elif isinstance(ev, Shock):
                if not self._is_shock_target(ev.target):
                    raise ValueError(
                        f"{where}.target: '{ev.target}' is not a parameter (economy.<name> or parameters.<module>.<name>)"
                    )
                if ev.target.startswith("economy."):
                    name = ev.target.partition(".")[2]
                    try:
                        TypeAdapter(Economy.model_fields[name].rebuild_annotation()).validate_python(
                            {"value": ev.value, "source": "shock"}
                        )
                    except ValidationError as exc:
                        reason = str(exc.errors()[0].get("msg", "invalid")).removeprefix("Value error, ")
                        raise ValueError(f"{where}.value: {reason}") from None
        if self.politics is not None:
            self._cross_politics(self.politics, comm, bs, ps)
            sr = self.politics.seat_reservations
            for d in sr.districts if sr is not None else {}:
                _known(d, rs, "politics.seat_reservations.districts", "region")
        return self

    def _is_shock_target(self, target: str) -> bool:
        """A timeline shock changes a parameter of the economy section or of a module."""
        parts = target.split(".")
        if len(parts) == 2 and parts[0] == "economy":
            return isinstance(getattr(self.economy, parts[1], None), Param)
        return len(parts) == 3 and parts[0] == "parameters" and parts[2] in self.parameters.get(parts[1], {})

    @staticmethod
    def _cross_politics(pol: PoliticsConfig, comm: list[str], bs: set[str], ps: set[str]) -> None:
        """The politics section speaks of this scenario's communities, blocs and patrons."""
        if set(pol.communities()) != set(comm):
            raise ValueError(
                f"politics.community_shares: communities {', '.join(pol.communities())} are not the scenario's "
                f"({', '.join(comm)})"
            )
        check_politics(pol, "politics")
        for i, b in enumerate(pol.bloc_ids()):
            if b not in bs:
                raise ValueError(f"politics.blocs[{i}]: '{b}' is not one of the scenario's blocs")
        for i, p in enumerate(pol.patrons):
            _known(p.id, ps, f"politics.patrons[{i}].id", "patron")

    # ----------------------------------------------------------- helpers
    def months(self) -> list[str]:
        """Every month from start to horizon inclusive, as YYYY-MM."""
        y, m = map(int, self.start.split("-"))
        y2, m2 = map(int, self.horizon.split("-"))
        out = []
        while (y, m) <= (y2, m2):
            out.append(f"{y:04d}-{m:02d}")
            m += 1
            if m > 12:
                y, m = y + 1, 1
        return out

    def actor(self, actor_id: str) -> Actor:
        for a in self.actors:
            if a.id == actor_id:
                return a
        raise KeyError(actor_id)


def _unique(ids: list[str], what: str) -> None:
    seen: set[str] = set()
    for i, x in enumerate(ids):
        if x in seen:
            raise ValueError(f"{what}[{i}]: duplicate id '{x}'")
        seen.add(x)


def _known(x: str, known: set[str], where: str, what: str) -> None:
    if x not in known:
        raise ValueError(f"{where}: unknown {what} '{x}'")
