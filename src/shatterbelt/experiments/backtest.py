"""Back-test: a scenario's forecasts scored against observed outcomes, beside naive baselines.

For any scenario (docs/backtest.md):

* observations come from the scenario's ``evaluation.observed`` file in the package's data
  folder, or from ``--observed FILE``: rows of country (ISO alpha-3), period (``YYYY-MM`` or
  ``YYYY``), measure (:data:`MEASURES`), value, optional low, high and source, checked on
  reading and against the scenario's country (:func:`read_observed`, :func:`check_country`);
* the windows are the scenario's ``evaluation`` fields: in-sample up to ``fit_until``,
  out-of-sample ``test_from..test_until`` (without the section, everything is out-of-sample);
* the model's forecast of a period is each run's national panel summed over the period's
  months (flows) or its last month (stocks): one value per run;
* each scored period gets the CRPS on log(1 + x), the 90 % interval score and 50 % / 90 %
  coverage, for the model and for no-change, persistence and trend baselines built from the
  history before the scenario's first month (:func:`baselines_for`); annual battle deaths
  also give the civil-war year (>= 1,000) as a Brier-scored probability;
* the ensemble can be exported in the ViEWS layout (:func:`views_table`).

For Iraq (``country_code: IRQ``) three documented events are scored too: the 2010 premiership
going to State of Law, the 2010 vacuum's length and the army's collapse in Nineveh by 2014.
:func:`documented_targets` keeps the annual Iraq targets the calibration (``calibrate``) fits.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from scipy import stats

from ..errors import UsageError
from ..scenario.schema import Scenario
from .ensemble import Ensemble, EnsembleResult, check_failures
from .overlay import scenario_from_raw
from .powerlaw import compare_lognormal, fit_powerlaw
from .scoring import (
    brier,
    covered,
    crps_ensemble,
    crps_normal,
    interval,
    interval_score,
    log1p,
    normal_interval,
)
from .stats import finite_or_none

#: Iraq's calibration cut-off and window labels of :func:`documented_targets` (the calibration's targets)
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
    """Iraq's documented annual targets within [start, until] (IBC, UCDP, civil-war years, the 2010
    premiership and vacuum, the Mosul collapse) with lognormal baselines, and how those were built:
    what ``calibrate`` fits (the years up to 2012) and where the back-test takes Iraq's events from."""
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


def event_size_exponent(res: EnsembleResult, min_tail: int = 50) -> dict[str, Any]:
    """A pipeline check: the power-law exponent of simulated event sizes (per run: median, 90% range;
    and pooled), which the engine draws with exponent 2.5, and the pooled tail's power law against a
    lognormal (Clauset, Shalizi & Newman's likelihood ratio with Vuong's test)."""
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
    lr = compare_lognormal(df["fatalities"].to_numpy(), pooled) if pooled else None
    return {
        "check": "pipeline: the engine draws event sizes from a power law with this exponent; recovering it "
                 "tests the path from draws to recorded fatalities, not an emergent law",
        "runs_fitted": int(a.size),
        "alpha_median": float(np.median(a)),
        "alpha_lo90": float(np.quantile(a, 0.05)),
        "alpha_hi90": float(np.quantile(a, 0.95)),
        "xmin_median": float(np.median(xmins)),
        "pooled": pooled.to_json() if pooled else None,
        "vs_lognormal": lr.to_json() if lr else None,
        "documented_alpha": BOHORQUEZ_ALPHA,
        "documented_source": "Bohorquez et al. (2009) Nature 462: 911 (Iraq 2003-2008)",
        "method": "discrete MLE, x_min by Kolmogorov-Smirnov (Clauset, Shalizi & Newman 2009)",
    }


# ---------------------------------------------------------------------------- any scenario
#: model measures an observed file may name: flows (summed over a period) and stocks (the
#: period's last month), each from the national panel's metrics
FLOWS: dict[str, tuple[str, ...]] = {
    "civilian_deaths": ("civilian_deaths",),
    "battle_deaths": ("battle_deaths",),
    "deaths": ("civilian_deaths", "battle_deaths"),
    "new_displaced": ("new_displaced",),
}
STOCKS: dict[str, str] = {"displaced": "displaced"}
#: politics measures: one documented event each, its period the month it began, scored against the
#: run's event of the same kind that began nearest to it (within :data:`MATCH_MONTHS`)
EVENTS: dict[str, str] = {
    "formation_days": "days from the start of a government formation (an election, a resignation, a new "
                      "head of state) to the cabinet (the summary's pm_by_term: 'election' to 'date')",
    "presidential_vacancy_days": "days the head of state's office stayed vacant (office_events of the office "
                                 "whose role is head_of_state: from elected - vacancy_days to elected)",
}
MEASURES = (*FLOWS, *STOCKS, *EVENTS)
#: how far (months) a run's event may begin from the documented one and still be its counterpart
MATCH_MONTHS = 12
OBSERVED_COLUMNS = ("country", "period", "measure", "value")
OPTIONAL_COLUMNS = ("low", "high", "source")
#: steps of history the trend baseline is fitted on, per granularity
TREND_SPAN = {"month": 36, "year": 8}
#: spread of a baseline when the history cannot give one (a documented assumption: an order of
#: magnitude in about two steps)
FALLBACK_SIGMA = 1.0
PERIOD_RE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2]))?$")


