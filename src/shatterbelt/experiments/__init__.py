"""Experiments: ensembles (local processes or Dask), paired comparisons, the essay's claims,
the back-test, calibration, sensitivity analysis and the event-size power law.

The Python API mirrors the CLI::

    from shatterbelt.experiments import Ensemble, run_claims
    res = Ensemble(["iraq-2010"], runs=20, sample="lhs", out="out/ens").run(workers=2)
    res.metrics("iraq-2010")["deaths.total"].describe()

In a script that uses local worker processes, call these under ``if __name__ == "__main__":``
(worker processes are started with ``spawn``, which re-imports the main module).
"""

from __future__ import annotations

from .backtest import run_backtest
from .calibrate import run_calibration
from .claims import CLAIMS, run_claims
from .compare import run_compare
from .ensemble import Ensemble, EnsembleResult
from .powerlaw import fit_powerlaw
from .sensitivity import run_sensitivity
from .store import ResultStore

__all__ = [
    "CLAIMS",
    "Ensemble",
    "EnsembleResult",
    "ResultStore",
    "fit_powerlaw",
    "run_backtest",
    "run_calibration",
    "run_claims",
    "run_compare",
    "run_sensitivity",
]
