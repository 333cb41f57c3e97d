"""Cell codes on the padded grid: writes with their halo images, k-th match search, series counts.

Functions under ``@njit`` are numba kernels' building blocks and also valid Python; the
``*_np`` functions are their vectorised NumPy counterparts.
"""

from __future__ import annotations

import numpy as np

from ._jit import njit
from .codes import (
    ACTIVE,
    ACTIVE_A,
    ACTIVE_B,
    C_ACT_A,
    C_ACT_B,
    C_ACTIVE,
    C_ALIVE_A,
    C_ALIVE_B,
    C_DEAD,
    C_JAILED,
    C_QUIET,
    DEAD,
    EMPTY,
    JAILED,
    JAILED_ST,
    KIND_A,
    KIND_B,
    KIND_COP,
    QUIET,
)
from .state import Config


@njit(inline="always")
def set_code(codes, cf, cell, c):
    """Write code ``c`` at real ``cell`` and at its halo images (``cf``: :class:`.state.Config`)."""
    H, W, pad, Wp = cf.H, cf.W, cf.pad, cf.Wp
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
def match(c, mode, g):
    """Predicate of a k-th search: 0 empty, 1 any active, 2 free member of group g."""
    if mode == 0:
        return c == EMPTY
    if mode == 1:
        return c == ACTIVE_A or c == ACTIVE_B
    return c == 1 + 2 * g or c == 2 + 2 * g


@njit
def kth(codes, b, Wp, hw, v, k, mode, g):
    """Offset (dy, dx) of the k-th (0-based) cell matching ``mode`` in scan order."""
    for r in range(2 * v + 1):
        dy = r - v
        h = hw[r]
        s = b + dy * Wp - h
        cnt = 0
        for q in range(s, s + 2 * h + 1):
            cnt += match(codes[q], mode, g)
        if k < cnt:
            for q in range(s, s + 2 * h + 1):
                if match(codes[q], mode, g):
                    if k == 0:
                        return dy, q - (b + dy * Wp)
                    k -= 1
        k -= cnt
    return 0, 0  # unreachable when k < total matches


@njit(inline="always")
def wrap1(z, n):
    """``z`` wrapped into ``0..n-1``, for ``-n <= z < 2n``."""
    if z < 0:
        return z + n
    if z >= n:
        return z - n
    return z


@njit(inline="always")
def wrap_cell(y, x, dy, dx, H, W):
    """Real cell at offset (dy, dx) from (y, x) on the torus."""
    return wrap1(y + dy, H) * W + wrap1(x + dx, W)


@njit(inline="always")
def citizen_code(kind, st):
    """Cell code of a citizen of ``kind`` in state ``st``."""
    if st == JAILED_ST:
        return JAILED
    return 2 * kind + 1 + st  # kind 1: 3/4, kind 2: 5/6


@njit
def count_series(kind, state, row):
    """Fill the state columns of one series row (killings and arrests are counted by the step)."""
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


def count_series_np(kind: np.ndarray, state: np.ndarray, row: np.ndarray) -> None:
    """Vectorised :func:`count_series`."""
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


def set_codes_np(codes: np.ndarray, cf: Config, cells: np.ndarray, c: int | np.ndarray) -> None:
    """Vectorised :func:`set_code` (``c`` scalar or per-cell array)."""
    H, W, pad, Wp = cf.H, cf.W, cf.pad, cf.Wp
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
