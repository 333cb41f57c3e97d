"""The governorate choropleth: geometry projected once, one layer of classes per quantity.

The polygons are geoBoundaries' (package data ``<country>/<country>_governorates.geojson``,
CC0, credited on the map); the map drawn is the one whose regions are the scenario's.  A
polygon that covers under half its governorate's official area (Iraq's Baghdad: about 913 km²
of 4,555 km²) is outlined, labelled with a leader line and explained.
Each layer holds, for every month and region, a colour class and a hover text;
an ensemble is mapped through the median over its runs.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .data import ReportData, governorate_areas, governorate_features, map_folder, map_note
from .figures import Figure
from .svg import esc, fmt, render_map

MAP_W, MAP_H = 760, 610
BOX = (16, 76, 470, 490)  # x, y, width, height of the map itself

BLUES = ["#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"]
YLORRD = ["#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026"]
PURPLES = ["#f2f0f7", "#dadaeb", "#bcbddc", "#9e9ac8", "#756bb1", "#54278f"]
BRBG = ["#a6611a", "#dfc27d", "#f5f5f5", "#80cdc1", "#018571"]
ABSENT = "#d9d9d9"
#: categorical colours for armed actors (distinct, print-safe)
ACTOR_COLORS = ["#1f78b4", "#e31a1c", "#33a02c", "#ff7f00", "#6a3d9a", "#b15928", "#a6cee3", "#fb9a99",
                "#b2df8a", "#fdbf6f", "#cab2d6", "#ffff99"]


def _project(features: list[dict[str, Any]]) -> tuple[list[list[list[tuple[float, float]]]], Any]:
    rings_all = []
    lons, lats = [], []
    for f in features:
        g = f["geometry"]
        polys = [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]
        rings_all.append(polys)
        for p in polys:
            for r in p:
                for lon, lat in r:
                    lons.append(lon)
                    lats.append(lat)
    lat0 = (min(lats) + max(lats)) / 2
    kx = math.cos(math.radians(lat0))
    w = (max(lons) - min(lons)) * kx
    h = max(lats) - min(lats)
    x, y, bw, bh = BOX
    s = min(bw / w, bh / h)
    ox = x + (bw - w * s) / 2
    oy = y + (bh - h * s) / 2

    def proj(lon: float, lat: float) -> tuple[float, float]:
        return ox + (lon - min(lons)) * kx * s, oy + (max(lats) - lat) * s
    out = []
    for polys in rings_all:
        out.append([[proj(lon, lat) for lon, lat in r] for p in polys for r in p])
    return out, proj


def _d(rings: list[list[tuple[float, float]]]) -> str:
    parts = []
    for r in rings:
        pts = []
        last = None
        for px, py in r:
            q = (round(px, 1), round(py, 1))
            if q != last:
                pts.append(f"{q[0]:g},{q[1]:g}")
                last = q
        parts.append("M" + "L".join(pts) + "Z")
    return "".join(parts)


def _centroid(rings: list[list[tuple[float, float]]]) -> tuple[float, float]:
    """Area centroid of the outer ring (shoelace)."""
    r = rings[0]
    a = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(r, r[1:] + r[:1], strict=True):
        c = x0 * y1 - x1 * y0
        a += c
        cx += (x0 + x1) * c
        cy += (y0 + y1) * c
    if abs(a) < 1e-9:
        return r[0]
    return cx / (3 * a), cy / (3 * a)


def _bins(values: np.ndarray, edges: list[float]) -> np.ndarray:
    """Class of each value: k where edges[k] <= v < edges[k+1] (last class open); -1 when NaN."""
    cls = np.digitize(values, edges[1:-1], right=False) if len(edges) > 2 else np.zeros(values.shape, int)
    cls = np.where(np.isfinite(values), cls, -1)
    return cls.astype(int)


def _legend(colors: list[str], edges: list[float], fmt_edge: Any, open_last: bool = True) -> list[dict[str, str]]:
    items = []
    for k, c in enumerate(colors):
        lo = fmt_edge(edges[k])
        if k == len(colors) - 1 and open_last:
            label = f"{lo} or more"
        else:
            label = f"{lo} to {fmt_edge(edges[k + 1])}"
        items.append({"color": c, "label": label})
    return items


def _median(x: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.nanmedian(x, axis=0) if x.shape[0] > 1 else x[0]


def _layers(data: ReportData, order: list[str]) -> list[dict[str, Any]]:
    T = len(data.months)
    layers = []
    nruns = data.groups[0].n
    of = f" (median of {nruns} runs)" if nruns > 1 else ""
    idx = [data.regions.index(r) for r in order]
    pop = _median(data.regional("population"))[:, idx]

    # dominant armed actor
    actors = data.prefixed("fighters_", order[0]) or data.prefixed("fighters_")
    if actors:
        f = np.stack([_median(data.regional(f"fighters_{a}"))[:, idx] for a in actors], axis=-1)
        f = np.nan_to_num(f)
        tot = f.sum(-1)
        top = f.argmax(-1)
        used = sorted(set(top[tot > 0].ravel().tolist()), key=lambda a: actors[a])
        colour = {a: ACTOR_COLORS[i % len(ACTOR_COLORS)] for i, a in enumerate(used)}
        legend = [{"color": colour[a], "label": data.actor(actors[a])} for a in used]
        legend.append({"color": ABSENT, "label": "no armed actor"})
        pos = {a: i for i, a in enumerate(used)}
        cls = np.where(tot > 0, np.vectorize(lambda a: pos.get(a, len(used)))(top), len(used))
        text = [[(f"{data.actor(actors[top[t, r]])}, {fmt(f[t, r, top[t, r]])} of {fmt(tot[t, r])} fighters "
                  f"({100 * f[t, r, top[t, r]] / tot[t, r]:.0f}%){of}") if tot[t, r] > 0 else "no fighters"
                 for r in range(len(order))] for t in range(T)]
        layers.append({"id": "dominant", "title": "Dominant armed actor (most fighters)",
                       "legend_title": "Armed actor with most fighters", "legend": legend,
                       "cls": cls.tolist(), "text": text})

    if data.has("control_state", order[0]):
        v = _median(data.regional("control_state"))[:, idx]
        edges = [0, 0.2, 0.4, 0.6, 0.8, 1.0]
        cls = np.minimum(_bins(v, edges), 4)
        ents = data.prefixed("control_", order[0])
        others = [e for e in ents if e != "state"]
        ov = np.stack([_median(data.regional(f"control_{e}"))[:, idx] for e in others], -1) if others else None
        text = []
        for t in range(T):
            row = []
            for r in range(len(order)):
                s = f"state holds {100 * v[t, r]:.0f}% of control"
                if ov is not None and np.isfinite(ov[t, r]).any():
                    k = int(np.nanargmax(ov[t, r]))
                    if ov[t, r, k] > 0.005:
                        s += f"; strongest rival: {data.entity(others[k])} {100 * ov[t, r, k]:.0f}%"
                row.append(s + of)
            text.append(row)
        layers.append({"id": "state_control", "title": "State control share",
                       "legend_title": "State's share of control (%)",
                       "legend": _legend(BLUES, [e * 100 for e in edges], lambda e: f"{e:.0f}%", open_last=False),
                       "cls": cls.tolist(), "text": text})

    if data.has("civilian_deaths", order[0]):
        civ = _median(data.regional("civilian_deaths"))[:, idx]
        bat = np.nan_to_num(_median(data.regional("battle_deaths"))[:, idx])
        with np.errstate(all="ignore"):
            rate = (civ + bat) / pop * 1e5
        edges = [0, 0.5, 1, 2, 5, 10, math.inf]
        cls = _bins(rate, edges)
        text = [[f"{rate[t, r]:.2f} killed per 100,000 people (civilians {fmt(civ[t, r])}, fighters {fmt(bat[t, r])})"
                 f"{of}" for r in range(len(order))] for t in range(T)]
        layers.append({"id": "violence", "title": "Violence per capita",
                       "legend_title": "Killed per 100,000 people, per month",
                       "legend": _legend(YLORRD, edges, lambda e: f"{e:g}"), "cls": cls.tolist(), "text": text})

    if data.has("displaced", order[0]):
        disp = _median(data.regional("displaced"))[:, idx]
        with np.errstate(all="ignore"):
            pct = disp / pop * 100
        edges = [0, 1, 2, 5, 10, 20, math.inf]
        cls = _bins(pct, edges)
        text = [[f"{fmt(disp[t, r])} displaced people here ({pct[t, r]:.1f}% of its population){of}"
                 for r in range(len(order))] for t in range(T)]
        layers.append({"id": "displaced", "title": "Displaced people",
                       "legend_title": "Displaced people living here (% of population)",
                       "legend": _legend(PURPLES, edges, lambda e: f"{e:g}%"), "cls": cls.tolist(), "text": text})

    for c in data.prefixed("legitimacy_", order[0]):
        v = _median(data.regional(f"legitimacy_{c}"))[:, idx]
        pc = _median(data.regional(f"population_{c}"))[:, idx]
        edges = [0, 0.2, 0.4, 0.6, 0.8, 1.0]
        cls = np.minimum(_bins(v, edges), 4)
        with np.errstate(all="ignore"):
            share = pc / pop
        absent = ~(share >= 0.01) if np.isfinite(pc).any() else ~np.isfinite(v)
        cls = np.where(absent, len(BRBG), cls)
        legend = _legend(BRBG, edges, lambda e: f"{e:.1f}", open_last=False)
        legend.append({"color": ABSENT, "label": "community under 1% here"})
        text = [[(f"{data.community(c)}: legitimacy {v[t, r]:.2f} ({100 * share[t, r]:.0f}% of the population)"
                  f"{of}") if not absent[t, r] else f"{data.community(c)}: under 1% of the population"
                 for r in range(len(order))] for t in range(T)]
        layers.append({"id": f"legitimacy_{c}", "title": f"Legitimacy of the state: {data.community(c)}",
                       "button": f"Legitimacy: {data.community(c).split(' (')[0]}",
                       "legend_title": f"Legitimacy among {data.community(c)} (0-1)", "legend": legend,
                       "cls": cls.tolist(), "text": text})
    return layers


def governorate_map(data: ReportData) -> Figure | None:
    """The choropleth of the governorates (None when the panel has no regional rows or no package map has
    exactly its regions)."""
    if not data.regions:
        return None
    folder = map_folder(list(data.regions))
    if folder is None:
        return None
    features = governorate_features(folder)
    isos = [f["properties"]["iso"] for f in features]
    rings, _ = _project(features)
    areas = governorate_areas(folder)
    feats, labels = [], []
    for f, rr in zip(features, rings, strict=True):
        iso = f["properties"]["iso"]
        name = data.region_names.get(iso, f["properties"]["name"])
        official, drawn = areas.get(iso, (0.0, 0.0))
        small = official > 0 and drawn < 0.5 * official
        feats.append({"iso": iso, "name": name, "d": _d(rr), "outline": small})
        cx, cy = _centroid(rr)
        halo = 'stroke="#fff" stroke-width="2.6" paint-order="stroke" stroke-linejoin="round"'
        if small:
            lx, ly = cx + 58, cy - 34
            labels.append({"svg": f'<g pointer-events="none"><line x1="{cx:.1f}" y1="{cy:.1f}" x2="{lx - 2:.1f}" '
                                  f'y2="{ly + 3:.1f}" stroke="#222" stroke-width="0.8"/>'
                                  f'<text x="{lx:.1f}" y="{ly:.1f}" font-size="10.5" font-weight="bold" fill="#111" '
                                  f'{halo}>{esc(name)}*</text></g>'})
        else:
            labels.append({"svg": f'<text x="{cx:.1f}" y="{cy + 3:.1f}" font-size="9.5" fill="#222" '
                                  f'text-anchor="middle" pointer-events="none" {halo}>{esc(name)}</text>'})
    layers = _layers(data, isos)
    if not layers:
        return None
    bg = [i for i, f in enumerate(feats) if f["outline"]]
    notes = []
    if bg:
        iso = feats[bg[0]]["iso"]
        official, drawn = areas[iso]
        notes.append(f"* {feats[bg[0]]['name']} (dashed): the map file's polygon covers about {drawn:,.0f} km² of the "
                     f"governorate's {official:,.0f} km²; its colour stands for the whole governorate.")
    notes.append(map_note(folder))
    n = data.groups[0].n
    sub = "hover a governorate for its figures; " + (f"median of {n} runs" if n > 1 else f"seed {data.groups[0].seeds[0]}")
    return Figure(kind="map", id="map", title="Governorates", subtitle=sub,
                  data={"width": MAP_W, "height": MAP_H, "months": data.months, "features": feats, "labels": labels,
                        "layers": layers, "legend_x": BOX[0] + BOX[2] + 22, "legend_y": 110, "notes": notes})


def map_layer_figures(fig: Figure) -> list[tuple[str, str]]:
    """(layer id, static SVG at the last month) for every layer, for ``--figures``."""
    return [(L["id"], render_map(fig, layer=k)) for k, L in enumerate(fig.data["layers"])]
