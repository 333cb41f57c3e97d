"""Lazy numba compilation for the engine's kernels: ``njit`` and ``prange`` that cost nothing until used.

A kernel module (``_fast_kernels`` and each mechanism's ``*_kernels`` module) decorates its
functions with :func:`njit` from here.  Until a numba kernel is first called, the decorated
functions are :class:`LazyKernel` placeholders and numba is not imported, so the NumPy backend
(and the command line) never pays for importing numba.  The first call of any kernel of a
module compiles the whole module at once: every placeholder in it is replaced by a real numba
dispatcher and the module's ``prange`` becomes ``numba.prange``, so kernels can call one another
and run parallel loops.  Compiled kernels are cached on disk (``cache=True``) beside the module.

Each per-person rule is a plain function written once in its mechanism's kernel module: the
NumPy backend calls it on arrays, and the numba kernels inline it (``njit(inline="always")``)
on scalars, so both backends evaluate the same IEEE operations in the same order.  Numba's
cache is invalidated by a change of the kernel's own file; keeping a rule in the same file as
the kernels that inline it keeps the cache correct.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

#: ``prange`` before compilation (the kernels' Python bodies are never run in Python)
prange = range


class LazyKernel:
    """A function to be compiled by numba (with ``options``) the first time its module is used."""

    def __init__(self, func: Callable[..., Any], options: dict[str, Any]) -> None:
        self.py_func = func
        self.options = options
        self.__name__ = func.__name__
        self.__qualname__ = func.__qualname__
        self.__doc__ = func.__doc__
        self.__module__ = func.__module__

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        compile_module(self.__module__)
        return getattr(sys.modules[self.__module__], self.__name__)(*args, **kwargs)


def njit(*args: Any, **options: Any) -> Any:
    """``numba.njit``, deferred: ``@njit``, ``@njit(parallel=True, cache=True)``, ``njit(inline="always")(f)``."""
    if args and callable(args[0]) and not options:
        return LazyKernel(args[0], {})

    def deco(func: Callable[..., Any]) -> LazyKernel:
        return LazyKernel(func, options)

    return deco


def compile_module(name: str) -> None:
    """Replace every :class:`LazyKernel` of module ``name`` by a numba dispatcher (idempotent)."""
    mod = sys.modules[name]
    g = vars(mod)
    if g.get("_NUMBA_READY"):
        return
    # numba's OpenMP threads must sleep, not spin, at the end of a parallel loop: spinning threads
    # steal the cores the rest of the pass needs whenever another process runs too; set before
    # the threading layer loads
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import numba  # optional dependency: imported only when a numba kernel is used

    g["prange"] = numba.prange
    g["_NUMBA_READY"] = True
    lazy = [(k, v) for k, v in g.items() if isinstance(v, LazyKernel)]
    for k, v in lazy:
        if v.__module__ == name:
            g[k] = numba.njit(**v.options)(v.py_func)
    # kernels imported from another kernel module: that module's own dispatchers (compiled first,
    # so that their globals are dispatchers too); numba resolves globals at a kernel's first call
    for k, v in lazy:
        if v.__module__ != name:
            compile_module(v.__module__)
            g[k] = getattr(sys.modules[v.__module__], v.__name__)


__all__ = ["LazyKernel", "compile_module", "njit", "prange"]
