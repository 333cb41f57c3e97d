"""Government formation: weekly random-proposer bargaining over (PM, coalition, allocation).

The model (docs/politics.md has the full description and provenance):

* **Packages.**  A package is a PM candidate and a coalition commanding at
  least ``package_threshold`` of the seats (two thirds by default: Article 70
  elects the president, who designates the PM, by two thirds in the first
  round, which is why Iraqi deals are packages of all three posts); shares of
  the state follow the apportionment rule.  A bloc's utility for a package is
  ``w_pm * u(candidate) + [member] * (w_office * share + w_member)``.
* **Formateur (Article 76).**  The largest bloc's nominee proposes with
  probability ``formateur_agenda_prob``; otherwise a bloc drawn in proportion to
  seats proposes (Baron-Ferejohn).  Under the Federal Supreme Court's 2010
  reading, a same-sect group larger than the largest list may merge after the
  election (weekly hazard) and become the formateur; its nominee is chosen by
  its members' seat-weighted vote, each voting for the candidate of its best
  currently feasible package (its favourite while nothing is feasible).
* **Delay.**  Baron-Ferejohn proposers close at once; delay here comes from
  reservation demands that start over-optimistic (a public mean and a private
  draw per bloc) and fall each week by a delay cost that grows with violence,
  while the caretaker PM's bloc pays only a fraction of it (it governs while
  it waits).  A proposer offers its best package among those it believes
  acceptable; members accept if the package beats their actual demand; the
  deal closes if those accepting still clear the threshold.
* **Patrons.**  Each week a bloc's candidate utilities move toward its patrons'
  by ``patron_accommodation_rate`` x leverage (KTAB's accommodation).
* **Cabinet.**  After the deal the cabinet is voted within the Article 76
  30-day window (uniform between ``cabinet_lag_min`` and ``cabinet_lag_max``).

Everything random comes from the ``numpy.random.Generator`` passed in, drawn in
a fixed order, so a run is a pure function of its inputs and seed.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import UsageError
from ..scenario.politics_schema import PoliticsConfig
from .apportion import Government, build_government
from .confessional import eligible_candidates
from .ktab import condorcet_probabilities


def _popcount(x: np.ndarray) -> np.ndarray:
    c = np.zeros_like(x)
    y = x.copy()
    while y.any():
        c += y & 1
        y >>= 1
    return c


@dataclass
class Milestones:
    """Days since the election at which each step happened (None: not reached)."""

    merger_day: int | None = None
    certification_day: int | None = None
    nominee_backed_day: int | None = None
    agreement_day: int | None = None
    formed_day: int | None = None
    rival_deal_day: int | None = None

    def to_dict(self) -> dict[str, int | None]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class WeeklyDiagnostic:
    """KTAB's P(PM = c) in one week, with the formateur's nominee at that time."""

    day: int
    probabilities: dict[str, float]
    nominee: str | None


class FormationProcess:
    """One government formation after one election, advanced by the engine month by month.

    ``seats``: bloc -> seats of the new parliament (blocs left out hold none).
    ``advance(days, violence_index)`` runs the weekly rounds falling in the next
    ``days`` days and returns the new :class:`Government` once its cabinet has
    been voted (``None`` before).  ``violence_index`` is documented deaths per
    100,000 inhabitants per month (Iraq 2010 about 1, 2006 about 5).
    """

    def __init__(
        self,
        config: PoliticsConfig,
        seats: Mapping[str, int],
        election_date: dt.date | None,
        rng: np.random.Generator,
        *,
        outgoing: Government | None = None,
        term: int | None = None,
    ) -> None:
        self.cfg = config
        self.rng = rng
        self.election_date = election_date or config.election_date
        fr = config.formation
        blocs = config.bloc_ids()
        for b, s in seats.items():
            if b not in blocs:
                raise UsageError(f"seats.{b}: unknown bloc")
            if s < 0 or int(s) != s:
                raise UsageError(f"seats.{b}: must be a whole number >= 0")
        self.seats_all = {b: int(seats.get(b, 0)) for b in blocs}
        self.active = [b for b in blocs if self.seats_all[b] > 0]
        if not self.active:
            raise UsageError("seats: no bloc holds a seat")
        n = len(self.active)
        self.n = n
        self.idx = {b: i for i, b in enumerate(self.active)}
        self.s = np.array([self.seats_all[b] for b in self.active], dtype=float)
        self.total = int(self.s.sum())
        self.threshold = max(self.total // 2 + 1, int(math.ceil(fr.package_threshold.value * self.total - 1e-9)))
        # candidates whose bloc sits in parliament (or independents), of the community the head of
        # government's office is reserved to (if one is)
        eligible = set(eligible_candidates(config))
        self.cands = [c.id for c in config.candidates if (c.bloc is None or c.bloc in self.idx) and c.id in eligible]
        if not self.cands:
            raise UsageError("candidates: none whose bloc holds a seat (and who may hold the reserved office)")
        self.cand_bloc = np.array([self.idx[config.candidate(c).bloc] if config.candidate(c).bloc else -1
                                   for c in self.cands])
        C = len(self.cands)
        dflt = float(fr.default_candidate_utility.value)
        u = np.full((n, C), dflt)
        for b, prefs in config.preferences.items():
            if b in self.idx:
                for c, p in prefs.items():
                    if c in self.cands:
                        u[self.idx[b], self.cands.index(c)] = float(p.value)
        self.u = u
        self.patron_ids = [p.id for p in config.patrons]
        self.UP = np.full((len(self.patron_ids), C), 0.5)
        self.L = np.zeros((len(self.patron_ids), n))
        for k, p in enumerate(config.patrons):
            for c, v in p.preferences.items():
                if c in self.cands:
                    self.UP[k, self.cands.index(c)] = float(v.value)
            for b, v in p.leverage.items():
                if b in self.idx:
                    self.L[k, self.idx[b]] = float(v.value)
        self.base = np.array([[config.bloc_base(b)[c] for c in config.communities()] for b in self.active])
        comm_w = np.array([float(p.value) for p in config.community_shares.values()])
        self.comm_w = comm_w / comm_w.sum()
        # negotiating units: electoral lists at first, alliances after a merger
        self.unit = np.array([self._list_index(b) for b in self.active])
        self.unit_names = {int(self.unit[i]): config.bloc_list(b) for i, b in enumerate(self.active)}
        self._enumerate()
        # caretaker
        self._outgoing = outgoing
        inc_bloc = None
        if outgoing is not None:
            inc_bloc = outgoing.pm_bloc
        elif config.incumbent is not None:
            inc_bloc = config.candidate(config.incumbent.pm_candidate).bloc
        self.caretaker_idx = self.idx.get(inc_bloc, -1) if inc_bloc is not None else -1
        prev_term = outgoing.term if outgoing is not None else (config.incumbent.term if config.incumbent else 0)
        self.term = term if term is not None else prev_term + 1
        # reservations: ideal utilities and private over-optimism (drawn now, in a fixed order)
        U0 = self._utilities()
        self.Umax = np.array([U0[self.M[:, i], i].max() if self.M[:, i].any() else 0.0 for i in range(n)])
        self.mu = float(fr.optimism_mean.value)
        self.eps = rng.normal(self.mu, float(fr.optimism_sd.value), size=n)
        self.D = np.zeros(n)
        self.day = 0
        self.milestones = Milestones()
        self.weekly_pm_probabilities: list[WeeklyDiagnostic] = []
        self.government: Government | None = None
        self._deal: dict[str, Any] | None = None
        self._pending: dict[str, Any] | None = None
        self._r_act = np.zeros(n)
        self._merged = False
        self.proposals = 0
        self.failed_proposals = 0

    # ------------------------------------------------------------------ setup
    def _list_index(self, bloc: str) -> int:
        lids = self.cfg.list_ids()
        return lids.index(self.cfg.bloc_list(bloc))

    def _enumerate(self) -> None:
        """All packages (candidate, coalition) whose coalition clears the threshold."""
        n = self.n
        masks = np.arange(1, 1 << n, dtype=np.int64)
        bits = ((masks[:, None] >> np.arange(n)) & 1).astype(bool)
        seats = bits @ self.s
        ok = seats >= self.threshold
        masks, bits = masks[ok], bits[ok]
        cand_list, mask_list = [], []
        for ci, bi in enumerate(self.cand_bloc):
            sel = np.ones(len(masks), bool) if bi < 0 else bits[:, bi]
            cand_list.append(np.full(int(sel.sum()), ci))
            mask_list.append(np.nonzero(sel)[0])
        self.pk_cand = np.concatenate(cand_list)
        self.pk_coal = np.concatenate(mask_list)
        self.pk_index = {(int(c), int(masks[m])): i for i, (c, m) in enumerate(zip(self.pk_cand, self.pk_coal, strict=True))}
        self.coal_masks = masks
        self.coal_bits = bits
        self.coal_seats = bits @ self.s
        self.M = bits[self.pk_coal]
        # inclusion: population-weighted share of communities whose MPs are (enough) in government
        comm_seats = self.s @ self.base  # seats of each community's representatives
        rep = (bits * self.s) @ self.base / np.where(comm_seats > 0, comm_seats, 1.0)
        target = float(self.cfg.formation.inclusion_target.value)
        self.coal_incl = (np.minimum(1.0, rep / target) * self.comm_w).sum(axis=1)
        self._shares()

    def _shares(self) -> None:
        """Each package's share for each member bloc, under the apportionment rule and current units."""
        ap = self.cfg.apportionment
        method = ap.method
        nb = self.n
        bits = self.coal_bits
        unit = self.unit if ap.level == "unit" else np.arange(nb)
        units = np.unique(unit)
        # unit seats within each coalition
        U1 = np.zeros((len(units), nb))
        for k, un in enumerate(units):
            U1[k, unit == un] = 1.0
        cs = (bits * self.s) @ U1.T  # coalitions x units
        if method == "technocratic":
            self.S = np.zeros((len(self.pk_coal), nb))
            return
        expo = float(ap.exponent.value) if method == "gamson_bonus" else 1.0
        w = np.where(cs > 0, np.power(np.where(cs > 0, cs, 1.0), expo), 0.0)
        ush = w / w.sum(axis=1, keepdims=True)  # coalitions x units
        uidx = np.searchsorted(units, unit)
        within = np.where(bits, self.s / np.where(cs[:, uidx] > 0, cs[:, uidx], 1.0), 0.0)
        coal_share = ush[:, uidx] * within  # coalitions x blocs
        S = coal_share[self.pk_coal]
        if method == "proposer_premium":
            prem = float(ap.proposer_premium.value)
            pmb = self.cand_bloc[self.pk_cand]
            has = pmb >= 0
            S = S.copy()
            rows = np.nonzero(has)[0]
            if len(rows):
                pu = uidx[pmb[rows]]
                unit_member = (uidx[None, :] == pu[:, None]) & self.M[rows]
                unit_tot = np.where(unit_member, S[rows], 0.0).sum(axis=1, keepdims=True)
                inside = np.where(unit_member, S[rows] / np.where(unit_tot > 0, unit_tot, 1.0), 0.0)
                S[rows] = (1.0 - prem) * S[rows] + prem * inside
        self.S = S

    def _utilities(self) -> np.ndarray:
        fr = self.cfg.formation
        Upm = self.u[:, self.pk_cand].T  # packages x blocs
        office = float(fr.w_office.value) * self.S + float(fr.w_member.value)
        if self.cfg.cabinet is not None:
            office = office + self._blocking()
        return float(fr.w_pm.value) * Upm + np.where(self.M, office, 0.0)

    def _blocking(self) -> np.ndarray:
        """The cabinet's veto rule: each member whose unit holds at least ``blocking_share`` of the package's
        portfolios, outside the PM's own unit, gains ``blocking_value`` (packages x blocs)."""
        cab = self.cfg.cabinet
        assert cab is not None
        unit = self.unit
        same = unit[:, None] == unit[None, :]  # blocs x blocs of one unit
        unit_share = self.S @ same.T  # packages x blocs: the share of each bloc's unit
        pmb = self.cand_bloc[self.pk_cand]
        pm_unit = np.where(pmb >= 0, unit[np.maximum(pmb, 0)], -1)
        outside = unit[None, :] != pm_unit[:, None]
        holds = (unit_share >= float(cab.blocking_share.value) - 1e-9) & outside
        return float(cab.blocking_value.value) * holds

    # ------------------------------------------------------------------ public API
    def caretaker(self) -> Government:
        """The outgoing government, which governs (as caretaker) until a new cabinet is voted."""
        if self._outgoing is not None:
            return self._outgoing.as_caretaker()
        inc = self.cfg.incumbent
        if inc is None:
            raise UsageError("incumbent: the configuration names no outgoing government")
        seats = self.cfg.documented_bloc_seats() or dict(self.seats_all)
        if sum(seats.get(b, 0) for b in inc.coalition) <= 0:
            seats = {b: 1 for b in self.cfg.bloc_ids()}
        return build_government(self.cfg, inc.pm_candidate, inc.coalition, seats, formed_day=0,
                                term=inc.term, caretaker=True)

    @property
    def done(self) -> bool:
        return self.government is not None and self.government.formed_day <= self.day

    @property
    def vacuum_days(self) -> int:
        """Days without a new government so far (the formation day once formed)."""
        if self.done and self.government is not None:
            return self.government.formed_day
        return self.day

    @property
    def designated(self) -> str | None:
        """The PM-designate once a deal is struck (before the cabinet vote)."""
        return self._deal["candidate"] if self._deal else None

    def advance(
        self,
        days: int,
        violence_index: float,
        patron_leverage: Mapping[str, Mapping[str, float]] | None = None,
    ) -> Government | None:
        """Run the weekly rounds in the next ``days`` days; the new government once voted, else None.

        ``patron_leverage`` (patron -> bloc -> leverage in [0, 1]) replaces the
        configured leverage of the patrons it names, for these days (the engine
        derives it from patron money and alignment).
        """
        if days < 0:
            raise UsageError("days: must be >= 0")
        if not math.isfinite(violence_index) or violence_index < 0:
            raise UsageError("violence_index: must be a finite number >= 0")
        L = self.L
        if patron_leverage:
            L = self.L.copy()
            for p, lev in patron_leverage.items():
                if p not in self.patron_ids:
                    raise UsageError(f"patron_leverage.{p}: unknown patron")
                k = self.patron_ids.index(p)
                L[k] = 0.0
                for b, v in lev.items():
                    if b not in self.cfg.bloc_ids():
                        raise UsageError(f"patron_leverage.{p}.{b}: unknown bloc")
                    if b in self.idx:
                        L[k, self.idx[b]] = float(v)
        target = self.day + int(days)
        rd = int(round(self.cfg.formation.round_days.value))
        next_round = (self.day // rd + 1) * rd
        while next_round <= target:
            if self._deal is None:
                self._round(next_round, float(violence_index), L)
            next_round += rd
        self.day = target
        return self.government if self.done else None

    # ------------------------------------------------------------------ one round
    def _round(self, day: int, v: float, L: np.ndarray) -> None:
        fr = self.cfg.formation
        rng = self.rng
        # 1. patron pressure (KTAB accommodation)
        if L.size:
            rate = float(fr.patron_accommodation_rate.value)
            pull = L.T @ self.UP - L.sum(axis=0)[:, None] * self.u
            self.u = np.clip(self.u + rate * pull, 0.0, 1.0)
        # 2. post-election merger into the largest bloc
        u_merge = rng.random()
        if not self._merged and fr.largest_bloc_post_election and day >= fr.court_ruling_day.value:
            self._maybe_merge(day, u_merge)
        # 3. demands fall with the delay cost (violence raises it; the caretaker barely pays it)
        delta = np.full(self.n, float(fr.delay_cost.value) * (1.0 + float(fr.violence_sensitivity.value) * v))
        if self.caretaker_idx >= 0:
            delta[self.caretaker_idx] *= float(fr.caretaker_cost_factor.value)
        self.D += delta
        keep = np.maximum(0.0, 1.0 - self.D)
        # over-optimism is about what others will concede: no bloc refuses its own ideal package
        r_act = self.Umax * np.minimum(1.0, (1.0 + self.eps) * keep)
        r_pub = self.Umax * np.minimum(1.0, (1.0 + self.mu) * keep)
        U = self._utilities()
        feas_pub = np.all((U >= r_pub) | ~self.M, axis=1)
        self._r_act = r_act
        f_members, nominee = self._formateur(U, feas_pub)
        # KTAB diagnostic
        probs = condorcet_probabilities(self.u, self.s, float(fr.ktab_nu.value))
        self.weekly_pm_probabilities.append(
            WeeklyDiagnostic(day, {c: float(p) for c, p in zip(self.cands, probs, strict=True)},
                             self.cands[nominee] if nominee is not None else None)
        )
        if nominee is not None and self.milestones.nominee_backed_day is None and len(f_members) > 1:
            # the other members of the largest bloc would all join a government under its nominee
            others = f_members[f_members != self.cand_bloc[nominee]]
            sel = (self.pk_cand == nominee) & np.all(self.M[:, f_members], axis=1)
            if sel.any() and np.all(U[sel][:, others] >= r_act[others], axis=1).any():
                self.milestones.nominee_backed_day = day
        # 4. bargaining round (formal proposals after certification)
        u_prop = rng.random()
        u_bloc = rng.random()
        if day < fr.certification_day.value:
            return
        if self.milestones.certification_day is None:
            self.milestones.certification_day = int(fr.certification_day.value)
        lam = float(fr.inclusion_weight.value)
        incl = self.coal_incl[self.pk_coal]
        pending = self._pending
        if pending is not None:
            # Article 76: the largest bloc's nominee has the first designation; a rival deal waits
            # until the nominee has failed, and its members compare any offer with that deal.
            floor_act = r_act.copy()
            floor_pub = r_pub.copy()
            pm_mask = self.M[pending["pk"]]
            floor_act[pm_mask] = np.maximum(floor_act[pm_mask], U[pending["pk"], pm_mask])
            floor_pub[pm_mask] = np.maximum(floor_pub[pm_mask], U[pending["pk"], pm_mask])
            feas = np.all((U >= floor_pub) | ~self.M, axis=1)
            if nominee is not None:
                allowed = (self.pk_cand == nominee) & feas & self.M[:, f_members].any(axis=1)
                if allowed.any():
                    w = np.zeros(self.n)
                    w[f_members] = self.s[f_members] / self.s[f_members].sum()
                    objective = U @ w + lam * incl
                    pk = int(np.flatnonzero(allowed)[np.argmax(objective[allowed])])
                    proposer = int(f_members[np.argmax(self.s[f_members])])
                    if self._try(pk, proposer, U, floor_act, day, day, weights=w):
                        return
            if day >= pending["deadline"]:
                self._close(pending["pk"], pending["accept"], pending["day"], day, pending["weights"])
            return
        first = bool(fr.formateur_first_designation) and float(fr.formateur_agenda_prob.value) > 0
        if nominee is not None and u_prop < float(fr.formateur_agenda_prob.value):
            w = np.zeros(self.n)
            w[f_members] = self.s[f_members]
            w /= w.sum()
            allowed = (self.pk_cand == nominee) & feas_pub & self.M[:, f_members].any(axis=1)
            objective = U @ w + lam * incl
            proposer = int(f_members[np.argmax(self.s[f_members])])
        else:
            cum = np.cumsum(self.s) / self.s.sum()
            proposer = int(min(np.searchsorted(cum, u_bloc, side="right"), self.n - 1))
            allowed = self.M[:, proposer] & feas_pub & (U[:, proposer] >= r_act[proposer])
            w = np.zeros(self.n)
            w[proposer] = 1.0
            objective = U[:, proposer] + lam * incl
        if not allowed.any():
            return
        pk = int(np.flatnonzero(allowed)[np.argmax(objective[allowed])])
        rival = first and nominee is not None and int(self.pk_cand[pk]) != nominee and len(f_members) > 0
        self._try(pk, proposer, U, r_act, day, day, weights=w, defer=rival)

    def _try(self, pk: int, proposer: int, U: np.ndarray, r_act: np.ndarray, day: int, close_day: int,
             *, weights: np.ndarray, defer: bool = False) -> bool:
        """Put package ``pk`` to its members; close (or defer, under Article 76) if enough accept."""
        self.proposals += 1
        members = self.M[pk]
        accept = members & (U[pk] >= r_act)
        accept[proposer] = accept[proposer] or members[proposer]
        cb = int(self.cand_bloc[self.pk_cand[pk]])
        ok = self.s[accept].sum() >= self.threshold and (cb < 0 or accept[cb])
        if not ok:
            self.failed_proposals += 1
            return False
        if defer:
            window = int(round(self.cfg.formation.designation_window_days.value))
            self._pending = {"pk": pk, "accept": accept, "day": day, "deadline": day + window, "weights": weights}
            self.milestones.rival_deal_day = day
            return True
        self._close(pk, accept, day, close_day, weights)
        return True

    def _close(self, pk: int, accept: np.ndarray, agreement_day: int, start_day: int, weights: np.ndarray) -> None:
        """The deal: the PM-designate composes the cabinet, which is voted after the Article 76 lag."""
        fr = self.cfg.formation
        accept = self._expand(int(self.pk_cand[pk]), accept, weights)
        coalition = [self.active[i] for i in np.flatnonzero(accept)]
        lag_lo, lag_hi = float(fr.cabinet_lag_min.value), float(fr.cabinet_lag_max.value)
        lag = int(round(self.rng.uniform(lag_lo, lag_hi)))
        self._deal = {"candidate": self.cands[self.pk_cand[pk]], "coalition": coalition, "day": agreement_day}
        self._pending = None
        self.milestones.agreement_day = agreement_day
        self.milestones.formed_day = start_day + lag
        unit_map = {b: f"unit{int(self.unit[self.idx[b]])}" for b in self.active}
        self.government = build_government(
            self.cfg, self._deal["candidate"], coalition, self.seats_all, formed_day=start_day + lag,
            term=self.term, units=unit_map, agreement_day=agreement_day,
        )

    def _expand(self, cand: int, accept: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """National-partnership expansion: once the PM is settled, outsiders would rather join than sit
        in opposition, and the PM's side adds each one whose inclusion is worth more to it than the
        portfolios it costs (greedy, best first)."""
        lam = float(self.cfg.formation.inclusion_weight.value)
        U = self._utilities()
        acc = accept.copy()

        def value(mask_bits: np.ndarray) -> float:
            m = int((mask_bits.astype(np.int64) << np.arange(self.n)).sum())
            k = self.pk_index.get((cand, m))
            if k is None:
                return -np.inf
            return float(U[k] @ weights + lam * self.coal_incl[self.pk_coal[k]])

        cur = value(acc)
        while True:
            best, best_v = -1, cur
            for b in np.flatnonzero(~acc):
                trial = acc.copy()
                trial[b] = True
                v = value(trial)
                if v > best_v + 1e-12:
                    best, best_v = int(b), v
            if best < 0:
                return acc
            acc[best] = True
            cur = best_v

    def _maybe_merge(self, day: int, u: float) -> None:
        """A same-sect group larger than the largest unit merges (weekly hazard): the 2010 National Alliance."""
        fr = self.cfg.formation
        unit_seats = {int(k): float(self.s[self.unit == k].sum()) for k in np.unique(self.unit)}
        largest = max(unit_seats.values())
        best: list[int] | None = None
        for sect in self.cfg.communities():
            grp = [i for i, b in enumerate(self.active) if self.cfg.bloc(b).sect == sect]
            if not grp:
                continue
            if len({int(self.unit[i]) for i in grp}) < 2:
                continue  # already one unit
            seats = float(self.s[grp].sum())
            if seats > largest and (best is None or seats > float(self.s[best].sum())):
                best = grp
        if best is None or u >= float(fr.merger_hazard.value):
            return
        new_unit = int(self.unit.max()) + 1
        self.unit[best] = new_unit
        self.unit_names[new_unit] = "alliance:" + self.cfg.bloc(self.active[best[0]]).sect
        self._merged = True
        self.milestones.merger_day = day
        self._shares()

    def _formateur(self, U: np.ndarray, feas_pub: np.ndarray) -> tuple[np.ndarray, int | None]:
        """The largest unit (Article 76) and its nominee by its members' seat-weighted vote."""
        units = np.unique(self.unit)
        useats = np.array([self.s[self.unit == k].sum() for k in units])
        fu = int(units[int(np.argmax(useats))])
        members = np.flatnonzero(self.unit == fu)
        # the unit's own candidates, and independents (any bloc may nominate a compromise figure)
        own = [ci for ci, bi in enumerate(self.cand_bloc) if bi < 0 or bi in set(members.tolist())]
        if not own:
            return members, None
        # each member votes for the candidate worth most to it: the best package feasible now,
        # or holding out for its demand (what it expects by waiting) if that is worth more
        votes = np.zeros(len(self.cands))
        for m in members:
            scores = []
            for c in own:
                sel = self.pk_cand == c
                now = U[sel & feas_pub, m].max() if (sel & feas_pub).any() else -np.inf
                hold = min(self._r_act[m], U[sel, m].max()) if sel.any() else -np.inf
                scores.append(max(now, hold))
            votes[own[int(np.argmax(scores))]] += self.s[m]
        return members, int(np.argmax(votes))


# --------------------------------------------------------------------------- standalone runs


@dataclass(frozen=True)
class FormationOutcome:
    """One standalone formation run."""

    pm_candidate: str | None
    pm_bloc: str | None
    coalition: tuple[str, ...]
    vacuum_days: int
    formed: bool
    milestones: dict[str, int | None]
    portfolios: dict[str, int]
    final_ktab: dict[str, float]
    proposals: int
    failed_proposals: int
    government: Government | None = field(default=None, compare=False)


def violence_at(cfg: PoliticsConfig, day: int) -> float:
    """The scenario's violence index on a day since the election (the last month persists)."""
    m = int(day / 30.4375)
    path = cfg.violence.monthly
    return float(path[min(m, len(path) - 1)].value)


def run_formation(
    cfg: PoliticsConfig,
    rng: np.random.Generator,
    *,
    seats: Mapping[str, int] | None = None,
    step_days: int = 7,
) -> FormationOutcome:
    """Run one formation from the election to the cabinet vote (or the horizon ``max_days``)."""
    if seats is None:
        seats = cfg.documented_bloc_seats()
        if seats is None:
            raise UsageError(f"{cfg.name}: no documented seats for every bloc; pass seats")
    proc = FormationProcess(cfg, seats, cfg.election_date, rng)
    horizon = int(cfg.formation.max_days.value)
    gov = None
    while proc.day < horizon:
        gov = proc.advance(step_days, violence_at(cfg, proc.day))
        if gov is not None:
            break
    final = proc.weekly_pm_probabilities[-1].probabilities if proc.weekly_pm_probabilities else {}
    if gov is None:
        return FormationOutcome(None, None, (), horizon, False, proc.milestones.to_dict(), {}, final,
                                proc.proposals, proc.failed_proposals)
    return FormationOutcome(gov.pm_candidate, gov.pm_bloc, gov.coalition, gov.formed_day, True,
                            proc.milestones.to_dict(), dict(gov.portfolios), final, proc.proposals,
                            proc.failed_proposals, gov)


def run_seed(seed: int, run: int) -> np.random.Generator:
    """The generator of run ``run`` under ``seed`` (independent of how many runs are made)."""
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(int(run),)))


