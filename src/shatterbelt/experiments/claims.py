"""The essay's eight claims as pre-registered tests over paired ensembles (docs/experiments.md quotes the essay).

Each claim compares the world the essay describes (A: the baseline scenario, or for C2
the baseline with the historical government imposed) with a counterfactual variant
(B), on metrics fixed here, before any run.  **Sign convention** (the same as
``compare``): every effect is B - A, the counterfactual minus the essay's world, the
mean over paired runs; each metric carries the sign of B - A the essay predicts.  C7
has no counterfactual: its "effect" is the baseline's value, tested against a threshold.

Every metric has a **minimum effect** that counts, with its reason (absolute, or a
share of the essay's world's mean for counts).  Verdicts come only from the runs:

* per metric (``stats.verdict_reason``): *supported* when the 90% BCa bootstrap interval
  of the mean paired difference lies wholly beyond the minimum effect on the predicted
  side, *contradicted* when wholly beyond it on the other side, *inconclusive* otherwise
  (a real but too small effect is inconclusive);
* per claim (:data:`RULE`): supported when at least one metric supports it and none
  contradicts it, contradicted in the mirror case, inconclusive otherwise;
* share of the parameter space: each Latin hypercube sample, replicated over
  ``replicates`` seeds, gets its own verdict by the same rules, with a noise band of
  1.645 x the pooled within-sample standard deviation / sqrt(replicates) in place of
  the interval; the share is the fraction of samples whose verdict equals the claim's.

Fewer than :data:`MIN_PAIRS_ADVISED` pairs draw a warning; a single pair is refused.
The design uses the baseline's uncertain parameters minus those a variant pins; paired
runs share seeds and sampled values (common random numbers).
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ..errors import ScenarioError, UsageError
from ..resolve import load_raw
from ..scenario.loader import builtin_dir, builtin_variants
from .ensemble import Ensemble, EnsembleResult, check_failures
from .stats import LEVEL, MIN_PAIRS, bootstrap_mean_ci, verdict_reason

BASE = "iraq-2010"
Z90 = 1.6448536269514722
#: fewer pairs than this draw a warning (the default design has 20 samples x 2 seeds = 40)
MIN_PAIRS_ADVISED = 20
SIGN = "B - A: the counterfactual (B) minus the essay's world (A), mean over paired runs"
RULE = ("supported when at least one metric is supported and none contradicted; contradicted when at least one "
        "is contradicted and none supported; inconclusive otherwise")

# Minimum effects and their reasons (one per kind of metric; docs/experiments.md tabulates them).
REL_COUNT = (
    0.10, True,
    "10% of the essay's world's mean: the documented counts of one year disagree by more than that "
    "(IBC vs UCDP, estimates of armed strength), so a smaller difference could not be told apart in the record",
)
PROB = (
    0.10, False,
    "10 percentage points of probability: a smaller change would leave a reader's expectation unchanged "
    "(one run in ten)",
)
COHESION = (
    0.05, False,
    "5 points of the 0-1 cohesion index: the index moves more than that within a year in most runs",
)
COUNT_EVENTS = (
    0.25, False,
    "one more event in four runs: rarer differences are too rare to read as a mechanism",
)
SHARE = (
    0.02, False,
    "2% of the population under a different controller: below that, control changes in one district",
)
ENTITIES = (
    0.25, False,
    "a quarter of one effective controlling entity: less is a change in shares, not in the number of entities",
)
INFLUENCE = (
    0.02, False,
    "2 points of a patron's 0-1 influence index (a tenth of a typical patron's level): the essay speaks of "
    "influence spreading, not of a trace",
)
THRESHOLD = (
    0.0, False,
    "none beyond the claim's own threshold: 'multiple' means at least 2",
)


@dataclass(frozen=True)
class ClaimMetric:
    """One pre-registered metric of a claim: the sign of B - A the essay predicts and the minimum effect."""

    name: str  # outcome key in the metrics table
    label: str
    direction: int  # sign of (B - A) = counterfactual - essay world the essay predicts; for C7 of (value - threshold)
    min_effect: tuple[float, bool, str]  # (size, relative to the essay's world's mean?, reason)
    threshold: float = 0.0


@dataclass(frozen=True)
class Claim:
    """A claim: its sentence, its arms on the default base (variant suffixes) and its metrics.

    ``world`` and ``counterfactual`` are the arms on :data:`BASE`, kept for reference; the arms
    on any scenario come from the arms index (:func:`arms_for`), which names the same variants
    for iraq-2010.  ``needs`` names what the claim needs of a scenario (:data:`NEEDS`).
    """

    id: str
    title: str
    sentence: str
    world: str  # variant suffix of the essay's world, A ("" = the baseline)
    counterfactual: str | None  # variant suffix of B, or None for a one-arm claim
    metrics: tuple[ClaimMetric, ...]
    design_note: str = ""
    dropped: str = ""  # metrics considered and left out, and why
    needs: tuple[str, ...] = ()  # keys of NEEDS: what a scenario must have for the claim to be posed


CLAIMS: tuple[Claim, ...] = (
    Claim(
        "C1", "withdrawal deepens the divide, maybe sectarian civil war (S5)",
        "the US Army leaving Mesopotamia will not restore cohesion to the Iraqis, but will rather deepen the "
        "divide between entities and perhaps lead to sectarian civil wars",
        "", "us-stays",
        (
            ClaimMetric("army_cohesion.mean_from_2012", "army cohesion 2012-14 (mean)", +1, COHESION),
            ClaimMetric("civil_war.from_2012", "P(civil war 2012-14)", -1, PROB),
            ClaimMetric("deaths.from_2012", "deaths 2012-14", -1, REL_COUNT),
        ),
        "A: historical withdrawal (none after 18 Dec 2011); B: US forces held at 50,000 to the horizon",
        needs=("withdrawal",),
    ),
    Claim(
        "C2", "the insurgency revives in the vacuum (S6)",
        "Al-Qaeda organization resumed its activity over the past few weeks, amidst political vacuum under the "
        "banner of disagreement over the position of Prime Minister",
        "scripted-government", "fast-government",
        (
            ClaimMetric("insurgent_fighters.mean_to_2011", "insurgent fighters 2010-11 (mean)", -1, REL_COUNT),
            ClaimMetric("insurgent_attacks.to_2011", "insurgent attacks 2010-11", -1, REL_COUNT),
        ),
        "A: the historical vacuum, the 21 Dec 2010 government imposed on its date; B: the same government "
        "formed within a month (in office from July 2010). Both arms hold the same government",
        needs=("politics",),
    ),
    Claim(
        "C3", "a split, infiltrated army fails (S3)",
        "the official army ... is distributed among the 'entities', breached by militias and intelligence "
        "agencies, and obstructed in its work by political leaders whose sole ambition is to remain in power",
        "", "unified-army",
        (
            ClaimMetric("army_collapses.count", "army collapses", -1, COUNT_EVENTS),
            ClaimMetric("insurgent_control.last12", "insurgent control, last 12 months (population share)", -1, SHARE),
        ),
        "A: infiltration and politicized command as in the baseline; B: an army answering to the state only",
        "army cohesion: politicization lowers it by construction (the cohesion equation's a_pol term)",
        needs=("army",),
    ),
    Claim(
        "C4", "apportionment arms the entities (S1)",
        "the Iraqis have become split into multiple entities, each with its own share in the state and in the "
        "regime, and each with its own army",
        "", "technocratic",
        (
            ClaimMetric("militia_fighters.last12", "militia fighters, last 12 months", -1, REL_COUNT),
            ClaimMetric("fragmentation.last12", "fragmentation (effective no. of controlling entities)", -1, ENTITIES),
        ),
        "A: muhasasa (entity rents arm wings, command by entity); B: a technocratic allocation",
        needs=("politics", "army"),
    ),
    Claim(
        "C5", "leaders survive through foreign loyalty (S4)",
        "the leaders of which buy their remaining in the political game with more loyalty to foreign parties",
        "", "no-patrons",
        (
            ClaimMetric("leaders.pm_kept", "P(the incumbent PM's bloc holds the premiership at the end)", -1, PROB),
            ClaimMetric("marginalization_events.count", "leaders pushed out (marginalization events)", +1,
                        COUNT_EVENTS),
        ),
        "A: patron budgets as in the baseline; B: every patron budget at zero",
        "patron influence: it decays by construction when budgets are zero; leaders.in_game: its exclusion term "
        "is never set in the engine",
        needs=("patrons",),
    ),
    Claim(
        "C6", "fertile soil for the uprising and foreign influence (S7)",
        "fertile soil for the growing 'Islamist uprising' in many parts of it, in addition to preparing the "
        "climate for the spread of Iranian, Turkish and Israeli influence",
        "", "us-stays",
        (
            ClaimMetric("insurgent_fighters.mean_from_2012", "insurgent fighters 2012-14 (mean)", -1, REL_COUNT),
            ClaimMetric("patron_influence.iran.mean_from_2012", "Iran's influence 2012-14", -1, INFLUENCE),
            ClaimMetric("patron_influence.turkey.mean_from_2012", "Turkey's influence 2012-14", -1, INFLUENCE),
            ClaimMetric("patron_influence.israel.mean_from_2012", "Israel's influence 2012-14", -1, INFLUENCE),
        ),
        "A: historical withdrawal; B: US forces held at 50,000",
        needs=("withdrawal", "patrons"),
    ),
    Claim(
        "C7", "multiple failed microstates (summary sentence)",
        "the occupation has turned Iraq into multiple failed microstates",
        "", None,
        (ClaimMetric("microstates.mean", "microstates (mean count over months) vs 2", +1, THRESHOLD, threshold=2.0),),
        "the baseline alone: is the number of microstates 'multiple' (at least 2)?",
    ),
    Claim(
        "C8", "worse than the dictatorship (S8)",
        "Saddam Hussein was a dictator. But the 'democracy' of sectarian entities established by the "
        "occupation is worse.",
        "", "autocracy",
        (
            ClaimMetric("deaths.total", "deaths (civilian + battle)", -1, REL_COUNT),
            ClaimMetric("displaced.new_total", "newly displaced", -1, REL_COUNT),
        ),
        "A: sectarian power-sharing; B: a centralized autocracy",
        "army cohesion: the variant removes infiltration and split command, which raise cohesion by construction",
        needs=("blocs", "army"),
    ),
)

CLAIM_IDS = tuple(c.id for c in CLAIMS)

#: the file naming each scenario's arms for each claim (package data, beside the variants)
ARMS_FILE = "variants/claims/arms.yaml"
NOT_APPLICABLE = "not applicable"


def _num(x: Any) -> float:
    """A number, or a ``{value: ...}`` parameter's value (NaN when neither)."""
    if isinstance(x, dict):
        x = x.get("value")
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def _need_withdrawal(raw: dict[str, Any]) -> str | None:
    forces = {str(a.get("id")): _num(a.get("size")) for a in raw.get("actors") or []
              if isinstance(a, dict) and a.get("kind") == "foreign_force"}
    if not forces:
        return "the scenario has no foreign force, so none can leave"
    horizon = str(raw.get("horizon", ""))
    for fid, size in forces.items():
        level = size
        evs = sorted((e for e in raw.get("timeline") or [] if isinstance(e, dict)
                      and e.get("type") == "foreign_troops" and e.get("force") == fid), key=lambda e: str(e.get("date")))
        for e in evs:
            if str(e.get("date"))[:7] <= horizon and _num(e.get("level")) < level:
                return None
            level = _num(e.get("level"))
    return f"no foreign force ({', '.join(forces)}) leaves or shrinks before the horizon ({horizon})"


