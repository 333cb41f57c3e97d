"""Control's per-person pass on both backends: state-force members and the infiltrated, by region."""

from __future__ import annotations

import numpy as np

from .._fast_kernels import NCH, bounds
from .._jit import njit, prange
from ..population import FIGHTER


def infiltration_counts_numpy(fidx, status, actor, allegiance, region, is_state, armed_b, R):  # noqa: ANN001, ANN201
    """Per region: state-force members (tot) and those answering to an entity whose armed wing is there (bad)."""
    s = fidx[is_state[np.maximum(actor[fidx], 0)] & (status[fidx] == FIGHTER)]
    al = allegiance[s].astype(np.int64)
    r = region[s].astype(np.int64)
    disloyal = (al >= 0) & armed_b[np.maximum(al, 0), r]
    return np.bincount(r, minlength=R), np.bincount(r[disloyal], minlength=R)


@njit(parallel=True, cache=True)
def infiltration_counts_numba(fidx, status, actor, allegiance, region, is_state, armed_b, R):
    """Per region: state-force members (tot) and those answering to an entity whose armed wing is there (bad)."""
    n = fidx.size
    tot = np.zeros((NCH, R), np.int64)
    bad = np.zeros((NCH, R), np.int64)
    for ch in prange(NCH):
        lo, hi = bounds(n, ch)
        for j in range(lo, hi):
            i = fidx[j]
            if status[i] == 1 and is_state[np.int64(actor[i])]:
                r = np.int64(region[i])
                tot[ch, r] += 1
                al = np.int64(allegiance[i])
                if al >= 0 and armed_b[al, r]:
                    bad[ch, r] += 1
    return tot.sum(0), bad.sum(0)
