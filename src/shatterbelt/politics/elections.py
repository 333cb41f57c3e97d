"""Elections: votes from communities' attachment to lists, seats by rule.

Iraq elects its Council of Representatives in governorate constituencies.  The
rules are scenario options:

* ``quota_largest_remainder`` -- the 2010 rule (Law 16 of 2005 as amended in
  2009): a Hare quota (all valid votes / seats); each list gets the whole quotas
  it reaches; the leftover seats go only to lists that reached the quota, by the
  largest remainder of their votes (so the big lists took the seats small lists'
  votes would have earned -- the provision the Federal Supreme Court later found
  unconstitutional).  Reconstructed from the verified Nineveh and Anbar
  allocations (Iraqiya 20 of 31, Tawafuq 1 with 1.8 quotas).  Plus national
  compensatory seats (Hare, national votes) and reserved minority seats.
* ``largest_remainder`` -- plain Hare-Niemeyer.
* ``sainte_lague`` -- modified Sainte-Laguë: divisors d1, 3, 5, ... with a
  configurable first divisor (1.6 in 2014, 1.7 in 2018).
* ``dhondt`` -- divisors 1, 2, 3, ...

Why governorates: the seat bonus of the 2010 rule happens inside each
constituency, so national totals cannot be computed from national votes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ..errors import ScenarioError, UsageError
from ..scenario.politics_schema import RULES, ElectoralSystem, PoliticsConfig
from .data import MINORITY_LABEL, read_governorates, read_votes

Attachment = Mapping[str, Mapping[str, Mapping[str, float]]]
"""governorate -> community -> list -> share of that community's votes (sums to 1 over lists)."""

Turnout = Mapping[str, Mapping[str, float]]
"""governorate -> community -> valid votes cast."""


# --------------------------------------------------------------------------- rules on one district


def hare_niemeyer(weights: np.ndarray, seats: int) -> np.ndarray:
    """Hare-Niemeyer seats for ``weights`` (the ``largest_remainder`` rule): whole quotas, then the
    largest remainders (ties to the earlier entry)."""
    w = np.asarray(weights, dtype=float)
    out = np.zeros(len(w), dtype=np.int64)
    tot = w.sum()
    if seats <= 0 or tot <= 0:
        return out
    exact = w * seats / tot
    out = np.floor(exact + 1e-12).astype(np.int64)
    left = seats - int(out.sum())
    if left > 0:
        rem = exact - out
        order = np.argsort(-rem, kind="stable")
        out[order[:left]] += 1
    return out


def highest_averages(votes: np.ndarray, seats: int, first_divisor: float, step: float, start: float) -> np.ndarray:
    """Divisor methods: the n-th seat of a list costs a divisor (first_divisor, then start + step*k)."""
    v = np.asarray(votes, dtype=float)
    out = np.zeros(len(v), dtype=np.int64)
    if seats <= 0 or v.sum() <= 0:
        return out
    for _ in range(seats):
        div = np.where(out == 0, first_divisor, start + step * out)
        q = np.where(v > 0, v / div, -1.0)
        i = int(np.argmax(q))  # ties to the earlier list
        out[i] += 1
    return out


def allocate_district(
    votes: np.ndarray, seats: int, rule: str, *, first_divisor: float = 1.0, unlisted_vote_share: float = 0.0
) -> np.ndarray:
    """Seats of one constituency under ``rule`` (see the module docstring)."""
    v = np.nan_to_num(np.asarray(votes, dtype=float))
    if rule == "quota_largest_remainder":
        if seats <= 0 or v.sum() <= 0:
            return np.zeros(len(v), dtype=np.int64)
        total = v.sum() / max(1e-9, 1.0 - unlisted_vote_share)
        q = total / seats
        s = np.floor(v / q + 1e-12).astype(np.int64)
        win = s >= 1
        left = seats - int(s.sum())
        if left > 0:
            if not win.any():
                win = v > 0
            extra = np.zeros(len(v), dtype=np.int64)
            extra[win] = hare_niemeyer(v[win], left)
            s = s + extra
        return s
    if rule == "largest_remainder":
        if unlisted_vote_share > 0 and seats > 0 and v.sum() > 0:
            # lists outside the data take their whole quotas only if they reach one; assume they do not
            total = v.sum() / (1.0 - unlisted_vote_share)
            q = total / seats
            s = np.floor(v / q + 1e-12).astype(np.int64)
            left = seats - int(s.sum())
            rem = v / q - s
            order = np.argsort(-rem, kind="stable")
            s[order[:left]] += 1
            return s
        return hare_niemeyer(v, seats)
    if rule == "sainte_lague":
        return highest_averages(v, seats, first_divisor, 2.0, 1.0)
    if rule == "dhondt":
        return highest_averages(v, seats, 1.0, 1.0, 1.0)
    raise UsageError(f"rule: unknown electoral rule '{rule}' (expected one of: {', '.join(RULES)})")


