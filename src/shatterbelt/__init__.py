"""shatterbelt: a population-scale agent-based model of a state broken into sectarian microstates.

The public API mirrors the CLI (``shatterbelt run``, ``shatterbelt ensemble``)::

    load_scenario(spec, sets)   a built-in name, base+variant or YAML file, with path=value overrides
    Simulation(scenario, ...)   one run at a scale with a seed; .run() gives a Result
    run(scenario, ...)          Simulation(...).run() in one call
    Result                      panel, events, summary; .series(), .to_pandas(), .write(dir)
    Ensemble(scenario, ...)     many runs; .run(out) gives quantiles by month for fan charts
                                (needs the ``experiments`` extra)

>>> from shatterbelt import load_scenario, Simulation
>>> sc = load_scenario("iraq-2010+us-stays", ["economy.corruption=0.2"])
>>> res = Simulation(sc, scale=0.001, seed=7, until="2011-06").run()
>>> res
Result(scenario='iraq-2010+us-stays', seed=7, scale=0.001, months=2010-07..2011-06 (12), civilian_deaths=5882)
>>> res.series("civilian_deaths").index[0]
'2010-07'

The names are imported on first use, so ``import shatterbelt`` stays cheap and importing one
submodule does not load the whole engine.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: public name -> module that defines it (imported on first access)
_EXPORTS = {
    "load_scenario": "shatterbelt.resolve",
    "Simulation": "shatterbelt.sim",
    "run": "shatterbelt.sim",
    "Result": "shatterbelt.result",
    "Ensemble": "shatterbelt.experiments.public",
}

__all__ = ["Ensemble", "Result", "Simulation", "__version__", "load_scenario", "run"]

if TYPE_CHECKING:
    from .experiments.public import Ensemble
    from .resolve import load_scenario
    from .result import Result
    from .sim import Simulation, run


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'shatterbelt' has no attribute {name!r}")
    try:
        value = getattr(importlib.import_module(module), name)
    except ModuleNotFoundError as exc:
        if name != "Ensemble" or (exc.name or "").startswith("shatterbelt"):
            raise
        raise ModuleNotFoundError(
            f"shatterbelt.Ensemble needs the 'experiments' extra ({exc.name} is missing): "
            "pip install 'shatterbelt[experiments]'",
            name=exc.name,
        ) from exc
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
