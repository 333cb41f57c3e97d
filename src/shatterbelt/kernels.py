"""Array kernels used by the mechanisms: pure functions over NumPy arrays.

Each kernel is defined by *what* it returns, not by how, so that an
accelerated implementation (numba, :mod:`shatterbelt._fast`) gives identical
results: e.g. "the k candidates with the smallest per-agent uniform" is one
set whatever the algorithm that finds it.
"""

from __future__ import annotations

import numpy as np


def group_rank_select(groups: np.ndarray, u: np.ndarray, k_per_group: np.ndarray) -> np.ndarray:
    """Positions (into ``groups``/``u``) of the ``k[g]`` smallest ``u`` within each group ``g``.

    Groups with fewer candidates than ``k[g]`` give all their candidates.  Ties in
    ``u`` (probability ~2**-53) are broken by position, so the result is unique.
    """
    if groups.size == 0:
        return np.zeros(0, np.int64)
    if groups.size > _PREFILTER_MIN and groups.min() >= 0 and not np.isnan(u).any():
        # keep, in each group, only the values up to its k-th smallest (ties included), then rank
        # those: the same positions as ranking everyone, without sorting millions of candidates
        keep = _group_prefilter(groups, u, k_per_group)
        if keep.size < groups.size:
            return keep[_rank_select(groups[keep], u[keep], k_per_group)]
    return _rank_select(groups, u, k_per_group)


def _rank_select(groups: np.ndarray, u: np.ndarray, k_per_group: np.ndarray) -> np.ndarray:
    if groups.size == 0:
        return np.zeros(0, np.int64)
    order = np.lexsort((np.arange(groups.size), u, groups))
    g_sorted = groups[order]
    # rank within group
    starts = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1]])
    run_len = np.diff(np.r_[starts, g_sorted.size])
    rank = np.arange(g_sorted.size) - np.repeat(starts, run_len)
    keep = rank < k_per_group[g_sorted]
    return np.sort(order[keep])


_PREFILTER_MIN = 200_000


def _group_prefilter(groups: np.ndarray, u: np.ndarray, k_per_group: np.ndarray) -> np.ndarray:
    """Sorted positions whose ``u`` is at most the ``k[g]``-th smallest of its group (all of a small group)."""
    keep = []
    for g in np.flatnonzero(np.bincount(groups)):
        k = int(k_per_group[g])
        if k <= 0:
            continue
        idx = np.flatnonzero(groups == g)
        if k < idx.size:
            ug = u[idx]
            kth = np.partition(ug, k - 1)[k - 1]
            idx = idx[ug <= kth]
        keep.append(idx)
    return np.sort(np.concatenate(keep)) if keep else np.zeros(0, np.int64)


