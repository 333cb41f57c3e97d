"""Random numbers of the Epstein models: counter-based hashes of ``(seed, stream, step, agent)``.

A stream's key at a step is derived from the seed with the engine's splitmix64 finaliser
(:mod:`shatterbelt.rng`), in Python integers (:func:`stream_key`) and in numba
(:func:`stream_key_nb`); an agent's draw hashes its index into the key (``rng.hash64``,
``rng.uniforms``).  Nothing depends on a generator's hidden state, so both back ends and
any number of threads give the same numbers.
"""

from __future__ import annotations

import numpy as np

from ... import rng as _rng
from ._jit import mix64, njit
from .codes import RSTRIDE, S_MOVE

_UG = np.uint64(_rng.GOLDEN)
_U1 = np.uint64(1)

uniforms = _rng.uniforms
hashes = _rng.hashes


def stream_key(seed: int, stream: int, step: int) -> int:
    """Key of ``(seed, stream, step)``; the per-agent draw hashes the agent index into it."""
    mix, g = _rng._mix, _rng.GOLDEN
    return mix(mix(mix(int(seed) + g) ^ (stream * g)) + (step + 1) * g)


@njit(inline="always")
def stream_key_nb(seed, stream, step):
    """:func:`stream_key` in numba (``seed`` a ``uint64``)."""
    return mix64((mix64(mix64(seed + _UG) ^ (np.uint64(stream) * _UG))) + (np.uint64(step) + _U1) * _UG)


def move_draws(seed: int, t: int, idx: np.ndarray) -> np.ndarray:
    """(n, RSTRIDE) movement uniforms of agents ``idx`` at step ``t``."""
    j = np.arange(RSTRIDE, dtype=np.int64)
    return uniforms(stream_key(seed, S_MOVE, t), idx.astype(np.int64)[:, None] * RSTRIDE + j[None, :])
