"""``shatterbelt election`` and ``shatterbelt formation``: the politics layer on its own.

``election [SCENARIO]`` turns the scenario's documented votes into seats under its
electoral rule (or ``--rule``) and compares them with the documented seats,
nationally and governorate by governorate.  ``formation SCENARIO --runs N``
runs N independent government formations and reports the distribution of the
prime minister and of the vacuum length.  SCENARIO is a politics configuration
name (``iraq-2010``, ``iraq-2005``, ``iraq-2014``, ``iraq-2018``), a scenario with
variants, or a YAML path; like ``run``, both default to ``iraq-2010``.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from typing import Annotated, Any

import numpy as np
import typer
from pydantic import ValidationError

from ..errors import UsageError
from ..politics.apportion import group_portfolios
from ..politics.elections import compare_governorates, documented_votes, elect_from_votes
from ..politics.formation import run_formations, summarize
from ..resolve import politics_for
from ..scenario.politics_schema import RULES, ElectoralSystem, PoliticsConfig
from .common import DEFAULT_SCENARIO, Json, SetOpt, check_seed, emit_json

app = typer.Typer()
PoliticsArg = Annotated[str, typer.Argument(
    help="politics configuration (iraq-2005, iraq-2010, iraq-2014, iraq-2018), scenario or YAML file")]


def _load(scenario: str, sets: list[str] | None) -> PoliticsConfig:
    return politics_for(scenario, sets or [])


def _system(cfg: PoliticsConfig, rule: str | None, first_divisor: float | None) -> ElectoralSystem:
    es = cfg.electoral_system
    if rule is None and first_divisor is None:
        return es
    data = es.model_dump()
    if rule is not None:
        if rule not in RULES:
            raise UsageError(f"--rule: unknown electoral rule '{rule}' (expected one of: {', '.join(RULES)})")
        data["rule"] = rule
    if first_divisor is not None:
        if not (math.isfinite(first_divisor) and first_divisor > 0):
            raise UsageError(f"--first-divisor: must be a finite number > 0, got {first_divisor}")
        data["first_divisor"] = {"value": first_divisor, "source": "command line (--first-divisor)"}
    if data["rule"] == "sainte_lague" and data.get("first_divisor") is None:
        data["first_divisor"] = {"value": 1.0, "source": "pure Sainte-Laguë (no --first-divisor given)"}
    try:
        return ElectoralSystem.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err.get("loc", ()))
        raise UsageError(f"electoral_system.{where}: {err.get('msg', 'invalid')}") from None


def require_votes(cfg: PoliticsConfig) -> None:
    """Refuse, in one line saying what is missing, a configuration without a votes file."""
    if cfg.votes_file is not None:
        return
    doc = cfg.documented.seats if cfg.documented is not None else {}
    has = (f"it documents seats only ({len(doc)} lists, {sum(int(p.value) for p in doc.values())} seats), "
           "which an election cannot be checked against without the votes behind them"
           if doc else "it documents no seats either")
    raise UsageError(
        f"politics.votes_file: configuration '{cfg.name}' has no votes file, so `election` has nothing to turn "
        f"into seats: it needs valid votes by district and list (CSV columns code, governorate, list, votes, "
        f"seats; docs/politics.md); {has}. Simulated elections in `run` use each list's community base instead")


def election_result(cfg: PoliticsConfig, rule: str | None = None, first_divisor: float | None = None) -> dict[str, Any]:
    """The ``--json`` document of ``election``: seats by list, total, documented seats."""
    require_votes(cfg)
    alloc = elect_from_votes(cfg, documented_votes(cfg), _system(cfg, rule, first_divisor))
    documented = {k: int(p.value) for k, p in cfg.documented.seats.items()}
    return {"seats": dict(alloc.total), "total": alloc.size, "documented": documented}


def _election(scenario: str, json_out: bool, rule: str | None, first_divisor: float | None, sets: list[str]) -> None:
    cfg = _load(scenario, sets)
    require_votes(cfg)
    system = _system(cfg, rule, first_divisor)
    alloc = elect_from_votes(cfg, documented_votes(cfg), system)
    documented = {k: int(p.value) for k, p in cfg.documented.seats.items()}
    if json_out:
        emit_json({"seats": dict(alloc.total), "total": alloc.size, "documented": documented})
        return
    names = {x.id: x.name for x in cfg.lists} if cfg.lists else {b.id: b.name for b in cfg.blocs}
    fd = f", first divisor {system.first_divisor.value:g}" if system.rule == "sainte_lague" and system.first_divisor else ""
    typer.echo(f"{cfg.name}: {alloc.size} seats under rule {system.rule}{fd}")
    typer.echo(f"{'list':<32}{'votes':>11}{'districts':>10}{'comp.':>6}{'quota':>6}{'total':>7}{'doc.':>6}{'diff':>6}")
    for lid, tot in alloc.total.items():
        dist = sum(g.get(lid, 0) for g in alloc.by_governorate.values())
        doc = documented.get(lid)
        diff = f"{tot - doc:+d}" if doc is not None else ""
        typer.echo(
            f"{names.get(lid, lid)[:31]:<32}{alloc.votes.get(lid, 0):>11,.0f}{dist:>10}"
            f"{alloc.compensatory.get(lid, 0):>6}{alloc.quota.get(lid, 0):>6}{tot:>7}"
            f"{doc if doc is not None else '':>6}{diff:>6}"
        )
    comps = compare_governorates(cfg, alloc)
    total_diff = sum(c.abs_diff for c in comps)
    exact = sum(1 for c in comps if c.abs_diff == 0)
    typer.echo(
        f"governorates: {exact} of {len(comps)} match the documented seats exactly; "
        f"sum of |model - documented| = {total_diff} seats (documented rows other than Iraqiya's are reconstructed)"
    )
    for c in comps:
        if c.abs_diff:
            diffs = ", ".join(
                f"{k} {c.model.get(k, 0) - c.documented.get(k, 0):+d}"
                for k in c.model if c.model.get(k, 0) != c.documented.get(k, 0)
            )
            typer.echo(f"  {c.name:<14} {diffs}")


def formation_result(cfg: PoliticsConfig, runs: int, seed: int) -> tuple[dict[str, Any], list[Any]]:
    outcomes = run_formations(cfg, runs, seed)
    return summarize(outcomes, cfg), outcomes


def _formation(scenario: str, runs: int, seed: int, json_out: bool, sets: list[str]) -> None:
    cfg = _load(scenario, sets)
    summary, outcomes = formation_result(cfg, runs, seed)
    if json_out:
        emit_json(summary)
        return
    d = cfg.documented
    typer.echo(f"{cfg.name}: {runs} formation runs (seed {seed})")
    typer.echo("P(PM = candidate):")
    names = {c.id: c.name for c in cfg.candidates}
    for c, p in summary["pm_share"].items():
        mark = "  <- documented" if c == d.pm_candidate else ""
        typer.echo(f"  {names.get(c, c):<32}{p:>7.3f}{mark}")
    typer.echo("P(PM's bloc):")
    for b, p in summary["pm_bloc_share"].items():
        typer.echo(f"  {b:<32}{p:>7.3f}")
    v = summary["vacuum_days"]
    doc_days = f"; documented {d.days.value:g}" if d.days is not None else ""
    typer.echo(f"vacuum (days from election to cabinet): p10 {v['p10']:.0f}, p50 {v['p50']:.0f}, p90 {v['p90']:.0f}{doc_days}")
    formed = [o for o in outcomes if o.formed]
    if len(formed) < len(outcomes):
        typer.echo(f"  {len(outcomes) - len(formed)} runs formed no government within {cfg.formation.max_days.value:g} days")
    for key in ("merger_day", "nominee_backed_day", "rival_deal_day", "agreement_day", "formed_day"):
        vals = [o.milestones.get(key) for o in outcomes if o.milestones.get(key) is not None]
        if vals:
            doc = d.milestones.get(key.replace("_day", ""))
            ds = f" (documented {doc.value:g})" if doc is not None else ""
            typer.echo(f"  {key:<20} median {statistics.median(vals):>5.0f} in {len(vals)} runs{ds}")
    if d.portfolio_groups and formed:
        groups = {g: [] for g in d.portfolio_groups}
        for o in formed:
            for g, n in group_portfolios(o.portfolios, d.portfolio_groups).items():
                groups[g].append(n)
        typer.echo("portfolios (mean over formed runs; documented):")
        for g, ns in groups.items():
            doc = d.portfolios.get(g)
            typer.echo(f"  {g:<24}{np.mean(ns):>6.1f}{(f'{doc.value:>6g}' if doc is not None else ''):>8}")
    coal = Counter(o.coalition for o in formed).most_common(3)
    if coal:
        typer.echo("most frequent coalitions:")
        for c, n in coal:
            typer.echo(f"  {n / len(outcomes):.3f}  {', '.join(c)}")
    ktab: dict[str, list[float]] = {}
    for o in outcomes:
        for c, p in o.final_ktab.items():
            ktab.setdefault(c, []).append(p)
    if ktab:
        typer.echo("KTAB P(PM) in the last week before the deal (mean): " + ", ".join(
            f"{c} {np.mean(ps):.2f}" for c, ps in sorted(ktab.items(), key=lambda kv: -np.mean(kv[1]))))


@app.command("election")
def election(
    scenario: PoliticsArg = DEFAULT_SCENARIO,
    json_: Json = False,
    rule: Annotated[str | None, typer.Option(help=f"electoral rule: {', '.join(RULES)}")] = None,
    first_divisor: Annotated[float | None, typer.Option(help="first divisor (sainte_lague)")] = None,
    set_: SetOpt = None,
) -> None:
    """Seats from the documented votes, compared with the documented seats."""
    _election(scenario, json_, rule, first_divisor, list(set_ or []))


@app.command("formation")
def formation(
    scenario: PoliticsArg = DEFAULT_SCENARIO,
    runs: Annotated[int, typer.Option(help="independent formation runs (>= 1)")] = 200,
    seed: Annotated[
        int, typer.Option(help="random seed (run i uses SeedSequence(seed, spawn_key=(i,)))", callback=check_seed)
    ] = 0,
    json_: Json = False,
    set_: SetOpt = None,
) -> None:
    """Distribution of the prime minister and of the vacuum length over N formations."""
    _formation(scenario, runs, seed, json_, list(set_ or []))