def smallest_sorted(u: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` smallest ``u`` in (value, position) order: ``np.argsort(u, kind="stable")[:k]``
    without sorting everything."""
    if k <= 0:
        return np.zeros(0, np.int64)
    if k >= u.size:
        return np.argsort(u, kind="stable")
    kth = np.partition(u, k - 1)[k - 1]
    cand = np.flatnonzero(u <= kth)
    return cand[np.argsort(u[cand], kind="stable")][:k]


def select_in_cells(
    cell_of_agent: np.ndarray,
    k_per_cell: np.ndarray,
    n_per_cell: np.ndarray,
    u_of: callable,
) -> np.ndarray:
    """Agent indices: in every cell ``c``, the ``k[c]`` candidates with the smallest uniform.

    ``cell_of_agent`` holds each agent's cell or -1 (not a candidate).  Only agents
    whose cell needs draws are hashed, and a threshold pre-filter (``u < q_c`` with a
    generous margin over ``k/n``) keeps the sort small; if it would keep fewer than
    ``k`` in a cell, that cell falls back to all its candidates, so the selected set
    is exactly the same as a full sort would give.
    """
    need = k_per_cell > 0
    if not need.any():
        return np.zeros(0, np.int64)
    safe = np.where(cell_of_agent >= 0, cell_of_agent, 0)
    cand = np.flatnonzero((cell_of_agent >= 0) & need[safe])
    if cand.size == 0:
        return np.zeros(0, np.int64)
    cells = cell_of_agent[cand].astype(np.int64)
    u = u_of(cand)
    k = k_per_cell.astype(np.float64)
    n = np.maximum(n_per_cell.astype(np.float64), 1.0)
    q = np.minimum(1.0, (k + 6.0 * np.sqrt(k) + 16.0) / n)
    pre = u < q[cells]
    kept_per_cell = np.bincount(cells[pre], minlength=k_per_cell.size)
    short = kept_per_cell < k_per_cell
    pre |= short[cells]
    cand, cells, u = cand[pre], cells[pre], u[pre]
    pos = group_rank_select(cells, u, k_per_cell.astype(np.int64))
    return cand[pos]


def select_in_cells_scan(scan: callable, k_per_cell: np.ndarray, n_per_cell: np.ndarray) -> np.ndarray:
    """:func:`select_in_cells` where the candidates are found by ``scan(need, q)``.

    ``scan`` returns ``(agents, cells, uniforms)``, sorted by agent, of every candidate in a
    cell with ``need[cell]`` whose uniform is below ``q[cell]`` (a numba kernel does this in
    one pass over the people).  Cells left short by the pre-filter are scanned again in
    full (``q = 2``), so the selected set is the one a full sort would give.
    """
    need = k_per_cell > 0
    if not need.any():
        return np.zeros(0, np.int64)
    k = k_per_cell.astype(np.float64)
    n = np.maximum(n_per_cell.astype(np.float64), 1.0)
    q = np.minimum(1.0, (k + 6.0 * np.sqrt(k) + 16.0) / n)
    cand, cells, u = scan(need, q)
    short = need & (np.bincount(cells, minlength=k_per_cell.size) < k_per_cell)
    if short.any():
        cand, cells, u = scan(need, np.where(short, 2.0, q))
    pos = group_rank_select(cells, u, k_per_cell.astype(np.int64))
    return cand[pos]


def discrete_power_law(rng: np.random.Generator, alpha: float, xmin: int, xmax: int, size: int) -> np.ndarray:
    """Integer sizes with P(x) proportional to x**-alpha on [xmin, xmax] (exact inverse-CDF on the support)."""
    if size <= 0:
        return np.zeros(0, np.int64)
    x = np.arange(xmin, xmax + 1, dtype=np.float64)
    pmf = x ** (-alpha)
    cdf = np.cumsum(pmf)
    cdf /= cdf[-1]
    u = rng.random(size)
    return (np.searchsorted(cdf, u, side="right") + xmin).astype(np.int64).clip(xmin, xmax)


def connected_components(adj: np.ndarray, members: np.ndarray) -> int:
    """Number of connected components of the subgraph induced by ``members`` (bool over regions)."""
    idx = np.flatnonzero(members)
    if idx.size == 0:
        return 0
    seen = np.zeros(adj.shape[0], bool)
    comps = 0
    for s in idx:
        if seen[s]:
            continue
        comps += 1
        stack = [s]
        seen[s] = True
        while stack:
            v = stack.pop()
            for w in np.flatnonzero(adj[v] & members & ~seen):
                seen[w] = True
                stack.append(w)
    return comps


def hop_distances(adj: np.ndarray) -> np.ndarray:
    """All-pairs hop distances over the adjacency graph (BFS; unreachable = large)."""
    R = adj.shape[0]
    dist = np.full((R, R), 10_000, np.int64)
    for s in range(R):
        dist[s, s] = 0
        frontier = [s]
        d = 0
        while frontier:
            d += 1
            nxt = []
            for v in frontier:
                for w in np.flatnonzero(adj[v]):
                    if dist[s, w] > d:
                        dist[s, w] = d
                        nxt.append(w)
            frontier = nxt
    return dist
