"""Marginalization: a governing bloc moving against rival leaders.

What happened to Sunni leaders in 2011-2013 (the arrest warrant for
Vice-President al-Hashemi the day after the last US troops left, the arrest of
Finance Minister al-Issawi's guards a year later) is modelled as a hazard, never
as a date.  Each month the PM's bloc may move against each other coalition
bloc ``r`` with probability ``1 - exp(-h_r)``,

``h_r = base_rate * exp(backing_coef * backing - restraint_coef * restraint
+ weakness_coef * weakness_r) * rivalry_r * exposure_r * threat_r * [r still holds posts]``

* ``backing``: share of the patron influence over the PM's bloc that comes from
  patrons who favour such moves (stance > 0), weighted by each patron's current
  support (the engine passes it, e.g. Iran's spending relative to baseline);
* ``restraint``: the same for patrons who oppose them (stance < 0; the US while
  its troops are present: pass ``support["us"] = troops / troops in mid-2010``);
* ``weakness_r = 1 - min(1, strength_r / strength of the PM's camp)``, by seats
  unless the engine passes ``rival_strength`` (e.g. armed strength);
* ``rivalry_r = 1 - overlap`` of the community bases (``same_community_factor``
  at least), ``exposure_r`` from the bloc config (Kurdish leaders sit in the KRG);
* ``threat_r``: the rival's seats over the largest rival's (outside the PM's sect) -- a
  PM moves against leaders worth removing, not against every small partner.

An event removes part of the target's army command and portfolios, hands them
to the PM's bloc, and lowers the target community's representation; the engine
applies ``legitimacy_penalty`` to that community's legitimacy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..errors import UsageError
from ..scenario.politics_schema import NONPARTISAN, PoliticsConfig
from .apportion import Government


def patron_pressure(
    cfg: PoliticsConfig, pm_bloc: str | None, support: Mapping[str, float] | None = None
) -> tuple[float, float]:
    """(backing, restraint) in [0, 1] on the PM's bloc from its patrons' stances and support."""
    if pm_bloc is None:
        return 0.0, 0.0
    tot = back = restr = 0.0
    for p in cfg.patrons:
        lev = p.leverage.get(pm_bloc)
        if lev is None:
            continue
        sup = float(support.get(p.id, 1.0)) if support else 1.0
        if sup < 0:
            raise UsageError(f"support.{p.id}: must be >= 0")
        w = float(lev.value) * sup
        st = float(p.marginalization_stance.value)
        tot += w
        back += w * max(0.0, st)
        restr += w * max(0.0, -st)
    if tot <= 0:
        return 0.0, 0.0
    return back / tot, restr / tot


def marginalization_hazard(
    cfg: PoliticsConfig,
    government: Government,
    seats: Mapping[str, int],
    *,
    support: Mapping[str, float] | None = None,
    rival_strength: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """Monthly probability that the PM's bloc moves against each other coalition bloc."""
    mr = cfg.marginalization
    pm = government.pm_bloc
    if pm is None or NONPARTISAN in government.command_shares:
        return {}
    backing, restraint = patron_pressure(cfg, pm, support)
    pm_base = np.array(list(cfg.bloc_base(pm).values()))
    pm_sect = cfg.bloc(pm).sect
    camp = sum(seats.get(b, 0) for b in government.coalition if cfg.bloc(b).sect == pm_sect) or seats.get(pm, 0)
    rivals = [b for b in government.coalition if b != pm and cfg.bloc(b).sect != pm_sect]
    biggest_rival = max((seats.get(b, 0) for b in rivals), default=0) or max(
        (seats.get(b, 0) for b in government.coalition if b != pm), default=1)
    out: dict[str, float] = {}
    for b in government.coalition:
        if b == pm:
            continue
        holds = government.command_shares.get(b, 0.0) + government.portfolio_shares.get(b, 0.0)
        if holds <= 1e-9:
            out[b] = 0.0
            continue
        base = np.array(list(cfg.bloc_base(b).values()))
        overlap = float(np.minimum(base, pm_base).sum())
        rivalry = max(float(mr.same_community_factor.value), 1.0 - overlap)
        if rival_strength is not None and b in rival_strength:
            weakness = 1.0 - min(1.0, max(0.0, float(rival_strength[b])))
        else:
            weakness = 1.0 - min(1.0, seats.get(b, 0) / camp) if camp > 0 else 0.0
        spec = cfg.bloc(b)
        exposure = float(spec.exposure.value) if spec.exposure is not None else 1.0
        threat = min(1.0, seats.get(b, 0) / biggest_rival) if biggest_rival > 0 else 0.0
        h = (
            float(mr.base_rate.value)
            * math.exp(float(mr.backing_coef.value) * backing - float(mr.restraint_coef.value) * restraint
                       + float(mr.weakness_coef.value) * weakness)
            * rivalry
            * exposure
            * threat
        )
        out[b] = 1.0 - math.exp(-h)
    return out


