"""The state of a run, as small groups of arrays that the kernels take instead of long argument lists.

Each group is a :class:`~typing.NamedTuple`: numba passes it to a kernel as one struct
(``cache=True`` keeps working), NumPy code reads the same fields.  A numba kernel unpacks
the array groups once, at its top, and hands arrays to its building blocks: every read of
an array out of a tuple costs a pair of atomic reference-count updates, which in the
per-agent loop made the sequential kernel about ten times slower.  :class:`Config` holds
scalars only, so it is passed everywhere for free.

* :class:`World` -- what changes during a run: the cell codes, who stands where, and every
  agent's kind, state, jail term, grievance and risk aversion;
* :class:`Config` and :class:`Tables` -- what does not: the grid's geometry and the switches
  (scalars only), and the rule tables;
* :class:`SeqAccel` -- the sequential numba kernel's acceleration structures (kept in step
  with the codes by that kernel) and its scratch;
* :class:`SimScratch` -- the simultaneous update's scratch.

Grid layout.  Cell codes live in an ``int8`` grid padded by a halo of width ``pad`` (the
largest vision) on every side, so that a neighbourhood row is a contiguous slice and the
torus needs no modulo in the hot loop; every write to a cell also writes its (at most
three) halo images.  One extra row at the end is scratch for the sequential kernel's
branch-free halo writes.  ``occ`` maps a real cell to the agent index on it (or -1).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class World(NamedTuple):
    """The mutable state of a run; the kernels change these arrays in place."""

    codes: np.ndarray  # int8, (H + 2 pad + 1) * Wp: cell codes of the padded grid and a dummy row
    occ: np.ndarray  # int32, H * W: agent on each real cell, -1 for none
    pos: np.ndarray  # int32, per agent: its real cell
    kind: np.ndarray  # int8, per agent: KIND_COP, KIND_A or KIND_B
    state: np.ndarray  # int8, per agent: QUIET, ACTIVE, JAILED_ST or DEAD (cops stay QUIET)
    jail: np.ndarray  # int16, per agent: jail term left
    grv: np.ndarray  # float32, per agent: grievance H (1 - L)
    risk: np.ndarray  # float32, per agent: risk aversion R


class Config(NamedTuple):
    """What stays fixed during a run, as scalars: geometry, switches and the count-grid layout."""

    H: int  # grid height
    W: int  # grid width
    pad: int  # halo width: the largest vision
    Wp: int  # padded row length, W + 2 pad
    nw: int  # 64-bit words per padded row of a bit plane (one spare)
    model2: bool
    movement: bool
    jmax: int  # jail terms are uniform on 0..jmax
    v: int  # citizens' vision
    vc: int  # cops' vision
    threshold: float  # T
    S: int  # columns of the arrest-probability table: row stride of the rank table, unit of cops in counts
    lanes: int  # lanes per row of a count update (a multiple of 16)
    o: int  # column of real cell x = 0 in the count grid
    Wc: int  # row stride of the count grid


class Tables(NamedTuple):
    """The rule tables of :mod:`.rules` for this run."""

    ptab: np.ndarray  # float64 (n + 1, n + 2): P[C, A]
    hw: np.ndarray  # int32: half-widths of the citizens' shape, rows -v..v
    hwc: np.ndarray  # int32: the same for the cops
    tab: np.ndarray  # int64 (3, K): probe table of the citizens' shape (offset, dy, dx)
    tabc: np.ndarray  # int64 (3, K): the same for the cops


class SeqAccel(NamedTuple):
    """Acceleration structures of the sequential numba kernel (empty on the NumPy path) and scratch.

    ``cnt[c] = S C + A``: cops ``C`` and group-A actives ``A`` within citizen vision of
    real cell ``c`` (``S``: :attr:`Config.S`), ``cntb`` the same with group-B actives (Model II), in the layout of
    :func:`.counts.cnt_layout`; ``rank``, ``thr``: :func:`.rules.decision_ranks` (``rank``
    flattened); ``planes``: bit planes of the codes in ``pm``'s classes.
    """

    planes: np.ndarray  # uint64: bit planes, (H + 2 pad + 1) rows x nw words x NPL planes
    pm: np.ndarray  # int64: planes of each cell code (PM_MODEL1 or PM_MODEL2)
    cnt: np.ndarray  # int32: neighbourhood counts, cops and group-A actives
    cntb: np.ndarray  # int32: neighbourhood counts, cops and group-B actives (Model II)
    rank: np.ndarray  # int32: flattened decision-rank table
    thr: np.ndarray  # int32, per agent: decision threshold rank
    smask: np.ndarray  # int32: the citizens' shape as lane masks (-1 inside), `lanes` per row
    rm: np.ndarray  # uint64: per-row bit masks of the citizens' shape
    rmc: np.ndarray  # uint64: per-row bit masks of the cops' shape
    perm: np.ndarray  # int32, per agent: the step's random order


class SimScratch(NamedTuple):
    """Scratch of the simultaneous update, allocated once."""

    newst: np.ndarray  # int8, per agent: state decided from the snapshot
    target: np.ndarray  # int64, per agent: chosen cell, -1 for none
    claim: np.ndarray  # int64, per cell: winning claimant, -1 for none
