"""Modules own their state: one writer per field, declared reads, and a guard that catches foreign writes.

* Runs of ``tiny.yaml`` and of iraq-2010 (endogenous and scripted politics) at a small scale in
  check mode, where every module runs with the state of the others read-only: a module that
  writes a field it does not own fails the run.
* The guard itself: a module that writes another module's array in place, or assigns another
  module's field, raises.
* Declarations match the code: every field a module registers is in its ``STATE``, every
  declared field is registered, and every field of another module that a module's source reads
  is in its ``READS`` (a static scan of the source).
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import numpy as np
import pytest

from shatterbelt.modules import PROCESS, EndogenousPolitics, ScriptedPolitics
from shatterbelt.modules import strength as strength_mod
from shatterbelt.modules.base import Module
from shatterbelt.resolve import load_scenario
from shatterbelt.sim import Simulation
from shatterbelt.world import OwnershipError
from tests.conftest import TINY

ALL_MODULES = [c for c in PROCESS if c is not ScriptedPolitics] + [ScriptedPolitics, EndogenousPolitics]


@pytest.mark.parametrize(
    "spec,scale,seed,until",
    [
        (TINY, 1.0, 1, None),
        ("iraq-2010", 0.002, 3, None),
        ("iraq-2010+scripted-government", 0.002, 5, "2012-06"),
    ],
)
def test_no_module_writes_state_it_does_not_own(spec: str, scale: float, seed: int, until: str | None) -> None:
    sim = Simulation(load_scenario(spec), scale=scale, seed=seed, until=until, backend="numpy", check=True)
    res = sim.run()
    assert res.summary["months"] == sim.world.T


def test_check_mode_gives_the_same_results() -> None:
    a = Simulation(load_scenario(TINY), scale=1.0, seed=2, backend="numpy").run()
    b = Simulation(load_scenario(TINY), scale=1.0, seed=2, backend="numpy", check=True).run()
    assert a.panel.equals(b.panel) and a.summary == b.summary


def _sim_with(step_of_legitimacy) -> Simulation:  # noqa: ANN001
    sim = Simulation(load_scenario(TINY), scale=1.0, seed=1, backend="numpy", check=True)
    leg = sim.module("legitimacy")
    leg.step = step_of_legitimacy.__get__(leg)  # type: ignore[method-assign]
    return sim


def test_guard_catches_an_in_place_write_to_another_modules_array() -> None:
    def step(self: Module, t: int) -> None:
        self.world.cohesion[0] = 0.0  # the army's

    sim = _sim_with(step)
    with pytest.raises(ValueError, match="read-only"):
        sim.step()


def test_guard_catches_an_assignment_of_another_modules_field() -> None:
    def step(self: Module, t: int) -> None:
        self.world.microstates = 7  # control's

    sim = _sim_with(step)
    with pytest.raises(OwnershipError, match="legitimacy assigns 'microstates', which control owns"):
        sim.step()


def test_guard_catches_a_write_to_another_modules_month_log() -> None:
    def step(self: Module, t: int) -> None:
        self.world.log.recruits_a += 1.0  # mobilization's

    sim = _sim_with(step)
    with pytest.raises(ValueError, match="read-only"):
        sim.step()


def test_outside_check_mode_nothing_is_locked() -> None:
    sim = Simulation(load_scenario(TINY), scale=1.0, seed=1, backend="numpy")
    sim.step()
    assert sim.world.cohesion.flags.writeable


# ---------------------------------------------------------------------------- declarations
def _fields() -> dict[str, str]:
    """Registered field -> owner, over both politics steps."""
    out: dict[str, str] = {}
    for spec in (TINY, "iraq-2010"):
        w = Simulation(load_scenario(spec), scale=0.001 if spec != TINY else 0.2, seed=0, backend="numpy").world
        out.update({f.name: f.owner for f in w.fields.values()})
    return out


def _world_reads(tree: ast.AST) -> set[str]:
    """Attribute names read from the world in a piece of source: ``w.x``, ``world.x``, ``self.world.x``,
    ``w.log.x`` and ``w.prev_log.x`` (month-log entries)."""
    names: set[str] = set()

    def is_world(node: ast.AST) -> bool:
        if isinstance(node, ast.Name) and node.id in ("w", "world"):
            return True
        return isinstance(node, ast.Attribute) and node.attr == "world" and isinstance(node.value, ast.Name)

    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            if is_world(node.value):
                names.add(node.attr)
            elif isinstance(node.value, ast.Attribute) and node.value.attr in ("log", "prev_log") and is_world(node.value.value):
                names.add(node.attr)
    # ``lg = w.log`` / ``prev = w.prev_log`` aliases
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Attribute) and node.value.attr in ("log", "prev_log"):
            alias = {t.id for t in node.targets if isinstance(t, ast.Name)}
            for sub in ast.walk(tree):
                if isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name) and sub.value.id in alias:
                    names.add(sub.attr)
    return names


def _reads_of(cls: type[Module]) -> set[str]:
    src_file = Path(inspect.getfile(cls))
    tree = ast.parse(src_file.read_text())
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name in {c.__name__ for c in cls.__mro__}:
            names |= _world_reads(node)
        elif isinstance(node, ast.FunctionDef):  # helpers of the same file
            names |= _world_reads(node)
    if "compute_strength" in src_file.read_text() or "foreign_deployment" in src_file.read_text():
        names |= _world_reads(ast.parse(Path(inspect.getfile(strength_mod)).read_text()))
    return names


@pytest.fixture(scope="module")
def fields() -> dict[str, str]:
    return _fields()


@pytest.mark.parametrize("cls", ALL_MODULES, ids=lambda c: c.__name__)
def test_declared_state_is_what_the_module_registers(cls: type[Module], fields: dict[str, str]) -> None:
    owned = {n for n, o in fields.items() if o == cls.name}
    assert set(cls.STATE) <= owned, f"{cls.__name__}.STATE declares what it never registers"
    assert len(set(cls.STATE)) == len(cls.STATE)


@pytest.mark.parametrize("cls", ALL_MODULES, ids=lambda c: c.__name__)
def test_reads_of_other_modules_state_are_declared(cls: type[Module], fields: dict[str, str]) -> None:
    foreign = {n for n in _reads_of(cls) if n in fields and fields[n] != cls.name}
    missing = foreign - set(cls.READS)
    assert not missing, f"{cls.__name__} reads {sorted(missing)} without declaring them in READS"
    unknown = [n for n in cls.READS if n not in fields or fields[n] == cls.name]
    assert not unknown, f"{cls.__name__}.READS names {unknown}, which are not other modules' state"


def test_every_field_has_one_owner(fields: dict[str, str]) -> None:
    owners: dict[str, set[str]] = {}
    for cls in ALL_MODULES:
        for n in cls.STATE:
            owners.setdefault(n, set()).add(cls.name)
    assert all(len(o) == 1 for o in owners.values())


def test_arrays_are_registered_with_their_layout() -> None:
    w = Simulation(load_scenario(TINY), scale=0.2, seed=0, backend="numpy").world
    for f in w.fields.values():
        if f.shape is not None and not f.log:
            v = getattr(w, f.name)
            assert isinstance(v, np.ndarray) and v.shape == f.shape, f.name


def test_guard_catches_a_write_to_the_worlds_static_arrays() -> None:
    def step(self: Module, t: int) -> None:
        self.world.quality[0] = 2.0  # a scenario-derived index array: nobody's to change

    sim = _sim_with(step)
    with pytest.raises(ValueError, match="read-only"):
        sim.step()
