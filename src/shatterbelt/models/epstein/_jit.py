"""numba for the Epstein kernels, when it can be used, and the intrinsics of the sequential kernel.

Whether numba is used is decided by :func:`shatterbelt.backend.have_numba` alone.  Without
numba, ``njit`` is the identity and ``prange`` is ``range``, so the kernel modules import
(their NumPy twins are what runs then), and the intrinsics are plain Python with the same
meaning.

The intrinsics are single machine operations that numba does not emit by itself: population
count and trailing zeros of a ``uint64``, a masked 16-lane ``int32`` vector add, eight
movement probes at once, a 16-byte compare, and a cache prefetch.  They change no result.
"""

from __future__ import annotations

import numpy as np

from ... import rng as _rng
from ...backend import have_numba
from .codes import EMPTY

# the splitmix64 hash of one agent index is the engine's (shatterbelt.rng.hash64), compiled here
_INV53 = _rng._INV53
_U11 = np.uint64(11)

HAVE_NUMBA: bool = have_numba()

if HAVE_NUMBA:  # pragma: no cover - exercised in both configurations by the tests
    from llvmlite import ir as _ir
    from numba import njit, prange
    from numba.core import types as _nbt
    from numba.extending import intrinsic

    hash64 = njit(inline="always")(_rng.hash64)
    mix64 = njit(inline="always")(_rng.mix64)

    @njit(inline="always")
    def u01(key, i):
        """Uniform [0, 1) of agent index ``i`` under ``key``: one element of ``rng.uniforms``."""
        return np.float64(hash64(key, i) >> _U11) * _INV53

    @intrinsic
    def popcnt(typingctx, x):
        """Population count of a uint64 (one machine instruction)."""
        sig = _nbt.uint64(_nbt.uint64)

        def codegen(context, builder, signature, args):
            return builder.ctpop(args[0])

        return sig, codegen

    @intrinsic
    def cttz(typingctx, x):
        """Trailing zeros of a uint64 (64 for zero)."""
        sig = _nbt.uint64(_nbt.uint64)

        def codegen(context, builder, signature, args):
            return builder.cttz(args[0], context.get_constant(_nbt.boolean, False))

        return sig, codegen

    _I32 = _ir.IntType(32)
    _V16 = _ir.VectorType(_I32, 16)

    @intrinsic
    def masked_add16(typingctx, arr, base, masks, moff, d):
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
    def probe8(typingctx, codes, b, tab, key, r0):
        """``m_j`` of the first of eight probes that lands on an empty cell, or -1.

        Probe ``j`` is ``codes[b + tab[0, m_j]]`` with ``m_j = int(u01(key, r0 + j) * nk)``,
        exactly as in ``probe_empty``: the eight splitmix64 hashes (``rng.hash64``
        on eight lanes) and their conversions run as 8-lane vector operations (the
        same IEEE operations, so the same ``m_j``), the sixteen loads stay scalar
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
            z = builder.add(builder.mul(z, k(_rng.GOLDEN)), _splat8(builder, key_, _V8I64))
            z = builder.mul(builder.xor(z, builder.lshr(z, k(30))), k(_rng._C1))
            z = builder.mul(builder.xor(z, builder.lshr(z, k(27))), k(_rng._C2))
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
    def empty16(typingctx, codes, s):
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
    def prefetch(typingctx, arr, idx):
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

else:  # pragma: no cover
    prange = range

    def njit(*args, **kwargs):  # type: ignore[no-redef]
        """Identity decorator used when numba is not used."""
        if len(args) == 1 and callable(args[0]) and not kwargs:
            return args[0]
        return lambda f: f

    hash64 = _rng.hash64
    mix64 = _rng.mix64

    def u01(key, i):  # type: ignore[no-redef]
        return float(int(_rng.hashes(int(key), np.array([i]))[0]) >> 11) * _INV53

    def popcnt(x):  # type: ignore[no-redef]
        return np.uint64(bin(int(x)).count("1"))

    def cttz(x):  # type: ignore[no-redef]
        x = int(x)
        return np.uint64(64 if x == 0 else (x & -x).bit_length() - 1)

    def probe8(codes, b, tab, key, r0):  # type: ignore[no-redef]
        nk = tab.shape[1]
        for j in range(8):
            m = int(u01(key, r0 + j) * nk)
            if codes[b + tab[0, m]] == EMPTY:
                return m
        return -1

    def prefetch(arr, idx):  # type: ignore[no-redef]
        pass

    def masked_add16(arr, base, masks, moff, d):  # type: ignore[no-redef]
        arr[base : base + 16] += masks[moff : moff + 16] & d

    def empty16(codes, s):  # type: ignore[no-redef]
        return np.uint64(sum(1 << k for k in range(16) if codes[s + k] == EMPTY))
