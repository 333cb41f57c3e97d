"""Kernels of the Epstein civil-violence models: numba fast path and NumPy fallback.

Both back ends implement *the same algorithm* and give bit-identical results
for the same seed, because nothing in them depends on a generator's hidden
state or on the thread count:

* every random number is a counter-based hash (splitmix64) of
  ``(seed, stream, step, agent index)``, computed by the same formula here in
  plain Python integers, in vectorised NumPy ``uint64`` and in numba;
* the arrest probability is read from a table ``P[C, A]`` built once with
  NumPy and shared by both back ends (so no ``exp`` is evaluated in a kernel,
  which could differ by one ulp between libm and NumPy's SIMD ``exp``);
* a choice among the matching cells of a neighbourhood always takes the
  k-th match in the same fixed scan order (rows ``dy`` ascending, then ``dx``
  ascending);
* simultaneous-update conflicts (two cops picking the same active, two movers
  picking the same empty cell) are resolved by fixed rules (lowest cop index;
  lowest priority hash, then lowest index), never by which thread came first.

Grid layout.  Cell codes live in an ``int8`` grid padded by a halo of width
``pad`` (the largest vision) on every side, so that a neighbourhood row is a
contiguous slice and the torus needs no modulo in the hot loop; every write
to a cell also writes its (at most three) halo images.  ``occ`` maps a real
cell to the agent index on it (or -1).

Random sequential activation (Mesa's ``shuffle_do``) is inherently
sequential, so its NumPy fallback loops over agents in Python (with NumPy on
each neighbourhood) and is slow; it exists so that the package works where
numba cannot be installed, and to cross-check the numba kernel, which keeps
incremental neighbourhood counts, integer decision thresholds and bit planes
and uses a few AVX-512-friendly intrinsics (see :func:`seq_steps_nb`); the
fallback evaluates every neighbourhood and the decision formula as written.
The simultaneous update is fully vectorised in NumPy.
"""

from __future__ import annotations

import os

import numpy as np

from .. import rng as _rng

# --------------------------------------------------------------------------
# optional numba
# --------------------------------------------------------------------------


def _numba_disabled() -> bool:
    return os.environ.get("SHATTERBELT_NO_NUMBA", "").strip().lower() not in ("", "0", "false", "no")


try:  # pragma: no cover - exercised in both configurations by the tests
    if _numba_disabled():
        raise ImportError("disabled by SHATTERBELT_NO_NUMBA")
    import numba
    from numba import njit, prange
    from numba.core import types as _nbt
    from numba.extending import intrinsic

    @intrinsic
    def _popcnt(typingctx, x):
        """Population count of a uint64 (one machine instruction)."""
        sig = _nbt.uint64(_nbt.uint64)

        def codegen(context, builder, signature, args):
            return builder.ctpop(args[0])

        return sig, codegen

    @intrinsic
    def _cttz(typingctx, x):
        """Trailing zeros of a uint64 (64 for zero)."""
        sig = _nbt.uint64(_nbt.uint64)

        def codegen(context, builder, signature, args):
            return builder.cttz(args[0], context.get_constant(_nbt.boolean, False))

        return sig, codegen

    from llvmlite import ir as _ir

    _I32 = _ir.IntType(32)
    _V16 = _ir.VectorType(_I32, 16)

    @intrinsic
    def _masked_add16(typingctx, arr, base, masks, moff, d):
        """``arr[base + k] += masks[moff + k] & d`` for ``k < 16``: one 16-lane int32 vector op.

        ``arr`` and ``masks`` are C-contiguous int32 arrays (masks 0 or -1),
        both slices in bounds.  (Numba leaves LLVM's SLP vectoriser off, so
        the obvious 16-iteration loop stays scalar.)
        """
        sig = _nbt.void(arr, base, masks, moff, d)

        def codegen(context, builder, signature, args):
            ary = context.make_array(signature.args[0])(context, builder, args[0])
            mks = context.make_array(signature.args[2])(context, builder, args[2])
            b = context.cast(builder, args[1], signature.args[1], _nbt.intp)
            mo = context.cast(builder, args[3], signature.args[3], _nbt.intp)
            vptr = builder.bitcast(builder.gep(ary.data, [b]), _V16.as_pointer())
            mptr = builder.bitcast(builder.gep(mks.data, [mo]), _V16.as_pointer())
            dd = builder.trunc(context.cast(builder, args[4], signature.args[4], _nbt.int64), _I32)
            dv = builder.insert_element(_ir.Constant(_V16, _ir.Undefined), dd, _ir.Constant(_I32, 0))
            dv = builder.shuffle_vector(dv, _ir.Constant(_V16, _ir.Undefined), _ir.Constant(_V16, [0] * 16))
            add = builder.and_(builder.load(mptr, align=4), dv)
            builder.store(builder.add(builder.load(vptr, align=4), add), vptr, align=4)
            return context.get_dummy_value()

        return sig, codegen

    _I64 = _ir.IntType(64)
    _V8I64 = _ir.VectorType(_I64, 8)
    _V8F64 = _ir.VectorType(_ir.DoubleType(), 8)

    def _splat8(builder, x, vty):
        x = builder.insert_element(_ir.Constant(vty, _ir.Undefined), x, _ir.Constant(_I32, 0))
        return builder.shuffle_vector(
            x, _ir.Constant(vty, _ir.Undefined), _ir.Constant(_ir.VectorType(_I32, 8), [0] * 8)
        )

    @intrinsic
    def _probe8(typingctx, codes, b, tab, key, r0):
        """``m_j`` of the first of eight probes that lands on an empty cell, or -1.

        Probe ``j`` is ``codes[b + tab[0, m_j]]`` with ``m_j = int(u01(key, r0 + j) * nk)``,
        exactly as in :func:`_probe_empty`: the eight splitmix64 hashes and
        their conversions run as 8-lane vector operations (the same IEEE
        operations, so the same ``m_j``), the sixteen loads stay scalar
        (gathers are slower here).  ``codes`` int8, ``tab`` C-contiguous int64.
        """
        sig = _nbt.int64(codes, b, tab, key, r0)

        def codegen(context, builder, signature, args):
            cod = context.make_array(signature.args[0])(context, builder, args[0])
            tb = context.make_array(signature.args[2])(context, builder, args[2])
            bb = context.cast(builder, args[1], signature.args[1], _nbt.int64)
            key_ = context.cast(builder, args[3], signature.args[3], _nbt.uint64)
            r0_ = context.cast(builder, args[4], signature.args[4], _nbt.int64)
            nk = builder.extract_value(tb.shape, 1)

            def k(c):
                return _ir.Constant(_V8I64, [c] * 8)

            z = builder.add(
                _splat8(builder, builder.add(r0_, _ir.Constant(_I64, 1)), _V8I64),
                _ir.Constant(_V8I64, list(range(8))),
            )
            z = builder.add(builder.mul(z, k(_GOLDEN)), _splat8(builder, key_, _V8I64))
            z = builder.mul(builder.xor(z, builder.lshr(z, k(30))), k(_C1))
            z = builder.mul(builder.xor(z, builder.lshr(z, k(27))), k(_C2))
            z = builder.xor(z, builder.lshr(z, k(31)))
            u = builder.fmul(
                builder.uitofp(builder.lshr(z, k(11)), _V8F64), _ir.Constant(_V8F64, [_INV53] * 8)
            )
            m = builder.fptosi(
                builder.fmul(u, _splat8(builder, builder.sitofp(nk, _ir.DoubleType()), _V8F64)), _V8I64
            )
            hit = _ir.Constant(_I64, 0)
            for j in range(8):
                off = builder.load(builder.gep(tb.data, [builder.extract_element(m, _ir.Constant(_I32, j))]))
                c = builder.load(builder.gep(cod.data, [builder.add(bb, off)]))
                e = builder.zext(builder.icmp_signed("==", c, _ir.Constant(c.type, EMPTY)), _I64)
                hit = builder.or_(hit, builder.shl(e, _ir.Constant(_I64, j)))
            first = builder.trunc(builder.cttz(hit, _ir.Constant(_ir.IntType(1), 0)), _I32)
            mj = builder.extract_element(m, builder.and_(first, _ir.Constant(_I32, 7)))
            none = builder.icmp_unsigned("==", hit, _ir.Constant(_I64, 0))
            return builder.select(none, _ir.Constant(_I64, -1), mj)

        return sig, codegen

    @intrinsic
    def _empty16(typingctx, codes, s):
        """Bit ``k`` set when ``codes[s + k] == EMPTY``, for ``k < 16`` (one 16-byte compare)."""
        sig = _nbt.uint64(codes, s)

        def codegen(context, builder, signature, args):
            ary = context.make_array(signature.args[0])(context, builder, args[0])
            i = context.cast(builder, args[1], signature.args[1], _nbt.intp)
            v16 = _ir.VectorType(_ir.IntType(8), 16)
            vptr = builder.bitcast(builder.gep(ary.data, [i]), v16.as_pointer())
            eq = builder.icmp_signed("==", builder.load(vptr, align=1), _ir.Constant(v16, [EMPTY] * 16))
            return builder.zext(builder.bitcast(eq, _ir.IntType(16)), _ir.IntType(64))

        return sig, codegen

    @intrinsic
    def _prefetch(typingctx, arr, idx):
        """Hint the cache to fetch ``arr[idx]`` (no effect on results; ``idx`` need not be in bounds)."""
        sig = _nbt.void(arr, idx)

        def codegen(context, builder, signature, args):
            ary = context.make_array(signature.args[0])(context, builder, args[0])
            i = context.cast(builder, args[1], signature.args[1], _nbt.intp)
            ptr = builder.bitcast(builder.gep(ary.data, [i]), _ir.IntType(8).as_pointer())
            fnty = _ir.FunctionType(_ir.VoidType(), [ptr.type, _I32, _I32, _I32])
            fn = builder.module.declare_intrinsic("llvm.prefetch", [ptr.type], fnty)
            builder.call(fn, [ptr, _ir.Constant(_I32, 0), _ir.Constant(_I32, 3), _ir.Constant(_I32, 1)])
            return context.get_dummy_value()

        return sig, codegen

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover
    numba = None
    HAVE_NUMBA = False
    prange = range

    def njit(*args, **kwargs):  # type: ignore[no-redef]
        """Identity decorator used when numba is absent."""
        if len(args) == 1 and callable(args[0]) and not kwargs:
            return args[0]
        return lambda f: f

    def _popcnt(x):  # type: ignore[no-redef]
        return np.uint64(bin(int(x)).count("1"))

    def _cttz(x):  # type: ignore[no-redef]
        x = int(x)
        return np.uint64(64 if x == 0 else (x & -x).bit_length() - 1)

    def _probe8(codes, b, tab, key, r0):  # type: ignore[no-redef]
        nk = tab.shape[1]
        for j in range(8):
            m = int(_u01_nb(key, r0 + j) * nk)
            if codes[b + tab[0, m]] == EMPTY:
                return m
        return -1

    def _prefetch(arr, idx):  # type: ignore[no-redef]
        pass

    def _masked_add16(arr, base, masks, moff, d):  # type: ignore[no-redef]
        arr[base : base + 16] += masks[moff : moff + 16] & d

    def _empty16(codes, s):  # type: ignore[no-redef]
        return np.uint64(sum(1 << k for k in range(16) if codes[s + k] == EMPTY))


