"""Scenario discovery: which sampled parameters separate the runs where an outcome happens, and
the parameter box that holds them (PRIM).

The runs of an ensemble are points in the space of its sampled parameters (the store's
``parameters`` table), each marked by an outcome (a boolean expression over the run's metrics,
:func:`parse_outcome`).  Two steps, as exploratory modellers do scenario discovery (Bryant &
Lempert 2010; EMA Workbench's feature scoring and ``prim``):

1. **Feature scores** (:func:`feature_scores`): per parameter, the two-sample Kolmogorov-Smirnov
   statistic D between the outcome runs and the rest, its p-value, the Benjamini-Hochberg
   q-value over all the parameters scored (:func:`bh_adjust`, controls the false discovery rate)
   and each group's median; ranked by p.
2. **PRIM** (Patient Rule Induction Method, Friedman & Fisher 1999) over the parameters whose
   q-value is at most ``fdr`` (or those the user names): starting from the box holding every
   run, each step *peels* the slice of ``peel_alpha`` of the box's runs off one side of one of
   those parameters, the peel that leaves the highest share of outcome runs; peeling stops when
   the box holds at most ``mass_min`` of all runs or only outcome runs.  Every box on this
   *peeling trajectory* has a **coverage** (share of all outcome runs inside it), a **density**
   (share of the runs inside it with the outcome) and a **mass** (share of all runs inside it).
   Each limit (one side of one parameter) has a **qp-value**: the one-sided binomial
   probability of at least the box's outcome count if the outcome ran at the density of the box
   without that limit (Bryant & Lempert 2010).  Every box is then *un-peeled*: the limit with
   the largest qp-value above ``qp_max`` is dropped and the rest re-tested, until every limit
   left is significant.

The box reported is chosen among these un-peeled boxes that keep at least one limit: of those
whose density reaches ``threshold``, the one with the fewest limits within ``coverage_slack``
(0.05) of the highest coverage (then the higher coverage, density, earlier step); when none
reaches it, the one with the highest harmonic mean of coverage and density (a densest box would
be a sliver of a few runs).  When no parameter passes the feature test, or no limit on the
trajectory is significant, there is no box (``chosen`` is None) and the reason says so in one
line.  Optionally the chosen box is then *pasted*: one limit at a time is widened by about
``peel_alpha`` of its runs while that raises the density or keeps it and adds outcome runs
(Friedman & Fisher 1999), and un-peeled again.  Everything is deterministic.

Outcome expressions are parsed by a small grammar, never ``eval``: metric names (dots,
digits and hyphens allowed inside a name, or any name in backquotes), numbers, ``+ - * /``,
comparisons ``< <= > >= == !=`` (chainable), ``and``, ``or``, ``not``, parentheses and the
ensemble-wide functions ``median(x)``, ``mean(x)`` and ``quantile(x, q)``.  ``civilian_deaths_2014``
is short for ``civilian_deaths_by_year.2014`` (also for ``battle_deaths``), and
``army.collapses`` for ``army_collapses.count``.  A name may also be a sampled parameter's
path (to condition on it, or to check PRIM on a designed outcome).  A value is true when it
is non-zero; a run where a metric used is missing (NaN) is left out.
"""

from __future__ import annotations

import difflib
import fnmatch
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from ..errors import UsageError
from .store import MANIFEST, Snapshot

# ---------------------------------------------------------------------------- expressions
_TOKEN = re.compile(
    r"\s*(?:"
    r"(?P<num>\d+\.\d*(?:[eE][-+]?\d+)?|\d*\.\d+(?:[eE][-+]?\d+)?|\d+(?:[eE][-+]?\d+)?)"
    r"|(?P<quoted>`[^`]+`)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+(?:-[A-Za-z0-9_]+)*)*)"
    r"|(?P<op><=|>=|==|!=|<|>|\+|-|\*|/|\(|\)|,)"
    r")"
)
_CMP = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal, "==": np.equal,
        "!=": np.not_equal}
