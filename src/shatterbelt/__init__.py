"""shatterbelt: a population-scale agent-based model of a state broken into sectarian microstates.

The public API mirrors the CLI::

    from shatterbelt import load_scenario, Simulation
    sc = load_scenario("iraq-2010")
    result = Simulation(sc, scale=0.01, seed=7).run()
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
