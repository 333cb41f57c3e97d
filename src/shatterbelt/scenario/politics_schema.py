"""The politics section of a scenario: parliament, blocs, candidates, patrons, rules, documented outcomes.

One :class:`PoliticsConfig` describes one parliament and what the model needs to
elect it, form its government and apportion the state among its entities.  A
scenario carries it as its optional ``politics:`` section (a mapping, or the name of a
built-in one in ``scenario/builtin/politics/`` that the loader expands); the
``election`` and ``formation`` commands also read a section on its own.

Its communities are the keys of ``community_shares``; inside a scenario they must be
the scenario's communities, its blocs the scenario's blocs and its patrons the
scenario's patrons (checked by :class:`~shatterbelt.scenario.schema.Scenario`), so
any country's scenario can have politics.

Every number is a :class:`~shatterbelt.scenario.params.Param` (value, range,
source), so that ensembles can sample it and the resolved scenario records its
provenance.  :func:`check_politics` does the cross-field checks; a failure is one line
naming the field path and the reason (``politics.blocs[3].seats: must be >= 0``).
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import (
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import to_jsonable_python

from .params import (
    Count,
    Multiplier,
    NonNegative,
    Number,
    Param,
    Positive,
    Probability,
    Share,
    SignedWeight,
    Strict,
    UnitWeight,
)

RULES: tuple[str, ...] = ("quota_largest_remainder", "largest_remainder", "sainte_lague", "dhondt")
"""Electoral rules: the 2010 Iraqi rule (Hare quota, leftover seats among quota winners),
plain Hare largest remainder, modified Sainte-Laguë (first divisor configurable), D'Hondt."""

APPORTION_METHODS: tuple[str, ...] = ("gamson_bonus", "gamson", "proposer_premium", "technocratic")
"""Apportionment (muhasasa) methods; ``technocratic`` is the non-sectarian allocation of claim C4."""

NONPARTISAN = "nonpartisan"
"""Key that holds the whole state under the ``technocratic`` allocation: no entity captures it."""

MIXED = "mixed"
"""Sect tag of a bloc that draws on several communities (any other tag is one of the communities)."""


def _check_rule(v: str) -> str:
    if v not in RULES:
        raise ValueError(f"unknown electoral rule '{v}' (expected one of: {', '.join(RULES)})")
    return v


# --------------------------------------------------------------------------- electoral system


class ElectoralSystem(Strict):
    """How votes become seats (governorate constituencies, compensatory and minority seats)."""

    rule: str = Field(description="one of RULES")
    first_divisor: Positive | None = Field(None, description="first divisor of modified Sainte-Laguë (1.0 = pure)")
    compensatory_seats: Count = Field(description="national compensatory seats (Hare, national votes)")
    minority_seats: Count = Field(description="seats reserved for minority quota lists")
    general_seats: Count | None = Field(
        None, description="seats allocated in governorates; if it differs from the base magnitudes, they are rescaled"
    )
    unlisted_vote_share: Share = Field(description="share of valid votes cast for lists outside the data")
    vote_noise_sd: NonNegative = Field(description="sd of the log multiplicative noise on each governorate x list vote")

    @field_validator("rule")
    @classmethod
    def _rule(cls, v: str) -> str:
        return _check_rule(v)


class ScheduledElection(Strict):
    """An election the simulation holds itself (its result is an outcome, never an input)."""

    date: dt.date
    system: ElectoralSystem
    source: str


# --------------------------------------------------------------------------- actors


class ListSpec(Strict):
    """An electoral list (what voters choose)."""

    id: str
    name: str
    data_name: str | None = Field(None, description="the list's label in the votes file")
    community_base: dict[str, Share] = Field(description="community -> share of the list's voters (sums to 1)")
    quota: bool = Field(False, description="minority quota list: seats from the reserved minority seats")