# --------------------------------------------------------------------------
# codes
# --------------------------------------------------------------------------

# cell codes (int8)
EMPTY = 0
COP = 1
JAILED = 2
QUIET_A = 3
ACTIVE_A = 4
QUIET_B = 5
ACTIVE_B = 6

# agent kinds (int8)
KIND_COP = 0
KIND_A = 1
KIND_B = 2

# citizen states (int8); cops stay QUIET
QUIET = 0
ACTIVE = 1
JAILED_ST = 2
DEAD = 3

# random streams
S_PLACE = 1
S_GROUP = 2
S_HARD = 3
S_RISK = 4
S_ORDER = 5
S_MOVE = 6
S_ARREST = 7
S_JAIL = 8
S_KILL = 9
S_PRIO = 10

# integer parameter vector layout (ip)
IP_H, IP_W, IP_PAD, IP_WP, IP_MODEL2, IP_MOVE, IP_JMAX, IP_V, IP_VC, IP_N, IP_NW = range(11)
N_IP = 11

# movement: up to MAXTRY uniform probes of the neighbourhood for an empty cell
# (rejection sampling: exactly uniform over the empty cells), then an exact
# count-and-choose.  Draw j of agent i uses index i * RSTRIDE + j; the
# fallback uses j = RSTRIDE - 1.
MAXTRY = 12
RSTRIDE = 16

# software prefetch distance (agents ahead in the random order) of the sequential kernel
PF_FAR = 32

# bit planes of the numba sequential kernel (one bit per padded cell, NPL
# planes interleaved word by word so that the planes of a row segment are
# adjacent in memory).  Which codes belong to which plane depends on the model
# (Model I needs only actives, for the cops' choice of whom to arrest), so
# that most writes (a quiet citizen or a cop moving) toggle no plane at all.
NPL = 4
P_ACT_A, P_ACT_B, P_FREE_A, P_FREE_B = range(NPL)
PM_MODEL1 = np.array([0, 0, 0, 0, 1 << P_ACT_A, 0, 0], dtype=np.int64)
PM_MODEL2 = np.array(
    [
        0,  # EMPTY
        0,  # COP
        0,  # JAILED
        1 << P_FREE_A,  # QUIET_A
        (1 << P_ACT_A) | (1 << P_FREE_A),  # ACTIVE_A
        1 << P_FREE_B,  # QUIET_B
        (1 << P_ACT_B) | (1 << P_FREE_B),  # ACTIVE_B
    ],
    dtype=np.int64,
)

# neighbourhood counts of the numba sequential kernel: one int32 per real
# cell, S x (cops seen from it) + (actives of a group seen from it), where
# S = n_cells + 2 is the row stride of the decision-rank table, so that a
# count is directly the flat index of the table's row C, column A (see
# seq_steps_nb)
_MASKS = np.array([(1 << n) - 1 for n in range(64)], dtype=np.uint64)

# per-step series columns
SERIES_COLUMNS = (
    "quiet",
    "active",
    "jailed",
    "dead",
    "active_a",
    "active_b",
    "alive_a",
    "alive_b",
    "killed_a",
    "killed_b",
    "arrests",
)
C_QUIET, C_ACTIVE, C_JAILED, C_DEAD, C_ACT_A, C_ACT_B, C_ALIVE_A, C_ALIVE_B, C_KILL_A, C_KILL_B, C_ARREST = (
    range(11)
)
N_COLS = len(SERIES_COLUMNS)

# --------------------------------------------------------------------------
# counter-based random numbers: three identical implementations
# --------------------------------------------------------------------------

# the splitmix64 constants and vectorised hashes are the engine's (shatterbelt.rng), so the
# reference models and the engine draw their numbers the same way
_M64, _GOLDEN, _C1, _C2, _INV53 = _rng._M64, _rng.GOLDEN, _rng._C1, _rng._C2, _rng._INV53
mix_py = _rng._mix
uniforms_np = _rng.uniforms
hashes_np = _rng.hashes


def base_py(seed: int, stream: int, step: int) -> int:
    """Key of ``(seed, stream, step)``; the per-agent draw hashes the agent index into it."""
    return mix_py(mix_py(mix_py(int(seed) + _GOLDEN) ^ (stream * _GOLDEN)) + (step + 1) * _GOLDEN)


_U_GOLDEN = np.uint64(_GOLDEN)
_U_C1 = np.uint64(_C1)
_U_C2 = np.uint64(_C2)
_U1 = np.uint64(1)
_U11 = np.uint64(11)
_U27 = np.uint64(27)
_U30 = np.uint64(30)
_U31 = np.uint64(31)


