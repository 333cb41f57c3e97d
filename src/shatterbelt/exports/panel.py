"""The self-describing panel: measures with their subject, region codes and names, a metric
dictionary, and the same panel as an xarray Dataset (and NetCDF).

The engine records a compact panel (``Result.panel``: ``month`` as ``YYYY-MM`` text,
``region`` as the region's id or ``national``, ``metric`` as a name that carries its subject,
such as ``control_ka``).  What a run writes, and what :meth:`~shatterbelt.result.Result.to_pandas`
and :meth:`~shatterbelt.result.Result.to_xarray` give, is the self-describing layout:

======================  ===================================================================
``month``               the month's first day (a date)
``region_code``         the region's id (ISO 3166-2 for Iraq), ``national`` for the country
``region_name``         the region's name as in the scenario; the country's name for ``national``
``measure``             what is measured (``control``, ``fighters``, ``population``, ...)
``subject``             whom it is about: an actor, community, entity, patron or bloc id;
                        empty when the measure has no subject (``population`` with no subject is
                        everyone in the region)
``value``               the value, in the unit ``metrics.csv`` gives
======================  ===================================================================

:data:`METRICS` is the metric dictionary: every measure the record step can write, with its
unit, whether it is a stock (the level at the end of the month) or a flow (the amount during
the month), the kind of its subject and a description; ``metrics.csv`` is written from it with
every run.  A test checks that it covers every metric of the record step's panel order.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ..modules.record import NATIONAL_ORDER, REGIONAL_ORDER

if TYPE_CHECKING:
    import xarray as xr

    from ..scenario.schema import Scenario

NATIONAL = "national"
#: the columns of the self-describing panel, in order
PANEL_COLUMNS = ("month", "region_code", "region_name", "measure", "subject", "value")
#: the columns of ``metrics.csv``, in order
METRIC_COLUMNS = ("name", "subject_kind", "unit", "stock_or_flow", "levels", "description")
_FAMILIES = ("community", "actor", "entity", "patron", "bloc")


@dataclass(frozen=True)
class Metric:
    """One entry of the metric dictionary (``template`` as the record step declares it)."""

    template: str
    unit: str
    kind: str  # "stock" or "flow"
    description: str

    @property
    def subject_kind(self) -> str:
        for fam in _FAMILIES:
            if "{" + fam + "}" in self.template:
                return fam
        return ""

    @property
    def name(self) -> str:
        """The measure: the template without its subject (``fighters_{actor}`` -> ``fighters``)."""
        fam = self.subject_kind
        return self.template.replace("_{" + fam + "}", "") if fam else self.template

    @property
    def prefix(self) -> str:
        return self.template.split("{")[0] if self.subject_kind else self.template

    @property
    def levels(self) -> str:
        lv = [n for n, order in (("regional", REGIONAL_ORDER), ("national", NATIONAL_ORDER)) if self.template in order]
        return " ".join(lv)


P, PM = "persons", "persons per month"
#: the metric dictionary, in the panel's order (regional first, then national-only measures)
METRICS: tuple[Metric, ...] = (
    Metric("population", P, "stock", "persons alive at the end of the month (in the region, or in the country)"),
    Metric("displaced", P, "stock", "internally displaced persons at the end of the month (in the region where they are now)"),
    Metric("civilian_deaths", PM, "flow", "civilians killed in the month's events (persons; events' fatalities)"),
    Metric("battle_deaths", PM, "flow", "fighters killed in the month's events between armed actors (persons)"),
    Metric("attacks", "events per month", "flow", "attacks launched in the month (on forces and on civilians)"),
    Metric("army_cohesion", "index 0-1", "stock", "cohesion of the state army (in the region; nationally weighted by soldiers); 1 = fully cohesive"),
    Metric("army_collapsed", "flag 0/1", "stock", "1 if the army has collapsed in the region"),
    Metric("services", "index 0-1", "stock", "public services delivered, relative to need (0.63 at the funding need)"),
    Metric("foreign_troops", P, "stock", "foreign troops deployed in the region"),
    Metric("dominant_share", "share 0-1", "stock", "control share of the region's dominant entity"),
    Metric("politicization", "index 0-1", "stock", "politicization of the army in the region (1 - sum of squared shares of the groups soldiers answer to)"),
    Metric("legitimacy_{community}", "index 0-1", "stock", "legitimacy of the state in the eyes of the community (nationally: population-weighted)"),
    Metric("fear_{community}", "index 0-1", "stock", "fear of the community in the region"),
    Metric("population_{community}", P, "stock", "persons of the community alive in the region at the end of the month"),
    Metric("fighters_{actor}", P, "stock", "fighters of the actor (in the region; nationally all its fighters, troops for a foreign force)"),
    Metric("control_{entity}", "share 0-1", "stock", "share of the region controlled by the entity (the state, a bloc's forces or a parentless actor)"),
    Metric("deaths_cumulative", P, "stock", "persons dead since the start of the run"),
    Metric("new_displaced", PM, "flow", "persons who fled their homes in the month"),
    Metric("displaced_since_start", P, "stock", "persons displaced since the start of the run and still displaced"),
    Metric("returned", PM, "flow", "displaced persons who returned home in the month"),
    Metric("detained", P, "stock", "persons in detention at the end of the month"),
    Metric("microstates", "count", "stock", "entities other than the state that hold at least one region"),
    Metric("contested_regions", "count", "stock", "regions no entity controls outright"),
    Metric("control_changes", "count per month", "flow", "regions whose controlling entity changed in the month"),
    Metric("vacuum", "flag 0/1", "stock", "1 if a caretaker government holds office (no government formed)"),
    Metric("vacuum_months", "months", "stock", "months the current power vacuum has lasted"),
    Metric("revenue", "USD per month", "flow", "government revenue in the month"),
    Metric("ghost_share", "share 0-1", "stock", "share of the army's payroll that pays ghost soldiers"),
    Metric("insurgent_fighters", P, "stock", "fighters of all insurgent actors"),
    Metric("defections", PM, "flow", "fighters who left one actor for another in the month"),
    Metric("representation_{community}", "ratio 0-1", "stock", "the community's share of power over its share of the population, capped at 1"),
    Metric("capacity_{actor}", P, "stock", "fighters the actor can keep paying (expected income and reserves over pay)"),
    Metric("recruits_{actor}", PM, "flow", "persons the actor recruited in the month"),
    Metric("unpaid_months_{actor}", "months", "stock", "consecutive months the actor's fighters have gone unpaid"),
    Metric("detentions_{actor}", PM, "flow", "fighters of the actor detained in the month"),
    Metric("influence_{patron}", "index 0-1", "stock", "the foreign patron's influence"),
    Metric("patron_budget_{patron}", "USD per month", "flow", "the patron's budget for its clients in the month"),
    Metric("rents_{bloc}", "USD per month", "flow", "rents the bloc draws from the state in the month"),
)
_BY_TEMPLATE = {m.template: m for m in METRICS}
_PLAIN = {m.template: m for m in METRICS if not m.subject_kind}
_FAMILY = sorted((m for m in METRICS if m.subject_kind), key=lambda m: -len(m.prefix))


def split_metric(metric: str) -> tuple[str, str, Metric | None]:
    """A compact metric name as ``(measure, subject, dictionary entry)``.

    ``control_ka`` -> ``("control", "ka", ...)``; ``population`` -> ``("population", "", ...)``.
    A name the dictionary does not know is its own measure with no subject and no entry.
    """
    if metric in _PLAIN:
        return metric, "", _PLAIN[metric]
    for m in _FAMILY:
        if metric.startswith(m.prefix) and len(metric) > len(m.prefix):
            return m.name, metric[len(m.prefix):], m
    return metric, "", None


def join_metric(measure: str, subject: str) -> str:
    """The compact metric name of ``(measure, subject)`` (the inverse of :func:`split_metric`)."""
    return f"{measure}_{subject}" if subject else measure


def _month_date(m: str) -> dt.date:
    y, mo = m.split("-")
    return dt.date(int(y), int(mo), 1)


def describe(panel: pa.Table, sc: Scenario) -> pa.Table:
    """The compact panel (``month, region, metric, value``) in the self-describing layout."""
    months = panel.column("month").to_pylist()
    regions = panel.column("region").to_pylist()
    metrics = panel.column("metric").to_pylist()
    names = {r.id: r.name for r in sc.regions}
    names[NATIONAL] = sc.country or sc.name
    split = {m: split_metric(m) for m in set(metrics)}
    dates = {m: _month_date(m) for m in set(months)}
    return pa.table({
        "month": pa.array([dates[m] for m in months], pa.date32()),
        "region_code": pa.array(regions, pa.string()),
        "region_name": pa.array([names.get(r, r) for r in regions], pa.string()),
        "measure": pa.array([split[m][0] for m in metrics], pa.string()),
        "subject": pa.array([split[m][1] for m in metrics], pa.string()),
        "value": panel.column("value").cast(pa.float64()),
    })


def is_described(table: pa.Table) -> bool:
    """Whether a panel table is in the self-describing layout (else the compact one)."""
    return "measure" in table.column_names


def compact(table: pa.Table) -> pa.Table:
    """A self-describing panel back in the compact layout (``month, region, metric, value``)."""
    if not is_described(table):
        return table
    months = [d.strftime("%Y-%m") if d is not None else "" for d in table.column("month").to_pylist()]
    metrics = [join_metric(m, s) for m, s in zip(table.column("measure").to_pylist(),
                                                  table.column("subject").to_pylist(), strict=True)]
    return pa.table({
        "month": pa.array(months, pa.string()),
        "region": table.column("region_code").cast(pa.string()),
        "metric": pa.array(metrics, pa.string()),
        "value": table.column("value").cast(pa.float64()),
    })


def metrics_table(metric_names: list[str]) -> pa.Table:
    """``metrics.csv``: the dictionary's entries for the metrics of a panel, in the dictionary's order.

    A metric the dictionary does not know gets a row with an empty unit and description (the
    test of the dictionary keeps that from happening to the engine's own metrics).
    """
    used: dict[tuple[str, str], Metric | None] = {}
    for name in metric_names:
        measure, _, entry = split_metric(name)
        key = (measure, entry.subject_kind if entry else "")
        used.setdefault(key, entry)
    rows = [m for m in METRICS if (m.name, m.subject_kind) in used]
    unknown = [k for k, v in used.items() if v is None]
    cols: dict[str, list[str]] = {c: [] for c in METRIC_COLUMNS}
    for m in rows:
        for c, v in zip(METRIC_COLUMNS, (m.name, m.subject_kind, m.unit, m.kind, m.levels, m.description), strict=True):
            cols[c].append(v)
    for name, kind in unknown:
        for c, v in zip(METRIC_COLUMNS, (name, kind, "", "", "", ""), strict=True):
            cols[c].append(v)
    return pa.table({c: pa.array(v, pa.string()) for c, v in cols.items()})


def to_frame(table: pa.Table) -> pd.DataFrame:
    """A self-describing panel table as pandas, ``month`` as ``datetime64``."""
    df = table.to_pandas()
    df["month"] = pd.to_datetime(df["month"])
    return df


def to_xarray(df: pd.DataFrame, attrs: dict[str, Any] | None = None) -> xr.Dataset:
    """The self-describing panel as an xarray Dataset: one variable per measure.

    Dimensions ``month`` x ``region`` x ``subject`` (a measure without subjects has only
    ``month`` x ``region``; ``subject`` "" of a measure with subjects is its total, as
    ``population`` of a region); cells a measure does not cover are NaN.  Coordinates:
    ``month`` (datetime64), ``region`` (the codes) with ``region_name`` along it, and
    ``subject``.  Each variable carries ``units``, ``stock_or_flow``, ``subject_kind`` and
    ``long_name`` from the metric dictionary.
    """
    import xarray as xr

    months = pd.DatetimeIndex(sorted(df["month"].unique()))
    regions = list(dict.fromkeys(df["region_code"]))
    names = dict(zip(df["region_code"], df["region_name"], strict=True))
    subjects = [s for s in dict.fromkeys(df["subject"]) if s != ""]
    subjects = ([""] if (df["subject"] == "").any() else []) + subjects
    mi = pd.Index(months).get_indexer(pd.DatetimeIndex(df["month"]))
    ri = pd.Index(regions).get_indexer(df["region_code"])
    si = pd.Index(subjects).get_indexer(df["subject"])
    data_vars = {}
    for measure in dict.fromkeys(df["measure"]):
        rows = (df["measure"] == measure).to_numpy()
        has_subject = bool((df.loc[rows, "subject"] != "").any())
        entry = next((m for m in METRICS if m.name == measure and (m.subject_kind != "") == has_subject), None)
        plain = _PLAIN.get(measure) if has_subject else None
        va = {"long_name": entry.description, "units": entry.unit, "stock_or_flow": entry.kind,
              "subject_kind": entry.subject_kind} if entry else {}
        if entry and plain is not None:  # e.g. population: subject "" is everyone
            va["long_name"] = f"{entry.description}; subject '': {plain.description}"
        if has_subject:
            arr = np.full((len(months), len(regions), len(subjects)), np.nan)
            arr[mi[rows], ri[rows], si[rows]] = df.loc[rows, "value"].to_numpy()
            data_vars[measure] = (("month", "region", "subject"), arr, va)
        else:
            arr = np.full((len(months), len(regions)), np.nan)
            arr[mi[rows], ri[rows]] = df.loc[rows, "value"].to_numpy()
            data_vars[measure] = (("month", "region"), arr, va)
    coords = {
        "month": months.values,
        "region": np.array(regions, dtype=object),
        "region_name": ("region", np.array([names[r] for r in regions], dtype=object)),
        "subject": np.array(subjects, dtype=object),
    }
    return xr.Dataset(data_vars, coords=coords, attrs=dict(attrs or {}))


def from_xarray(ds: xr.Dataset) -> pd.DataFrame:
    """The self-describing panel from a Dataset of :func:`to_xarray` (NaN cells dropped).

    Rows are ordered by measure (the Dataset's order), month, region and subject.
    """
    names = dict(zip(ds["region"].values.tolist(), ds["region_name"].values.tolist(), strict=True))
    parts = []
    for measure, var in ds.data_vars.items():
        df = var.to_dataframe(name="value").reset_index()
        if "subject" not in var.dims:
            df["subject"] = ""
        df = df[df["value"].notna()]
        parts.append(pd.DataFrame({
            "month": pd.to_datetime(df["month"]).to_numpy(),
            "region_code": df["region"].astype(str).to_numpy(),
            "region_name": df["region"].map(names).astype(str).to_numpy(),
            "measure": measure,
            "subject": df["subject"].astype(str).to_numpy(),
            "value": df["value"].to_numpy(np.float64),
        }))
    cols = list(PANEL_COLUMNS)
    return pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)


def write_netcdf(ds: xr.Dataset, path: str) -> None:
    """Write a Dataset of :func:`to_xarray` as NetCDF-4 (h5netcdf engine), strings as variable length."""
    out = ds.copy()
    for name in ("region", "region_name", "subject"):
        out[name] = out[name].astype(str)
    out.to_netcdf(path, engine="h5netcdf")


__all__ = [
    "METRICS", "METRIC_COLUMNS", "NATIONAL", "PANEL_COLUMNS", "Metric", "compact", "describe", "from_xarray",
    "is_described", "join_metric", "metrics_table", "split_metric", "to_frame", "to_xarray", "write_netcdf",
]
