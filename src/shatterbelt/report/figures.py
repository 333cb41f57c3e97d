"""Figure builders: ReportData -> renderer-neutral figure specs.

A :class:`Figure` is plain data (``kind``, titles, and a ``data`` dict of lists and
strings), so the same spec is rendered to inline SVG for the HTML report and for
notebooks (:mod:`.svg`), rasterised to PNG for papers (:mod:`.png`), or handed as
JSON to another front end (``Figure.to_dict()``).

Kinds:

``timeseries``  months on x; per series a median line and optional 50% and 90% bands;
                documented history as points; calibration window and out-of-sample years marked
``annual``      years on x; per series a median with 50%/90% ranges; documented history as points
``map``         the governorate choropleth: one layer per quantity, a class per region and month
``bars``        horizontal bars with an interval (effects of a comparison)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .data import NATIONAL, ReportData, documented_idps
from .png import svg_to_png
from .svg import render

#: one colour per series (Okabe-Ito, readable for colour-blind readers), then Tableau's
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#8C564B",
           "#7F7F7F", "#BCBD22", "#17BECF", "#9467BD"]
#: quantile levels of the bands drawn for an ensemble
BANDS = ((0.25, 0.75), (0.05, 0.95))
BAND_NOTE = "line: median of {n} runs; dark band: middle 50% of runs (25th-75th percentile); " \
            "light band: middle 90% (5th-95th)"


@dataclass
class Figure:
    """A renderer-neutral figure: render with :meth:`svg`, :meth:`png`, :meth:`save`, or show in Jupyter."""

    kind: str
    id: str
    title: str
    subtitle: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def svg(self, month: int | None = None, layer: int = 0) -> str:
        """Standalone SVG (a map at ``month``, default the last, showing layer ``layer``)."""
        return render(self, month=month, layer=layer)

    def png(self, scale: float = 2.0, layer: int = 0) -> bytes:
        """PNG bytes (needs the ``report`` extra)."""
        return svg_to_png(self.svg(layer=layer), scale=scale)

    def save(self, path: str) -> str:
        """Write ``path`` as .svg or .png (by its suffix); returns the path."""
        if str(path).lower().endswith(".png"):
            with open(path, "wb") as fh:
                fh.write(self.png())
        else:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(self.svg())
        return str(path)

    def _repr_html_(self) -> str:
        return self.svg()

    def __repr__(self) -> str:
        return f"Figure(kind={self.kind!r}, id={self.id!r}, title={self.title!r})"


# ---------------------------------------------------------------------- helpers
def _clean(a: np.ndarray, digits: int = 4) -> list[float | None]:
    return [None if not math.isfinite(float(x)) else round(float(x), digits) for x in np.asarray(a, float)]


def _quantiles(x: np.ndarray) -> dict[str, Any]:
    """x: [run, t] -> median and bands (bands only when there is more than one run)."""
    ok = np.isfinite(x).any(axis=0)
    with np.errstate(all="ignore"):
        if x.shape[0] == 1:
            return {"median": _clean(x[0]), "bands": []}
        q = np.full((5, x.shape[1]), np.nan)
        if ok.any():
            q[:, ok] = np.nanquantile(x[:, ok], [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
    return {"median": _clean(q[2]),
            "bands": [{"level": 0.5, "lo": _clean(q[1]), "hi": _clean(q[3])},
                      {"level": 0.9, "lo": _clean(q[0]), "hi": _clean(q[4])}]}


def band_note(data: ReportData) -> str:
    n = min(g.n for g in data.groups)
    if n <= 1:
        return f"one run (seed {data.groups[0].seeds[0]}); an ensemble adds median and 50%/90% bands"
    return BAND_NOTE.format(n=n)


def _split_marks(months: list[str], evaluation: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Shaded spans from the scenario's evaluation section: the in-sample window (to ``fit_until``) and
    the out-of-sample window (``test_from`` .. ``test_until``); none without the section."""
    if not evaluation or not evaluation.get("fit_until"):
        return []
    fit = str(evaluation["fit_until"])
    t0, t1 = str(evaluation.get("test_from") or ""), str(evaluation.get("test_until") or "")
    cal = [m for m in months if m <= fit]
    oos = [m for m in months if t0 and t0 <= m <= t1]
    spans = []
    if cal:
        to = fit[:4] if fit.endswith("-12") else fit
        spans.append({"from": cal[0], "to": cal[-1], "label": f"calibration window (to {to})", "style": "cal"})
    if oos:
        spans.append({"from": oos[0], "to": oos[-1], "label": "out of sample", "style": "oos"})
    return spans