class BlocSpec(Strict):
    """A bargaining entity (party or wing of a list) with a community base and a sect tag."""

    id: str
    name: str
    list: str | None = Field(None, description="electoral list it ran on (default: a list of its own id)")
    list_share: Share | None = Field(None, description="its share of the list's seats (default 1)")
    sect: str = Field(description="the community it stands for, or 'mixed'")
    community_base: dict[str, Share] | None = Field(None, description="default: its list's")
    seats: Count | None = Field(None, description="documented seats (if any): a whole number")
    exposure: UnitWeight | None = Field(
        None, description="how exposed its leaders are to federal arrest or purge, in [0, 1] (default 1)"
    )

    @field_validator("seats")
    @classmethod
    def _seats(cls, v: Param | None) -> Param | None:
        if v is not None:
            if v.value != int(v.value):
                raise ValueError("must be a whole number of seats")
        return v


class Candidate(Strict):
    """A candidate for prime minister; ``bloc: null`` is an independent (compromise) candidate."""

    id: str
    name: str
    bloc: str | None
    community: str | None = Field(
        None, description="the candidate's own community (default: the bloc's sect tag); checked against reserved offices"
    )


class Patron(Strict):
    """A foreign patron: preferred candidates, leverage over blocs, stance on marginalization."""

    id: str
    name: str
    preferences: dict[str, UnitWeight] = Field(description="candidate -> utility in [0, 1]")
    leverage: dict[str, UnitWeight] = Field(default_factory=dict, description="bloc -> leverage in [0, 1]")
    marginalization_stance: SignedWeight = Field(
        description="in [-1, 1]: > 0 backs a client PM moving against rivals, < 0 restrains it"
    )


# --------------------------------------------------------------------------- confessional rules

OFFICE_ROLES: tuple[str, ...] = ("head_of_state", "head_of_government", "speaker", "other")
"""Roles an office reserved to a community can play: the head of government is the PM the formation
designates, a head of state or other office may be elected by the chamber (``office_elections``)."""


class Confession(Strict):
    """A confession that seats are reserved for: which community's representatives hold them, and its
    parity group (e.g. Christian or Muslim under a 50/50 rule)."""

    id: str
    name: str
    community: str = Field(description="the community (of community_shares) whose representatives hold its seats")
    group: str | None = Field(None, description="parity group (see parity_groups)")


class SeatReservations(Strict):
    """Seats reserved by confession within each district: ``districts: {district: {confession: seats}}``."""

    source: str
    districts: dict[str, dict[str, int]] = Field(description="district (region id) -> confession -> reserved seats")


class ReservedOffice(Strict):
    """An office reserved to one community (e.g. a head of state, a head of government, a speaker)."""

    id: str
    name: str
    role: str = Field(description="one of OFFICE_ROLES")
    community: str = Field(description="the community its holder must belong to")
    source: str

    @field_validator("role")
    @classmethod
    def _role(cls, v: str) -> str:
        if v not in OFFICE_ROLES:
            raise ValueError(f"unknown office role '{v}' (expected one of: {', '.join(OFFICE_ROLES)})")
        return v


class Cabinet(Strict):
    """The cabinet's veto rule: a unit holding at least ``blocking_share`` of the portfolios can block its
    decisions, which is worth ``blocking_value`` (in units of the PM-candidate utility) to its members."""

    blocking_share: Share = Field(description="share of the portfolios that can block cabinet decisions")
    blocking_value: NonNegative = Field(description="utility to a bloc of its unit holding a blocking share")


class OfficeCandidate(Strict):
    """A candidate for an office the chamber elects; ``support`` is each bloc's utility for him in [0, 1]."""

    id: str
    name: str
    bloc: str | None = None
    community: str
    support: dict[str, UnitWeight] = Field(default_factory=dict, description="bloc -> utility in [0, 1]")


class OfficeElection(Strict):
    """An office elected by the chamber under a quorum: sessions are valid only when ``quorum`` of the
    chamber attends, and blocs attend only for a candidate they accept (a boycott denies the quorum)."""

    office: str = Field(description="id of a reserved office")
    quorum: Share = Field(description="share of the chamber that must attend a valid session")
    majority_first: Share = Field(description="share of the chamber needed in the first round")
    majority_later: Share = Field(description="share of the chamber needed in later rounds")
    term_years: Count = Field(description="length of a term")
    term_ends: dt.date = Field(description="end of the sitting holder's term")
    window_days: Count = Field(description="sessions may start this many days before the term ends")
    new_government: bool = Field(False, description="the government resigns when a new holder takes office")
    candidates: list[OfficeCandidate]
    source: str


