"""A run's events as ACLED data: ACLED's full column set, codes and conventions.

The engine logs each event with a few columns (:attr:`Result.events <shatterbelt.result.Result>`:
date, event and sub-event type, actor names, region, fatalities).  :func:`acled_table` turns
that log into the 31 columns of ACLED's data exports, following ACLED's codebook:

* ``actor1``/``actor2`` are the scenario's actor names; civilians are ``Civilians (<country>)``
  with their identity in ``assoc_actor_2`` (``<community> Group (<country>)``); a non-state
  armed actor recruited from one community carries that identity in ``assoc_actor_1``/``2``;
* ``inter1``/``inter2`` are ACLED's actor-type codes, from each actor's kind (:data:`INTER`):
  1 state forces (army, police, and a regional government's forces), 2 rebel groups
  (insurgencies), 3 political militias, 4 identity militias (tribal forces), 7 civilians,
  8 external/other forces (a foreign force); ``interaction`` joins the two codes, the smaller
  first (``17``: state forces against civilians), or ``inter1`` x 10 when there is no second actor;
* ``time_precision`` is 3 (ACLED: only the month is known).  The engine works month by month, so
  an event's day is drawn at random within its month; nothing is known about the day;
* ``admin1`` is ACLED's spelling of the governorate, ``location``/``latitude``/``longitude`` its
  capital and ``geo_precision`` 3 (ACLED: only the province is known, its capital is used),
  through the crosswalk shipped with the package (:mod:`shatterbelt.exports.places`);
* ``disorder_type`` follows the event type ("Political violence", or "Strategic developments");
  ``source`` names the run, ``source_scale`` is "Other", ``notes`` says the event is simulated
  and what its date and place mean, ``timestamp`` is the Unix time of the end of the event's
  month (when the month's events are complete; fixed, so outputs stay byte-identical).
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import TYPE_CHECKING

import pyarrow as pa

from .. import __version__
from ..scenario.schema import ActorKind
from .places import country, places

if TYPE_CHECKING:
    from ..scenario.schema import Actor, Scenario

#: ACLED's columns, in the order of its data exports
ACLED_COLUMNS = (
    "event_id_cnty", "event_date", "year", "time_precision", "disorder_type", "event_type", "sub_event_type",
    "actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2", "inter2", "interaction", "civilian_targeting",
    "iso", "region", "country", "admin1", "admin2", "admin3", "location", "latitude", "longitude", "geo_precision",
    "source", "source_scale", "notes", "fatalities", "tags", "timestamp",
)
#: ACLED's actor-type code (inter1/inter2) of each actor kind
INTER: dict[ActorKind, int] = {
    ActorKind.state_army: 1,
    ActorKind.police: 1,
    ActorKind.regional_guard: 1,
    ActorKind.insurgency: 2,
    ActorKind.militia: 3,
    ActorKind.tribal: 4,
    ActorKind.foreign_force: 8,
}
CIVILIANS = 7
#: ACLED's time_precision when only the month is known
TIME_PRECISION_MONTH = 3
#: ACLED's geo_precision when only the province is known and its capital is used
GEO_PRECISION_PROVINCE = 3
DISORDER = {
    "Battles": "Political violence",
    "Explosions/Remote violence": "Political violence",
    "Violence against civilians": "Political violence",
    "Strategic developments": "Strategic developments",
}
NOTE = "Simulated event: day drawn at random within the month; place known to the first-level region only."


def civilians_name(sc: Scenario) -> str:
    """ACLED's name of the civilians of the scenario's country: ``Civilians (Iraq)``."""
    return f"Civilians ({sc.country or sc.name})"


def identity_name(community_name: str, sc: Scenario) -> str:
    """An identity as ACLED's associated actor: ``<community> Group (<country>)``."""
    return f"{community_name} Group ({sc.country or sc.name})"


def _identity(a: Actor, sc: Scenario) -> str:
    if a.kind in (ActorKind.state_army, ActorKind.police, ActorKind.foreign_force) or not a.community:
        return ""
    cid, share = max(a.community.items(), key=lambda kv: kv[1])
    if share < 0.5:
        return ""
    names = {c.id: c.name for c in sc.communities}
    return identity_name(names.get(cid, cid), sc)


