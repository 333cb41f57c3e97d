"""Random sequential activation (Mesa's ``shuffle_do``): the numba kernel and its NumPy twin.

Every step, all agents (cops and citizens) act one after another in a fresh random order,
each seeing the effects of those before it.  A cop arrests a random active in its vision,
then moves; a citizen decides, in Model II kills a random free member of the other group
if active, then moves.

The numba kernel (:func:`seq_steps_nb`) keeps the acceleration structures of :mod:`.accel`
in step with the codes, decides by comparing two integers (:func:`.rules.decision_ranks`),
probes eight movement targets at once and prefetches the agents ahead in the known order.
The NumPy twin (:func:`seq_steps_np`) loops over agents in Python, counts every
neighbourhood and evaluates ``G - R P > T`` as written, which cross-checks the kernel; it
is slow and exists for platforms without numba.  Both give bit-identical results.
"""

from __future__ import annotations

import numpy as np

from ._jit import cttz, empty16, njit, popcnt, prefetch, probe8, u01
from .accel import act_add, count_bb, kth_bb, relocate, set_bb, shape_add
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
    P_ACT_A,
    P_ACT_B,
    P_FREE_A,
    P_FREE_B,
    PF_FAR,
    QUIET,
    RSTRIDE,
    S_ARREST,
    S_JAIL,
    S_KILL,
    S_MOVE,
    S_ORDER,
)
from .draws import move_draws, stream_key, stream_key_nb, uniforms
from .grid import count_series, count_series_np, kth, set_codes_np, wrap1
from .rules import shape_offsets
from .state import Config, SeqAccel, Tables, World

_U1 = np.uint64(1)

# --------------------------------------------------------------------------
# movement: probes, then an exact choice
# --------------------------------------------------------------------------


@njit(inline="always")
def probe_empty(codes, b, tab, key, i):
    """Index into ``tab`` of an empty cell found by uniform probing, or -1."""
    nk = tab.shape[1]
    for j in range(MAXTRY):
        m = int(u01(key, i * RSTRIDE + j) * nk)
        if codes[b + tab[0, m]] == EMPTY:
            return m
    return -1


@njit(inline="always")
def _probe_batch(codes, b, tab, key, i):
    """:func:`probe_empty` with the first eight probes made at once (``probe8``).

    Same draws, same result (the first empty probe wins), but the common
    case has one well-predicted branch instead of a data-dependent loop exit.
    """
    r0 = i * RSTRIDE
    m = probe8(codes, b, tab, key, r0)
    if m >= 0:
        return m
    nk = tab.shape[1]
    for j in range(8, MAXTRY):
        m = int(u01(key, r0 + j) * nk)
        if codes[b + tab[0, m]] == EMPTY:
            return m
    return -1


@njit
def move_exact(codes, b, Wp, hw, v, key, i):
    """Movement fallback after failed probes: (ok, dy, dx) uniform over all empty cells seen."""
    n = 0
    for r in range(2 * v + 1):
        h = hw[r]
        s0 = b + (r - v) * Wp - h
        for q in range(s0, s0 + 2 * h + 1):
            n += codes[q] == EMPTY
    if n == 0:
        return False, 0, 0
    kk = int(u01(key, i * RSTRIDE + RSTRIDE - 1) * n)
    dy, dx = kth(codes, b, Wp, hw, v, kk, 0, 0)
    return True, dy, dx


@njit
def _move_exact16(codes, b, Wp, rmask, v, key, i):
    """:func:`move_exact` for ``v <= 7``: each row of the shape is one 16-byte compare and a popcount."""
    s0 = b - v * Wp - v
    n = np.uint64(0)
    for r in range(2 * v + 1):
        n += popcnt(empty16(codes, s0 + r * Wp) & rmask[r])
    if n == 0:
        return False, 0, 0
    kk = np.uint64(u01(key, i * RSTRIDE + RSTRIDE - 1) * np.int64(n))
    for r in range(2 * v + 1):
        bits = empty16(codes, s0 + r * Wp) & rmask[r]
        c = popcnt(bits)
        if kk < c:
            for _ in range(kk):
                bits &= bits - _U1
            return True, r - v, np.int64(cttz(bits)) - v
        kk -= c
    return False, 0, 0  # unreachable


# --------------------------------------------------------------------------
# the numba kernel
# --------------------------------------------------------------------------


@njit(inline="always")
def _random_order(perm, swap, key, N):
    """Fisher-Yates order of the step in ``perm``: the draws first (a loop that vectorises), then the swaps."""
    for i in range(N):
        perm[i] = i
        swap[i] = int(u01(key, i) * (i + 1))
    for i in range(N - 1, 0, -1):
        j = swap[i]
        tmp = perm[i]
        perm[i] = perm[j]
        perm[j] = tmp


