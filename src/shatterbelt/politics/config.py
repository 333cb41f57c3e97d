"""The politics layer's configuration: blocs, candidates, patrons, rules, documented outcomes.

One :class:`PoliticsConfig` describes one parliament and what the model needs to
elect it, form its government and apportion the state among its entities.  The
engine's scenario embeds it as an optional ``politics:`` section; the built-in
ones live in ``scenario/builtin/politics/*.yaml`` and are found by
:func:`resolve_politics`.

Every number is a :class:`~shatterbelt.scenario.params.Param` (value, range,
source), so that ensembles can sample it and the resolved scenario records its
provenance.  Bad input never reaches the model: :func:`load_politics` turns any
YAML, pydantic or cross-reference error into one
:class:`~shatterbelt.errors.ScenarioError` line naming the field path and the
reason (``politics.blocs[3].seats: must be >= 0``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from ..errors import ScenarioError
from ..scenario.params import Param

COMMUNITIES: tuple[str, ...] = ("shia", "sunni", "kurd", "other")
"""Community ids shared with the engine (Shia Arab, Sunni Arab, Kurd, other)."""

PATRON_IDS: tuple[str, ...] = ("us", "iran", "turkey", "gulf", "syria", "israel")
"""Patron ids used by the engine."""

RULES: tuple[str, ...] = ("quota_largest_remainder", "largest_remainder", "sainte_lague", "dhondt")
"""Electoral rules: the 2010 Iraqi rule (Hare quota, leftover seats among quota winners),
plain Hare largest remainder, modified Sainte-Laguë (first divisor configurable), D'Hondt."""

APPORTION_METHODS: tuple[str, ...] = ("gamson_bonus", "gamson", "proposer_premium", "technocratic")
"""Apportionment (muhasasa) methods; ``technocratic`` is the non-sectarian allocation of claim C4."""

NONPARTISAN = "nonpartisan"
"""Key that holds the whole state under the ``technocratic`` allocation: no entity captures it."""

SECTS: tuple[str, ...] = ("shia", "sunni", "kurd", "mixed", "other")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _check_rule(v: str) -> str:
    if v not in RULES:
        raise ValueError(f"unknown electoral rule '{v}' (expected one of: {', '.join(RULES)})")
    return v


# --------------------------------------------------------------------------- electoral system


class ElectoralSystem(_Strict):
    """How votes become seats (governorate constituencies, compensatory and minority seats)."""

    rule: str = Field(description="one of RULES")
    first_divisor: Param | None = Field(None, description="first divisor of modified Sainte-Laguë (1.0 = pure)")
    compensatory_seats: Param = Field(description="national compensatory seats (Hare, national votes)")
    minority_seats: Param = Field(description="seats reserved for minority quota lists")
    general_seats: Param | None = Field(
        None, description="seats allocated in governorates; if it differs from the base magnitudes, they are rescaled"
    )
    unlisted_vote_share: Param = Field(description="share of valid votes cast for lists outside the data")
    vote_noise_sd: Param = Field(description="sd of the log multiplicative noise on each governorate x list vote")

    @field_validator("rule")
    @classmethod
    def _rule(cls, v: str) -> str:
        return _check_rule(v)


class ScheduledElection(_Strict):
    """An election the simulation holds itself (its result is an outcome, never an input)."""

    date: dt.date
    system: ElectoralSystem
    source: str


# --------------------------------------------------------------------------- actors


class ListSpec(_Strict):
    """An electoral list (what voters choose)."""

    id: str
    name: str
    data_name: str | None = Field(None, description="the list's label in the votes file")
    community_base: dict[str, Param] = Field(description="community -> share of the list's voters (sums to 1)")
    quota: bool = Field(False, description="minority quota list: seats from the reserved minority seats")


