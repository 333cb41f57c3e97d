"""Simultaneous activation: the threaded numba kernel and its vectorised NumPy twin.

Phases of a step: release or count down jail terms; every free citizen decides from the
same snapshot; every cop picks an active (the lowest cop index wins a contested arrest);
in Model II every active picks a victim (the lowest killer index wins); every mobile agent
picks an empty cell (the lowest priority hash wins, losers stay).  Choices are made in
parallel from a snapshot, only the O(N) conflict resolution is serial, so the results do
not depend on the number of threads.  Both back ends give bit-identical results.
"""

from __future__ import annotations

import numpy as np

from ._jit import hash64, njit, prange, u01
from .codes import (
    ACTIVE,
    ACTIVE_A,
    ACTIVE_B,
    C_ARREST,
    C_KILL_A,
    C_KILL_B,
    COP,
    DEAD,
    EMPTY,
    JAILED,
    JAILED_ST,
    KIND_A,
    KIND_B,
    KIND_COP,
    MAXTRY,
    QUIET,
    RSTRIDE,
    S_ARREST,
    S_JAIL,
    S_KILL,
    S_MOVE,
    S_PRIO,
)
from .draws import hashes, move_draws, stream_key, stream_key_nb, uniforms
from .grid import citizen_code, count_series, count_series_np, kth, match, set_code, set_codes_np, wrap_cell
from .sequential import probe_empty
from .state import Config, SimScratch, Tables, World

# --------------------------------------------------------------------------
# the numba kernel
# --------------------------------------------------------------------------


@njit
def _decide_one(i, codes, pos, kind, state, grv, risk, ptab, hw, cf):
    """New state of agent ``i`` from the current snapshot (unchanged for cops, jailed, dead)."""
    st = state[i]
    if kind[i] == KIND_COP or (st != QUIET and st != ACTIVE):
        return st
    v, W, pad, Wp = cf.v, cf.W, cf.pad, cf.Wp
    own_act = 2 * kind[i] + 2
    cell = pos[i]
    y = cell // W
    b = (y + pad) * Wp + cell - y * W + pad
    ncop = 0
    nact = 0
    for r in range(2 * v + 1):
        h = hw[r]
        s0 = b + (r - v) * Wp - h
        for q in range(s0, s0 + 2 * h + 1):
            c = codes[q]
            ncop += c == COP
            nact += c == own_act
    if st == ACTIVE:
        nact -= 1
    p = ptab[ncop, nact + 1]
    if np.float64(grv[i]) - np.float64(risk[i]) * p > cf.threshold:
        return ACTIVE
    return QUIET


@njit
def _pick_one(i, key, ridx, codes, pos, hw, v, cf, mode, g):
    """Real cell of a uniformly chosen matching cell in ``i``'s neighbourhood (shape ``hw``), or -1."""
    W, pad, Wp = cf.W, cf.pad, cf.Wp
    cell = pos[i]
    y = cell // W
    x = cell - y * W
    b = (y + pad) * Wp + x + pad
    n = 0
    for r in range(2 * v + 1):
        h = hw[r]
        s0 = b + (r - v) * Wp - h
        for q in range(s0, s0 + 2 * h + 1):
            n += match(codes[q], mode, g)
    if n == 0:
        return -1
    kk = int(u01(key, ridx) * n)
    dy, dx = kth(codes, b, Wp, hw, v, kk, mode, g)
    return wrap_cell(y, x, dy, dx, cf.H, W)


@njit
def _move_target(i, key, codes, pos, tab, hw, v, cf):
    """Cell an agent moves to (probes, then exact choice among empty cells), or -1."""
    cell = pos[i]
    y = cell // cf.W
    x = cell - y * cf.W
    m = probe_empty(codes, (y + cf.pad) * cf.Wp + x + cf.pad, tab, key, i)
    if m >= 0:
        return wrap_cell(y, x, tab[1, m], tab[2, m], cf.H, cf.W)
    return _pick_one(i, key, i * RSTRIDE + RSTRIDE - 1, codes, pos, hw, v, cf, 0, 0)


@njit
def _resolve_arrests(target, codes, occ, state, jail, cf, k_jail):
    """Arrests in cop-index order (a contested active goes to the lowest index); returns their number."""
    arrests = 0
    for i in range(target.shape[0]):
        c = target[i]
        if c >= 0:
            vi = occ[c]
            if state[vi] == ACTIVE:
                state[vi] = JAILED_ST
                jail[vi] = int(u01(k_jail, i) * (cf.jmax + 1))
                set_code(codes, cf, c, JAILED)
                arrests += 1
    return arrests