# --------------------------------------------------------------------------- national allocation


@dataclass(frozen=True)
class SeatAllocation:
    """Seats by governorate, compensatory, quota and in total, all by list id."""

    by_governorate: dict[str, dict[str, int]]
    compensatory: dict[str, int]
    quota: dict[str, int]
    total: dict[str, int]
    votes: dict[str, float] = field(default_factory=dict)  # national votes by list

    @property
    def size(self) -> int:
        return int(sum(self.total.values()))


def allocate_seats(
    votes_by_governorate: Mapping[str, Mapping[str, float]],
    seats_by_governorate: Mapping[str, int],
    rule: str,
    *,
    first_divisor: float = 1.0,
    unlisted_vote_share: float = 0.0,
    compensatory_seats: int = 0,
    quota_seats: Mapping[str, int] | None = None,
    lists: list[str] | None = None,
) -> SeatAllocation:
    """Allocate a parliament: each governorate by ``rule``, then compensatory and quota seats.

    ``lists`` fixes the order (ties go to the earlier list); by default the order
    of first appearance.  Governorates with seats but no votes are an error.
    """
    if rule not in RULES:
        raise UsageError(f"rule: unknown electoral rule '{rule}' (expected one of: {', '.join(RULES)})")
    if lists is None:
        lists = []
        for g in votes_by_governorate.values():
            for k in g:
                if k not in lists:
                    lists.append(k)
    by_gov: dict[str, dict[str, int]] = {}
    national = np.zeros(len(lists))
    for gov, m in seats_by_governorate.items():
        if m < 0:
            raise UsageError(f"seats_by_governorate.{gov}: must be >= 0")
        gv = votes_by_governorate.get(gov)
        if gv is None:
            if m > 0:
                raise UsageError(f"votes_by_governorate.{gov}: no votes for a governorate with {m} seats")
            continue
        unknown = [k for k in gv if k not in lists]
        if unknown:
            raise UsageError(f"votes_by_governorate.{gov}.{unknown[0]}: unknown list")
        v = np.array([float(gv.get(k, 0.0)) for k in lists])
        if (v < 0).any():
            raise UsageError(f"votes_by_governorate.{gov}: negative votes")
        national += v
        s = allocate_district(v, int(m), rule, first_divisor=first_divisor, unlisted_vote_share=unlisted_vote_share)
        by_gov[gov] = {k: int(x) for k, x in zip(lists, s, strict=True)}
    comp = hare_niemeyer(national, int(compensatory_seats))
    compensatory = {k: int(x) for k, x in zip(lists, comp, strict=True)}
    quota = {k: int(v) for k, v in (quota_seats or {}).items()}
    total: dict[str, int] = {}
    for k in lists:
        total[k] = sum(g[k] for g in by_gov.values()) + compensatory[k]
    for k, v in quota.items():
        total[k] = total.get(k, 0) + v
    return SeatAllocation(by_gov, compensatory, quota, total, {k: float(x) for k, x in zip(lists, national, strict=True)})


# --------------------------------------------------------------------------- config-driven helpers


def _labels_to_ids(cfg: PoliticsConfig) -> dict[str, str]:
    return {(x.data_name or x.name): x.id for x in cfg.lists if not x.quota}


def voting_lists(cfg: PoliticsConfig) -> list[str]:
    """Lists that compete for votes (not quota lists), in config order."""
    if cfg.lists:
        return [x.id for x in cfg.lists if not x.quota]
    return cfg.list_ids()


def quota_lists(cfg: PoliticsConfig) -> list[str]:
    return [x.id for x in cfg.lists if x.quota]


def base_magnitudes(cfg: PoliticsConfig) -> dict[str, int]:
    """General seats per governorate, derived from the documented seats in the votes file."""
    vd = read_votes(cfg)
    return {g: sum(v for k, v in s.items() if k != MINORITY_LABEL) for g, s in vd.seats.items()}


def magnitudes(cfg: PoliticsConfig, system: ElectoralSystem) -> dict[str, int]:
    """Governorate magnitudes for ``system``: the base ones, rescaled (Hare) if general_seats differs."""
    base = base_magnitudes(cfg)
    if system.general_seats is None:
        return base
    target = int(round(system.general_seats.value))
    if target == sum(base.values()):
        return base
    govs = list(base)
    new = hare_niemeyer(np.array([base[g] for g in govs], dtype=float), target)
    return {g: int(x) for g, x in zip(govs, new, strict=True)}


