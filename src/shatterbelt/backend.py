"""Backend selection, in one place: which implementation runs the per-person passes.

Every per-agent rule has one definition that runs on two backends with byte-identical
results: compiled by numba (fast, multi-threaded) or on NumPy arrays (the fallback
for platforms without numba).  This module is the only place that decides which:

* ``"numpy"``: always the NumPy path;
* ``"numba"``: the numba path, or a :class:`~shatterbelt.errors.UsageError` if numba
  cannot be used;
* ``"auto"`` (the default): numba whenever it is installed and not disabled, else NumPy.
  The kernels are cached on disk (numba's ``cache=True``), so only the first run on a
  machine pays for compiling them (about 15 s); later runs start as fast as NumPy.

``SHATTERBELT_NO_NUMBA=1`` disables numba everywhere; ``SHATTERBELT_BACKEND`` gives the
default for engine runs that do not name a backend.
"""

from __future__ import annotations

import importlib.util
import os

from .errors import UsageError

BACKENDS: tuple[str, ...] = ("auto", "numba", "numpy")

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


def resolve_backend(backend: str | None = None) -> str:
    """Resolve a backend name (None: :func:`default_backend`) to ``"numba"`` or ``"numpy"``.

    ``auto`` means the same everywhere (engine and Epstein models): numba whenever it can be
    used, else NumPy.  Both give byte-identical results.

    >>> resolve_backend("numpy")
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
    return "numba" if have_numba() else "numpy"


__all__ = ["BACKENDS", "default_backend", "have_numba", "numba_disabled", "numba_installed", "resolve_backend"]
