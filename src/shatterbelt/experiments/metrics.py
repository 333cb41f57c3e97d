"""Scalar outcomes of one run: what ensembles, comparisons, claims and scores are computed on.

Two families, both stored per run in the results database's ``metrics`` table:

* every numeric leaf of the run's summary, flattened (``civilian_deaths_by_year.2011``,
  ``legitimacy_final.sunni``, ``army_collapses.count`` ...), so that ``compare``
  covers every summary metric;
* derived outcomes over fixed calendar windows, computed in the worker from the
  run's recorded arrays (``deaths.from_2012``, ``insurgent_fighters.mean_to_2011``,
  ``leaders.in_game`` ...).  The windows are calendar dates, the same for every
  scenario (``from_2012``, ``to_2011``); a window the run does not reach gives NaN.
  Nothing here names a country, patron, bloc or actor: groups are read from the
  scenario (actors by kind, the patrons that back its foreign forces, its blocs
  and regions), so the keys of a scenario are built from its own ids.

``OUTCOMES_VERSION`` changes whenever a definition here changes, and a results
database records it, so stale metrics are never mixed with new ones.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..scenario.schema import ActorKind

if TYPE_CHECKING:
    from ..sim import Result

OUTCOMES_VERSION = "2"

#: summary keys that describe the run rather than its outcome
_NOT_OUTCOMES = {"seed", "scale", "agents", "months", "complete", "scenario", "start", "end"}
#: first month after the withdrawal window / last month of the vacuum window
POST_FROM = "2012-01"
EARLY_TO = "2011-12"


def flatten_summary(summary: dict[str, Any]) -> dict[str, float]:
    """Every numeric leaf of a summary as ``dotted.key -> float``; lists become counts."""
    out: dict[str, float] = {}

    def put(key: str, v: Any) -> None:
        if isinstance(v, bool):
            out[key] = float(v)
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out[key] = float(v)
        elif isinstance(v, dict):
            for k, x in v.items():
                put(f"{key}.{k}", x)

    for k, v in summary.items():
        if k in _NOT_OUTCOMES or k == "microstates_by_month":
            continue
        if isinstance(v, list):
            out[f"{k}.count"] = float(len(v))
            if k == "vacuum_days_by_term":
                for i, d in enumerate(v, 1):
                    out[f"{k}.{i}"] = float(d)
            continue
        if k == "final_control":
            for reg, c in v.items():
                out[f"final_control.{reg}.share"] = float(c["share"])
            continue
        put(k, v)
    return out


def troop_patrons(sc: Any) -> list[str]:
    """The patrons that back one of the scenario's foreign forces (actors of kind ``foreign_force``),
    in the scenario's order: the foreign power whose troops are in the country (iraq-2010: ``us``)."""
    backing = {p for a in sc.actors if a.kind == ActorKind.foreign_force for p, v in a.patrons.items() if v > 0}
    return [p.id for p in sc.patrons if p.id in backing]


def _mean(x: np.ndarray) -> float:
    x = x[~np.isnan(x)]
    return float(x.mean()) if x.size else math.nan


