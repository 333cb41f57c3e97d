"""The package's import graph, read with ``ast`` (nothing is imported): no cycle, no upward
import between layers, no function-level import except of optional dependencies.

Layers, lowest first (a module may import its own layer and those below)::

    errors, rng, backend, data  ->  scenario  ->  politics  ->  population, world, kernels  ->  modules
    ->  resolve  ->  sim, result, outputs, summary, models  ->  experiments, report  ->  cli

An import inside a function is allowed only for an optional dependency (an extra: numba,
SciPy, DuckDB, Dask, ...) or for a module of ours that needs one when it is imported (such
as the experiments package, which needs the ``experiments`` extra).  Imports under
``if TYPE_CHECKING:`` are for annotations only and are not counted.  The package's
``__init__`` imports its public names lazily (``__getattr__``) and imports nothing else.

``KNOWN_VIOLATIONS`` lists what remains to be fixed, each with a reason; the test fails on
any violation not in it, and warns about entries that no longer occur (remove them).
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PKG = "shatterbelt"

#: top-level component of the package (first name after ``shatterbelt.``) -> layer
LAYERS: dict[str, int] = {
    PKG: 0, "errors": 0, "rng": 0, "backend": 0, "data": 0,
    "scenario": 1,
    "politics": 2,
    "population": 3, "world": 3, "kernels": 3, "_fast": 3, "_fast_kernels": 3, "_jit": 3,
    "modules": 4,
    "resolve": 5,
    # report reads only what runs write (and a Result held in memory), so Result.plot can use it
    "sim": 6, "result": 6, "outputs": 6, "summary": 6, "models": 6, "report": 6, "exports": 6,
    "experiments": 7,
    "cli": 8, "__main__": 8, "serve": 8,
}

#: third-party packages that only an extra installs (or that may be absent on a platform)
OPTIONAL = {
    "numba", "llvmlite", "scipy", "duckdb", "SALib", "dask", "distributed", "mesa", "matplotlib",
    "psutil", "playwright", "resvg_py", "xarray", "h5netcdf",
}

#: violations still present, each with why it is there; shrink this list, never grow it
KNOWN_VIOLATIONS: dict[str, str] = {
}


@dataclass(frozen=True)
class Imp:
    importer: str  # module that imports
    target: str  # module imported (an internal module, or a third-party top-level name)
    function: str | None  # enclosing function, None at module level
    line: int
    guarded: bool = False  # under an `if` or `try` (e.g. `if have_numba(): import numba`)


def module_name(path: Path) -> str:
    rel = path.relative_to(SRC).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted((SRC / PKG).rglob("*.py")) if "__pycache__" not in p.parts}


def _is_type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING"
    )


def _walk(node: ast.AST, function: str | None, guarded: bool) -> Iterator[tuple[ast.AST, str | None, bool]]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child):
            for sub in child.orelse:
                yield from _walk_one(sub, function, True)
            continue
        yield from _walk_one(child, function, guarded or isinstance(node, ast.If | ast.Try))


def _walk_one(node: ast.AST, function: str | None, guarded: bool) -> Iterator[tuple[ast.AST, str | None, bool]]:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        yield from _walk(node, f"{function}.{node.name}" if function else node.name, guarded)
    elif isinstance(node, ast.Import | ast.ImportFrom):
        yield node, function, guarded
    else:
        yield from _walk(node, function, guarded)


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> list[Imp]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_pkg = path.name == "__init__.py"
    out: list[Imp] = []
    for node, function, guarded in _walk(tree, None, False):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            assert isinstance(node, ast.ImportFrom)
            if node.level:
                base = name.split(".") if is_pkg else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            targets = []
            for a in node.names:
                sub = f"{mod}.{a.name}"
                targets.append(sub if sub in modules else mod)
        for t in targets:
            if t == "__future__":
                continue
            if t.split(".")[0] == PKG:
                while t not in modules and "." in t:  # `import shatterbelt.x.y as z` of an attribute
                    t = t.rsplit(".", 1)[0]
            else:
                t = t.split(".")[0]
            out.append(Imp(name, t, function, node.lineno, guarded))
    return out


@pytest.fixture(scope="module")
def graph() -> list[Imp]:
    modules = all_modules()
    return [imp for name, path in modules.items() for imp in imports_of(name, path, modules)]


def component(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def internal(imp: Imp) -> bool:
    return imp.target.split(".")[0] == PKG


def needs_optional(graph: list[Imp]) -> set[str]:
    """Our modules that import an optional dependency at module level (not under an ``if`` or
    ``try``), directly or through ours."""
    needs = {i.importer for i in graph if i.function is None and not i.guarded and i.target in OPTIONAL}
    changed = True
    while changed:
        changed = False
        for i in graph:
            if i.function is None and not i.guarded and internal(i) and i.target in needs and i.importer not in needs:
                needs.add(i.importer)
                changed = True
    # a package needs what its __init__ needs; a submodule is imported after its package
    for m in list(needs):
        needs.update(x for x in all_modules() if x.startswith(m + ".") and m != PKG)
    return needs


def find_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def violations(graph: list[Imp]) -> dict[str, str]:
    """Every violation as key -> where it is (file:line)."""
    found: dict[str, str] = {}
    inner = [i for i in graph if internal(i) and i.target != i.importer]
    # (a) cycles, between modules and between top-level components
    mod_edges: dict[str, set[str]] = {}
    comp_edges: dict[str, set[str]] = {}
    for i in inner:
        mod_edges.setdefault(i.importer, set()).add(i.target)
        a, b = component(i.importer), component(i.target)
        if a != b and i.target != PKG:
            comp_edges.setdefault(a, set()).add(b)
    for cyc in find_cycles(mod_edges):
        found[f"cycle: {' <-> '.join(cyc)}"] = "modules"
    for cyc in find_cycles(comp_edges):
        found[f"cycle: {' <-> '.join(cyc)}"] = "packages"
    # (b) upward imports
    for i in inner:
        a, b = component(i.importer), component(i.target)
        if a not in LAYERS or b not in LAYERS:
            found[f"unlayered: {a if a not in LAYERS else b}"] = f"{i.importer}:{i.line}"
        elif LAYERS[b] > LAYERS[a]:
            found[f"upward: {i.importer} -> {i.target}"] = f"{i.importer}:{i.line}"
    # (c) function-level imports
    optional = needs_optional(graph)
    for i in graph:
        if i.function is None:
            continue
        if i.target in OPTIONAL or (internal(i) and i.target in optional):
            continue
        found[f"function-level: {i.importer}.{i.function} imports {i.target}"] = f"{i.importer}:{i.line}"
    return found


def test_the_graph_is_read(graph: list[Imp]) -> None:
    targets = {(i.importer, i.target) for i in graph}
    assert ("shatterbelt.sim", "shatterbelt.result") in targets
    assert ("shatterbelt.cli.main", "shatterbelt.cli.run") in targets
    assert all(component(m) in LAYERS for m in all_modules()), "a new top-level module needs a layer in LAYERS"


def test_layers_cycles_and_function_level_imports(graph: list[Imp]) -> None:
    found = violations(graph)
    new = {k: v for k, v in found.items() if k not in KNOWN_VIOLATIONS}
    stale = [k for k in KNOWN_VIOLATIONS if k not in found]
    if stale:
        warnings.warn(f"fixed, remove from KNOWN_VIOLATIONS: {stale}", stacklevel=1)
    assert not new, "import rules broken:\n" + "\n".join(f"  {k}  ({v})" for k, v in sorted(new.items()))


def test_the_checker_catches_each_kind() -> None:
    fake = [
        Imp("shatterbelt.world", "shatterbelt.modules.army", None, 1),  # upward
        Imp("shatterbelt.modules.army", "shatterbelt.world", None, 1),  # with the above: a cycle
        Imp("shatterbelt.sim", "shatterbelt.errors", "Simulation.run", 1),  # function-level, not optional
        Imp("shatterbelt.cli.run", "scipy", "f", 1),  # optional: allowed
    ]
    found = violations(fake)
    assert "upward: shatterbelt.world -> shatterbelt.modules.army" in found
    assert "cycle: shatterbelt.modules.army <-> shatterbelt.world" in found
    assert "function-level: shatterbelt.sim.Simulation.run imports shatterbelt.errors" in found
    assert not any("scipy" in k for k in found)


def test_the_core_imports_without_any_extra(graph: list[Imp]) -> None:
    """The engine, the public API's core and the command line need no optional dependency to import."""
    optional = needs_optional(graph)
    core = {"shatterbelt", "shatterbelt.sim", "shatterbelt.result", "shatterbelt.resolve", "shatterbelt.outputs",
            "shatterbelt.cli.main", "shatterbelt.world", "shatterbelt.models.epstein", "shatterbelt.report"}
    assert core <= set(all_modules())
    assert not core & optional, sorted(core & optional)
