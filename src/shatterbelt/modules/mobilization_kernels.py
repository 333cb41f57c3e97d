"""Mobilization's per-person rules, written once, and its passes on both backends.

The rules (:func:`net_pull`, :func:`leave_probability`) are plain arithmetic: the NumPy
passes (``*_numpy``) call them on arrays, the numba kernels (``*_numba``) inline them on
scalars, so both backends evaluate the same IEEE operations in the same order and give
byte-identical results.  Each pass has the same signature on both backends;
``world.kernels.pick`` chooses one per run.  The rules live in this file, beside the
kernels that inline them, so that numba's on-disk cache is invalidated when they change.
"""

from __future__ import annotations

import numpy as np

from .._fast_kernels import BLK, NCH, _compact_offsets, bounds, u01
from .._jit import njit, prange
from ..population import CIV, FIGHTER
from ..rng import uniforms


# ---------------------------------------------------------------------------- the rules
def net_pull(mg, mf, ml, hardship, L, F, const, risk, risk_ar):  # noqa: ANN001, ANN201 - scalars or arrays
    """Net pull of an armed actor on a person (Epstein's activation rule, extended):

        m_g G + m_f F + m_l L + const - R P,   with grievance G = H (1 - L),

    for a person of hardship H and risk aversion R, in a cell of legitimacy L and fear F;
    ``const`` holds the actor's pay and ideology pulls less its threshold, ``risk_ar`` the
    perceived risk P of fighting for it there.  Works on scalars and on arrays alike.
    """
    return mg * (hardship * (1.0 - L)) + mf * F + ml * L + const - risk * risk_ar


def leave_probability(net, neg_margin, leave_rate, p_unpaid, p_excess):  # noqa: ANN001, ANN201
    """A fighter's monthly probability of leaving: the pull fails by a margin, pay has not come,
    or the actor sheds fighters it cannot pay (independent causes)."""
    return 1.0 - (1.0 - leave_rate * (net < neg_margin)) * (1.0 - p_unpaid) * (1.0 - p_excess)


_net_pull = njit(inline="always")(net_pull)
_leave_probability = njit(inline="always")(leave_probability)


# ---------------------------------------------------------------------------- calibration (init)
def init_candidates_numpy(fa, status, actor, home, community, hardship, risk, a, present_a, okc_a, mg, mf, ml, L, F, base_a, risk_a, flag):  # noqa: ANN001, ANN201, E501
    """Candidates of actor ``a`` at the start (sorted): fighting-age civilians or ``a``'s own fighters
    whose home region is one where ``a`` is present and whose community ``a`` recruits; their home
    region and their net pull toward ``a``."""
    cand = np.flatnonzero(
        fa
        & ((status == CIV) | ((status == FIGHTER) & (actor == a)))
        & present_a[home.astype(np.int64)]
        & okc_a[community.astype(np.int64)]
    )
    r = home[cand].astype(np.int64)
    c = community[cand].astype(np.int64)
    net = _pull_at(mg, mf, ml, hardship[cand], L[r, c], F[r, c], base_a[r], risk[cand], risk_a[r])
    return cand, r, net


def _pull_at(mg, mf, ml, h, L, F, const, rk, risk_ar):  # noqa: ANN001, ANN202
    return net_pull(mg, mf, ml, h.astype(np.float64), L, F, const, rk.astype(np.float64), risk_ar)


@njit(parallel=True, cache=True)
def init_candidates_numba(fa, status, actor, home, community, hardship, risk, a, present_a, okc_a, mg, mf, ml, L, F, base_a, risk_a, flag):  # noqa: ANN001, ANN201, E501
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
                cand[j] = i
                reg[j] = r
                net[j] = _net_pull(
                    mg, mf, ml, np.float64(hardship[i]), L[r, c], F[r, c], base_a[r], np.float64(risk[i]), risk_a[r]
                )
                j += 1
    return cand, reg, net


# ---------------------------------------------------------------------------- joining
# ``tab[cell, j]`` (cell = r * C + c) holds, for the j-th actor (ascending) that may recruit in the
# cell (j < cell_na[cell]): the actor, m_g, m_f, m_l, const[a, r] and risk[a, r].