@njit
def _resolve_killings(target, codes, occ, kind, state, cf):
    """Killings in killer-index order; returns (killed of group A, killed of group B)."""
    killed_a = 0
    killed_b = 0
    for i in range(target.shape[0]):
        c = target[i]
        if c >= 0:
            vi = occ[c]
            if vi >= 0:
                if kind[vi] == KIND_A:
                    killed_a += 1
                else:
                    killed_b += 1
                state[vi] = DEAD
                occ[c] = -1
                set_code(codes, cf, c, EMPTY)
    return killed_a, killed_b


@njit
def _resolve_moves(target, claim, codes, occ, pos, kind, state, cf, k_prio):
    """Per target cell the claimant with the lowest priority hash moves; the others stay."""
    N = target.shape[0]
    for i in range(N):
        c = target[i]
        if c >= 0:
            cur = claim[c]
            if cur < 0 or hash64(k_prio, i) < hash64(k_prio, cur):
                claim[c] = i
    for i in range(N):
        c = target[i]
        if c >= 0 and claim[c] == i:
            claim[c] = -1
            if kind[i] == KIND_COP:
                code = COP
            else:
                code = citizen_code(kind[i], state[i])
            occ[pos[i]] = -1
            set_code(codes, cf, pos[i], EMPTY)
            occ[c] = i
            pos[i] = c
            set_code(codes, cf, c, code)


@njit(parallel=True, cache=True)
def sim_steps_nb(w, cf, tb, scratch, seed, t0, nsteps, series):
    """Advance ``nsteps`` steps with simultaneous activation; fill ``series[s]``.

    ``w``: :class:`.state.World`, ``cf``: :class:`.state.Config`, ``tb``:
    :class:`.state.Tables`, ``scratch``: :class:`.state.SimScratch`; ``seed`` a
    ``uint64``, ``t0`` the steps done so far.
    """
    # the arrays, out of their groups once (see .state)
    codes, occ, pos, kind, state, jail, grv, risk = w
    ptab, hw, hwc, tab, tabc = tb
    newst, target, claim = scratch
    v, vc = cf.v, cf.vc
    N = kind.shape[0]
    useed = np.uint64(seed)
    for s in range(nsteps):
        t = t0 + s + 1
        k_move = stream_key_nb(useed, S_MOVE, t)
        k_arrest = stream_key_nb(useed, S_ARREST, t)
        k_jail = stream_key_nb(useed, S_JAIL, t)
        k_kill = stream_key_nb(useed, S_KILL, t)
        k_prio = stream_key_nb(useed, S_PRIO, t)
        # 1. jail terms (each agent writes only its own cell)
        for i in prange(N):
            if kind[i] != KIND_COP and state[i] == JAILED_ST:
                if jail[i] > 0:
                    jail[i] -= 1
                else:
                    state[i] = QUIET
                    set_code(codes, cf, pos[i], 2 * kind[i] + 1)
        # 2. decisions from one snapshot, then applied
        for i in prange(N):
            newst[i] = _decide_one(i, codes, pos, kind, state, grv, risk, ptab, hw, cf)
        for i in prange(N):
            if newst[i] != state[i]:
                state[i] = newst[i]
                set_code(codes, cf, pos[i], 2 * kind[i] + 1 + newst[i])
        # 3. arrests: choices in parallel, resolution in cop-index order
        for i in prange(N):
            if kind[i] == KIND_COP:
                target[i] = _pick_one(i, k_arrest, i, codes, pos, hwc, vc, cf, 1, 0)
            else:
                target[i] = -1
        arrests = _resolve_arrests(target, codes, occ, state, jail, cf, k_jail)
        # 4. killings (Model II): choices in parallel, resolution in killer-index order
        killed_a = 0
        killed_b = 0
        if cf.model2:
            for i in prange(N):
                if kind[i] != KIND_COP and state[i] == ACTIVE:
                    target[i] = _pick_one(i, k_kill, i, codes, pos, hw, v, cf, 2, 3 - kind[i])
                else:
                    target[i] = -1
            killed_a, killed_b = _resolve_killings(target, codes, occ, kind, state, cf)
        # 5. movement: choices in parallel; per target the lowest priority hash wins
        if cf.movement:
            for i in prange(N):
                st = state[i]
                if st == JAILED_ST or st == DEAD:
                    target[i] = -1
                elif kind[i] == KIND_COP:
                    target[i] = _move_target(i, k_move, codes, pos, tabc, hwc, vc, cf)
                else:
                    target[i] = _move_target(i, k_move, codes, pos, tab, hw, v, cf)
            _resolve_moves(target, claim, codes, occ, pos, kind, state, cf, k_prio)
        row = series[s]
        count_series(kind, state, row)
        row[C_KILL_A] = killed_a
        row[C_KILL_B] = killed_b
        row[C_ARREST] = arrests


# --------------------------------------------------------------------------
# the NumPy twin
# --------------------------------------------------------------------------


