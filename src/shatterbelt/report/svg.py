"""Render figure specs to standalone SVG (no script, no external reference).

The same SVG is inlined in the HTML report, shown in notebooks and rasterised to PNG.
Hover text uses SVG ``<title>`` elements, which every browser shows as a tooltip.
Every element the HTML page's script touches carries a ``data-*`` attribute; the SVG
itself needs no script.
"""

from __future__ import annotations

import math
from html import escape
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .figures import Figure

FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
W, H = 760, 350
ML, MR, MT, MB = 70, 20, 76, 64
INK = "#222"
GRID = "#e3e3e3"
AXIS = "#888"
HIST = "#111"


def esc(s: Any) -> str:
    return escape(str(s), quote=True)


def fmt(v: float | None, unit: str = "") -> str:
    """A number as an analyst reads it: 12,345 / 1.2 M / 0.41."""
    if v is None or not math.isfinite(v):
        return "n/a"
    a = abs(v)
    if a >= 1e6:
        s = f"{v / 1e6:,.2f} M"
    elif a >= 100:
        s = f"{v:,.0f}"
    elif a >= 10:
        s = f"{v:,.1f}"
    elif a == 0:
        s = "0"
    else:
        s = f"{v:.2f}"
    return s


def _tick_label(v: float) -> str:
    a = abs(v)
    if a >= 1e6:
        s = f"{v / 1e6:g}M"
    elif a >= 1e3:
        s = f"{v / 1e3:g}k"
    else:
        s = f"{v:g}"
    return s


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        hi = lo + 1.0
    span = hi - lo
    step = 10 ** math.floor(math.log10(span / n))
    for m in (1, 2, 2.5, 5, 10):
        if span / (step * m) <= n:
            step *= m
            break
    start = math.floor(lo / step) * step
    ticks = []
    v = start
    while v <= hi + step * 1e-9:
        ticks.append(round(v, 10))
        v += step
    if ticks[-1] < hi:
        ticks.append(round(v, 10))
    return ticks


def log_ticks(lo: float, hi: float) -> list[float]:
    a = math.floor(math.log10(max(lo, 1e-12)))
    b = math.ceil(math.log10(max(hi, 1e-12)))
    return [10.0 ** k for k in range(a, b + 1)]


def _head(fig: Figure, w: int, h: int) -> list[str]:
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
           f'font-family="{FONT}" data-figure="{esc(fig.id)}" role="img" aria-label="{esc(fig.title)}">',
           f'<rect width="{w}" height="{h}" fill="#fff"/>',
           f'<text x="12" y="22" font-size="16" font-weight="bold" fill="{INK}">{esc(fig.title)}</text>']
    y = 40
    for line in wrap(fig.subtitle, int((w - 24) / 6.2)):
        out.append(f'<text x="12" y="{y}" font-size="11" fill="#555">{esc(line)}</text>')
        y += 14
    return out


def wrap(text: str, width: int) -> list[str]:
    """Split at '; ' and spaces into lines of at most ``width`` characters."""
    lines: list[str] = []
    cur = ""
    for word in text.split(" "):
        if cur and len(cur) + 1 + len(word) > width:
            lines.append(cur)
            cur = word
        else:
            cur = f"{cur} {word}" if cur else word
    if cur:
        lines.append(cur)
    return lines


def _values(series: list[dict[str, Any]], history: list[dict[str, Any]]) -> list[float]:
    vals: list[float] = []
    for s in series:
        vals += [v for v in s["median"] if v is not None]
        for b in s.get("bands", []):
            vals += [v for v in b["lo"] + b["hi"] if v is not None]
    for hh in history:
        vals += [v for v in hh["y"] if v is not None]
    return vals


def _path(points: list[tuple[float, float | None]]) -> str:
    """Polyline path through the points, broken where a value is missing."""
    d, pen = [], False
    for x, y in points:
        if y is None:
            pen = False
            continue
        d.append(f"{'L' if pen else 'M'}{x:.1f},{y:.1f}")
        pen = True
    return "".join(d)


