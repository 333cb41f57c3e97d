"""What a run produced: :class:`Result`, with the panel as pandas and the files it writes.

>>> from shatterbelt import load_scenario, Simulation
>>> res = Simulation(load_scenario("iraq-2010"), scale=0.001, seed=1, until="2011-06").run()
>>> res
Result(scenario='iraq-2010', seed=1, scale=0.001, months=2010-07..2011-06 (12), civilian_deaths=4455)
>>> int(res.series("civilian_deaths").loc["2011-06"])             # national, by month
251
>>> res.series("population", region="Baghdad").index[:2].tolist()   # a region by name or id
['2010-07', '2010-08']
>>> res.to_pandas().columns.tolist()                              # the self-describing panel
['month', 'region_code', 'region_name', 'measure', 'subject', 'value']
>>> int(res.to_pandas(wide=True)["civilian_deaths"].sum())        # one column per metric/region
4455
>>> res.to_acled().num_columns, res.to_ged().column("type_of_violence").unique().to_pylist()
(31, [3, 1, 2])
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from . import outputs, report
from .errors import UsageError
from .exports import panel as panel_exports
from .exports.acled import acled_table
from .exports.ged import ged_table

if TYPE_CHECKING:
    import pyarrow as pa
    import xarray as xr

    from .scenario.schema import Scenario
    from .world import World

#: the ``region`` of country-wide rows in the panel
NATIONAL = outputs.NATIONAL


@dataclass(repr=False)
class Result:
    """Everything a run produced: panel, events, summary, the resolved scenario and timings.

    ``panel`` and ``events`` are the engine's compact pyarrow Tables (``month, region, metric,
    value`` and the event log), which ensembles store; :meth:`to_pandas` and :meth:`to_xarray`
    give the self-describing panel, :meth:`series` one metric, :meth:`to_acled` and
    :meth:`to_ged` the events as ACLED and UCDP GED data; :meth:`write` writes every output file.
    ``world`` is the engine's final state, for inspection and the engine's own tests.
    """

    scenario: Scenario
    seed: int
    scale: float
    world: World
    panel: Any  # pyarrow.Table: month, region, metric, value (compact)
    events: Any  # pyarrow.Table: the event log (a few of ACLED's columns)
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

        ``wide=False``: the self-describing panel, as ``panel.parquet`` holds it: one row per
        (month, region, measure, subject) with columns ``month`` (datetime64, the month's first
        day), ``region_code`` (``national`` for country-wide rows), ``region_name``, ``measure``,
        ``subject`` (an actor, community, entity, patron or bloc id; empty if none) and ``value``
        (units in :meth:`metrics`).
        ``wide=True``: one row per month (the index, ``YYYY-MM``) and one column per metric and
        region, named ``metric`` for national rows and ``metric/region`` for regional ones
        (``metric`` is the measure and subject joined: ``control_ka``).
        """
        if not wide:
            return panel_exports.to_frame(panel_exports.describe(self.panel, self.scenario))
        df = self.panel.to_pandas()
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

    def metrics(self) -> pd.DataFrame:
        """The metric dictionary of the panel (``metrics.csv``): name, subject kind, unit, stock or
        flow, levels and description of every measure."""
        return panel_exports.metrics_table(self.panel.column("metric").unique().to_pylist()).to_pandas()

    def to_xarray(self) -> xr.Dataset:
        """The panel as an xarray Dataset: dimensions ``month`` x ``region`` x ``subject``, one
        variable per measure with its unit (needs the ``interop`` extra: xarray).

        ``shatterbelt.exports.panel.from_xarray(ds)`` gives back :meth:`to_pandas`'s rows.
        """
        attrs = {"scenario": self.scenario.name, "seed": self.seed, "scale": self.scale,
                 "country": self.scenario.country or self.scenario.name}
        return panel_exports.to_xarray(self.to_pandas(), attrs)

    def to_acled(self) -> pa.Table:
        """The events with ACLED's full column set and codes (the written ``events.csv``)."""
        return acled_table(self.events, self.scenario, self.seed, self.scale)

    def to_ged(self) -> pa.Table:
        """The lethal events as UCDP GED rows (``shatterbelt export DIR --format ged``)."""
        return ged_table(self.to_acled(), self.scenario)

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