class BlocSpec(_Strict):
    """A bargaining entity (party or wing of a list) with a community base and a sect tag."""

    id: str
    name: str
    list: str | None = Field(None, description="electoral list it ran on (default: a list of its own id)")
    list_share: Param | None = Field(None, description="its share of the list's seats (default 1)")
    sect: str
    community_base: dict[str, Param] | None = Field(None, description="default: its list's")
    seats: Param | None = Field(None, description="documented seats (if any)")
    exposure: Param | None = Field(
        None, description="how exposed its leaders are to federal arrest or purge, in [0, 1] (default 1)"
    )

    @field_validator("sect")
    @classmethod
    def _sect(cls, v: str) -> str:
        if v not in SECTS:
            raise ValueError(f"unknown sect tag '{v}' (expected one of: {', '.join(SECTS)})")
        return v

    @field_validator("seats")
    @classmethod
    def _seats(cls, v: Param | None) -> Param | None:
        if v is not None:
            if v.value < 0:
                raise ValueError("must be >= 0")
            if v.value != int(v.value):
                raise ValueError("must be a whole number of seats")
        return v


class Candidate(_Strict):
    """A candidate for prime minister; ``bloc: null`` is an independent (compromise) candidate."""

    id: str
    name: str
    bloc: str | None


class Patron(_Strict):
    """A foreign patron: preferred candidates, leverage over blocs, stance on marginalization."""

    id: str
    name: str
    preferences: dict[str, Param] = Field(description="candidate -> utility in [0, 1]")
    leverage: dict[str, Param] = Field(default_factory=dict, description="bloc -> leverage in [0, 1]")
    marginalization_stance: Param = Field(
        description="in [-1, 1]: > 0 backs a client PM moving against rivals, < 0 restrains it"
    )

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if v not in PATRON_IDS:
            raise ValueError(f"unknown patron '{v}' (expected one of: {', '.join(PATRON_IDS)})")
        return v


# --------------------------------------------------------------------------- rules


class FormationRules(_Strict):
    """Government formation: Article 76 formateur, weekly random-proposer bargaining, delay costs."""

    largest_bloc_post_election: bool = Field(
        description="Federal Supreme Court 2010 reading: the 'largest bloc' may be formed after the election"
    )
    court_ruling_day: Param = Field(description="day (since election) from which post-election mergers count")
    merger_hazard: Param = Field(description="weekly probability that a same-sect group larger than the largest list merges")
    certification_day: Param = Field(description="day the results are certified; formal proposals start")
    round_days: Param = Field(description="days per bargaining round")
    formateur_agenda_prob: Param = Field(description="probability the formateur proposes in a round")
    formateur_first_designation: bool = Field(
        True, description="Article 76: a rival deal waits until the largest bloc's nominee has had its designation"
    )
    designation_window_days: Param = Field(description="days the largest bloc's nominee holds the designation")
    package_threshold: Param = Field(description="share of seats a package must command")
    w_pm: Param = Field(description="weight of the PM candidate in a bloc's utility")
    w_office: Param = Field(description="weight of the bloc's portfolio share")
    w_member: Param = Field(description="value of membership in government per se")
    inclusion_weight: Param = Field(description="proposer's weight on including every community")
    inclusion_target: Param = Field(description="share of a community's MPs in government for it to count as included")
    optimism_mean: Param = Field(description="mean initial over-optimism of reservation demands")
    optimism_sd: Param = Field(description="sd of private over-optimism")
    delay_cost: Param = Field(description="weekly fall of reservation demands (share of the ideal utility)")
    violence_sensitivity: Param = Field(description="delay cost multiplier per unit of the violence index")
    caretaker_cost_factor: Param = Field(description="the caretaker PM's bloc pays this fraction of the delay cost")
    patron_accommodation_rate: Param = Field(description="weekly pull of a bloc's preferences toward its patrons'")
    default_candidate_utility: Param = Field(description="a bloc's utility for a candidate it has no stated view on")
    ktab_nu: Param = Field(description="KTAB victory-probability exponent (diagnostic only)")
    cabinet_lag_min: Param = Field(description="days from the deal to the cabinet vote, lower bound")
    cabinet_lag_max: Param = Field(description="days from the deal to the cabinet vote, upper bound")
    max_days: Param = Field(description="horizon of a standalone formation run (censoring)")