def _band(xs: list[float], lo: list[float | None], hi: list[float | None]) -> str:
    """Closed area between lo and hi over the runs of months where both exist."""
    parts, run = [], []
    for x, a, b in zip(xs, lo, hi, strict=True):
        if a is None or b is None:
            if run:
                parts.append(run)
            run = []
        else:
            run.append((x, a, b))
    if run:
        parts.append(run)
    d = []
    for r in parts:
        top = "L".join(f"{x:.1f},{b:.1f}" for x, _, b in r)
        bot = "L".join(f"{x:.1f},{a:.1f}" for x, a, _ in reversed(r))
        d.append(f"M{top}L{bot}Z")
    return "".join(d)


def _legend_rows(labels: list[str], x0: float, w: int) -> int:
    rows, x = 1, x0
    for label in labels:
        width = 34 + 6.3 * len(label)
        if x + width > w - 10 and x > x0:
            rows, x = rows + 1, x0
        x += width + 10
    return rows


def _legend(items: list[tuple[str, str]], x0: float, y0: float, w: int) -> list[str]:
    """items: (svg snippet for a 24x10 swatch at 0,0, label); wraps to new rows."""
    out, x, y = [], x0, y0
    for sw, label in items:
        width = 34 + 6.3 * len(label)
        if x + width > w - 10 and x > x0:
            x, y = x0, y + 17
        out.append(f'<g transform="translate({x:.0f},{y:.0f})">{sw}'
                   f'<text x="30" y="9" font-size="11" fill="{INK}">{esc(label)}</text></g>')
        x += width + 10
    return out


def _line_swatch(color: str, band: bool) -> str:
    s = f'<rect x="0" y="0" width="24" height="10" fill="{color}" fill-opacity="0.18"/>' if band else ""
    return s + f'<line x1="0" y1="5" x2="24" y2="5" stroke="{color}" stroke-width="2.2"/>'


def _hist_swatch(i: int) -> str:
    return _marker(12, 5, i, "#fff")


def _marker(x: float, y: float, i: int, fill: str = "#fff") -> str:
    if i % 2 == 0:
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.6" fill="{fill}" stroke="{HIST}" stroke-width="1.6"/>'
    return (f'<rect x="{x - 3.4:.1f}" y="{y - 3.4:.1f}" width="6.8" height="6.8" fill="{HIST}" '
            f'stroke="{HIST}" stroke-width="1"/>')


def _scale_y(fig: Figure, vals: list[float], y0: float, y1: float):  # type: ignore[no-untyped-def]
    d = fig.data
    log = bool(d.get("log"))
    if log:
        pos = [v for v in vals if v > 0] or [1.0]
        lo, hi = min(pos), max(pos)
        ticks = log_ticks(lo, hi)
        a, b = math.log10(ticks[0]), math.log10(ticks[-1])

        def sy(v: float | None) -> float | None:
            if v is None or v <= 0:
                return None
            return y1 - (math.log10(v) - a) / (b - a) * (y1 - y0)
        return sy, ticks
    lo = min(vals) if vals else 0.0
    hi = max(vals) if vals else 1.0
    if d.get("y_min") is not None:
        lo = min(lo, d["y_min"])
    if d.get("y_max") is not None:
        hi = max(hi, d["y_max"]) if hi > d["y_max"] else d["y_max"]
    if hi == lo:
        hi = lo + 1.0
    ticks = nice_ticks(lo, hi)
    a, b = ticks[0], ticks[-1]

    def sy(v: float | None) -> float | None:
        if v is None:
            return None
        return y1 - (v - a) / (b - a) * (y1 - y0)
    return sy, ticks


