"""Step 12 - Record: every module's declared metrics for the month, into preallocated panel arrays.

Each module declares the metrics it records in ``RESULTS`` (``(level, name)``, where a name
with ``{community}``, ``{actor}``, ``{entity}``, ``{patron}`` or ``{bloc}`` stands for one
metric per member) and writes their values in its ``record(t, out)``, as Starsim's
``define_results``.  The recorder collects the declarations, lays the metrics out in the
panel's documented order (:data:`REGIONAL_ORDER`, :data:`NATIONAL_ORDER`; a declaration
missing from the order, or an order entry no module declares, is an error), allocates a
[month, region, metric] array and a [month, metric] array before the first month (LASER:
never append per step), and calls every module's ``record`` after the month's last step.
It also records the people's own counts (population, displaced, deaths, detained), which
belong to the world.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..population import DETAINED
from ..world import World
from .base import Module

#: the panel's regional metrics, in order (families expand in index order)
REGIONAL_ORDER = (
    "population", "displaced", "civilian_deaths", "battle_deaths", "attacks", "army_cohesion", "army_collapsed",
    "services", "foreign_troops", "dominant_share", "politicization", "legitimacy_{community}", "fear_{community}",
    "population_{community}", "fighters_{actor}", "control_{entity}",
)
#: the panel's national metrics, in order
NATIONAL_ORDER = (
    "population", "deaths_cumulative", "civilian_deaths", "battle_deaths", "displaced", "new_displaced", "displaced_since_start",
    "returned", "detained", "microstates", "contested_regions", "control_changes", "vacuum", "vacuum_months", "revenue", "ghost_share",
    "army_cohesion", "insurgent_fighters", "defections", "attacks", "legitimacy_{community}", "representation_{community}",
    "fighters_{actor}", "capacity_{actor}", "recruits_{actor}", "unpaid_months_{actor}", "detentions_{actor}",
    "influence_{patron}", "patron_budget_{patron}", "rents_{bloc}",
)
_FAMILIES = ("community", "actor", "entity", "patron", "bloc")


def _members(w: World, fam: str) -> list[str]:
    return {"community": w.comm.ids, "actor": w.act.ids, "entity": w.entities.ids, "patron": w.pat.ids,
            "bloc": w.bloc.ids}[fam]


def _family(name: str) -> str | None:
    for fam in _FAMILIES:
        if "{" + fam + "}" in name:
            return fam
    return None


class _Level:
    """Writes one level's metrics for one month: ``out[name] = value`` (a family takes one value per member)."""

    def __init__(self, row: np.ndarray, pos: dict[str, int], regional: bool) -> None:
        self.row, self.pos, self.regional = row, pos, regional

    def __setitem__(self, name: str, value: Any) -> None:
        i = self.pos[name]
        if self.regional:
            self.row[:, i] = value
        else:
            self.row[i] = value

    def column(self, name: str) -> int:
        return self.pos[name]


class MonthRecord:
    """The month's panel rows: ``reg[name] = values by region``, ``nat[name] = value``."""

    def __init__(self, rec: Record, t: int) -> None:
        self.t = t
        self.reg = _Level(rec.reg[t], rec.ri, True)
        self.nat = _Level(rec.nat[t], rec.ni, False)


class Record(Module):
    name = "record"
    title = "Record metrics"
    STATE = ("record",)
    RESULTS = (
        ("regional", "population"), ("regional", "displaced"), ("regional", "population_{community}"),
        ("national", "population"), ("national", "deaths_cumulative"), ("national", "displaced"),
        ("national", "detained"),
    )

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.sources: list[Module] = [self]

    def define_states(self) -> None:
        self.define("record", self)

    def attach(self, modules: list[Module]) -> None:
        """The modules whose declared metrics are recorded (every module of the run)."""
        self.sources = list(modules)

    def init(self) -> None:
        w = self.world
        declared: dict[str, set[str]] = {"regional": set(), "national": set()}
        for m in self.sources:
            for level, name in m.RESULTS:
                if name in declared[level]:
                    raise ValueError(f"record: {level} metric '{name}' is declared twice")
                declared[level].add(name)
        names: dict[str, list[str]] = {}
        for level, order in (("regional", REGIONAL_ORDER), ("national", NATIONAL_ORDER)):
            missing = declared[level] - set(order)
            if missing:
                raise ValueError(f"record: {level} metric '{sorted(missing)[0]}' has no place in the panel order")
            names[level] = []
            for name in order:
                if name not in declared[level]:
                    raise ValueError(f"record: no module declares the {level} metric '{name}'")
                fam = _family(name)
                names[level] += [name] if fam is None else [name.replace("{" + fam + "}", x) for x in _members(w, fam)]
        self.reg_names = names["regional"]
        self.nat_names = names["national"]
        self.reg = np.full((w.T, w.R, len(self.reg_names)), np.nan)
        self.nat = np.full((w.T, len(self.nat_names)), np.nan)
        self.ri = {n: i for i, n in enumerate(self.reg_names)}
        self.ni = {n: i for i, n in enumerate(self.nat_names)}

    def step(self, t: int) -> None:
        out = MonthRecord(self, t)
        for m in self.sources:
            m.record(t, out)

    def record(self, t: int, out: MonthRecord) -> None:
        """The people's own counts (the census)."""
        w = self.world
        cen = w.census()
        W = w.w
        alive = cen.alive_rc().astype(np.float64) * W
        out.reg["population"] = alive.sum(1)
        out.reg["displaced"] = cen.displaced_rc().sum(1) * W
        for ci, c in enumerate(w.comm.ids):
            out.reg[f"population_{c}"] = alive[:, ci]
        out.nat["population"] = cen.alive() * W
        out.nat["deaths_cumulative"] = cen.dead() * W
        out.nat["displaced"] = cen.displaced_rc().sum() * W
        out.nat["detained"] = cen.t[DETAINED].sum() * W