def _month_end_unix(d: dt.date) -> int:
    last = calendar.monthrange(d.year, d.month)[1]
    end = dt.datetime(d.year, d.month, last, tzinfo=dt.UTC) + dt.timedelta(days=1)
    return int(end.timestamp())


def acled_table(events: pa.Table, sc: Scenario, seed: int, scale: float) -> pa.Table:
    """The engine's event log (``Result.events``) as an ACLED table (:data:`ACLED_COLUMNS`)."""
    n = events.num_rows
    ctry = country(sc)
    civ = civilians_name(sc)
    civ_prefix = civ + ": "
    comm_by_name = {c.name: c for c in sc.communities}
    actors = {a.name: a for a in sc.actors}
    place = {p.name: p for p in places(sc)}
    dates = events.column("event_date").to_pylist()
    a1 = events.column("actor1").to_pylist()
    a2 = events.column("actor2").to_pylist()
    etype = events.column("event_type").to_pylist()
    regions = events.column("admin1").to_pylist()
    subs = events.column("sub_event_type").to_pylist()
    civ_t = events.column("civilian_targeting").to_pylist()
    fat = events.column("fatalities").to_pylist()
    prefix = ctry.iso3 or "SB"
    source = f"shatterbelt {__version__} simulation: scenario {sc.name}, seed {seed}, scale {scale:g}"
    cols: dict[str, list] = {c: [] for c in ACLED_COLUMNS}
    for i in range(n):
        x1 = actors.get(a1[i])
        inter1 = INTER[x1.kind] if x1 else None
        name2, assoc2, inter2 = a2[i], "", None
        if name2.startswith(civ_prefix) or name2 == civ:
            cname = name2[len(civ_prefix):] if name2.startswith(civ_prefix) else ""
            name2, inter2 = civ, CIVILIANS
            assoc2 = identity_name(cname, sc) if cname in comm_by_name else ""
        elif name2 == a1[i] or name2 == "":
            name2 = ""  # a change of control nobody contested: no second actor
        else:
            x2 = actors.get(name2)
            inter2 = INTER[x2.kind] if x2 else None
            assoc2 = _identity(x2, sc) if x2 else ""
        if inter1 is None:
            interaction = None
        elif inter2 is None:
            interaction = inter1 * 10
        else:
            lo, hi = sorted((inter1, inter2))
            interaction = lo * 10 + hi
        p = place.get(regions[i])
        d = dates[i]
        row = {
            "event_id_cnty": f"{prefix}{i + 1}",
            "event_date": d,
            "year": d.year,
            "time_precision": TIME_PRECISION_MONTH,
            "disorder_type": DISORDER.get(etype[i], "Political violence"),
            "event_type": etype[i],
            "sub_event_type": subs[i],
            "actor1": a1[i],
            "assoc_actor_1": _identity(x1, sc) if x1 else "",
            "inter1": inter1,
            "actor2": name2,
            "assoc_actor_2": assoc2,
            "inter2": inter2,
            "interaction": interaction,
            "civilian_targeting": civ_t[i],
            "iso": ctry.iso_numeric,
            "region": ctry.acled_region,
            "country": ctry.name,
            "admin1": p.acled_admin1 if p else regions[i],
            "admin2": "",
            "admin3": "",
            "location": (p.capital or p.acled_admin1) if p else regions[i],
            "latitude": p.latitude if p else None,
            "longitude": p.longitude if p else None,
            "geo_precision": GEO_PRECISION_PROVINCE,
            "source": source,
            "source_scale": "Other",
            "notes": NOTE,
            "fatalities": fat[i],
            "tags": "",
            "timestamp": _month_end_unix(d),
        }
        for c in ACLED_COLUMNS:
            cols[c].append(row[c])
    types = {
        "event_date": pa.date32(), "year": pa.int32(), "time_precision": pa.int8(), "inter1": pa.int8(),
        "inter2": pa.int8(), "interaction": pa.int8(), "iso": pa.int32(), "latitude": pa.float64(),
        "longitude": pa.float64(), "geo_precision": pa.int8(), "fatalities": pa.int64(), "timestamp": pa.int64(),
    }
    return pa.table({c: pa.array(cols[c], types.get(c, pa.string())) for c in ACLED_COLUMNS})


__all__ = ["ACLED_COLUMNS", "CIVILIANS", "INTER", "acled_table", "civilians_name", "identity_name"]