def _series_legend(d: dict[str, Any], has_bands: bool) -> list[tuple[str, str]]:
    items = [(_line_swatch(s["color"], has_bands), s["label"]) for s in d["series"]]
    items += [(_hist_swatch(i), h["label"]) for i, h in enumerate(d.get("history", []))]
    return items


def render_timeseries(fig: Figure) -> str:
    d = fig.data
    months: list[str] = d["x"]
    n = len(months)
    labels = [s["label"] for s in d["series"]] + [h["label"] for h in d.get("history", [])]
    h = H + 17 * (_legend_rows(labels, ML, W) - 1)
    x0, x1, y0, y1 = ML, W - MR, MT, H - MB
    out = _head(fig, W, h)

    def sx(i: float) -> float:
        return x0 + (i / max(n - 1, 1)) * (x1 - x0)
    mi = {m: i for i, m in enumerate(months)}
    sy, ticks = _scale_y(fig, _values(d["series"], d.get("history", [])), y0, y1)
    # spans: calibration window and out-of-sample years
    for sp in d.get("spans", []):
        a, b = mi[sp["from"]], mi[sp["to"]]
        xa, xb = sx(max(a - 0.5, 0)), sx(min(b + 0.5, n - 1))
        if sp["style"] == "oos":
            out.append(f'<rect x="{xa:.1f}" y="{y0}" width="{xb - xa:.1f}" height="{y1 - y0}" fill="#f3efe6"/>')
            out.append(f'<line x1="{xa:.1f}" y1="{y0}" x2="{xa:.1f}" y2="{y1}" stroke="#b59f6b" stroke-dasharray="4 3"/>')
        out.append(f'<text x="{(xa + xb) / 2:.1f}" y="{y0 - 5}" font-size="10" fill="#8a7a55" '
                   f'text-anchor="middle">{esc(sp["label"])}</text>')
    for t in ticks:
        y = sy(t)
        if y is None:
            continue
        out.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x1}" y2="{y:.1f}" stroke="{GRID}"/>')
        out.append(f'<text x="{x0 - 6}" y="{y + 4:.1f}" font-size="11" fill="#444" text-anchor="end">'
                   f'{esc(_tick_label(t))}</text>')
    for i, m in enumerate(months):
        if m.endswith("-01") or i == 0:
            x = sx(i)
            out.append(f'<line x1="{x:.1f}" y1="{y1}" x2="{x:.1f}" y2="{y1 + 5}" stroke="{AXIS}"/>')
            label = m[:4] if m.endswith("-01") else m
            out.append(f'<text x="{x:.1f}" y="{y1 + 18}" font-size="11" fill="#444" text-anchor="middle">{label}</text>')
    out.append(f'<line x1="{x0}" y1="{y1}" x2="{x1}" y2="{y1}" stroke="{AXIS}"/>')
    xs = [sx(i) for i in range(n)]
    has_bands = any(s.get("bands") for s in d["series"])
    for s in d["series"]:
        for b in sorted(s.get("bands", []), key=lambda b: -b["level"]):
            op = 0.14 if b["level"] > 0.6 else 0.28
            path = _band(xs, [sy(v) for v in b["lo"]], [sy(v) for v in b["hi"]])
            if path:
                out.append(f'<path d="{path}" fill="{s["color"]}" fill-opacity="{op}" stroke="none" '
                           f'data-band="{b["level"]}"/>')
    for s in d["series"]:
        path = _path(list(zip(xs, [sy(v) for v in s["median"]], strict=True)))
        out.append(f'<path d="{path}" fill="none" stroke="{s["color"]}" stroke-width="2" data-series="{esc(s["label"])}"/>')
    for j, hs in enumerate(d.get("history", [])):
        for m, v in zip(hs["x"], hs["y"], strict=True):
            y = sy(v)
            if m in mi and y is not None:
                out.append(f'<g>{_marker(sx(mi[m]), y, j)}<title>{esc(hs["label"])} {m}: {fmt(v)}</title></g>')
    # hover: one transparent column per month with every series' value
    cw = (x1 - x0) / max(n - 1, 1)
    for i, m in enumerate(months):
        lines = [m]
        for s in d["series"]:
            v = s["median"][i]
            txt = f"{s['label']}: {fmt(v)}"
            bands = {b["level"]: b for b in s.get("bands", [])}
            if 0.9 in bands:
                txt += f" (90%: {fmt(bands[0.9]['lo'][i])} to {fmt(bands[0.9]['hi'][i])})"
            elif 0.5 in bands:
                txt += f" (50%: {fmt(bands[0.5]['lo'][i])} to {fmt(bands[0.5]['hi'][i])})"
            lines.append(txt)
        out.append(f'<rect x="{xs[i] - cw / 2:.1f}" y="{y0}" width="{cw:.1f}" height="{y1 - y0}" fill="#000" '
                   f'fill-opacity="0" data-month="{m}"><title>{esc(chr(10).join(lines))}</title></rect>')
    out += _legend(_series_legend(d, has_bands), x0, y1 + 30, W)
    if fig.note:
        out.append(f'<text x="{W - 8}" y="{h - 4}" font-size="10" fill="#666" text-anchor="end">{esc(fig.note)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def render_annual(fig: Figure) -> str:
    d = fig.data
    years: list[int] = d["x"]
    n = len(years)
    labels = [s["label"] for s in d["series"]] + [h["label"] for h in d.get("history", [])]
    h = H + 17 * (_legend_rows(labels, ML, W) - 1)
    x0, x1, y0, y1 = ML, W - MR, MT, H - MB
    out = _head(fig, W, h)
    slot = (x1 - x0) / max(n, 1)

    def sx(i: float) -> float:
        return x0 + (i + 0.5) * slot
    sy, ticks = _scale_y(fig, _values(d["series"], d.get("history", [])), y0, y1)
    cal = d.get("calibration_end")
    if cal is not None:
        later = [i for i, y in enumerate(years) if y > cal]
        if later:
            xa = x0 + later[0] * slot
            out.append(f'<rect x="{xa:.1f}" y="{y0}" width="{x1 - xa:.1f}" height="{y1 - y0}" fill="#f3efe6"/>')
            out.append(f'<line x1="{xa:.1f}" y1="{y0}" x2="{xa:.1f}" y2="{y1}" stroke="#b59f6b" stroke-dasharray="4 3"/>')
            out.append(f'<text x="{(xa + x1) / 2:.1f}" y="{y0 - 5}" font-size="10" fill="#8a7a55" '
                       f'text-anchor="middle">out of sample</text>')
        early = [i for i, y in enumerate(years) if y <= cal]
        if early:
            xb = x0 + (early[-1] + 1) * slot
            out.append(f'<text x="{(x0 + xb) / 2:.1f}" y="{y0 - 5}" font-size="10" fill="#8a7a55" '
                       f'text-anchor="middle">calibration window (to {cal})</text>')
    for t in ticks:
        y = sy(t)
        out.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x1}" y2="{y:.1f}" stroke="{GRID}"/>')
        out.append(f'<text x="{x0 - 6}" y="{y + 4:.1f}" font-size="11" fill="#444" text-anchor="end">'
                   f'{esc(_tick_label(t))}</text>')
    out.append(f'<line x1="{x0}" y1="{y1}" x2="{x1}" y2="{y1}" stroke="{AXIS}"/>')
    partial = set(d.get("partial", []))
    for i, yv in enumerate(years):
        label = f"{yv}*" if yv in partial else str(yv)
        out.append(f'<text x="{sx(i):.1f}" y="{y1 + 18}" font-size="11" fill="#444" text-anchor="middle">{label}</text>')
    k = len(d["series"])
    bw = min(slot * 0.5 / k, 34)
    has_bands = any(s.get("bands") for s in d["series"])
    for j, s in enumerate(d["series"]):
        off = (j - (k - 1) / 2) * (bw + 4) - (8 if d.get("history") else 0)
        for i, yv in enumerate(years):
            cx = sx(i) + off
            tip = [f"{s['label']} {yv}: {fmt(s['median'][i])}"]
            for b in sorted(s.get("bands", []), key=lambda b: -b["level"]):
                lo, hi = sy(b["lo"][i]), sy(b["hi"][i])
                if lo is None or hi is None:
                    continue
                op = 0.16 if b["level"] > 0.6 else 0.34
                out.append(f'<rect x="{cx - bw / 2:.1f}" y="{hi:.1f}" width="{bw:.1f}" height="{max(lo - hi, 1):.1f}" '
                           f'fill="{s["color"]}" fill-opacity="{op}" data-band="{b["level"]}"/>')
                tip.append(f"{int(b['level'] * 100)}% of runs: {fmt(b['lo'][i])} to {fmt(b['hi'][i])}")
            m = sy(s["median"][i])
            if m is not None:
                out.append(f'<g><line x1="{cx - bw / 2:.1f}" y1="{m:.1f}" x2="{cx + bw / 2:.1f}" y2="{m:.1f}" '
                           f'stroke="{s["color"]}" stroke-width="3"/>'
                           f'<rect x="{cx - bw / 2:.1f}" y="{y0}" width="{bw:.1f}" height="{y1 - y0}" fill-opacity="0">'
                           f'<title>{esc(chr(10).join(tip))}</title></rect></g>')
    for j, hs in enumerate(d.get("history", [])):
        for yv, v in zip(hs["x"], hs["y"], strict=True):
            if yv in years and sy(v) is not None:
                cx = sx(years.index(yv)) + (k * (bw + 4)) / 2 + 4 + 8 * j
                out.append(f'<g>{_marker(cx, sy(v), j)}<title>{esc(hs["label"])} {yv}: {fmt(v)}</title></g>')
    items = [(f'<rect x="8" y="0" width="8" height="10" fill="{s["color"]}" fill-opacity="0.3"/>'
              f'<line x1="4" y1="5" x2="20" y2="5" stroke="{s["color"]}" stroke-width="3"/>' if has_bands else
              f'<line x1="4" y1="5" x2="20" y2="5" stroke="{s["color"]}" stroke-width="3"/>', s["label"])
             for s in d["series"]]
    items += [(_hist_swatch(i), hs["label"]) for i, hs in enumerate(d.get("history", []))]
    out += _legend(items, x0, y1 + 30, W)
    if fig.note:
        out.append(f'<text x="{W - 8}" y="{h - 4}" font-size="10" fill="#666" text-anchor="end">* {esc(fig.note)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def render_bars(fig: Figure) -> str:
    bars = fig.data["bars"]
    h = MT + 24 * len(bars) + 50
    w = W
    lab = 230
    out = _head(fig, w, h)
    vals = [v for b in bars for v in (b["lo"], b["hi"], b["value"]) if v is not None and math.isfinite(v)] or [0, 1]
    lo, hi = min(min(vals), 0), max(max(vals), 0)
    ticks = nice_ticks(lo, hi)
    a, b_ = ticks[0], ticks[-1]
    x0, x1 = lab, w - 30

    def sx(v: float) -> float:
        return x0 + (v - a) / (b_ - a) * (x1 - x0)
    y_end = MT + 24 * len(bars)
    for t in ticks:
        out.append(f'<line x1="{sx(t):.1f}" y1="{MT}" x2="{sx(t):.1f}" y2="{y_end}" stroke="{GRID}"/>')
        out.append(f'<text x="{sx(t):.1f}" y="{y_end + 16}" font-size="11" fill="#444" text-anchor="middle">{t:g}%</text>')
    out.append(f'<line x1="{sx(0):.1f}" y1="{MT}" x2="{sx(0):.1f}" y2="{y_end}" stroke="{AXIS}"/>')
    for i, bar in enumerate(bars):
        y = MT + 24 * i + 12
        c = "#D55E00" if bar["value"] > 0 else "#0072B2"
        out.append(f'<text x="{lab - 8}" y="{y + 4}" font-size="11" fill="{INK}" text-anchor="end">{esc(bar["label"])}</text>')
        out.append(f'<g><rect x="{min(sx(0), sx(bar["value"])):.1f}" y="{y - 7}" width="{abs(sx(bar["value"]) - sx(0)):.1f}" '
                   f'height="14" fill="{c}" fill-opacity="0.75"/>'
                   f'<line x1="{sx(bar["lo"]):.1f}" y1="{y}" x2="{sx(bar["hi"]):.1f}" y2="{y}" stroke="{INK}" stroke-width="1.5"/>'
                   f'<title>{esc(bar["label"])}: {esc(bar["text"])}</title></g>')
    out.append("</svg>")
    return "\n".join(out)


def render_map(fig: Figure, month: int | None = None, layer: int = 0, interactive: bool = False) -> str:
    d = fig.data
    months = d["months"]
    t = len(months) - 1 if month is None else month
    lay = d["layers"][layer]
    w, h = d["width"], d["height"]
    out = _head(fig, w, h)
    out[0] = out[0].replace("<svg ", f'<svg data-map="1" data-month="{months[t]}" ', 1)
    out.append(f'<text x="12" y="66" font-size="13" fill="{INK}" data-role="map-caption">'
               f'{esc(lay["title"])}, {months[t]}</text>')
    for r, f in enumerate(d["features"]):
        c = lay["cls"][t][r]
        fill = lay["legend"][c]["color"] if c >= 0 else "#ffffff"
        out.append(f'<path d="{f["d"]}" fill="{fill}" stroke="#fff" stroke-width="0.9" data-region="{f["iso"]}">'
                   f'<title>{esc(f["name"])}: {esc(lay["text"][t][r])}</title></path>')
    for f in d["features"]:
        if f.get("outline"):
            out.append(f'<path d="{f["d"]}" fill="none" stroke="#222" stroke-width="1.2" stroke-dasharray="3 2" '
                       f'pointer-events="none"/>')
    for lb in d.get("labels", []):
        out.append(lb["svg"])
    # legends: all layers drawn, only the chosen one shown (the page's script switches them)
    for k, L in enumerate(d["layers"]):
        if not interactive and k != layer:
            continue
        vis = "" if k == layer else ' display="none"'
        lx, ly = d["legend_x"], d["legend_y"]
        g = [f'<g data-legend="{k}"{vis} transform="translate({lx},{ly})">']
        title = wrap(L["legend_title"], 32)
        for j, line in enumerate(title):
            g.append(f'<text x="0" y="{15 * j}" font-size="12" font-weight="bold" fill="{INK}">{esc(line)}</text>')
        for i, item in enumerate(L["legend"]):
            y = 10 + 15 * (len(title) - 1) + 19 * i
            g.append(f'<rect x="0" y="{y}" width="22" height="14" fill="{item["color"]}" stroke="#999" stroke-width="0.5"/>'
                     f'<text x="30" y="{y + 11}" font-size="11" fill="{INK}">{esc(item["label"])}</text>')
        g.append("</g>")
        out += g
    y = h - 36
    for line in d.get("notes", []):
        out.append(f'<text x="12" y="{y}" font-size="9.5" fill="#555">{esc(line)}</text>')
        y += 12
    out.append("</svg>")
    return "\n".join(out)


def render(fig: Figure, month: int | None = None, layer: int = 0) -> str:
    if fig.kind == "timeseries":
        return render_timeseries(fig)
    if fig.kind == "annual":
        return render_annual(fig)
    if fig.kind == "bars":
        return render_bars(fig)
    if fig.kind == "map":
        return render_map(fig, month=month, layer=layer)
    raise ValueError(f"unknown figure kind {fig.kind!r}")