class _RowIndex:
    """Per-agent row segments of a row-span shape in the flattened padded grid."""

    def __init__(self, pos: np.ndarray, hw: np.ndarray, cf: Config) -> None:
        H, W, pad, Wp = cf.H, cf.W, cf.pad, cf.Wp
        v = (len(hw) - 1) // 2
        y, x = np.divmod(pos.astype(np.int64), W)
        self.y = y
        self.x = x
        b = (y + pad) * Wp + x + pad
        dy = np.arange(-v, v + 1, dtype=np.int64)
        h = hw.astype(np.int64)
        self.start = b[:, None] + dy[None, :] * Wp - h[None, :]  # (n, R)
        self.stop = self.start + 2 * h[None, :] + 1
        self.Wp = Wp
        self.pad = pad
        self.H = H
        self.W = W

    def counts(self, S: np.ndarray) -> np.ndarray:
        """Matches per row, from the exclusive prefix sum ``S`` of an indicator."""
        return S[self.stop] - S[self.start]

    def kth(self, S: np.ndarray, rows: np.ndarray, k: np.ndarray) -> np.ndarray:
        """Real cell of the k-th match (scan order) given per-row counts ``rows``."""
        n = k.shape[0]
        if n == 0:
            return np.zeros(0, dtype=np.int64)
        cum = np.cumsum(rows, axis=1)
        r = np.count_nonzero(cum <= k[:, None], axis=1)
        before = np.where(r > 0, cum[np.arange(n), np.maximum(r - 1, 0)], 0)
        before = np.where(r > 0, before, 0)
        a = self.start[np.arange(n), r]
        want = S[a] + (k - before) + 1
        q = np.searchsorted(S, want, side="left") - 1
        py, px = np.divmod(q, self.Wp)
        return ((py - self.pad) % self.H) * self.W + (px - self.pad) % self.W


def _prefix(ind: np.ndarray) -> np.ndarray:
    S = np.zeros(ind.size + 1, dtype=np.int64)
    np.cumsum(ind, out=S[1:])
    return S