_FUNCS = {"median": 1, "mean": 1, "quantile": 2}
_ALIASES = {"army.collapses": "army_collapses.count", "civil_war": "civil_war.any"}
_YEAR_ALIAS = re.compile(r"^(civilian|battle)_deaths_(\d{4})$")


def _tokens(text: str) -> list[tuple[str, str]]:
    out = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise UsageError(f"--outcome: cannot read '{text[pos:pos + 20].strip()}' (at character {pos + 1})")
        kind = m.lastgroup or ""
        val = m.group(kind)
        if kind == "name" and val in ("and", "or", "not", "true", "false"):
            kind = val
        if kind == "quoted":
            kind, val = "name", val[1:-1]
        out.append((kind, val))
        pos = m.end()
    return out


@dataclass
class Node:
    op: str  # num, name, func, neg, not, and, or, cmp, + - * /
    args: list[Any] = field(default_factory=list)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, *vals: str) -> str | None:
        t = self.peek()
        if t is not None and (t[0] in vals or (t[0] == "op" and t[1] in vals)):
            self.i += 1
            return t[1]
        return None

    def expect(self, val: str) -> None:
        if self.take(val) is None:
            got = self.peek()
            raise UsageError(f"--outcome: expected '{val}' " + (f"before '{got[1]}'" if got else "at the end"))

    def parse(self) -> Node:
        if not self.toks:
            raise UsageError("--outcome: empty expression")
        n = self.or_()
        if self.peek() is not None:
            raise UsageError(f"--outcome: unexpected '{self.peek()[1]}'")  # type: ignore[index]
        return n

    def or_(self) -> Node:
        n = self.and_()
        while self.take("or"):
            n = Node("or", [n, self.and_()])
        return n

    def and_(self) -> Node:
        n = self.not_()
        while self.take("and"):
            n = Node("and", [n, self.not_()])
        return n

    def not_(self) -> Node:
        if self.take("not"):
            return Node("not", [self.not_()])
        return self.cmp()

    def cmp(self) -> Node:
        first = self.sum_()
        parts: list[Any] = [first]
        while (t := self.peek()) is not None and t[0] == "op" and t[1] in _CMP:
            self.i += 1
            parts += [t[1], self.sum_()]
        return first if len(parts) == 1 else Node("cmp", parts)

    def sum_(self) -> Node:
        n = self.term()
        while (op := self.take("+", "-")) is not None:
            n = Node(op, [n, self.term()])
        return n

    def term(self) -> Node:
        n = self.unary()
        while (op := self.take("*", "/")) is not None:
            n = Node(op, [n, self.unary()])
        return n

    def unary(self) -> Node:
        if self.take("-"):
            return Node("neg", [self.unary()])
        return self.atom()

    def atom(self) -> Node:
        t = self.peek()
        if t is None:
            raise UsageError("--outcome: the expression ends too early")
        kind, val = t
        self.i += 1
        if kind == "num":
            return Node("num", [float(val)])
        if kind in ("true", "false"):
            return Node("num", [1.0 if kind == "true" else 0.0])
        if kind == "name":
            if val in _FUNCS and self.take("("):
                args = [self.or_()]
                while self.take(","):
                    args.append(self.or_())
                self.expect(")")
                if len(args) != _FUNCS[val]:
                    raise UsageError(f"--outcome: {val}() takes {_FUNCS[val]} argument(s), got {len(args)}")
                return Node("func", [val, *args])
            nxt = self.peek()
            if nxt == ("op", "("):
                raise UsageError(f"--outcome: unknown function '{val}' (known: {', '.join(_FUNCS)})")
            return Node("name", [val])
        if kind == "op" and val == "(":
            n = self.or_()
            self.expect(")")
            return n
        raise UsageError(f"--outcome: unexpected '{val}'")