@njit(inline="always")
def _mix_nb(z):
    z = (z ^ (z >> _U30)) * _U_C1
    z = (z ^ (z >> _U27)) * _U_C2
    return z ^ (z >> _U31)


@njit(inline="always")
def _base_nb(seed, stream, step):
    return _mix_nb(
        (_mix_nb(_mix_nb(seed + _U_GOLDEN) ^ (np.uint64(stream) * _U_GOLDEN)))
        + (np.uint64(step) + _U1) * _U_GOLDEN
    )


@njit(inline="always")
def _hash_nb(key, i):
    return _mix_nb((np.uint64(i) + _U1) * _U_GOLDEN + key)


@njit(inline="always")
def _u01_nb(key, i):
    return np.float64(_hash_nb(key, i) >> _U11) * _INV53


# --------------------------------------------------------------------------
# grid helpers (numba; also valid Python)
# --------------------------------------------------------------------------


@njit(inline="always")
def _set_code(codes, H, W, pad, Wp, cell, c):
    """Write code ``c`` at real ``cell`` and at its halo images."""
    y = cell // W
    x = cell - y * W
    py = y + pad
    px = x + pad
    codes[py * Wp + px] = c
    py2 = -1
    if y < pad:
        py2 = py + H
    elif y >= H - pad:
        py2 = py - H
    px2 = -1
    if x < pad:
        px2 = px + W
    elif x >= W - pad:
        px2 = px - W
    if py2 >= 0:
        codes[py2 * Wp + px] = c
    if px2 >= 0:
        codes[py * Wp + px2] = c
        if py2 >= 0:
            codes[py2 * Wp + px2] = c


@njit(inline="always")
def _match(c, mode, g):
    """Predicate of a k-th search: 0 empty, 1 any active, 2 free member of group g."""
    if mode == 0:
        return c == EMPTY
    if mode == 1:
        return c == ACTIVE_A or c == ACTIVE_B
    return c == 1 + 2 * g or c == 2 + 2 * g


@njit
def _kth(codes, b, Wp, hw, v, k, mode, g):
    """Offset (dy, dx) of the k-th (0-based) cell matching ``mode`` in scan order."""
    for r in range(2 * v + 1):
        dy = r - v
        h = hw[r]
        s = b + dy * Wp - h
        cnt = 0
        for q in range(s, s + 2 * h + 1):
            cnt += _match(codes[q], mode, g)
        if k < cnt:
            for q in range(s, s + 2 * h + 1):
                if _match(codes[q], mode, g):
                    if k == 0:
                        return dy, q - (b + dy * Wp)
                    k -= 1
        k -= cnt
    return 0, 0  # unreachable when k < total matches


@njit(inline="always")
def _wrap_cell(y, x, dy, dx, H, W):
    yy = y + dy
    if yy < 0:
        yy += H
    elif yy >= H:
        yy -= H
    xx = x + dx
    if xx < 0:
        xx += W
    elif xx >= W:
        xx -= W
    return yy * W + xx


@njit(inline="always")
def _move(codes, occ, pos, H, W, pad, Wp, i, cell_from, cell_to, c):
    occ[cell_from] = -1
    _set_code(codes, H, W, pad, Wp, cell_from, EMPTY)
    occ[cell_to] = i
    pos[i] = cell_to
    _set_code(codes, H, W, pad, Wp, cell_to, c)


@njit(inline="always")
def _citizen_code(kind, st):
    if st == JAILED_ST:
        return JAILED
    return 2 * kind + 1 + st  # kind 1: 3/4, kind 2: 5/6


@njit
def _count_series(kind, state, row):
    q = 0
    a = 0
    j = 0
    d = 0
    aa = 0
    ab = 0
    la = 0
    lb = 0
    for i in range(kind.shape[0]):
        k = kind[i]
        if k == KIND_COP:
            continue
        s = state[i]
        if s == QUIET:
            q += 1
        elif s == ACTIVE:
            a += 1
            if k == KIND_A:
                aa += 1
            else:
                ab += 1
        elif s == JAILED_ST:
            j += 1
        else:
            d += 1
        if s != DEAD:
            if k == KIND_A:
                la += 1
            else:
                lb += 1
    row[C_QUIET] = q
    row[C_ACTIVE] = a
    row[C_JAILED] = j
    row[C_DEAD] = d
    row[C_ACT_A] = aa
    row[C_ACT_B] = ab
    row[C_ALIVE_A] = la
    row[C_ALIVE_B] = lb


# --------------------------------------------------------------------------
# numba kernel: random sequential activation (Mesa's shuffle_do)
# --------------------------------------------------------------------------


@njit(inline="always")
def _set_bb(codes, planes, pm, H, W, pad, Wp, nw, y, x, c):
    """Write code ``c`` at real cell (y, x) and its halo images, and keep the bit planes in step.

    Branch-free: the (up to three) halo images are always written, missing
    ones to a dummy row ``H + 2 pad`` that no read ever touches.
    """
    q = (y + pad) * Wp + x + pad
    _set_bb_d(codes, planes, H, W, pad, Wp, nw, y, x, c, pm[codes[q]] ^ pm[c])


@njit(inline="always")
def _set_bb_d(codes, planes, H, W, pad, Wp, nw, y, x, c, diff):
    """:func:`_set_bb` given ``diff``, the planes whose bit changes (``pm[old] ^ pm[c]``)."""
    py = y + pad
    px = x + pad
    dr = H + 2 * pad
    py2 = py + H if y < pad else (py - H if y >= H - pad else dr)
    hx = (x < pad) | (x >= W - pad)
    px2 = px + W if x < pad else (px - W if x >= W - pad else px)
    rx = py if hx else dr
    rxy = py2 if hx else dr
    codes[py * Wp + px] = c
    codes[py2 * Wp + px] = c
    codes[rx * Wp + px2] = c
    codes[rxy * Wp + px2] = c
    if diff:
        w1 = px >> 6
        w2 = px2 >> 6
        b1 = _U1 << np.uint64(px & 63)
        b2 = _U1 << np.uint64(px2 & 63)
        i1 = (py * nw + w1) * NPL
        i2 = (py2 * nw + w1) * NPL
        i3 = (rx * nw + w2) * NPL
        i4 = (rxy * nw + w2) * NPL
        while diff:
            p = np.int64(_cttz(np.uint64(diff)))
            planes[i1 + p] ^= b1
            planes[i2 + p] ^= b1
            planes[i3 + p] ^= b2
            planes[i4 + p] ^= b2
            diff &= diff - 1


@njit(inline="always")
def _window(planes, i0, off, sh, p1, p2):
    """Bits of planes ``p1 | p2`` of one padded row, from the window's first column on."""
    lo = (planes[i0 + p1] | planes[i0 + p2]) >> off
    hi = ((planes[i0 + NPL + p1] | planes[i0 + NPL + p2]) << _U1) << sh
    return lo | hi


@njit(inline="always")
def _count_bb(planes, nw, py, px, rmask, v, p1, p2):
    """Set bits of planes ``p1 | p2`` in the neighbourhood (``rmask``: per-row shape masks)."""
    a = px - v
    off = np.uint64(a & 63)
    sh = np.uint64(63) - off
    i0 = ((py - v) * nw + (a >> 6)) * NPL
    step = nw * NPL
    n = 0
    for r in range(2 * v + 1):
        n += _popcnt(_window(planes, i0, off, sh, p1, p2) & rmask[r])
        i0 += step
    return np.int64(n)


@njit
def _kth_bb(planes, nw, py, px, rmask, v, p1, p2, k):
    """(dy, dx) of the k-th set bit of planes ``p1 | p2`` in the neighbourhood, in scan order."""
    a = px - v
    off = np.uint64(a & 63)
    sh = np.uint64(63) - off
    i0 = ((py - v) * nw + (a >> 6)) * NPL
    step = nw * NPL
    for r in range(2 * v + 1):
        bits = _window(planes, i0, off, sh, p1, p2) & rmask[r]
        n = np.int64(_popcnt(bits))
        if k < n:
            for _ in range(k):
                bits &= bits - _U1
            return r - v, np.int64(_cttz(bits)) - v
        k -= n
        i0 += step
    return 0, 0