@dataclass(frozen=True)
class MarginalizationEvent:
    """One move against a rival: who, which community, what it lost, and the new government."""

    target_bloc: str
    community: str
    kind: str  # "arrest" or "exclusion"
    portfolio_change: float
    command_change: float
    representation_change: dict[str, float]
    legitimacy_penalty: float
    government: Government

    def to_dict(self) -> dict[str, object]:
        return {
            "target_bloc": self.target_bloc,
            "community": self.community,
            "kind": self.kind,
            "portfolio_change": self.portfolio_change,
            "command_change": self.command_change,
            "representation_change": dict(self.representation_change),
            "legitimacy_penalty": self.legitimacy_penalty,
        }


def representation(cfg: PoliticsConfig, shares: Mapping[str, float]) -> dict[str, float]:
    """Each community's share of the government's portfolios (through its blocs' community bases)."""
    out = dict.fromkeys(cfg.communities(), 0.0)
    for b, s in shares.items():
        if b == NONPARTISAN:
            continue
        for c, w in cfg.bloc_base(b).items():
            out[c] += s * w
    return out


def apply_marginalization(
    cfg: PoliticsConfig, government: Government, target: str, rng: np.random.Generator
) -> MarginalizationEvent:
    """Apply one event against ``target``: its posts pass to the PM's bloc."""
    mr = cfg.marginalization
    pm = government.pm_bloc
    if pm is None or target == pm or target not in government.coalition:
        raise UsageError(f"target: '{target}' is not a rival inside the governing coalition")
    kind = "arrest" if rng.random() < float(mr.arrest_share.value) else "exclusion"
    ps = dict(government.portfolio_shares)
    cs = dict(government.command_shares)
    dp = ps.get(target, 0.0) * float(mr.portfolio_loss.value)
    dc = cs.get(target, 0.0) * float(mr.command_loss.value)
    # a coalition member may hold portfolios but no command (e.g. a minority quota bloc)
    ps[target] = ps.get(target, 0.0) - dp
    ps[pm] = ps.get(pm, 0.0) + dp
    cs[target] = cs.get(target, 0.0) - dc
    cs[pm] = cs.get(pm, 0.0) + dc
    before = representation(cfg, government.portfolio_shares)
    after = representation(cfg, ps)
    base = cfg.bloc_base(target)
    community = max(cfg.communities(), key=lambda c: base[c])
    new = Government(
        pm_bloc=government.pm_bloc, pm_candidate=government.pm_candidate, coalition=government.coalition,
        portfolio_shares=ps, budget_shares=dict(ps), command_shares=cs, formed_day=government.formed_day,
        term=government.term, portfolios=government.portfolios, caretaker=government.caretaker,
        agreement_day=government.agreement_day,
    )
    return MarginalizationEvent(
        target_bloc=target, community=community, kind=kind, portfolio_change=-dp, command_change=-dc,
        representation_change={c: after[c] - before[c] for c in cfg.communities()},
        legitimacy_penalty=float(mr.legitimacy_penalty.value), government=new,
    )


def draw_marginalization(
    cfg: PoliticsConfig,
    government: Government,
    seats: Mapping[str, int],
    rng: np.random.Generator,
    *,
    support: Mapping[str, float] | None = None,
    rival_strength: Mapping[str, float] | None = None,
) -> MarginalizationEvent | None:
    """One month: draw whether the PM's bloc moves against a rival (at most one event a month)."""
    hz = marginalization_hazard(cfg, government, seats, support=support, rival_strength=rival_strength)
    draws = rng.random(len(hz)) if hz else np.zeros(0)
    hits = [b for (b, p), x in zip(hz.items(), draws, strict=True) if x < p]
    if not hits:
        return None
    target = max(hits, key=lambda b: hz[b])
    return apply_marginalization(cfg, government, target, rng)
