"""Displacement's per-person pass on both backends (same signature, byte-identical results).

A civilian of cell (region, community) flees this month when its uniform is below the
cell's flight probability; a displaced civilian (including one who just fled) returns home
when another uniform is below the return probability of its origin and community.
``world.kernels.pick`` chooses the implementation once per run.
"""

from __future__ import annotations

import numpy as np

from .._fast import threshold_bits
from .._fast_kernels import BLK, NCH, bounds, hash_block, u01
from .._jit import njit, prange
from ..population import CIV
from ..rng import uniforms


def moves_numpy(status, region, community, origin, displaced, prestart, C, prob, key_flee, thr, do_return, key_ret, scratch, flagged):  # noqa: ANN001, ANN201, E501
    """(who flees, who returns) this month, both sorted; ``prob[cell]`` flight, ``thr[origin, community]`` return.
    People displaced before the start (``prestart``) are not among those who return."""
    mv = np.zeros(0, np.int64)
    if prob.max() > 0:
        cell = region.astype(np.int64) * C + community
        cand = np.flatnonzero((status == CIV) & (prob[cell] > 0))
        if cand.size:
            mv = cand[uniforms(key_flee, cand) < prob[cell[cand]]]
    back = np.zeros(0, np.int64)
    if do_return:
        d = np.union1d(np.flatnonzero(displaced & ~prestart & (status == CIV)), mv)
        if d.size:
            back = d[uniforms(key_ret, d) < thr[origin[d].astype(np.int64), community[d].astype(np.int64)]]
    return mv, back


def moves_numba(status, region, community, origin, displaced, prestart, C, prob, key_flee, thr, do_return, key_ret, scratch, flagged):  # noqa: ANN001, ANN201, E501
    """As :func:`moves_numpy`, in one fused pass over the people."""
    displace(status, region, community, origin, displaced, prestart, C, threshold_bits(prob), np.uint64(key_flee), thr,
             bool(do_return), np.uint64(key_ret), scratch)
    return flagged(1), flagged(2)


@njit(parallel=True, cache=True)
def displace(status, region, community, origin, displaced, prestart, C, pbits, key_flee, thr, do_return, key_ret, flag):
    """flag[i] bit 1: flees this month; bit 2: returns home this month.

    ``pbits[cell]`` is the flight probability as an integer threshold on the hash's 53 bits
    (see :func:`civ_prefilter`); ``thr[origin, community]`` the return probability.  A
    person who flees may return in the same month, as in the NumPy code, where the return
    pass follows the flight."""
    n = status.size
    for ch in prange(NCH):
        lo, hi = bounds(n, ch)
        zb = np.empty(BLK, np.uint64)
        buf = np.empty(BLK, np.uint64)
        b0 = lo
        while b0 < hi:
            m = min(np.uint64(BLK), hi - b0)
            hash_block(key_flee, b0, m, zb)
            k = 0
            for j in range(m):
                i = b0 + j
                civ = status[i] == CIV
                flee = civ & (zb[j] < pbits[np.int64(region[i]) * C + np.int64(community[i])])
                flag[i] = flee
                buf[k] = i  # branch-free list of who may return: displaced civilians (and who just fled)
                k += civ & ((displaced[i] & ~prestart[i]) | flee)
            if do_return:
                for q in range(k):
                    i = buf[q]
                    if u01(key_ret, i) < thr[np.int64(origin[i]), np.int64(community[i])]:
                        flag[i] |= 2
            b0 += m