def _need_politics(raw: dict[str, Any]) -> str | None:
    if not raw.get("politics"):
        return "the scenario has no politics section: governments are not formed in the run, so there is no vacuum or apportionment to change"
    return None


def _need_army(raw: dict[str, Any]) -> str | None:
    army = raw.get("army")
    if not isinstance(army, dict):
        return "the scenario has no official army"
    if not _num(army.get("infiltration")) > 0:
        return "the scenario's army is not infiltrated (army.infiltration = 0): it already answers to the state only"
    return None


def _need_patrons(raw: dict[str, Any]) -> str | None:
    if not any(_num(p.get("budget")) > 0 for p in raw.get("patrons") or [] if isinstance(p, dict)):
        return "the scenario has no foreign patron with money"
    return None


def _need_blocs(raw: dict[str, Any]) -> str | None:
    if len(raw.get("blocs") or []) < 2:
        return "the scenario has fewer than two blocs: there is no sharing of power to replace"
    return None


#: what a claim may need of a scenario: name -> check of the raw scenario (None, or why it is missing)
NEEDS = {
    "withdrawal": _need_withdrawal,
    "politics": _need_politics,
    "army": _need_army,
    "patrons": _need_patrons,
    "blocs": _need_blocs,
}


@dataclass(frozen=True)
class Arms:
    """A claim's arms on one scenario: labels of A and B, or why the claim cannot be posed there."""

    world: str | None
    counterfactual: str | None
    not_applicable: str = ""
    experiment: str = ""  # the design in words (A: ...; B: ...)


