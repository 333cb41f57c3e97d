"""The public :class:`Ensemble`: many runs of one scenario, summarised for fan charts.

A thin front to the experiment machinery (:mod:`shatterbelt.experiments.ensemble`: seeds,
parameter samples, local or Dask workers, a resumable DuckDB store).  It keeps the national
panel of every run and gives, for every metric and month, the mean and the 5, 25, 50, 75 and
95% quantiles over the runs:

>>> import tempfile
>>> from shatterbelt import Ensemble
>>> ens = Ensemble("iraq-2010", runs=3, seed=0, scale=0.001, until="2010-12")
>>> res = ens.run(out=tempfile.mkdtemp())
>>> res
EnsembleSummary(scenario='iraq-2010', runs=3, months=6, metrics=106)
>>> res.quantiles("civilian_deaths").columns.tolist()
['n', 'mean', 'p05', 'p25', 'p50', 'p75', 'p95']

Running the same
ensemble into the same folder again resumes it: finished runs are read back, not recomputed.
Needs the ``experiments`` extra (DuckDB, SciPy).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UsageError
from .design import grid_size
from .ensemble import Ensemble as _Design
from .ensemble import check_failures

if TYPE_CHECKING:
    import pandas as pd

#: quantile levels of the fan table, and the column each goes to
QUANTILES = {"p05": 0.05, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p95": 0.95}


@dataclass(repr=False)
class EnsembleSummary:
    """What :meth:`Ensemble.run` gives: the fan table, the per-run metrics, where they are stored."""

    scenario: str
    runs: int
    out: Path
    fan: pd.DataFrame  # month, metric, n, mean, p05, p25, p50, p75, p95 (national rows)
    metrics: pd.DataFrame  # one row per run (index: run index), one column per outcome metric
    computed: int  # runs computed by this call (the others were read back from ``out``)
    wall_s: float

    def __repr__(self) -> str:
        months = self.fan["month"].nunique() if len(self.fan) else 0
        metrics = self.fan["metric"].nunique() if len(self.fan) else 0
        return f"EnsembleSummary(scenario={self.scenario!r}, runs={self.runs}, months={months}, metrics={metrics})"

    def quantiles(self, metric: str) -> pd.DataFrame:
        """One metric's fan: indexed by month, columns ``n, mean, p05, p25, p50, p75, p95``."""
        rows = self.fan[self.fan["metric"] == metric]
        if rows.empty:
            raise UsageError(f"metric: '{metric}' is not a national panel metric of this ensemble")
        return rows.drop(columns="metric").set_index("month")


class Ensemble:
    """Many runs of one scenario over seeds (and, with ``sample="lhs"``, parameter samples).

    Run ``i`` uses seed ``seed + i``; ``sets`` are ``path=value`` overrides applied to every run,
    as ``--set`` on the command line.  ``grid`` (``path=v1,v2,...`` items, as ``--grid``) makes a
    full factorial design instead, each point run ``seeds`` times (``runs`` is then points x seeds).
    :meth:`run` computes what ``out`` does not hold yet; more runs than ``out`` holds grow it.
    """

    def __init__(
        self,
        scenario: str,
        runs: int = 20,
        seed: int = 0,
        scale: float = 0.01,
        until: str | None = None,
        sets: list[str] | None = None,
        sample: str = "none",
        grid: list[str] | None = None,
        seeds: int = 1,
    ) -> None:
        self.scenario = scenario
        self.runs = runs
        self.seed = seed
        self.scale = scale
        self.until = until
        self.sets = list(sets or [])
        self.sample = sample
        self.grid = list(grid or [])
        self.seeds = seeds
        if self.grid:
            self.runs = grid_size(self.grid) * seeds

    def __repr__(self) -> str:
        return (
            f"Ensemble({self.scenario!r}, runs={self.runs}, seed={self.seed}, scale={self.scale:g}"
            + (f", until={self.until!r}" if self.until else "")
            + (f", sample={self.sample!r}" if self.sample != "none" else "")
            + (f", grid={self.grid!r}, seeds={self.seeds}" if self.grid else "")
            + ")"
        )

    def run(self, out: str | os.PathLike[str], workers: int | None = 1, progress: bool = False) -> EnsembleSummary:
        """Run the ensemble into the folder ``out`` and summarise it.

        ``workers=1`` runs in this process; ``workers=K`` starts K local processes (call it under
        ``if __name__ == "__main__":`` in a script), ``workers=None`` one per CPU core.
        """
        design = _Design(
            [self.scenario], runs=self.runs, out=out, sample=self.sample, seed=self.seed, scale=self.scale,
            until=self.until, overrides=self.sets, panel="national", events=False, grid=self.grid, seeds=self.seeds,
        )
        res = design.run(workers=workers, progress=progress)
        try:
            check_failures(res)
            label = design.scenarios[0]
            metrics = res.metrics(label)
            levels = ", ".join(f"quantile_cont(p.value, {q}) AS {name}" for name, q in QUANTILES.items())
            fan = res.store.query(
                "SELECT p.month, p.metric, count(*) AS n, avg(p.value) AS mean, " + levels + " "
                "FROM panel p JOIN runs r USING (run_id) "
                "WHERE r.scenario = ? AND p.region = 'national' "
                "GROUP BY p.month, p.metric ORDER BY p.metric, p.month",
                [label],
            )
        finally:
            res.close()
        return EnsembleSummary(label, res.done, Path(out), fan, metrics, res.computed, res.wall_s)


__all__ = ["QUANTILES", "Ensemble", "EnsembleSummary"]
