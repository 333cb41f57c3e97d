"""Back-test: the model from July 2010 scored against what happened, beside naive baselines.

Targets (documented outcomes, read from the package's own copy of the data pack):

* Iraq Body Count civilian deaths: 2010 scored on July-December only (the model
  starts in July 2010; the half-year is the sum of IBC's monthly table compiled
  6 March 2012, 2,022, about 3% below the current annual vintage), 2011-2014 annual;
* UCDP state-based battle-related deaths 2011-2014 (2010 is left out: no monthly
  UCDP series to cut it at July);
* binary: a UCDP civil-war year (>= 1,000 battle deaths) 2011-2014; the 2010
  premiership going to State of Law; an army collapse in Nineveh by 2014 (Mosul,
  June 2014); and the 2010 vacuum's length, 289 days (CRPS in days).

Windows: years up to 2012 are the *calibration window* (the engine's calibrated
parameters were fitted to them: in-sample), 2013-2014 are *out-of-sample*.

Baselines, each a log-normal predictive distribution on log(1 + deaths):

* no-change: the last twelve months known at the origin (IBC: July 2009 - June
  2010 from the monthly table; UCDP: 2009), held flat;
* persistence: the previous period's observed value -- a one-year-ahead forecast
  that sees every year up to the one before the target (more information than the
  model, which forecasts up to 4.5 years ahead from July 2010);
* linear trend: a log-linear least-squares trend over the data known at the origin
  (IBC monthly 2008-01..2010-06; UCDP annual 2003-2009), extrapolated.

Spread: sigma(h) = sigma_1 * sqrt(h), h the years ahead (at least 0.5), sigma_1 the
standard deviation of year-on-year log changes known at the origin (UCDP 2003-2009
and IBC 2008-2009 pooled).  The output says plainly where the model loses.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from .ensemble import Ensemble, EnsembleResult, check_failures
from .powerlaw import fit_powerlaw
from .scoring import brier, covered, crps_ensemble, crps_normal, interval, log1p, normal_interval
from .stats import finite_or_none

CALIBRATION_LAST_YEAR = 2012
WINDOWS = ("calibration (<=2012)", "out-of-sample (2013-14)")
BASELINES = ("no-change", "persistence", "trend")
BOHORQUEZ_ALPHA = 2.5


# ---------------------------------------------------------------------------- data
def _read_csv(name: str) -> list[dict[str, str]]:
    path = resources.files("shatterbelt.data") / "iraq" / name
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def annual(metric: str) -> dict[int, float]:
    return {int(r["year"]): float(r["value"]) for r in _read_csv("outcomes_annual.csv") if r["metric"] == metric}


def monthly(metric: str) -> dict[str, float]:
    return {r["month"]: float(r["value"]) for r in _read_csv("outcomes_monthly.csv") if r["metric"] == metric}


def _window(year: int) -> str:
    return WINDOWS[0] if year <= CALIBRATION_LAST_YEAR else WINDOWS[1]


@dataclass
class Target:
    key: str
    label: str
    year: int
    observed: float
    kind: str  # 'deaths' (log CRPS), 'binary' (Brier), 'days' (CRPS in days)
    metric: str  # model metric
    source: str
    months: int = 12
    baselines: dict[str, Any] = field(default_factory=dict)  # name -> (mu, sigma) on log1p, or probability
    note: str = ""

    @property
    def window(self) -> str:
        return _window(self.year)


def _ols(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    b, a = np.polyfit(x, y, 1)
    return float(a), float(b)


def documented_targets(start: str = "2010-07", until: str = "2014-12") -> tuple[list[Target], dict[str, Any]]:
    """The scored targets within [start, until] with their baselines, and how the baselines were built."""
    y0, m0 = map(int, start.split("-"))
    yend = int(until[:4]) if until[5:7] == "12" else int(until[:4]) - 1  # only whole model years after the first
    origin = y0 + (m0 - 1) / 12.0
    ibc = annual("ibc_civilian_deaths")
    ibc_m = monthly("ibc_civilian_deaths_vintage_2012_03")
    ucdp = annual("ucdp_state_based_deaths_best")
    known_m = sorted(m for m in ibc_m if m < start)
    # spread of year-on-year log changes known at the origin
    ch = [math.log(ucdp[y] / ucdp[y - 1]) for y in sorted(ucdp) if y < y0 and y - 1 in ucdp]
    ch += [math.log(ibc[y] / ibc[y - 1]) for y in sorted(ibc) if y < y0 and y - 1 in ibc]
    sigma1 = float(np.std(ch, ddof=1))
    # IBC no-change: last 12 months known; trend on the known monthly series
    last12 = known_m[-12:]
    ibc_nochange = sum(ibc_m[m] for m in last12)
    t_idx = np.array([int(m[:4]) * 12 + int(m[5:]) - 1 for m in known_m], float)
    a_i, b_i = _ols(t_idx, np.log([ibc_m[m] for m in known_m]))
    # UCDP: last full year before the origin; trend on the annual series known at the origin
    uy = [y for y in sorted(ucdp) if y < y0]
    a_u, b_u = _ols(np.array(uy, float), np.log([ucdp[y] for y in uy]))
    info = {
        "origin": start,
        "sigma_1": sigma1,
        "ibc_no_change_annual": ibc_nochange,
        "ibc_trend_per_year": math.exp(12 * b_i) - 1,
        "ucdp_no_change": ucdp[uy[-1]],
        "ucdp_trend_per_year": math.exp(b_u) - 1,
    }

    def lognorm(median: float, h: float) -> tuple[float, float]:
        return (float(log1p(median)), sigma1 * math.sqrt(max(h, 0.5)))

    out: list[Target] = []
    for y in range(y0, yend + 1):
        if y not in ibc:
            continue
        first_m = m0 if y == y0 else 1
        months = [f"{y}-{mm:02d}" for mm in range(first_m, 13)]
        if first_m > 1:
            if not all(m in ibc_m for m in months):
                continue
            obs = sum(ibc_m[m] for m in months)
            prev = [f"{y}-{mm:02d}" for mm in range(1, first_m)]
            persist = sum(ibc_m[m] for m in prev) * len(months) / max(len(prev), 1)
            src = "IBC monthly table compiled 6 Mar 2012 (outcomes_monthly.csv), July-December"
            label = f"IBC civilian deaths {y} (Jul-Dec)"
        else:
            obs = ibc[y]
            persist = ibc.get(y - 1, math.nan)
            src = "Iraq Body Count (outcomes_annual.csv)"
            label = f"IBC civilian deaths {y}"
        n = len(months)
        mid = y + (first_m - 1 + n / 2) / 12.0
        h = mid - origin
        tm = np.array([y * 12 + int(m[5:]) - 1 for m in months], float)
        trend = float(np.exp(a_i + b_i * tm).sum())
        t = Target(f"ibc_{y}", label, y, obs, "deaths", f"civilian_deaths_by_year.{y}", src, n)
        t.baselines = {
            "no-change": lognorm(ibc_nochange * n / 12, h),
            "persistence": lognorm(persist, 1.0) if math.isfinite(persist) else None,
            "trend": lognorm(trend, h),
        }
        out.append(t)
    for y in range(y0, yend + 1):
        if y == y0 and m0 != 1 or y not in ucdp:
            continue  # no monthly UCDP series to cut the first, partial year
        h = y + 0.5 - origin
        t = Target(f"ucdp_{y}", f"UCDP battle deaths {y}", y, ucdp[y], "deaths", f"battle_deaths_by_year.{y}",
                   "UCDP GED 23.1 state-based (outcomes_annual.csv)")
        t.baselines = {
            "no-change": lognorm(ucdp[uy[-1]], h),
            "persistence": lognorm(ucdp[y - 1], 1.0) if y - 1 in ucdp else None,
            "trend": lognorm(math.exp(a_u + b_u * y), h),
        }
        out.append(t)
        war = Target(f"war_{y}", f"civil-war year {y} (UCDP >= 1,000)", y, float(ucdp[y] >= 1000), "binary",
                     f"battle_deaths_by_year.{y}", "UCDP GED 23.1 (outcomes_annual.csv)")
        war.baselines = {
            name: (None if b is None else float(1 - stats.norm.cdf((math.log1p(1000) - b[0]) / b[1])))
            for name, b in t.baselines.items()
        }
        out.append(war)
    if y0 <= 2010 <= yend:
        pm = Target("pm_2010", "2010 premiership to State of Law (Maliki)", 2010, 1.0, "binary", "pm.first_term.sol",
                    "events.csv: Parliament approves Maliki's 2nd government, 21 Dec 2010")
        pm.baselines = {"no-change": 1.0, "persistence": 1.0, "trend": None}
        pm.note = "baselines: the incumbent keeps the post"
        out.append(pm)
        vac = Target("vacuum_2010", "2010 vacuum, days (7 Mar - 21 Dec)", 2010, 289.0, "days", "vacuum_days_by_term.1",
                     "events.csv: election 7 Mar 2010, cabinet approved 21 Dec 2010")
        out.append(vac)
    if yend >= 2014:
        mosul = Target("mosul_2014", "army collapse in Nineveh by 2014 (Mosul, June 2014)", 2014, 1.0, "binary",
                       "army_collapsed_ever.IQ-NI", "the army's divisions in Nineveh collapsed as ISIS took Mosul, 10 June 2014")
        mosul.baselines = {"no-change": 0.0, "persistence": 0.0, "trend": None}
        mosul.note = "baselines: no change (no collapse before the origin)"
        out.append(mosul)
    return out, info


# ---------------------------------------------------------------------------- scoring
def _model_values(wide: Any, metric: str) -> np.ndarray:
    if metric in wide:
        return wide[metric].to_numpy(float)
    return np.full(len(wide), np.nan)


def score_targets(wide: Any, targets: list[Target]) -> list[dict[str, Any]]:
    """One row per target: observation, model distribution and scores, baselines' scores."""
    rows = []
    for t in targets:
        x = _model_values(wide, t.metric)
        ok = np.isfinite(x)
        row: dict[str, Any] = {
            "target": t.key, "label": t.label, "window": t.window, "kind": t.kind, "observed": t.observed,
            "source": t.source, "runs": int(ok.sum()), "note": t.note,
        }
        if t.kind == "deaths":
            lx = log1p(x[ok])
            ly = float(log1p(t.observed))
            row["model_median"] = float(np.median(x[ok])) if ok.any() else math.nan
            lo50, hi50 = interval(x[ok], 0.5)
            lo90, hi90 = interval(x[ok], 0.9)
            row.update(model_lo50=lo50, model_hi50=hi50, model_lo90=lo90, model_hi90=hi90)
            row["crps.model"] = crps_ensemble(lx, ly)
            row["cover50.model"] = covered(lo50, hi50, t.observed)
            row["cover90.model"] = covered(lo90, hi90, t.observed)
            for b in BASELINES:
                mb = t.baselines.get(b)
                if mb is None:
                    row[f"crps.{b}"] = math.nan
                    row[f"median.{b}"] = math.nan
                    row[f"cover50.{b}"] = None
                    row[f"cover90.{b}"] = None
                    continue
                mu, sd = mb
                row[f"median.{b}"] = float(np.expm1(mu))
                row[f"crps.{b}"] = crps_normal(mu, sd, ly)
                for lev in (0.5, 0.9):
                    lo, hi = normal_interval(mu, sd, lev)
                    row[f"cover{int(lev * 100)}.{b}"] = covered(lo, hi, ly)
        elif t.kind == "binary":
            if t.key.startswith("war_"):
                p = float((x[ok] >= 1000).mean()) if ok.any() else math.nan
            else:
                p = float(x[ok].mean()) if ok.any() else math.nan
            row["p.model"] = p
            row["brier.model"] = brier(p, bool(t.observed)) if math.isfinite(p) else math.nan
            for b in BASELINES:
                pb = t.baselines.get(b)
                row[f"p.{b}"] = math.nan if pb is None else pb
                row[f"brier.{b}"] = math.nan if pb is None else brier(pb, bool(t.observed))
        elif t.kind == "days":
            row["model_median"] = float(np.median(x[ok])) if ok.any() else math.nan
            lo90, hi90 = interval(x[ok], 0.9)
            row.update(model_lo90=lo90, model_hi90=hi90)
            row["crps_days.model"] = crps_ensemble(x[ok], t.observed)
            row["cover90.model"] = covered(lo90, hi90, t.observed)
        rows.append(row)
    return rows


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per window: mean CRPS (log deaths), interval coverage and mean Brier, per forecaster."""
    out: dict[str, Any] = {}
    for w in WINDOWS:
        d = [r for r in rows if r["window"] == w and r["kind"] == "deaths"]
        bnr = [r for r in rows if r["window"] == w and r["kind"] == "binary"]
        s: dict[str, Any] = {"deaths_targets": len(d), "binary_targets": len(bnr)}
        for f in ("model", *BASELINES):
            c = [r[f"crps.{f}"] for r in d if math.isfinite(r.get(f"crps.{f}", math.nan))]
            s[f"crps.{f}"] = float(np.mean(c)) if c else math.nan
            s[f"crps_n.{f}"] = len(c)
            for lev in (50, 90):
                cv = [r[f"cover{lev}.{f}"] for r in d if r.get(f"cover{lev}.{f}") is not None]
                s[f"cover{lev}.{f}"] = f"{sum(cv)}/{len(cv)}" if cv else "n/a"
            br = [r[f"brier.{f}"] for r in bnr if math.isfinite(r.get(f"brier.{f}", math.nan))]
            s[f"brier.{f}"] = float(np.mean(br)) if br else math.nan
            s[f"brier_n.{f}"] = len(br)
        # head to head: the model and each baseline on the targets both forecast
        for b in BASELINES:
            for score, rs in (("crps", d), ("brier", bnr)):
                pairs = [(r[f"{score}.model"], r[f"{score}.{b}"]) for r in rs
                         if math.isfinite(r.get(f"{score}.model", math.nan)) and math.isfinite(r.get(f"{score}.{b}", math.nan))]
                s[f"vs.{b}.{score}"] = (
                    [float(np.mean([p[0] for p in pairs])), float(np.mean([p[1] for p in pairs])), len(pairs)]
                    if pairs else None
                )
        out[w] = s
    return out


def verdict_lines(summary: dict[str, Any]) -> list[str]:
    """Plain sentences: where the model beats each baseline and where it loses."""
    lines = []
    for w, s in summary.items():
        for score, what in (("crps", "mean CRPS on log deaths"), ("brier", "mean Brier score")):
            for b in BASELINES:
                hh = s.get(f"vs.{b}.{score}")
                if not hh:
                    continue
                m, v, n = hh
                word = "LOSES to" if m > v + 1e-12 else ("ties with" if abs(m - v) <= 1e-12 else "beats")
                lines.append(f"{w}: the model {word} {b} on {what} ({m:.3f} vs {v:.3f}, {n} targets)")
    return lines


def event_size_exponent(res: EnsembleResult, min_tail: int = 50) -> dict[str, Any]:
    """Power-law exponent of simulated event sizes: per run (median, 90% range) and pooled."""
    st = res.store
    if not st._has("events"):
        return {"runs_fitted": 0}
    df = st.query("SELECT run_id, fatalities FROM events WHERE fatalities >= 1 ORDER BY run_id")
    alphas = []
    xmins = []
    for _, g in df.groupby("run_id", sort=True):
        f = fit_powerlaw(g["fatalities"].to_numpy(), min_tail=min_tail)
        if f is not None:
            alphas.append(f.alpha)
            xmins.append(f.xmin)
    pooled = fit_powerlaw(df["fatalities"].to_numpy(), min_tail=min_tail) if len(df) else None
    if not alphas:
        return {"runs_fitted": 0, "documented_alpha": BOHORQUEZ_ALPHA}
    a = np.array(alphas)
    return {
        "runs_fitted": int(a.size),
        "alpha_median": float(np.median(a)),
        "alpha_lo90": float(np.quantile(a, 0.05)),
        "alpha_hi90": float(np.quantile(a, 0.95)),
        "xmin_median": float(np.median(xmins)),
        "pooled": pooled.to_json() if pooled else None,
        "documented_alpha": BOHORQUEZ_ALPHA,
        "documented_source": "Bohorquez et al. (2009) Nature 462: 911 (Iraq 2003-2008)",
        "method": "discrete MLE, x_min by Kolmogorov-Smirnov (Clauset, Shalizi & Newman 2009)",
    }


@dataclass
class Backtest:
    scenario: str
    rows: list[dict[str, Any]]
    summary: dict[str, Any]
    lines: list[str]
    exponent: dict[str, Any]
    baseline_info: dict[str, Any]
    politics: str
    out: Path

    def to_json(self) -> dict[str, Any]:
        return finite_or_none({
            "scenario": self.scenario, "windows": list(WINDOWS), "targets": self.rows, "summary": self.summary,
            "verdicts": self.lines, "event_size_exponent": self.exponent, "baselines": self.baseline_info,
            "politics": self.politics,
            "saved": {"csv": str(self.out / "backtest.csv"), "json": str(self.out / "backtest.json")},
        })


def run_backtest(runs: int, out: str | Path, scenario: str = "iraq-2010", **kw: Any) -> Backtest:
    """Run (or resume) the back-test ensemble and score it."""
    run_kw = {k: kw.pop(k) for k in ("workers", "scheduler", "progress", "rebuild", "connect_timeout") if k in kw}
    kw.setdefault("sample", "lhs")
    ens = Ensemble([scenario], runs=runs, out=out, kind="backtest", **kw)
    sc_start = ens._raw[scenario].get("start", "2010-07")
    horizon = kw.get("until") or ens._raw[scenario].get("horizon", "2014-12")
    politics = "endogenous (politics layer)" if ens._raw[scenario].get("politics") else "scripted by the timeline"
    res = ens.run(**run_kw)
    try:
        check_failures(res)
        wide = res.metrics(scenario)
        targets, info = documented_targets(str(sc_start), str(horizon))
        if "endogenous" not in politics:
            for t in targets:
                if t.key in ("pm_2010", "vacuum_2010"):
                    t.note = (t.note + "; " if t.note else "") + "scripted by the scenario's timeline: an input, not a forecast"
        rows = score_targets(wide, targets)
        summary = summarize(rows)
        lines = verdict_lines(summary)
        expo = event_size_exponent(res)
    finally:
        res.close()
    out = Path(out)
    bt = Backtest(scenario, rows, summary, lines, expo, info, politics, out)
    keys: list[str] = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    with open(out / "backtest.csv", "w", newline="", encoding="utf-8") as f:
        wr = csv.DictWriter(f, fieldnames=keys)
        wr.writeheader()
        wr.writerows(rows)
    (out / "backtest.json").write_text(json.dumps(bt.to_json(), indent=2) + "\n", encoding="utf-8")
    return bt
