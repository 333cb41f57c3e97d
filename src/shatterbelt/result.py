"""What a run produced: :class:`Result`, with the panel as pandas and the files it writes.

>>> from shatterbelt import load_scenario, Simulation
>>> res = Simulation(load_scenario("iraq-2010"), scale=0.001, seed=1, until="2011-06").run()
>>> res
Result(scenario='iraq-2010', seed=1, scale=0.001, months=2010-07..2011-06 (12), civilian_deaths=4455)
>>> int(res.series("civilian_deaths").loc["2011-06"])             # national, by month
251
>>> res.series("population", region="Baghdad").index[:2].tolist()   # a region by name or id
['2010-07', '2010-08']
>>> res.to_pandas().columns.tolist()                              # the tidy panel
['month', 'region', 'metric', 'value']
>>> int(res.to_pandas(wide=True)["civilian_deaths"].sum())        # one column per metric/region
4455
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from . import outputs, report
from .errors import UsageError

if TYPE_CHECKING:
    from .scenario.schema import Scenario
    from .world import World

#: the ``region`` of country-wide rows in the panel
NATIONAL = outputs.NATIONAL


@dataclass(repr=False)
class Result:
    """Everything a run produced: panel, events, summary, the resolved scenario and timings.

    ``panel`` and ``events`` are pyarrow Tables (the files' contents); :meth:`to_pandas` and
    :meth:`series` give the panel as pandas; :meth:`write` writes every output file.
    ``world`` is the engine's final state, for inspection and the engine's own tests.
    """

    scenario: Scenario
    seed: int
    scale: float
    world: World
    panel: Any  # pyarrow.Table: month, region, metric, value
    events: Any  # pyarrow.Table in ACLED's columns
    summary: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)

    def __repr__(self) -> str:
        s = self.summary
        civ = sum(int(v) for v in s.get("civilian_deaths_by_year", {}).values())
        partial = "" if s.get("complete", True) else ", INTERRUPTED"
        return (
            f"Result(scenario={self.scenario.name!r}, seed={self.seed}, scale={self.scale:g}, "
            f"months={s.get('start')}..{s.get('end')} ({s.get('months')}), civilian_deaths={civ}{partial})"
        )

    def to_pandas(self, wide: bool = False) -> pd.DataFrame:
        """The monthly panel as a pandas DataFrame.

        ``wide=False``: the tidy panel, one row per (month, region, metric) with columns
        ``month, region, metric, value`` (region ``national`` for country-wide metrics).
        ``wide=True``: one row per month (the index) and one column per metric and region,
        named ``metric`` for national rows and ``metric/region`` for regional ones.
        """
        df = self.panel.to_pandas()
        if not wide:
            return df
        col = df["metric"].where(df["region"] == NATIONAL, df["metric"] + "/" + df["region"])
        order = list(dict.fromkeys(col))
        out = df.assign(column=col).pivot(index="month", columns="column", values="value")
        out = out[order]
        out.columns.name = None
        return out

    def series(self, metric: str, region: str | None = None) -> pd.Series:
        """One metric as a pandas Series indexed by month.

        ``region`` is a region's id or name as in the scenario; ``None`` gives the national row.
        """
        names = {r.name: r.id for r in self.scenario.regions}
        where = NATIONAL if region is None else names.get(region, region)
        df = self.panel.to_pandas()
        rows = df[(df["metric"] == metric) & (df["region"] == where)]
        if rows.empty:
            known = df.loc[df["region"] == where, "metric"]
            if known.empty:
                regions = ", ".join(sorted(set(df["region"])))
                raise UsageError(f"region: '{where}' is not in the panel (regions: {regions})")
            in_regions = sorted(set(df.loc[df["metric"] == metric, "region"]))
            hint = f"; it is recorded for {', '.join(in_regions[:5])}" if in_regions else ""
            raise UsageError(f"metric: '{metric}' is not recorded for {where}{hint}")
        return pd.Series(rows["value"].to_numpy(), index=pd.Index(rows["month"].to_numpy(), name="month"), name=metric)

    def write(self, out_dir: str | os.PathLike[str]) -> dict[str, str]:
        """Write every output file into ``out_dir``; returns file name -> path."""
        return outputs.write_result(self, out_dir)

    def plot(self, metric: str = "civilian_deaths", region: str | None = None) -> report.Figure:
        """One figure of this run (see :func:`shatterbelt.report.plot`); it shows itself in Jupyter
        and saves as SVG or PNG with ``.save(path)``."""
        return report.plot(self, metric, region)

    def _repr_html_(self) -> str:
        """Jupyter's view of a Result: key figures and two small charts."""
        return report.result_html(self)


__all__ = ["NATIONAL", "Result"]
