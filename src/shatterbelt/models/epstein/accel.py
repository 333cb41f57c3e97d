"""Acceleration structures of the sequential numba kernel: bit planes and neighbourhood counts.

Both are kept in step with the cell codes on every write and change no result:

* **bit planes** -- one bit per padded cell for each class of codes in ``pm`` (actives;
  in Model II also free members of each group), for the cops' and killers' k-th-match
  choices (popcount and trailing-zero count per row instead of scanning cells);
* **neighbourhood counts** -- ``cnt[c] = S C + A`` per real cell (see :class:`.state.SeqAccel`),
  updated over one shape with 16-lane vector adds when a cop or an active moves, is
  jailed, killed or changes state, so that a citizen's decision reads one word.

The ``build_*_np`` functions compute them from scratch (at the start, and in tests to check
that the kernel kept them in step).
"""

from __future__ import annotations

import numpy as np

from ._jit import cttz, masked_add16, njit, popcnt
from .codes import ACTIVE, EMPTY, KIND_A, KIND_B, KIND_COP, NPL, PM_MODEL1, PM_MODEL2
from .grid import wrap1
from .rules import decision_ranks, row_masks, shape_offsets
from .state import Config, SeqAccel, Tables, World

_U1 = np.uint64(1)

# --------------------------------------------------------------------------
# bit planes
# --------------------------------------------------------------------------


@njit(inline="always")
def set_bb(codes, planes, pm, cf, y, x, c):
    """Write code ``c`` at real cell (y, x) and its halo images, and keep the bit planes in step.

    Branch-free: the (up to three) halo images are always written, missing
    ones to a dummy row ``H + 2 pad`` that no read ever touches.
    """
    q = (y + cf.pad) * cf.Wp + x + cf.pad
    set_bb_d(codes, planes, cf, y, x, c, pm[codes[q]] ^ pm[c])


@njit(inline="always")
def set_bb_d(codes, planes, cf, y, x, c, diff):
    """:func:`set_bb` given ``diff``, the planes whose bit changes (``pm[old] ^ pm[c]``)."""
    H, W, pad, Wp, nw = cf.H, cf.W, cf.pad, cf.Wp, cf.nw
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
            p = np.int64(cttz(np.uint64(diff)))
            planes[i1 + p] ^= b1
            planes[i2 + p] ^= b1
            planes[i3 + p] ^= b2
            planes[i4 + p] ^= b2
            diff &= diff - 1


@njit(inline="always")
def window(planes, i0, off, sh, p1, p2):
    """Bits of planes ``p1 | p2`` of one padded row, from the window's first column on."""
    lo = (planes[i0 + p1] | planes[i0 + p2]) >> off
    hi = ((planes[i0 + NPL + p1] | planes[i0 + NPL + p2]) << _U1) << sh
    return lo | hi


@njit(inline="always")
def count_bb(planes, nw, py, px, rmask, v, p1, p2):
    """Set bits of planes ``p1 | p2`` in the neighbourhood (``rmask``: per-row shape masks)."""
    a = px - v
    off = np.uint64(a & 63)
    sh = np.uint64(63) - off
    i0 = ((py - v) * nw + (a >> 6)) * NPL
    step = nw * NPL
    n = 0
    for r in range(2 * v + 1):
        n += popcnt(window(planes, i0, off, sh, p1, p2) & rmask[r])
        i0 += step
    return np.int64(n)


@njit
def kth_bb(planes, nw, py, px, rmask, v, p1, p2, k):
    """(dy, dx) of the k-th set bit of planes ``p1 | p2`` in the neighbourhood, in scan order."""
    a = px - v
    off = np.uint64(a & 63)
    sh = np.uint64(63) - off
    i0 = ((py - v) * nw + (a >> 6)) * NPL
    step = nw * NPL
    for r in range(2 * v + 1):
        bits = window(planes, i0, off, sh, p1, p2) & rmask[r]
        n = np.int64(popcnt(bits))
        if k < n:
            for _ in range(k):
                bits &= bits - _U1
            return r - v, np.int64(cttz(bits)) - v
        k -= n
        i0 += step
    return 0, 0


@njit(inline="always")
def relocate(codes, planes, pm, occ, pos, cf, i, y, x, dy, dx, code):
    """Move agent ``i`` (cell code ``code``) from (y, x) by (dy, dx); return the new (y, x)."""
    ty = wrap1(y + dy, cf.H)
    tx = wrap1(x + dx, cf.W)
    occ[y * cf.W + x] = -1
    diff = pm[code]  # pm[EMPTY] == 0
    set_bb_d(codes, planes, cf, y, x, EMPTY, diff)
    to = ty * cf.W + tx
    occ[to] = i
    pos[i] = to
    set_bb_d(codes, planes, cf, ty, tx, code, diff)
    return ty, tx


