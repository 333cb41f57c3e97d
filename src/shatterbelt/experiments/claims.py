"""The essay's eight claims as designed experiments over paired ensembles (docs/experiments.md quotes the essay's sentences).

Each claim compares the world the essay describes (the baseline scenario:
withdrawal, the 2010 vacuum, an infiltrated army, muhasasa, patrons, sectarian
power-sharing) with a counterfactual variant, on the metrics each claim names.
Effects are oriented as *essay world minus counterfactual*, and every metric
carries the sign the essay predicts.  C7 has no counterfactual: it asks whether
the baseline's count of microstates is "multiple" (at least 2).

Verdicts come only from the runs:

* per metric, from the 90% bootstrap interval of the mean paired difference
  (``stats.verdict``): supported / contradicted / inconclusive *under this model*;
* per claim, over its metrics: supported when at least one metric supports it
  and none contradicts it, contradicted in the mirror case, inconclusive when
  none decides or the metrics disagree;
* share of the parameter space: the ensemble's Latin hypercube samples, each
  replicated over ``replicates`` seeds; each sample gets its own verdict by the
  same rules, with a noise band of 1.645 x the pooled within-sample standard
  deviation / sqrt(replicates) in place of the interval; the share is the
  fraction of samples whose verdict equals the claim's.

The design uses the baseline's uncertain parameters minus those a variant
pins; paired runs share seeds and sampled values (common random numbers).
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UsageError
from .ensemble import Ensemble, EnsembleResult, check_failures
from .stats import LEVEL, bootstrap_mean_ci, verdict

BASE = "iraq-2010"
Z90 = 1.6448536269514722


@dataclass(frozen=True)
class ClaimMetric:
    name: str  # outcome key in the metrics table
    label: str
    direction: int  # sign of (essay world - counterfactual) the essay predicts; for C7 of (value - threshold)
    threshold: float = 0.0


@dataclass(frozen=True)
class Claim:
    id: str
    title: str
    sentence: str
    world: str  # variant suffix of the essay's world ("" = the baseline)
    counterfactual: str | None  # variant suffix, or None for a one-arm claim
    metrics: tuple[ClaimMetric, ...]
    design_note: str = ""


CLAIMS: tuple[Claim, ...] = (
    Claim(
        "C1", "withdrawal deepens the divide, maybe sectarian civil war (S5)",
        "the US Army leaving Mesopotamia will not restore cohesion to the Iraqis, but will rather deepen the "
        "divide between entities and perhaps lead to sectarian civil wars",
        "", "us-stays",
        (
            ClaimMetric("army_cohesion.mean_from_2012", "army cohesion 2012-14 (mean)", -1),
            ClaimMetric("civil_war.from_2012", "P(civil war 2012-14)", +1),
            ClaimMetric("deaths.from_2012", "deaths 2012-14", +1),
        ),
        "historical withdrawal (none after 18 Dec 2011) vs US forces held at 50,000 to the horizon",
    ),
    Claim(
        "C2", "the insurgency revives in the vacuum (S6)",
        "Al-Qaeda organization resumed its activity over the past few weeks, amidst political vacuum under the "
        "banner of disagreement over the position of Prime Minister",
        "", "fast-government",
        (
            ClaimMetric("insurgent_fighters.mean_to_2011", "insurgent fighters 2010-11 (mean)", +1),
            ClaimMetric("insurgent_attacks.to_2011", "insurgent attacks 2010-11", +1),
        ),
        "the baseline's 2010 formation (the politics layer's; 289 days in history) vs a government formed within a month",
    ),
    Claim(
        "C3", "a split, infiltrated army fails (S3)",
        "the official army ... is distributed among the 'entities', breached by militias and intelligence "
        "agencies, and obstructed in its work by political leaders whose sole ambition is to remain in power",
        "", "unified-army",
        (
            ClaimMetric("army_collapses.count", "army collapses", +1),
            ClaimMetric("insurgent_control.last12", "insurgent control, last 12 months", +1),
            ClaimMetric("army_cohesion.mean", "army cohesion (mean)", -1),
        ),
        "infiltration and politicized command as in the baseline vs an army answering to the state only",
    ),
    Claim(
        "C4", "apportionment arms the entities (S1)",
        "the Iraqis have become split into multiple entities, each with its own share in the state and in the "
        "regime, and each with its own army",
        "", "technocratic",
        (
            ClaimMetric("militia_fighters.last12", "militia fighters, last 12 months", +1),
            ClaimMetric("fragmentation.last12", "fragmentation (effective no. of controlling entities)", +1),
        ),
        "muhasasa (entity rents arm wings, command by entity) vs a technocratic allocation",
    ),
    Claim(
        "C5", "leaders survive through foreign loyalty (S4)",
        "the leaders of which buy their remaining in the political game with more loyalty to foreign parties",
        "", "no-patrons",
        (
            ClaimMetric("leaders.in_game", "blocs' seats still in government at the end", +1),
            ClaimMetric("patron_influence.total_final", "patron influence at the end (all patrons)", +1),
        ),
        "patron budgets as in the baseline vs every patron budget at zero",
    ),
    Claim(
        "C6", "fertile soil for the uprising and foreign influence (S7)",
        "fertile soil for the growing 'Islamist uprising' in many parts of it, in addition to preparing the "
        "climate for the spread of Iranian, Turkish and Israeli influence",
        "", "us-stays",
        (
            ClaimMetric("insurgent_fighters.mean_from_2012", "insurgent fighters 2012-14 (mean)", +1),
            ClaimMetric("patron_influence.iran.mean_from_2012", "Iran's influence 2012-14", +1),
            ClaimMetric("patron_influence.turkey.mean_from_2012", "Turkey's influence 2012-14", +1),
            ClaimMetric("patron_influence.israel.mean_from_2012", "Israel's influence 2012-14", +1),
        ),
        "historical withdrawal vs US forces held at 50,000",
    ),
    Claim(
        "C7", "multiple failed microstates (summary sentence)",
        "the occupation has turned Iraq into multiple failed microstates",
        "", None,
        (ClaimMetric("microstates.mean", "microstates (mean count over months) vs 2", +1, threshold=2.0),),
        "the baseline alone: is the number of microstates 'multiple' (at least 2)?",
    ),
    Claim(
        "C8", "worse than the dictatorship (S8)",
        "Saddam Hussein was a dictator. But the 'democracy' of sectarian entities established by the "
        "occupation is worse.",
        "", "autocracy",
        (
            ClaimMetric("deaths.total", "deaths (civilian + battle)", +1),
            ClaimMetric("displaced.new_total", "newly displaced", +1),
            ClaimMetric("army_cohesion.mean", "army cohesion (mean)", -1),
        ),
        "sectarian power-sharing vs a centralized autocracy; verdict per metric",
    ),
)

CLAIM_IDS = tuple(c.id for c in CLAIMS)


def _label(base: str, suffix: str | None) -> str | None:
    if suffix is None:
        return None
    return base if not suffix else f"{base}+{suffix}"


def combine(verdicts: list[str]) -> str:
    """A claim's verdict over its metrics: one-sided evidence decides, mixed or none is inconclusive."""
    sup = "supported" in verdicts
    con = "contradicted" in verdicts
    if sup and not con:
        return "supported"
    if con and not sup:
        return "contradicted"
    return "inconclusive"


