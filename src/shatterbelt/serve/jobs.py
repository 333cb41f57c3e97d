"""What a job is: the request, its validation against the scenario schema and the caps,
the levers a scenario offers, and running a job into its results folder.

A request names a built-in scenario (``iraq-2010``, ``iraq-2010+us-stays``): never a file
path.  Its levers are ``{path: number}`` overrides of the scenario's parameters, applied
exactly as ``shatterbelt run --set path=value`` applies them, so a bad path or a value
outside a parameter's domain gives the same one-line message naming the field.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import threading
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from .. import __version__, report
from ..errors import ScenarioError, ShatterbeltError, UsageError
from ..resolve import apply_overrides, hold_range_warnings, load_raw, validate
from ..scenario.loader import builtin_scenarios, builtin_variants, describe_builtins, scenario_hash
from ..scenario.provenance import collect_params
from ..scenario.schema import Scenario
from ..sim import Simulation
from .config import Caps

SPEC_PATTERN = r"^[A-Za-z0-9_-]{1,64}(\+[A-Za-z0-9_-]{1,64}){0,8}$"
#: how a lever's override is recorded in the resolved scenario's provenance
LEVER_ORIGIN = "api-lever"
PATH_PATTERN = r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_-]+|\[[0-9]+\])*$"
MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"

LeverValue = Annotated[float, Field(allow_inf_nan=False)]


class Withdrawal(BaseModel):
    """When the foreign force leaves and what it leaves behind: from ``month`` on it holds ``residual``
    troops (every later change of its level in the timeline is dropped)."""

    model_config = ConfigDict(extra="forbid")

    month: str = Field(pattern=MONTH_PATTERN, description="the month the force drops to its residual level, YYYY-MM")
    residual: float = Field(0.0, ge=0, le=1_000_000, allow_inf_nan=False, description="troops left from that month")


class JobRequest(BaseModel):
    """A run (``runs`` = 1) or a small ensemble of a built-in scenario with lever values."""

    model_config = ConfigDict(extra="forbid")

    scenario: str = Field("iraq-2010", min_length=1, max_length=600, pattern=SPEC_PATTERN,
                          description="a built-in scenario, optionally with variants: base+variant")
    scale: float = Field(0.01, gt=0, le=1, allow_inf_nan=False, description="share of the population simulated")
    until: str | None = Field(None, pattern=MONTH_PATTERN, description="last month simulated, YYYY-MM "
                              "(default: the scenario's horizon)")
    runs: int = Field(1, ge=1, le=10_000, description="runs; seeds are seed, seed+1, ...")
    seed: int = Field(0, ge=0, lt=2**63, description="seed of the first run")
    levers: dict[Annotated[str, Field(max_length=200, pattern=PATH_PATTERN)], LeverValue] = Field(
        default_factory=dict, description="parameter path -> value, as `--set path=value` (numbers only)")
    withdrawal: Withdrawal | None = Field(None, description="the foreign force's withdrawal month and residual "
                                          "force (default: the scenario's timeline)")

    def canonical(self) -> dict[str, Any]:
        """The request with every default filled in and levers sorted (the store's dedup key)."""
        d = self.model_dump()
        d["levers"] = {k: float(v) for k, v in sorted(self.levers.items())}
        d["scale"] = float(self.scale)
        if self.withdrawal is not None:
            d["withdrawal"] = {"month": self.withdrawal.month, "residual": float(self.withdrawal.residual)}
        return d


class RequestError(ShatterbeltError):
    """A request the server refuses: ``status`` is the HTTP status, the message names the field."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


# ---------------------------------------------------------------------------- scenarios and levers
#: the levers the dashboard shows for Iraq's scenarios (any other parameter path may be sent too)
KEY_LEVERS: list[tuple[str, str, str]] = [
    ("economy.corruption", "Corruption (share of revenue diverted)", "economy"),
    ("economy.revenue_scale", "Oil revenue (x the documented path)", "economy"),
    ("economy.security_share", "Security share of the budget", "economy"),
    ("army.infiltration", "Army infiltration by the entities", "army"),
    ("army.ghost_factor", "Ghost soldiers (share of the payroll)", "army"),
    ("actors.us_forces.size", "US forces in July 2010", "foreign forces"),
    ("actors.aqi.size", "AQI fighters in July 2010", "armed actors"),
    ("actors.mahdi.size", "Mahdi Army fighters in July 2010", "armed actors"),
    ("blocs.sadrists.armed_wing_share", "Sadrists' armed wing (share of members)", "blocs"),
    ("patrons.us.budget", "US patron budget (USD a month)", "patrons"),
    ("patrons.iran.budget", "Iran patron budget (USD a month)", "patrons"),
    ("patrons.iran.leans_in_as_us_leaves", "Iran leans in as the US leaves", "patrons"),
    ("patrons.gulf.budget", "Gulf patron budget (USD a month)", "patrons"),
    ("patrons.turkey.budget", "Turkey patron budget (USD a month)", "patrons"),
]
#: levers offered for any scenario that has none of the above
MAX_DEFAULT_LEVERS = 12


def known_specs() -> tuple[list[str], list[str]]:
    return builtin_scenarios(), builtin_variants()


def check_spec(spec: str) -> None:
    """Only built-in scenarios and variants: a client never names a file."""
    bases, variants = known_specs()
    base, *vs = spec.split("+")
    if base not in bases:
        raise RequestError(f"scenario: '{base}' is not a built-in scenario (known: {', '.join(bases)})")
    for v in vs:
        if v not in variants:
            raise RequestError(f"scenario: '{v}' is not a built-in variant (known: {', '.join(variants)})")
    if len(set(vs)) != len(vs):
        raise RequestError("scenario: a variant is named twice")


#: one scenario is resolved at a time: concurrent requests for the same one wait for it and share it
_RESOLVING = threading.RLock()


def foreign_force(raw: dict[str, Any]) -> str | None:
    """The id of the scenario's (first) foreign force, if it has one."""
    for a in raw.get("actors") or []:
        if isinstance(a, dict) and a.get("kind") == "foreign_force":
            return str(a["id"])
    return None


def _troop_events(raw: dict[str, Any], force: str) -> list[dict[str, Any]]:
    return [ev for ev in raw.get("timeline") or [] if isinstance(ev, dict) and ev.get("type") == "foreign_troops"
            and ev.get("force") == force]


def _withdrawal_event(raw: dict[str, Any], force: str) -> dict[str, Any] | None:
    """The scenario's own withdrawal: the last change of the force's level, when it halves it or more."""
    evs = sorted(_troop_events(raw, force), key=lambda e: str(e.get("date")))
    if len(evs) < 2 or float(evs[-1]["level"]) >= 0.5 * float(evs[-2]["level"]):
        return None
    return evs[-1]


def default_withdrawal(raw: dict[str, Any]) -> dict[str, Any] | None:
    """The scenario's own withdrawal (force, month, residual troops, source), if its timeline has one."""
    force = foreign_force(raw)
    last = None if force is None else _withdrawal_event(raw, force)
    if force is None or last is None:
        return None
    return {"force": force, "month": str(last["date"])[:7], "residual": float(last["level"]),
            "source": str(last.get("source", ""))}


def apply_withdrawal(raw: dict[str, Any], month: str, residual: float) -> dict[str, Any]:
    """``raw`` whose foreign force drops to ``residual`` troops in ``month`` (mid-month) and stays there:
    the timeline's own withdrawal and every later change of the force's level are replaced."""
    force = foreign_force(raw)
    if force is None:
        raise RequestError("withdrawal: this scenario has no foreign force")
    start, horizon = str(raw.get("start")), str(raw.get("horizon"))
    if not (start <= month <= horizon):
        raise RequestError(f"withdrawal.month: {month} is outside the scenario's {start}..{horizon}")
    date = f"{month}-15"
    own = _withdrawal_event(raw, force)
    keep = [ev for ev in raw.get("timeline") or [] if ev is not own and not (
        isinstance(ev, dict) and ev.get("type") == "foreign_troops" and ev.get("force") == force
        and str(ev.get("date")) >= date)]
    keep.append({"type": "foreign_troops", "date": date, "force": force, "level": float(residual),
                 "source": f"{LEVER_ORIGIN}: withdrawal to {residual:g} troops in {month}"})
    return {**raw, "timeline": sorted(keep, key=lambda e: str(e.get("date", "")) if isinstance(e, dict) else "")}


Key = tuple[tuple[str, float], ...]


@lru_cache(maxsize=64)
def _scenario_cached(spec: str, levers: Key, withdrawal: tuple[str, float] | None) -> Scenario:
    sets = [f"{p}={json.dumps(v)}" for p, v in levers]
    with hold_range_warnings(emit=False):  # a lever outside its range is a note of the job (validate_request)
        raw, label = load_raw(spec)
        if withdrawal is not None:
            raw = apply_withdrawal(raw, *withdrawal)
        return validate(apply_overrides(raw, sets, origin=LEVER_ORIGIN), label)


def _scenario(spec: str, levers: Key, withdrawal: tuple[str, float] | None = None) -> Scenario:
    with _RESOLVING:
        return _scenario_cached(spec, levers, withdrawal)


def build_scenario(spec: str, levers: dict[str, float], withdrawal: Withdrawal | None = None) -> Scenario:
    """The validated scenario of a request (cached); RequestError naming the field otherwise."""
    check_spec(spec)
    wd = None if withdrawal is None else (withdrawal.month, float(withdrawal.residual))
    try:
        return _scenario(spec, tuple(sorted((k, float(v)) for k, v in levers.items())), wd)
    except ScenarioError as exc:
        msg = str(exc)
        msg = msg.replace(f"{LEVER_ORIGIN} ", "levers.")
        head = f"scenario '{spec}': "
        if msg.startswith(head) and msg[len(head):].split(":")[0] in levers:
            msg = "levers." + msg[len(head):]  # the lever's own field, as the request named it
        raise RequestError(msg) from None


def _lever_entry(p: dict[str, Any], label: str, group: str) -> dict[str, Any]:
    rng = p["range"]
    lo, hi = (rng if rng is not None else (p["value"], p["value"]))
    step = 10.0 ** math.floor(math.log10((hi - lo) / 100)) if hi > lo else 0.0  # a round step: 0.001, 1000
    integer = all(float(x).is_integer() for x in (p["value"], lo, hi)) and hi - lo >= 20
    return {"path": p["path"], "label": label, "group": group, "value": p["value"], "range": [lo, hi],
            "source": p["source"], "kind": p["kind"], "domain": p["domain"],
            "step": 1.0 if integer else step, "integer": integer}


def scenario_info(spec: str) -> dict[str, Any]:
    """One scenario's description, months and levers (value, range, source)."""
    check_spec(spec)
    with _RESOLVING:
        return _scenario_info(spec)


@lru_cache(maxsize=32)
def param_ranges(spec: str) -> dict[str, list[float] | None]:
    """Path -> documented range of every parameter of a scenario (without levers)."""
    with _RESOLVING:
        return {p["path"]: p["range"] for p in collect_params(build_scenario(spec, {}))}


@lru_cache(maxsize=32)
def _scenario_info(spec: str) -> dict[str, Any]:
    sc = build_scenario(spec, {})
    params = {p["path"]: p for p in collect_params(sc)}
    levers = [_lever_entry(params[path], label, group) for path, label, group in KEY_LEVERS if path in params]
    if not levers:  # another country: its widest-ranged parameters outside the module defaults
        cands = [p for p in params.values() if p["range"] and p["range"][1] > p["range"][0]
                 and not p["path"].startswith(("parameters.", "politics."))]
        levers = [_lever_entry(p, p["path"], p["path"].split(".")[0]) for p in cands[:MAX_DEFAULT_LEVERS]]
    with hold_range_warnings(emit=False):
        raw, _ = load_raw(spec)
    return {"name": spec, "title": sc.name, "country": sc.country, "start": sc.start, "horizon": sc.horizon,
            "months": len(sc.months()), "levers": levers, "withdrawal": default_withdrawal(raw),
            "parameters": len(params), "sha256": scenario_hash(sc)}


@lru_cache(maxsize=1)
def list_scenarios() -> list[dict[str, Any]]:
    """Built-in scenarios and variants (name, kind, description); read once (they ship in the package)."""
    return [{"name": it["name"], "kind": it["kind"], "description": it["description"]}
            for it in describe_builtins() if not it["name"].startswith("+")]


def all_parameters(spec: str) -> list[dict[str, Any]]:
    check_spec(spec)
    return collect_params(build_scenario(spec, {}))


# ---------------------------------------------------------------------------- validation
def months_of(sc: Scenario, until: str | None) -> int:
    return sum(1 for m in sc.months() if until is None or m <= until)


def validate_request(req: JobRequest, caps: Caps) -> tuple[Scenario, list[str]]:
    """Check a request against the caps and the scenario schema, cheapest first.

    Returns the scenario and notes (levers outside their documented range, which a
    counterfactual may mean); raises :class:`RequestError` naming the field.
    """
    if req.scale > caps.max_scale:
        raise RequestError(f"scale: {req.scale:g} is above this server's cap of {caps.max_scale:g}")
    if req.runs > caps.max_runs:
        raise RequestError(f"runs: {req.runs} is above this server's cap of {caps.max_runs}")
    if len(req.levers) > caps.max_levers:
        raise RequestError(f"levers: {len(req.levers)} levers; at most {caps.max_levers}")
    if req.seed + req.runs > 2**63:
        raise RequestError(f"seed: the last run's seed {req.seed + req.runs - 1} would reach 2^63")
    check_spec(req.scenario)
    base = build_scenario(req.scenario, {})
    sc = build_scenario(req.scenario, req.levers, req.withdrawal) if (req.levers or req.withdrawal) else base
    if req.until is not None and not (sc.start <= req.until <= sc.horizon):
        raise RequestError(f"until: {req.until} is outside the scenario's {sc.start}..{sc.horizon}")
    n = months_of(sc, req.until)
    if n > caps.max_months:
        raise RequestError(f"until: {n} months is above this server's cap of {caps.max_months} months "
                           f"(set until no later than the cap allows)")
    for r in sc.regions:
        if int(r.population * req.scale + 0.5) < 1:
            need = 0.5 / r.population if r.population > 0 else math.inf
            raise RequestError(f"scale: {req.scale:g} gives region {r.id} no agent; it needs at least {need:.3g}")
    notes = []
    ranges = param_ranges(req.scenario)
    for path, v in sorted(req.levers.items()):
        rng = ranges.get(path)
        if rng is not None and not (rng[0] <= v <= rng[1]):
            notes.append(f"levers.{path}: {v:g} is outside the documented range [{rng[0]:g}, {rng[1]:g}] "
                         "(a counterfactual)")
    return sc, notes


# ---------------------------------------------------------------------------- running
class Cancelled(Exception):
    """The job was cancelled (or the server went away) while it ran."""


def run_job(job_id: str, request: dict[str, Any], tmp: Path, final: Path,
            progress: Callable[[float, str], None]) -> dict[str, Any]:
    """Run a job into ``tmp`` and move it whole to ``final``; returns facts about it.

    ``progress(fraction, month)`` is called after every simulated month and may raise
    :class:`Cancelled`.  A single run leaves a run folder (as ``shatterbelt run`` writes it);
    several leave an ensemble folder (``manifest.json`` and ``runs/<run_id>/``), so the report
    and the figure builders read either.  ``report.html`` and ``job.json`` are added.
    """
    req = JobRequest.model_validate(request)
    t0 = time.perf_counter()
    sc = build_scenario(req.scenario, req.levers, req.withdrawal)
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    n_months = months_of(sc, req.until)
    total = max(1, n_months * req.runs)
    runs_meta = []
    try:
        for i in range(req.runs):
            seed = req.seed + i
            sim = Simulation(sc, scale=req.scale, seed=seed, until=req.until)

            def cb(t: int, T: int, month: str, i: int = i) -> None:
                progress((i * n_months + t) / total, month)
            res = sim.run(progress=cb)
            if req.runs == 1:
                res.write(tmp)  # the run's folder, written whole
            else:
                rid = f"{req.scenario}.{i:05d}"
                res.write(tmp / "runs" / rid)
                runs_meta.append({"run_id": rid, "scenario": req.scenario, "index": i, "sample": -1, "seed": seed})
        if req.runs > 1:
            overrides = [f"{k}={v:g}" for k, v in sorted(req.levers.items())]
            if req.withdrawal is not None:
                overrides.append(f"withdrawal={req.withdrawal.month}:{req.withdrawal.residual:g}")
            manifest = {"format": 1, "kind": "ensemble", "package_version": __version__,
                        "scenarios": [{"label": req.scenario, "sha256": scenario_hash(sc)}], "scale": req.scale,
                        "until": req.until, "panel": "full", "overrides": overrides,
                        "design": {"method": "none", "parameters": []}, "runs": runs_meta,
                        "command_line": f"shatterbelt serve job {job_id}"}
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        data = report.load(tmp)
        data.source = f"job {job_id}"
        cmd = data.facts.get("command")
        if isinstance(cmd, str):
            data.facts["command"] = cmd.replace(str(tmp), str(final))
        html = report.build_html(data, report.standard_figures(data), report.governorate_map(data))
        (tmp / "report.html").write_text(html, encoding="utf-8")
        facts = {"id": job_id, "request": req.canonical(), "months": n_months,
                 "wall_seconds": round(time.perf_counter() - t0, 3), "version": __version__,
                 "scenario_sha256": scenario_hash(sc)}
        (tmp / "job.json").write_text(json.dumps(facts, indent=1), encoding="utf-8")
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return facts


def one_line(exc: BaseException) -> str:
    """An exception as one line for a job's ``error``."""
    if isinstance(exc, (ShatterbeltError, UsageError)):
        return str(exc)
    return f"internal error: {type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