def _history(pts_by_label: dict[str, list[tuple[Any, float]]], keep: Any) -> list[dict[str, Any]]:
    hist = []
    for label, pts in pts_by_label.items():
        pts = [(x, v) for x, v in pts if keep(x)]
        if pts:
            hist.append({"label": label, "x": [x for x, _ in pts], "y": [v for _, v in pts]})
    return hist


def _series(data: ReportData, metric: str, place: str, label: str, color: str, scale: float = 1.0,
            group: int = 0) -> dict[str, Any]:
    x = data.get(metric, place, group) * scale
    return {"label": label, "color": color, **_quantiles(x)}


def _group_series(data: ReportData, metric: str, place: str, label: str, scale: float = 1.0) -> list[dict[str, Any]]:
    """One series per scenario group (a comparison draws both), or one series."""
    if len(data.groups) == 1:
        return [_series(data, metric, place, label, PALETTE[0], scale)]
    return [_series(data, metric, place, g.label, PALETTE[i % len(PALETTE)], scale, i)
            for i, g in enumerate(data.groups)]


def timeseries(data: ReportData, id: str, title: str, unit: str, series: list[dict[str, Any]],
               history: list[dict[str, Any]] | None = None, log: bool = False, note: str = "",
               y_min: float | None = 0.0, y_max: float | None = None, marks: bool = True) -> Figure:
    return Figure(
        kind="timeseries", id=id, title=title, subtitle=f"{unit}; {band_note(data)}",
        data={"x": data.months, "series": series, "history": history or [], "unit": unit, "log": log,
              "spans": _split_marks(data.months, data.evaluation) if marks else [], "y_min": y_min,
              "y_max": y_max},
        note=note,
    )


# ---------------------------------------------------------------------- builders
def metric_figure(data: ReportData, metric: str, place: str = NATIONAL, title: str | None = None,
                  unit: str = "") -> Figure:
    """A time series of any recorded metric at one place (for notebooks)."""
    if not data.has(metric, place):
        raise KeyError(f"{metric!r} is not recorded at {place!r}")
    where = "" if place == NATIONAL else f" in {data.region_names.get(place, place)}"
    label = metric.replace("_", " ")
    return timeseries(data, f"metric-{metric}-{place}", title or f"{label}{where}".capitalize(), unit or label,
                      _group_series(data, metric, place, label), y_min=None)


def civilian_deaths_monthly(data: ReportData) -> Figure:
    months = set(data.months)
    hist = _history(data.documented("civilian_deaths", "month"), lambda m: m in months)
    return timeseries(data, "civilian-deaths", "Civilian deaths per month", "persons killed per month",
                      _group_series(data, "civilian_deaths", NATIONAL, "model"), hist)


def _annual(data: ReportData, metric: str | tuple[str, ...], group: int = 0) -> tuple[list[int], np.ndarray]:
    parts = (metric,) if isinstance(metric, str) else metric
    x = sum(np.nan_to_num(data.get(m, NATIONAL, group)) for m in parts)
    years = sorted({int(m[:4]) for m in data.months})
    out = np.zeros((x.shape[0], len(years)))
    for j, y in enumerate(years):
        cols = [i for i, m in enumerate(data.months) if int(m[:4]) == y]
        out[:, j] = np.nansum(x[:, cols], axis=1)
    return years, out


