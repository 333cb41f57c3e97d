"""The run's summary: the figures a user looks at first, computed from the recorded panel.

civil_war_years uses UCDP's threshold: at least 1,000 battle-related deaths in a
calendar year (here: fighters killed in events).

Regions are named as in the panel's ``region_name`` (the scenario's names): ``final_control``
is keyed by name, and ``army_collapses`` and ``control_changes`` give each region's ``region``
(name) and ``region_code`` (the panel's ``region_code``); ``regions`` maps every code to its name.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pyarrow as pa

    from .world import World

UCDP_WAR_THRESHOLD = 1000


def _num(x: float) -> float | int:
    """Persons as an int when whole (always at integer weights), else a float."""
    xf = float(x)
    return int(round(xf)) if abs(xf - round(xf)) < 1e-6 else round(xf, 6)


def build_summary(w: World, events: pa.Table, seed: int) -> dict[str, Any]:
    rec = w.record
    T = w.t_done
    if T == 0:
        raise ValueError("no month was completed")
    ni = rec.ni
    nat = rec.nat
    years = [m[:4] for m in w.months[:T]]
    by_year: dict[str, dict[str, float]] = {}
    for key in ("civilian_deaths", "battle_deaths"):
        d: dict[str, float] = {}
        for y, v in zip(years, nat[:T, ni[key]], strict=True):
            d[y] = d.get(y, 0.0) + float(v)
        by_year[key] = {y: _num(v) for y, v in d.items()}
    etypes = Counter(events.column("event_type").to_pylist()) if events.num_rows else Counter()
    nat = nat[:T]
    disp = nat[:, ni["displaced"]]
    ipk = int(np.argmax(disp))
    cen = w.census()
    final_control = {}
    for r in range(w.R):
        e = int(w.dominant[r])
        acts = np.flatnonzero(w.entity_of_actor == e)
        top = acts[np.argmax(w.strength[acts, r])] if acts.size else -1
        final_control[w.region_names[r]] = {
            "entity": w.entities.ids[e],
            "actor": w.act.ids[top] if top >= 0 else None,
            "share": round(float(w.control[e, r]), 6),
        }
    alive_rc = cen.alive_rc().astype(np.float64)
    popc = alive_rc.sum(0)
    legit = {c: round(float((w.L[:, i] * alive_rc[:, i]).sum() / max(popc[i], 1.0)), 6) for i, c in enumerate(w.comm.ids)}
    fighters = cen.fighters_ar().sum(1) * w.w
    n_agents = w.people.residents  # (not the foreign-fighter slots reserved after them)
    pop_start = n_agents * w.w
    dead = cen.dead()
    name_of = dict(zip(w.reg.ids, w.region_names, strict=True))
    return {
        "scenario": w.sc.name,
        "complete": T == w.T,
        "seed": seed,
        "scale": w.scale,
        "agents": n_agents,
        "months": T,
        "start": w.months[0],
        "end": w.months[T - 1],
        "agents_alive": cen.alive(),
        "agents_dead": dead,
        # foreign fighters (persons of the reserved slots): alive + dead = agents + arrived - departed
        "agents_arrived": int(getattr(w, "ff_arrived", 0)),
        "agents_departed": int(getattr(w, "ff_departed", 0)),
        "foreign_fighters_arrived": _num(getattr(w, "ff_arrived", 0) * w.w),
        "foreign_fighters_departed": _num(getattr(w, "ff_departed", 0) * w.w),
        "population_start": _num(pop_start),
        "population_end": _num(cen.alive() * w.w),
        "deaths_total": _num(dead * w.w),
        "civilian_deaths_by_year": by_year["civilian_deaths"],
        "battle_deaths_by_year": by_year["battle_deaths"],
        "civil_war_years": [int(y) for y, v in by_year["battle_deaths"].items() if v >= UCDP_WAR_THRESHOLD],
        "events_by_type": dict(sorted(etypes.items())),
        "event_fatalities_total": int(np.asarray(events.column("fatalities")).sum()) if events.num_rows else 0,
        "deaths_rounding_sd": round(float(np.sqrt(w.rounding_var)), 3),
        "peak_displaced": _num(disp[ipk]),
        "peak_displaced_month": w.months[ipk],
        "displaced_final": _num(disp[T - 1]),
        "final_control": final_control,
        "microstates_by_month": {m: int(v) for m, v in zip(w.months[:T], nat[:, ni["microstates"]], strict=True)},
        "microstates_final": int(nat[T - 1, ni["microstates"]]),
        "regions": name_of,
        "army_collapses": [{"region": name_of[r], "region_code": r, "month": m} for r, m in w.army_collapses],
        "control_changes": [{"region": name_of[r], "region_code": r, "month": m, "from": a, "to": b}
                            for r, m, a, b in w.control_changes],
        "army_cohesion_final": None if np.isnan(nat[T - 1, ni["army_cohesion"]]) else round(float(nat[T - 1, ni["army_cohesion"]]), 6),
        "legitimacy_final": legit,
        "patron_influence_final": {p: round(float(w.influence[i]), 6) for i, p in enumerate(w.pat.ids)},
        "fighters_final": {a: _num(fighters[i]) for i, a in enumerate(w.act.ids) if w.has_agents[i]},
        "insurgent_fighters_final": _num(fighters[w.is_insurgency].sum()),
        "insurgent_fighters_peak": _num(np.max(nat[:, ni["insurgent_fighters"]])),
        "detentions_total": _num(sum(float(nat[:, ni[f"detentions_{a}"]].sum()) for a in w.act.ids)),
        "pm_by_term": list(w.pm_by_term),
        "vacuum_days_by_term": list(w.vacuum_days_by_term),
        "vacuum_months_total": int(nat[:, ni["vacuum"]].sum()),
        "marginalization_events": list(w.marginalization_events),
        "seats_by_election": dict(w.seats_by_election),
        "seats_2014": next((v for k, v in w.seats_by_election.items() if k.startswith("2014")), None),
        # offices the chamber filled under confessional rules (only scenarios that have them)
        **({"office_events": list(w.office_events)} if w.office_events else {}),
    }
