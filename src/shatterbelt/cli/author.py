"""Writing a scenario: ``shatterbelt new NAME`` (a commented template that validates and runs)
and ``shatterbelt schema`` (the scenario file's JSON Schema, for editors).

``new NAME --regions N --communities a,b,...`` writes ``NAME.yaml``: N regions (``R1`` ..) in a
chain, the communities given (at least two), one party per community, an army, a police force,
a militia of the first community, an insurgency of the last, a foreign force, two foreign
patrons, an economy and a politics section of its own (the behavioural rules taken from
iraq-2010 with ``defaults_from``).  Every number is a placeholder marked ``source: assumption``
with a range: replace them with the country's figures and their sources (docs/scenarios.md).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import UsageError
from ..resolve import load_scenario
from ..scenario.schema import Scenario
from .common import Json, emit_json

app = typer.Typer()
NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")
MAX_REGIONS = 200


def _a(value: float, lo: float, hi: float) -> str:
    return f"{{value: {value:g}, range: [{lo:g}, {hi:g}], source: assumption}}"


def _shares(keys: list[str], values: list[float]) -> str:
    return "{" + ", ".join(f"{k}: {v:g}" for k, v in zip(keys, values, strict=True)) + "}"


def _even(n: int) -> list[float]:
    """``n`` shares that sum to exactly 1 at 4 decimals (the last takes the remainder)."""
    base = round(1.0 / n, 4)
    return [base] * (n - 1) + [round(1.0 - base * (n - 1), 4)]


def template(name: str, regions: int, communities: list[str]) -> str:
    """The text of a commented scenario template (see the module's docstring)."""
    if not NAME_RE.match(name):
        raise UsageError(f"NAME: '{name}' is not a valid scenario name (letters, digits, '_' or '-', starting "
                         "with a letter)")
    if not 1 <= regions <= MAX_REGIONS:
        raise UsageError(f"--regions: must be between 1 and {MAX_REGIONS}, got {regions}")
    if len(communities) < 2:
        raise UsageError("--communities: give at least two community ids, comma-separated (e.g. a,b)")
    for c in communities:
        if not NAME_RE.match(c):
            raise UsageError(f"--communities: '{c}' is not a valid id (letters, digits, '_' or '-', starting with a letter)")
    if len(set(communities)) != len(communities):
        raise UsageError("--communities: an id is given twice")
    reserved = {"army", "police", "militia", "insurgency", "foreign", "east", "west"}
    clash = sorted(set(communities) & reserved)
    if clash:
        raise UsageError(f"--communities: '{clash[0]}' is an id the template uses for an actor or patron; choose another")
    K = len(communities)
    first, last = communities[0], communities[-1]
    rids = [f"R{i + 1}" for i in range(regions)]
    blocs = [f"party_{c}" for c in communities]
    seats = [100 // K] * K
    seats[0] += 100 - sum(seats)
    cands = [f"leader_{c}" for c in communities]
    lines: list[str] = []
    add = lines.append
    add(f"# {name}: a scenario template written by `shatterbelt new` ({regions} regions, communities {', '.join(communities)}).")
    add("# Every number below is a placeholder: {value, range, source: assumption}.  Replace each with the")
    add("# country's figure and name its source (a citation, 'seed claim', 'calibrated (<=YYYY)' or 'assumption'),")
    add("# keeping a plausible range.  Check with `shatterbelt validate FILE`; run with `shatterbelt run FILE`.")
    add("# The guide is docs/scenarios.md; every field is described by `shatterbelt schema`.")
    add(f"name: {name}")
    add(f"description: {name} (template; replace with a one-line description)")
    add(f"country: {name.capitalize()}   # the country's name, used in events (Civilians (<country>))")
    add("iso_numeric: 0            # ISO 3166-1 numeric code (0 = none); events' iso column")
    add("start: 2020-07             # first month simulated (YYYY-MM)")
    add("horizon: 2021-12           # last month simulated")
    add("")
    add("# Communities: the identity groups people belong to (sect, ethnicity).  occupation_aversion: how much")
    add("# the presence of foreign troops feeds the community's grievance (0-1).")
    add("communities:")
    for c in communities:
        add(f"  - {{id: {c}, name: {c.capitalize()}, occupation_aversion: {_a(0.5, 0, 1)}}}")
    add("")
    add("# Regions: first-level administrative units.  id: a stable code (ISO 3166-2 where there is one);")
    add("# population: persons at the start, with its source (a census or projection); shares: community ->")
    add("# share of the population (they sum to 1; shares_range and shares_source give their uncertainty).")
    add("regions:")
    for i, r in enumerate(rids):
        major = i % K
        vals = [0.7 if k == major else round(0.3 / (K - 1), 4) for k in range(K)]
        vals[-1 if major != K - 1 else 0] = round(1.0 - sum(vals) + vals[-1 if major != K - 1 else 0], 4)
        add(f"  - id: {r}")
        add(f"    name: Region {i + 1}")
        add("    population: 500000")
        add("    population_source: assumption (replace with a census or projection)")
        add(f"    shares: {_shares(communities, vals)}")
        add("    shares_source: assumption")
    add("# pairs of regions that share a border")
    add("adjacency: [" + ", ".join(f"[{a}, {b}]" for a, b in zip(rids, rids[1:], strict=False)) + "]")
    add("")
    add("population:")
    add(f"  fighting_age_share: {_a(0.25, 0.2, 0.3)}   # share of persons who can fight (men 15-49)")
    add(f"  community_tilt: {_a(0.0, 0.0, 1.0)}")
    add(f"  initial_displaced: {_a(5000, 0, 20000)}   # internally displaced persons at the start")
    add(f"  displaced_hardship: {_a(0.2, 0.0, 0.4)}")
    add("")
    add("# Blocs: the political parties or lists; community: their base; seats: in parliament at the start.")
    add("blocs:")
    for k, (b, c) in enumerate(zip(blocs, communities, strict=True)):
        patron = "east" if k == 0 else "west" if k == 1 else None
        pat = f", patrons: {{{patron}: 0.3}}" if patron else ""
        add(f"  - {{id: {b}, name: Party of {c.capitalize()}, community: {{{c}: 1.0}}, seats: {seats[k]}{pat}}}")
    add("")
    add("# Armed actors.  kind: state_army, police, regional_guard, militia, tribal, insurgency or foreign_force")
    add("# (ACLED's actor types follow from it).  size: fighters at the start; regions: where they are (shares);")
    add("# pay: USD per fighter per month; quality: effectiveness per fighter relative to the army;")
    add("# hostility: whom they fight (actors) and whom they target (communities' civilians).")
    add("actors:")
    add("  - id: army")
    add("    name: Army")
    add("    kind: state_army")
    add(f"    size: {_a(5000, 3000, 8000)}")
    add(f"    regions: {_shares(rids, _even(regions))}")
    add(f"    recruits_in: [{', '.join(rids)}]")
    add(f"    pay: {_a(500, 300, 700)}")
    add(f"    quality: {_a(1.0, 1, 1)}")
    add(f"    funding: {{state_budget_share: {_a(0.5, 0.3, 0.7)}}}")
    add("    hostility: {actors: {insurgency: 1.0, militia: 0.3}}")
    add("    motivation: {pay: 0.6, legitimacy: 0.5}")
    add("  - id: police")
    add("    name: Police")
    add("    kind: police")
    add(f"    size: {_a(3000, 2000, 4000)}")
    add(f"    regions: {_shares(rids, _even(regions))}")
    add(f"    pay: {_a(400, 300, 500)}")
    add(f"    quality: {_a(0.5, 0.3, 0.7)}")
    add(f"    funding: {{state_budget_share: {_a(0.3, 0.2, 0.4)}}}")
    add("    hostility: {actors: {insurgency: 0.6}}")
    add("    motivation: {pay: 0.6, legitimacy: 0.4}")
    add("  - id: militia")
    add(f"    name: Militia of {first.capitalize()}")
    add("    kind: militia")
    add(f"    community: {{{first}: 1.0}}")
    add(f"    parent: {blocs[0]}")
    add("    legal: outlaw")
    add("    patrons: {east: 0.6}")
    add(f"    size: {_a(800, 300, 1500)}")
    add(f"    regions: {_shares(rids, _even(regions))}")
    add(f"    pay: {_a(200, 100, 300)}")
    add(f"    quality: {_a(0.7, 0.5, 1.0)}")
    add(f"    hostility: {{actors: {{insurgency: 0.5, foreign: 0.5}}, communities: {{{last}: 0.3}}}}")
    add("    motivation: {fear: 0.6, grievance: 0.4, pay: 0.3}")
    add("  - id: insurgency")
    add(f"    name: Insurgency of {last.capitalize()}")
    add("    kind: insurgency")
    add(f"    community: {{{last}: 1.0}}")
    add("    legal: outlaw")
    add(f"    size: {_a(800, 300, 1500)}")
    add(f"    regions: {_shares(rids, _even(regions))}")
    add(f"    pay: {_a(100, 50, 200)}")
    add(f"    quality: {_a(1.2, 0.8, 1.5)}")
    add("    funding:")
    add(f"      own_income: {_a(100000, 20000, 200000)}   # USD per month")
    add(f"      extortion_per_capita: {_a(0.5, 0.1, 1.0)}")
    add(f"    hostility: {{actors: {{army: 0.3, police: 0.4, foreign: 0.3, militia: 0.3}}, communities: {{{first}: 1.0}}}}")
    add("    civilian_event_share_explosive: 0.6   # share of its attacks on civilians that are bombings")
    add("    motivation: {grievance: 1.0, fear: 0.3, pay: 0.1}")
    add("    spreads: true")
    add("  - id: foreign")
    add("    name: Foreign Force")
    add("    kind: foreign_force")
    add("    patrons: {west: 1.0}")
    add(f"    size: {_a(3000, 3000, 3000)}   # troops")
    add(f"    regions: {_shares(rids, _even(regions))}")
    add(f"    pay: {_a(0, 0, 0)}")
    add(f"    quality: {_a(3.0, 2, 4)}")
    add("    hostility: {actors: {insurgency: 1.0, militia: 0.5}}")
    add("")
    add("# The state army: who commands it before a government forms, whom it recruits, where it is deployed.")
    add("army:")
    add("  actor: army")
    add(f"  command_apportionment: {_shares(blocs, [s / 100 for s in seats])}")
    add(f"  community_mix: {_shares(communities, _even(K))}")
    add(f"  deployment: {_shares(rids, _even(regions))}")
    add(f"  infiltration: {_a(0.5, 0, 1)}")
    add(f"  ghost_factor: {_a(0.3, 0, 0.5)}")
    add("")
    add("# Foreign patrons: budget in USD per month for their clients (actor or bloc ids).")
    add("patrons:")
    add("  - id: east")
    add("    name: East")
    add(f"    budget: {_a(200000, 0, 500000)}")
    add(f"    clients: [militia, {blocs[0]}]")
    add(f"    leans_in_as_us_leaves: {_a(1.0, 0, 2)}")
    add("  - id: west")
    add("    name: West")
    add(f"    budget: {_a(300000, 0, 600000)}")
    add(f"    clients: [army, {blocs[1]}]")
    add("")
    add("# The state's money: revenue in USD per month (a series; held after its last point) and where it goes.")
    add("economy:")
    add("  revenue: [{month: 2020-01, value: 100000000}, {month: 2021-01, value: 110000000}]")
    add("  revenue_source: assumption (replace with the budget law or IMF figures)")
    add(f"  revenue_scale: {_a(1.0, 0.8, 1.2)}")
    add(f"  corruption: {_a(0.3, 0.1, 0.5)}")
    add(f"  regional_budget_share: {_a(0.0, 0.0, 0.2)}")
    add(f"  security_share: {_a(0.3, 0.2, 0.4)}")
    add(f"  services_need: {_a(20, 10, 40)}   # USD per person per month")
    add("")
    add("# The government at the start: here a caretaker one since the election (a power vacuum).")
    add("initial_government:")
    add(f"  pm_bloc: {blocs[0]}")
    add(f"  coalition: [{', '.join(blocs)}]")
    add(f"  portfolio_shares: {_shares(blocs, [s / 100 for s in seats])}")
    add("  caretaker: true")
    add("  vacuum_since: 2020-03-01")
    add("")
    add("# Dated events: foreign troop levels, a war next door, elections, pay changes, shocks.")
    add("timeline:")
    add("  - {type: foreign_troops, date: 2021-01-15, force: foreign, level: 1000}")
    add("  - {type: foreign_troops, date: 2021-06-01, force: foreign, level: 0}")
    add("")
    add("# Politics: the parliament, the election rule and government formation.  The behavioural rules come")
    add("# from iraq-2010 (defaults_from); the facts (seats, shares, candidates) are this country's.")
    add("politics:")
    add("  defaults_from: {name: iraq-2010, sections: [formation, apportionment, marginalization]}")
    add(f"  name: {name}")
    add(f"  description: {name}'s 100-seat parliament")
    add("  election_date: 2020-03-01")
    add(f"  chamber_size: {_a(100, 100, 100)}")
    add(f"  majority: {_a(51, 51, 51)}")
    add("  community_shares:")
    for c, v in zip(communities, _even(K), strict=True):
        add(f"    {c}: {_a(v, max(0.0, v - 0.1), min(1.0, v + 0.1))}")
    add("  electoral_system:")
    add("    rule: largest_remainder")
    add("    compensatory_seats: {value: 0, source: assumption}")
    add("    minority_seats: {value: 0, source: assumption}")
    add("    unlisted_vote_share: {value: 0.0, source: assumption}")
    add(f"    vote_noise_sd: {_a(0.05, 0.0, 0.1)}")
    add("  blocs:")
    for b, c, n in zip(blocs, communities, seats, strict=True):
        add(f"    - {{id: {b}, name: Party of {c.capitalize()}, sect: {c}, community_base: {{{c}: {{value: 1.0, source: assumption}}}}, "
            f"seats: {{value: {n}, source: assumption}}}}")
    add("  candidates:")
    for cand, b, c in zip(cands, blocs, communities, strict=True):
        add(f"    - {{id: {cand}, name: Leader of {c.capitalize()}, bloc: {b}}}")
    add("  preferences:")
    for k, b in enumerate(blocs):
        prefs = ", ".join(
            f"{cand}: {{value: 1.0, source: assumption}}" if j == k else f"{cand}: {_a(0.2, 0.0, 0.5)}"
            for j, cand in enumerate(cands))
        add(f"    {b}: {{{prefs}}}")
    add("  patrons:")
    add("    - id: east")
    add("      name: East")
    add(f"      preferences: {{{cands[0]}: {{value: 1.0, source: assumption}}}}")
    add(f"      leverage: {{{blocs[0]}: {_a(0.3, 0.0, 0.5)}}}")
    add(f"      marginalization_stance: {_a(0.5, 0.0, 1.0)}")
    add("    - id: west")
    add("      name: West")
    add(f"      preferences: {{{cands[1]}: {{value: 1.0, source: assumption}}}}")
    add(f"      leverage: {{{blocs[1]}: {_a(0.2, 0.0, 0.5)}}}")
    add(f"      marginalization_stance: {_a(-0.5, -1.0, 0.0)}")
    add(f"  incumbent: {{pm_candidate: {cands[0]}, coalition: [{', '.join(blocs)}], source: assumption}}")
    add("  violence:")
    add("    monthly:")
    add(f"      - {_a(1.0, 0.5, 2.0)}")
    return "\n".join(lines) + "\n"


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a scenario file, from the pydantic models (field descriptions included).

    It describes the file as written: ``politics`` may also be the name of a built-in politics
    configuration (``iraq-2010``) or a section that takes the rest from one (``defaults_from``),
    both expanded when the file is loaded.
    """
    schema = Scenario.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "shatterbelt scenario"
    pol = schema.get("properties", {}).get("politics")
    if isinstance(pol, dict) and "anyOf" in pol:
        pol["anyOf"] = [
            *pol["anyOf"],
            {"type": "string", "description": "name of a built-in politics configuration (shatterbelt scenarios)"},
            {"type": "object", "required": ["defaults_from"],
             "description": "a politics section completed from a built-in one (defaults_from: {name, sections})"},
        ]
    return schema


@app.command("new")
def new(
    name: Annotated[str, typer.Argument(help="scenario name; the file is NAME.yaml")],
    regions: Annotated[int, typer.Option(help="number of regions (R1, R2, ... in a chain)")] = 3,
    communities: Annotated[str, typer.Option(help="community ids, comma-separated (at least two)")] = "a,b",
    out: Annotated[Path | None, typer.Option(help="file to write (default NAME.yaml in the current folder)")] = None,
    force: Annotated[bool, typer.Option(help="replace an existing file")] = False,
    json_: Json = False,
) -> None:
    """Write a commented scenario template that validates and runs (politics included)."""
    comms = [c.strip() for c in communities.split(",") if c.strip()]
    text = template(name, regions, comms)
    target = out if out is not None else Path(f"{name}.yaml")
    if target.exists() and not force:
        raise UsageError(f"--out: {target} exists (give --force to replace it, or another --out)")
    if target.is_dir():
        raise UsageError(f"--out: {target} is a folder; give a file name")
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--out: cannot write {target}: {exc.strerror or type(exc).__name__}") from None
    sc = load_scenario(str(target))  # the template must validate: a failure here is a bug, said in one line
    info = {"path": str(target), "name": sc.name, "regions": len(sc.regions), "communities": comms}
    if json_:
        emit_json(info)
    else:
        print(f"wrote {target}: {len(sc.regions)} regions, communities {', '.join(comms)}; it validates.\n"
              f"next: edit it (docs/scenarios.md), then `shatterbelt validate {target}` and `shatterbelt run {target}`")


@app.command("schema")
def schema(
    out: Annotated[Path | None, typer.Option(help="write the schema to this file instead of stdout")] = None,
    json_: Json = False,
) -> None:
    """Print the JSON Schema of a scenario file (for editors: yaml-language-server, VS Code)."""
    doc = json_schema()
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if out is None:
        print(text, end="")
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--out: cannot write {out}: {exc.strerror or type(exc).__name__}") from None
    if json_:
        emit_json({"path": str(out)})
    else:
        print(f"wrote {out}")
