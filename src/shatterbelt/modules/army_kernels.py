"""The army's per-person pass on both backends: soldiers by region and by whom they answer to."""

from __future__ import annotations

import numpy as np

from .._fast_kernels import NCH, bounds
from .._jit import njit, prange
from ..population import FIGHTER


def allegiance_counts_numpy(fidx, status, actor, allegiance, region, army_i, R, B1):  # noqa: ANN001, ANN201
    """Soldiers of the army by region x (allegiance + 1) (0: the state)."""
    s = fidx[(actor[fidx] == army_i) & (status[fidx] == FIGHTER)]
    cnt = np.zeros((R, B1), np.int64)
    np.add.at(cnt, (region[s].astype(np.int64), allegiance[s].astype(np.int64) + 1), 1)
    return cnt


@njit(parallel=True, cache=True)
def allegiance_counts_numba(fidx, status, actor, allegiance, region, army_i, R, B1):
    """Soldiers of the army by region x (allegiance + 1)."""
    n = fidx.size
    cnt = np.zeros((NCH, R, B1), np.int64)
    for ch in prange(NCH):
        lo, hi = bounds(n, ch)
        for j in range(lo, hi):
            i = fidx[j]
            if status[i] == 1 and actor[i] == army_i:
                cnt[ch, np.int64(region[i]), np.int64(allegiance[i]) + 1] += 1
    return cnt.sum(0)
