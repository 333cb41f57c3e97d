"""No country in the engine: its code names no country, community, bloc, actor, patron or region of any
built-in scenario.  Lebanon and Iraq run through the same paths; what differs is scenario data."""

from __future__ import annotations

import ast
from pathlib import Path

import shatterbelt
from shatterbelt.modules import base as module_base
from shatterbelt.scenario.loader import builtin_scenarios, read_base
from shatterbelt.scenario.schema import ActorKind

SRC = Path(shatterbelt.__file__).parent
#: the engine (the month loop, its modules and kernels) and the politics layer
ENGINE = ["modules", "politics", "world.py", "sim.py", "kernels.py", "population.py", "resolve.py", "_fast.py",
          "_fast_kernels.py", "summary.py", "result.py", "outputs.py", "backend.py", "rng.py"]
#: the calibration script reproduces the values fitted on the Iraq 2010 formation: it names their source
EXEMPT = {"politics/calibrate.py"}


def _vocabulary() -> tuple[set[str], set[str]]:
    """(ids of the built-ins' communities, blocs, actors, patrons and regions; their countries and neighbours)."""
    ids: set[str] = set()
    countries: set[str] = set()
    for name in builtin_scenarios():
        raw = read_base(name)
        countries.add(str(raw.get("country", "")).lower())
        for key in ("communities", "regions", "blocs", "actors", "patrons"):
            for item in raw.get(key) or []:
                ids.add(str(item["id"]))
        for region in raw.get("regions") or []:
            for b in region.get("border") or []:
                countries.add(str(b).split(" (")[0].lower())
    # words the engine owns whatever the country: its module names and the actor kinds
    modules = {cls.name for cls in _subclasses(module_base.Module)}
    generic = modules | {k.value for k in ActorKind}
    return ids - generic, {c for c in countries if c}


def _subclasses(cls: type) -> set[type]:
    out = set()
    for sub in cls.__subclasses__():
        out.add(sub)
        out |= _subclasses(sub)
    return out


#: keyword arguments whose strings document (a parameter's provenance, a field's description)
PROSE = {"note", "source", "description", "help"}


def _string_constants(path: Path) -> list[tuple[int, str]]:
    """String literals of a module that are not documentation (docstrings, provenance notes, help)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg in PROSE:
            docs |= {id(n) for n in ast.walk(node.value) if isinstance(n, ast.Constant)}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docs.add(id(first.value))
    return [(n.lineno, n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs]


def test_the_vocabulary_covers_both_countries() -> None:
    ids, countries = _vocabulary()
    assert {"iraq", "lebanon", "syria", "iran", "israel"} <= countries
    assert {"aqi", "sons_of_iraq", "us_forces", "hezbollah", "maronite", "shia", "kurd", "us", "IQ-AN", "LB-KJ"} <= ids


def test_engine_and_politics_code_names_no_country_community_bloc_or_actor() -> None:
    import shatterbelt.modules  # noqa: F401 - registers every module class

    ids, countries = _vocabulary()
    hits = []
    for entry in ENGINE:
        p = SRC / entry
        for f in ([p] if p.suffix == ".py" else sorted(p.glob("*.py"))):
            rel = f.relative_to(SRC).as_posix()
            if rel in EXEMPT:
                continue
            for line, s in _string_constants(f):
                if s in ids or any(c in s.lower() for c in countries):
                    hits.append(f"{rel}:{line}: {s[:60]!r}")
    assert not hits, "country-specific literals in the engine:\n" + "\n".join(hits)
