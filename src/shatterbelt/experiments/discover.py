"""Scenario discovery: which parameter boxes hold the runs where an outcome happens (PRIM).

The Patient Rule Induction Method (Friedman & Fisher 1999), as exploratory modellers use it
for scenario discovery (Bryant & Lempert 2010; EMA Workbench's ``prim``):

* the runs of an ensemble are points in the space of its sampled parameters (the store's
  ``parameters`` table), each marked by an outcome (a boolean expression over the run's
  metrics, :func:`parse_outcome`);
* starting from the box holding every run, each step *peels* the slice of ``peel_alpha``
  of the remaining runs off one side of one parameter, choosing the peel that leaves the
  highest share of outcome runs in the box; peeling stops when the box holds fewer than
  ``mass_min`` of all runs;
* every box on this *peeling trajectory* has a **coverage** (share of all outcome runs that
  are inside it), a **density** (share of runs inside it that have the outcome) and a
  **mass** (share of all runs inside it);
* the box reported is the one with the highest coverage among those whose density reaches
  ``threshold`` (else the densest box), with its limits on each parameter it restricts and a
  quasi-p-value per limit: the one-sided binomial probability of the box's outcome count if
  that limit were dropped (Bryant & Lempert 2010), small when the limit matters.

No pasting step is done (the box is the peeled one).  Everything is deterministic.

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


@dataclass
class PrimResult:
    names: list[str]
    n: int
    n_outcome: int
    trajectory: list[dict[str, Any]]
    chosen: int
    limits: list[dict[str, Any]]
    threshold: float
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {
            "runs": self.n, "outcome_runs": self.n_outcome, "base_density": self.n_outcome / self.n if self.n else None,
            "threshold": self.threshold, "chosen_box": self.chosen, "why_this_box": self.reason,
            "box": self.trajectory[self.chosen] if self.trajectory else None, "limits": self.limits,
            "trajectory": self.trajectory,
        }


def _stats(inside: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    n_in = int(inside.sum())
    hit = int((inside & y).sum())
    total = int(y.sum())
    return (hit / total if total else math.nan, hit / n_in if n_in else math.nan, n_in / y.size)


def prim(
    X: np.ndarray, y: np.ndarray, names: list[str], peel_alpha: float = 0.05, mass_min: float = 0.05,
    threshold: float = 0.8,
) -> PrimResult:
    """Peel a box toward the runs where ``y`` holds; see the module docstring."""
    if not 0 < peel_alpha < 0.5:
        raise UsageError(f"--peel-alpha: must be in (0, 0.5), got {peel_alpha:g}")
    if not 0 < mass_min < 1:
        raise UsageError(f"--mass-min: must be in (0, 1), got {mass_min:g}")
    if not 0 < threshold <= 1:
        raise UsageError(f"--threshold: must be in (0, 1], got {threshold:g}")
    X = np.asarray(X, float)
    y = np.asarray(y, bool)
    n, d = X.shape
    box = Box(X.min(0), X.max(0))
    full = box.copy()
    traj: list[dict[str, Any]] = []
    boxes: list[Box] = []

    def record(b: Box) -> None:
        cov, dens, mass = _stats(b.inside(X), y)
        restricted = [names[j] for j in range(d) if b.low[j] > full.low[j] or b.high[j] < full.high[j]]
        traj.append({"step": len(traj), "coverage": cov, "density": dens, "mass": mass,
                     "runs": int(b.inside(X).sum()), "restricted": restricted})
        boxes.append(b.copy())

    record(box)
    if y.all() or not y.any():
        which = "every run" if y.all() else "no run"
        return PrimResult(names, n, int(y.sum()), traj, 0, [], threshold,
                          f"{which} meets the outcome: there is nothing to separate")
    while True:
        inside = box.inside(X)
        if inside.sum() / n <= mass_min or y[inside].all():
            break
        best: tuple[float, float, int, str, float] | None = None
        for j in range(d):
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
    ok = [t for t in traj if t["density"] is not None and t["density"] >= threshold - 1e-12]
    if ok:
        pick = max(ok, key=lambda t: (t["coverage"], -t["step"]))
        reason = f"the highest coverage among the boxes with density >= {threshold:g}"
    else:
        pick = max(traj, key=lambda t: (t["density"] if math.isfinite(t["density"]) else -1, t["coverage"]))
        reason = f"no box reaches density {threshold:g}: the densest box"
    k = pick["step"]
    chosen = boxes[k]
    limits = []
    hit_in = int((chosen.inside(X) & y).sum())
    n_in = int(chosen.inside(X).sum())
    for j in range(d):
        if not (chosen.low[j] > full.low[j] or chosen.high[j] < full.high[j]):
            continue
        wider = chosen.copy()
        wider.low[j], wider.high[j] = full.low[j], full.high[j]
        ins = wider.inside(X)
        p0 = float(y[ins].mean()) if ins.any() else 0.0
        qp = float(stats.binomtest(hit_in, n_in, p0, alternative="greater").pvalue) if n_in and 0 < p0 < 1 else 1.0
        limits.append({"parameter": names[j], "low": float(chosen.low[j]), "high": float(chosen.high[j]),
                       "data_low": float(full.low[j]), "data_high": float(full.high[j]), "qp_value": qp})
    return PrimResult(names, n, int(y.sum()), traj, k, limits, threshold, reason)


# ---------------------------------------------------------------------------- an ensemble
@dataclass
class Discovery:
    ensemble: str
    scenario: str
    outcome: str
    metrics_used: dict[str, str]
    dropped: int
    parameters: list[str]
    result: PrimResult

    def to_json(self) -> dict[str, Any]:
        return {"ensemble": self.ensemble, "scenario": self.scenario, "outcome": self.outcome,
                "metrics_used": self.metrics_used, "runs_without_outcome_value": self.dropped,
                "parameters": self.parameters, **self.result.to_json()}


def discover(
    ensemble: str, outcome: str | None = None, scenario: str | None = None, inputs: list[str] | None = None,
    peel_alpha: float = 0.05, mass_min: float = 0.05, threshold: float = 0.8,
) -> Discovery:
    """PRIM over an ensemble folder's sampled parameters for an outcome (reads it without its lock)."""
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
        paths = [p for p in paths if any(fnmatch.fnmatchcase(p, pat) for pat in inputs)]
        if not paths:
            raise UsageError(f"--inputs: no sampled parameter matches {', '.join(inputs)}")
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
    res = prim(X[defined], y[defined], paths, peel_alpha, mass_min, threshold)
    return Discovery(ensemble, scenario, text, used, dropped, paths, res)