def derived_outcomes(res: Result) -> dict[str, float]:
    """Outcomes over calendar windows and of the final state, from a run's arrays."""
    w = res.world
    rec = w.record
    T = w.t_done
    nat = rec.nat[:T]
    ni = rec.ni
    months = np.array(w.months[:T])
    years = np.array([m[:4] for m in months])
    post = months >= POST_FROM
    early = months <= EARLY_TO
    last12 = np.arange(T) >= max(0, T - 12)
    kinds = [a.kind for a in w.sc.actors]
    o: dict[str, float] = {}

    civ = nat[:, ni["civilian_deaths"]]
    bat = nat[:, ni["battle_deaths"]]
    o["deaths.civilian"] = float(civ.sum())
    o["deaths.battle"] = float(bat.sum())
    o["deaths.total"] = float((civ + bat).sum())
    o["deaths.from_2012"] = float((civ + bat)[post].sum()) if post.any() else math.nan
    o["deaths.to_2011"] = float((civ + bat)[early].sum()) if early.any() else math.nan
    by_year = {y: float(bat[years == y].sum()) for y in np.unique(years)}
    o["civil_war.any"] = float(any(v >= 1000 for v in by_year.values()))
    post_years = [v for y, v in by_year.items() if y >= POST_FROM[:4]]
    o["civil_war.from_2012"] = float(any(v >= 1000 for v in post_years)) if post_years else math.nan
    o["civil_war.years"] = float(sum(v >= 1000 for v in by_year.values()))
    pop0 = float(rec.reg[0, :, rec.ri["population"]].sum()) if T else 0.0
    o["deaths.per_100k_year"] = float((civ + bat).sum()) / (T / 12.0) / pop0 * 1e5 if T and pop0 > 0 else math.nan

    coh = nat[:, ni["army_cohesion"]]
    o["army_cohesion.mean"] = _mean(coh)
    o["army_cohesion.mean_from_2012"] = _mean(coh[post]) if post.any() else math.nan
    o["army_collapses.count"] = float(len(w.army_collapses))

    ins = nat[:, ni["insurgent_fighters"]]
    o["insurgent_fighters.mean"] = _mean(ins)
    o["insurgent_fighters.mean_to_2011"] = _mean(ins[early]) if early.any() else math.nan
    o["insurgent_fighters.mean_from_2012"] = _mean(ins[post]) if post.any() else math.nan
    ins_names = {w.actor_names[i] for i in np.flatnonzero(w.is_insurgency)}
    ev = res.events
    if ev.num_rows:
        a1 = np.array(ev.column("actor1").to_pylist(), dtype=object)
        dates = np.array([d.isoformat()[:7] for d in ev.column("event_date").to_pylist()])
        is_ins = np.isin(a1, list(ins_names))
        o["insurgent_attacks.total"] = float(is_ins.sum())
        o["insurgent_attacks.to_2011"] = float((is_ins & (dates <= EARLY_TO)).sum()) if early.any() else math.nan
        o["insurgent_attacks.from_2012"] = float((is_ins & (dates >= POST_FROM)).sum()) if post.any() else math.nan
    else:
        o["insurgent_attacks.total"] = 0.0
        o["insurgent_attacks.to_2011"] = 0.0 if early.any() else math.nan
        o["insurgent_attacks.from_2012"] = 0.0 if post.any() else math.nan

    # control: population-weighted national shares of each entity, last 12 months
    pop = rec.reg[:T, :, rec.ri["population"]]
    ctrl = np.stack([rec.reg[:T, :, rec.ri[f"control_{e}"]] for e in w.entities.ids], axis=-1)  # T x R x E
    natshare = (ctrl * pop[:, :, None]).sum(1) / np.maximum(pop.sum(1), 1.0)[:, None]  # T x E
    ins_ent = sorted({int(w.entity_of_actor[i]) for i in np.flatnonzero(w.is_insurgency)} - {0})
    o["insurgent_control.last12"] = float(natshare[last12][:, ins_ent].sum(1).mean()) if ins_ent else 0.0
    o["state_control.last12"] = float(natshare[last12][:, 0].mean())
    o["fragmentation.last12"] = float((1.0 / np.maximum((natshare[last12] ** 2).sum(1), 1e-12)).mean())

    militia = [i for i, k in enumerate(kinds) if k == ActorKind.militia]
    wings = [i for i, a in enumerate(w.sc.actors) if a.kind == ActorKind.militia or (a.parent and not w.is_state[i])]
    fa = np.stack([nat[:, ni[f"fighters_{a}"]] for a in w.act.ids], axis=1)  # T x A
    o["militia_fighters.last12"] = float(fa[last12][:, militia].sum(1).mean()) if militia else 0.0
    o["armed_wings_fighters.last12"] = float(fa[last12][:, wings].sum(1).mean()) if wings else 0.0

    ms = nat[:, ni["microstates"]]
    o["microstates.mean"] = _mean(ms)
    o["microstates.max"] = float(np.nanmax(ms)) if ms.size else math.nan
    o["microstates.share_months_multiple"] = float((ms >= 2).mean()) if ms.size else math.nan

    # leaders: who is still in the political game at the end
    g = w.gov
    seats = np.array([float(b.seats) for b in w.sc.blocs])
    in_game = g.coalition & ~w.excluded
    o["leaders.in_game"] = float((seats * in_game).sum() / max(seats.sum(), 1.0))
    o["leaders.pm_kept"] = float(w.bloc.ids[g.pm_bloc] == w.sc.initial_government.pm_bloc)
    infl = {p: nat[:, ni[f"influence_{p}"]] for p in w.pat.ids}
    o["patron_influence.total_final"] = float(sum(v[-1] for v in infl.values())) if T else math.nan
    troops = troop_patrons(w.sc)
    o["patron_influence.without_troops_final"] = (
        float(sum(v[-1] for p, v in infl.items() if p not in troops)) if T else math.nan
    )
    for tp in troops:  # the other patrons' influence beside each troop-sending one (iraq-2010: foreign_non_us)
        o[f"patron_influence.foreign_non_{tp}_final"] = (
            float(sum(v[-1] for p, v in infl.items() if p != tp)) if T else math.nan
        )
    for p, v in infl.items():
        o[f"patron_influence.{p}.mean_from_2012"] = _mean(v[post]) if post.any() else math.nan

    # history-checkable events: the first premiership, army collapses by region
    first = w.pm_by_term[0]["pm_bloc"] if w.pm_by_term else None
    for b in w.bloc.ids:
        o[f"pm.first_term.{b}"] = math.nan if first is None else float(first == b)
    collapsed = {r for r, _ in w.army_collapses}
    for r in w.reg.ids:
        o[f"army_collapsed_ever.{r}"] = float(r in collapsed)

    disp = nat[:, ni["displaced"]]
    o["displaced.peak"] = float(np.nanmax(disp)) if disp.size else math.nan
    o["displaced.new_total"] = float(np.nansum(nat[:, ni["new_displaced"]]))
    leg = [nat[-1, ni[f"legitimacy_{c}"]] for c in w.comm.ids] if T else []
    o["legitimacy.gap_final"] = float(max(leg) - min(leg)) if leg else math.nan
    return o


def run_outcomes(res: Result) -> dict[str, float]:
    """All scalar outcomes of a run, in a stable key order."""
    out = flatten_summary(res.summary)
    out.update(derived_outcomes(res))
    return dict(sorted(out.items()))