@njit(inline="always")
def _serve_jail_terms(state, jail, perm, swap, skip):
    """Serve the turns that only count down a jail term; list the other turns in order in ``swap``.

    Such a turn (jailed at the start of the step with a term left) touches nothing but
    the agent's own counter, which no one else reads, and no one can change such an
    agent (arrests take actives, killings free members): it commutes with every other
    turn, so all are done here in one pass and left out of the ordered loop.  Returns
    the number of remaining turns.
    """
    N = state.shape[0]
    for i in range(N):
        st = state[i]
        busy = st == DEAD or (st == JAILED_ST and jail[i] > 0)
        if busy and st != DEAD:
            jail[i] -= 1
        skip[i] = busy
    nt = 0
    for n in range(N):  # reuses the draws' buffer
        i = perm[n]
        swap[nt] = i
        nt += 1 - skip[i]
    return nt


@njit(cache=True)
def seq_steps_nb(w, cf, tb, acc, seed, t0, nsteps, series):
    """Advance ``nsteps`` steps with random sequential activation; fill ``series[s]``.

    ``w``: :class:`.state.World`, ``cf``: :class:`.state.Config`, ``tb``:
    :class:`.state.Tables`, ``acc``: :class:`.state.SeqAccel` (kept in step with the
    codes on every write); ``seed`` a ``uint64``, ``t0`` the steps done so far.  A
    citizen's decision is ``rank[S C + A + 1] < thr[i]``, exactly equivalent to
    ``G - R P[C, A + 1] > T``.  ``w.grv``, ``w.risk``, ``tb.ptab`` are not read (they
    are in ``thr`` and ``rank``).
    """
    # the arrays, out of their groups once (see .state)
    codes, occ, pos, kind, state, jail = w.codes, w.occ, w.pos, w.kind, w.state, w.jail
    planes, pm, cnt, cntb, rank, thr = acc.planes, acc.pm, acc.cnt, acc.cntb, acc.rank, acc.thr
    smask, rm, rmc, perm = acc.smask, acc.rm, acc.rmc, acc.perm
    hw, hwc, tab, tabc = tb.hw, tb.hwc, tb.tab, tb.tabc
    H, W, pad, Wp, nw, v, vc, S = cf.H, cf.W, cf.pad, cf.Wp, cf.nw, cf.v, cf.vc, cf.S
    model2 = cf.model2
    same_v = vc == v  # then the cops' shape is the citizens' shape
    N = kind.shape[0]
    useed = np.uint64(seed)
    swap = np.empty(N, dtype=np.int32)
    skip = np.empty(N, dtype=np.int8)
    for s in range(nsteps):
        t = t0 + s + 1
        k_move = stream_key_nb(useed, S_MOVE, t)
        k_arrest = stream_key_nb(useed, S_ARREST, t)
        k_jail = stream_key_nb(useed, S_JAIL, t)
        k_kill = stream_key_nb(useed, S_KILL, t)
        _random_order(perm, swap, stream_key_nb(useed, S_ORDER, t), N)
        nt = _serve_jail_terms(state, jail, perm, swap, skip)
        killed_a = 0
        killed_b = 0
        arrests = 0
        for n in range(nt):
            if n + PF_FAR < nt:  # the random order is known: fetch ahead (a hint, no effect on results)
                i2 = swap[n + PF_FAR]
                prefetch(state, i2)
                prefetch(pos, i2)
                prefetch(thr, i2)
                prefetch(kind, i2)
            i = swap[n]
            st = state[i]
            if st == DEAD:  # killed earlier in this step
                continue
            if st == JAILED_ST and jail[i] > 0:  # arrested earlier in this step (cops are never jailed)
                jail[i] -= 1
                continue
            g = kind[i]
            cell = pos[i]
            y = cell // W
            x = cell - y * W
            b = (y + pad) * Wp + x + pad
            if g == KIND_COP:
                # a cop arrests a random active in its vision, then moves
                if same_v:
                    cc = y * cf.Wc + cf.o + x
                    nact = np.int64(cnt[cc] % S)
                    if model2:
                        nact += cntb[cc] % S
                else:
                    nact = count_bb(planes, nw, y + pad, x + pad, rmc, vc, P_ACT_A, P_ACT_B)
                if nact > 0:
                    kk = int(u01(k_arrest, i) * nact)
                    dy, dx = kth_bb(planes, nw, y + pad, x + pad, rmc, vc, P_ACT_A, P_ACT_B, kk)
                    vy = wrap1(y + dy, H)
                    vx = wrap1(x + dx, W)
                    vi = occ[vy * W + vx]
                    state[vi] = JAILED_ST
                    jail[vi] = int(u01(k_jail, i) * (cf.jmax + 1))
                    set_bb(codes, planes, pm, cf, vy, vx, JAILED)
                    act_add(cnt, cntb, smask, cf, vy, vx, kind[vi], -1)
                    arrests += 1
                if cf.movement:
                    m = _probe_batch(codes, b, tabc, k_move, i)
                    if m >= 0:
                        dy = tabc[1, m]
                        dx = tabc[2, m]
                        ok = True
                    elif vc <= 7:
                        ok, dy, dx = _move_exact16(codes, b, Wp, rmc, vc, k_move, i)
                    else:
                        ok, dy, dx = move_exact(codes, b, Wp, hwc, vc, k_move, i)
                    if ok:
                        ty, tx = relocate(codes, planes, pm, occ, pos, cf, i, y, x, dy, dx, COP)
                        shape_add(cnt, smask, cf, y, x, -S)
                        shape_add(cnt, smask, cf, ty, tx, S)
                        if model2:
                            shape_add(cntb, smask, cf, y, x, -S)
                            shape_add(cntb, smask, cf, ty, tx, S)
                continue
            # a citizen decides, kills if active (Model II), then moves
            cc = y * cf.Wc + cf.o + x
            c = cnt[cc] if g == KIND_A else cntb[cc]  # S C + A: row C, column A + 1 is c + 1
            if rank[c + 1] < thr[i]:
                new = ACTIVE
            else:
                new = QUIET
            code = 2 * g + 1 + new
            if new != st:
                state[i] = new
                set_bb(codes, planes, pm, cf, y, x, code)
            if model2 and new == ACTIVE:
                pv = P_FREE_B if g == KIND_A else P_FREE_A
                nvic = count_bb(planes, nw, y + pad, x + pad, rm, v, pv, pv)
                if nvic > 0:
                    kk = int(u01(k_kill, i) * nvic)
                    dy, dx = kth_bb(planes, nw, y + pad, x + pad, rm, v, pv, pv, kk)
                    vy = wrap1(y + dy, H)
                    vx = wrap1(x + dx, W)
                    vcell = vy * W + vx
                    vi = occ[vcell]
                    if state[vi] == ACTIVE:
                        act_add(cnt, cntb, smask, cf, vy, vx, kind[vi], -1)
                    state[vi] = DEAD
                    occ[vcell] = -1
                    set_bb(codes, planes, pm, cf, vy, vx, EMPTY)
                    if g == KIND_A:
                        killed_b += 1
                    else:
                        killed_a += 1
            ty = y
            tx = x
            if cf.movement:
                m = _probe_batch(codes, b, tab, k_move, i)
                if m >= 0:
                    dy = tab[1, m]
                    dx = tab[2, m]
                    ok = True
                elif v <= 7:
                    ok, dy, dx = _move_exact16(codes, b, Wp, rm, v, k_move, i)
                else:
                    ok, dy, dx = move_exact(codes, b, Wp, hw, v, k_move, i)
                if ok:
                    ty, tx = relocate(codes, planes, pm, occ, pos, cf, i, y, x, dy, dx, code)
            # the agent's own contribution to the active counts, once per turn
            was = st == ACTIVE
            now = new == ACTIVE
            if was and (not now or ty != y or tx != x):
                act_add(cnt, cntb, smask, cf, y, x, g, -1)
            if now and (not was or ty != y or tx != x):
                act_add(cnt, cntb, smask, cf, ty, tx, g, 1)
        row = series[s]
        count_series(kind, state, row)
        row[C_KILL_A] = killed_a
        row[C_KILL_B] = killed_b
        row[C_ARREST] = arrests
    codes[(H + 2 * pad) * Wp :] = 0  # the dummy row is scratch, leave it clean


