"""Confessional rules: seats reserved by confession within districts, and offices the chamber elects
under a quorum.

Both are generic: a politics section that declares ``seat_reservations`` and ``office_elections``
gets them, whatever its country; a section without them never reaches this module.

* **Reserved seats.**  Every district (a region) holds a fixed number of seats for each
  confession, and every voter of the district votes for all of them (cross-confessional voting).
  Votes by list are the district's voters by community times the community's attachment to each
  list (:func:`seat_attachment`, from the lists' community bases and the documented seats when no
  votes file exists); each (district, confession) seat group is filled among the lists by the
  electoral rule, and a list's seats of a confession go to its blocs in proportion to
  ``list_share`` x the bloc's base in the confession's community (a list seats the candidates its
  members field for that confession).
* **Office elections.**  An office reserved to a community (e.g. a head of state) is elected by
  the chamber in weekly sessions from ``window_days`` before the sitting holder's term ends.  A
  bloc attends only for a candidate it accepts: one whose utility reaches its reservation demand,
  which starts at its favourite's utility inflated by the formation's over-optimism draw and falls
  each week by the formation's delay cost (raised by violence), exactly as in government formation.
  A session is valid when the attending seats reach the ``quorum``; the candidate with the most
  attending seats is elected if they also reach the round's majority.  A minority above
  ``1 - quorum`` can therefore keep the office vacant by staying away.

Everything random comes from the generator passed in, drawn in a fixed order.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..errors import UsageError
from ..scenario.politics_schema import ElectoralSystem, OfficeElection, PoliticsConfig
from .elections import allocate_district, hare_niemeyer, voting_lists

# --------------------------------------------------------------------------- reserved seats


def seat_attachment(cfg: PoliticsConfig) -> dict[str, dict[str, float]]:
    """community -> list -> share of its voters: the list's base in the community x the list's
    documented seats, normalised over lists (no votes file needed); a community no list draws on
    votes for none."""
    lists = voting_lists(cfg)
    doc = cfg.documented.seats
    bloc_seats = cfg.documented_bloc_seats() or {}
    size: dict[str, float] = {}
    for lid in lists:
        if lid in doc:
            size[lid] = float(doc[lid].value)
        else:
            size[lid] = float(sum(s for b, s in bloc_seats.items() if cfg.bloc_list(b) == lid)) or 1.0
    out: dict[str, dict[str, float]] = {}
    for c in cfg.communities():
        w = {lid: cfg.list_base(lid)[c] * size[lid] for lid in lists}
        tot = sum(w.values())
        out[c] = {lid: (v / tot if tot > 0 else 0.0) for lid, v in w.items()}
    return out


@dataclass(frozen=True)
class ReservedResult:
    """Seats by bloc, and by district x confession x list."""

    seats: dict[str, int]
    by_district: dict[str, dict[str, dict[str, int]]]
    votes: dict[str, dict[str, float]]


def elect_reserved(
    cfg: PoliticsConfig,
    turnout: Mapping[str, Mapping[str, float]],
    rng: np.random.Generator | None = None,
    system: ElectoralSystem | None = None,
    attachment: Mapping[str, Mapping[str, float]] | None = None,
) -> ReservedResult:
    """An election under ``seat_reservations``: ``turnout`` is district -> community -> voters.

    Deterministic given ``rng`` (log-normal noise on each district x list vote, as
    :func:`~shatterbelt.politics.elections.votes_from_attachment`); without ``rng`` no noise.
    """
    sr = cfg.seat_reservations
    if sr is None:
        raise UsageError(f"{cfg.name}: no seat_reservations")
    es = system or cfg.electoral_system
    att = attachment or seat_attachment(cfg)
    lists = voting_lists(cfg)
    conf = {c.id: c.community for c in cfg.confessions or []}
    noise = float(es.vote_noise_sd.value)
    fd = float(es.first_divisor.value) if es.first_divisor is not None else 1.0
    by_d: dict[str, dict[str, dict[str, int]]] = {}
    votes_out: dict[str, dict[str, float]] = {}
    won: dict[tuple[str, str], int] = {}  # (list, confession) -> seats over all districts
    for d, groups in sr.districts.items():
        td = turnout.get(d, {})
        v = np.zeros(len(lists))
        for c, n in td.items():
            if n < 0:
                raise UsageError(f"turnout.{d}.{c}: must be >= 0")
            share = att.get(c, {})
            v += float(n) * np.array([float(share.get(lid, 0.0)) for lid in lists])
        if rng is not None and noise > 0:
            v *= np.exp(rng.normal(0.0, noise, size=len(lists)) - 0.5 * noise * noise)
        if v.sum() <= 0:
            v = np.ones(len(lists))  # nobody voted: the seats are shared evenly (never happens with people)
        votes_out[d] = {lid: float(x) for lid, x in zip(lists, v, strict=True)}
        by_d[d] = {}
        for k, n in groups.items():
            if n <= 0:
                continue
            ls = allocate_district(v, int(n), es.rule, first_divisor=fd)
            by_d[d][k] = {lid: int(m) for lid, m in zip(lists, ls, strict=True) if m > 0}
            for lid, m in by_d[d][k].items():
                won[(lid, k)] = won.get((lid, k), 0) + m
    # a list's seats of a confession go to its blocs nationally (a split district by district would hand
    # every single seat to the first of equal partners)
    seats = {b: 0 for b in cfg.bloc_ids()}
    for (lid, k), m in won.items():
        members = [b for b in cfg.blocs if cfg.bloc_list(b.id) == lid]
        share = np.array([b.list_share.value if b.list_share is not None else 1.0 for b in members])
        base = np.array([cfg.bloc_base(b.id)[conf[k]] for b in members])
        w = share * base
        if w.sum() <= 0:
            w = share
        for b, x in zip(members, hare_niemeyer(w, int(m)), strict=True):
            seats[b.id] += int(x)
    return ReservedResult(seats, by_d, votes_out)


def seats_by_group(cfg: PoliticsConfig) -> dict[str, int]:
    """Reserved seats by parity group (confessions without a group under '')."""
    out: dict[str, int] = {}
    group = {c.id: c.group or "" for c in cfg.confessions or []}
    for groups in (cfg.seat_reservations.districts.values() if cfg.seat_reservations else []):
        for k, n in groups.items():
            out[group[k]] = out.get(group[k], 0) + int(n)
    return out


def eligible_candidates(cfg: PoliticsConfig) -> list[str]:
    """PM candidates allowed by the office reserved for the head of government (all when none is)."""
    office = cfg.reserved_office("head_of_government")
    if office is None:
        return cfg.candidate_ids()
    return [c for c in cfg.candidate_ids() if cfg.candidate_community(c) == office.community]


def speaker(cfg: PoliticsConfig, seats: Mapping[str, int]) -> str | None:
    """The speaker's bloc: the largest bloc of the community the office is reserved to (ties to the
    earlier bloc); None without a reserved speaker or such a bloc."""
    office = cfg.reserved_office("speaker")
    if office is None:
        return None
    best, best_s = None, 0
    for b in cfg.blocs:
        if b.sect == office.community and seats.get(b.id, 0) > best_s:
            best, best_s = b.id, seats.get(b.id, 0)
    return best


# --------------------------------------------------------------------------- office elections


@dataclass(frozen=True)
class OfficeOutcome:
    """An office filled by the chamber."""

    office: str
    candidate: str
    name: str
    bloc: str | None
    elected: dt.date
    term_starts: dt.date
    vacancy_days: int
    sessions: int
    failed_sessions: int

    def to_dict(self) -> dict[str, object]:
        return {
            "office": self.office, "candidate": self.candidate, "name": self.name, "bloc": self.bloc,
            "elected": self.elected.isoformat(), "term_starts": self.term_starts.isoformat(),
            "vacancy_days": self.vacancy_days, "sessions": self.sessions, "failed_sessions": self.failed_sessions,
        }


class OfficeElectionProcess:
    """One election of an office by the chamber, advanced by the engine month by month.

    Sessions run weekly (the formation's ``round_days``) from ``term_ends - window_days``;
    ``advance(days, violence_index)`` returns the :class:`OfficeOutcome` once a candidate is elected.
    """

    def __init__(
        self,
        cfg: PoliticsConfig,
        spec: OfficeElection,
        seats: Mapping[str, int],
        term_ends: dt.date,
        rng: np.random.Generator,
    ) -> None:
        self.cfg, self.spec = cfg, spec
        fr = cfg.formation
        self.term_ends = term_ends
        self.opens = term_ends - dt.timedelta(days=int(round(spec.window_days.value)))
        self.blocs = [b for b in cfg.bloc_ids() if seats.get(b, 0) > 0]
        if not self.blocs:
            raise UsageError("seats: no bloc holds a seat")
        self.s = np.array([float(seats[b]) for b in self.blocs])
        self.cands = spec.candidates
        dflt = float(fr.default_candidate_utility.value)
        self.u = np.array([[float(c.support[b].value) if b in c.support else dflt for c in self.cands]
                           for b in self.blocs])
        self.umax = self.u.max(axis=1)
        chamber = float(cfg.chamber_size.value)
        self.quorum = int(math.ceil(float(spec.quorum.value) * chamber - 1e-9))
        self.need_first = int(math.ceil(float(spec.majority_first.value) * chamber - 1e-9))
        self.need_later = int(math.ceil(float(spec.majority_later.value) * chamber - 1e-9))
        self.mu = float(fr.optimism_mean.value)
        self.eps = rng.normal(self.mu, float(fr.optimism_sd.value), size=len(self.blocs))
        self.D = 0.0
        self.day = 0  # days since the window opened
        self.sessions = 0
        self.failed = 0
        self.outcome: OfficeOutcome | None = None

    def demands(self) -> np.ndarray:
        """Each bloc's current reservation utility."""
        return self.umax * np.minimum(1.0, (1.0 + self.eps) * max(0.0, 1.0 - self.D))

    def attendance(self) -> np.ndarray:
        """Seats that would attend a session for each candidate now."""
        accept = self.u >= self.demands()[:, None] - 1e-12
        return accept.T.astype(float) @ self.s

    def advance(self, days: int, violence_index: float) -> OfficeOutcome | None:
        """Run the weekly sessions in the next ``days`` days; the outcome once someone is elected."""
        if days < 0:
            raise UsageError("days: must be >= 0")
        if not math.isfinite(violence_index) or violence_index < 0:
            raise UsageError("violence_index: must be a finite number >= 0")
        fr = self.cfg.formation
        rd = int(round(fr.round_days.value))
        target = self.day + int(days)
        nxt = (self.day // rd + 1) * rd
        while self.outcome is None and nxt <= target:
            self.D += float(fr.delay_cost.value) * (1.0 + float(fr.violence_sensitivity.value) * violence_index)
            att = self.attendance()
            k = int(np.argmax(att))
            need = self.need_first if self.sessions == 0 else self.need_later
            self.sessions += 1
            if att[k] >= self.quorum and att[k] >= need:
                c = self.cands[k]
                when = self.opens + dt.timedelta(days=nxt)
                start = max(when, self.term_ends)
                self.outcome = OfficeOutcome(self.spec.office, c.id, c.name, c.bloc, when, start,
                                             max(0, (when - self.term_ends).days), self.sessions, self.failed)
            else:
                self.failed += 1
            nxt += rd
        self.day = target
        return self.outcome


def next_term_end(spec: OfficeElection, outcome: OfficeOutcome) -> dt.date:
    """The new holder's term ends ``term_years`` after it starts (29 February falls to the 28th)."""
    start = outcome.term_starts
    years = int(round(spec.term_years.value))
    try:
        return start.replace(year=start.year + years)
    except ValueError:
        return start.replace(year=start.year + years, day=28)


def run_office_election(
    cfg: PoliticsConfig,
    office: str,
    seats: Mapping[str, int],
    rng: np.random.Generator,
    *,
    violence_index: float = 0.0,
    max_days: int | None = None,
) -> OfficeOutcome | None:
    """A standalone election of ``office`` from its window's opening (None: still vacant at ``max_days``
    after the term ends, by default the formation's ``max_days``)."""
    spec = next((e for e in cfg.office_elections or [] if e.office == office), None)
    if spec is None:
        raise UsageError(f"office: '{office}' is not elected by the chamber in {cfg.name}")
    proc = OfficeElectionProcess(cfg, spec, seats, spec.term_ends, rng)
    horizon = int(round(spec.window_days.value)) + int(max_days if max_days is not None else cfg.formation.max_days.value)
    while proc.day < horizon and proc.outcome is None:
        proc.advance(7, violence_index)
    return proc.outcome
