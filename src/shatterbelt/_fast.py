"""The engine's per-person passes on one backend: :class:`Kernels`, chosen once per run.

``World`` holds one :class:`Kernels` (``world.kernels``), built from the backend that
:func:`shatterbelt.backend.resolve_backend` resolves (``numba`` or ``numpy``).  It offers the
passes every mechanism shares (per-agent uniforms, the census, index lists, the scratch
flags), and :meth:`Kernels.pick` chooses between a mechanism's two implementations of its
own passes (each mechanism keeps them beside its rules, in ``modules/*_kernels.py``), so no
mechanism asks which backend runs.

Both backends give byte-identical results for the same seed because

* per-agent random numbers are the counter-based splitmix64 hash of
  :func:`shatterbelt.rng.uniforms`, reimplemented bit for bit in ``_fast_kernels.u01``
  (an agent's number depends on ``(seed, stream, month, agent index)`` only, never on
  which thread computed it);
* each per-person rule is written once, as scalar arithmetic that the NumPy backend runs
  on arrays and the numba kernels inline (no ``fastmath``, so the same IEEE operations in
  the same order); anything transcendental (``exp``) is evaluated per cell in NumPy and
  passed in as a table;
* parallel loops run over a fixed number of chunks (``_fast_kernels.NCH``), each writing its
  own slice or its own integer partial counts, and index lists are compacted in index
  order, so nothing depends on the number of threads or on timing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from . import _fast_kernels as K
from .backend import have_numba, resolve_backend
from .population import NSTATUS
from .rng import uniforms

F = TypeVar("F", bound=Callable[..., Any])


def threshold_bits(p: np.ndarray) -> np.ndarray:
    """``u < p`` as an integer test on the hash: ``bits < threshold_bits(p)``, exactly.

    A uniform is ``u = bits * 2**-53`` with ``bits`` a 53-bit integer, so ``u < p`` exactly
    when ``bits < p * 2**53`` (a power-of-two scaling, exact in floating point), that is when
    ``bits < ceil(p * 2**53)``; ``p <= 0`` gives 0 (never).  ``p`` must be at most 2**10.
    """
    p = np.asarray(p, np.float64)
    return np.where(p > 0, np.ceil(p * 2.0**53), 0.0).astype(np.uint64)


class Kernels:
    """The engine-wide per-person passes on one backend (``"numpy"`` or ``"numba"``)."""

    def __init__(self, backend: str | None = None) -> None:
        self.name = resolve_backend(backend)
        self.numba = self.name == "numba"

    def __repr__(self) -> str:
        return f"<Kernels {self.name}>"

    def pick(self, numpy_impl: F, numba_impl: F) -> F:
        """The implementation of a pass for this backend (both have the same signature and results)."""
        return numba_impl if self.numba else numpy_impl

    # ------------------------------------------------------------------ random numbers
    def agent_uniforms(self, key: int, idx: np.ndarray) -> np.ndarray:
        """:func:`shatterbelt.rng.uniforms` (numba: parallel, no uint64 temporaries)."""
        if self.numba and idx.size >= 100_000:
            return K.uniforms_idx(np.uint64(key), np.ascontiguousarray(idx, np.int64))
        return uniforms(key, idx)

    def fill_uniforms_f32(self, key: int, out: np.ndarray) -> None:
        """out[i] = float32 of agent i's uniform, for every agent (in place)."""
        if self.numba:
            K.uniforms_f32(np.uint64(key), out)
        else:
            out[:] = uniforms(key, np.arange(out.size)).astype(np.float32)

    def fill_uniforms_below(self, key: int, thr: float, out: np.ndarray) -> None:
        """out[i] = agent i's uniform < thr, for every agent (in place)."""
        if self.numba:
            K.uniforms_below(np.uint64(key), float(thr), out)
        else:
            out[:] = uniforms(key, np.arange(out.size)) < thr

    # ------------------------------------------------------------------ counts and index lists
    def census_counts(self, ppl: Any, A1: int, R: int, C: int) -> np.ndarray:
        """Flat counts by status x actor+1 x region x community x fighting age x displaced."""
        return census_counts(self.numba, ppl, A1, R, C)

    def where_eq(self, a: np.ndarray, v: int) -> np.ndarray:
        """``np.flatnonzero(a == v)``."""
        if self.numba:
            return K.where_eq(a, a.dtype.type(v))
        return np.flatnonzero(a == v)

    def add_one(self, a: np.ndarray) -> None:
        """``a += 1`` in place."""
        if self.numba:
            K.add_one_i16(a)
        else:
            a += 1

    def compact_flags(self, scratch: np.ndarray, n: int, bit: int) -> np.ndarray:
        """Sorted ``i < n`` whose byte ``scratch[i]`` has ``bit`` (``scratch`` padded to whole 8-byte words)."""
        if self.numba:
            return K.compact_flags(scratch.view(np.uint64), n, np.uint8(bit))
        return np.flatnonzero(scratch[:n] & bit)


def census_counts(numba: bool, ppl: Any, A1: int, R: int, C: int) -> np.ndarray:
    """Flat census counts on the numba or the NumPy backend (also used to check the kept counts)."""
    Kn = NSTATUS * A1 * R * C * 4
    if numba:
        return K.census(ppl.status, ppl.actor, ppl.region, ppl.community, ppl.fighting_age, ppl.displaced, A1, R, C, Kn)
    key = ppl.status.astype(np.int64) * A1 + (ppl.actor.astype(np.int64) + 1)
    key *= R
    key += ppl.region
    key *= C
    key += ppl.community
    key *= 2
    key += ppl.fighting_age
    key *= 2
    key += ppl.displaced
    return np.bincount(key, minlength=Kn)


__all__ = ["Kernels", "census_counts", "have_numba", "threshold_bits"]
