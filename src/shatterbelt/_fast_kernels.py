"""numba kernels shared by the whole engine (random numbers, census, index lists, flags).

Module-level functions so that numba's on-disk cache (``cache=True``) finds them again in
the next process; compiled on first use (:mod:`shatterbelt._jit`), so NumPy runs never import
numba.  A mechanism's own kernels live beside it (``modules/*_kernels.py``) and use the
helpers here.  See :mod:`shatterbelt._fast` for why they give the same results as the NumPy
code, whatever the number of threads.
"""

from __future__ import annotations

import numpy as np

from ._jit import njit, prange
from .rng import _C1, _C2, _INV53, GOLDEN

NCH = 64  # chunks of a parallel pass: fixed, so partial results never depend on the thread count
G_ = np.uint64(GOLDEN)
C1 = np.uint64(_C1)
C2 = np.uint64(_C2)
ONE = np.uint64(1)
S11, S27, S30, S31 = np.uint64(11), np.uint64(27), np.uint64(30), np.uint64(31)
INV53 = float(_INV53)
CIV = 0


@njit(inline="always")
def u01(key, i):
    """Bit-exact :func:`shatterbelt.rng.uniforms` for one agent index."""
    z = np.uint64(i) + ONE
    z = z * G_
    z = z + key
    z = z ^ (z >> S30)
    z = z * C1
    z = z ^ (z >> S27)
    z = z * C2
    z = z ^ (z >> S31)
    return np.float64(z >> S11) * INV53


@njit(inline="always")
def _bits(key, i):
    """The 53 bits behind :func:`u01` (``u01 == _bits * 2**-53`` exactly), for an unsigned index."""
    z = i + ONE
    z = z * G_
    z = z + key
    z = z ^ (z >> S30)
    z = z * C1
    z = z ^ (z >> S27)
    z = z * C2
    z = z ^ (z >> S31)
    return z >> S11


@njit(cache=True)
def hash_block(key, b0, m, zb):
    """zb[j] = _bits(key, b0 + j) for j < m: a plain loop that LLVM vectorises (AVX-512: 8 lanes)."""
    for j in range(m):
        zb[j] = _bits(key, b0 + np.uint64(j))


@njit(inline="always")
def bounds(n, ch):
    # unsigned, so that numba drops its negative-index wraparound and LLVM can vectorise the loop
    un = np.uint64(n)
    return un * np.uint64(ch) // np.uint64(NCH), un * np.uint64(ch + 1) // np.uint64(NCH)


BLK = 1024  # agents hashed at a time into a small buffer (vectorised), then tested


@njit(parallel=True, cache=True)
def uniforms_idx(key, idx):
    out = np.empty(idx.size, np.float64)
    n = idx.size
    for ch in prange(NCH):
        lo, hi = bounds(n, ch)
        for j in range(lo, hi):
            out[j] = u01(key, idx[j])
    return out


@njit(parallel=True, cache=True)
def uniforms_f32(key, out):
    """out[i] = float32(u(key, i)) for every agent i."""
    n = out.size
    for ch in prange(NCH):
        lo, hi = bounds(n, ch)
        for i in range(lo, hi):
            out[i] = np.float32(u01(key, i))


@njit(parallel=True, cache=True)
def uniforms_below(key, thr, out):
    """out[i] = u(key, i) < thr for every agent i."""
    n = out.size
    for ch in prange(NCH):
        lo, hi = bounds(n, ch)
        for i in range(lo, hi):
            out[i] = u01(key, i) < thr


@njit(parallel=True, cache=True)
def census(status, actor, region, community, fa, displaced, A1, R, C, K):
    """Counts by census key; four interleaved sub-histograms per chunk break the store-to-load
    dependency between neighbours (who mostly share a key)."""
    n = status.size
    nc = 16
    hist = np.zeros((nc, 4, K), np.int32)
    for ch in prange(nc):
        lo = np.uint64(n) * np.uint64(ch) // np.uint64(nc)
        hi = np.uint64(n) * np.uint64(ch + 1) // np.uint64(nc)
        h = hist[ch]
        for i in range(lo, hi):
            k = np.int64(status[i]) * A1 + np.int64(actor[i]) + 1
            k = (k * R + np.int64(region[i])) * C + np.int64(community[i])
            k = (k * 2 + np.int64(fa[i])) * 2 + np.int64(displaced[i])
            h[i & np.uint64(3), k] += 1
    out = np.zeros(K, np.int64)
    for ch in range(nc):
        for j in range(4):
            out += hist[ch, j]
    return out


@njit(inline="always")
def _compact_offsets(cnt):
    off = np.zeros(NCH + 1, np.int64)
    for ch in range(NCH):
        off[ch + 1] = off[ch] + cnt[ch]
    return off


@njit(parallel=True, cache=True)
def where_eq(a, v):
    """Sorted indices i with a[i] == v (two passes: count per chunk, then fill)."""
    n = a.size
    cnt = np.zeros(NCH, np.int64)
    for ch in prange(NCH):
        lo, hi = bounds(n, ch)
        c = 0
        for i in range(lo, hi):
            if a[i] == v:
                c += 1
        cnt[ch] = c
    off = _compact_offsets(cnt)
    out = np.empty(off[NCH], np.int64)
    for ch in prange(NCH):
        lo, hi = bounds(n, ch)
        j = off[ch]
        for i in range(lo, hi):
            if a[i] == v:
                out[j] = i
                j += 1
    return out


@njit(parallel=True, cache=True)
def compact_flags(words, n, bit):
    """Sorted indices i < n whose flag byte has ``bit``; ``words`` is the flag bytes seen as uint64
    (little-endian: byte b of word w is flag 8 w + b), so eight zero flags are skipped at once."""
    nw = words.size
    mask = np.uint64(bit) * np.uint64(0x0101010101010101)
    cnt = np.zeros(NCH, np.int64)
    for ch in prange(NCH):
        lo, hi = bounds(nw, ch)
        c = 0
        for w in range(lo, hi):
            x = words[w] & mask
            if x:
                for b in range(8):
                    if (x >> np.uint64(8 * b)) & np.uint64(0xFF):
                        c += 1
        cnt[ch] = c
    off = _compact_offsets(cnt)
    out = np.empty(off[NCH], np.int64)
    for ch in prange(NCH):
        lo, hi = bounds(nw, ch)
        j = off[ch]
        for w in range(lo, hi):
            x = words[w] & mask
            if x:
                for b in range(8):
                    if (x >> np.uint64(8 * b)) & np.uint64(0xFF):
                        out[j] = np.int64(w) * 8 + b
                        j += 1
    k = out.size
    while k > 0 and out[k - 1] >= n:  # (the padding is never flagged; kept for safety)
        k -= 1
    return out[:k]


@njit(parallel=True, cache=True)
def add_one_i16(a):
    n = a.size
    for ch in prange(NCH):
        lo, hi = bounds(n, ch)
        for i in range(lo, hi):
            a[i] += 1
