"""Violence's per-person passes on both backends (same signature, byte-identical results).

Who dies in a cell and who is detained are defined by what is selected, not by how: the
civilians of a cell with the smallest per-agent uniforms (:func:`shatterbelt.kernels.select_in_cells`),
the outlaw fighters whose uniform is below their detention probability.  ``world.kernels.pick``
chooses the implementation once per run.
"""

from __future__ import annotations

import numpy as np

from .._fast import threshold_bits
from .._fast_kernels import BLK, NCH, _compact_offsets, bounds, hash_block, u01
from .._jit import njit, prange
from ..kernels import select_in_cells, select_in_cells_scan
from ..population import CIV, FIGHTER
from ..rng import uniforms


def select_civilians_numpy(status, region, community, C, k, avail, key, scratch, flagged):  # noqa: ANN001, ANN201
    """Civilians to kill: in every (region, community) cell, the ``k[cell]`` with the smallest uniform."""
    cell = np.where(status == CIV, region.astype(np.int32) * C + community, -1)
    return select_in_cells(cell, k, avail, lambda i: uniforms(key, i))


def select_civilians_numba(status, region, community, C, k, avail, key, scratch, flagged):  # noqa: ANN001, ANN201
    """As :func:`select_civilians_numpy`; one fused pass finds the civilians of cells with deaths
    whose uniform passes the cell's pre-filter."""

    def scan(need: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        qbits = threshold_bits(np.where(need, q, 0.0))
        civ_prefilter(status, region, community, C, qbits, np.uint64(key), scratch)
        idx = flagged(1)
        return idx, region[idx].astype(np.int64) * C + community[idx], uniforms(key, idx)

    return select_in_cells_scan(scan, k, avail)


@njit(parallel=True, cache=True)
def civ_prefilter(status, region, community, C, qbits, key, flag):
    """flag[i] = 1 for civilians whose uniform is below their cell's threshold (else 0).

    ``qbits[cell]`` is the threshold as an integer on the hash's 53 bits (``u < q`` exactly when
    ``bits < ceil(q * 2**53)``; 0 for cells that need no draws), so the test is exact."""
    n = status.size
    for ch in prange(NCH):
        lo, hi = bounds(n, ch)
        zb = np.empty(BLK, np.uint64)
        b0 = lo
        while b0 < hi:
            m = min(np.uint64(BLK), hi - b0)
            hash_block(key, b0, m, zb)
            for j in range(m):
                i = b0 + j
                cell = np.int64(region[i]) * C + np.int64(community[i])
                flag[i] = (status[i] == CIV) & (zb[j] < qbits[cell])
            b0 += m


def detain_numpy(fidx, status, actor, region, outlaw, d, key):  # noqa: ANN001, ANN201
    """Fighters of outlaw actors detained this month (sorted): status FIGHTER and u(key, i) < d[actor, region]."""
    a = np.maximum(actor[fidx].astype(np.int64), 0)
    ok = (status[fidx] == FIGHTER) & outlaw[a]
    go = ok & (uniforms(key, fidx) < d[a, region[fidx].astype(np.int64)])
    return fidx[go]


@njit(parallel=True, cache=True)
def detain_numba(fidx, status, actor, region, outlaw, d, key):
    """Fighters of outlaw actors detained this month (sorted): status FIGHTER and u(key, i) < d[actor, region]."""
    n = fidx.size
    go = np.zeros(n, np.bool_)
    cnt = np.zeros(NCH, np.int64)
    for ch in prange(NCH):
        lo, hi = bounds(n, ch)
        c = 0
        for j in range(lo, hi):
            i = fidx[j]
            if status[i] == 1:
                a = np.int64(actor[i])
                if outlaw[a] and u01(key, i) < d[a, np.int64(region[i])]:
                    go[j] = True
                    c += 1
        cnt[ch] = c
    off = _compact_offsets(cnt)
    sel = np.empty(off[NCH], np.int64)
    for ch in prange(NCH):
        lo, hi = bounds(n, ch)
        k = off[ch]
        for j in range(lo, hi):
            if go[j]:
                sel[k] = fidx[j]
                k += 1
    return sel
