"""Apportionment (*muhasasa*): how a coalition shares portfolios, budget and army command.

Gamson's law says a coalition party's share of portfolios is close to its share
of the coalition's seats (Warwick & Druckman 2006); small parties get somewhat
more than proportional (Cox 2021 derives the bias).  The default here writes
that bias as a power law, ``share ~ seats ** exponent`` with ``exponent < 1``,
computed over the negotiating units (the alliances or lists that bargained, as
the National Alliance did in 2010) and split inside each unit by seats.

Alternatives (scenario options): ``gamson`` (exponent 1), ``proposer_premium``
(the PM's unit gets a fixed premium on top of Gamson, as Baron-Ferejohn
bargaining predicts) and ``technocratic`` (claim C4's non-sectarian allocation:
nothing is apportioned to entities; the whole state is held by
:data:`~shatterbelt.scenario.politics_schema.NONPARTISAN`).

Army command follows portfolios except for a share the PM's bloc keeps
(``command_pm_concentration``): in December 2010 Maliki made himself acting
minister of defence, interior and national security.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import UsageError
from ..scenario.politics_schema import APPORTION_METHODS, NONPARTISAN, PoliticsConfig
from .elections import hare_niemeyer


def apportion(
    coalition: Sequence[str],
    seats: Mapping[str, int],
    method: str = "gamson_bonus",
    *,
    exponent: float = 1.0,
    premium: float = 0.0,
    pm_bloc: str | None = None,
    units: Mapping[str, str] | None = None,
) -> dict[str, float]:
    """Shares (summing to 1 over the coalition) under ``method``.

    ``units`` maps a bloc to its negotiating unit (default: itself); shares are
    computed over units and split inside a unit by seats.
    """
    if method not in APPORTION_METHODS:
        raise UsageError(f"method: unknown apportionment method '{method}' (expected one of: {', '.join(APPORTION_METHODS)})")
    if not coalition:
        raise UsageError("coalition: empty")
    for b in coalition:
        if b not in seats:
            raise UsageError(f"coalition: unknown bloc '{b}'")
    if method == "technocratic":
        return {NONPARTISAN: 1.0}
    unit_of = {b: (units.get(b, b) if units else b) for b in coalition}
    unit_ids: list[str] = []
    for b in coalition:
        if unit_of[b] not in unit_ids:
            unit_ids.append(unit_of[b])
    useats = np.array([sum(seats[b] for b in coalition if unit_of[b] == u) for u in unit_ids], dtype=float)
    if useats.sum() <= 0:
        raise UsageError("coalition: holds no seats")
    exp = exponent if method == "gamson_bonus" else 1.0
    w = np.where(useats > 0, useats**exp, 0.0)
    ushare = w / w.sum()
    if method == "proposer_premium" and pm_bloc is not None and pm_bloc in unit_of:
        pu = unit_ids.index(unit_of[pm_bloc])
        ushare = (1.0 - premium) * ushare
        ushare[pu] += premium
    out: dict[str, float] = {}
    for u, us, s in zip(unit_ids, ushare, useats, strict=True):
        members = [b for b in coalition if unit_of[b] == u]
        for b in members:
            out[b] = float(us * seats[b] / s) if s > 0 else 0.0
    return out


def portfolio_counts(shares: Mapping[str, float], n_portfolios: int) -> dict[str, int]:
    """Whole ministries from shares (largest remainder; ties to the earlier bloc)."""
    keys = list(shares)
    counts = hare_niemeyer(np.array([shares[k] for k in keys], dtype=float), int(n_portfolios))
    return {k: int(c) for k, c in zip(keys, counts, strict=True)}


def command_from(portfolio_shares: Mapping[str, float], pm_bloc: str | None, concentration: float) -> dict[str, float]:
    """Army command: portfolio shares, with ``concentration`` of it kept by the PM's bloc."""
    if NONPARTISAN in portfolio_shares or pm_bloc is None or pm_bloc not in portfolio_shares:
        return dict(portfolio_shares)
    out = {b: (1.0 - concentration) * s for b, s in portfolio_shares.items()}
    out[pm_bloc] += concentration
    return out


@dataclass(frozen=True)
class Government:
    """A government: who is PM, who governs, and how the state is shared among them.

    ``portfolio_shares``, ``budget_shares`` and ``command_shares`` map a bloc to
    a share summing to 1 over the coalition (or ``{"nonpartisan": 1.0}`` under
    the technocratic allocation).  ``formed_day`` counts days since the
    election that produced it (0 for a government inherited at the start).
    """

    pm_bloc: str | None
    pm_candidate: str
    coalition: tuple[str, ...]
    portfolio_shares: Mapping[str, float]
    budget_shares: Mapping[str, float]
    command_shares: Mapping[str, float]
    formed_day: int
    term: int
    portfolios: Mapping[str, int] = field(default_factory=dict)
    caretaker: bool = False
    agreement_day: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "pm_bloc": self.pm_bloc,
            "pm_candidate": self.pm_candidate,
            "coalition": list(self.coalition),
            "portfolio_shares": dict(self.portfolio_shares),
            "budget_shares": dict(self.budget_shares),
            "command_shares": dict(self.command_shares),
            "portfolios": dict(self.portfolios),
            "formed_day": self.formed_day,
            "agreement_day": self.agreement_day,
            "term": self.term,
            "caretaker": self.caretaker,
        }

    def as_caretaker(self) -> Government:
        """The same government, marked as caretaker (after an election, until a new one is formed)."""
        return Government(
            self.pm_bloc, self.pm_candidate, self.coalition, self.portfolio_shares, self.budget_shares,
            self.command_shares, self.formed_day, self.term, self.portfolios, True, self.agreement_day,
        )


def build_government(
    cfg: PoliticsConfig,
    pm_candidate: str,
    coalition: Sequence[str],
    seats: Mapping[str, int],
    *,
    formed_day: int,
    term: int,
    units: Mapping[str, str] | None = None,
    agreement_day: int | None = None,
    caretaker: bool = False,
    method: str | None = None,
) -> Government:
    """A :class:`Government` with shares apportioned by the config's method."""
    ap = cfg.apportionment
    cand = cfg.candidate(pm_candidate)
    pm_bloc = cand.bloc
    coal = tuple(b for b in cfg.bloc_ids() if b in set(coalition))
    shares = apportion(
        coal, seats, method or ap.method,
        exponent=float(ap.exponent.value), premium=float(ap.proposer_premium.value),
        pm_bloc=pm_bloc, units=units if ap.level == "unit" else None,
    )
    command = command_from(shares, pm_bloc, float(ap.command_pm_concentration.value))
    counts = portfolio_counts(shares, int(round(ap.n_portfolios.value)))
    return Government(
        pm_bloc=pm_bloc, pm_candidate=pm_candidate, coalition=coal, portfolio_shares=shares,
        budget_shares=dict(shares), command_shares=command, formed_day=formed_day, term=term,
        portfolios=counts, caretaker=caretaker, agreement_day=agreement_day,
    )


def group_portfolios(portfolios: Mapping[str, int], groups: Mapping[str, Sequence[str]]) -> dict[str, int]:
    """Ministries by documented group (e.g. the National Alliance = State of Law + INA blocs)."""
    out = {}
    for g, members in groups.items():
        out[g] = int(sum(portfolios.get(b, 0) for b in members))
    return out