# --------------------------------------------------------------------------
# the NumPy twin
# --------------------------------------------------------------------------


def _move_target_np(codes, b, y, x, H, W, tab, ms, u_last, off, dy, dx) -> int:
    """Probe ``tab[:, ms]`` for an empty cell, else choose exactly among the empty cells; -1 if none."""
    hit = codes[b + tab[0, ms]] == EMPTY
    if hit.any():
        m = ms[int(np.argmax(hit))]
        return int(((y + tab[1, m]) % H) * W + (x + tab[2, m]) % W)
    emp = np.flatnonzero(codes[b + off] == EMPTY)
    if not emp.size:
        return -1
    j = emp[int(u_last * emp.size)]
    return int(((y + dy[j]) % H) * W + (x + dx[j]) % W)


def move_np(w: World, cf: Config, i: int, cell_from: int, cell_to: int, c: int) -> None:
    """Move agent ``i`` (cell code ``c``) from ``cell_from`` to ``cell_to``."""
    w.occ[cell_from] = -1
    w.occ[cell_to] = i
    w.pos[i] = cell_to
    set_codes_np(w.codes, cf, np.array([cell_from, cell_to]), np.array([EMPTY, c], dtype=np.int8))


def seq_steps_np(
    w: World, cf: Config, tb: Tables, acc: SeqAccel, seed: int, t0: int, nsteps: int, series: np.ndarray
) -> None:
    """NumPy twin of :func:`seq_steps_nb` (same arguments, same results, Python loop over agents).

    Of ``acc`` only ``perm`` is used: the other structures serve the numba kernel only
    (this twin counts every neighbourhood and evaluates ``G - R P > T`` as written).
    """
    codes, occ, pos, kind, state, jail, grv, risk = w
    H, W, pad, Wp = int(cf.H), int(cf.W), int(cf.pad), int(cf.Wp)
    model2 = bool(cf.model2)
    movement = bool(cf.movement)
    jmax = int(cf.jmax)
    ptab, tab, tabc, threshold = tb.ptab, tb.tab, tb.tabc, cf.threshold
    N = kind.shape[0]
    off_c, dy_c, dx_c = shape_offsets(tb.hw, Wp)
    off_k, dy_k, dx_k = shape_offsets(tb.hwc, Wp)
    idx = np.arange(N, dtype=np.int64)
    kind_l = kind.tolist()
    for s in range(nsteps):
        t = t0 + s + 1
        u_order = uniforms(stream_key(seed, S_ORDER, t), idx)
        u_move = move_draws(seed, t, idx)
        m_c = (u_move[:, :MAXTRY] * tab.shape[1]).astype(np.int64)
        m_k = (u_move[:, :MAXTRY] * tabc.shape[1]).astype(np.int64)
        u_last = u_move[:, RSTRIDE - 1].tolist()
        u_arrest = uniforms(stream_key(seed, S_ARREST, t), idx).tolist()
        u_jail = uniforms(stream_key(seed, S_JAIL, t), idx).tolist()
        u_kill = uniforms(stream_key(seed, S_KILL, t), idx).tolist()
        js = (u_order * (idx + 1)).astype(np.int64).tolist()
        pl = list(range(N))
        for i in range(N - 1, 0, -1):
            j = js[i]
            pl[i], pl[j] = pl[j], pl[i]
        acc.perm[:] = pl
        killed = [0, 0, 0]
        arrests = 0
        for i in pl:
            st = int(state[i])
            if st == DEAD:
                continue
            cell = int(pos[i])
            y, x = divmod(cell, W)
            b = (y + pad) * Wp + x + pad
            if kind_l[i] == KIND_COP:
                cells = codes[b + off_k]
                act = np.flatnonzero((cells == ACTIVE_A) | (cells == ACTIVE_B))
                if act.size:
                    j = act[int(u_arrest[i] * act.size)]
                    vcell = ((y + dy_k[j]) % H) * W + (x + dx_k[j]) % W
                    vi = occ[vcell]
                    state[vi] = JAILED_ST
                    jail[vi] = int(u_jail[i] * (jmax + 1))
                    set_codes_np(codes, cf, np.array([vcell]), JAILED)
                    arrests += 1
                if movement:
                    to = _move_target_np(codes, b, y, x, H, W, tabc, m_k[i], u_last[i], off_k, dy_k, dx_k)
                    if to >= 0:
                        move_np(w, cf, i, cell, to, COP)
                continue
            if st == JAILED_ST and jail[i] > 0:
                jail[i] -= 1
                continue
            g = kind_l[i]
            other = 3 - g
            cells = codes[b + off_c]
            ncop = int(np.count_nonzero(cells == COP))
            nact = int(np.count_nonzero(cells == 2 * g + 2))
            if st == ACTIVE:
                nact -= 1
            p = ptab[ncop, nact + 1]
            new = ACTIVE if float(grv[i]) - float(risk[i]) * p > threshold else QUIET
            if new != st:
                state[i] = new
                set_codes_np(codes, cf, np.array([cell]), 2 * g + 1 + new)
            if model2 and new == ACTIVE:
                vic = np.flatnonzero((cells == 2 * other + 1) | (cells == 2 * other + 2))
                if vic.size:
                    j = vic[int(u_kill[i] * vic.size)]
                    vcell = ((y + dy_c[j]) % H) * W + (x + dx_c[j]) % W
                    vi = occ[vcell]
                    state[vi] = DEAD
                    occ[vcell] = -1
                    set_codes_np(codes, cf, np.array([vcell]), EMPTY)
                    killed[other] += 1
            if movement:
                to = _move_target_np(codes, b, y, x, H, W, tab, m_c[i], u_last[i], off_c, dy_c, dx_c)
                if to >= 0:
                    move_np(w, cf, i, cell, to, 2 * g + 1 + new)
        row = series[s]
        count_series_np(kind, state, row)
        row[C_KILL_A] = killed[KIND_A]
        row[C_KILL_B] = killed[KIND_B]
        row[C_ARREST] = arrests