@dataclass(frozen=True)
class Observation:
    """One row of an observed file: a country's measure over a month or a year."""

    country: str
    period: str  # YYYY-MM or YYYY
    measure: str
    value: float
    low: float | None = None
    high: float | None = None
    source: str = ""

    @property
    def granularity(self) -> str:
        return "month" if len(self.period) == 7 else "year"


def period_index(period: str) -> int:
    """Months since year 0 for ``YYYY-MM``, the year for ``YYYY``: consecutive periods differ by 1."""
    return int(period[:4]) * 12 + int(period[5:7]) - 1 if len(period) == 7 else int(period)


def read_observed(path: str | Path, label: str | None = None) -> list[Observation]:
    """Read and check an observed-outcomes CSV (one line per problem, naming the field)."""
    where = label or str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise UsageError(f"--observed: cannot read {where}: {exc.strerror or exc}") from None
    return parse_observed(text, where)


def parse_observed(text: str, where: str) -> list[Observation]:
    rows = csv.DictReader(text.splitlines())
    cols = [c.strip() for c in (rows.fieldnames or [])]
    missing = [c for c in OBSERVED_COLUMNS if c not in cols]
    if missing:
        raise UsageError(f"--observed: {where}: missing column(s) {', '.join(missing)} "
                         f"(needs {', '.join(OBSERVED_COLUMNS)}; optional {', '.join(OPTIONAL_COLUMNS)})")
    out: list[Observation] = []
    seen: dict[tuple[str, str, str], int] = {}
    for n, raw in enumerate(rows, start=2):
        r = {str(k).strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        at = f"--observed: {where} line {n}"
        if not any(r.values()):
            continue
        if not r["country"]:
            raise UsageError(f"{at}: country is empty (an ISO 3166-1 alpha-3 code, e.g. IRQ)")
        if not PERIOD_RE.match(r["period"]):
            raise UsageError(f"{at}: period '{r['period']}' is not YYYY-MM (a month) or YYYY (a year)")
        if r["measure"] not in MEASURES:
            raise UsageError(f"{at}: measure '{r['measure']}' is not one of {', '.join(MEASURES)}")
        nums: dict[str, float | None] = {}
        for c in ("value", "low", "high"):
            v = r.get(c, "")
            if v == "" and c != "value":
                nums[c] = None
                continue
            try:
                x = float(v)
            except ValueError:
                raise UsageError(f"{at}: {c} '{v}' is not a number") from None
            if not math.isfinite(x) or x < 0:
                raise UsageError(f"{at}: {c} must be a finite count >= 0, got {v}")
            nums[c] = x
        val = float(nums["value"])  # type: ignore[arg-type]
        lo, hi = nums["low"], nums["high"]
        if (lo is not None and lo > val) or (hi is not None and hi < val):
            raise UsageError(f"{at}: value {val:g} is outside its own low..high range")
        key = (r["country"], r["period"], r["measure"])
        if key in seen:
            raise UsageError(f"{at}: {r['measure']} of {r['country']} in {r['period']} is already on line {seen[key]}")
        seen[key] = n
        out.append(Observation(r["country"], r["period"], r["measure"], val, lo, hi, r.get("source", "")))
    if not out:
        raise UsageError(f"--observed: {where}: no observations")
    return out


def check_country(obs: list[Observation], code: str, name: str, where: str) -> None:
    """Every row must be the scenario's country: its ISO alpha-3 code (``evaluation.country_code``),
    or, for a scenario without one (a fictional country), its ``country`` name."""
    want = code or name
    for o in obs:
        if o.country != want and not (not code and o.country.lower() == name.lower()):
            what = f"its ISO code {code}" if code else f"its name '{name}' (it has no evaluation.country_code)"
            raise UsageError(f"--observed: {where}: country '{o.country}' ({o.measure} {o.period}) is not the "
                             f"scenario's country; rows must give {what}")


@dataclass
class Windows:
    """The back-test's windows: in-sample up to ``fit_until``, out-of-sample ``test_from..test_until``."""

    start: str
    end: str  # last month the runs reach
    fit_until: str
    test_from: str
    test_until: str

    def _fmt(self, a: str, b: str) -> str:
        a_ = a[:4] if a.endswith("-01") else a
        b_ = b[:4] if b.endswith("-12") else b
        return a_ if a_ == b_ else f"{a_}..{b_}"

    @property
    def labels(self) -> tuple[str, str]:
        fit = self.fit_until[:4] if self.fit_until.endswith("-12") else self.fit_until
        return (f"in-sample (<={fit})", f"out-of-sample ({self._fmt(self.test_from, self.test_until)})")

    def of(self, period: str) -> str | None:
        """The window of a period the runs cover whole, or None (not scored)."""
        first, last = (period, period) if len(period) == 7 else (f"{period}-01", f"{period}-12")
        if first < self.start or last > self.end:
            return None
        if last <= self.fit_until:
            return self.labels[0]
        if first >= self.test_from and last <= self.test_until:
            return self.labels[1]
        return None


def windows_for(sc: Scenario, end: str) -> Windows:
    """The scenario's evaluation windows; without an ``evaluation`` section every period is out-of-sample."""
    ev = sc.evaluation
    if ev is None:
        y, m = map(int, sc.start.split("-"))
        before = f"{y - 1}-12" if m == 1 else f"{y}-{m - 1:02d}"
        return Windows(sc.start, end, before, sc.start, sc.horizon)
    return Windows(sc.start, end, ev.fit_until, ev.test_from, ev.test_until)


def _lognormal(median: float, sigma1: float, h: float) -> tuple[float, float]:
    return (float(log1p(median)), sigma1 * math.sqrt(max(h, 1.0)))


def baselines_for(obs: list[Observation], origin: str) -> tuple[dict[tuple[str, str, str], dict[str, Any]], dict[str, Any]]:
    """Baseline forecasts (mean and sd on log(1 + x)) for every observed period, and how they were made.

    Per series (measure and granularity), from the history known before the origin (periods ending
    before the scenario's first month):

    * no-change: the last known value, held flat;
    * persistence: the previous period's observed value (one step ahead: it sees data after the origin);
    * trend: a least-squares line on log(1 + x) over the last 36 months / 8 years known, extrapolated.

    Spread sigma_1 * sqrt(h), h the steps ahead (persistence: 1), sigma_1 the standard deviation of
    step-to-step changes of log(1 + x) in the known history (pooled over the series of the same
    granularity when one is too short; 1.0 when none is long enough).
    """
    series: dict[tuple[str, str], dict[str, float]] = {}
    for o in obs:
        series.setdefault((o.measure, o.granularity), {})[o.period] = o.value

    def known(period: str) -> bool:
        last = period if len(period) == 7 else f"{period}-12"
        return last < origin

    def diffs(vals: dict[str, float]) -> list[float]:
        ks = sorted(k for k in vals if known(k))
        return [float(log1p(vals[b]) - log1p(vals[a])) for a, b in zip(ks, ks[1:], strict=False)
                if period_index(b) - period_index(a) == 1]

    pooled: dict[str, list[float]] = {}
    for (_, g), vals in series.items():
        pooled.setdefault(g, []).extend(diffs(vals))
    info: dict[str, Any] = {"origin": origin, "series": {}}
    out: dict[tuple[str, str, str], dict[str, Any]] = {}
    for (measure, g), vals in sorted(series.items()):
        hist = sorted((k for k in vals if known(k)), key=period_index)
        d = diffs(vals)
        if len(d) >= 2:
            sigma1, how = float(np.std(d, ddof=1)), "own history"
        elif len(pooled.get(g, [])) >= 2:
            sigma1, how = float(np.std(pooled[g], ddof=1)), f"pooled {'monthly' if g == 'month' else 'annual'} history"
        else:
            sigma1, how = FALLBACK_SIGMA, "assumption (no history to estimate it)"
        sigma1 = max(sigma1, 1e-3)
        trend = None
        span = hist[-TREND_SPAN[g]:]
        if len(span) >= 3:
            a, b = _ols(np.array([period_index(k) for k in span], float), np.array([log1p(vals[k]) for k in span]))
            trend = (a, b)
        info["series"][f"{measure}/{g}"] = {
            "known_periods": len(hist), "last_known": hist[-1] if hist else None, "sigma_1": sigma1,
            "sigma_from": how, "trend_per_step": None if trend is None else math.expm1(trend[1]),
        }
        for p in vals:
            if known(p):
                continue
            t = period_index(p)
            bl: dict[str, Any] = {"no-change": None, "persistence": None, "trend": None}
            if hist:
                last = hist[-1]
                bl["no-change"] = _lognormal(vals[last], sigma1, t - period_index(last))
            prev = [k for k in vals if period_index(k) == t - 1]
            if prev:
                bl["persistence"] = _lognormal(vals[prev[0]], sigma1, 1.0)
            if trend is not None and hist:
                h = t - period_index(hist[-1])
                bl["trend"] = (float(trend[0] + trend[1] * t), sigma1 * math.sqrt(max(h, 1.0)))
            out[(measure, g, p)] = bl
    return out, info


def model_panel(store: Any, scenario: str) -> tuple[list[str], dict[str, np.ndarray], list[int]]:
    """Months, metric -> runs x months array (national panel), and the run indices (draws)."""
    df = store.query(
        "SELECT r.run_index, p.month, p.metric, p.value FROM panel p JOIN runs r USING (run_id) "
        "WHERE r.scenario = ? AND p.region = 'national' AND p.metric IN ('civilian_deaths', 'battle_deaths', "
        "'displaced', 'new_displaced') ORDER BY r.run_index, p.month",
        [scenario],
    ) if store._has("panel") else None
    if df is None or df.empty:
        return [], {}, []
    months = sorted(df["month"].astype(str).unique())
    runs = sorted(int(x) for x in df["run_index"].unique())
    out = {}
    for metric, g in df.groupby("metric", sort=True):
        wide = g.pivot(index="run_index", columns="month", values="value").reindex(index=runs, columns=months)
        out[str(metric)] = wide.to_numpy(float)
    return months, out, runs


def model_draws(months: list[str], panel: dict[str, np.ndarray], measure: str, period: str) -> np.ndarray | None:
    """Each run's value of a measure over a period (None when the runs do not cover it whole)."""
    pos = {m: i for i, m in enumerate(months)}
    want = [period] if len(period) == 7 else [f"{period}-{m:02d}" for m in range(1, 13)]
    if not all(m in pos for m in want):
        return None
    idx = [pos[m] for m in want]
    if measure in FLOWS:
        parts = [panel[c][:, idx].sum(1) for c in FLOWS[measure] if c in panel]
        return np.sum(parts, axis=0) if len(parts) == len(FLOWS[measure]) else None
    col = STOCKS[measure]
    return panel[col][:, idx[-1]] if col in panel else None


def _add_months(month: str, k: int) -> str:
    y, m = map(int, month.split("-"))
    i = y * 12 + m - 1 + k
    return f"{i // 12}-{i % 12 + 1:02d}"


def _month_end(month: str) -> dt.date:
    y, m = map(int, month.split("-"))
    return dt.date(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)


def head_of_state_offices(sc: Scenario) -> set[str]:
    """Ids of the offices whose role is head of state in the scenario's politics (none without one)."""
    pol = sc.politics
    return {o.id for o in (pol.reserved_offices or []) if o.role == "head_of_state"} if pol is not None else set()


def run_politics_events(summary: dict[str, Any], head_of_state: set[str]) -> dict[str, list[tuple[str, float]]]:
    """One run's politics events from its summary: measure -> [(start date ISO, days)], in order.

    Formations are the summary's ``pm_by_term`` entries that record when the formation began
    (``election``: an election, a resignation, a new head of state) and the cabinet's date; a
    vacancy is an election to a head-of-state office (``office_events``), begun ``vacancy_days``
    before it (0 when the office was filled in time).  Events still running at the horizon are not
    in the summary: :func:`event_draws` treats them as censored.
    """
    out: dict[str, list[tuple[str, float]]] = {m: [] for m in EVENTS}
    for e in summary.get("pm_by_term") or []:
        if e.get("election") and e.get("date"):
            d0, d1 = dt.date.fromisoformat(e["election"]), dt.date.fromisoformat(e["date"])
            out["formation_days"].append((d0.isoformat(), float((d1 - d0).days)))
    for e in summary.get("office_events") or []:
        if e.get("office") in head_of_state and e.get("elected"):
            d1 = dt.date.fromisoformat(e["elected"])
            days = int(e.get("vacancy_days") or 0)
            out["presidential_vacancy_days"].append(((d1 - dt.timedelta(days=days)).isoformat(), float(days)))
    return out


def model_events(store: Any, scenario: str, head_of_state: set[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """Every run's politics events (:func:`run_politics_events`) and last month, in run order."""
    if not store._has("summaries"):
        return [], []
    df = store.query("SELECT r.run_index, s.summary FROM summaries s JOIN runs r USING (run_id) "
                     "WHERE r.scenario = ? ORDER BY r.run_index", [scenario])
    events, ends = [], []
    for text in df["summary"]:
        s = json.loads(text)
        events.append(run_politics_events(s, head_of_state))
        ends.append(str(s.get("end") or ""))
    return events, ends


def event_draws(obs: list[Observation], events: list[dict[str, Any]], ends: list[str]
                ) -> dict[tuple[str, str], tuple[np.ndarray, int, float]]:
    """Each observed politics event's counterpart in every run: (days per run, runs censored, cap in days).

    In each run, the observations of a measure are taken in date order and each claims the run's
    unclaimed event of that measure that began nearest its period (at most :data:`MATCH_MONTHS`
    away; ties to the earlier).  A run without one is *censored* when the window reaches past its
    end (the event may still be running at the horizon): its value is the days from the period's
    first day to the run's last day.  Otherwise it has no counterpart (NaN).  Model values and the
    observation are both capped at those days (``cap``), so an event longer than the run is
    compared as "still running at the end".  When no run has any event of a measure (a scenario
    without a politics layer or a head-of-state office), its observations get no values at all.
    """
    out: dict[tuple[str, str], tuple[np.ndarray, int, float]] = {}
    for measure in EVENTS:
        mobs = sorted((o for o in obs if o.measure == measure and o.granularity == "month"),
                      key=lambda o: o.period)
        if not mobs:
            continue
        vals = {o.period: np.full(len(events), np.nan) for o in mobs}
        cens = dict.fromkeys(vals, 0)
        caps = dict.fromkeys(vals, math.inf)
        if not any(ev.get(measure) for ev in events):
            # no run has such an event at all (no politics layer, no head-of-state office):
            # nothing to compare with, rather than every run "still in it"
            for o in mobs:
                out[(measure, o.period)] = (vals[o.period], 0, math.nan)
            continue
        for i, (ev, end) in enumerate(zip(events, ends, strict=True)):
            cand = list(ev.get(measure, []))
            used: set[int] = set()
            for o in mobs:
                p0 = period_index(o.period)
                best = None
                for j, (start, days) in enumerate(cand):
                    gap = abs(period_index(start[:7]) - p0)
                    if j not in used and gap <= MATCH_MONTHS and (best is None or gap < best[0]):
                        best = (gap, j, days)
                cap = float((_month_end(end) - dt.date.fromisoformat(o.period + "-01")).days) if end else math.inf
                caps[o.period] = min(caps[o.period], cap)
                if best is not None:
                    used.add(best[1])
                    vals[o.period][i] = min(best[2], cap)
                elif end and _add_months(o.period, MATCH_MONTHS) > end and cap >= 0:
                    vals[o.period][i] = cap
                    cens[o.period] += 1
        for o in mobs:
            out[(measure, o.period)] = (vals[o.period], cens[o.period], caps[o.period])
    return out


def event_baselines(obs: list[Observation], origin: str) -> tuple[dict[tuple[str, str], dict[str, Any]], dict[str, Any]]:
    """Baselines for politics events, lognormal on log(1 + days): no-change (the last event of the measure
    documented before the origin), persistence (the previous documented event, which may lie after the
    origin: the previous formation's length) and no trend.  Spread: the standard deviation of changes of
    log(1 + days) between consecutive events known before the origin, or 1.0 (assumption) with fewer
    than two changes; it is not widened with the steps ahead (events are not a regular series)."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    info: dict[str, Any] = {}
    for measure in EVENTS:
        ev = sorted((o for o in obs if o.measure == measure and o.granularity == "month"), key=lambda o: o.period)
        if not ev:
            continue
        known = [o for o in ev if o.period < origin]
        d = [float(log1p(b.value) - log1p(a.value)) for a, b in zip(known, known[1:], strict=False)]
        sigma1, how = (max(float(np.std(d, ddof=1)), 1e-3), "own history") if len(d) >= 2 else (
            FALLBACK_SIGMA, "assumption (fewer than three events before the origin)")
        info[f"{measure}/event"] = {"known_periods": len(known), "last_known": known[-1].period if known else None,
                                    "sigma_1": sigma1, "sigma_from": how, "trend_per_step": None}
        for k, o in enumerate(ev):
            if o.period < origin:
                continue
            bl: dict[str, Any] = {"no-change": None, "persistence": None, "trend": None}
            if known:
                bl["no-change"] = (float(log1p(known[-1].value)), sigma1)
            if k > 0:
                bl["persistence"] = (float(log1p(ev[k - 1].value)), sigma1)
            out[(measure, o.period)] = bl
    return out, info


def _count_row(o: Observation, window: str, x: np.ndarray, bl: dict[str, Any]) -> dict[str, Any]:
    lx = log1p(x)
    ly = float(log1p(o.value))
    lo50, hi50 = interval(x, 0.5)
    lo90, hi90 = interval(x, 0.9)
    row: dict[str, Any] = {
        "target": f"{o.measure}.{o.period}", "label": f"{o.measure.replace('_', ' ')} {o.period}",
        "measure": o.measure, "period": o.period, "granularity": o.granularity, "window": window, "kind": "deaths",
        "observed": o.value, "observed_low": o.low, "observed_high": o.high, "source": o.source, "runs": int(x.size),
        "note": "", "model_median": float(np.median(x)), "model_lo50": lo50, "model_hi50": hi50,
        "model_lo90": lo90, "model_hi90": hi90,
        "crps.model": crps_ensemble(lx, ly),
        "is90.model": interval_score(*interval(lx, 0.9), ly, 0.1),
        "cover50.model": covered(lo50, hi50, o.value), "cover90.model": covered(lo90, hi90, o.value),
    }
    for b in BASELINES:
        mb = bl.get(b)
        if mb is None:
            row.update({f"median.{b}": math.nan, f"crps.{b}": math.nan, f"is90.{b}": math.nan,
                        f"cover50.{b}": None, f"cover90.{b}": None})
            continue
        mu, sd = mb
        row[f"median.{b}"] = float(np.expm1(mu))
        row[f"crps.{b}"] = crps_normal(mu, sd, ly)
        row[f"is90.{b}"] = interval_score(*normal_interval(mu, sd, 0.9), ly, 0.1)
        for lev in (0.5, 0.9):
            row[f"cover{int(lev * 100)}.{b}"] = covered(*normal_interval(mu, sd, lev), ly)
    return row


def _event_row(o: Observation, window: str, x: np.ndarray, censored: int, cap: float,
               bl: dict[str, Any]) -> dict[str, Any]:
    """A politics event (days) scored like a count on log(1 + days), plus the CRPS in days; observation
    and runs capped at the days the runs can see after the event began (``cap``)."""
    capped = min(o.value, cap)
    row = _count_row(Observation(o.country, o.period, o.measure, capped, o.low, o.high, o.source), window, x, bl)
    row.update(granularity="event", kind="duration")
    row["crps_days.model"] = crps_ensemble(x, capped)
    row["label"] = f"{o.measure.replace('_', ' ')}, began {o.period}"
    row["censored_runs"] = censored
    notes = []
    if capped < o.value:
        notes.append(f"observed {o.value:g} days, of which the runs can see {capped:g} (to their end)")
    if censored:
        notes.append(f"{censored} run(s) still in it at the end (counted to the end)")
    row["note"] = "; ".join(notes)
    return row


def _war_row(count: dict[str, Any], o: Observation, x: np.ndarray, bl: dict[str, Any]) -> dict[str, Any]:
    """The civil-war year (battle deaths >= 1,000, UCDP's threshold) as a binary target, Brier-scored."""
    y = int(o.period)
    row: dict[str, Any] = {
        "target": f"civil_war.{y}", "label": f"civil-war year {y} (battle deaths >= 1,000)", "measure": "civil_war",
        "period": o.period, "granularity": "year", "window": count["window"], "kind": "binary",
        "observed": float(o.value >= 1000), "source": o.source, "runs": int(x.size), "note": "",
        "p.model": float((x >= 1000).mean()),
    }
    row["brier.model"] = brier(row["p.model"], bool(row["observed"]))
    for b in BASELINES:
        if bl.get(b) is None:
            row[f"p.{b}"] = row[f"brier.{b}"] = math.nan
            continue
        mu, sd = bl[b]
        p = float(1 - stats.norm.cdf((math.log1p(1000) - mu) / sd))
        row[f"p.{b}"] = p
        row[f"brier.{b}"] = brier(p, bool(row["observed"]))
    return row


def score_observed(
    obs: list[Observation], wins: Windows, months: list[str], panel: dict[str, np.ndarray], origin: str,
    events: tuple[list[dict[str, Any]], list[str]] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any], int]:
    """Score every observation the runs cover and a window holds; rows, baseline info, rows left out.
    ``events`` are the runs' politics events and last months (:func:`model_events`), needed for the
    politics measures (:data:`EVENTS`)."""
    bls, info = baselines_for([o for o in obs if o.measure not in EVENTS], origin)
    ebls, einfo = event_baselines(obs, origin)
    info["series"].update(einfo)
    draws = event_draws(obs, *(events or ([], [])))
    rows: list[dict[str, Any]] = []
    skipped = 0
    for o in sorted(obs, key=lambda o: (o.granularity != "month", o.measure, period_index(o.period))):
        if o.measure in EVENTS:
            w = wins.of(o.period)
            got = draws.get((o.measure, o.period))
            x = got[0][np.isfinite(got[0])] if got is not None else np.array([])
            if w is None or x.size == 0:
                skipped += 1
                continue
            rows.append(_event_row(o, w, x, got[1], got[2], ebls.get((o.measure, o.period), {})))  # type: ignore[index]
            continue
        w = wins.of(o.period)
        x = model_draws(months, panel, o.measure, o.period) if w else None
        if w is None or x is None:
            skipped += 1
            continue
        bl = bls.get((o.measure, o.granularity, o.period), {})
        row = _count_row(o, w, x, bl)
        rows.append(row)
        if o.measure == "battle_deaths" and o.granularity == "year":
            rows.append(_war_row(row, o, x, bl))
    return rows, info, skipped


def summarize_observed(rows: list[dict[str, Any]], labels: tuple[str, str]) -> dict[str, Any]:
    """Per window and granularity: mean CRPS and interval score, coverage, mean Brier, per forecaster."""
    out: dict[str, Any] = {}
    for w in labels:
        s: dict[str, Any] = {}
        for g in ("month", "year", "event"):
            kind = "duration" if g == "event" else "deaths"
            d = [r for r in rows if r["window"] == w and r["kind"] == kind and r["granularity"] == g]
            gs: dict[str, Any] = {"targets": len(d)}
            for f in ("model", *BASELINES):
                for score in ("crps", "is90"):
                    v = [r[f"{score}.{f}"] for r in d if math.isfinite(r.get(f"{score}.{f}", math.nan))]
                    gs[f"{score}.{f}"] = float(np.mean(v)) if v else math.nan
                for lev in (50, 90):
                    cv = [r[f"cover{lev}.{f}"] for r in d if r.get(f"cover{lev}.{f}") is not None]
                    gs[f"cover{lev}.{f}"] = f"{sum(cv)}/{len(cv)}" if cv else "n/a"
            for b in BASELINES:
                for score in ("crps", "is90"):
                    pairs = [(r[f"{score}.model"], r[f"{score}.{b}"]) for r in d
                             if math.isfinite(r[f"{score}.model"]) and math.isfinite(r.get(f"{score}.{b}", math.nan))]
                    gs[f"vs.{b}.{score}"] = ([float(np.mean([p[0] for p in pairs])),
                                              float(np.mean([p[1] for p in pairs])), len(pairs)] if pairs else None)
            s[g] = gs
        bnr = [r for r in rows if r["window"] == w and r["kind"] == "binary"]
        bs: dict[str, Any] = {"targets": len(bnr)}
        for f in ("model", *BASELINES):
            v = [r[f"brier.{f}"] for r in bnr if math.isfinite(r.get(f"brier.{f}", math.nan))]
            bs[f"brier.{f}"] = float(np.mean(v)) if v else math.nan
        for b in BASELINES:
            pairs = [(r["brier.model"], r[f"brier.{b}"]) for r in bnr
                     if math.isfinite(r["brier.model"]) and math.isfinite(r.get(f"brier.{b}", math.nan))]
            bs[f"vs.{b}.brier"] = ([float(np.mean([p[0] for p in pairs])), float(np.mean([p[1] for p in pairs])),
                                    len(pairs)] if pairs else None)
        s["binary"] = bs
        out[w] = s
    return out


def observed_verdicts(summary: dict[str, Any]) -> list[str]:
    """Plain sentences: where the model beats each baseline and where it loses."""
    lines = []
    what = {"crps": "mean CRPS on log(1+x)", "is90": "mean 90% interval score", "brier": "mean Brier score"}
    for w, s in summary.items():
        for g, scores in (("month", ("crps", "is90")), ("year", ("crps", "is90")), ("event", ("crps", "is90")),
                          ("binary", ("brier",))):
            for score in scores:
                for b in BASELINES:
                    hh = s.get(g, {}).get(f"vs.{b}.{score}")
                    if not hh:
                        continue
                    m, v, n = hh
                    word = "LOSES to" if m > v + 1e-12 else ("ties with" if abs(m - v) <= 1e-12 else "beats")
                    unit = {"month": "monthly", "year": "annual", "event": "politics events", "binary": "binary"}[g]
                    lines.append(f"{w}, {unit}: the model {word} {b} on {what[score]} ({m:.3f} vs {v:.3f}, {n} targets)")
    return lines


VIEWS_EPOCH = 1980  # ViEWS month_id 1 is January 1980


def views_table(months: list[str], panel: dict[str, np.ndarray], runs: list[int], country: str) -> Any:
    """The ensemble in the ViEWS layout: one row per month and draw, a prediction column per measure."""
    n_r, n_m = len(runs), len(months)
    cols: dict[str, Any] = {
        "month": pa.array([m for _ in runs for m in months], pa.string()),
        "month_id": pa.array([(int(m[:4]) - VIEWS_EPOCH) * 12 + int(m[5:]) for _ in runs for m in months], pa.int32()),
        "country": pa.array([country] * (n_r * n_m), pa.string()),
        "draw": pa.array([r for r in runs for _ in months], pa.int32()),
    }
    for measure in MEASURES:
        parts = FLOWS.get(measure, (STOCKS.get(measure, ""),))
        if all(p in panel for p in parts):
            cols[f"pred_{measure}"] = pa.array(np.sum([panel[p] for p in parts], axis=0).reshape(-1), pa.float64())
    return pa.table(cols)


def write_views(path: str | Path, table: Any) -> Path:
    """Write the ViEWS-layout table as Parquet (``.parquet``) or CSV (``.csv``)."""
    p = Path(path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        if p.suffix == ".csv":
            pacsv.write_csv(table, p)
        else:
            pq.write_table(table, p, compression="zstd")
    except OSError as exc:
        raise UsageError(f"--views: cannot write {p}: {exc.strerror or exc}") from None
    return p


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
    windows: tuple[str, str] = ("", "")
    observed: str = ""
    left_out: int = 0
    views: str | None = None
    window_months: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return finite_or_none({
            "scenario": self.scenario, "observed": self.observed, "windows": list(self.windows),
            "window_months": self.window_months, "targets": self.rows, "summary": self.summary,
            "observations_not_scored": self.left_out, "verdicts": self.lines, "event_size_exponent": self.exponent,
            "baselines": self.baseline_info, "politics": self.politics, "views": self.views,
            "saved": {"csv": str(self.out / "backtest.csv"), "json": str(self.out / "backtest.json")},
        })


#: Iraq's documented events and the month each was settled in (its window)
IRAQ_EVENTS = {"pm_2010": "2010-12", "vacuum_2010": "2010-12", "mosul_2014": "2014-06"}


def _iraq_events(start: str, end: str, wins: Windows) -> list[tuple[Target, str]]:
    """Iraq's documented events (the 2010 premiership and vacuum, the Mosul collapse) the runs reach."""
    targets, _ = documented_targets(start, end)
    out = []
    for t in targets:
        w = wins.of(IRAQ_EVENTS[t.key]) if t.key in IRAQ_EVENTS else None
        if w is not None:
            out.append((t, w))
    return out


def run_backtest(runs: int, out: str | Path, scenario: str = "iraq-2010", observed: str | Path | None = None,
                 views: str | Path | None = None, **kw: Any) -> Backtest:
    """Run (or resume) the back-test ensemble and score it against the scenario's observations
    (or ``observed``); refuses in one line, before any run, when there are none."""
    run_kw = {k: kw.pop(k) for k in ("workers", "scheduler", "progress", "rebuild", "connect_timeout") if k in kw}
    kw.setdefault("sample", "lhs")
    kw["panel"] = "national"
    ens = Ensemble([scenario], runs=runs, out=out, kind="backtest", **kw)
    sc = scenario_from_raw(ens._raw[scenario], scenario, list(ens.overrides), warn=False)
    ev = sc.evaluation
    code = ev.country_code if ev else ""
    if observed is not None:
        obs = read_observed(observed)
        obs_label = str(observed)
    elif ev is not None and ev.observed:
        res_path = resources.files("shatterbelt.data").joinpath(*ev.observed.split("/"))
        if not res_path.is_file():
            raise UsageError(f"evaluation.observed: '{ev.observed}' is not a file in the package's data folder")
        obs = parse_observed(res_path.read_text(encoding="utf-8"), f"shatterbelt/data/{ev.observed}")
        obs_label = f"shatterbelt/data/{ev.observed}"
    else:
        raise UsageError(f"--observed: scenario '{scenario}' has no observations of its own (no evaluation.observed); "
                         "give a file of observed outcomes with --observed FILE (format: docs/backtest.md)")
    check_country(obs, code, sc.country, obs_label)
    end = ens.until or sc.horizon
    wins = windows_for(sc, end)
    politics = "endogenous (politics layer)" if sc.politics is not None else "scripted by the timeline"
    res = ens.run(**run_kw)
    try:
        check_failures(res)
        months, panel, draws = model_panel(res.store, scenario)
        evs = model_events(res.store, scenario, head_of_state_offices(sc)) if any(o.measure in EVENTS for o in obs) else None
        rows, info, left_out = score_observed(obs, wins, months, panel, sc.start, evs)
        if code == "IRQ":
            events = _iraq_events(sc.start, end, wins)
            ev_rows = score_targets(res.metrics(scenario), [t for t, _ in events])
            for r, (_, w) in zip(ev_rows, events, strict=True):
                r["window"] = w
                r["granularity"] = "event"
                if politics.startswith("scripted") and r["target"] in ("pm_2010", "vacuum_2010"):
                    r["note"] = (r["note"] + "; " if r["note"] else "") + "scripted by the scenario's timeline: an input, not a forecast"
            rows += ev_rows
        summary = summarize_observed(rows, wins.labels)
        lines = observed_verdicts(summary)
        expo = event_size_exponent(res)
        views_path = None
        if views is not None:
            views_path = str(write_views(views, views_table(months, panel, draws, code or sc.country)))
    finally:
        res.close()
    out = Path(out)
    wm = {wins.labels[0]: f"{sc.start}..{min(wins.fit_until, end)}", wins.labels[1]: f"{wins.test_from}..{wins.test_until}"}
    bt = Backtest(scenario, rows, summary, lines, expo, info, politics, out, wins.labels, obs_label, left_out,
                  views_path, wm)
    keys: list[str] = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    with open(out / "backtest.csv", "w", newline="", encoding="utf-8") as f:
        wr = csv.DictWriter(f, fieldnames=keys)
        wr.writeheader()
        wr.writerows(rows)
    (out / "backtest.json").write_text(json.dumps(bt.to_json(), indent=2) + "\n", encoding="utf-8")
    return bt