def read_arms_index() -> dict[str, Any]:
    """The arms index (:data:`ARMS_FILE`): scenario name -> claim id -> arms or ``not_applicable``."""
    path = builtin_dir() / ARMS_FILE
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(doc, dict):
        raise ScenarioError(f"{ARMS_FILE}: must be a mapping of scenario -> claim -> arms")
    return doc


def _variant_description(name: str) -> str:
    path = builtin_dir() / "variants" / f"{name}.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return str(doc.get("description", name)).strip()


def arms_for(claims: list[Claim], base: str = BASE, raw: dict[str, Any] | None = None) -> dict[str, Arms]:
    """Each claim's arms on ``base`` (a built-in name or a YAML path), or why it is not applicable.

    The arms are the variants the arms index names for the scenario (keyed by its ``name``; the
    entry ``"*"`` holds arms that suit any scenario); a
    claim is not applicable when the scenario lacks what the claim needs (:data:`NEEDS`), when the
    index says so (with its reason), or when the index names no arm for it.  C7 (one arm) is
    always posed.  ``raw`` is the base's raw scenario when the caller already has it.
    """
    if raw is None:
        raw, _ = load_raw(base)
    name = str(raw.get("name", base)).split("+")[0]
    index = read_arms_index()
    entry = {**(index.get("*") or {}), **(index.get(name) or {})}
    known = set(builtin_variants())
    out: dict[str, Arms] = {}
    for c in claims:
        missing = [why for n in c.needs if (why := NEEDS[n](raw))]
        spec = entry.get(c.id)
        if missing:
            out[c.id] = Arms(None, None, "; ".join(missing))
        elif c.counterfactual is None:
            out[c.id] = Arms(base, None, experiment=c.design_note)
        elif not isinstance(spec, dict):
            out[c.id] = Arms(None, None, f"no arms are named for scenario '{name}' ({ARMS_FILE} has no {c.id} entry)")
        elif spec.get("not_applicable"):
            out[c.id] = Arms(None, None, " ".join(str(spec["not_applicable"]).split()))
        else:
            w, cf = spec.get("world") or "", spec.get("counterfactual")
            bad = [v for v in (w, cf) if v and v not in known]
            if not cf or bad:
                why = f"unknown variant '{bad[0]}'" if bad else "no counterfactual"
                raise ScenarioError(f"{ARMS_FILE}: {name}.{c.id}: {why}")
            if (w, cf) == (c.world, c.counterfactual):
                experiment = c.design_note
            else:
                a = _variant_description(w) if w else f"{name} as documented"
                experiment = f"A: {a}; B: {_variant_description(cf)}"
            out[c.id] = Arms(_label(base, w), _label(base, cf), experiment=experiment)
    return out