class Apportionment(_Strict):
    """How the coalition shares the state: portfolios, budget and army command (muhasasa)."""

    method: str
    exponent: Param = Field(description="Gamson-with-bonus exponent: share ~ seats^exponent")
    proposer_premium: Param = Field(description="extra share of the PM's unit under proposer_premium")
    n_portfolios: Param = Field(description="ministries in the cabinet")
    command_pm_concentration: Param = Field(description="share of army command kept by the PM's bloc")
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


class MarginalizationRules(_Strict):
    """The governing bloc moving against rival leaders (arrests, exclusion from security posts)."""

    base_rate: Param = Field(description="monthly hazard against a fully rival bloc with no modifiers")
    backing_coef: Param = Field(description="log-hazard per unit of patron backing of the PM's bloc")
    restraint_coef: Param = Field(description="log-hazard reduction per unit of patron restraint")
    weakness_coef: Param = Field(description="log-hazard per unit of the rival's weakness")
    same_community_factor: Param = Field(description="hazard multiplier against a rival of the PM's own community")
    command_loss: Param = Field(description="fraction of the target's army-command share taken by an event")
    portfolio_loss: Param = Field(description="fraction of the target's portfolio share taken by an event")
    arrest_share: Param = Field(description="probability an event is an arrest (else exclusion from posts)")
    legitimacy_penalty: Param = Field(description="drop in the excluded community's legitimacy per event")


class Incumbent(_Strict):
    """The outgoing government (the caretaker while a new one is formed)."""

    pm_candidate: str
    coalition: list[str]
    term: int = 1
    source: str


class ViolencePath(_Strict):
    """Violence index by month since the election, for standalone formation runs.

    Unit: documented deaths per 100,000 inhabitants per month (IBC civilian deaths
    where available).  Iraq 2010: about 1; 2006: about 5; June 2014: about 12.
    """

    unit: str = "deaths per 100k per month"
    monthly: list[Param]


class Documented(_Strict):
    """Documented outcomes used only for comparison (never as inputs)."""

    seats: dict[str, Param] = Field(default_factory=dict, description="list -> seats")
    pm_candidate: str | None = None
    pm_bloc: str | None = None
    days: Param | None = Field(None, description="election to cabinet approval")
    cabinet_coalition: list[str] = Field(default_factory=list)
    portfolio_groups: dict[str, list[str]] = Field(default_factory=dict, description="group -> blocs")
    portfolios: dict[str, Param] = Field(default_factory=dict, description="group -> ministries")
    milestones: dict[str, Param] = Field(default_factory=dict, description="name -> day since election")