@dataclass
class MetricResult:
    metric: str
    label: str
    direction: int
    threshold: float
    n: int
    world_mean: float
    counterfactual_mean: float | None
    effect: float
    lo: float
    hi: float
    verdict: str
    share: float
    per_sample: list[str] = field(default_factory=list, repr=False)

    def to_json(self) -> dict[str, Any]:
        def clean(x: Any) -> Any:
            return None if isinstance(x, float) and not math.isfinite(x) else x

        return {k: clean(v) for k, v in self.__dict__.items() if k != "per_sample"}


@dataclass
class ClaimResult:
    claim: Claim
    world: str
    counterfactual: str | None
    metrics: list[MetricResult]
    verdict: str
    share: float
    n_samples: int
    replicates: int

    def to_json(self) -> dict[str, Any]:
        p = self.metrics[0]
        return {
            "claim": self.claim.id,
            "title": self.claim.title,
            "sentence": self.claim.sentence,
            "experiment": self.claim.design_note,
            "world": self.world,
            "counterfactual": self.counterfactual,
            "metrics": [m.metric for m in self.metrics],
            "effect": None if not math.isfinite(p.effect) else p.effect,
            "interval90": [None if not math.isfinite(p.lo) else p.lo, None if not math.isfinite(p.hi) else p.hi],
            "verdict": self.verdict,
            "share_of_parameter_space": None if not math.isfinite(self.share) else self.share,
            "samples": self.n_samples,
            "replicates": self.replicates,
            "per_metric": [m.to_json() for m in self.metrics],
        }


def _per_sample_verdicts(
    diff: np.ndarray, sample: np.ndarray, direction: int, threshold: float
) -> list[str]:
    """Verdict of each parameter sample: mean over its replicates vs a pooled noise band."""
    ids = np.unique(sample)
    means, resid = [], []
    counts = []
    for j in ids:
        d = diff[(sample == j) & np.isfinite(diff)]
        if d.size == 0:
            means.append(math.nan)
            counts.append(0)
            continue
        means.append(float(d.mean()))
        counts.append(d.size)
        resid.extend((d - d.mean()).tolist())
    k = max(1, int(np.median([c for c in counts if c > 0])) if any(counts) else 1)
    dof = sum(max(c - 1, 0) for c in counts)
    sd = math.sqrt(sum(r * r for r in resid) / dof) if dof > 0 else 0.0
    band = Z90 * sd / math.sqrt(k)
    out = []
    for m in means:
        if not math.isfinite(m):
            out.append("inconclusive")
        else:
            out.append(verdict(m - band, m + band, direction, threshold))
    return out


