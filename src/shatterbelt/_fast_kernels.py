"""numba kernels of :mod:`shatterbelt._fast` (imported only when numba is used).

Module-level functions so that numba's on-disk cache (``cache=True``) finds them
again in the next process.  See :mod:`shatterbelt._fast` for why they give the same
results as the NumPy code, whatever the number of threads.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

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
def mob_best(region, community, status, fa, hardship, risk, cell_na, tab, hmin, C, L, best, A):
    """best[i] = the actor with the largest positive net pull for a fighting-age civilian (-1 otherwise);
    returns the number of people for whom each actor is best.

    For cell = r * C + c, ``tab[cell, j]`` holds, for the j-th actor (ascending) that may recruit
    there (``j < cell_na[cell]``): the actor, m_g, m_f F[r, c], m_l L[r, c], const[a, r] and
    risk[a, r], so that the net pull

        ((m_g (H (1 - L)) + m_f F) + m_l L) + const) - R risk

    is the same sequence of IEEE operations as in the NumPy code (products of the same
    operands are the same numbers whether taken here or there).  A person whose hardship is
    at most ``hmin[cell]`` provably has no positive pull (``Mobilization._hardship_floor``):
    a first, branch-free loop over a block keeps only the others, a second evaluates them."""
    n = region.size
    cnt = np.zeros((NCH, A), np.int64)
    for ch in prange(NCH):
        lo, hi = bounds(n, ch)
        buf = np.empty(BLK, np.int64)
        b0 = lo
        while b0 < hi:
            m = min(np.uint64(BLK), hi - b0)
            k = 0
            for j in range(m):
                i = b0 + j
                cell = np.int64(region[i]) * C + np.int64(community[i])
                ok = fa[i] & (status[i] == CIV) & (np.float64(hardship[i]) > hmin[cell])
                best[i] = -1
                buf[k] = i
                k += ok
            for q in range(k):
                i = buf[q]
                r = np.int64(region[i])
                c = np.int64(community[i])
                cell = r * C + c
                g = np.float64(hardship[i]) * (1.0 - L[r, c])
                rr = np.float64(risk[i])
                b = -1
                bn = 0.0
                for j in range(cell_na[cell]):
                    net = (
                        tab[cell, j, 1] * g
                        + tab[cell, j, 2]
                        + tab[cell, j, 3]
                        + tab[cell, j, 4]
                        - rr * tab[cell, j, 5]
                    )
                    if net > bn:
                        b = np.int64(tab[cell, j, 0])
                        bn = net
                if b >= 0:
                    best[i] = b
                    cnt[ch, b] += 1
            b0 += m
    E = np.zeros(A, np.int64)
    for ch in range(NCH):
        E += cnt[ch]
    return E


@njit(parallel=True, cache=True)
def init_candidates(
    fa,
    status,
    actor,
    home,
    community,
    hardship,
    risk,
    a,
    present_a,
    okc_a,
    mg,
    mf,
    ml,
    L,
    F,
    base_a,
    risk_a,
    flag,
):
    """Mobilization.init for actor a: sorted candidates (fighting-age civilians or a's own fighters,
    whose home region is one where a is present and whose community a recruits), their home
    region and their net pull toward a (the NumPy expression's order of operations)."""
    n = status.size
    cnt = np.zeros(NCH, np.int64)
    for ch in prange(NCH):
        lo, hi = bounds(n, ch)
        c = 0
        for i in range(lo, hi):
            st = status[i]
            ok = fa[i] & ((st == CIV) | ((st == 1) & (actor[i] == a)))
            ok = ok & present_a[np.int64(home[i])] & okc_a[np.int64(community[i])]
            flag[i] = ok
            c += ok
        cnt[ch] = c
    off = _compact_offsets(cnt)
    m = off[NCH]
    cand = np.empty(m, np.int64)
    reg = np.empty(m, np.int64)
    net = np.empty(m, np.float64)
    for ch in prange(NCH):
        lo, hi = bounds(n, ch)
        j = off[ch]
        for i in range(lo, hi):
            if flag[i]:
                r = np.int64(home[i])
                c = np.int64(community[i])
                Lrc = L[r, c]
                cand[j] = i
                reg[j] = r
                net[j] = (
                    mg * np.float64(hardship[i]) * (1.0 - Lrc)
                    + mf * F[r, c]
                    + ml * Lrc
                    + base_a[r]
                    - np.float64(risk[i]) * risk_a[r]
                )
                j += 1
    return cand, reg, net


@njit(parallel=True, cache=True)
def mob_join(best, key, prob):
    """Sorted recruits i (best[i] >= 0 and u(key, i) < prob[best[i]]) and their actors.

    The first pass marks a recruit in place as ``-2 - actor`` (so actors must be < 126)."""
    n = best.size
    cnt = np.zeros(NCH, np.int64)
    for ch in prange(NCH):
        lo, hi = bounds(n, ch)
        c = 0
        for i in range(lo, hi):
            b = best[i]
            if b >= 0 and u01(key, i) < prob[b]:
                best[i] = -2 - b
                c += 1
        cnt[ch] = c
    off = _compact_offsets(cnt)
    rec = np.empty(off[NCH], np.int64)
    ra = np.empty(off[NCH], np.int64)
    for ch in prange(NCH):
        lo, hi = bounds(n, ch)
        j = off[ch]
        for i in range(lo, hi):
            b = best[i]
            if b <= -2:
                rec[j] = i
                ra[j] = -2 - np.int64(b)
                j += 1
    return rec, ra


@njit(parallel=True, cache=True)
def mob_leave(
    fidx,
    actor,
    region,
    origin,
    community,
    hardship,
    risk,
    is_state,
    mG,
    mF,
    mL,
    L,
    F,
    const,
    arisk,
    neg_margin,
    leave_rate,
    p_unp,
    p_exc,
    key,
):
    """Fighters ``fidx`` who leave this month (sorted) and their actors: the NumPy leaving rule, per fighter."""
    n = fidx.size
    go = np.zeros(n, np.bool_)
    cnt = np.zeros(NCH, np.int64)
    for ch in prange(NCH):
        lo, hi = bounds(n, ch)
        c = 0
        for j in range(lo, hi):
            i = fidx[j]
            a = np.int64(actor[i])
            rh = np.int64(region[i])
            r = np.int64(origin[i]) if is_state[a] else rh
            cc = np.int64(community[i])
            Lrc = L[r, cc]
            net = (
                mG[a] * np.float64(hardship[i]) * (1.0 - Lrc)
                + mF[a] * F[r, cc]
                + mL[a] * Lrc
                + const[a, r]
                - np.float64(risk[i]) * arisk[a, rh]
            )
            p_leave = leave_rate if net < neg_margin else 0.0
            p_tot = 1.0 - (1.0 - p_leave) * (1.0 - p_unp[a]) * (1.0 - p_exc[a])
            if u01(key, i) < p_tot:
                go[j] = True
                c += 1
        cnt[ch] = c
    off = _compact_offsets(cnt)
    gone = np.empty(off[NCH], np.int64)
    ga = np.empty(off[NCH], np.int64)
    for ch in prange(NCH):
        lo, hi = bounds(n, ch)
        k = off[ch]
        for j in range(lo, hi):
            if go[j]:
                gone[k] = fidx[j]
                ga[k] = actor[fidx[j]]
                k += 1
    return gone, ga


BLK = 1024  # agents hashed at a time into a small buffer (vectorised), then tested


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


@njit(parallel=True, cache=True)
def displace(status, region, community, origin, displaced, C, pbits, key_flee, thr, do_return, key_ret, flag):
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
                k += civ & (displaced[i] | flee)
            if do_return:
                for q in range(k):
                    i = buf[q]
                    if u01(key_ret, i) < thr[np.int64(origin[i]), np.int64(community[i])]:
                        flag[i] |= 2
            b0 += m


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


@njit(parallel=True, cache=True)
def fighters_detain(fidx, status, actor, region, outlaw, d, key):
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


@njit(parallel=True, cache=True)
def fighters_infiltration(fidx, status, actor, allegiance, region, is_state, armed_b, R):
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


@njit(parallel=True, cache=True)
def fighters_allegiance(fidx, status, actor, allegiance, region, army_i, R, B1):
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