class PoliticsConfig(_Strict):
    """One parliament: who runs, who bargains, under which rules, and what was documented."""

    name: str
    description: str = ""
    election_date: dt.date
    chamber_size: Param
    majority: Param
    community_shares: dict[str, Param] = Field(description="population share of each community")
    electoral_system: ElectoralSystem
    votes_file: str | None = Field(None, description="package-relative CSV of votes by governorate and list")
    governorates_file: str | None = Field(None, description="package-relative CSV of governorate populations and shares")
    lists: list[ListSpec] = Field(default_factory=list)
    blocs: list[BlocSpec]
    candidates: list[Candidate]
    preferences: dict[str, dict[str, Param]] = Field(description="bloc -> candidate -> utility in [0, 1]")
    patrons: list[Patron] = Field(default_factory=list)
    formation: FormationRules
    apportionment: Apportionment
    marginalization: MarginalizationRules
    incumbent: Incumbent | None = None
    violence: ViolencePath
    scheduled_elections: list[ScheduledElection] = Field(default_factory=list)
    documented: Documented = Field(default_factory=Documented)
    sources: dict[str, str] = Field(default_factory=dict)
    _origin: Path | None = PrivateAttr(None)

    @property
    def origin(self) -> Path | None:
        """The YAML file this configuration was read from (for data files named relative to it)."""
        return self._origin

    # ------------------------------------------------------------------ helpers
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
        """Community base of a bloc over COMMUNITIES (its own, else its list's)."""
        b = self.bloc(bloc_id)
        base = b.community_base
        if base is None:
            ls = self.list_spec(b.list or b.id)
            base = ls.community_base if ls is not None else None
        if base is None:
            return {c: (1.0 if c == b.sect else 0.0) for c in COMMUNITIES}
        return {c: float(base[c].value) if c in base else 0.0 for c in COMMUNITIES}

    def list_base(self, list_id: str) -> dict[str, float]:
        ls = self.list_spec(list_id)
        if ls is not None:
            return {c: float(ls.community_base[c].value) if c in ls.community_base else 0.0 for c in COMMUNITIES}
        members = [b.id for b in self.blocs if (b.list or b.id) == list_id]
        acc = dict.fromkeys(COMMUNITIES, 0.0)
        for m in members:
            for c, v in self.bloc_base(m).items():
                acc[c] += v / len(members)
        return acc

    def documented_bloc_seats(self) -> dict[str, int] | None:
        """Seats by bloc if every bloc has documented seats, else None."""
        if any(b.seats is None for b in self.blocs):
            return None
        return {b.id: int(b.seats.value) for b in self.blocs}  # type: ignore[union-attr]


# --------------------------------------------------------------------------- cross validation


def _fail(path: str, msg: str) -> None:
    raise ScenarioError(f"{path}: {msg}")


def _check_base(path: str, base: Mapping[str, Param]) -> None:
    for k, p in base.items():
        if k not in COMMUNITIES:
            _fail(f"{path}.{k}", f"unknown community '{k}' (expected one of: {', '.join(COMMUNITIES)})")
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


def validate_politics(cfg: PoliticsConfig, where: str = "politics") -> PoliticsConfig:  # noqa: C901
    """Cross-field checks pydantic cannot do field by field; raises ScenarioError (one line)."""
    w = where
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
    _check_base(f"{w}.community_shares", cfg.community_shares)
    es = cfg.electoral_system
    if es.rule == "sainte_lague" and es.first_divisor is None:
        _fail(f"{w}.electoral_system.first_divisor", "required by the sainte_lague rule")
    for i, se in enumerate(cfg.scheduled_elections):
        if se.system.rule == "sainte_lague" and se.system.first_divisor is None:
            _fail(f"{w}.scheduled_elections[{i}].system.first_divisor", "required by the sainte_lague rule")
    list_ids = cfg.list_ids()
    for i, ls in enumerate(cfg.lists):
        _check_base(f"{w}.lists[{i}].community_base", ls.community_base)
    for i, b in enumerate(cfg.blocs):
        if cfg.lists and (b.list or b.id) not in list_ids:
            _fail(f"{w}.blocs[{i}].list", f"unknown list '{b.list or b.id}'")
        if b.community_base is not None:
            _check_base(f"{w}.blocs[{i}].community_base", b.community_base)
        elif cfg.list_spec(b.list or b.id) is None:
            _fail(f"{w}.blocs[{i}].community_base", "required when the bloc's list is not described in lists")
        if b.list_share is not None:
            _check_unit(f"{w}.blocs[{i}].list_share", b.list_share)
        if b.exposure is not None:
            _check_unit(f"{w}.blocs[{i}].exposure", b.exposure)
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


# --------------------------------------------------------------------------- loading


def _loc_to_path(loc: tuple[Any, ...], where: str) -> str:
    out = where
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}"
    return out


def _clean_msg(msg: str) -> str:
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix):]
    return msg


