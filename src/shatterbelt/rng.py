"""Random numbers: one named stream per decision, stateless per agent.

Two kinds of randomness are used, both reproducible from ``(seed, stream name,
month)`` alone, so that a run's results never depend on the order in which
modules drew numbers, on the number of threads, or on the executor:

* **Per-agent uniforms** come from a counter-based hash (splitmix64) of
  ``(seed, stream, month, agent index)``.  Agent *i* gets the same number for
  the same decision in the same month in every scenario, which gives common
  random numbers (CRN) across paired scenarios: two runs differ only where
  their decisions differ.  The same formula is implemented in the numba
  kernels, so NumPy and numba give identical results.
* **Aggregate draws** (event counts, event sizes, dates) come from a NumPy
  ``Generator`` seeded by ``SeedSequence([seed, stream_hash, month])``.
"""

from __future__ import annotations

import zlib

import numpy as np

_M64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
_C1 = 0xBF58476D1CE4E5B9
_C2 = 0x94D049BB133111EB
_INV53 = 1.0 / (1 << 53)


def _mix(z: int) -> int:
    """splitmix64 finaliser on a Python int (mod 2**64)."""
    z &= _M64
    z = ((z ^ (z >> 30)) * _C1) & _M64
    z = ((z ^ (z >> 27)) * _C2) & _M64
    return z ^ (z >> 31)


def stream_id(name: str) -> int:
    """A stable 32-bit id for a stream name (never Python's salted ``hash``)."""
    return zlib.crc32(name.encode("utf-8"))


def stream_key(seed: int, name: str, month: int) -> int:
    """The 64-bit key of stream ``name`` at ``month`` for ``seed``."""
    return _mix(_mix(_mix(int(seed) + GOLDEN) ^ stream_id(name)) + (int(month) + 1) * GOLDEN)


def hashes(key: int, idx: np.ndarray) -> np.ndarray:
    """Raw 64-bit splitmix64 hashes of agent indices ``idx`` under ``key`` (vectorised)."""
    z = np.asarray(idx, dtype=np.uint64) + np.uint64(1)
    z *= np.uint64(GOLDEN)
    z += np.uint64(key)
    z ^= z >> np.uint64(30)
    z *= np.uint64(_C1)
    z ^= z >> np.uint64(27)
    z *= np.uint64(_C2)
    z ^= z >> np.uint64(31)
    return z


# The same hash on one ``uint64`` value, as plain arithmetic on NumPy scalars that numba
# compiles unchanged (``numba.njit(hash64)``): kernels take it from here instead of
# writing their own copy.  Self-contained (no calls), so that it compiles on its own.
_U1, _U11, _U27, _U30, _U31 = np.uint64(1), np.uint64(11), np.uint64(27), np.uint64(30), np.uint64(31)
_UGOLDEN, _UC1, _UC2 = np.uint64(GOLDEN), np.uint64(_C1), np.uint64(_C2)


def mix64(z: np.uint64) -> np.uint64:
    """splitmix64 finaliser of a ``uint64`` (bit-identical to :func:`_mix`)."""
    z = (z ^ (z >> _U30)) * _UC1
    z = (z ^ (z >> _U27)) * _UC2
    return z ^ (z >> _U31)


def hash64(key: np.uint64, i: int | np.integer) -> np.uint64:
    """The hash of one agent index ``i`` under ``key``: one element of :func:`hashes`."""
    z = (np.uint64(i) + _U1) * _UGOLDEN + key
    z = (z ^ (z >> _U30)) * _UC1
    z = (z ^ (z >> _U27)) * _UC2
    return z ^ (z >> _U31)


def uniforms(key: int, idx: np.ndarray) -> np.ndarray:
    """Uniform [0, 1) numbers for agent indices ``idx`` under ``key``: the top 53 bits of the hash."""
    return (hashes(key, idx) >> np.uint64(11)).astype(np.float64) * _INV53


class Streams:
    """Named random streams for one run (seed)."""

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)

    def key(self, name: str, month: int) -> int:
        return stream_key(self.seed, name, month)

    def agent_uniforms(self, name: str, month: int, idx: np.ndarray) -> np.ndarray:
        """Per-agent uniforms: agent i always gets the same number for (name, month)."""
        return uniforms(self.key(name, month), idx)

    def generator(self, name: str, month: int) -> np.random.Generator:
        """An aggregate-level generator for (name, month)."""
        ss = np.random.SeedSequence([self.seed & 0xFFFFFFFF, self.seed >> 32, stream_id(name), month + 1])
        return np.random.Generator(np.random.PCG64(ss))


def stochastic_round(x: np.ndarray | float, u: np.ndarray | float) -> np.ndarray:
    """floor(x) + 1 with probability frac(x): unbiased rounding of person counts to agents."""
    x = np.asarray(x, dtype=np.float64)
    f = np.floor(x)
    return (f + (np.asarray(u) < (x - f))).astype(np.int64)
