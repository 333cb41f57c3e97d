"""Shared fixtures: cached runs so that many tests read one simulation instead of re-running it."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from shatterbelt import Result, Simulation, load_scenario

TINY = str(Path(__file__).parent / "data" / "tiny.yaml")


@functools.lru_cache(maxsize=32)
def cached_run(spec: str, scale: float, seed: int, until: str | None = None, sets: tuple[str, ...] = ()) -> Result:
    """One run per distinct argument set for the whole session."""
    return Simulation(load_scenario(spec, list(sets)), scale=scale, seed=seed, until=until).run()


@pytest.fixture(scope="session")
def tiny_path() -> str:
    return TINY


@pytest.fixture(scope="session")
def default_run() -> Result:
    """The default scenario at the default scale, as `shatterbelt run --seed 7` runs it."""
    return cached_run("iraq-2010", 0.01, 7)