def _apply_defaults(data: Mapping[str, Any], where: str, depth: int = 0) -> dict[str, Any]:
    """Resolve ``defaults_from: {name: <config>, sections: [...]}``: the named sections are taken
    from another politics configuration and merged one level deep (this file's keys win).

    Why: the out-of-sample formations (2005, 2014, 2018) must run with exactly the behavioural
    parameters calibrated on 2010, not with copies that could drift.
    """
    out = dict(data)
    spec = out.pop("defaults_from", None)
    if spec is None:
        return out
    if depth > 4:
        raise ScenarioError(f"{where}.defaults_from: nested too deeply")
    if not isinstance(spec, Mapping) or "name" not in spec or not isinstance(spec.get("sections"), list):
        raise ScenarioError(f"{where}.defaults_from: expected {{name: <config>, sections: [<section>, ...]}}")
    base_data, _ = resolve_politics(str(spec["name"]))
    if not isinstance(base_data, Mapping):
        raise ScenarioError(f"{where}.defaults_from.name: '{spec['name']}' is not a mapping")
    base = _apply_defaults(base_data, where, depth + 1)
    for sec in spec["sections"]:
        if sec not in base:
            raise ScenarioError(f"{where}.defaults_from.sections: '{sec}' not found in '{spec['name']}'")
        mine = out.get(sec)
        if isinstance(mine, Mapping) and isinstance(base[sec], Mapping):
            merged = dict(base[sec])
            merged.update(mine)
            out[sec] = merged
        elif mine is None:
            out[sec] = base[sec]
    return out


def politics_from_dict(data: Any, where: str = "politics") -> PoliticsConfig:
    """Validate a politics section (already parsed YAML); one-line ScenarioError on failure."""
    if not isinstance(data, Mapping):
        raise ScenarioError(f"{where}: must be a mapping, got {type(data).__name__}")
    data = _apply_defaults(data, where)
    try:
        cfg = PoliticsConfig.model_validate(dict(data))
    except ValidationError as exc:
        err = exc.errors()[0]
        path = _loc_to_path(tuple(err.get("loc", ())), where)
        msg = _clean_msg(str(err.get("msg", "invalid")))
        if err.get("type") == "extra_forbidden":
            msg = "unknown field"
        elif err.get("type") == "missing":
            msg = "field required"
        raise ScenarioError(f"{path}: {msg}") from None
    return validate_politics(cfg, where)


def builtin_dir() -> Path:
    """Folder of the built-in politics configurations (package data)."""
    return Path(str(resources.files("shatterbelt") / "scenario" / "builtin" / "politics"))


def builtin_names() -> list[str]:
    """Names of the built-in politics configurations."""
    d = builtin_dir()
    return sorted(p.stem for p in d.glob("*.yaml")) if d.is_dir() else []