def evaluate(res: EnsembleResult, claims: list[Claim], base: str = BASE) -> list[ClaimResult]:
    """Claims' effects, intervals, verdicts and parameter-space shares from a finished ensemble."""
    wide: dict[str, Any] = {}

    def get(label: str) -> Any:
        if label not in wide:
            wide[label] = res.metrics(label)
        return wide[label]

    run_sample = {s.index: s.sample for s in res.specs}
    out = []
    for c in claims:
        wl = _label(base, c.world)
        cl = _label(base, c.counterfactual)
        W = get(wl)
        C = get(cl) if cl else None
        idx = W.index if C is None else W.index.intersection(C.index)
        sample = np.array([run_sample[i] for i in idx])
        n_samples = len(np.unique(sample))
        reps = int(np.median(np.unique(sample, return_counts=True)[1])) if len(sample) else 0
        mres = []
        for m in c.metrics:
            w = W.loc[idx, m.name].to_numpy(float) if m.name in W else np.full(len(idx), np.nan)
            if C is not None:
                cf = C.loc[idx, m.name].to_numpy(float) if m.name in C else np.full(len(idx), np.nan)
                d = w - cf
                cf_mean = float(np.nanmean(cf)) if np.isfinite(cf).any() else math.nan
            else:
                d = w
                cf_mean = None
            ok = np.isfinite(d)
            lo, hi = bootstrap_mean_ci(d[ok], LEVEL)
            eff = float(d[ok].mean()) if ok.any() else math.nan
            v = verdict(lo, hi, m.direction, m.threshold)
            ps = _per_sample_verdicts(d, sample, m.direction, m.threshold)
            share = float(np.mean([x == v for x in ps])) if ps else math.nan
            mres.append(
                MetricResult(
                    m.name, m.label, m.direction, m.threshold, int(ok.sum()),
                    float(np.nanmean(w)) if np.isfinite(w).any() else math.nan, cf_mean, eff, lo, hi, v, share, ps,
                )
            )
        overall = combine([r.verdict for r in mres])
        if mres and mres[0].per_sample:
            per = [combine([r.per_sample[j] for r in mres]) for j in range(len(mres[0].per_sample))]
            share = float(np.mean([x == overall for x in per]))
        else:
            share = math.nan
        out.append(ClaimResult(c, wl, cl, mres, overall, share, n_samples, reps))
    return out


def select_claims(ids: list[str] | None) -> list[Claim]:
    if not ids:
        return list(CLAIMS)
    by = {c.id: c for c in CLAIMS}
    bad = [i for i in ids if i.upper() not in by]
    if bad:
        raise UsageError(f"--claim: unknown claim '{bad[0]}' (known: {', '.join(CLAIM_IDS)})")
    return [by[i.upper()] for i in dict.fromkeys(ids)]


def scenarios_for(claims: list[Claim], base: str = BASE) -> list[str]:
    labels = [base]
    for c in claims:
        for s in (c.world, c.counterfactual):
            lab = _label(base, s)
            if lab and lab not in labels:
                labels.append(lab)
    return labels


def run_claims(
    runs: int,
    out: str | Path,
    claim_ids: list[str] | None = None,
    replicates: int = 2,
    base: str = BASE,
    **kw: Any,
) -> list[ClaimResult]:
    """Run (or resume) the claims' paired ensemble and evaluate every selected claim."""
    if replicates < 1:
        raise UsageError(f"--replicates: must be >= 1, got {replicates}")
    if runs < replicates:
        raise UsageError(f"--runs: must be >= --replicates ({replicates}), got {runs}")
    claims = select_claims(claim_ids)
    run_kw = {k: kw.pop(k) for k in ("workers", "scheduler", "progress", "rebuild", "connect_timeout") if k in kw}
    samples = max(1, runs // replicates)
    ens = Ensemble(
        scenarios_for(claims, base), runs=runs, out=out, sample="lhs", samples=samples, kind="claims", events=False,
        extra_manifest={"claims": [c.id for c in claims], "replicates": replicates}, **kw,
    )
    res = ens.run(**run_kw)
    try:
        check_failures(res)
        results = evaluate(res, claims, base)
    finally:
        res.close()
    save_claims(results, Path(out))
    return results


def save_claims(results: list[ClaimResult], out: Path) -> None:
    rows = []
    detail = []
    for r in results:
        j = r.to_json()
        rows.append(
            {
                "claim": j["claim"], "title": j["title"], "sentence": j["sentence"],
                "metrics": "; ".join(j["metrics"]), "effect": j["effect"],
                "lo90": j["interval90"][0], "hi90": j["interval90"][1], "verdict": j["verdict"],
                "share_of_parameter_space": j["share_of_parameter_space"],
                "world": j["world"], "counterfactual": j["counterfactual"] or "",
            }
        )
        for m in j["per_metric"]:
            detail.append({"claim": j["claim"], **m})
    with open(out / "claims.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    with open(out / "claims_metrics.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(detail[0]))
        w.writeheader()
        w.writerows(detail)
    (out / "claims.json").write_text(json.dumps([r.to_json() for r in results], indent=2) + "\n", encoding="utf-8")