def parse_outcome(text: str) -> Node:
    """Parse an outcome expression (one-line errors for anything it cannot read)."""
    return _Parser(text).parse()


def names_in(node: Node) -> list[str]:
    """The metric names an expression uses, in order of appearance."""
    if node.op == "name":
        return [node.args[0]]
    out: list[str] = []
    for a in node.args:
        if isinstance(a, Node):
            out += [n for n in names_in(a) if n not in out]
    return out


def resolve_name(name: str, available: set[str] | list[str]) -> str:
    """The metric a name stands for (itself or an alias); a one-line error naming close matches."""
    avail = set(available)
    if name in avail:
        return name
    alias = _ALIASES.get(name)
    m = _YEAR_ALIAS.match(name)
    if m:
        alias = f"{m.group(1)}_deaths_by_year.{m.group(2)}"
    if alias and alias in avail:
        return alias
    close = difflib.get_close_matches(alias or name, sorted(avail), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else "; see the metrics table of the results database"
    raise UsageError(f"--outcome: unknown metric '{name}'{hint}")


def evaluate(node: Node, columns: dict[str, np.ndarray]) -> np.ndarray:
    """Evaluate over every run at once (``columns``: metric -> one value per run); floats."""
    op, a = node.op, node.args
    if op == "num":
        return np.float64(a[0])  # type: ignore[return-value]
    if op == "name":
        return columns[a[0]]
    if op == "func":
        x = np.asarray(evaluate(a[1], columns), float)
        x = x[np.isfinite(x)] if x.ndim else np.array([float(x)])
        if x.size == 0:
            return np.float64(math.nan)  # type: ignore[return-value]
        if a[0] == "median":
            return np.float64(np.median(x))  # type: ignore[return-value]
        if a[0] == "mean":
            return np.float64(x.mean())  # type: ignore[return-value]
        q = float(evaluate(a[2], columns))
        if not 0.0 <= q <= 1.0:
            raise UsageError(f"--outcome: quantile() needs q in [0, 1], got {q:g}")
        return np.float64(np.quantile(x, q))  # type: ignore[return-value]
    if op == "neg":
        return -evaluate(a[0], columns)
    if op == "not":
        return (evaluate(a[0], columns) == 0).astype(float)
    if op in ("and", "or"):
        x, y = (evaluate(v, columns) != 0 for v in a)
        return (np.logical_and(x, y) if op == "and" else np.logical_or(x, y)).astype(float)
    if op == "cmp":
        vals = [evaluate(v, columns) if isinstance(v, Node) else v for v in a]
        res = np.ones_like(np.asarray(vals[0], float), dtype=bool)
        for k in range(1, len(vals), 2):
            res = np.logical_and(res, _CMP[vals[k]](vals[k - 1], vals[k + 1]))
        return res.astype(float)
    x, y = evaluate(a[0], columns), evaluate(a[1], columns)
    with np.errstate(divide="ignore", invalid="ignore"):
        return {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide}[op](x, y)


def outcome_mask(text: str, metrics: Any) -> tuple[np.ndarray, np.ndarray, dict[str, str]]:
    """(outcome per run, runs where it is defined, name -> metric used) for a metrics table (runs x metrics)."""
    node = parse_outcome(text)
    used = {n: resolve_name(n, list(metrics.columns)) for n in names_in(node)}
    cols = {n: metrics[m].to_numpy(float) for n, m in used.items()}
    n = len(metrics)
    val = np.broadcast_to(np.asarray(evaluate(node, cols), float), (n,))
    defined = np.ones(n, bool)
    for c in cols.values():
        defined &= np.isfinite(c)
    return (val != 0) & defined, defined & np.isfinite(val), used


def default_outcome(metrics: Any) -> str:
    """Escalation: the last year's civilian deaths at least twice those two years before (or the
    first year the runs cover, when they are shorter)."""
    years = sorted(int(c.rsplit(".", 1)[1]) for c in metrics.columns
                   if re.fullmatch(r"civilian_deaths_by_year\.\d{4}", str(c)))
    if len(years) < 2:
        raise UsageError("--outcome: the runs cover fewer than two years; give an outcome expression")
    last = years[-1]
    base = last - 2 if last - 2 in years else years[0]
    return f"civilian_deaths_{last} >= 2 * civilian_deaths_{base}"


# ---------------------------------------------------------------------------- feature scores
def bh_adjust(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values controlling the false discovery rate)."""
    p = np.asarray(p, float)
    m = p.size
    if m == 0:
        return p.copy()
    order = np.argsort(p, kind="stable")
    ranked = p[order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(q, 1.0)
    return out


def feature_scores(X: np.ndarray, y: np.ndarray, names: list[str]) -> list[dict[str, Any]]:
    """Per parameter, how well it alone separates the outcome runs from the rest, ranked best first.

    The two-sample Kolmogorov-Smirnov statistic D (largest gap between the two groups' empirical
    distribution functions) with its exact or asymptotic p-value, the Benjamini-Hochberg q-value
    over all the parameters scored, and each group's median (which says the direction).
    """
    X = np.asarray(X, float)
    y = np.asarray(y, bool)
    rows: list[dict[str, Any]] = []
    for j, name in enumerate(names):
        a, b = X[y, j], X[~y, j]
        if a.size and b.size:
            r = stats.ks_2samp(a, b)
            d, p = float(r.statistic), float(r.pvalue)
        else:
            d, p = 0.0, 1.0
        rows.append({"parameter": name, "ks_d": d, "p_value": p,
                     "median_outcome": float(np.median(a)) if a.size else math.nan,
                     "median_rest": float(np.median(b)) if b.size else math.nan})
    q = bh_adjust(np.array([r["p_value"] for r in rows]))
    for r, qv in zip(rows, q, strict=True):
        r["q_value"] = float(qv)
    rows.sort(key=lambda r: (r["p_value"], -r["ks_d"], r["parameter"]))
    for k, r in enumerate(rows):
        r["rank"] = k + 1
    return rows


# ---------------------------------------------------------------------------- PRIM
@dataclass
class Box:
    """Limits [low, high] per parameter (every parameter; restricted ones differ from the data's range)."""

    low: np.ndarray
    high: np.ndarray

    def inside(self, X: np.ndarray) -> np.ndarray:
        return np.all((X >= self.low) & (X <= self.high), axis=1)

    def copy(self) -> Box:
        return Box(self.low.copy(), self.high.copy())

    def restricted(self, full: Box) -> list[int]:
        return [j for j in range(self.low.size) if self.low[j] > full.low[j] or self.high[j] < full.high[j]]


@dataclass
class PrimResult:
    names: list[str]
    n: int
    n_outcome: int
    trajectory: list[dict[str, Any]]
    chosen: int | None
    limits: list[dict[str, Any]]
    threshold: float
    reason: str
    qp_max: float = 0.05
    candidates: list[str] = field(default_factory=list)
    box: dict[str, Any] | None = None
    pasted: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "runs": self.n, "outcome_runs": self.n_outcome, "base_density": self.n_outcome / self.n if self.n else None,
            "threshold": self.threshold, "qp_max": self.qp_max, "prim_parameters": self.candidates,
            "chosen_box": self.chosen, "why_this_box": self.reason, "box": self.box, "pasted": self.pasted,
            "limits": self.limits, "trajectory": self.trajectory,
        }


def _stats(inside: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    n_in = int(inside.sum())
    hit = int((inside & y).sum())
    total = int(y.sum())
    return (hit / total if total else math.nan, hit / n_in if n_in else math.nan, n_in / y.size)


def _sides(b: Box, full: Box) -> list[tuple[int, str]]:
    """The box's limits that restrict the data: (column, "low" or "high")."""
    return [(j, side) for j in b.restricted(full) for side in ("low", "high")
            if (side == "low" and b.low[j] > full.low[j]) or (side == "high" and b.high[j] < full.high[j])]


def _qp(b: Box, full: Box, X: np.ndarray, y: np.ndarray, j: int, side: str) -> float:
    """Quasi-p-value of one limit (one side of column ``j``): the one-sided binomial probability of
    at least the box's outcome count if the outcome ran at the density of the box without that limit."""
    ins = b.inside(X)
    n_in, hit = int(ins.sum()), int((ins & y).sum())
    wider = b.copy()
    if side == "low":
        wider.low[j] = full.low[j]
    else:
        wider.high[j] = full.high[j]
    w = wider.inside(X)
    p0 = float(y[w].mean()) if w.any() else 0.0
    if not n_in or not 0 < p0 < 1:
        return 1.0
    return float(stats.binomtest(hit, n_in, p0, alternative="greater").pvalue)


def _prune(b: Box, full: Box, X: np.ndarray, y: np.ndarray, qp_max: float) -> tuple[Box, dict[tuple[int, str], float]]:
    """Un-peel the limits that are not significant: drop the one with the largest qp-value above
    ``qp_max`` (one side of one parameter) and recompute the rest, until every limit left has
    qp-value <= ``qp_max``."""
    b = b.copy()
    while True:
        qps = {k: _qp(b, full, X, y, *k) for k in _sides(b, full)}
        if not qps:
            return b, qps
        worst = max(qps, key=lambda k: (qps[k], -k[0], k[1]))
        if qps[worst] <= qp_max:
            return b, qps
        j, side = worst
        if side == "low":
            b.low[j] = full.low[j]
        else:
            b.high[j] = full.high[j]


def _paste(b: Box, full: Box, X: np.ndarray, y: np.ndarray, alpha: float, dims: list[int]) -> Box:
    """Pasting (Friedman & Fisher 1999): widen one limit at a time by about ``alpha`` of the box's
    runs while that raises the box's density or keeps it and adds outcome runs."""
    b = b.copy()
    while True:
        ins = b.inside(X)
        n_in = int(ins.sum())
        dens = float(y[ins].mean()) if n_in else 0.0
        hits = int((ins & y).sum())
        step = max(1, int(math.ceil(alpha * n_in)))
        best: tuple[float, int, int, str, float] | None = None
        for j in dims:
            others = b.copy()
            others.low[j], others.high[j] = full.low[j], full.high[j]
            oin = others.inside(X)
            for side in ("low", "high"):
                xs = X[oin, j]
                out = np.sort(xs[xs < b.low[j]])[::-1] if side == "low" else np.sort(xs[xs > b.high[j]])
                if out.size == 0:
                    continue
                new = float(out[min(step, out.size) - 1])
                cand = b.copy()
                if side == "low":
                    cand.low[j] = new
                else:
                    cand.high[j] = new
                cin = cand.inside(X)
                cd, ch = float(y[cin].mean()), int((cin & y).sum())
                if cd > dens + 1e-12 or (cd >= dens - 1e-12 and ch > hits):
                    key = (cd, ch, -j, side, new)
                    if best is None or key[:3] > best[:3]:
                        best = (cd, ch, j, side, new)
        if best is None:
            return b
        _, _, j, side, new = best
        if side == "low":
            b.low[j] = new
        else:
            b.high[j] = new


def prim(
    X: np.ndarray, y: np.ndarray, names: list[str], peel_alpha: float = 0.05, mass_min: float = 0.05,
    threshold: float = 0.8, candidates: list[int] | None = None, qp_max: float = 0.05, paste: bool = False,
    coverage_slack: float = 0.05,
) -> PrimResult:
    """Peel a box toward the runs where ``y`` holds over the ``candidates`` columns (default: all),
    then keep only significant limits; see the module docstring for the rule that picks the box."""
    if not 0 < peel_alpha < 0.5:
        raise UsageError(f"--peel-alpha: must be in (0, 0.5), got {peel_alpha:g}")
    if not 0 < mass_min < 1:
        raise UsageError(f"--mass-min: must be in (0, 1), got {mass_min:g}")
    if not 0 < threshold <= 1:
        raise UsageError(f"--threshold: must be in (0, 1], got {threshold:g}")
    if not 0 < qp_max <= 1:
        raise UsageError(f"--qp-max: must be in (0, 1], got {qp_max:g}")
    X = np.asarray(X, float)
    y = np.asarray(y, bool)
    n, d = X.shape
    dims = list(range(d)) if candidates is None else sorted(set(candidates))
    cand_names = [names[j] for j in dims]
    box = Box(X.min(0), X.max(0))
    full = box.copy()
    traj: list[dict[str, Any]] = []
    boxes: list[Box] = []

    def record(b: Box) -> None:
        cov, dens, mass = _stats(b.inside(X), y)
        restricted = [names[j] for j in b.restricted(full)]
        qps = [_qp(b, full, X, y, *k) for k in _sides(b, full)]
        pruned, _ = _prune(b, full, X, y, qp_max)
        pcov, pdens, pmass = _stats(pruned.inside(X), y)
        traj.append({"step": len(traj), "coverage": cov, "density": dens, "mass": mass,
                     "runs": int(b.inside(X).sum()), "restricted": restricted,
                     "significant": sum(q <= qp_max for q in qps),
                     "pruned": {"coverage": pcov, "density": pdens, "mass": pmass,
                                "restricted": [names[j] for j in pruned.restricted(full)]}})
        boxes.append(b.copy())

    record(box)
    if y.all() or not y.any():
        which = "every run" if y.all() else "no run"
        return PrimResult(names, n, int(y.sum()), traj, None, [], threshold,
                          f"{which} meets the outcome: there is nothing to separate", qp_max, cand_names)
    if not dims:
        return PrimResult(names, n, int(y.sum()), traj, None, [], threshold,
                          "no box with significant limits: no parameter to restrict", qp_max, cand_names)
    while True:
        inside = box.inside(X)
        if inside.sum() / n <= mass_min or y[inside].all():
            break
        best: tuple[float, float, int, str, float] | None = None
        for j in dims:
            xj = X[inside, j]
            if xj.min() == xj.max():
                continue
            for side in ("low", "high"):
                if side == "low":
                    cut = float(np.quantile(xj, peel_alpha, method="lower"))
                    keep = xj > cut
                else:
                    cut = float(np.quantile(xj, 1 - peel_alpha, method="higher"))
                    keep = xj < cut
                if keep.all() or not keep.any():
                    continue
                if keep.sum() / n < mass_min and best is not None:
                    continue
                dens = float(y[inside][keep].mean())
                key = (dens, float(keep.sum()))
                if best is None or key > best[:2]:
                    best = (dens, float(keep.sum()), j, side, cut)
        if best is None:
            break
        _, kept, j, side, cut = best
        xs = X[inside, j]
        if side == "low":
            box.low[j] = float(xs[xs > cut].min())
        else:
            box.high[j] = float(xs[xs < cut].max())
        record(box)
    # candidates for the reported box: every trajectory box with its non-significant limits un-peeled
    cands = [t for t in traj if t["pruned"]["restricted"]]
    if not cands:
        return PrimResult(names, n, int(y.sum()), traj, None, [], threshold,
                          f"no box with significant limits: no limit on the peeling trajectory has qp-value <= "
                          f"{qp_max:g}", qp_max, cand_names)
    ok = [t for t in cands if t["pruned"]["density"] >= threshold - 1e-12]
    if ok:
        top = max(t["pruned"]["coverage"] for t in ok)
        near = [t for t in ok if t["pruned"]["coverage"] >= top - coverage_slack - 1e-12]
        pick = min(near, key=lambda t: (len(t["pruned"]["restricted"]), -t["pruned"]["coverage"],
                                        -t["pruned"]["density"], t["step"]))
        reason = (f"the fewest limits among the boxes within {coverage_slack:g} of the highest coverage with "
                  f"density >= {threshold:g} and every limit's qp-value <= {qp_max:g}")
    else:
        def f1(t: dict[str, Any]) -> float:
            c, dn = t["pruned"]["coverage"], t["pruned"]["density"]
            return 2 * c * dn / (c + dn) if c + dn > 0 else 0.0

        pick = max(cands, key=lambda t: (round(f1(t), 12), -len(t["pruned"]["restricted"]), -t["step"]))
        reason = (f"no box with significant limits reaches density {threshold:g}: among those with every limit's "
                  f"qp-value <= {qp_max:g}, the best balance of coverage and density (their harmonic mean)")
    k = pick["step"]
    chosen, _ = _prune(boxes[k], full, X, y, qp_max)
    if paste:
        chosen, _ = _prune(_paste(chosen, full, X, y, peel_alpha, chosen.restricted(full)), full, X, y, qp_max)
        reason += ", then pasted"
    cov, dens, mass = _stats(chosen.inside(X), y)
    info = {"step": k, "coverage": cov, "density": dens, "mass": mass, "runs": int(chosen.inside(X).sum()),
            "restricted": [names[j] for j in chosen.restricted(full)]}
    limits = []
    for j in chosen.restricted(full):
        ql = _qp(chosen, full, X, y, j, "low") if chosen.low[j] > full.low[j] else None
        qh = _qp(chosen, full, X, y, j, "high") if chosen.high[j] < full.high[j] else None
        limits.append({"parameter": names[j], "low": float(chosen.low[j]), "high": float(chosen.high[j]),
                       "data_low": float(full.low[j]), "data_high": float(full.high[j]),
                       "qp_low": ql, "qp_high": qh, "qp_value": max(q for q in (ql, qh) if q is not None)})
    return PrimResult(names, n, int(y.sum()), traj, k, limits, threshold, reason, qp_max, cand_names, info, paste)


# ---------------------------------------------------------------------------- an ensemble
@dataclass
class Discovery:
    ensemble: str
    scenario: str
    outcome: str
    metrics_used: dict[str, str]
    dropped: int
    parameters: list[str]
    features: list[dict[str, Any]]
    fdr: float
    result: PrimResult

    def to_json(self) -> dict[str, Any]:
        return {"ensemble": self.ensemble, "scenario": self.scenario, "outcome": self.outcome,
                "metrics_used": self.metrics_used, "runs_without_outcome_value": self.dropped,
                "parameters": self.parameters, "fdr": self.fdr, "features": self.features, **self.result.to_json()}


def _match(paths: list[str], patterns: list[str], flag: str) -> list[str]:
    out = [p for p in paths if any(fnmatch.fnmatchcase(p, pat) for pat in patterns)]
    if not out:
        close = difflib.get_close_matches(patterns[0], paths, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UsageError(f"{flag}: no sampled parameter matches {', '.join(patterns)}{hint}")
    return out


def discover_arrays(
    X: np.ndarray, y: np.ndarray, names: list[str], prim_params: list[str] | None = None, fdr: float = 0.05,
    peel_alpha: float = 0.05, mass_min: float = 0.05, threshold: float = 0.8, qp_max: float = 0.05,
    paste: bool = False,
) -> tuple[list[dict[str, Any]], PrimResult]:
    """Feature scores of every column, then PRIM restricted to the columns whose Benjamini-Hochberg
    q-value is at most ``fdr`` (or to those matching the globs ``prim_params``)."""
    if not 0 < fdr <= 1:
        raise UsageError(f"--fdr: must be in (0, 1], got {fdr:g}")
    X = np.asarray(X, float)
    y = np.asarray(y, bool)
    features = feature_scores(X, y, names)
    if prim_params:
        chosen = _match(names, prim_params, "--params")
    else:
        chosen = [f["parameter"] for f in features if f["q_value"] <= fdr]
    cand = [names.index(p) for p in chosen]
    if not cand and not prim_params and 0 < y.sum() < y.size:
        res = PrimResult(names, int(y.size), int(y.sum()), [], None, [], threshold,
                         f"no box with significant limits: no sampled parameter separates the outcome runs "
                         f"(every Kolmogorov-Smirnov q-value > {fdr:g})", qp_max, [])
    else:
        res = prim(X, y, names, peel_alpha, mass_min, threshold, cand, qp_max, paste)
    return features, res


def discover(
    ensemble: str, outcome: str | None = None, scenario: str | None = None, inputs: list[str] | None = None,
    peel_alpha: float = 0.05, mass_min: float = 0.05, threshold: float = 0.8, prim_params: list[str] | None = None,
    fdr: float = 0.05, qp_max: float = 0.05, paste: bool = False,
) -> Discovery:
    """Feature scores, then PRIM over the significant features (or ``prim_params``), for an outcome of an
    ensemble folder's runs (read without its lock)."""
    if not 0 < fdr <= 1:
        raise UsageError(f"--fdr: must be in (0, 1], got {fdr:g}")
    if not (Path(ensemble) / MANIFEST).is_file():
        raise UsageError(f"ENSEMBLE_DIR: {ensemble} holds no ensemble (no {MANIFEST}); give the --out folder of "
                         "an ensemble")
    with Snapshot(ensemble) as snap:
        labels = [str(s["label"]) for s in snap.manifest.get("scenarios", []) if isinstance(s, dict)]
        if scenario is None:
            if not labels:
                raise UsageError(f"ENSEMBLE: {ensemble} names no scenario in its manifest")
            scenario = labels[0]
        elif scenario not in labels:
            raise UsageError(f"--scenario: '{scenario}' is not in this ensemble ({', '.join(labels)})")
        paths = snap.param_paths()
        params = snap.query("SELECT * FROM parameters WHERE scenario = ? ORDER BY run_index", [scenario])
        metrics = snap.metrics_wide(scenario)
    if not paths:
        raise UsageError(f"ENSEMBLE: {ensemble} sampled no parameters (run it with --sample lhs or --grid)")
    if inputs:
        paths = _match(paths, inputs, "--inputs")
    if metrics.empty:
        raise UsageError(f"ENSEMBLE: {ensemble} holds no finished run of {scenario}")
    params = params.set_index("run_index").reindex(metrics.index)
    X = params[paths].to_numpy(float)
    keep_cols = [j for j in range(X.shape[1]) if np.isfinite(X[:, j]).all() and np.ptp(X[:, j]) > 0]
    paths = [paths[j] for j in keep_cols]
    X = X[:, keep_cols]
    if not paths:
        raise UsageError(f"ENSEMBLE: no sampled parameter varies across the runs of {ensemble}")
    text = outcome if outcome is not None else default_outcome(metrics)
    # an outcome may also name a sampled parameter (a metric of the same name wins)
    extra = [p for p in params.columns if p not in metrics.columns and p not in ("run_id", "scenario", "sample", "seed")]
    table = metrics.join(params[extra]) if extra else metrics
    y, defined, used = outcome_mask(text, table)
    dropped = int((~defined).sum())
    if defined.sum() < 2:
        raise UsageError(f"--outcome: defined in {int(defined.sum())} run(s) only; PRIM needs at least 2")
    features, res = discover_arrays(X[defined], y[defined], paths, prim_params, fdr, peel_alpha, mass_min,
                                    threshold, qp_max, paste)
    return Discovery(ensemble, scenario, text, used, dropped, paths, features, fdr, res)