def _read_yaml(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError(f"{path}:{where}: invalid YAML ({problem})") from None


def resolve_politics(name: str) -> tuple[Any, Path | None]:
    """Find the politics section for a name or path: ``(parsed data, file it came from)``.

    Resolution order (extend here when the engine's full scenarios carry a
    ``politics:`` section): a built-in politics config
    (``scenario/builtin/politics/<name>.yaml``); a built-in full scenario
    (``scenario/builtin/<name>.yaml``) with a ``politics:`` section (a mapping,
    or the name of a politics config); a YAML path (bare politics config, or a
    file with a ``politics:`` section).
    """
    if "+" in name and not Path(name).exists():
        raise ScenarioError(f"{name}: scenario variants are not resolved by the politics commands yet")
    candidates: list[Path] = []
    bdir = builtin_dir()
    if name and "/" not in name and not name.endswith((".yaml", ".yml")):
        candidates.append(bdir / f"{name}.yaml")
        candidates.append(bdir.parent / f"{name}.yaml")
    else:
        candidates.append(Path(name))
    for path in candidates:
        if not path.is_file():
            continue
        data = _read_yaml(path)
        if isinstance(data, Mapping) and "politics" in data:
            section = data["politics"]
            if section is None:
                continue
            if isinstance(section, str):
                return resolve_politics(section)
            return section, path
        if path.parent == bdir.parent and path.parent != Path(name).parent:
            continue  # a full scenario without a politics section
        return data, path
    known = ", ".join(builtin_names()) or "none"
    raise ScenarioError(f"{name}: no such politics configuration or file (built-in: {known})")


def load_politics(name_or_path: str | Path) -> PoliticsConfig:
    """Load and validate a politics configuration by built-in name or YAML path."""
    data, path = resolve_politics(str(name_or_path))
    cfg = politics_from_dict(data, "politics")
    if path is not None:
        cfg._origin = path
    return cfg


def apply_overrides(data: Any, overrides: Iterable[str]) -> Any:
    """Apply ``path=value`` overrides to parsed YAML (used by ``--set``).

    A path is dotted; a list is indexed by an item's ``id`` or by a number
    (``patrons.iran.leverage.sadrists=0``, ``formation.formateur_agenda_prob=0``).
    Setting a number on a Param keeps its range and source (widening the range if needed,
    noted as an override).
    """
    for ov in overrides:
        if "=" not in ov:
            raise ScenarioError(f"--set {ov}: expected PATH=VALUE")
        path, raw = ov.split("=", 1)
        value = yaml.safe_load(raw)
        parts = [p for p in path.strip().split(".") if p]
        if parts and parts[0] == "politics":
            parts = parts[1:]
        if not parts:
            raise ScenarioError(f"--set {ov}: empty path")
        node: Any = data
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            key: Any = part
            if isinstance(node, list):
                idx = next((j for j, it in enumerate(node) if isinstance(it, Mapping) and it.get("id") == part), None)
                if idx is None and part.isdigit() and int(part) < len(node):
                    idx = int(part)
                if idx is None:
                    raise ScenarioError(f"--set {path}: no item '{part}'")
                key = idx
            elif not isinstance(node, dict):
                raise ScenarioError(f"--set {path}: '{part}' is not inside a mapping or list")
            if last:
                cur = node[key] if (isinstance(node, list) or key in node) else None
                if isinstance(cur, dict) and "value" in cur and isinstance(value, (int, float)):
                    new = dict(cur)
                    new["value"] = float(value)
                    rng = new.get("range")
                    if rng is not None:
                        lo, hi = rng
                        new["range"] = [min(lo, float(value)), max(hi, float(value))]
                    new["note"] = (str(new.get("note") or "") + " [overridden by --set]").strip()
                    node[key] = new
                elif isinstance(value, (int, float)) and not isinstance(value, bool) and cur is None and key != "value":
                    node[key] = {"value": float(value), "source": "assumption (--set override)"}
                else:
                    node[key] = value
            else:
                if isinstance(node, dict) and key not in node:
                    node[key] = {}
                node = node[key]
    return data


def load_politics_with_overrides(name_or_path: str | Path, overrides: Iterable[str] = ()) -> PoliticsConfig:
    """Like :func:`load_politics`, after applying ``--set`` style overrides."""
    import copy

    data, path = resolve_politics(str(name_or_path))
    data = apply_overrides(copy.deepcopy(data), list(overrides))
    cfg = politics_from_dict(data, "politics")
    if path is not None:
        cfg._origin = path
    return cfg


def package_file(rel: str, origin: Path | None = None) -> Path:
    """A data file named relative to the package root (``data/iraq/...``), or to the YAML's folder."""
    root = Path(str(resources.files("shatterbelt")))
    p = root / rel
    if p.is_file():
        return p
    if origin is not None:
        q = origin.parent / rel
        if q.is_file():
            return q
    q = Path(rel)
    if q.is_absolute() and q.is_file():
        return q
    raise ScenarioError(f"politics data file '{rel}': not found in the package")
