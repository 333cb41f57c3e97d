"""Shared fixtures: cached runs so that many tests read one simulation instead of re-running it."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from shatterbelt import Result, Simulation, load_scenario

TINY = str(Path(__file__).parent / "data" / "tiny.yaml")

#: Tests that ``make test-fast`` (``pytest -m "not slow"``) leaves out: a file, a test (all its
#: parameters) or one parametrized case.  Each takes seconds (ensembles, subprocesses, many
#: runs, Mesa, numba-vs-NumPy comparisons); ``make test`` and CI run them.  A test may also be
#: marked in its own file with ``@pytest.mark.slow``.
SLOW = (
    "tests/test_calibration_window.py",
    "tests/test_epstein_digest.py",
    "tests/test_epstein_mesa.py",
    "tests/test_experiments_commands.py",
    "tests/test_experiments_dask.py",
    "tests/test_levers.py",
    "tests/test_report.py",
    "tests/test_scale_invariance.py",
    "tests/test_api.py::test_ensemble_fan_table_on_tiny",
    "tests/test_api.py::test_docstring_examples_run[shatterbelt.experiments.public]",
    "tests/test_cli.py::test_bad_scenario_file_in_subprocess",
    "tests/test_determinism.py::test_same_seed_gives_byte_identical_files",
    "tests/test_epstein.py::test_numpy_fallback_identical_to_numba",
    "tests/test_epstein.py::test_invariants_hold_every_step",
    "tests/test_experiments_ensemble.py::test_local_pool_gives_the_same_database_as_one_process",
    "tests/test_experiments_ensemble.py::test_interrupted_ensemble_resumes_without_loss",
    "tests/test_experiments_ensemble.py::test_damaged_database_one_line_error_then_rebuild",
    "tests/test_experiments_ensemble.py::test_unreachable_scheduler_is_one_line",
    "tests/test_experiments_ensemble.py::test_another_ensemble_in_the_same_folder_is_refused",
    "tests/test_experiments_ensemble.py::test_json_output_is_one_document",
    "tests/test_fast.py::test_numba_and_numpy_give_identical_runs",
    "tests/test_fast.py::test_hardship_floor_is_safe",
    "tests/test_politics_cli.py::test_formation_json",
    "tests/test_politics_engine.py::test_vacuum_and_pm_vary_and_marginalization_emerges",
    "tests/test_politics_engine.py::test_2014_election_is_an_outcome",
    "tests/test_politics_formation.py::test_violence_shortens_the_vacuum",
    # the formation tests that share 200 formations of 2010 (`base`) or of other years (`oos`)
    *(f"tests/test_politics_formation.py::test_{t}" for t in (
        "2010_premiership", "2010_vacuum", "baseline_largest_list_leader_is_beaten",
        "agenda_control_and_iran_raise_maliki", "cabinet_split_of_maliki_governments", "milestones_in_order",
        "out_of_sample_within_factor_1_5", "out_of_sample_2014_within_factor_1_5", "out_of_sample_ordering",
        "out_of_sample_partial_ordering")),
    "tests/test_ensemble_identity.py::test_two_ensembles_started_together_one_completes",
    "tests/test_ensemble_identity.py::test_an_ensemble_opening_slowly_keeps_another_out",
    "tests/test_experiments_ensemble.py::test_a_stored_run_equals_the_same_run_alone",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the tests named in :data:`SLOW` as ``slow``."""
    for item in items:
        test = item.nodeid.split("[", 1)[0]
        if item.nodeid in SLOW or test in SLOW or test.split("::", 1)[0] in SLOW:
            item.add_marker(pytest.mark.slow)


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
