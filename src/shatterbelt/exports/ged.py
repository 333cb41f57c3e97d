"""A run's events as UCDP GED data: GED's columns, type-of-violence codes, dyads and estimates.

:func:`ged_table` turns an ACLED table of a run (:func:`shatterbelt.exports.acled.acled_table`,
the run's ``events.parquet``) into the columns of the UCDP Georeferenced Event Dataset
(GED 23.1/24.1 codebook), following its rules:

* only lethal events are GED events (``best`` >= 1), and only those of a dyad that reached 25
  deaths in the calendar year (``active_year`` is then true);  arrests and changes of control
  without deaths are left out;
* ``type_of_violence``: 1 state-based (one side is the government: the state army, the police
  or a foreign force fighting beside it), 2 non-state (two armed groups, none of them the
  government), 3 one-sided (an organised actor against civilians);
* ``side_a`` is the government (``Government of <country>``) in state-based violence and the
  perpetrator in one-sided violence (``side_b`` "Civilians"); in non-state violence the two
  groups are ordered by name.  ``dyad_name`` is ``side_a - side_b``; ``conflict_name`` is
  ``<country>: Government`` for state-based violence and the dyad otherwise.  The dyad and
  conflict ids are numbered within the run (``*_new_id``; ``*_dset_id`` equal) and do not match
  UCDP's own ids;
* ``best`` is the event's fatalities; ``low`` and ``high`` equal it (the model counts its own
  dead exactly); one-sided deaths are ``deaths_civilians``, battle deaths ``deaths_unknown``
  (the event log does not split them between the sides);
* ``date_prec`` 4 with ``date_start``/``date_end`` the first and last day of the event's month
  (GED: only the month is known); ``where_prec`` 4 (GED: only the first-order administrative
  division is known) at the capital's coordinates, ``adm_1`` in GED's spelling from the
  crosswalk, ``priogrid_gid`` the PRIO-GRID cell of those coordinates;
* ``country_id`` and ``gwnoa`` are Gleditsch-Ward numbers (Iraq 645).
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections import defaultdict
from typing import TYPE_CHECKING

import pyarrow as pa

from .. import __version__
from ..scenario.schema import ActorKind
from .places import country, places

if TYPE_CHECKING:
    from ..scenario.schema import Scenario

#: GED's columns, in the order of its CSV release (GED 23.1 / 24.1 codebook)
GED_COLUMNS = (
    "id", "relid", "year", "active_year", "code_status", "type_of_violence", "conflict_dset_id", "conflict_new_id",
    "conflict_name", "dyad_dset_id", "dyad_new_id", "dyad_name", "side_a_dset_id", "side_a_new_id", "side_a",
    "side_b_dset_id", "side_b_new_id", "side_b", "number_of_sources", "source_article", "source_office",
    "source_date", "source_headline", "source_original", "where_prec", "where_coordinates", "where_description",
    "adm_1", "adm_2", "latitude", "longitude", "geom_wkt", "priogrid_gid", "country", "country_id", "region",
    "event_clarity", "date_prec", "date_start", "date_end", "deaths_a", "deaths_b", "deaths_civilians",
    "deaths_unknown", "best", "high", "low", "gwnoa", "gwnob",
)
STATE_BASED, NON_STATE, ONE_SIDED = 1, 2, 3
#: actor kinds on the government's side in GED's state-based violence
GOVERNMENT_KINDS = {ActorKind.state_army, ActorKind.police, ActorKind.foreign_force}
#: the deaths a dyad must reach in a calendar year for its events to be GED events
ACTIVE_DEATHS = 25
DATE_PREC_MONTH = 4
WHERE_PREC_ADM1 = 4


def priogrid_gid(lat: float, lon: float) -> int:
    """The PRIO-GRID cell (0.5 x 0.5 degrees, numbered row by row from the south-west) of a point."""
    row = int(math.floor((lat + 90.0) / 0.5))
    col = int(math.floor((lon + 180.0) / 0.5))
    return row * 720 + col + 1


def ged_table(acled: pa.Table, sc: Scenario) -> pa.Table:
    """An ACLED table of a run as a GED table (:data:`GED_COLUMNS`)."""
    ctry = country(sc)
    gov = f"Government of {ctry.name}"
    kinds = {a.name: a.kind for a in sc.actors}
    by_admin1 = {p.acled_admin1: p for p in places(sc)}
    civ_name = "Civilians"
    a1 = acled.column("actor1").to_pylist()
    a2 = acled.column("actor2").to_pylist()
    inter2 = acled.column("inter2").to_pylist()
    fat = acled.column("fatalities").to_pylist()
    dates = acled.column("event_date").to_pylist()
    admin1 = acled.column("admin1").to_pylist()
    relid = acled.column("event_id_cnty").to_pylist()

    def side(name: str) -> str:
        return gov if kinds.get(name) in GOVERNMENT_KINDS else name

    rows = []
    for i in range(acled.num_rows):
        if not fat[i] or fat[i] < 1 or not a2[i]:
            continue
        if inter2[i] == 7:
            tv, sa, sb = ONE_SIDED, side(a1[i]), civ_name
        else:
            s1, s2 = side(a1[i]), side(a2[i])
            if s1 == s2:
                continue  # the government's forces against each other: not a GED dyad
            if gov in (s1, s2):
                tv, sa, sb = STATE_BASED, gov, s2 if s1 == gov else s1
            else:
                tv, (sa, sb) = NON_STATE, sorted((s1, s2))
        rows.append((i, tv, sa, sb))
    yearly: dict[tuple[int, str, str, int], int] = defaultdict(int)
    for i, tv, sa, sb in rows:
        yearly[(tv, sa, sb, dates[i].year)] += int(fat[i])
    rows = [r for r in rows if yearly[(r[1], r[2], r[3], dates[r[0]].year)] >= ACTIVE_DEATHS]
    dyads = sorted({(tv, sa, sb) for _, tv, sa, sb in rows})
    dyad_id = {d: k + 1 for k, d in enumerate(dyads)}
    conflicts = sorted({(tv, f"{ctry.name}: Government") if tv == STATE_BASED else (tv, f"{sa} - {sb}")
                        for tv, sa, sb in dyads})
    conflict_id = {c: k + 1 for k, c in enumerate(conflicts)}
    actor_names = sorted({s for _, sa, sb in dyads for s in (sa, sb)})
    actor_id = {a: k + 1 for k, a in enumerate(actor_names)}
    source = f"shatterbelt {__version__} simulation: scenario {sc.name}"
    cols: dict[str, list] = {c: [] for c in GED_COLUMNS}
    for k, (i, tv, sa, sb) in enumerate(rows):
        d = dates[i]
        start = dt.date(d.year, d.month, 1)
        end = dt.date(d.year, d.month, calendar.monthrange(d.year, d.month)[1])
        p = by_admin1.get(admin1[i])
        lat = p.latitude if p else None
        lon = p.longitude if p else None
        cname = f"{ctry.name}: Government" if tv == STATE_BASED else f"{sa} - {sb}"
        best = int(fat[i])
        row = {
            "id": k + 1, "relid": relid[i], "year": d.year, "active_year": True, "code_status": "Clear",
            "type_of_violence": tv,
            "conflict_dset_id": conflict_id[(tv, cname)], "conflict_new_id": conflict_id[(tv, cname)],
            "conflict_name": cname,
            "dyad_dset_id": dyad_id[(tv, sa, sb)], "dyad_new_id": dyad_id[(tv, sa, sb)], "dyad_name": f"{sa} - {sb}",
            "side_a_dset_id": actor_id[sa], "side_a_new_id": actor_id[sa], "side_a": sa,
            "side_b_dset_id": actor_id[sb], "side_b_new_id": actor_id[sb], "side_b": sb,
            "number_of_sources": 1, "source_article": source, "source_office": "shatterbelt",
            "source_date": d, "source_headline": "", "source_original": "simulation",
            "where_prec": WHERE_PREC_ADM1,
            "where_coordinates": (p.capital if p and p.capital else admin1[i]),
            "where_description": f"{admin1[i]} (province only; its capital)",
            "adm_1": p.ged_adm_1 if p else admin1[i], "adm_2": "",
            "latitude": lat, "longitude": lon,
            "geom_wkt": f"POINT ({lon} {lat})" if lat is not None else "",
            "priogrid_gid": priogrid_gid(lat, lon) if lat is not None else None,
            "country": ctry.name, "country_id": ctry.gwno, "region": ctry.ucdp_region, "event_clarity": 1,
            "date_prec": DATE_PREC_MONTH, "date_start": start, "date_end": end,
            "deaths_a": 0, "deaths_b": 0, "deaths_civilians": best if tv == ONE_SIDED else 0,
            "deaths_unknown": 0 if tv == ONE_SIDED else best, "best": best, "high": best, "low": best,
            "gwnoa": str(ctry.gwno) if sa == gov and ctry.gwno else "", "gwnob": "",
        }
        for c in GED_COLUMNS:
            cols[c].append(row[c])
    ints = ("id", "year", "type_of_violence", "conflict_dset_id", "conflict_new_id", "dyad_dset_id", "dyad_new_id",
            "side_a_dset_id", "side_a_new_id", "side_b_dset_id", "side_b_new_id", "number_of_sources", "where_prec",
            "priogrid_gid", "country_id", "event_clarity", "date_prec", "deaths_a", "deaths_b", "deaths_civilians",
            "deaths_unknown", "best", "high", "low")
    types = {c: pa.int64() for c in ints}
    types.update({"active_year": pa.bool_(), "latitude": pa.float64(), "longitude": pa.float64(),
                  "source_date": pa.date32(), "date_start": pa.date32(), "date_end": pa.date32()})
    return pa.table({c: pa.array(cols[c], types.get(c, pa.string())) for c in GED_COLUMNS})


__all__ = ["GED_COLUMNS", "NON_STATE", "ONE_SIDED", "STATE_BASED", "ged_table", "priogrid_gid"]
