"""People as a struct of preallocated NumPy arrays.

Every person of the country is one agent at ``scale=1.0`` (about 32.5 million
for Iraq in 2010); at ``scale=s`` each agent stands for ``1/s`` persons.  The
arrays are allocated once and never grow: the dead are marked (LASER's
"mark, never delete"), displacement rewrites ``region`` in place.  Compact
dtypes keep a full-scale run near 20 bytes per person.

Foreign fighters are persons too: when the scenario has a war next door and a
foreign-fighter inflow, a pool of person slots is reserved after the residents at
build time (:func:`foreign_pool_size`), marked ``ABSENT``; mobilization activates
them as arrivals and returns them to ``ABSENT`` when they go home.  A slot is
foreign if its index is at least ``People.residents``.

No function in this module loops over people in Python; loops run over
region x community cells (a few dozen), each handled with array operations.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

CIV, FIGHTER, DETAINED, DEAD, ABSENT = 0, 1, 2, 3, 4
STATUS_NAMES = ("civilian", "fighter", "detained", "dead", "absent")
NSTATUS = len(STATUS_NAMES)  # statuses in the census
NO_ACTOR = -1


@dataclass
class People:
    """Struct of arrays, one entry per agent."""

    region: np.ndarray  # int8   current region
    origin: np.ndarray  # int8   region at the start (home)
    community: np.ndarray  # int8
    fighting_age: np.ndarray  # bool
    hardship: np.ndarray  # float32 H in [0, 1]
    risk: np.ndarray  # float32 R in [0, 1]
    status: np.ndarray  # int8   CIV, FIGHTER, DETAINED, DEAD, ABSENT (a foreign slot not in the country)
    actor: np.ndarray  # int8   armed actor (NO_ACTOR for civilians); kept while detained
    allegiance: np.ndarray  # int8   entity a state-force member answers to (-1: the state)
    displaced: np.ndarray  # bool
    timer: np.ndarray  # int16  months in current status
    term: np.ndarray  # int16  months of detention left
    residents: int = -1  # agents [0, residents) live in the country; the rest is the foreign pool

    def __post_init__(self) -> None:
        if self.residents < 0:
            self.residents = self.n

    @property
    def n(self) -> int:
        return int(self.region.shape[0])

    @property
    def pool(self) -> int:
        """Reserved foreign slots (after the residents)."""
        return self.n - self.residents

    def nbytes(self) -> int:
        return int(sum(getattr(self, f.name).nbytes for f in fields(self) if f.name != "residents"))

    @classmethod
    def allocate(cls, n: int, pool: int = 0) -> People:
        """``n`` residents and ``pool`` foreign slots after them (status ``ABSENT``)."""
        ppl = cls._allocate(n + pool)
        ppl.residents = n
        ppl.status[n:] = ABSENT
        return ppl

    @classmethod
    def _allocate(cls, n: int) -> People:
        return cls(
            region=np.zeros(n, np.int8),
            origin=np.zeros(n, np.int8),
            community=np.zeros(n, np.int8),
            fighting_age=np.zeros(n, np.bool_),
            hardship=np.zeros(n, np.float32),
            risk=np.zeros(n, np.float32),
            status=np.zeros(n, np.int8),
            actor=np.full(n, NO_ACTOR, np.int8),
            allegiance=np.full(n, -1, np.int8),
            displaced=np.zeros(n, np.bool_),
            timer=np.zeros(n, np.int16),
            term=np.zeros(n, np.int16),
        )


def foreign_pool_size(inflow: float, max_intensity: float, months: int, scale: float) -> int:
    """Foreign slots to reserve: every arrival a run can have at the inflow's value (persons a month
    at full intensity of the war next door) and the timeline's highest intensity, in agents, plus one.
    No pool (0) when either is zero, so such runs allocate exactly their residents."""
    if inflow <= 0 or max_intensity <= 0 or months <= 0:
        return 0
    return int(np.ceil(inflow * max_intensity * months * scale)) + 1


def largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Split integer ``total`` over ``weights`` exactly (Hamilton's method, ties by index)."""
    w = np.asarray(weights, dtype=np.float64)
    s = w.sum()
    if total <= 0 or s <= 0:
        return np.zeros(w.shape, np.int64)
    q = total * w / s
    base = np.floor(q).astype(np.int64)
    rem = int(total - base.sum())
    if rem > 0:
        order = np.lexsort((np.arange(w.size), -(q - base)))
        base[order[:rem]] += 1
    return base


def cell_counts(populations: np.ndarray, shares: np.ndarray, scale: float) -> np.ndarray:
    """Agents per region x community: each region rounded to ``round(pop*scale)``, split exactly.

    At ``scale=1`` the national total equals the scenario's population to the person.
    """
    R, C = shares.shape
    out = np.zeros((R, C), np.int64)
    for r in range(R):
        n_r = int(np.floor(populations[r] * scale + 0.5))
        out[r] = largest_remainder(n_r, shares[r])
    return out


def build_blocks(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start offsets of each (region, community) block when agents are laid out in that order."""
    flat = counts.reshape(-1)
    starts = np.zeros(flat.size + 1, np.int64)
    np.cumsum(flat, out=starts[1:])
    return starts[:-1].reshape(counts.shape), starts[-1:]
