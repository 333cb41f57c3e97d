"""Reports and figures: a run or an ensemble as one self-contained HTML page, SVG and PNG.

One set of figure builders (:mod:`.figures`, :mod:`.maps`) makes renderer-neutral
figure specs from what a run or an ensemble wrote; :mod:`.svg` draws them, :mod:`.html`
assembles the page (everything inlined, nothing fetched when it is viewed) and
:mod:`.png` rasterises them for papers (the ``report`` extra).  The report reads only
the files a run or an ensemble writes, never the engine.

From Python or a notebook::

    from shatterbelt import report
    report.build_report("out/iraq-2010")                 # -> out/iraq-2010/report.html
    report.plot("out/iraq-2010", "civilian_deaths")      # a Figure; shows itself in Jupyter
    report.fan_chart("out/ensemble-iraq-2010", "displaced").save("displaced.png")
    report.plot(result, "army_cohesion", region="IQ-NI") # a Result held in memory works too
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .data import NATIONAL, ReportData, ReportError, load
from .figures import Figure, metric_figure, standard_figures
from .html import build_html, result_html
from .maps import governorate_map, map_layer_figures
from .png import have_rasteriser, svg_to_png

__all__ = ["Figure", "ReportData", "ReportError", "ReportInfo", "build_report", "fan_chart", "figures", "load",
           "plot", "result_html"]

#: figures built for a metric name, when one exists (otherwise a plain time series)
_NAMED = {
    "civilian_deaths": "civilian-deaths", "battle_deaths": "battle_deaths-annual", "fighters": "fighters",
    "army_cohesion": "army-cohesion", "displaced": "displaced", "microstates": "microstates",
    "influence": "patron-influence", "patron_influence": "patron-influence", "legitimacy": "legitimacy",
}


@dataclass
class ReportInfo:
    """What :func:`build_report` wrote."""

    html: str
    bytes: int
    kind: str
    runs: int
    figures: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"html": self.html, "bytes": self.bytes, "kind": self.kind, "runs": self.runs,
                "figures": self.figures}


def _data(source: Any) -> ReportData:
    return source if isinstance(source, ReportData) else load(source)


def figures(source: Any) -> list[Figure]:
    """Every figure of the report of a run folder, an ensemble folder or a Result (map first)."""
    data = _data(source)
    m = governorate_map(data)
    return ([m] if m is not None else []) + standard_figures(data)


def plot(source: Any, metric: str = "civilian_deaths", region: str | None = None) -> Figure:
    """One figure of a run folder, an ensemble folder (median and bands) or a Result.

    ``metric`` is a metric of the panel (``civilian_deaths``, ``fighters_aqi``, ``control_state``
    with ``region="IQ-AN"`` ...), one of the report's figures (``fighters``, ``influence``,
    ``legitimacy``), or ``map``.
    """
    data = _data(source)
    if metric == "map":
        m = governorate_map(data)
        if m is None:
            raise ReportError("map: this source has no governorate rows")
        return m
    if region is None and metric in _NAMED:
        for f in standard_figures(data):
            if f.id == _NAMED[metric]:
                return f
    place = NATIONAL if region is None else region
    if place != NATIONAL and place not in data.places:
        by_name = {v: k for k, v in data.region_names.items()}
        place = by_name.get(place, place)
    try:
        return metric_figure(data, metric, place)
    except KeyError as exc:
        raise ReportError(f"plot: {exc.args[0]}") from None


def fan_chart(ensemble_dir: str | os.PathLike[str], metric: str = "civilian_deaths",
              region: str | None = None) -> Figure:
    """An ensemble's fan chart of one metric: median line, 50% and 90% bands."""
    return plot(ensemble_dir, metric, region)


def build_report(results_dir: str | os.PathLike[str], out: str | os.PathLike[str] | None = None,
                 figures_dir: str | os.PathLike[str] | None = None, png: bool = True) -> ReportInfo:
    """Write the report of a run or ensemble folder (default ``RESULTS_DIR/report.html``).

    With ``figures_dir`` every figure is also written there as SVG, and as PNG when the
    ``report`` extra is installed (``png=True`` then requires it).
    """
    data = load(results_dir)
    if not data.months:
        raise ReportError(f"{results_dir}: holds no monthly panel (an ensemble stored with --panel none?): "
                          "nothing to draw")
    figs = standard_figures(data)
    m = governorate_map(data)
    html = build_html(data, figs, m)
    path = Path(out) if out is not None else Path(results_dir) / "report.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, path)
    written: list[str] = []
    if figures_dir is not None:
        fdir = Path(figures_dir)
        fdir.mkdir(parents=True, exist_ok=True)
        svgs = [(f.id, f.svg()) for f in figs]
        if m is not None:
            svgs = [(f"map-{lid}", s) for lid, s in map_layer_figures(m)] + svgs
        if png and not have_rasteriser():
            svg_to_png("")  # raises the one-line error naming the extra
        for name, s in svgs:
            p = fdir / f"{name}.svg"
            p.write_text(s, encoding="utf-8")
            written.append(str(p))
            if png:
                q = fdir / f"{name}.png"
                q.write_bytes(svg_to_png(s))
                written.append(str(q))
    return ReportInfo(html=str(path), bytes=len(html.encode("utf-8")), kind=data.kind,
                      runs=sum(g.n for g in data.groups), figures=written)