def sim_steps_np(
    w: World, cf: Config, tb: Tables, scratch: SimScratch, seed: int, t0: int, nsteps: int, series: np.ndarray
) -> None:
    """Vectorised NumPy twin of :func:`sim_steps_nb` (same arguments, same results)."""
    codes, occ, pos, kind, state, jail, grv, risk = w
    hw, hwc, tab, tabc = tb.hw, tb.hwc, tb.tab, tb.tabc
    W = int(cf.W)
    H, pad, Wp = int(cf.H), int(cf.pad), int(cf.Wp)
    jmax = int(cf.jmax)
    N = kind.shape[0]
    idx = np.arange(N, dtype=np.int64)
    is_cop = kind == KIND_COP
    cop_idx = idx[is_cop]
    cit_idx = idx[~is_cop]

    def codes_of(ag: np.ndarray) -> np.ndarray:
        return np.where(state[ag] == JAILED_ST, JAILED, 2 * kind[ag] + 1 + state[ag]).astype(np.int8)

    for s in range(nsteps):
        t = t0 + s + 1
        # 1. jail terms
        jailed = cit_idx[state[cit_idx] == JAILED_ST]
        rel = jailed[jail[jailed] == 0]
        dec = jailed[jail[jailed] > 0]
        jail[dec] -= 1
        state[rel] = QUIET
        set_codes_np(codes, cf, pos[rel], codes_of(rel))
        # 2. decisions
        free = cit_idx[(state[cit_idx] == QUIET) | (state[cit_idx] == ACTIVE)]
        if free.size:
            ri = _RowIndex(pos[free], hw, cf)
            ncop = ri.counts(_prefix(codes == COP)).sum(axis=1)
            nact = np.zeros(free.size, dtype=np.int64)
            for g, ca in ((KIND_A, ACTIVE_A), (KIND_B, ACTIVE_B)):
                m = kind[free] == g
                if m.any():
                    nact[m] = ri.counts(_prefix(codes == ca))[m].sum(axis=1)
            nact -= state[free] == ACTIVE
            p = tb.ptab[ncop, nact + 1]
            new = np.where(
                grv[free].astype(np.float64) - risk[free].astype(np.float64) * p > cf.threshold, ACTIVE, QUIET
            ).astype(np.int8)
            ch = free[new != state[free]]
            state[free] = new
            set_codes_np(codes, cf, pos[ch], codes_of(ch))
        # 3. arrests
        arrests = 0
        if cop_idx.size:
            rk = _RowIndex(pos[cop_idx], hwc, cf)
            S = _prefix((codes == ACTIVE_A) | (codes == ACTIVE_B))
            rows = rk.counts(S)
            tot = rows.sum(axis=1)
            has = tot > 0
            if has.any():
                cops = cop_idx[has]
                u = uniforms(stream_key(seed, S_ARREST, t), cops)
                k = (u * tot[has]).astype(np.int64)
                rk2 = _RowIndex(pos[cops], hwc, cf)
                tcell = rk2.kth(S, rows[has], k)
                victims = occ[tcell]
                uv, first = np.unique(victims, return_index=True)
                jail_u = uniforms(stream_key(seed, S_JAIL, t), cops[first])
                state[uv] = JAILED_ST
                jail[uv] = (jail_u * (jmax + 1)).astype(jail.dtype)
                set_codes_np(codes, cf, tcell[first], JAILED)
                arrests = int(uv.size)
        # 4. killings
        killed = [0, 0, 0]
        if cf.model2:
            tgt_all = []
            for g in (KIND_A, KIND_B):
                other = 3 - g
                killers = cit_idx[(state[cit_idx] == ACTIVE) & (kind[cit_idx] == g)]
                if not killers.size:
                    continue
                S = _prefix((codes == 2 * other + 1) | (codes == 2 * other + 2))
                rk = _RowIndex(pos[killers], hw, cf)
                rows = rk.counts(S)
                tot = rows.sum(axis=1)
                has = tot > 0
                if has.any():
                    kl = killers[has]
                    u = uniforms(stream_key(seed, S_KILL, t), kl)
                    k = (u * tot[has]).astype(np.int64)
                    rk2 = _RowIndex(pos[kl], hw, cf)
                    tgt_all.append((kl, rk2.kth(S, rows[has], k)))
            if tgt_all:
                kl = np.concatenate([a for a, _ in tgt_all])
                tc = np.concatenate([b for _, b in tgt_all])
                order = np.argsort(kl, kind="stable")
                tc = tc[order]
                ucell = np.unique(tc)
                vi = occ[ucell]
                for g in (KIND_A, KIND_B):
                    killed[g] = int(np.count_nonzero(kind[vi] == g))
                state[vi] = DEAD
                occ[ucell] = -1
                set_codes_np(codes, cf, ucell, EMPTY)
        # 5. movement
        if cf.movement:
            S = _prefix(codes == EMPTY)
            movers_all, tgts_all = [], []
            for grp_idx, shp, probes in ((cop_idx, hwc, tabc), (cit_idx, hw, tab)):
                mv = grp_idx[(state[grp_idx] == QUIET) | (state[grp_idx] == ACTIVE)]
                if not mv.size:
                    continue
                # uniform probes first (same draws as the kernels) ...
                U = move_draws(seed, t, mv)
                ms = (U[:, :MAXTRY] * probes.shape[1]).astype(np.int64)
                y, x = np.divmod(pos[mv].astype(np.int64), W)
                b = (y + pad) * Wp + x + pad
                hit = codes[b[:, None] + probes[0][ms]] == EMPTY
                found = hit.any(axis=1)
                m = ms[np.arange(mv.size), np.argmax(hit, axis=1)][found]
                movers_all.append(mv[found])
                tgts_all.append(((y[found] + probes[1][m]) % H) * W + (x[found] + probes[2][m]) % W)
                # ... then an exact choice for those whose probes all failed
                rest = ~found
                if rest.any():
                    mr = mv[rest]
                    rk = _RowIndex(pos[mr], shp, cf)
                    rows = rk.counts(S)
                    tot = rows.sum(axis=1)
                    has = tot > 0
                    if has.any():
                        k = (U[rest, RSTRIDE - 1][has] * tot[has]).astype(np.int64)
                        rk2 = _RowIndex(pos[mr[has]], shp, cf)
                        movers_all.append(mr[has])
                        tgts_all.append(rk2.kth(S, rows[has], k))
            if movers_all:
                mv = np.concatenate(movers_all)
                tg = np.concatenate(tgts_all)
                key = hashes(stream_key(seed, S_PRIO, t), mv)
                order = np.lexsort((mv, key, tg))
                tg_s = tg[order]
                first = np.ones(tg_s.size, dtype=bool)
                first[1:] = tg_s[1:] != tg_s[:-1]
                win = mv[order][first]
                to = tg_s[first]
                frm = pos[win].astype(np.int64)
                occ[frm] = -1
                set_codes_np(codes, cf, frm, EMPTY)
                occ[to] = win
                pos[win] = to
                wcodes = np.where(kind[win] == KIND_COP, COP, codes_of(win)).astype(np.int8)
                set_codes_np(codes, cf, to, wcodes)
        row = series[s]
        count_series_np(kind, state, row)
        row[C_KILL_A] = killed[KIND_A]
        row[C_KILL_B] = killed[KIND_B]
        row[C_ARREST] = arrests