def row_masks(hw: np.ndarray) -> np.ndarray:
    """Per-row bit masks of a row-span shape within its (2v+1)-wide window."""
    v = (len(hw) - 1) // 2
    return np.array([((1 << (2 * int(h) + 1)) - 1) << (v - int(h)) for h in hw], dtype=np.uint64)


@njit(inline="always")
def _probe_empty(codes, b, tab, key, i):
    """Index into ``tab`` of an empty cell found by uniform probing, or -1."""
    nk = tab.shape[1]
    for j in range(MAXTRY):
        m = int(_u01_nb(key, i * RSTRIDE + j) * nk)
        if codes[b + tab[0, m]] == EMPTY:
            return m
    return -1


@njit(inline="always")
def _probe_batch(codes, b, tab, key, i):
    """:func:`_probe_empty` with the first eight probes made at once (:func:`_probe8`).

    Same draws, same result (the first empty probe wins), but the common
    case has one well-predicted branch instead of a data-dependent loop exit.
    """
    r0 = i * RSTRIDE
    m = _probe8(codes, b, tab, key, r0)
    if m >= 0:
        return m
    nk = tab.shape[1]
    for j in range(8, MAXTRY):
        m = int(_u01_nb(key, r0 + j) * nk)
        if codes[b + tab[0, m]] == EMPTY:
            return m
    return -1


@njit
def _move_exact(codes, b, Wp, hw, v, key, i):
    """Movement fallback after failed probes: (ok, dy, dx) uniform over all empty cells seen."""
    n = 0
    for r in range(2 * v + 1):
        h = hw[r]
        s0 = b + (r - v) * Wp - h
        for q in range(s0, s0 + 2 * h + 1):
            n += codes[q] == EMPTY
    if n == 0:
        return False, 0, 0
    kk = int(_u01_nb(key, i * RSTRIDE + RSTRIDE - 1) * n)
    dy, dx = _kth(codes, b, Wp, hw, v, kk, 0, 0)
    return True, dy, dx


@njit
def _move_exact16(codes, b, Wp, rmask, v, key, i):
    """:func:`_move_exact` for ``v <= 7``: each row of the shape is one 16-byte compare and a popcount."""
    s0 = b - v * Wp - v
    n = np.uint64(0)
    for r in range(2 * v + 1):
        n += _popcnt(_empty16(codes, s0 + r * Wp) & rmask[r])
    if n == 0:
        return False, 0, 0
    kk = np.uint64(_u01_nb(key, i * RSTRIDE + RSTRIDE - 1) * np.int64(n))
    for r in range(2 * v + 1):
        bits = _empty16(codes, s0 + r * Wp) & rmask[r]
        c = _popcnt(bits)
        if kk < c:
            for _ in range(kk):
                bits &= bits - _U1
            return True, r - v, np.int64(_cttz(bits)) - v
        kk -= c
    return False, 0, 0  # unreachable


@njit(inline="always")
def _relocate(codes, planes, pm, occ, pos, H, W, pad, Wp, nw, i, y, x, dy, dx, code):
    ty = _wrap1(y + dy, H)
    tx = _wrap1(x + dx, W)
    occ[y * W + x] = -1
    diff = pm[code]  # pm[EMPTY] == 0
    _set_bb_d(codes, planes, H, W, pad, Wp, nw, y, x, EMPTY, diff)
    to = ty * W + tx
    occ[to] = i
    pos[i] = to
    _set_bb_d(codes, planes, H, W, pad, Wp, nw, ty, tx, code, diff)
    return ty, tx


@njit(inline="always")
def _wrap1(z, n):
    if z < 0:
        return z + n
    if z >= n:
        return z - n
    return z