def run_formations(cfg: PoliticsConfig, runs: int, seed: int = 0) -> list[FormationOutcome]:
    """``runs`` independent formations, run i drawn from ``run_seed(seed, i)``."""
    if runs < 1:
        raise UsageError("runs: must be >= 1")
    return [run_formation(cfg, run_seed(seed, i)) for i in range(runs)]


def summarize(outcomes: list[FormationOutcome], cfg: PoliticsConfig | None = None) -> dict[str, Any]:
    """Distribution of the PM (by candidate and bloc) and of the vacuum length."""
    n = len(outcomes)
    pm: dict[str, float] = {}
    pmb: dict[str, float] = {}
    if cfg is not None:
        for c in cfg.candidates:
            pm[c.id] = 0.0
    for o in outcomes:
        key = o.pm_candidate or "none"
        pm[key] = pm.get(key, 0.0) + 1.0 / n
        bkey = o.pm_bloc or ("independent" if o.formed else "none")
        pmb[bkey] = pmb.get(bkey, 0.0) + 1.0 / n
    days = np.array([o.vacuum_days for o in outcomes], dtype=float)
    pm = {k: round(v, 6) for k, v in sorted(pm.items(), key=lambda kv: (-kv[1], kv[0]))}
    pmb = {k: round(v, 6) for k, v in sorted(pmb.items(), key=lambda kv: (-kv[1], kv[0]))}
    return {
        "pm_share": pm,
        "pm_bloc_share": pmb,
        "vacuum_days": {
            "p10": float(np.percentile(days, 10)),
            "p50": float(np.percentile(days, 50)),
            "p90": float(np.percentile(days, 90)),
        },
    }
