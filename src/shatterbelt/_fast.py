"""Hot per-person passes of the engine: numba kernels with a NumPy fallback that gives identical results.

Every function here has two implementations, chosen by the caller's ``use_numba``
flag (see :func:`backend_for`):

* a **NumPy** one, which is the engine's original code, kept as the reference;
* a **numba** one, which fuses the same arithmetic into one or two passes over
  the people with no temporaries the size of the population.

They give byte-identical results for the same seed because

* per-agent random numbers are the counter-based splitmix64 hash of
  :func:`shatterbelt.rng.uniforms`, reimplemented bit for bit in :func:`_u01`
  (an agent's number depends on ``(seed, stream, month, agent index)`` only,
  never on which thread computed it);
* per-person arithmetic is the same sequence of IEEE operations in the same
  order (no ``fastmath``, so no contraction into fused multiply-adds); anything
  transcendental (``exp``) is evaluated once per cell in NumPy and passed in as a
  table;
* parallel loops run over a fixed number of chunks (``_fast_kernels.NCH``), each writing
  its own slice or its own integer partial counts, and index lists are compacted
  in index order, so nothing depends on the number of threads or on timing.

numba is optional (the ``fast`` extra): it is imported on first use, and
``SHATTERBELT_NO_NUMBA=1`` forces the NumPy path (as for the Epstein models).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .rng import uniforms

#: below this many agents ``backend="auto"`` stays with NumPy (numba's start-up would cost more than it saves)
AUTO_MIN_AGENTS = 1_000_000
BACKENDS = ("auto", "numba", "numpy")

_NB: Any = None  # the compiled kernels (a namespace), built on first use
_NB_ERROR: str | None = None


def numba_disabled() -> bool:
    return os.environ.get("SHATTERBELT_NO_NUMBA", "").strip().lower() not in ("", "0", "false", "no")


def have_numba() -> bool:
    """True when the numba kernels can be used (numba installed and not disabled)."""
    return _kernels() is not None


def backend_for(backend: str, n_agents: int) -> bool:
    """Resolve a backend name to ``use_numba``; ``auto`` takes numba for large populations when it is available."""
    from .errors import UsageError

    b = (backend or "auto").lower()
    if b not in BACKENDS:
        raise UsageError(f"backend: must be one of {', '.join(BACKENDS)}, got '{backend}'")
    if b == "numpy":
        return False
    if b == "numba":
        if _kernels() is None:
            raise UsageError(f"backend: numba is not available ({_NB_ERROR}); install the 'fast' extra or unset SHATTERBELT_NO_NUMBA")
        return True
    return n_agents >= AUTO_MIN_AGENTS and _kernels() is not None


def _kernels() -> Any:
    global _NB, _NB_ERROR
    if _NB is not None or _NB_ERROR is not None:
        return _NB
    if numba_disabled():
        _NB_ERROR = "disabled by SHATTERBELT_NO_NUMBA"
        return None
    try:
        _NB = _build()
    except ImportError as e:  # pragma: no cover - numba missing
        _NB_ERROR = f"numba not installed: {e}"
    return _NB


# ---------------------------------------------------------------------------- numba kernels
def _build() -> Any:
    # numba's OpenMP threads must sleep, not spin, at the end of a parallel loop: spinning
    # threads steal the cores that the rest of the pass needs whenever another process runs
    # too (measured on 2 cores: 2.6x slower than one thread); set before libgomp loads
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from . import _fast_kernels

    return _fast_kernels


# ---------------------------------------------------------------------------- dispatch
def threshold_bits(p: np.ndarray) -> np.ndarray:
    """``u < p`` as an integer test on the hash: ``bits < threshold_bits(p)``, exactly.

    A uniform is ``u = bits * 2**-53`` with ``bits`` a 53-bit integer, so ``u < p`` exactly
    when ``bits < p * 2**53`` (a power-of-two scaling, exact in floating point), that is when
    ``bits < ceil(p * 2**53)``; ``p <= 0`` gives 0 (never).  ``p`` must be at most 2**10.
    """
    p = np.asarray(p, np.float64)
    return np.where(p > 0, np.ceil(p * 2.0**53), 0.0).astype(np.uint64)


def agent_uniforms(use_numba: bool, key: int, idx: np.ndarray) -> np.ndarray:
    """:func:`shatterbelt.rng.uniforms` (numba: parallel, no uint64 temporaries)."""
    if use_numba and idx.size >= 100_000:
        return _NB.uniforms_idx(np.uint64(key), np.ascontiguousarray(idx, np.int64))
    return uniforms(key, idx)


def fill_uniforms_f32(use_numba: bool, key: int, out: np.ndarray) -> None:
    """out[i] = float32 of agent i's uniform, for every agent (in place)."""
    if use_numba:
        _NB.uniforms_f32(np.uint64(key), out)
    else:
        out[:] = uniforms(key, np.arange(out.size)).astype(np.float32)


def fill_uniforms_below(use_numba: bool, key: int, thr: float, out: np.ndarray) -> None:
    """out[i] = agent i's uniform < thr, for every agent (in place)."""
    if use_numba:
        _NB.uniforms_below(np.uint64(key), float(thr), out)
    else:
        out[:] = uniforms(key, np.arange(out.size)) < thr


def census_counts(use_numba: bool, ppl: Any, A1: int, R: int, C: int) -> np.ndarray:
    """Flat counts by status x actor+1 x region x community x fighting age x displaced."""
    K = 4 * A1 * R * C * 4
    if use_numba:
        return _NB.census(ppl.status, ppl.actor, ppl.region, ppl.community, ppl.fighting_age, ppl.displaced, A1, R, C, K)
    key = ppl.status.astype(np.int64) * A1 + (ppl.actor.astype(np.int64) + 1)
    key *= R
    key += ppl.region
    key *= C
    key += ppl.community
    key *= 2
    key += ppl.fighting_age
    key *= 2
    key += ppl.displaced
    return np.bincount(key, minlength=K)


def where_eq(use_numba: bool, a: np.ndarray, v: int) -> np.ndarray:
    """``np.flatnonzero(a == v)``."""
    if use_numba:
        return _NB.where_eq(a, a.dtype.type(v))
    return np.flatnonzero(a == v)


def add_one(use_numba: bool, a: np.ndarray) -> None:
    """``a += 1`` in place."""
    if use_numba:
        _NB.add_one_i16(a)
    else:
        a += 1
