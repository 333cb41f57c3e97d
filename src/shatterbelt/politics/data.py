"""Reading the package's copies of the election and governorate data.

The files named by a politics config (``votes_file``, ``governorates_file``) are
package-relative data files (``shatterbelt/data/``) that keep their ``source`` and
``confidence`` columns; nothing outside the package is read.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from ..errors import ScenarioError
from ..scenario.politics_schema import PoliticsConfig


def package_file(rel: str, origin: Path | None = None) -> Path:
    """A data file named relative to the package root (``data/iraq/...``), or to the YAML's folder."""
    root = Path(str(resources.files("shatterbelt")))
    p = root / rel
    if p.is_file():
        return p
    if origin is not None:
        q = origin.parent / rel
        if q.is_file():
            return q
    q = Path(rel)
    if q.is_absolute() and q.is_file():
        return q
    raise ScenarioError(f"politics data file '{rel}': not found in the package")


@dataclass(frozen=True)
class VotesData:
    """Votes and documented seats by governorate and list label (as in the CSV)."""

    votes: dict[str, dict[str, float]]  # governorate code -> list label -> valid votes
    seats: dict[str, dict[str, int]]  # governorate code -> list label -> documented seats
    national_seats: dict[str, int]  # list label -> documented national seats (incl. compensatory)
    governorate_names: dict[str, str]


MINORITY_LABEL = "Minority quota seats"


@lru_cache(maxsize=8)
def _read_votes(path: str) -> VotesData:
    votes: dict[str, dict[str, float]] = {}
    seats: dict[str, dict[str, int]] = {}
    national: dict[str, int] = {}
    names: dict[str, str] = {}
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                code, label = row["code"], row["list"]
                s = row.get("seats") or ""
                if code == "NATIONAL":
                    if s.strip():
                        national[label] = int(float(s))
                    continue
                names[code] = row.get("governorate", code)
                v = row.get("votes") or ""
                votes.setdefault(code, {})
                seats.setdefault(code, {})
                if label != MINORITY_LABEL:
                    votes[code][label] = float(v) if v.strip() else 0.0
                seats[code][label] = int(float(s)) if s.strip() else 0
    except (OSError, KeyError, ValueError) as exc:
        raise ScenarioError(f"votes file {path}: cannot read ({exc})") from None
    return VotesData(votes, seats, national, names)


def read_votes(cfg: PoliticsConfig) -> VotesData:
    """The votes file of a configuration (ScenarioError if it has none)."""
    if cfg.votes_file is None:
        raise ScenarioError(f"politics.votes_file: the configuration '{cfg.name}' has no votes data")
    return _read_votes(str(package_file(cfg.votes_file, cfg.origin)))


@dataclass(frozen=True)
class GovernorateData:
    population: dict[str, float]
    shares: dict[str, dict[str, float]]  # code -> community -> share (sums to 1)
    names: dict[str, str]


@lru_cache(maxsize=8)
def _read_governorates(path: str, communities: tuple[str, ...]) -> GovernorateData:
    pop: dict[str, float] = {}
    shares: dict[str, dict[str, float]] = {}
    names: dict[str, str] = {}
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                code = row["code"]
                names[code] = row["name"]
                pop[code] = float(row["population_2010"])
                raw = {c: float(row[c] or 0.0) for c in communities}
                tot = sum(raw.values())
                shares[code] = {c: raw[c] / tot for c in communities}
    except (OSError, KeyError, ValueError) as exc:
        raise ScenarioError(f"governorates file {path}: cannot read ({exc})") from None
    return GovernorateData(pop, shares, names)


def read_governorates(cfg: PoliticsConfig) -> GovernorateData:
    """Population and community shares by governorate (one column per community of the configuration;
    ScenarioError if the config has none)."""
    if cfg.governorates_file is None:
        raise ScenarioError(f"politics.governorates_file: the configuration '{cfg.name}' has no governorate data")
    return _read_governorates(str(package_file(cfg.governorates_file, cfg.origin)), tuple(cfg.communities()))


def list_labels(cfg: PoliticsConfig) -> dict[str, str]:
    """list id -> label in the votes file (lists without a label or quota lists are left out)."""
    return {x.id: (x.data_name or x.name) for x in cfg.lists if not x.quota}


def path_of(cfg: PoliticsConfig) -> Path | None:
    return cfg.origin
