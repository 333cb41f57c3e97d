"""The model's rules as tables built once with NumPy and read by both back ends.

Neighbourhood shapes (row spans), the arrest-probability table ``P[C, A]``, the
integer decision ranks that replace the float comparison ``G - R P > T`` in the
numba kernel, and the scan-order offset tables of a shape.
"""

from __future__ import annotations

import numpy as np

from .params import DISCRETISATIONS, NEIGHBOURHOODS, canon


def half_widths(shape: str, v: int) -> np.ndarray:
    """Half-width of each row ``dy = -v..v`` of a neighbourhood shape (all shapes are row spans)."""
    shape = canon(shape, NEIGHBOURHOODS, "neighbourhood")
    dy = np.arange(-v, v + 1)
    if shape == "von_neumann":
        hw = v - np.abs(dy)
    elif shape == "disc":
        # exact integer test dx^2 + dy^2 <= v^2 (no float sqrt at the boundary)
        hw = np.array([max(h for h in range(v + 1) if h * h + d * d <= v * v) for d in dy])
    else:  # cross
        hw = np.where(dy == 0, v, 0)
    return hw.astype(np.int32)


def neighbourhood_size(shape: str, v: int) -> int:
    """Number of cells seen at vision ``v``, the agent's own cell excluded."""
    return int(np.sum(2 * half_widths(shape, v).astype(np.int64) + 1) - 1)


def arrest_probability_table(discretisation: str, k: float, n_cells: int) -> np.ndarray:
    """``P[C, A] = 1 - exp(-k · d(C/A))`` for every possible cop count C and active count A.

    Built once with NumPy and read by both back ends, so that the two give
    identical decisions.  ``d`` is ``floor``, Python's ``round`` (half to
    even, as Mesa) or the identity; column ``A = 0`` is never used.
    """
    disc = canon(discretisation, DISCRETISATIONS, "discretisation")
    c = np.arange(n_cells + 1, dtype=np.float64)[:, None]
    a = np.arange(n_cells + 2, dtype=np.float64)[None, :]
    a[0, 0] = 1.0
    ratio = c / a
    if disc == "floor":
        x = np.floor(ratio)
    elif disc == "round":
        x = np.rint(ratio)  # half to even, as Python's round()
    else:
        x = ratio
    return np.ascontiguousarray(1.0 - np.exp(-float(k) * x))


def decision_ranks(
    ptab: np.ndarray, grv: np.ndarray, risk: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """``(rank, thr)`` with ``rank[C, A] < thr[i]`` exactly when ``G_i - R_i P[C, A] > T``.

    ``rank[C, A]`` is the position of ``P[C, A]`` among the table's sorted
    distinct values, and ``thr[i]`` the number of those values for which
    agent ``i`` would be active, computed with the kernels' own float64
    expression.  It is a prefix: ``fl(G - fl(R p))`` is non-increasing in
    ``p`` for ``R >= 0`` (correctly rounded operations are monotone), so the
    comparison of two integers gives the same decision, bit for bit.
    """
    vals = np.unique(ptab[:, 1:])
    rank = np.searchsorted(vals, ptab).astype(np.int32)
    g = grv.astype(np.float64)
    r = risk.astype(np.float64)
    lo = np.zeros(g.size, dtype=np.int64)
    hi = np.full(g.size, vals.size, dtype=np.int64)
    while True:
        todo = lo < hi
        if not todo.any():
            break
        mid = (lo + hi) // 2
        act = g - r * vals[np.minimum(mid, vals.size - 1)] > threshold
        lo = np.where(todo & act, mid + 1, lo)
        hi = np.where(todo & ~act, mid, hi)
    return rank, lo.astype(np.int32)


def shape_offsets(hw: np.ndarray, Wp: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flat padded offsets, dy and dx of a row-span shape, in the kernels' scan order."""
    v = (len(hw) - 1) // 2
    dys, dxs = [], []
    for r, h in enumerate(hw):
        for dx in range(-int(h), int(h) + 1):
            dys.append(r - v)
            dxs.append(dx)
    dy = np.array(dys, dtype=np.int64)
    dx = np.array(dxs, dtype=np.int64)
    return dy * Wp + dx, dy, dx


def probe_table(hw: np.ndarray, Wp: int) -> np.ndarray:
    """(3, K) int64: padded flat offset, dy, dx of every neighbourhood cell but the centre, in scan order."""
    off, dy, dx = shape_offsets(hw, Wp)
    keep = (dy != 0) | (dx != 0)
    return np.ascontiguousarray(np.stack([off[keep], dy[keep], dx[keep]]))


def row_masks(hw: np.ndarray) -> np.ndarray:
    """Per-row bit masks of a row-span shape within its (2v+1)-wide window."""
    v = (len(hw) - 1) // 2
    return np.array([((1 << (2 * int(h) + 1)) - 1) << (v - int(h)) for h in hw], dtype=np.uint64)


def outburst_steps(active: np.ndarray, threshold: int = 50) -> int:
    """Number of steps with more than ``threshold`` actives (the outburst count used in docs and tests)."""
    return int(np.count_nonzero(np.asarray(active) > threshold))