def quota_allocation(cfg: PoliticsConfig, system: ElectoralSystem) -> dict[str, int]:
    """Reserved minority seats split among the quota lists (largest remainder, equal weights)."""
    ql = quota_lists(cfg)
    n = int(round(system.minority_seats.value))
    if not ql:
        return {}
    s = hare_niemeyer(np.ones(len(ql)), n)
    return {k: int(x) for k, x in zip(ql, s, strict=True)}


def documented_votes(cfg: PoliticsConfig) -> dict[str, dict[str, float]]:
    """Votes by governorate and list id, from the configuration's votes file."""
    vd = read_votes(cfg)
    lab = _labels_to_ids(cfg)
    missing = [x for x in lab if not any(x in g for g in vd.votes.values())]
    if missing:
        raise ScenarioError(f"politics.lists: list label '{missing[0]}' not found in the votes file")
    return {g: {lab[k]: v for k, v in gv.items() if k in lab} for g, gv in vd.votes.items()}


def documented_seats_by_governorate(cfg: PoliticsConfig) -> dict[str, dict[str, int]]:
    vd = read_votes(cfg)
    lab = _labels_to_ids(cfg)
    return {g: {lab[k]: v for k, v in gs.items() if k in lab} for g, gs in vd.seats.items()}


def elect_from_votes(
    cfg: PoliticsConfig, votes: Mapping[str, Mapping[str, float]], system: ElectoralSystem | None = None
) -> SeatAllocation:
    """Seats by list from votes by governorate, under the config's (or the given) system."""
    es = system or cfg.electoral_system
    return allocate_seats(
        votes,
        magnitudes(cfg, es),
        es.rule,
        first_divisor=float(es.first_divisor.value) if es.first_divisor is not None else 1.0,
        unlisted_vote_share=float(es.unlisted_vote_share.value),
        compensatory_seats=int(round(es.compensatory_seats.value)),
        quota_seats=quota_allocation(cfg, es),
        lists=voting_lists(cfg),
    )


def list_seats_to_blocs(cfg: PoliticsConfig, list_seats: Mapping[str, int]) -> dict[str, int]:
    """Split each list's seats among its blocs by their list_share (largest remainder)."""
    out: dict[str, int] = {}
    for lid, n in list_seats.items():
        members = [b for b in cfg.blocs if (b.list or b.id) == lid]
        if not members:
            continue
        w = np.array([b.list_share.value if b.list_share is not None else 1.0 for b in members])
        for b, s in zip(members, hare_niemeyer(w, int(n)), strict=True):
            out[b.id] = out.get(b.id, 0) + int(s)
    for b in cfg.blocs:
        out.setdefault(b.id, 0)
    return {b.id: out[b.id] for b in cfg.blocs}


# --------------------------------------------------------------------------- attachment model


def _decompose(cfg: PoliticsConfig) -> tuple[dict[str, dict[str, dict[str, float]]], list[str]]:
    """Split each governorate's list votes among communities: v[g,l] * base[l,c] * pop[g,c] / norm.

    Why this way: it is the simplest ecological split that uses only what is
    known (each list's community base, each governorate's community shares) and
    that reproduces the documented votes exactly when recombined.
    """
    votes = documented_votes(cfg)
    gd = read_governorates(cfg)
    lists = voting_lists(cfg)
    comms = cfg.communities()
    floor = 0.002  # a trace of every community everywhere, so no list's votes have nowhere to come from
    x: dict[str, dict[str, dict[str, float]]] = {}
    for g, gv in votes.items():
        shares = gd.shares.get(g)
        if shares is None:
            raise ScenarioError(f"politics.governorates_file: governorate '{g}' of the votes file is missing")
        sh = {c: max(floor, shares[c]) for c in comms}
        x[g] = {c: {} for c in comms}
        for lid in lists:
            v = float(gv.get(lid, 0.0))
            base = cfg.list_base(lid)
            w = {c: base[c] * sh[c] for c in comms}
            tot = sum(w.values())
            for c in comms:
                x[g][c][lid] = v * w[c] / tot if tot > 0 else v / len(comms)
    return x, lists


def default_attachment(cfg: PoliticsConfig) -> dict[str, dict[str, dict[str, float]]]:
    """Baseline attachment (governorate -> community -> list -> share), calibrated from the 2010 votes.

    With :func:`default_turnout` it reproduces the documented votes exactly, so
    the engine starts from the 2010 electorate and moves attachments with
    legitimacy, representation and violence.
    """
    x, lists = _decompose(cfg)
    out: dict[str, dict[str, dict[str, float]]] = {}
    for g, byc in x.items():
        out[g] = {}
        for c, byl in byc.items():
            n = sum(byl.values())
            out[g][c] = {lid: (byl[lid] / n if n > 0 else 1.0 / len(lists)) for lid in lists}
    return out