# --------------------------------------------------------------------------- rules


class FormationRules(Strict):
    """Government formation: Article 76 formateur, weekly random-proposer bargaining, delay costs."""

    largest_bloc_post_election: bool = Field(
        description="Federal Supreme Court 2010 reading: the 'largest bloc' may be formed after the election"
    )
    court_ruling_day: Count = Field(description="day (since election) from which post-election mergers count")
    merger_hazard: Probability = Field(description="weekly probability that a same-sect group larger than the largest list merges")
    certification_day: Count = Field(description="day the results are certified; formal proposals start")
    round_days: Positive = Field(description="days per bargaining round")
    formateur_agenda_prob: Probability = Field(description="probability the formateur proposes in a round")
    formateur_first_designation: bool = Field(
        True, description="Article 76: a rival deal waits until the largest bloc's nominee has had its designation"
    )
    designation_window_days: Count = Field(description="days the largest bloc's nominee holds the designation")
    package_threshold: Share = Field(description="share of seats a package must command")
    w_pm: NonNegative = Field(description="weight of the PM candidate in a bloc's utility")
    w_office: NonNegative = Field(description="weight of the bloc's portfolio share")
    w_member: NonNegative = Field(description="value of membership in government per se")
    inclusion_weight: NonNegative = Field(description="proposer's weight on including every community")
    inclusion_target: Share = Field(description="share of a community's MPs in government for it to count as included")
    optimism_mean: Number = Field(description="mean initial over-optimism of reservation demands")
    optimism_sd: NonNegative = Field(description="sd of private over-optimism")
    delay_cost: UnitWeight = Field(description="weekly fall of reservation demands (share of the ideal utility)")
    violence_sensitivity: NonNegative = Field(description="delay cost multiplier per unit of the violence index")
    caretaker_cost_factor: UnitWeight = Field(description="the caretaker PM's bloc pays this fraction of the delay cost")
    patron_accommodation_rate: UnitWeight = Field(description="weekly pull of a bloc's preferences toward its patrons'")
    default_candidate_utility: UnitWeight = Field(description="a bloc's utility for a candidate it has no stated view on")
    ktab_nu: Positive = Field(description="KTAB victory-probability exponent (diagnostic only)")
    cabinet_lag_min: Count = Field(description="days from the deal to the cabinet vote, lower bound")
    cabinet_lag_max: Count = Field(description="days from the deal to the cabinet vote, upper bound")
    max_days: Count = Field(description="horizon of a standalone formation run (censoring)")


class Apportionment(Strict):
    """How the coalition shares the state: portfolios, budget and army command (muhasasa)."""

    method: str
    exponent: Positive = Field(description="Gamson-with-bonus exponent: share ~ seats^exponent")
    proposer_premium: Share = Field(description="extra share of the PM's unit under proposer_premium")
    n_portfolios: Count = Field(description="ministries in the cabinet")
    command_pm_concentration: Share = Field(description="share of army command kept by the PM's bloc")
    level: str = Field("unit", description="'unit': shares go to negotiating units (alliances/lists) then by seats inside; 'bloc'")

    @field_validator("method")
    @classmethod
    def _method(cls, v: str) -> str:
        if v not in APPORTION_METHODS:
            raise ValueError(f"unknown apportionment method '{v}' (expected one of: {', '.join(APPORTION_METHODS)})")
        return v

    @field_validator("level")
    @classmethod
    def _level(cls, v: str) -> str:
        if v not in ("unit", "bloc"):
            raise ValueError(f"unknown apportionment level '{v}' (expected 'unit' or 'bloc')")
        return v


class MarginalizationRules(Strict):
    """The governing bloc moving against rival leaders (arrests, exclusion from security posts)."""

    base_rate: Probability = Field(description="monthly hazard against a fully rival bloc with no modifiers")
    backing_coef: Number = Field(description="log-hazard per unit of patron backing of the PM's bloc")
    restraint_coef: Number = Field(description="log-hazard reduction per unit of patron restraint")
    weakness_coef: Number = Field(description="log-hazard per unit of the rival's weakness")
    same_community_factor: Multiplier = Field(description="hazard multiplier against a rival of the PM's own community")
    command_loss: Share = Field(description="fraction of the target's army-command share taken by an event")
    portfolio_loss: Share = Field(description="fraction of the target's portfolio share taken by an event")
    arrest_share: Probability = Field(description="probability an event is an arrest (else exclusion from posts)")
    legitimacy_penalty: UnitWeight = Field(description="drop in the excluded community's legitimacy per event")