def cnt_layout(W: int, pad: int, v: int) -> tuple[int, int, int]:
    """``(o, L, Wc)``: column offset, lanes per row update and row stride of the count grid.

    Real cell (y, x) is at ``y * Wc + o + x``.  A shape's row is added as
    ``L`` (a multiple of 16) lanes from column ``o + x - v``; lanes outside the
    row span add zero, and the spans of a source within ``v`` of the left or
    right edge are added a second time shifted by ``W`` (their wrapped image).
    Columns outside ``[o, o + W)`` are scratch that no read touches.
    """
    lanes = 16 * ((2 * v + 1 + 15) // 16)
    o = 2 * pad
    return o, lanes, o + W + lanes


@njit(inline="always")
def _shape_add(cnt, H, W, Wc, o, lanes, y, x, smask, v, d):
    """Add ``d`` to ``cnt`` at every real cell of the shape centred at (y, x), the centre excluded.

    ``cnt[c]`` then counts the sources whose shape contains ``c`` (all shapes
    are symmetric), i.e. what an agent on ``c`` sees; see :func:`cnt_layout`.
    ``smask`` holds the shape's rows as lanes of -1 (inside) or 0, ``lanes``
    per row, the centre 0.  ``W, H >= 2v + 1``, so a wrapped row span never
    covers a cell twice.
    """
    c0 = o + x - v
    img = 0
    if x < v:
        img = W
    elif x >= W - v:
        img = -W
    mo = 0
    for r in range(2 * v + 1):
        base = _wrap1(y + r - v, H) * Wc + c0
        for c in range(0, lanes, 16):
            _masked_add16(cnt, base + c, smask, mo + c, d)
            if img != 0:
                _masked_add16(cnt, base + img + c, smask, mo + c, d)
        mo += lanes


@njit(inline="always")
def _act_add(cnt, cntb, H, W, Wc, o, lanes, y, x, smask, v, g, d):
    """Add ``d`` actives of group ``g`` seen from the shape around (y, x)."""
    if g == KIND_A:
        _shape_add(cnt, H, W, Wc, o, lanes, y, x, smask, v, d)
    else:
        _shape_add(cntb, H, W, Wc, o, lanes, y, x, smask, v, d)


@njit(cache=True)
def seq_steps_nb(
    codes,
    planes,
    pm,
    cnt,
    cntb,
    rank,
    thr,
    occ,
    pos,
    kind,
    state,
    jail,
    grv,
    risk,
    ptab,
    hw,
    hwc,
    tab,
    tabc,
    ip,
    threshold,
    seed,
    t0,
    nsteps,
    series,
    perm,
):
    """Advance ``nsteps`` steps with random sequential activation; fill ``series[s]``.

    Incremental state kept in step with the ``int8`` codes on every write:

    * ``cnt[c] = S C + A``: cops ``C`` and group-A actives ``A`` within
      citizen vision of real cell ``c`` (``S = ptab.shape[1]``), ``cntb[c]``
      the same with group-B actives (Model II) -- updated over one shape
      (O(v^2), 16-lane vector adds) when a cop or an active moves, is
      jailed, killed, or changes state, so that a citizen's decision reads
      one word;
    * the decision itself is ``rank[S C + A + 1] < thr[i]`` (``rank`` is the
      flattened table of :func:`decision_ranks`), exactly equivalent to
      ``G - R P[C, A + 1] > T``;
    * bit planes of actives (and, in Model II, free members of each group),
      for the arrests' and killings' k-th-match choices.

    ``grv``, ``risk`` and ``threshold`` are not read (they are in ``thr`` and
    ``rank``; of ``ptab`` only the shape is used); they are arguments so
    that the NumPy twin has the same signature.
    """
    H = ip[IP_H]
    W = ip[IP_W]
    pad = ip[IP_PAD]
    Wp = ip[IP_WP]
    nw = ip[IP_NW]
    model2 = ip[IP_MODEL2] != 0
    movement = ip[IP_MOVE] != 0
    jmax = ip[IP_JMAX]
    v = ip[IP_V]
    vc = ip[IP_VC]
    same_v = vc == v  # then the cops' shape is the citizens' shape
    S = ptab.shape[1]  # row stride of the (flattened) rank table and unit of cops in the counts
    lanes = 16 * ((2 * v + 1 + 15) // 16)  # as cnt_layout
    o = 2 * pad
    Wc = o + W + lanes
    smask = np.zeros((2 * v + 1) * lanes, dtype=np.int32)  # the shape's rows as lane masks
    for r in range(2 * v + 1):
        for k in range(v - hw[r], v + hw[r] + 1):
            if r != v or k != v:
                smask[r * lanes + k] = -1
    N = kind.shape[0]
    useed = np.uint64(seed)
    Hp = H + 2 * pad
    rmc = np.zeros(2 * vc + 1, dtype=np.uint64)
    for r in range(2 * vc + 1):
        rmc[r] = _MASKS[2 * hwc[r] + 1] << np.uint64(vc - hwc[r])
    rm = np.zeros(2 * v + 1, dtype=np.uint64)
    for r in range(2 * v + 1):
        rm[r] = _MASKS[2 * hw[r] + 1] << np.uint64(v - hw[r])
    swap = np.empty(N, dtype=np.int32)
    skip = np.empty(N, dtype=np.int8)
    for s in range(nsteps):
        t = t0 + s + 1
        k_order = _base_nb(useed, S_ORDER, t)
        k_move = _base_nb(useed, S_MOVE, t)
        k_arrest = _base_nb(useed, S_ARREST, t)
        k_jail = _base_nb(useed, S_JAIL, t)
        k_kill = _base_nb(useed, S_KILL, t)
        for i in range(N):  # the draws first (a loop that vectorises), then the swaps
            perm[i] = i
            swap[i] = int(_u01_nb(k_order, i) * (i + 1))
        for i in range(N - 1, 0, -1):
            j = swap[i]
            tmp = perm[i]
            perm[i] = perm[j]
            perm[j] = tmp
        # Turns that only serve a jail term (jailed at the start of the step with
        # a term left) touch nothing but the agent's own counter, which no one
        # else reads, and no one can change such an agent (arrests take
        # actives, killings free members): they commute with every other turn,
        # so they are done here in one pass and left out of the ordered loop.
        for i in range(N):
            st = state[i]
            busy = st == DEAD or (st == JAILED_ST and jail[i] > 0)
            if busy and st != DEAD:
                jail[i] -= 1
            skip[i] = busy
        nt = 0
        for n in range(N):  # the remaining turns, in the random order (reuses the draws' buffer)
            i = perm[n]
            swap[nt] = i
            nt += 1 - skip[i]
        killed_a = 0
        killed_b = 0
        arrests = 0
        for n in range(nt):
            if n + PF_FAR < nt:  # the random order is known: fetch ahead (a hint, no effect on results)
                i2 = swap[n + PF_FAR]
                _prefetch(state, i2)
                _prefetch(pos, i2)
                _prefetch(thr, i2)
                _prefetch(kind, i2)
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
                if same_v:
                    cc = y * Wc + o + x
                    nact = np.int64(cnt[cc] % S)
                    if model2:
                        nact += cntb[cc] % S
                else:
                    nact = _count_bb(planes, nw, y + pad, x + pad, rmc, vc, P_ACT_A, P_ACT_B)
                if nact > 0:
                    kk = int(_u01_nb(k_arrest, i) * nact)
                    dy, dx = _kth_bb(planes, nw, y + pad, x + pad, rmc, vc, P_ACT_A, P_ACT_B, kk)
                    vy = _wrap1(y + dy, H)
                    vx = _wrap1(x + dx, W)
                    vi = occ[vy * W + vx]
                    state[vi] = JAILED_ST
                    jail[vi] = int(_u01_nb(k_jail, i) * (jmax + 1))
                    _set_bb(codes, planes, pm, H, W, pad, Wp, nw, vy, vx, JAILED)
                    _act_add(cnt, cntb, H, W, Wc, o, lanes, vy, vx, smask, v, kind[vi], -1)
                    arrests += 1
                if movement:
                    m = _probe_batch(codes, b, tabc, k_move, i)
                    if m >= 0:
                        dy = tabc[1, m]
                        dx = tabc[2, m]
                        ok = True
                    elif vc <= 7:
                        ok, dy, dx = _move_exact16(codes, b, Wp, rmc, vc, k_move, i)
                    else:
                        ok, dy, dx = _move_exact(codes, b, Wp, hwc, vc, k_move, i)
                    if ok:
                        ty, tx = _relocate(
                            codes, planes, pm, occ, pos, H, W, pad, Wp, nw, i, y, x, dy, dx, COP
                        )
                        _shape_add(cnt, H, W, Wc, o, lanes, y, x, smask, v, -S)
                        _shape_add(cnt, H, W, Wc, o, lanes, ty, tx, smask, v, S)
                        if model2:
                            _shape_add(cntb, H, W, Wc, o, lanes, y, x, smask, v, -S)
                            _shape_add(cntb, H, W, Wc, o, lanes, ty, tx, smask, v, S)
            else:
                cc = y * Wc + o + x
                c = cnt[cc] if g == KIND_A else cntb[cc]  # S C + A: row C, column A + 1 is c + 1
                if rank[c + 1] < thr[i]:
                    new = ACTIVE
                else:
                    new = QUIET
                code = 2 * g + 1 + new
                if new != st:
                    state[i] = new
                    _set_bb(codes, planes, pm, H, W, pad, Wp, nw, y, x, code)
                if model2 and new == ACTIVE:
                    pv = P_FREE_B if g == KIND_A else P_FREE_A
                    py = y + pad
                    px = x + pad
                    nvic = _count_bb(planes, nw, py, px, rm, v, pv, pv)
                    if nvic > 0:
                        kk = int(_u01_nb(k_kill, i) * nvic)
                        dy, dx = _kth_bb(planes, nw, py, px, rm, v, pv, pv, kk)
                        vy = _wrap1(y + dy, H)
                        vx = _wrap1(x + dx, W)
                        vcell = vy * W + vx
                        vi = occ[vcell]
                        if state[vi] == ACTIVE:
                            _act_add(cnt, cntb, H, W, Wc, o, lanes, vy, vx, smask, v, kind[vi], -1)
                        state[vi] = DEAD
                        occ[vcell] = -1
                        _set_bb(codes, planes, pm, H, W, pad, Wp, nw, vy, vx, EMPTY)
                        if g == KIND_A:
                            killed_b += 1
                        else:
                            killed_a += 1
                ty = y
                tx = x
                if movement:
                    m = _probe_batch(codes, b, tab, k_move, i)
                    if m >= 0:
                        dy = tab[1, m]
                        dx = tab[2, m]
                        ok = True
                    elif v <= 7:
                        ok, dy, dx = _move_exact16(codes, b, Wp, rm, v, k_move, i)
                    else:
                        ok, dy, dx = _move_exact(codes, b, Wp, hw, v, k_move, i)
                    if ok:
                        ty, tx = _relocate(
                            codes, planes, pm, occ, pos, H, W, pad, Wp, nw, i, y, x, dy, dx, code
                        )
                # the agent's own contribution to the active counts, once per turn
                was = st == ACTIVE
                now = new == ACTIVE
                if was and (not now or ty != y or tx != x):
                    _act_add(cnt, cntb, H, W, Wc, o, lanes, y, x, smask, v, g, -1)
                if now and (not was or ty != y or tx != x):
                    _act_add(cnt, cntb, H, W, Wc, o, lanes, ty, tx, smask, v, g, 1)
        row = series[s]
        _count_series(kind, state, row)
        row[C_KILL_A] = killed_a
        row[C_KILL_B] = killed_b
        row[C_ARREST] = arrests
    codes[Hp * Wp :] = 0  # the dummy row is scratch, leave it clean


# --------------------------------------------------------------------------
# numba kernel: simultaneous activation (threaded, thread-count independent)
# --------------------------------------------------------------------------


@njit
def _decide_one(i, codes, pos, kind, state, grv, risk, ptab, hw, v, W, pad, Wp, threshold):
    """New state of agent ``i`` from the current snapshot (unchanged for cops, jailed, dead)."""
    st = state[i]
    if kind[i] == KIND_COP or (st != QUIET and st != ACTIVE):
        return st
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
    if np.float64(grv[i]) - np.float64(risk[i]) * p > threshold:
        return ACTIVE
    return QUIET


@njit
def _pick_one(i, key, ridx, codes, pos, hw, v, H, W, pad, Wp, mode, g):
    """Real cell of a uniformly chosen matching cell in ``i``'s neighbourhood, or -1."""
    cell = pos[i]
    y = cell // W
    x = cell - y * W
    b = (y + pad) * Wp + x + pad
    n = 0
    for r in range(2 * v + 1):
        h = hw[r]
        s0 = b + (r - v) * Wp - h
        for q in range(s0, s0 + 2 * h + 1):
            n += _match(codes[q], mode, g)
    if n == 0:
        return -1
    kk = int(_u01_nb(key, ridx) * n)
    dy, dx = _kth(codes, b, Wp, hw, v, kk, mode, g)
    return _wrap_cell(y, x, dy, dx, H, W)


@njit
def _move_target(i, key, codes, pos, tab, hw, v, H, W, pad, Wp):
    """Cell an agent moves to (probes, then exact choice among empty cells), or -1."""
    cell = pos[i]
    y = cell // W
    x = cell - y * W
    m = _probe_empty(codes, (y + pad) * Wp + x + pad, tab, key, i)
    if m >= 0:
        return _wrap_cell(y, x, tab[1, m], tab[2, m], H, W)
    return _pick_one(i, key, i * RSTRIDE + RSTRIDE - 1, codes, pos, hw, v, H, W, pad, Wp, 0, 0)


@njit(parallel=True, cache=True)
def sim_steps_nb(
    codes,
    occ,
    pos,
    kind,
    state,
    jail,
    grv,
    risk,
    ptab,
    hw,
    hwc,
    tab,
    tabc,
    ip,
    threshold,
    seed,
    t0,
    nsteps,
    series,
    newst,
    target,
    claim,
):
    """Advance ``nsteps`` steps with simultaneous activation; fill ``series[s]``.

    Phases of a step: release/decrement jail terms; every free citizen
    decides from the same snapshot; every cop picks an active (lowest cop
    index wins a contested arrest); in Model II every active picks a victim
    (lowest killer index wins); every mobile agent picks an empty cell (lowest
    priority hash wins, losers stay).  Choices are made in parallel from a
    snapshot; only the O(N) conflict resolution is serial.
    """
    H = ip[IP_H]
    W = ip[IP_W]
    pad = ip[IP_PAD]
    Wp = ip[IP_WP]
    model2 = ip[IP_MODEL2] != 0
    movement = ip[IP_MOVE] != 0
    jmax = ip[IP_JMAX]
    v = ip[IP_V]
    vc = ip[IP_VC]
    N = kind.shape[0]
    useed = np.uint64(seed)
    for s in range(nsteps):
        t = t0 + s + 1
        k_move = _base_nb(useed, S_MOVE, t)
        k_arrest = _base_nb(useed, S_ARREST, t)
        k_jail = _base_nb(useed, S_JAIL, t)
        k_kill = _base_nb(useed, S_KILL, t)
        k_prio = _base_nb(useed, S_PRIO, t)
        # 1. jail terms (each agent writes only its own cell)
        for i in prange(N):
            if kind[i] != KIND_COP and state[i] == JAILED_ST:
                if jail[i] > 0:
                    jail[i] -= 1
                else:
                    state[i] = QUIET
                    _set_code(codes, H, W, pad, Wp, pos[i], 2 * kind[i] + 1)
        # 2. decisions from one snapshot, then applied
        for i in prange(N):
            newst[i] = _decide_one(i, codes, pos, kind, state, grv, risk, ptab, hw, v, W, pad, Wp, threshold)
        for i in prange(N):
            if newst[i] != state[i]:
                state[i] = newst[i]
                _set_code(codes, H, W, pad, Wp, pos[i], 2 * kind[i] + 1 + newst[i])
        # 3. arrests: choices in parallel, resolution in cop-index order
        for i in prange(N):
            if kind[i] == KIND_COP:
                target[i] = _pick_one(i, k_arrest, i, codes, pos, hwc, vc, H, W, pad, Wp, 1, 0)
            else:
                target[i] = -1
        arrests = 0
        for i in range(N):
            c = target[i]
            if c >= 0:
                vi = occ[c]
                if state[vi] == ACTIVE:
                    state[vi] = JAILED_ST
                    jail[vi] = int(_u01_nb(k_jail, i) * (jmax + 1))
                    _set_code(codes, H, W, pad, Wp, c, JAILED)
                    arrests += 1
        # 4. killings (Model II): choices in parallel, resolution in killer-index order
        killed_a = 0
        killed_b = 0
        if model2:
            for i in prange(N):
                if kind[i] != KIND_COP and state[i] == ACTIVE:
                    target[i] = _pick_one(i, k_kill, i, codes, pos, hw, v, H, W, pad, Wp, 2, 3 - kind[i])
                else:
                    target[i] = -1
            for i in range(N):
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
                        _set_code(codes, H, W, pad, Wp, c, EMPTY)
        # 5. movement: choices in parallel; per target the lowest priority hash wins
        if movement:
            for i in prange(N):
                st = state[i]
                if st == JAILED_ST or st == DEAD:
                    target[i] = -1
                elif kind[i] == KIND_COP:
                    target[i] = _move_target(i, k_move, codes, pos, tabc, hwc, vc, H, W, pad, Wp)
                else:
                    target[i] = _move_target(i, k_move, codes, pos, tab, hw, v, H, W, pad, Wp)
            for i in range(N):
                c = target[i]
                if c >= 0:
                    cur = claim[c]
                    if cur < 0 or _hash_nb(k_prio, i) < _hash_nb(k_prio, cur):
                        claim[c] = i
            for i in range(N):
                c = target[i]
                if c >= 0 and claim[c] == i:
                    claim[c] = -1
                    if kind[i] == KIND_COP:
                        code = COP
                    else:
                        code = _citizen_code(kind[i], state[i])
                    _move(codes, occ, pos, H, W, pad, Wp, i, pos[i], c, code)
        row = series[s]
        _count_series(kind, state, row)
        row[C_KILL_A] = killed_a
        row[C_KILL_B] = killed_b
        row[C_ARREST] = arrests


# --------------------------------------------------------------------------
# NumPy fallback
# --------------------------------------------------------------------------


def _series_np(kind: np.ndarray, state: np.ndarray, row: np.ndarray) -> None:
    cit = kind != KIND_COP
    st = state[cit]
    kd = kind[cit]
    row[C_QUIET] = np.count_nonzero(st == QUIET)
    row[C_ACTIVE] = np.count_nonzero(st == ACTIVE)
    row[C_JAILED] = np.count_nonzero(st == JAILED_ST)
    row[C_DEAD] = np.count_nonzero(st == DEAD)
    row[C_ACT_A] = np.count_nonzero((st == ACTIVE) & (kd == KIND_A))
    row[C_ACT_B] = np.count_nonzero((st == ACTIVE) & (kd == KIND_B))
    row[C_ALIVE_A] = np.count_nonzero((st != DEAD) & (kd == KIND_A))
    row[C_ALIVE_B] = np.count_nonzero((st != DEAD) & (kd == KIND_B))


def build_planes_np(codes: np.ndarray, pm: np.ndarray, Hp: int, Wp: int, nw: int) -> np.ndarray:
    """Bit planes of the padded ``codes`` (``Hp`` rows, then a zero dummy row), as the numba kernel keeps them."""
    planes = np.zeros((Hp + 1, nw, NPL), dtype=np.uint64)
    bits = pm[codes[: Hp * Wp].reshape(Hp, Wp)]
    row = np.zeros((Hp, nw * 64), dtype=np.uint8)
    for p in range(NPL):
        row[:, :Wp] = (bits >> p) & 1
        planes[:Hp, :, p] = np.packbits(row, axis=1, bitorder="little").view("<u8")
    return planes.ravel()


def build_counts_np(
    H: int, W: int, pad: int, hw: np.ndarray, pos: np.ndarray, kind: np.ndarray, state: np.ndarray, S: int
) -> tuple[np.ndarray, np.ndarray]:
    """Neighbourhood counts ``(cnt, cntb)`` of the numba sequential kernel, from scratch.

    ``cnt`` = ``S`` x cops + group-A actives within the shape ``hw`` around
    each real cell (its centre excluded), ``cntb`` = ``S`` x cops + group-B
    actives, both in the layout of :func:`cnt_layout` (scratch columns zero).
    """
    v = (len(hw) - 1) // 2
    o, _, Wc = cnt_layout(W, pad, v)
    _, dy, dx = shape_offsets(hw, 1)
    keep = (dy != 0) | (dx != 0)
    dy, dx = dy[keep], dx[keep]
    y, x = np.divmod(pos.astype(np.int64), W)

    def seen(mask: np.ndarray) -> np.ndarray:
        cy = (y[mask][:, None] + dy[None, :]) % H
        cx = (x[mask][:, None] + dx[None, :]) % W
        n = np.bincount((cy * W + cx).ravel(), minlength=H * W).reshape(H, W)
        out = np.zeros((H, Wc), dtype=np.int32)
        out[:, o : o + W] = n
        return out.ravel()

    cops = S * seen(kind == KIND_COP)
    return cops + seen((kind == KIND_A) & (state == ACTIVE)), cops + seen(
        (kind == KIND_B) & (state == ACTIVE)
    )


def real_counts(cnt: np.ndarray, H: int, W: int, pad: int, v: int) -> np.ndarray:
    """The real cells of a count grid in the layout of :func:`cnt_layout`, shape (H, W)."""
    o, _, Wc = cnt_layout(W, pad, v)
    return cnt.reshape(H, Wc)[:, o : o + W]


def decision_ranks(
    ptab: np.ndarray, grv: np.ndarray, risk: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """``(rank, thr)`` with ``rank[C, A] < thr[i]`` exactly when ``G_i - R_i P[C, A] > T``.

    ``rank[C, A]`` is the position of ``P[C, A]`` among the table's sorted
    distinct values, and ``thr[i]`` the number of those values for which
    agent ``i`` would be active, computed with the kernels' own float64
    expression.  It is a prefix: ``fl(G - fl(R p))`` is non-increasing in
    ``p`` for ``R >= 0`` (correctly rounded operations are monotone), so the
    comparison of two integers gives the same decision, bit for bit.
    """
    vals = np.unique(ptab[:, 1:])
    rank = np.searchsorted(vals, ptab).astype(np.int32)
    g = grv.astype(np.float64)
    r = risk.astype(np.float64)
    lo = np.zeros(g.size, dtype=np.int64)
    hi = np.full(g.size, vals.size, dtype=np.int64)
    while True:
        todo = lo < hi
        if not todo.any():
            break
        mid = (lo + hi) // 2
        act = g - r * vals[np.minimum(mid, vals.size - 1)] > threshold
        lo = np.where(todo & act, mid + 1, lo)
        hi = np.where(todo & ~act, mid, hi)
    return rank, lo.astype(np.int32)


def set_codes_np(codes: np.ndarray, H: int, W: int, pad: int, Wp: int, cells: np.ndarray, c) -> None:
    """Vectorised :func:`_set_code` (``c`` scalar or per-cell array)."""
    cells = np.asarray(cells, dtype=np.int64)
    if cells.size == 0:
        return
    y, x = np.divmod(cells, W)
    py = y + pad
    px = x + pad
    py2 = np.where(y < pad, py + H, np.where(y >= H - pad, py - H, -1))
    px2 = np.where(x < pad, px + W, np.where(x >= W - pad, px - W, -1))
    c = np.broadcast_to(np.asarray(c, dtype=np.int8), cells.shape)
    codes[py * Wp + px] = c
    m = py2 >= 0
    codes[py2[m] * Wp + px[m]] = c[m]
    m = px2 >= 0
    codes[py[m] * Wp + px2[m]] = c[m]
    m = (py2 >= 0) & (px2 >= 0)
    codes[py2[m] * Wp + px2[m]] = c[m]


def shape_offsets(hw: np.ndarray, Wp: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flat padded offsets, dy and dx of a row-span shape, in the kernels' scan order."""
    v = (len(hw) - 1) // 2
    dys, dxs = [], []
    for r, h in enumerate(hw):
        for dx in range(-int(h), int(h) + 1):
            dys.append(r - v)
            dxs.append(dx)
    dy = np.array(dys, dtype=np.int64)
    dx = np.array(dxs, dtype=np.int64)
    return dy * Wp + dx, dy, dx


def probe_table(hw: np.ndarray, Wp: int) -> np.ndarray:
    """(3, K) int64: padded flat offset, dy, dx of every neighbourhood cell but the centre, in scan order."""
    off, dy, dx = shape_offsets(hw, Wp)
    keep = (dy != 0) | (dx != 0)
    return np.ascontiguousarray(np.stack([off[keep], dy[keep], dx[keep]]))


def _move_draws(seed: int, t: int, idx: np.ndarray) -> np.ndarray:
    """(n, RSTRIDE) movement uniforms of agents ``idx`` at step ``t``."""
    j = np.arange(RSTRIDE, dtype=np.int64)
    return uniforms_np(base_py(seed, S_MOVE, t), idx.astype(np.int64)[:, None] * RSTRIDE + j[None, :])


def seq_steps_np(
    codes,
    planes,
    pm,
    cnt,
    cntb,
    rank,
    thr,
    occ,
    pos,
    kind,
    state,
    jail,
    grv,
    risk,
    ptab,
    hw,
    hwc,
    tab,
    tabc,
    ip,
    threshold,
    seed,
    t0,
    nsteps,
    series,
    perm,
):
    """NumPy twin of :func:`seq_steps_nb` (same arguments, same results, Python loop over agents).

    ``planes``, ``pm``, ``cnt``, ``cntb``, ``rank`` and ``thr`` are not used:
    they are acceleration structures of the numba kernel only (this twin
    counts every neighbourhood and evaluates ``G - R P > T`` as written,
    which cross-checks them).
    """
    H, W, pad, Wp = (int(ip[IP_H]), int(ip[IP_W]), int(ip[IP_PAD]), int(ip[IP_WP]))
    model2 = bool(ip[IP_MODEL2])
    movement = bool(ip[IP_MOVE])
    jmax = int(ip[IP_JMAX])
    N = kind.shape[0]
    off_c, dy_c, dx_c = shape_offsets(hw, Wp)
    off_k, dy_k, dx_k = shape_offsets(hwc, Wp)
    idx = np.arange(N, dtype=np.int64)
    kind_l = kind.tolist()
    for s in range(nsteps):
        t = t0 + s + 1
        u_order = uniforms_np(base_py(seed, S_ORDER, t), idx)
        u_move = _move_draws(seed, t, idx)
        m_c = (u_move[:, :MAXTRY] * tab.shape[1]).astype(np.int64)
        m_k = (u_move[:, :MAXTRY] * tabc.shape[1]).astype(np.int64)
        u_last = u_move[:, RSTRIDE - 1].tolist()
        u_arrest = uniforms_np(base_py(seed, S_ARREST, t), idx).tolist()
        u_jail = uniforms_np(base_py(seed, S_JAIL, t), idx).tolist()
        u_kill = uniforms_np(base_py(seed, S_KILL, t), idx).tolist()
        js = (u_order * (idx + 1)).astype(np.int64).tolist()
        pl = list(range(N))
        for i in range(N - 1, 0, -1):
            j = js[i]
            pl[i], pl[j] = pl[j], pl[i]
        perm[:] = pl
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
                    set_codes_np(codes, H, W, pad, Wp, np.array([vcell]), JAILED)
                    arrests += 1
                if movement:
                    to = _move_target_np(codes, b, y, x, H, W, tabc, m_k[i], u_last[i], off_k, dy_k, dx_k)
                    if to >= 0:
                        _move_np(codes, occ, pos, H, W, pad, Wp, i, cell, to, COP)
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
                set_codes_np(codes, H, W, pad, Wp, np.array([cell]), 2 * g + 1 + new)
            if model2 and new == ACTIVE:
                vic = np.flatnonzero((cells == 2 * other + 1) | (cells == 2 * other + 2))
                if vic.size:
                    j = vic[int(u_kill[i] * vic.size)]
                    vcell = ((y + dy_c[j]) % H) * W + (x + dx_c[j]) % W
                    vi = occ[vcell]
                    state[vi] = DEAD
                    occ[vcell] = -1
                    set_codes_np(codes, H, W, pad, Wp, np.array([vcell]), EMPTY)
                    killed[other] += 1
            if movement:
                to = _move_target_np(codes, b, y, x, H, W, tab, m_c[i], u_last[i], off_c, dy_c, dx_c)
                if to >= 0:
                    _move_np(codes, occ, pos, H, W, pad, Wp, i, cell, to, 2 * g + 1 + new)
        row = series[s]
        _series_np(kind, state, row)
        row[C_KILL_A] = killed[KIND_A]
        row[C_KILL_B] = killed[KIND_B]
        row[C_ARREST] = arrests


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


def _move_np(codes, occ, pos, H, W, pad, Wp, i, cell_from, cell_to, c) -> None:
    occ[cell_from] = -1
    occ[cell_to] = i
    pos[i] = cell_to
    set_codes_np(codes, H, W, pad, Wp, np.array([cell_from, cell_to]), np.array([EMPTY, c], dtype=np.int8))


class _RowIndex:
    """Per-agent row segments of a row-span shape in the flattened padded grid."""

    def __init__(self, pos: np.ndarray, hw: np.ndarray, H: int, W: int, pad: int, Wp: int) -> None:
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
    codes,
    occ,
    pos,
    kind,
    state,
    jail,
    grv,
    risk,
    ptab,
    hw,
    hwc,
    tab,
    tabc,
    ip,
    threshold,
    seed,
    t0,
    nsteps,
    series,
    newst,
    target,
    claim,
):
    """Vectorised NumPy twin of :func:`sim_steps_nb` (same arguments, same results)."""
    H, W, pad, Wp = (int(ip[IP_H]), int(ip[IP_W]), int(ip[IP_PAD]), int(ip[IP_WP]))
    model2 = bool(ip[IP_MODEL2])
    movement = bool(ip[IP_MOVE])
    jmax = int(ip[IP_JMAX])
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
        set_codes_np(codes, H, W, pad, Wp, pos[rel], codes_of(rel))
        # 2. decisions
        free = cit_idx[(state[cit_idx] == QUIET) | (state[cit_idx] == ACTIVE)]
        if free.size:
            ri = _RowIndex(pos[free], hw, H, W, pad, Wp)
            ncop = ri.counts(_prefix(codes == COP)).sum(axis=1)
            nact = np.zeros(free.size, dtype=np.int64)
            for g, ca in ((KIND_A, ACTIVE_A), (KIND_B, ACTIVE_B)):
                m = kind[free] == g
                if m.any():
                    nact[m] = ri.counts(_prefix(codes == ca))[m].sum(axis=1)
            nact -= state[free] == ACTIVE
            p = ptab[ncop, nact + 1]
            new = np.where(
                grv[free].astype(np.float64) - risk[free].astype(np.float64) * p > threshold, ACTIVE, QUIET
            ).astype(np.int8)
            ch = free[new != state[free]]
            state[free] = new
            set_codes_np(codes, H, W, pad, Wp, pos[ch], codes_of(ch))
        # 3. arrests
        arrests = 0
        if cop_idx.size:
            rk = _RowIndex(pos[cop_idx], hwc, H, W, pad, Wp)
            S = _prefix((codes == ACTIVE_A) | (codes == ACTIVE_B))
            rows = rk.counts(S)
            tot = rows.sum(axis=1)
            has = tot > 0
            if has.any():
                cops = cop_idx[has]
                u = uniforms_np(base_py(seed, S_ARREST, t), cops)
                k = (u * tot[has]).astype(np.int64)
                rk2 = _RowIndex(pos[cops], hwc, H, W, pad, Wp)
                tcell = rk2.kth(S, rows[has], k)
                victims = occ[tcell]
                uv, first = np.unique(victims, return_index=True)
                jail_u = uniforms_np(base_py(seed, S_JAIL, t), cops[first])
                state[uv] = JAILED_ST
                jail[uv] = (jail_u * (jmax + 1)).astype(jail.dtype)
                set_codes_np(codes, H, W, pad, Wp, tcell[first], JAILED)
                arrests = int(uv.size)
        # 4. killings
        killed = [0, 0, 0]
        if model2:
            tgt_all = []
            for g in (KIND_A, KIND_B):
                other = 3 - g
                killers = cit_idx[(state[cit_idx] == ACTIVE) & (kind[cit_idx] == g)]
                if not killers.size:
                    continue
                S = _prefix((codes == 2 * other + 1) | (codes == 2 * other + 2))
                rk = _RowIndex(pos[killers], hw, H, W, pad, Wp)
                rows = rk.counts(S)
                tot = rows.sum(axis=1)
                has = tot > 0
                if has.any():
                    kl = killers[has]
                    u = uniforms_np(base_py(seed, S_KILL, t), kl)
                    k = (u * tot[has]).astype(np.int64)
                    rk2 = _RowIndex(pos[kl], hw, H, W, pad, Wp)
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
                set_codes_np(codes, H, W, pad, Wp, ucell, EMPTY)
        # 5. movement
        if movement:
            S = _prefix(codes == EMPTY)
            movers_all, tgts_all = [], []
            for grp_idx, shp, tb in ((cop_idx, hwc, tabc), (cit_idx, hw, tab)):
                mv = grp_idx[(state[grp_idx] == QUIET) | (state[grp_idx] == ACTIVE)]
                if not mv.size:
                    continue
                # uniform probes first (same draws as the kernels) ...
                U = _move_draws(seed, t, mv)
                ms = (U[:, :MAXTRY] * tb.shape[1]).astype(np.int64)
                y, x = np.divmod(pos[mv].astype(np.int64), W)
                b = (y + pad) * Wp + x + pad
                hit = codes[b[:, None] + tb[0][ms]] == EMPTY
                found = hit.any(axis=1)
                m = ms[np.arange(mv.size), np.argmax(hit, axis=1)][found]
                movers_all.append(mv[found])
                tgts_all.append(((y[found] + tb[1][m]) % H) * W + (x[found] + tb[2][m]) % W)
                # ... then an exact choice for those whose probes all failed
                rest = ~found
                if rest.any():
                    mr = mv[rest]
                    rk = _RowIndex(pos[mr], shp, H, W, pad, Wp)
                    rows = rk.counts(S)
                    tot = rows.sum(axis=1)
                    has = tot > 0
                    if has.any():
                        k = (U[rest, RSTRIDE - 1][has] * tot[has]).astype(np.int64)
                        rk2 = _RowIndex(pos[mr[has]], shp, H, W, pad, Wp)
                        movers_all.append(mr[has])
                        tgts_all.append(rk2.kth(S, rows[has], k))
            if movers_all:
                mv = np.concatenate(movers_all)
                tg = np.concatenate(tgts_all)
                key = hashes_np(base_py(seed, S_PRIO, t), mv)
                order = np.lexsort((mv, key, tg))
                tg_s = tg[order]
                first = np.ones(tg_s.size, dtype=bool)
                first[1:] = tg_s[1:] != tg_s[:-1]
                win = mv[order][first]
                to = tg_s[first]
                frm = pos[win].astype(np.int64)
                occ[frm] = -1
                set_codes_np(codes, H, W, pad, Wp, frm, EMPTY)
                occ[to] = win
                pos[win] = to
                wcodes = np.where(kind[win] == KIND_COP, COP, codes_of(win)).astype(np.int8)
                set_codes_np(codes, H, W, pad, Wp, to, wcodes)
        row = series[s]
        _series_np(kind, state, row)
        row[C_KILL_A] = killed[KIND_A]
        row[C_KILL_B] = killed[KIND_B]
        row[C_ARREST] = arrests
