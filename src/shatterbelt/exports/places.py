"""Where events happen, in the spellings other datasets use: the admin-1 crosswalk and country codes.

Each country's data folder in the package (``shatterbelt/data/<folder>/``) may ship
``admin1_crosswalk.csv`` (one row per admin-1 region: the code the scenario uses, the package's name, ACLED's ``admin1`` spelling, UCDP GED's ``adm_1``
spelling, geoBoundaries' spelling on the package's map, the OCHA p-code, the capital and its
coordinates) and ``country_codes.csv`` (ISO numeric and alpha-3 codes, ACLED's and UCDP's region,
the Gleditsch-Ward number UCDP uses as ``country_id``).  Both are keyed by code, so every
spelling of a governorate meets the same row: the panel's ``region_code``/``region_name``, the
summary, the events and the map agree through it.

A scenario's folder is the one whose ``country_codes.csv`` lists the scenario's ISO numeric
code (iraq-2010: ``iraq/``, lebanon-2005: ``lebanon/``).  A scenario of a country without such a
folder keeps the scenario's region names, and coordinates are left empty (``geo_precision`` and
``where_prec`` still say "province").
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


def _read(folder: str, name: str) -> list[dict[str, str]]:
    path = resources.files("shatterbelt") / "data" / folder / name
    if not path.is_file():
        return []
    return list(csv.DictReader(path.read_text(encoding="utf-8").splitlines()))


@lru_cache(maxsize=1)
def _folders() -> dict[int, str]:
    """ISO numeric code -> the data folder whose ``country_codes.csv`` lists it."""
    out: dict[int, str] = {}
    for d in sorted((resources.files("shatterbelt") / "data").iterdir(), key=lambda p: p.name):
        if d.is_dir() and (d / "country_codes.csv").is_file():
            for r in _read(d.name, "country_codes.csv"):
                out.setdefault(int(r["iso_numeric"]), d.name)
    return out


def data_folder(iso_numeric: int) -> str | None:
    """The package's data folder of a country (by ISO numeric code), or None."""
    return _folders().get(int(iso_numeric))


@lru_cache(maxsize=8)
def crosswalk(folder: str = "iraq") -> dict[str, dict[str, str]]:
    """A data folder's admin-1 crosswalk: region code -> its row (strings as in the file)."""
    return {r["code"]: r for r in _read(folder, "admin1_crosswalk.csv")}


@lru_cache(maxsize=8)
def _countries(folder: str) -> dict[int, dict[str, str]]:
    return {int(r["iso_numeric"]): r for r in _read(folder, "country_codes.csv")}


def country(sc: Scenario) -> Country:
    """The scenario's country codes (from its data folder's ``country_codes.csv``; others from the scenario)."""
    folder = data_folder(int(sc.iso_numeric))
    row = _countries(folder).get(int(sc.iso_numeric)) if folder else None
    name = sc.country or sc.name
    if row is None:
        return Country(name, int(sc.iso_numeric), "", "", "", None)
    return Country(name, int(sc.iso_numeric), row["iso3"], row["acled_region"], row["ucdp_region"], int(row["gwno"]))


def places(sc: Scenario) -> list[Place]:
    """The scenario's regions in its order, each with its spellings and capital.

    Rows of a crosswalk are used only where the scenario's country has a data folder (matched by
    ISO numeric code) and the region's id is a code of that folder's crosswalk.
    """
    folder = data_folder(int(sc.iso_numeric))
    known = crosswalk(folder) if folder else {}
    out = []
    for r in sc.regions:
        row = known.get(r.id)
        if row is None:
            out.append(Place(r.id, r.name, r.name, r.name, "", None, None))
        else:
            out.append(Place(r.id, r.name, row["acled_admin1"], row["ged_adm_1"], row["capital"],
                             float(row["latitude"]), float(row["longitude"])))
    return out


__all__ = ["Country", "Place", "country", "crosswalk", "data_folder", "places"]
