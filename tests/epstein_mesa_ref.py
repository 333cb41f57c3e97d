"""Mesa's own Epstein example, for the equivalence test and the benchmark (not part of the library).

``tests/test_epstein_mesa.py`` imports this module from the tests directory;
``benchmarks/bench_epstein.py`` puts that directory on ``sys.path`` first.  Mesa is an
optional dependency (the ``test`` and ``bench`` extras).
"""

from __future__ import annotations

import os
import sys
import types
from typing import Any


def load_mesa_model() -> type:
    """Return ``EpsteinCivilViolence`` from the installed Mesa's examples.

    ``mesa.examples/__init__.py`` imports every example, some of which need
    optional packages (networkx, ...).  We register the three parent packages
    as bare namespace modules so that only the Epstein example is imported,
    unchanged, from Mesa's own files.
    """
    import mesa  # noqa: PLC0415 - optional dependency

    root = os.path.join(os.path.dirname(mesa.__file__), "examples")
    chain = (
        ("mesa.examples", root),
        ("mesa.examples.advanced", os.path.join(root, "advanced")),
        (
            "mesa.examples.advanced.epstein_civil_violence",
            os.path.join(root, "advanced", "epstein_civil_violence"),
        ),
    )
    for name, path in chain:
        if name not in sys.modules:
            mod = types.ModuleType(name)
            mod.__path__ = [path]
            sys.modules[name] = mod
    from mesa.examples.advanced.epstein_civil_violence.model import EpsteinCivilViolence  # noqa: PLC0415

    return EpsteinCivilViolence


def mesa_series(seed: int, steps: int, **kwargs: Any) -> dict[str, list[int]]:
    """Run Mesa's own example for ``steps`` steps and return its per-step actives and jailed.

    ``kwargs`` are the example's constructor arguments (``cop_density``,
    ``legitimacy``, ``max_jail_term``, ...).  A module-level function so that
    it can run in worker processes.
    """
    model_cls = load_mesa_model()
    m = model_cls(seed=seed, max_iters=10**9, **kwargs)
    active: list[int] = []
    jailed: list[int] = []
    for _ in range(steps):
        m.step()
        active.append(int(m.ACTIVE))
        jailed.append(int(m.ARRESTED))
    return {"active": active, "jailed": jailed}
