"""Where events happen, in the spellings other datasets use: the admin-1 crosswalk and country codes.

The package's data pack ships ``admin1_crosswalk.csv`` (one row per governorate: the ISO 3166-2
code the scenario uses, the package's name, ACLED's ``admin1`` spelling, UCDP GED's ``adm_1``
spelling, geoBoundaries' spelling on the package's map, the OCHA p-code, the capital and its
coordinates) and ``country_codes.csv`` (ISO numeric and alpha-3 codes, ACLED's and UCDP's region,
the Gleditsch-Ward number UCDP uses as ``country_id``).  Both are keyed by code, so every
spelling of a governorate meets the same row: the panel's ``region_code``/``region_name``, the
summary, the events and the map agree through it.

A scenario of another country has no rows here: its events keep the scenario's region names,
and coordinates are left empty (``geo_precision`` and ``where_prec`` still say "province").
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..scenario.schema import Scenario


@dataclass(frozen=True)
class Place:
    """One region in every spelling the exports use."""

    code: str
    name: str
    acled_admin1: str
    ged_adm_1: str
    capital: str
    latitude: float | None
    longitude: float | None


@dataclass(frozen=True)
class Country:
    """Country-level codes of the exports."""

    name: str
    iso_numeric: int
    iso3: str
    acled_region: str
    ucdp_region: str
    gwno: int | None


def _read(name: str) -> list[dict[str, str]]:
    text = (resources.files("shatterbelt") / "data" / "iraq" / name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@lru_cache(maxsize=1)
def crosswalk() -> dict[str, dict[str, str]]:
    """The shipped admin-1 crosswalk: region code -> its row (strings as in the file)."""
    return {r["code"]: r for r in _read("admin1_crosswalk.csv")}


@lru_cache(maxsize=1)
def _countries() -> dict[int, dict[str, str]]:
    return {int(r["iso_numeric"]): r for r in _read("country_codes.csv")}


def country(sc: Scenario) -> Country:
    """The scenario's country codes (known ones from ``country_codes.csv``; others from the scenario)."""
    row = _countries().get(int(sc.iso_numeric))
    name = sc.country or sc.name
    if row is None:
        return Country(name, int(sc.iso_numeric), "", "", "", None)
    return Country(name, int(sc.iso_numeric), row["iso3"], row["acled_region"], row["ucdp_region"], int(row["gwno"]))


def places(sc: Scenario) -> list[Place]:
    """The scenario's regions in its order, each with its spellings and capital.

    Rows of the crosswalk are used only where the scenario's country is the crosswalk's
    (matched by ISO numeric code) and the region's id is a code of the crosswalk.
    """
    known = crosswalk() if int(sc.iso_numeric) in _countries() else {}
    out = []
    for r in sc.regions:
        row = known.get(r.id)
        if row is None:
            out.append(Place(r.id, r.name, r.name, r.name, "", None, None))
        else:
            out.append(Place(r.id, r.name, row["acled_admin1"], row["ged_adm_1"], row["capital"],
                             float(row["latitude"]), float(row["longitude"])))
    return out


__all__ = ["Country", "Place", "country", "crosswalk", "places"]