def deaths_annual(data: ReportData, metric: str | tuple[str, ...], measure: str, title: str) -> Figure:
    """Model deaths per calendar year (``metric``, or the sum of several) beside the scenario's documented
    ``measure`` by year (its observed file)."""
    years = sorted({int(m[:4]) for m in data.months})
    partial = {y for y in years if sum(1 for m in data.months if int(m[:4]) == y) < 12}
    series = []
    for i, g in enumerate(data.groups):
        _, a = _annual(data, metric, i)
        series.append({"label": "model" if len(data.groups) == 1 else g.label,
                       "color": PALETTE[i % len(PALETTE)], **_quantiles(a)})
    doc = {k: [(int(p), v) for p, v in pts] for k, pts in data.documented(measure, "year").items()}
    hist = _history(doc, lambda y: y in years and y not in partial)
    note = ""
    if partial:
        note = "partial years (model only, months simulated): " + ", ".join(str(y) for y in sorted(partial))
    fit = data.fit_until
    key = metric if isinstance(metric, str) else measure
    return Figure(kind="annual", id=f"{key}-annual", title=title,
                  subtitle=f"persons killed per calendar year; {band_note(data)}",
                  data={"x": years, "series": series, "history": hist, "unit": "persons killed per year",
                        "partial": sorted(partial), "calibration_end": int(fit[:4]) if fit else None},
                  note=note)


def fighters(data: ReportData) -> Figure:
    actors = data.prefixed("fighters_")
    peak = {a: float(np.nanmax(np.nanmedian(data.get(f"fighters_{a}"), axis=0))) for a in actors}
    actors = [a for a in sorted(actors, key=lambda a: -peak[a]) if peak[a] > 0]
    series = [_series(data, f"fighters_{a}", NATIONAL, data.actor(a), PALETTE[i % len(PALETTE)])
              for i, a in enumerate(actors)]
    if data.groups[0].n > 1:
        for s in series:  # a 90% band per actor crowds a log chart: keep the 50% band
            s["bands"] = s["bands"][:1]
    f = timeseries(data, "fighters", "Fighters by armed actor", "fighters (log scale)", series, log=True,
                   y_min=None)
    if data.groups[0].n > 1:
        f.subtitle = f"fighters (log scale); line: median of {data.groups[0].n} runs; band: middle 50% of runs"
    return f


def army_cohesion(data: ReportData) -> Figure:
    return timeseries(data, "army-cohesion", "Army cohesion", "cohesion index (0 to 1; 1 = a whole army)",
                      _group_series(data, "army_cohesion", NATIONAL, "army cohesion"), y_max=1.0)


def displacement(data: ReportData) -> Figure:
    hist = []
    h = documented_idps(str((data.evaluation or {}).get("observed") or ""))
    if h:
        pts = [(f"{y}-12", v / 1e6) for y, v in sorted(h.items()) if f"{y}-12" in data.months]
        if pts:
            hist.append({"label": "IDMC / UNHCR internally displaced", "x": [m for m, _ in pts],
                         "y": [v for _, v in pts]})
    return timeseries(data, "displaced", "Internally displaced people", "millions of people",
                      _group_series(data, "displaced", NATIONAL, "displaced", 1e-6), hist)


def microstates(data: ReportData) -> Figure:
    return timeseries(data, "microstates", "Microstates",
                      "connected groups of governorates dominated by one non-state entity (count)",
                      _group_series(data, "microstates", NATIONAL, "microstates"))


def patron_influence(data: ReportData) -> Figure:
    pats = data.prefixed("influence_")
    series = [_series(data, f"influence_{p}", NATIONAL, data.patron(p), PALETTE[i % len(PALETTE)])
              for i, p in enumerate(pats)]
    for s in series:
        s["bands"] = s["bands"][:1]
    f = timeseries(data, "patron-influence", "Foreign patrons' influence", "influence (0-1)", series, y_max=None)
    if data.groups[0].n > 1:
        f.subtitle = f"influence (0-1); line: median of {data.groups[0].n} runs; band: middle 50% of runs"
    return f


