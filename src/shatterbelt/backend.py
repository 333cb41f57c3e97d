"""Backend selection, in one place: which implementation runs the per-person passes.

Every per-agent rule has one definition that runs on two backends with byte-identical
results: compiled by numba (fast, multi-threaded) or on NumPy arrays (the fallback
for platforms without numba).  This module is the only place that decides which:

* ``"numpy"``: always the NumPy path;
* ``"numba"``: the numba path, or a :class:`~shatterbelt.errors.UsageError` if numba
  cannot be used;
* ``"auto"`` (the default): numba when it is installed and not disabled, and the work is
  large enough to repay compiling (see :func:`resolve_backend`).

``SHATTERBELT_NO_NUMBA=1`` disables numba everywhere; ``SHATTERBELT_BACKEND`` gives the
default for engine runs that do not name a backend.
"""

from __future__ import annotations

import importlib.util
import os

from .errors import UsageError

BACKENDS: tuple[str, ...] = ("auto", "numba", "numpy")

#: ``auto`` takes numba from this many agents (below it numba's start-up costs more than it saves)
AUTO_MIN_AGENTS = 1_000_000


def numba_disabled() -> bool:
    """True when ``SHATTERBELT_NO_NUMBA`` is set to a true value."""
    return os.environ.get("SHATTERBELT_NO_NUMBA", "").strip().lower() not in ("", "0", "false", "no")


def numba_installed() -> bool:
    """True when the numba package can be imported (without importing it)."""
    return importlib.util.find_spec("numba") is not None


def have_numba() -> bool:
    """True when numba can be used: installed and not disabled."""
    return not numba_disabled() and numba_installed()


def default_backend() -> str:
    """The backend named by ``$SHATTERBELT_BACKEND``, else ``auto``."""
    return os.environ.get("SHATTERBELT_BACKEND", "auto") or "auto"


def resolve_backend(backend: str | None, n_agents: int, min_agents: int = AUTO_MIN_AGENTS) -> str:
    """Resolve a backend name to ``"numba"`` or ``"numpy"``.

    ``auto`` means the same everywhere: numba when it can be used and there are at least
    ``min_agents`` agents (numba's start-up is paid back only on large populations), else NumPy.

    >>> resolve_backend("numpy", 10)
    'numpy'
    >>> resolve_backend("auto", 10)
    'numpy'
    """
    b = (backend if backend is not None else default_backend()).strip().lower()
    if b not in BACKENDS:
        raise UsageError(f"backend: must be one of {', '.join(BACKENDS)}, got '{backend}'")
    if b == "numpy":
        return "numpy"
    if b == "numba":
        if not have_numba():
            why = "disabled by SHATTERBELT_NO_NUMBA" if numba_disabled() else "numba is not installed"
            raise UsageError(f"backend: numba is not available ({why})")
        return "numba"
    return "numba" if (n_agents >= min_agents and have_numba()) else "numpy"


__all__ = ["BACKENDS", "AUTO_MIN_AGENTS", "default_backend", "have_numba", "numba_disabled", "numba_installed",
           "resolve_backend"]
