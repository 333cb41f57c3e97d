"""The self-contained HTML report: every figure inlined as SVG, one small script, no fetch.

The page needs no network: no script, style sheet, font, image or map tile is
referenced from outside the file (the browser test blocks every request and asserts
that none is made).  The script only drives the map (layer buttons, month slider,
play) by recolouring the inlined paths from the classes embedded as JSON.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from .data import NATIONAL, ReportData, from_result
from .figures import Figure, civilian_deaths_monthly, comparison_bars, displacement, standard_figures
from .maps import governorate_map
from .svg import esc, fmt, render_map

CSS = """
body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;margin:0;background:#f6f6f4;color:#222}
header{background:#1d2b3a;color:#fff;padding:18px 28px}
header h1{margin:0 0 4px;font-size:22px} header p{margin:2px 0;color:#cfd8e3;font-size:13px}
main{max-width:1580px;margin:0 auto;padding:12px 20px 40px}
section{background:#fff;border:1px solid #ddd;border-radius:6px;margin:16px 0;padding:14px 18px}
h2{font-size:17px;margin:2px 0 10px}
.cards{display:flex;flex-wrap:wrap;gap:10px}
.card{border:1px solid #ddd;border-radius:5px;padding:8px 12px;min-width:170px;background:#fafafa}
.card b{display:block;font-size:20px;margin-top:2px} .card span{font-size:12px;color:#555}
.card i{display:block;font-style:normal;font-size:11px;color:#777}
.pair{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start} .pair>div{flex:1 1 400px}
.pair>.fig{flex:0 1 880px} h3{font-size:14px;margin:4px 0 6px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(680px,1fr));gap:14px}
.fig svg{width:100%;max-width:880px;height:auto;border:1px solid #eee}
.controls{display:flex;flex-wrap:wrap;gap:6px;align-items:center;margin:0 0 8px}
.controls button{font:inherit;font-size:12px;padding:4px 9px;border:1px solid #999;background:#fff;border-radius:4px;cursor:pointer}
.controls button[aria-pressed=true]{background:#1d2b3a;color:#fff;border-color:#1d2b3a}
.slider{display:flex;gap:10px;align-items:center;margin:4px 0 10px;font-size:13px}
.slider input{width:420px}
table{border-collapse:collapse;font-size:12.5px;margin:4px 0}
th,td{border-bottom:1px solid #e3e3e3;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f0f0ee} td.n{text-align:right;font-variant-numeric:tabular-nums}
details summary{cursor:pointer;margin:8px 0;font-size:13px}
.note{font-size:12px;color:#555} code{font-size:12px}
.v-supported{color:#1a7a3a;font-weight:bold} .v-refuted,.v-contradicted{color:#b2182b;font-weight:bold}
"""

JS = """
(function(){
  var el=document.getElementById('map-data'); if(!el) return;
  var D=JSON.parse(el.textContent), svg=document.querySelector('svg[data-map]');
  var paths=svg.querySelectorAll('path[data-region]'), cap=svg.querySelector('[data-role=map-caption]');
  var slider=document.getElementById('month'), label=document.getElementById('month-label');
  var layer=0, t=D.months.length-1, timer=null;
  function draw(){
    var L=D.layers[layer];
    for(var r=0;r<paths.length;r++){
      var c=L.cls[t][r]; paths[r].setAttribute('fill', c>=0?L.colors[c]:'#ffffff');
      var ti=paths[r].querySelector('title'); if(ti) ti.textContent=D.names[r]+': '+L.text[t][r];
    }
    svg.querySelectorAll('[data-legend]').forEach(function(g){
      g.style.display=(+g.getAttribute('data-legend')===layer)?'inline':'none';});
    cap.textContent=L.title+', '+D.months[t]; label.textContent=D.months[t]; slider.value=t;
    svg.setAttribute('data-month', D.months[t]);
    document.querySelectorAll('[data-layer]').forEach(function(b){
      b.setAttribute('aria-pressed', +b.getAttribute('data-layer')===layer?'true':'false');});
  }
  document.querySelectorAll('[data-layer]').forEach(function(b){
    b.addEventListener('click',function(){layer=+b.getAttribute('data-layer'); draw();});});
  slider.addEventListener('input',function(){t=+slider.value; draw();});
  document.getElementById('play').addEventListener('click',function(){
    if(timer){clearInterval(timer); timer=null; this.textContent='Play'; return;}
    this.textContent='Pause'; if(t>=D.months.length-1) t=0;
    timer=setInterval(function(){ if(t>=D.months.length-1){clearInterval(timer); timer=null;
      document.getElementById('play').textContent='Play'; return;} t++; draw();},350);
  });
  draw();
})();
"""


def _q(vals: list[float]) -> tuple[float, float, float]:
    a = np.asarray([v for v in vals if v is not None and math.isfinite(v)], float)
    if a.size == 0:
        return (math.nan, math.nan, math.nan)
    lo, med, hi = np.quantile(a, [0.05, 0.5, 0.95])
    return float(lo), float(med), float(hi)


def _card(label: str, vals: list[float], unit: str = "", digits: int | None = None) -> str:
    """A key figure: the median over runs (the value of a single run) and the 90% range."""
    lo, med, hi = _q(vals)

    def f(v: float) -> str:
        if not math.isfinite(v):
            return "n/a"
        return fmt(v) if digits is None else f"{v:,.{digits}f}"
    rng = f"<i>90% of runs: {f(lo)} to {f(hi)}</i>" if len(vals) > 1 else ""
    return f'<div class="card"><span>{esc(label)}</span><b>{f(med)}{esc(unit)}</b>{rng}</div>'


def key_figures(data: ReportData) -> str:
    sums = data.groups[0].summaries
    cards = [
        _card("civilian deaths, whole run", [sum(s["civilian_deaths_by_year"].values()) for s in sums]),
        _card("battle deaths, whole run", [sum(s["battle_deaths_by_year"].values()) for s in sums]),
        _card("civil-war years (UCDP: 1,000+ battle deaths)", [len(s["civil_war_years"]) for s in sums], digits=0),
        _card("peak displaced", [s["peak_displaced"] for s in sums]),
        _card("microstates at the end", [s["microstates_final"] for s in sums], digits=0),
        _card("army collapses", [len(s["army_collapses"]) for s in sums], digits=0),
        _card("army cohesion at the end", [s["army_cohesion_final"] for s in sums], digits=2),
        _card("months without a government", [s.get("vacuum_months_total", math.nan) for s in sums], digits=0),
    ]
    head = "Key figures" + (f" (median over {len(sums)} runs of {esc(data.groups[0].label)})" if len(sums) > 1 else "")
    return f'<section id="key"><h2>{head}</h2><div class="cards">{"".join(cards)}</div></section>'


def map_section(fig: Figure | None, data: ReportData, side: str = "") -> str:
    if fig is None:
        why = "this folder's panel has no governorate rows (stored with --panel national or none)" \
            if not data.regions else "the regions are not the 18 governorates of the shipped map"
        return f'<section id="map"><h2>Governorates</h2><p class="note">No map: {esc(why)}.</p></section>'
    d = fig.data
    payload = {"months": d["months"], "names": [f["name"] for f in d["features"]],
               "layers": [{"title": L["title"], "colors": [i["color"] for i in L["legend"]], "cls": L["cls"],
                           "text": L["text"]} for L in d["layers"]]}
    buttons = "".join(f'<button type="button" data-layer="{k}" aria-pressed="{str(k == 0).lower()}">'
                      f'{esc(L.get("button", L["title"]))}</button>' for k, L in enumerate(d["layers"]))
    n = len(d["months"]) - 1
    return (f'<section id="map"><h2>Governorates by month</h2><div class="controls">{buttons}</div>'
            f'<div class="slider"><button type="button" id="play">Play</button>'
            f'<input type="range" id="month" min="0" max="{n}" value="{n}" aria-label="month">'
            f'<span id="month-label">{esc(d["months"][-1])}</span></div>'
            f'<div class="pair"><div class="fig">{render_map(fig, interactive=True)}</div><div>{side}</div></div>'
            f'<script type="application/json" id="map-data">{_json(payload)}</script></section>')


def _json(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).replace("</", "<\\/")


def _table(rows: list[list[Any]], head: list[str], num: set[int] | None = None) -> str:
    num = num or set()
    h = "".join(f"<th>{esc(x)}</th>" for x in head)
    body = []
    for r in rows:
        body.append("<tr>" + "".join(f'<td class="n">{esc(v)}</td>' if i in num else f"<td>{esc(v)}</td>"
                                     for i, v in enumerate(r)) + "</tr>")
    return f"<table><thead><tr>{h}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def control_table(data: ReportData) -> str:
    if not data.regions or not data.has("control_state", data.regions[0]):
        return ""
    sums = data.groups[0].summaries
    rows = []
    for r in data.regions:
        name = data.region_names.get(r, r)
        ents = [s["final_control"].get(name, {}) for s in sums]
        held = [e.get("entity") for e in ents if e]
        top = max(set(held), key=held.count) if held else "?"
        share = np.median([e.get("share", math.nan) for e in ents if e.get("entity") == top]) if held else math.nan
        state = np.nanmedian(data.get("control_state", r)[:, -1])
        rows.append([name, data.entity(top), f"{100 * share:.0f}%", f"{100 * state:.0f}%",
                     f"{100 * held.count(top) / len(held):.0f}%" if held else ""])
    head = ["governorate", "dominant entity at the end", "its control share", "state's control share",
            "runs with this entity dominant"]
    if data.groups[0].n == 1:
        rows = [r[:4] for r in rows]
        head = head[:4]
    return (f'<div id="control"><h3>Who holds each governorate at {esc(data.months[-1])}</h3>'
            f'{_table(rows, head, {2, 3, 4})}</div>')


def claims_section(data: ReportData) -> str:
    cl = data.tables.get("claims")
    if not cl:
        return ""
    if isinstance(cl, dict):  # claims.json: verdicts per claim and one row per claim and metric
        return _claims_tests_section(cl)
    rows = []
    for c in cl:
        iv = c.get("interval90") or [None, None]
        rows.append([c.get("claim"), c.get("title"), c.get("sentence", ""), c.get("verdict"),
                     fmt(c.get("effect")), f"{fmt(iv[0])} to {fmt(iv[1])}",
                     "" if c.get("share_of_parameter_space") is None else f"{100 * c['share_of_parameter_space']:.0f}%",
                     f"{c.get('samples')} x {c.get('replicates')}"])
    head = ["claim", "title", "the essay's sentence", "verdict", "effect", "90% interval", "share of parameter space",
            "samples x replicates"]
    html = _table(rows, head, {4, 5, 6})
    for word in ("supported", "refuted"):
        html = html.replace(f"<td>{word}</td>", f'<td class="v-{word}">{word}</td>')
    return f'<section id="claims"><h2>Claims</h2>{html}</section>'


def _claims_tests_section(doc: dict[str, Any]) -> str:
    """The claims as pre-registered tests: the verdicts (with their rule), then every metric's test."""
    verdicts = [[c.get("claim"), c.get("title"), c.get("sentence", ""), c.get("verdict"),
                 "" if c.get("share_of_parameter_space") is None else f"{100 * c['share_of_parameter_space']:.0f}%",
                 f"{c.get('samples')} x {c.get('replicates')}"] for c in doc.get("claims", [])]
    metrics = [[r.get("claim"), r.get("label"), fmt(r.get("effect")), f"{fmt(r.get('lo'))} to {fmt(r.get('hi'))}",
                fmt(r.get("min_effect")), r.get("verdict"), r.get("reason", "")] for r in doc.get("rows", [])]
    html = (_table(verdicts, ["claim", "title", "the essay's sentence", "verdict", "share of parameter space",
                              "samples x replicates"], {4})
            + f'<p class="note">{esc(doc.get("claim_rule", ""))}. Effect: {esc(doc.get("sign", ""))}.</p>'
            + _table(metrics, ["claim", "metric", "effect", "90% interval", "minimum effect", "verdict", "why"],
                     {2, 3, 4}))
    for word in ("supported", "contradicted"):
        html = html.replace(f"<td>{word}</td>", f'<td class="v-{word}">{word}</td>')
    return f'<section id="claims"><h2>Claims</h2>{html}</section>'


def backtest_section(data: ReportData) -> str:
    bt = data.tables.get("backtest")
    if not bt:
        return ""
    rows = []
    for r in bt.get("targets", []):
        model = (fmt(r.get("model_median")) if "model_median" in r else
                 (f"p = {r['p.model']:.2f}" if r.get("p.model") is not None else ""))
        rng = f"{fmt(r.get('model_lo90'))} to {fmt(r.get('model_hi90'))}" if r.get("model_lo90") is not None else ""
        score = r.get("crps.model", r.get("brier.model", r.get("crps_days.model")))
        rows.append([r.get("label", r.get("target")), r.get("window"), fmt(r.get("observed")), model, rng,
                     "" if score is None else f"{score:.3f}", r.get("source", "")])
    head = ["target", "window", "documented", "model median", "model 90% range", "score (CRPS/Brier, lower is better)",
            "source"]
    verdicts = "".join(f"<li>{esc(v)}</li>" for v in bt.get("verdicts", []))
    return (f'<section id="backtest"><h2>Back-test against documented outcomes</h2>'
            f'{_table(rows, head, {2, 3, 4, 5})}<ul class="note">{verdicts}</ul></section>')


def _leaves(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every ``{value, range, source}`` leaf of the resolved scenario, with its dotted path."""
    out: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        if "value" in node and "source" in node:
            return [(path, node)]
        for k, v in node.items():
            out += _leaves(v, f"{path}.{k}" if path else str(k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            key = v.get("id", i) if isinstance(v, dict) else i
            out += _leaves(v, f"{path}.{key}")
    return out


def _is_key(path: str, src: str) -> bool:
    head = path.split(".")[0]
    return (head == "economy" or head == "army" or (head == "actors" and path.endswith(".size"))
            or (head == "patrons" and path.endswith(".budget")) or src.startswith("calibrated"))


def parameters_section(data: ReportData) -> str:
    if not data.scenario:
        return ('<section id="parameters"><h2>Parameters</h2><p class="note">An ensemble folder stores the '
                'scenario by name and hash (below); run <code>shatterbelt params SCENARIO</code> for every parameter '
                'with its provenance.</p></section>')
    leaves = [(p, leaf) for p, leaf in _leaves(data.scenario) if p.split(".")[0] != "politics"]
    leaves += [(p, leaf) for p, leaf in _leaves(data.scenario.get("politics", {}), "politics")]

    def row(p: str, leaf: dict[str, Any]) -> list[Any]:
        rng = leaf.get("range")
        return [p, leaf.get("value"), "" if not rng else f"{rng[0]} to {rng[1]}", leaf.get("source", ""),
                leaf.get("note", "") or ""]
    key = [row(p, leaf) for p, leaf in leaves if _is_key(p, str(leaf.get("source", "")))]
    allrows = [row(p, leaf) for p, leaf in leaves]
    kinds: dict[str, int] = {}
    for _, leaf in leaves:
        s = str(leaf.get("source", ""))
        k = "assumption" if s.startswith("assumption") else "seed claim" if s.startswith("seed claim") else \
            "calibrated (<=2012)" if s.startswith("calibrated") else "cited source"
        kinds[k] = kinds.get(k, 0) + 1
    mix = ", ".join(f"{v} {k}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1]))
    head = ["parameter", "value", "range", "source", "note"]
    return (f'<section id="parameters"><h2>Key parameters and their provenance</h2>'
            f'<p class="note">{len(leaves)} parameters in all: {esc(mix)}. Shown: the economy, the army, actor sizes, '
            f'patron budgets and every calibrated parameter.</p>{_table(key, head, {1})}'
            f'<details><summary>All {len(allrows)} parameters</summary>{_table(allrows, head, {1})}</details>'
            f'</section>')


def facts_section(data: ReportData) -> str:
    rows = [[k.replace("_", " "), v] for k, v in data.facts.items() if v not in (None, "")]
    return f'<section id="facts"><h2>Reproducibility</h2>{_table(rows, ["fact", "value"])}</section>'


def credits(data: ReportData) -> str:
    """Where the documented outcomes and the map come from: the scenario's observed file and its sources."""
    parts = []
    obs = (data.evaluation or {}).get("observed")
    if obs and data.observed:
        measures = sorted({r["measure"].replace("_", " ") for r in data.observed})
        parts.append(f"Documented outcomes ({', '.join(measures)}): the scenario's observed file "
                     f"<code>shatterbelt/data/{esc(str(obs))}</code>, each row with its source.")
    if data.sources:
        parts.append("Scenario sources: " + "; ".join(f"{esc(k)}: {esc(v)}" for k, v in data.sources.items()) + ".")
    fit = data.fit_until
    if fit:
        ev = data.evaluation or {}
        parts.append(f"Calibrated parameters may have seen documented data up to {esc(fit)}; "
                     f"{esc(str(ev.get('test_from')))} to {esc(str(ev.get('test_until')))} is out of sample.")
    else:
        parts.append("The scenario has no evaluation section: no documented outcomes are overlaid.")
    return " ".join(parts)


def _charts_note(data: ReportData) -> str:
    ev = data.evaluation or {}
    if not data.fit_until:
        return "No evaluation window (the scenario has no evaluation section)."
    return (f"Shaded: the calibration window (to {data.fit_until}) and, from {ev.get('test_from')}, the years "
            "the model was not calibrated on (out of sample).")


def build_html(data: ReportData, figures: list[Figure] | None = None, map_fig: Figure | None = None) -> str:
    """The whole page as one string."""
    figs = figures if figures is not None else standard_figures(data)
    if map_fig is None:
        map_fig = governorate_map(data)
    g0 = data.groups[0]
    if data.kind == "run":
        title = f"{g0.label}: one run (seed {g0.seeds[0]}, scale {data.facts.get('scale')})"
    else:
        title = " vs ".join(f"{g.label} ({g.n} runs)" for g in data.groups) + f", scale {data.facts.get('scale')}"
    sub = f"{data.months[0]} to {data.months[-1]} ({len(data.months)} months)"
    charts = "".join(f'<div class="fig">{f.svg()}</div>' for f in figs)
    cmp = comparison_bars(data)
    cmp_html = f'<section id="compare"><h2>Comparison</h2><div class="fig">{cmp.svg()}</div></section>' if cmp else ""
    body = [
        f"<header><h1>shatterbelt report: {esc(title)}</h1><p>{esc(sub)}; source folder "
        f"<code>{esc(data.source)}</code></p></header><main>",
        key_figures(data) if g0.summaries and "civilian_deaths_by_year" in g0.summaries[0] else "",
        map_section(map_fig, data, control_table(data)),
        f'<section id="charts"><h2>Over time</h2><p class="note">{esc(_charts_note(data))} Black markers: '
        f'documented history. Hover a chart for the month\'s values.</p><div class="grid">{charts}</div></section>'
        if figs else "",
        cmp_html,
        claims_section(data),
        backtest_section(data),
        parameters_section(data),
        facts_section(data),
        f'<section id="credits"><h2>Data and credits</h2><p class="note">{credits(data)}</p></section></main>',
    ]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
            + "".join(body) + f"<script>{JS}</script></body></html>\n")


def result_html(res: Any) -> str:
    """A short HTML summary of a Result for Jupyter: key figures and two small charts."""
    data = from_result(res)
    parts = [key_figures(data)]
    if data.has("civilian_deaths", NATIONAL):
        parts.append(f'<div class="fig">{civilian_deaths_monthly(data).svg()}</div>')
    if data.has("displaced", NATIONAL):
        parts.append(f'<div class="fig">{displacement(data).svg()}</div>')
    style = ("<style>.sb-r .cards{display:flex;flex-wrap:wrap;gap:8px}.sb-r .card{border:1px solid #ddd;"
             "padding:6px 10px;border-radius:4px}.sb-r .card b{display:block;font-size:17px}.sb-r .card span,"
             ".sb-r .card i{font-size:11px;color:#555;display:block;font-style:normal}.sb-r h2{font-size:15px}</style>")
    return f'<div class="sb-r">{style}{"".join(parts)}</div>'