class Incumbent(Strict):
    """The outgoing government (the caretaker while a new one is formed)."""

    pm_candidate: str
    coalition: list[str]
    term: int = 1
    source: str


class ViolencePath(Strict):
    """Violence index by month since the election, for standalone formation runs.

    Unit: documented deaths per 100,000 inhabitants per month (IBC civilian deaths
    where available).  Iraq 2010: about 1; 2006: about 5; June 2014: about 12.
    """

    unit: str = "deaths per 100k per month"
    monthly: list[NonNegative]


class Documented(Strict):
    """Documented outcomes used only for comparison (never as inputs)."""

    seats: dict[str, Count] = Field(default_factory=dict, description="list -> seats")
    pm_candidate: str | None = None
    pm_bloc: str | None = None
    days: Count | None = Field(None, description="election to cabinet approval")
    cabinet_coalition: list[str] = Field(default_factory=list)
    portfolio_groups: dict[str, list[str]] = Field(default_factory=dict, description="group -> blocs")
    portfolios: dict[str, Count] = Field(default_factory=dict, description="group -> ministries")
    milestones: dict[str, Number] = Field(default_factory=dict, description="name -> day since election")


class PoliticsConfig(Strict):
    """One parliament: who runs, who bargains, under which rules, and what was documented."""

    name: str
    description: str = ""
    election_date: dt.date
    chamber_size: Count
    majority: Count
    community_shares: dict[str, Share] = Field(
        description="population share of each community (its keys are the section's communities, in order)"
    )
    electoral_system: ElectoralSystem
    votes_file: str | None = Field(None, description="package-relative CSV of votes by governorate and list")
    governorates_file: str | None = Field(None, description="package-relative CSV of governorate populations and shares")
    lists: list[ListSpec] = Field(default_factory=list)
    blocs: list[BlocSpec]
    candidates: list[Candidate]
    preferences: dict[str, dict[str, UnitWeight]] = Field(description="bloc -> candidate -> utility in [0, 1]")
    patrons: list[Patron] = Field(default_factory=list)
    formation: FormationRules
    apportionment: Apportionment
    marginalization: MarginalizationRules
    incumbent: Incumbent | None = None
    violence: ViolencePath
    scheduled_elections: list[ScheduledElection] = Field(default_factory=list)
    documented: Documented = Field(default_factory=Documented)
    confessions: list[Confession] | None = Field(None, description="confessions seats are reserved for")
    parity_groups: list[str] | None = Field(None, description="confession groups that must hold equal seats")
    seat_reservations: SeatReservations | None = Field(
        None, description="seats reserved by confession within districts; elections then fill them district by district"
    )
    reserved_offices: list[ReservedOffice] | None = Field(None, description="offices reserved to a community")
    cabinet: Cabinet | None = Field(None, description="the cabinet's blocking rule")
    office_elections: list[OfficeElection] | None = Field(None, description="offices elected by the chamber")
    sources: dict[str, str] = Field(default_factory=dict)
    _origin: Path | None = PrivateAttr(None)
    _written: dict[str, Any] | None = PrivateAttr(None)

    @model_validator(mode="wrap")
    @classmethod
    def _keep_written(cls, data: Any, handler: ModelWrapValidatorHandler[PoliticsConfig]) -> PoliticsConfig:
        cfg = handler(data)
        if isinstance(data, Mapping):
            cfg._written = copy.deepcopy(dict(data))
        return cfg

    @model_serializer(mode="wrap")
    def _as_written(self, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> Any:
        """The section as it was written (key order, whole numbers) while it still says the same;
        the resolved scenario then reads like its source."""
        if self._written is not None and not (info.include or info.exclude or info.exclude_unset):
            again = type(self).model_validate(self._written)
            if again.__dict__ == self.__dict__:
                data = copy.deepcopy(self._written)
                return to_jsonable_python(data) if info.mode_is_json() else data
        return handler(self)

    @property
    def origin(self) -> Path | None:
        """The YAML file this configuration was read from (for data files named relative to it)."""
        return self._origin

    # ------------------------------------------------------------------ helpers
    def communities(self) -> list[str]:
        """Community ids, in the order of ``community_shares``."""
        return list(self.community_shares)

    def bloc_ids(self) -> list[str]:
        return [b.id for b in self.blocs]

    def candidate_ids(self) -> list[str]:
        return [c.id for c in self.candidates]

    def list_ids(self) -> list[str]:
        """Electoral lists: the explicit ones, or one list per bloc when none is given."""
        if self.lists:
            return [x.id for x in self.lists]
        out: list[str] = []
        for b in self.blocs:
            lid = b.list or b.id
            if lid not in out:
                out.append(lid)
        return out

    def bloc_list(self, bloc: str) -> str:
        b = self.bloc(bloc)
        return b.list or b.id

    def bloc(self, bloc_id: str) -> BlocSpec:
        for b in self.blocs:
            if b.id == bloc_id:
                return b
        raise KeyError(bloc_id)

    def candidate(self, cid: str) -> Candidate:
        for c in self.candidates:
            if c.id == cid:
                return c
        raise KeyError(cid)

    def list_spec(self, list_id: str) -> ListSpec | None:
        for x in self.lists:
            if x.id == list_id:
                return x
        return None

    def bloc_base(self, bloc_id: str) -> dict[str, float]:
        """Community base of a bloc over the communities (its own, else its list's)."""
        comms = self.communities()
        b = self.bloc(bloc_id)
        base = b.community_base
        if base is None:
            ls = self.list_spec(b.list or b.id)
            base = ls.community_base if ls is not None else None
        if base is None:
            return {c: (1.0 if c == b.sect else 0.0) for c in comms}
        return {c: float(base[c].value) if c in base else 0.0 for c in comms}

    def list_base(self, list_id: str) -> dict[str, float]:
        comms = self.communities()
        ls = self.list_spec(list_id)
        if ls is not None:
            return {c: float(ls.community_base[c].value) if c in ls.community_base else 0.0 for c in comms}
        members = [b.id for b in self.blocs if (b.list or b.id) == list_id]
        acc = dict.fromkeys(comms, 0.0)
        for m in members:
            for c, v in self.bloc_base(m).items():
                acc[c] += v / len(members)
        return acc

    def reserved_office(self, role: str) -> ReservedOffice | None:
        """The office reserved for ``role`` (the first one), if any."""
        for o in self.reserved_offices or []:
            if o.role == role:
                return o
        return None

    def candidate_community(self, cid: str) -> str | None:
        """A PM candidate's community: its own, else its bloc's sect tag (None for an independent)."""
        c = self.candidate(cid)
        if c.community is not None:
            return c.community
        return self.bloc(c.bloc).sect if c.bloc is not None else None

    def documented_bloc_seats(self) -> dict[str, int] | None:
        """Seats by bloc if every bloc has documented seats, else None."""
        if any(b.seats is None for b in self.blocs):
            return None
        return {b.id: int(b.seats.value) for b in self.blocs}  # type: ignore[union-attr]


# --------------------------------------------------------------------------- cross validation


def _fail(path: str, msg: str) -> None:
    raise ValueError(f"{path}: {msg}")


def _check_base(path: str, base: Mapping[str, Param], communities: list[str]) -> None:
    for k, p in base.items():
        if k not in communities:
            _fail(f"{path}.{k}", f"unknown community '{k}' (expected one of: {', '.join(communities)})")
        if p.value < 0:
            _fail(f"{path}.{k}", "must be >= 0")
    s = sum(p.value for p in base.values())
    if abs(s - 1.0) > 1e-3:
        _fail(path, f"shares sum to {s:.4g}, not 1")


def _check_unit(path: str, p: Param, lo: float = 0.0, hi: float = 1.0) -> None:
    if not (lo <= p.value <= hi):
        _fail(path, f"must lie in [{lo:g}, {hi:g}], got {p.value:g}")


def _unique(path: str, ids: Iterable[str]) -> None:
    seen: set[str] = set()
    for i, x in enumerate(ids):
        if x in seen:
            _fail(f"{path}[{i}].id", f"duplicate id '{x}'")
        seen.add(x)


def check_politics(cfg: PoliticsConfig, where: str = "politics") -> PoliticsConfig:  # noqa: C901
    """Cross-field checks pydantic cannot do field by field; raises ValueError(``path: reason``)."""
    w = where
    comms = cfg.communities()
    blocs = cfg.bloc_ids()
    cands = cfg.candidate_ids()
    _unique(f"{w}.blocs", blocs)
    _unique(f"{w}.candidates", cands)
    _unique(f"{w}.lists", [x.id for x in cfg.lists])
    _unique(f"{w}.patrons", [p.id for p in cfg.patrons])
    if len(blocs) > 14:
        _fail(f"{w}.blocs", f"{len(blocs)} blocs; at most 14 bargaining blocs are supported (group small parties)")
    chamber = cfg.chamber_size.value
    if chamber <= 0 or chamber != int(chamber):
        _fail(f"{w}.chamber_size", "must be a positive whole number")
    if not (chamber / 2 < cfg.majority.value <= chamber):
        _fail(f"{w}.majority", f"must be more than half of the chamber ({chamber:g}) and at most all of it")
    _check_base(f"{w}.community_shares", cfg.community_shares, comms)
    es = cfg.electoral_system
    if es.rule == "sainte_lague" and es.first_divisor is None:
        _fail(f"{w}.electoral_system.first_divisor", "required by the sainte_lague rule")
    for i, se in enumerate(cfg.scheduled_elections):
        if se.system.rule == "sainte_lague" and se.system.first_divisor is None:
            _fail(f"{w}.scheduled_elections[{i}].system.first_divisor", "required by the sainte_lague rule")
    list_ids = cfg.list_ids()
    for i, ls in enumerate(cfg.lists):
        _check_base(f"{w}.lists[{i}].community_base", ls.community_base, comms)
    for i, b in enumerate(cfg.blocs):
        if cfg.lists and (b.list or b.id) not in list_ids:
            _fail(f"{w}.blocs[{i}].list", f"unknown list '{b.list or b.id}'")
        if b.community_base is not None:
            _check_base(f"{w}.blocs[{i}].community_base", b.community_base, comms)
        elif cfg.list_spec(b.list or b.id) is None:
            _fail(f"{w}.blocs[{i}].community_base", "required when the bloc's list is not described in lists")
        if b.list_share is not None:
            _check_unit(f"{w}.blocs[{i}].list_share", b.list_share)
        if b.exposure is not None:
            _check_unit(f"{w}.blocs[{i}].exposure", b.exposure)
        if b.sect != MIXED and b.sect not in comms:
            _fail(f"{w}.blocs[{i}].sect", f"unknown sect tag '{b.sect}' (expected a community or '{MIXED}')")
    for lid in list_ids:
        members = [b for b in cfg.blocs if (b.list or b.id) == lid]
        if len(members) > 1:
            s = sum((b.list_share.value if b.list_share is not None else math.nan) for b in members)
            if not abs(s - 1.0) <= 1e-3:
                _fail(f"{w}.blocs", f"list_share of the blocs of list '{lid}' must be given and sum to 1 (got {s:.4g})")
    for i, c in enumerate(cfg.candidates):
        if c.bloc is not None and c.bloc not in blocs:
            _fail(f"{w}.candidates[{i}].bloc", f"unknown bloc '{c.bloc}'")
    for b, prefs in cfg.preferences.items():
        if b not in blocs:
            _fail(f"{w}.preferences.{b}", f"unknown bloc '{b}'")
        for c, p in prefs.items():
            if c not in cands:
                _fail(f"{w}.preferences.{b}.{c}", f"unknown candidate '{c}'")
            _check_unit(f"{w}.preferences.{b}.{c}", p)
    for i, p in enumerate(cfg.patrons):
        for c, u in p.preferences.items():
            if c not in cands:
                _fail(f"{w}.patrons[{i}].preferences.{c}", f"unknown candidate '{c}'")
            _check_unit(f"{w}.patrons[{i}].preferences.{c}", u)
        for b, lev in p.leverage.items():
            if b not in blocs:
                _fail(f"{w}.patrons[{i}].leverage.{b}", f"unknown bloc '{b}'")
            _check_unit(f"{w}.patrons[{i}].leverage.{b}", lev)
        _check_unit(f"{w}.patrons[{i}].marginalization_stance", p.marginalization_stance, -1.0, 1.0)
    for b in blocs:
        tot = sum(p.leverage[b].value for p in cfg.patrons if b in p.leverage)
        if tot > 1 + 1e-9:
            _fail(f"{w}.patrons", f"leverage over bloc '{b}' sums to {tot:.3g} > 1")
    fr = cfg.formation
    for name in ("formateur_agenda_prob", "merger_hazard", "caretaker_cost_factor", "inclusion_target",
                 "patron_accommodation_rate", "default_candidate_utility", "delay_cost"):
        _check_unit(f"{w}.formation.{name}", getattr(fr, name))
    _check_unit(f"{w}.formation.package_threshold", fr.package_threshold, 0.5, 1.0)
    if fr.round_days.value < 1:
        _fail(f"{w}.formation.round_days", "must be >= 1")
    if fr.cabinet_lag_min.value > fr.cabinet_lag_max.value:
        _fail(f"{w}.formation.cabinet_lag_min", "must not exceed cabinet_lag_max")
    ap = cfg.apportionment
    _check_unit(f"{w}.apportionment.command_pm_concentration", ap.command_pm_concentration)
    _check_unit(f"{w}.apportionment.proposer_premium", ap.proposer_premium)
    if ap.n_portfolios.value < 1:
        _fail(f"{w}.apportionment.n_portfolios", "must be >= 1")
    if ap.exponent.value <= 0:
        _fail(f"{w}.apportionment.exponent", "must be > 0")
    if cfg.incumbent is not None:
        if cfg.incumbent.pm_candidate not in cands:
            _fail(f"{w}.incumbent.pm_candidate", f"unknown candidate '{cfg.incumbent.pm_candidate}'")
        for i, b in enumerate(cfg.incumbent.coalition):
            if b not in blocs:
                _fail(f"{w}.incumbent.coalition[{i}]", f"unknown bloc '{b}'")
    _check_confessional(cfg, w, comms, blocs)
    if not cfg.violence.monthly:
        _fail(f"{w}.violence.monthly", "needs at least one month")
    # seats
    doc_seats = cfg.documented_bloc_seats()
    if doc_seats is not None and sum(doc_seats.values()) != int(chamber):
        _fail(f"{w}.blocs", f"documented seats sum to {sum(doc_seats.values())}, not the chamber size {int(chamber)}")
    d = cfg.documented
    for lid, p in d.seats.items():
        if lid not in list_ids:
            _fail(f"{w}.documented.seats.{lid}", f"unknown list '{lid}'")
        if p.value < 0:
            _fail(f"{w}.documented.seats.{lid}", "must be >= 0")
    if d.seats and int(sum(p.value for p in d.seats.values())) != int(chamber):
        _fail(f"{w}.documented.seats", f"sum to {sum(p.value for p in d.seats.values()):g}, not the chamber size {int(chamber)}")
    if d.pm_candidate is not None and d.pm_candidate not in cands:
        _fail(f"{w}.documented.pm_candidate", f"unknown candidate '{d.pm_candidate}'")
    if d.pm_bloc is not None and d.pm_bloc not in blocs:
        _fail(f"{w}.documented.pm_bloc", f"unknown bloc '{d.pm_bloc}'")
    for i, b in enumerate(d.cabinet_coalition):
        if b not in blocs:
            _fail(f"{w}.documented.cabinet_coalition[{i}]", f"unknown bloc '{b}'")
    for g, members in d.portfolio_groups.items():
        for i, b in enumerate(members):
            if b not in blocs:
                _fail(f"{w}.documented.portfolio_groups.{g}[{i}]", f"unknown bloc '{b}'")
    for g in d.portfolios:
        if g not in d.portfolio_groups:
            _fail(f"{w}.documented.portfolios.{g}", f"unknown portfolio group '{g}'")
    return cfg


def _check_confessional(cfg: PoliticsConfig, w: str, comms: list[str], blocs: list[str]) -> None:  # noqa: C901
    """Confessions, reserved seats and offices, the cabinet rule and office elections speak of known things."""
    for i, c in enumerate(cfg.candidates):
        if c.community is not None and c.community not in comms:
            _fail(f"{w}.candidates[{i}].community", f"unknown community '{c.community}'")
    conf = [c.id for c in cfg.confessions or []]
    _unique(f"{w}.confessions", conf)
    for i, c in enumerate(cfg.confessions or []):
        if c.community not in comms:
            _fail(f"{w}.confessions[{i}].community", f"unknown community '{c.community}'")
        if cfg.parity_groups is not None and c.group not in cfg.parity_groups:
            _fail(f"{w}.confessions[{i}].group", f"'{c.group}' is not one of parity_groups")
    sr = cfg.seat_reservations
    if sr is not None:
        if not conf:
            _fail(f"{w}.seat_reservations", "needs confessions")
        total = 0
        by_group: dict[str, int] = {}
        for d, seats in sr.districts.items():
            for k, n in seats.items():
                if k not in conf:
                    _fail(f"{w}.seat_reservations.districts.{d}.{k}", f"unknown confession '{k}'")
                if n < 0:
                    _fail(f"{w}.seat_reservations.districts.{d}.{k}", "must be >= 0")
                total += n
                g = next(c.group for c in cfg.confessions or [] if c.id == k)
                if g is not None:
                    by_group[g] = by_group.get(g, 0) + n
        if total != int(cfg.chamber_size.value):
            _fail(f"{w}.seat_reservations", f"reserved seats sum to {total}, not the chamber size {int(cfg.chamber_size.value)}")
        if cfg.parity_groups:
            counts = {g: by_group.get(g, 0) for g in cfg.parity_groups}
            if len(set(counts.values())) > 1:
                _fail(f"{w}.parity_groups", "groups hold unequal seats: " + ", ".join(f"{g} {n}" for g, n in counts.items()))
    offices = [o.id for o in cfg.reserved_offices or []]
    _unique(f"{w}.reserved_offices", offices)
    for i, o in enumerate(cfg.reserved_offices or []):
        if o.community not in comms:
            _fail(f"{w}.reserved_offices[{i}].community", f"unknown community '{o.community}'")
    hog = cfg.reserved_office("head_of_government")
    if hog is not None and not any(cfg.candidate_community(c) == hog.community for c in cfg.candidate_ids()):
        _fail(f"{w}.candidates", f"no candidate of the community '{hog.community}' the office '{hog.id}' is reserved to")
    if cfg.cabinet is not None:
        _check_unit(f"{w}.cabinet.blocking_share", cfg.cabinet.blocking_share)
    for i, e in enumerate(cfg.office_elections or []):
        where = f"{w}.office_elections[{i}]"
        if e.office not in offices:
            _fail(f"{where}.office", f"unknown reserved office '{e.office}'")
        office = next(o for o in cfg.reserved_offices or [] if o.id == e.office)
        for name in ("quorum", "majority_first", "majority_later"):
            _check_unit(f"{where}.{name}", getattr(e, name))
        if e.term_years.value < 1:
            _fail(f"{where}.term_years", "must be >= 1")
        if not e.candidates:
            _fail(f"{where}.candidates", "needs at least one candidate")
        _unique(f"{where}.candidates", [c.id for c in e.candidates])
        for j, c in enumerate(e.candidates):
            if c.community != office.community:
                _fail(f"{where}.candidates[{j}].community",
                      f"'{c.community}' may not hold '{office.id}' (reserved to '{office.community}')")
            if c.bloc is not None and c.bloc not in blocs:
                _fail(f"{where}.candidates[{j}].bloc", f"unknown bloc '{c.bloc}'")
            for b, u in c.support.items():
                if b not in blocs:
                    _fail(f"{where}.candidates[{j}].support.{b}", f"unknown bloc '{b}'")
                _check_unit(f"{where}.candidates[{j}].support.{b}", u)