def default_turnout(cfg: PoliticsConfig) -> dict[str, dict[str, float]]:
    """Valid votes cast by governorate and community in the baseline (2010) election."""
    x, _ = _decompose(cfg)
    return {g: {c: float(sum(byl.values())) for c, byl in byc.items()} for g, byc in x.items()}


def default_turnout_rate(cfg: PoliticsConfig) -> dict[str, dict[str, float]]:
    """Valid votes per inhabitant by governorate and community (2010), for scaling to the engine's population."""
    t = default_turnout(cfg)
    gd = read_governorates(cfg)
    out: dict[str, dict[str, float]] = {}
    for g, byc in t.items():
        out[g] = {}
        for c, n in byc.items():
            pop = gd.population[g] * gd.shares[g][c]
            out[g][c] = n / pop if pop > 0 else 0.0
    return out


def votes_from_attachment(
    cfg: PoliticsConfig,
    attachment: Attachment,
    turnout: Turnout,
    rng: np.random.Generator | None = None,
    noise_sd: float = 0.0,
) -> dict[str, dict[str, float]]:
    """Votes by governorate and list: turnout x attachment, with optional log-normal noise."""
    lists = voting_lists(cfg)
    out: dict[str, dict[str, float]] = {}
    for g in sorted(turnout):
        tg = turnout[g]
        ag = attachment.get(g)
        if ag is None:
            raise UsageError(f"attachment.{g}: missing for a governorate with turnout")
        v = dict.fromkeys(lists, 0.0)
        for c, n in tg.items():
            if n < 0:
                raise UsageError(f"turnout.{g}.{c}: must be >= 0")
            shares = ag.get(c, {})
            for lid, s in shares.items():
                if lid not in v:
                    raise UsageError(f"attachment.{g}.{c}.{lid}: unknown list")
                v[lid] += float(n) * float(s)
        if rng is not None and noise_sd > 0:
            eps = rng.normal(0.0, noise_sd, size=len(lists))
            for k, lid in enumerate(lists):
                v[lid] *= math.exp(eps[k] - 0.5 * noise_sd * noise_sd)
        out[g] = v
    return out


def hold_election(
    cfg: PoliticsConfig,
    attachment: Attachment,
    turnout: Turnout,
    rng: np.random.Generator | None = None,
    system: ElectoralSystem | None = None,
) -> dict[str, int]:
    """Hold an election: seats by **bloc** (lists split among their blocs by list_share).

    ``attachment``: governorate -> community -> list -> vote share; ``turnout``:
    governorate -> community -> valid votes cast.  ``system`` defaults to the
    config's electoral system (pass a scheduled election's system for 2014).
    Deterministic given ``rng``; without ``rng`` there is no noise.
    """
    es = system or cfg.electoral_system
    votes = votes_from_attachment(cfg, attachment, turnout, rng, float(es.vote_noise_sd.value))
    alloc = elect_from_votes(cfg, votes, es)
    return list_seats_to_blocs(cfg, alloc.total)


def hold_election_lists(
    cfg: PoliticsConfig,
    attachment: Attachment,
    turnout: Turnout,
    rng: np.random.Generator | None = None,
    system: ElectoralSystem | None = None,
) -> SeatAllocation:
    """Like :func:`hold_election` but returns the full allocation by list and governorate."""
    es = system or cfg.electoral_system
    votes = votes_from_attachment(cfg, attachment, turnout, rng, float(es.vote_noise_sd.value))
    return elect_from_votes(cfg, votes, es)


@dataclass(frozen=True)
class GovernorateComparison:
    governorate: str
    name: str
    model: dict[str, int]
    documented: dict[str, int]

    @property
    def abs_diff(self) -> int:
        return sum(abs(self.model.get(k, 0) - self.documented.get(k, 0)) for k in set(self.model) | set(self.documented))


def compare_governorates(cfg: PoliticsConfig, alloc: SeatAllocation) -> list[GovernorateComparison]:
    """Model seats vs the documented (partly reconstructed) seats, governorate by governorate."""
    doc = documented_seats_by_governorate(cfg)
    names = read_votes(cfg).governorate_names
    out = []
    for g in sorted(alloc.by_governorate):
        out.append(GovernorateComparison(g, names.get(g, g), alloc.by_governorate[g], doc.get(g, {})))
    return out
