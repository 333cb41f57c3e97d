"""Fuzz harness (issue 10, item 5): hypothesis mutates ``tests/data/tiny.yaml`` and the command
line of every command, and each input must end in exit 0 with valid outputs or exit 2 with one
``error:`` line: never a traceback (an exception escaping :func:`shatterbelt.cli.main.main`), a
hang (a SIGALRM after :data:`HANG_S` seconds) or another exit status.

Everything runs in-process through ``main(argv)`` with tiny runs (``--scale 0.5 --until 2010-08``
and the like).  ``test_fuzz_count`` (last in the file) checks that at least
:data:`MIN_INPUTS` inputs were generated and prints how many.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import os
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shatterbelt.cli.main import main
from tests.conftest import TINY

pytestmark = pytest.mark.slow  # about a minute: make test and CI run it, make test-fast leaves it out

HANG_S = 60
MIN_INPUTS = 500
COUNT: dict[str, int] = {"scenario": 0, "command": 0}
EXITS: dict[int, int] = {}
T0 = time.perf_counter()

BASE: dict[str, Any] = yaml.safe_load(Path(TINY).read_text())
FAST = ["--scale", "0.5", "--until", "2010-08", "--quiet"]
RUN_FILES = {"panel.parquet", "metrics.csv", "events.parquet", "events.csv", "summary.json", "scenario.resolved.yaml",
             "run_info.json"}


class Hang(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise Hang(f"no answer within {HANG_S} s")


@contextlib.contextmanager
def sandbox() -> Iterator[Path]:
    """A fresh working folder (a command without --out writes to ./out) and a hang alarm."""
    old = os.getcwd()
    prev = signal.signal(signal.SIGALRM, _alarm)
    with tempfile.TemporaryDirectory() as d:
        os.chdir(d)
        signal.alarm(HANG_S)
        try:
            yield Path(d)
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, prev)
            os.chdir(old)


def call(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(argv)
    return rc, out.getvalue(), err.getvalue()


def check(argv: list[str], rc: int, out: str, err: str) -> None:
    """Exit 0 with valid output, or exit 2 with exactly one ``error:`` line."""
    EXITS[rc] = EXITS.get(rc, 0) + 1
    assert "Traceback" not in err, (argv, err)
    if rc == 2:
        lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("warning: ")]
        assert len(lines) == 1 and lines[0].startswith("error: "), (argv, err)
        return
    assert rc == 0, (argv, rc, err)
    as_flag = any(a == "--json" and argv[i - 1] not in TAKES_VALUE for i, a in enumerate(argv) if i)
    if as_flag and "--help" not in argv and "--version" not in argv:
        json.loads(out)  # exactly one JSON document


# ---------------------------------------------------------------------------- scenario mutations
def _leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path] if path else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _leaves(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _leaves(v, (*path, i))
    return out


PATHS = _leaves(BASE)


def _get(path: tuple[Any, ...]) -> Any:
    node: Any = BASE
    for k in path:
        node = node[k]
    return node


NUMERIC_PATHS = [p for p in PATHS if isinstance(_get(p), (int, float)) and not isinstance(_get(p), bool)]
HOSTILE = st.one_of(
    st.sampled_from([None, True, False, 0, -1, 1, 2, 0.5, -0.5, 1e308, -1e308, 10**30, math.inf, -math.inf, math.nan,
                     "", "abc", "2010-07", "9999-99", "../../x", "R1", "a", [], {}, [1, 0], [0, 1], {"value": 1},
                     {"value": "x", "range": [0, 1], "source": "s"}, "\x00", "é" * 3]),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
)


@st.composite
def mutated_scenario(draw: st.DrawFn) -> dict[str, Any]:
    doc = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["scale", "scale", "drop", "replace"]))
        path = draw(st.sampled_from(NUMERIC_PATHS if op == "scale" else PATHS))
        parent = doc
        try:
            for k in path[:-1]:
                parent = parent[k]
            value = parent[path[-1]]
            if op == "scale" and isinstance(value, (int, float)) and not isinstance(value, bool):
                # in or near the domain: the mutations that get as far as a run
                parent[path[-1]] = type(value)(value * draw(st.sampled_from([0, 0.5, 0.9, 1.1, 2, 10])))
            elif op == "drop" and isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = draw(HOSTILE)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced the path
    return doc


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(doc=mutated_scenario())
def test_fuzz_scenario_mutations(doc: dict[str, Any]) -> None:
    COUNT["scenario"] += 1
    with sandbox() as d:
        f = d / "s.yaml"
        f.write_text(yaml.safe_dump(doc, allow_unicode=True))
        argv = ["validate", str(f)]
        rc, out, err = call(argv)
        check(argv, rc, out, err)
        if rc != 0:
            return
        argv = ["run", str(f), *FAST, "--no-report", "--out", str(d / "r")]
        rc, out, err = call(argv)
        check(argv, rc, out, err)
        if rc == 0:
            s = json.loads((d / "r" / "summary.json").read_text())
            assert {p.name for p in (d / "r").iterdir()} == RUN_FILES
            net_in = s["foreign_fighters_arrived"] - s["foreign_fighters_departed"]
            assert s["population_start"] + net_in == s["population_end"] + s["deaths_total"]


# ---------------------------------------------------------------------------- command-line mutations
EXP = ["--scale", "0.5", "--until", "2010-09", "--workers", "1", "--quiet"]
#: a valid, fast command line of every command (the fuzzer mutates them)
COMMANDS: dict[str, list[str]] = {
    "run": ["run", TINY, *FAST, "--no-report", "--out", "r"],
    "scenarios": ["scenarios"],
    "validate": ["validate", TINY],
    "params": ["params", TINY],
    "model": ["model"],
    "election": ["election", "iraq-2010"],
    "formation": ["formation", "iraq-2010", "--runs", "2"],
    "ensemble": ["ensemble", TINY, "--runs", "2", *EXP, "--no-report", "--out", "e"],
    "compare": ["compare", TINY, TINY, "--runs", "2", *EXP, "--out", "c"],
    "sensitivity": ["sensitivity", TINY, "--vary", "economy.*", "--groups", "parameter", "--trajectories", "2",
                    "--seeds", "1", *EXP, "--out", "s"],
    "epstein": ["epstein", "run", "--width", "10", "--height", "10", "--steps", "5"],
    "report": ["report", "nowhere"],
    "version": ["--version"],
}
FLAGS = ["--scale", "--until", "--seed", "--out", "--set", "--params", "--runs", "--json", "--quiet", "--workers",
         "--backend", "--first-divisor", "--rule", "--scheduler", "--connect-timeout", "--width", "--height",
         "--steps", "--vary", "--rebuild", "--help", "--no-report"]
#: the options that take a value (``--out --json`` names a folder "--json")
TAKES_VALUE = {"--scale", "--until", "--seed", "--out", "--set", "--params", "--runs", "--workers", "--backend",
               "--first-divisor", "--rule", "--scheduler", "--connect-timeout", "--width", "--height", "--steps",
               "--vary", "--scenario"}
VALUES = ["0", "1", "2", "-1", "0.5", "1e-9", "1e308", "nan", "inf", "-inf", "abc", "", "2010-08", "2010-13", "1999-01",
          "2099-01", "9" * 25, "economy.corruption=2", "economy.corruption=-1", "economy.corruption=nan",
          "x=true", "name=../../x", "no.such.path=1", "=", "actors.ins.size=-5", "/dev/null", "/dev/zero", "/proc/x",
          "numpy", "numba", "gpu", "::::garbage", "tcp://127.0.0.1:1", TINY, "iraq-2010", "iraq-2010+us-stays",
          "+nope", "é", "--json", "-"]


@st.composite
def mutated_command(draw: st.DrawFn) -> list[str]:
    argv = list(COMMANDS[draw(st.sampled_from(sorted(COMMANDS)))])
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["replace", "drop", "add", "add_flag"]))
        if op == "replace" and len(argv) > 1:
            argv[draw(st.integers(1, len(argv) - 1))] = draw(st.sampled_from(VALUES))
        elif op == "drop" and len(argv) > 1:
            argv.pop(draw(st.integers(1, len(argv) - 1)))
        elif op == "add":
            argv.append(draw(st.sampled_from(VALUES)))
        else:
            argv += [draw(st.sampled_from(FLAGS)), draw(st.sampled_from(VALUES))]
    # keep every input small: no full-scale Iraq, no big ensembles, no large Epstein grids
    for i, a in enumerate(argv[:-1]):
        nxt = argv[i + 1]
        if a in ("--runs", "--width", "--height", "--steps") and nxt.isdigit() and int(nxt) > 50:
            argv[i + 1] = "3"
    if argv and argv[0] not in ("epstein", "--version") and "--scale" not in argv:
        argv += ["--scale", "0.5"]
    return argv


def _slow_iraq(argv: list[str]) -> bool:
    """An Iraq run at a scale that would take minutes (the fuzz keeps to small inputs)."""
    tiny = TINY in argv
    try:
        scale = float(argv[argv.index("--scale") + 1]) if "--scale" in argv else 0.01
    except (ValueError, IndexError):
        return False
    return not tiny and argv[0] in ("run", "ensemble", "compare", "sensitivity") and scale > 0.01


@settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(argv=mutated_command())
def test_fuzz_command_lines(argv: list[str]) -> None:
    if _slow_iraq(argv):
        argv = [*argv, "--scale", "0.001"]
    COUNT["command"] += 1
    with sandbox():
        rc, out, err = call(argv)
        check(argv, rc, out, err)


def test_fuzz_count() -> None:
    total = sum(COUNT.values())
    wall = time.perf_counter() - T0
    print(f"\nfuzz: {total} generated inputs ({COUNT['scenario']} scenario mutations, {COUNT['command']} command lines) "
          f"in {wall:.0f} s; exit statuses of the {sum(EXITS.values())} commands: {dict(sorted(EXITS.items()))}")
    if total == 0:
        pytest.skip("the fuzz tests were not selected")
    assert total >= MIN_INPUTS