def best_actor_numpy(region, community, status, fa, hardship, risk, cell_na, tab, hmin, C, L, F, best, A):  # noqa: ANN001, ANN201, E501
    """best[i] = the actor with the largest positive net pull on fighting-age civilian i (-1 for
    everyone else); returns how many people each actor is best for.  People whose hardship is
    at most ``hmin[cell]`` provably have no positive pull (``Mobilization._hardship_floor``)."""
    cell = region.astype(np.int64) * C + community
    idx = np.flatnonzero(fa & (status == CIV) & (hardship > hmin[cell]))
    best[:] = -1
    cell = cell[idx]
    r = region[idx].astype(np.int64)
    c = community[idx].astype(np.int64)
    h = hardship[idx].astype(np.float64)
    rk = risk[idx].astype(np.float64)
    Lrc, Frc = L[r, c], F[r, c]
    b = np.full(idx.size, -1, np.int64)
    bn = np.zeros(idx.size)
    na = cell_na[cell]
    for j in range(int(cell_na.max()) if cell_na.size else 0):
        t = tab[cell, j]
        net = net_pull(t[:, 1], t[:, 2], t[:, 3], h, Lrc, Frc, t[:, 4], rk, t[:, 5])
        better = (j < na) & (net > bn)
        b[better] = t[better, 0].astype(np.int64)
        bn[better] = net[better]
    best[idx] = b
    return np.bincount(b[b >= 0], minlength=A)


@njit(parallel=True, cache=True)
def best_actor_numba(region, community, status, fa, hardship, risk, cell_na, tab, hmin, C, L, F, best, A):  # noqa: ANN001, ANN201, E501
    # a first, branch-free loop over a block keeps the people above the floor, a second evaluates them
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
                h = np.float64(hardship[i])
                rr = np.float64(risk[i])
                Lrc = L[r, c]
                Frc = F[r, c]
                b = -1
                bn = 0.0
                for j in range(cell_na[cell]):
                    net = _net_pull(
                        tab[cell, j, 1], tab[cell, j, 2], tab[cell, j, 3], h, Lrc, Frc, tab[cell, j, 4], rr, tab[cell, j, 5]
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


def join_numpy(best, key, prob):  # noqa: ANN001, ANN201
    """Sorted recruits i (best[i] >= 0 and u(key, i) < prob[best[i]]) and their actors."""
    idx = np.flatnonzero(best >= 0)
    ba = best[idx].astype(np.int64)
    join = uniforms(key, idx) < prob[ba]
    return idx[join], ba[join]


@njit(parallel=True, cache=True)
def join_numba(best, key, prob):  # noqa: ANN001, ANN201
    # the first pass marks a recruit in place as ``-2 - actor`` (so actors must be < 126)
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


# ---------------------------------------------------------------------------- leaving
def leave_numpy(fidx, actor, region, origin, community, hardship, risk, is_state, mG, mF, mL, L, F, const, arisk, neg_margin, leave_rate, p_unp, p_exc, key):  # noqa: ANN001, ANN201, E501
    """Fighters ``fidx`` who leave this month (sorted) and their actors.

    State forces serve away from home: they judge the state (and fear) as their community
    does at home, and weigh the risk where they serve."""
    a = actor[fidx].astype(np.int64)
    r_here = region[fidx].astype(np.int64)
    r = np.where(is_state[a], origin[fidx], r_here).astype(np.int64)
    c = community[fidx].astype(np.int64)
    net = _pull_at(mG[a], mF[a], mL[a], hardship[fidx], L[r, c], F[r, c], const[a, r], risk[fidx], arisk[a, r_here])
    p_tot = leave_probability(net, neg_margin, leave_rate, p_unp[a], p_exc[a])
    go = uniforms(key, fidx) < p_tot
    return fidx[go], a[go]


@njit(parallel=True, cache=True)
def leave_numba(fidx, actor, region, origin, community, hardship, risk, is_state, mG, mF, mL, L, F, const, arisk, neg_margin, leave_rate, p_unp, p_exc, key):  # noqa: ANN001, ANN201, E501
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
            net = _net_pull(
                mG[a], mF[a], mL[a], np.float64(hardship[i]), L[r, cc], F[r, cc], const[a, r], np.float64(risk[i]),
                arisk[a, rh],
            )
            if u01(key, i) < _leave_probability(net, neg_margin, leave_rate, p_unp[a], p_exc[a]):
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