def _label(base: str, suffix: str | None) -> str | None:
    if suffix is None:
        return None
    return base if not suffix else f"{base}+{suffix}"


def combine(verdicts: list[str]) -> str:
    """A claim's verdict over its metrics (:data:`RULE`): one-sided evidence decides, mixed or none is inconclusive."""
    sup = "supported" in verdicts
    con = "contradicted" in verdicts
    if sup and not con:
        return "supported"
    if con and not sup:
        return "contradicted"
    return "inconclusive"


def _clean(x: Any) -> Any:
    return None if isinstance(x, float) and not math.isfinite(x) else x


@dataclass
class MetricResult:
    """One claim metric's test: effect B - A, its 90% interval, the minimum effect and the verdict."""

    metric: str
    label: str
    direction: int
    threshold: float
    min_effect: float  # in the metric's units (a relative minimum resolved on the essay's world's mean)
    min_effect_rule: str  # e.g. "10% of A's mean" or "0.05"
    min_effect_reason: str
    n: int
    world_mean: float
    counterfactual_mean: float | None
    effect: float
    lo: float
    hi: float
    verdict: str
    reason: str
    share: float = math.nan
    per_sample: list[str] = field(default_factory=list, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {k: _clean(v) for k, v in self.__dict__.items() if k != "per_sample"}


def assess(
    m: ClaimMetric, world: np.ndarray, counterfactual: np.ndarray | None, sample: np.ndarray | None = None
) -> MetricResult:
    """Test one metric on paired values: A = ``world``, B = ``counterfactual`` (None: a one-arm claim).

    The effect is mean(B - A) over pairs where both are finite (for a one-arm claim the
    mean of A, tested against ``m.threshold``); the interval is the 90% BCa bootstrap;
    the verdict needs the interval to clear the minimum effect.  ``sample`` (the
    parameter sample of each pair) adds the per-sample verdicts and the share of the
    parameter space that agrees.
    """
    w = np.asarray(world, float)
    if counterfactual is not None:
        cf = np.asarray(counterfactual, float)
        d = cf - w
        cf_mean = float(np.nanmean(cf)) if np.isfinite(cf).any() else math.nan
    else:
        d = w.copy()
        cf_mean = None
    ok = np.isfinite(d)
    n = int(ok.sum())
    if n == 1:
        raise UsageError(f"--runs: claim metric {m.name} has a single pair, which gives no interval; run at least "
                         f"{MIN_PAIRS_ADVISED} pairs")
    lo, hi = bootstrap_mean_ci(d[ok], LEVEL) if n >= MIN_PAIRS else (math.nan, math.nan)
    eff = float(d[ok].mean()) if n else math.nan
    w_mean = float(np.nanmean(w[ok])) if n else math.nan
    size, relative, why = m.min_effect
    if relative:
        delta = size * abs(w_mean) if math.isfinite(w_mean) else math.nan
        rule = f"{size:.0%} of A's mean"
    else:
        delta = size
        rule = f"{size:g}"
    if math.isfinite(delta):
        v, reason = verdict_reason(lo, hi, m.direction, m.threshold, delta)
    else:
        v, reason = "inconclusive", "no finite pair"
    res = MetricResult(m.name, m.label, m.direction, m.threshold, delta, rule, why, n, w_mean, cf_mean, eff, lo, hi,
                       v, reason)
    if sample is not None and n:
        res.per_sample = _per_sample_verdicts(d, np.asarray(sample), m.direction, m.threshold,
                                              delta if math.isfinite(delta) else 0.0)
        res.share = float(np.mean([x == v for x in res.per_sample])) if res.per_sample else math.nan
    return res


@dataclass
class ClaimResult:
    """A claim's metrics and its combined verdict (kept apart: the rule is :data:`RULE`)."""

    claim: Claim
    world: str | None
    counterfactual: str | None
    metrics: list[MetricResult]
    verdict: str
    share: float
    n_samples: int
    replicates: int
    experiment: str = ""  # the design in words; the claim's own note when empty
    not_applicable: str = ""  # why the claim cannot be posed on this scenario (then verdict = NOT_APPLICABLE)

    def verdict_json(self) -> dict[str, Any]:
        """The claim's combined verdict, with its rule and design; no effect (effects are per metric)."""
        return {
            "claim": self.claim.id,
            "title": self.claim.title,
            "sentence": self.claim.sentence,
            "experiment": self.experiment or self.claim.design_note,
            "world": self.world,
            "counterfactual": self.counterfactual,
            "metrics": [m.metric for m in self.metrics],
            "metric_verdicts": [m.verdict for m in self.metrics],
            "verdict": f"{self.verdict}: {self.not_applicable}" if self.not_applicable else self.verdict,
            "rule": RULE,
            "share_of_parameter_space": _clean(self.share),
            "samples": self.n_samples,
            "replicates": self.replicates,
            "metrics_left_out": self.claim.dropped or None,
        }

    def metric_rows(self) -> list[dict[str, Any]]:
        """One row per metric: claim, arms, the metric's test (effect B - A, interval, minimum effect, verdict)."""
        return [{"claim": self.claim.id, "world": self.world, "counterfactual": self.counterfactual, **m.to_json()}
                for m in self.metrics]

    def to_json(self) -> dict[str, Any]:
        return {**self.verdict_json(), "per_metric": [m.to_json() for m in self.metrics]}


def _per_sample_verdicts(
    diff: np.ndarray, sample: np.ndarray, direction: int, threshold: float, min_effect: float = 0.0
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
            out.append(verdict_reason(m - band, m + band, direction, threshold, min_effect)[0])
    return out


def not_applicable_result(c: Claim, reason: str) -> ClaimResult:
    """A claim that cannot be posed on a scenario: one row, verdict :data:`NOT_APPLICABLE`, with the reason."""
    row = MetricResult(", ".join(m.name for m in c.metrics), f"{NOT_APPLICABLE}: {reason}", 0, 0.0, math.nan, "", "",
                       0, math.nan, None, math.nan, math.nan, math.nan, NOT_APPLICABLE, reason)
    return ClaimResult(c, None, None, [row], NOT_APPLICABLE, math.nan, 0, 0, not_applicable=reason)


def evaluate(
    res: EnsembleResult,
    claims: list[Claim],
    base: str = BASE,
    arms: dict[str, tuple[str, str | None]] | dict[str, Arms] | None = None,
) -> list[ClaimResult]:
    """Claims' effects, intervals, verdicts and parameter-space shares from a finished ensemble.

    ``arms`` (claim id -> :class:`Arms`, or (A label, B label)) gives each claim's arms, e.g. from
    :func:`arms_for`, or a designed scenario file and its own counterfactual file; a claim it
    leaves out takes its variant suffixes on ``base``.  A claim whose arms are not applicable
    gives :func:`not_applicable_result`.  A metric neither arm's runs report (e.g. the influence
    of a patron the scenario does not have) is reported as not applicable and left out of the
    claim's verdict.
    """
    wide: dict[str, Any] = {}

    def get(label: str) -> Any:
        if label not in wide:
            wide[label] = res.metrics(label)
        return wide[label]

    run_sample = {s.index: s.sample for s in res.specs}
    out = []
    for c in claims:
        given = (arms or {}).get(c.id)
        experiment = ""
        if isinstance(given, Arms):
            if given.not_applicable:
                out.append(not_applicable_result(c, given.not_applicable))
                continue
            wl, cl, experiment = given.world, given.counterfactual, given.experiment
        else:
            wl, cl = given or (_label(base, c.world), _label(base, c.counterfactual))
        assert wl is not None
        W = get(wl)
        C = get(cl) if cl else None
        idx = W.index if C is None else W.index.intersection(C.index)
        sample = np.array([run_sample[i] for i in idx])
        n_samples = len(np.unique(sample))
        reps = int(np.median(np.unique(sample, return_counts=True)[1])) if len(sample) else 0
        mres = []
        for m in c.metrics:
            if m.name not in W and (C is None or m.name not in C):
                why = f"no run of {wl} reports {m.name} (the scenario has no such entity)"
                mres.append(MetricResult(m.name, m.label, m.direction, m.threshold, math.nan, "", m.min_effect[2], 0,
                                         math.nan, None, math.nan, math.nan, math.nan, NOT_APPLICABLE, why))
                continue
            w = W.loc[idx, m.name].to_numpy(float) if m.name in W else np.full(len(idx), np.nan)
            cf = None
            if C is not None:
                cf = C.loc[idx, m.name].to_numpy(float) if m.name in C else np.full(len(idx), np.nan)
            mres.append(assess(m, w, cf, sample))
        posed = [r for r in mres if r.verdict != NOT_APPLICABLE]
        overall = combine([r.verdict for r in posed])
        if posed and posed[0].per_sample and all(len(r.per_sample) == len(posed[0].per_sample) for r in posed):
            per = [combine([r.per_sample[j] for r in posed]) for j in range(len(posed[0].per_sample))]
            share = float(np.mean([x == overall for x in per]))
        else:
            share = math.nan
        out.append(ClaimResult(c, wl, cl, mres, overall, share, n_samples, reps, experiment))
    return out


def select_claims(ids: list[str] | None) -> list[Claim]:
    """The claims named (C1..C8, any case), all by default; an unknown id is refused."""
    if not ids:
        return list(CLAIMS)
    by = {c.id: c for c in CLAIMS}
    bad = [i for i in ids if i.upper() not in by]
    if bad:
        raise UsageError(f"--claim: unknown claim '{bad[0]}' (known: {', '.join(CLAIM_IDS)})")
    return [by[i.upper()] for i in dict.fromkeys(ids)]


def scenarios_for(claims: list[Claim], base: str = BASE, arms: dict[str, Arms] | None = None) -> list[str]:
    """Every scenario label the claims' arms need, the base first (``arms``: from :func:`arms_for`;
    without it, the claims' variant suffixes on ``base``)."""
    labels = [base]
    for c in claims:
        if arms is not None:
            pair = (arms[c.id].world, arms[c.id].counterfactual)
        else:
            pair = (_label(base, c.world), _label(base, c.counterfactual))
        for lab in pair:
            if lab and lab not in labels:
                labels.append(lab)
    return labels


def pairs_warning(runs: int) -> str | None:
    """The warning for a design with fewer pairs than :data:`MIN_PAIRS_ADVISED` (None when enough)."""
    if runs >= MIN_PAIRS_ADVISED or runs < MIN_PAIRS:
        return None  # enough, or refused outright
    return (f"warning: --runs {runs}: fewer than {MIN_PAIRS_ADVISED} pairs per claim; intervals are wide and "
            "verdicts fragile")


def check_claims_args(runs: int, replicates: int, claim_ids: list[str] | None) -> list[Claim]:
    """The selected claims, once ``--runs``, ``--replicates`` and ``--claim`` are checked (one-line errors)."""
    if replicates < 1:
        raise UsageError(f"--replicates: must be >= 1, got {replicates}")
    if runs == 1:
        raise UsageError(f"--runs: a single pair gives no interval; run at least {MIN_PAIRS_ADVISED}")
    if runs < replicates:
        raise UsageError(f"--runs: must be >= --replicates ({replicates}), got {runs}")
    return select_claims(claim_ids)


def run_claims(
    runs: int,
    out: str | Path,
    claim_ids: list[str] | None = None,
    replicates: int = 2,
    base: str = BASE,
    **kw: Any,
) -> list[ClaimResult]:
    """Run (or resume) the claims' paired ensemble and evaluate every selected claim."""
    claims = check_claims_args(runs, replicates, claim_ids)
    arms = arms_for(claims, base)
    run_kw = {k: kw.pop(k) for k in ("workers", "scheduler", "progress", "rebuild", "connect_timeout") if k in kw}
    samples = max(1, runs // replicates)
    ens = Ensemble(
        scenarios_for(claims, base, arms), runs=runs, out=out, sample="lhs", samples=samples, kind="claims", events=False,
        extra_manifest={"claims": [c.id for c in claims], "replicates": replicates}, **kw,
    )
    res = ens.run(**run_kw)
    try:
        check_failures(res)
        results = evaluate(res, claims, base, arms)
    finally:
        res.close()
    save_claims(results, Path(out))
    return results


def claims_json(results: list[ClaimResult]) -> dict[str, Any]:
    """The document ``claims.json`` holds: sign convention, rule, one row per claim and metric, verdicts apart."""
    n = max((m.n for r in results for m in r.metrics), default=0)
    w = pairs_warning(n)
    return {
        "sign": SIGN,
        "interval": f"{LEVEL:.0%} BCa bootstrap over pairs",
        "metric_rule": "supported when the interval clears the minimum effect on the predicted side, contradicted "
                       "when it clears it on the other side, inconclusive otherwise",
        "claim_rule": RULE,
        "pairs": n,
        "warnings": [w] if w else [],
        "rows": [row for r in results for row in r.metric_rows()],
        "claims": [r.verdict_json() for r in results],
    }


def save_claims(results: list[ClaimResult], out: Path) -> None:
    """``claims.csv`` (one row per claim and metric), ``claims_verdicts.csv`` (one per claim), ``claims.json``."""
    doc = claims_json(results)
    rows = doc["rows"]
    with open(out / "claims.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    verdicts = [{**v, "metrics": "; ".join(v["metrics"]), "metric_verdicts": "; ".join(v["metric_verdicts"])}
                for v in doc["claims"]]
    with open(out / "claims_verdicts.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(verdicts[0]))
        w.writeheader()
        w.writerows(verdicts)
    (out / "claims.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