def legitimacy(data: ReportData) -> Figure:
    comms = data.prefixed("legitimacy_")
    series = [_series(data, f"legitimacy_{c}", NATIONAL, data.community(c), PALETTE[i % len(PALETTE)])
              for i, c in enumerate(comms)]
    for s in series:
        s["bands"] = s["bands"][:1]
    f = timeseries(data, "legitimacy", "Legitimacy of the state by community",
                   "share of each community that holds the state legitimate (0-1)", series, y_max=1.0)
    if data.groups[0].n > 1:
        f.subtitle = f"{f.data['unit']}; line: median of {data.groups[0].n} runs; band: middle 50% of runs"
    return f


def _first_group_only(data: ReportData, fig: Figure) -> Figure:
    """Charts with one line per actor, patron or community draw the first scenario of a comparison."""
    if len(data.groups) > 1:
        fig.subtitle += f"; {data.groups[0].label} only"
    return fig


def standard_figures(data: ReportData) -> list[Figure]:
    """Every time-series figure the report shows, in order (those the data can support)."""
    figs = []
    if data.has("civilian_deaths"):
        figs.append(civilian_deaths_monthly(data))
        figs.append(deaths_annual(data, "civilian_deaths", "civilian_deaths", "Civilian deaths per year"))
    if data.has("battle_deaths"):
        figs.append(deaths_annual(data, "battle_deaths", "battle_deaths", "Battle deaths per year"))
    if data.has("civilian_deaths") and data.has("battle_deaths") and data.documented("deaths", "year"):
        figs.append(deaths_annual(data, ("civilian_deaths", "battle_deaths"), "deaths",
                                  "Deaths per year (civilians and combatants)"))
    if data.prefixed("fighters_"):
        figs.append(_first_group_only(data, fighters(data)))
    if data.has("army_cohesion"):
        figs.append(army_cohesion(data))
    if data.has("displaced"):
        figs.append(displacement(data))
    if data.has("microstates"):
        figs.append(microstates(data))
    if data.prefixed("influence_"):
        figs.append(_first_group_only(data, patron_influence(data)))
    if data.prefixed("legitimacy_"):
        figs.append(_first_group_only(data, legitimacy(data)))
    return figs


def comparison_bars(data: ReportData) -> Figure | None:
    """The headline effects of a ``compare`` folder: b - a with a 90% interval, per metric."""
    cmp = data.tables.get("compare")
    if not cmp:
        return None
    rows = {r["metric"]: r for r in cmp.get("metrics", [])}
    bars = []
    for m in cmp.get("headline") or sorted(rows):  # the compare command's headline metrics
        r = rows.get(m)
        if not r or r.get("mean_a") in (None, 0) and r.get("effect") is None:
            continue
        eff, lo, hi = r.get("effect"), r.get("lo"), r.get("hi")
        if eff is None:
            continue
        base = abs(r.get("mean_a") or 0.0)
        scale = 100.0 / base if base > 0 else float("nan")
        if not math.isfinite(scale):
            continue
        bars.append({"label": m, "value": eff * scale, "lo": (lo if lo is not None else eff) * scale,
                     "hi": (hi if hi is not None else eff) * scale,
                     "text": f"{eff:+,.4g} ({r.get('mean_a'):,.4g} -> {r.get('mean_b'):,.4g})"})
    return Figure(kind="bars", id="compare", title=f"{cmp.get('b')} against {cmp.get('a')}",
                  subtitle=f"change of the mean over {cmp.get('pairs')} paired runs, % of {cmp.get('a')}'s mean; "
                           "whisker: 90% bootstrap interval over pairs",
                  data={"bars": bars, "unit": "% change"})