def build_planes_np(codes: np.ndarray, pm: np.ndarray, Hp: int, Wp: int, nw: int) -> np.ndarray:
    """Bit planes of the padded ``codes`` (``Hp`` rows, then a zero dummy row), as the numba kernel keeps them."""
    planes = np.zeros((Hp + 1, nw, NPL), dtype=np.uint64)
    bits = pm[codes[: Hp * Wp].reshape(Hp, Wp)]
    row = np.zeros((Hp, nw * 64), dtype=np.uint8)
    for p in range(NPL):
        row[:, :Wp] = (bits >> p) & 1
        planes[:Hp, :, p] = np.packbits(row, axis=1, bitorder="little").view("<u8")
    return planes.ravel()


# --------------------------------------------------------------------------
# neighbourhood counts
# --------------------------------------------------------------------------


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


def lane_masks(hw: np.ndarray, lanes: int) -> np.ndarray:
    """The shape's rows as int32 lane masks (-1 inside, 0 outside and at the centre), ``lanes`` per row."""
    v = (len(hw) - 1) // 2
    smask = np.zeros((2 * v + 1) * lanes, dtype=np.int32)
    for r in range(2 * v + 1):
        for k in range(v - int(hw[r]), v + int(hw[r]) + 1):
            if r != v or k != v:
                smask[r * lanes + k] = -1
    return smask


@njit(inline="always")
def shape_add(cnt, smask, cf, y, x, d):
    """Add ``d`` to ``cnt`` at every real cell of the citizens' shape centred at (y, x), the centre excluded.

    ``cnt[c]`` then counts the sources whose shape contains ``c`` (all shapes
    are symmetric), i.e. what an agent on ``c`` sees; see :func:`cnt_layout`.
    ``W, H >= 2v + 1``, so a wrapped row span never covers a cell twice.
    """
    v, W = cf.v, cf.W
    lanes = 16 * ((2 * v + 1 + 15) // 16)  # cf.lanes, derived here so that LLVM sees a multiple of 16
    Wc = cf.Wc
    c0 = cf.o + x - v
    img = 0
    if x < v:
        img = W
    elif x >= W - v:
        img = -W
    mo = 0
    for rr in range(2 * v + 1):
        base = wrap1(y + rr - v, cf.H) * Wc + c0
        for c in range(0, lanes, 16):
            masked_add16(cnt, base + c, smask, mo + c, d)
            if img != 0:
                masked_add16(cnt, base + img + c, smask, mo + c, d)
        mo += lanes


@njit(inline="always")
def act_add(cnt, cntb, smask, cf, y, x, g, d):
    """Add ``d`` actives of group ``g`` seen from the shape around (y, x)."""
    if g == KIND_A:
        shape_add(cnt, smask, cf, y, x, d)
    else:
        shape_add(cntb, smask, cf, y, x, d)


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


def build_accel(w: World, cf: Config, tb: Tables, use_numba: bool) -> SeqAccel:
    """The sequential kernel's structures for world ``w`` (empty ones for the NumPy twin, which needs none)."""
    perm = np.zeros(w.kind.size, dtype=np.int32)
    if not use_numba:
        e32, e64 = np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.uint64)
        return SeqAccel(e64, PM_MODEL1, e32, e32, e32, e32, e32, e64, e64, perm)
    pm = PM_MODEL2 if cf.model2 else PM_MODEL1
    planes = build_planes_np(w.codes, pm, cf.H + 2 * cf.pad, cf.Wp, cf.nw)
    cnt, cntb = build_counts_np(cf.H, cf.W, cf.pad, tb.hw, w.pos, w.kind, w.state, cf.S)
    if not cf.model2:
        cntb = np.zeros(1, dtype=np.int32)  # group B: Model II only
    rank, thr = decision_ranks(tb.ptab, w.grv, w.risk, float(cf.threshold))
    return SeqAccel(
        planes=planes,
        pm=pm,
        cnt=cnt,
        cntb=cntb,
        rank=rank.ravel(),
        thr=thr,
        smask=lane_masks(tb.hw, cf.lanes),
        rm=row_masks(tb.hw),
        rmc=row_masks(tb.hwc),
        perm=perm,
    )
