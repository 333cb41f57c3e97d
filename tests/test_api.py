"""The public Python API: ``from shatterbelt import load_scenario, Simulation, Result, run, Ensemble``."""

from __future__ import annotations

import doctest
import importlib
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import shatterbelt
from shatterbelt import Ensemble, Result, Simulation, load_scenario, run
from shatterbelt.errors import UsageError
from tests.conftest import TINY, cached_run

#: modules whose docstring examples are the public API's documentation; each must run
PUBLIC_MODULES = ("shatterbelt", "shatterbelt.result", "shatterbelt.sim", "shatterbelt.experiments.public")


def test_public_names_import_from_the_package() -> None:
    assert set(shatterbelt.__all__) >= {"load_scenario", "Simulation", "Result", "run", "Ensemble", "__version__"}
    for name in shatterbelt.__all__:
        assert getattr(shatterbelt, name) is not None
    assert Result.__module__ == "shatterbelt.result"
    with pytest.raises(AttributeError):
        _ = shatterbelt.no_such_name  # type: ignore[attr-defined]


def test_importing_the_package_loads_no_engine() -> None:
    code = "import sys, shatterbelt; print(any(m.startswith('shatterbelt.') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_ensemble_without_the_experiments_extra_names_the_extra() -> None:
    code = (
        "import sys\n"
        "sys.modules['scipy'] = sys.modules['duckdb'] = None  # as if the extra were not installed\n"
        "import shatterbelt\n"
        "assert shatterbelt.Simulation\n"
        "try:\n"
        "    shatterbelt.Ensemble\n"
        "except ModuleNotFoundError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "needs the 'experiments' extra" in out and "pip install 'shatterbelt[experiments]'" in out


def test_sim_exports_only_its_own_names() -> None:
    import shatterbelt.sim as sim

    assert sim.__all__ == ["Simulation", "Result", "run"]


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_docstring_examples_run(module: str) -> None:
    res = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert res.attempted > 0, f"{module} has no examples"
    assert res.failed == 0, f"{module}: {res.failed} of {res.attempted} examples failed (see the captured output)"


@pytest.fixture(scope="module")
def tiny() -> Result:
    return cached_run(TINY, 0.05, 1)


def test_run_is_simulation_run() -> None:
    a = run(load_scenario(TINY), scale=0.02, seed=3, until="2010-12")
    b = Simulation(load_scenario(TINY), scale=0.02, seed=3, until="2010-12").run()
    assert a.summary == b.summary
    assert a.panel.equals(b.panel)


def test_repr_is_one_short_line(tiny: Result) -> None:
    r = repr(tiny)
    assert "\n" not in r and len(r) < 200
    civ = sum(tiny.summary["civilian_deaths_by_year"].values())
    assert r == (f"Result(scenario='tiny', seed=1, scale=0.05, months=2010-07..2011-12 (18), "
                 f"civilian_deaths={civ})")


def test_series_national_and_regional(tiny: Result) -> None:
    panel = tiny.to_pandas()
    s = tiny.series("civilian_deaths")
    assert isinstance(s, pd.Series) and s.name == "civilian_deaths" and s.index.name == "month"
    assert s.index.tolist() == tiny.scenario.months()
    assert s.sum() == sum(tiny.summary["civilian_deaths_by_year"].values())
    r1 = tiny.series("population", region="R1")
    rows = (panel.measure == "population") & (panel.subject == "") & (panel.region_code == "R1")
    expected = panel[rows]["value"].to_numpy()
    assert (r1.to_numpy() == expected).all()
    by_name = tiny.series("population", region=tiny.scenario.regions[0].name)
    assert by_name.equals(tiny.series("population", region=tiny.scenario.regions[0].id))


def test_series_errors_name_the_field(tiny: Result) -> None:
    with pytest.raises(UsageError, match="^metric: 'no_such_metric'"):
        tiny.series("no_such_metric")
    with pytest.raises(UsageError, match="^region: 'Atlantis'"):
        tiny.series("population", region="Atlantis")
    with pytest.raises(UsageError, match="recorded for R1"):
        tiny.series("control_pa")  # regional only


def test_to_pandas_tidy_and_wide(tiny: Result) -> None:
    tidy = tiny.to_pandas()
    assert tidy.columns.tolist() == ["month", "region_code", "region_name", "measure", "subject", "value"]
    assert len(tidy) == tiny.panel.num_rows
    wide = tiny.to_pandas(wide=True)
    assert wide.index.tolist() == tiny.scenario.months()
    assert wide.notna().sum().sum() == len(tidy)
    assert (wide["civilian_deaths"] == tiny.series("civilian_deaths")).all()
    assert (wide["population/R2"] == tiny.series("population", "R2")).all()


def test_write_gives_the_documented_files(tiny: Result, tmp_path: Path) -> None:
    paths = tiny.write(tmp_path / "out")
    assert set(paths) == {"panel.parquet", "metrics.csv", "events.parquet", "events.csv", "summary.json",
                          "scenario.resolved.yaml", "run_info.json"}
    assert all(Path(p).is_file() for p in paths.values())


def test_ensemble_fan_table_on_tiny(tmp_path: Path) -> None:
    pytest.importorskip("duckdb")
    ens = Ensemble(TINY, runs=3, seed=5, scale=0.02, until="2011-03")
    assert "runs=3" in repr(ens)
    res = ens.run(out=tmp_path / "ens")
    assert res.runs == 3 and res.computed == 3
    fan = res.quantiles("civilian_deaths")
    assert fan.index.tolist() == load_scenario(TINY).months()[:9]
    assert fan.columns.tolist() == ["n", "mean", "p05", "p25", "p50", "p75", "p95"]
    assert (fan["n"] == 3).all()
    assert ((fan["p05"] <= fan["p50"]) & (fan["p50"] <= fan["p95"])).all()
    # the runs are the plain runs with seeds 5, 6, 7
    singles = [run(load_scenario(TINY), scale=0.02, seed=s, until="2011-03").series("civilian_deaths")
               for s in (5, 6, 7)]
    assert fan["mean"].to_numpy() == pytest.approx(pd.concat(singles, axis=1).mean(axis=1).to_numpy())
    assert len(res.metrics) == 3
    # resuming reads the runs back instead of computing them again
    again = ens.run(out=tmp_path / "ens")
    assert again.computed == 0 and again.fan.equals(res.fan)
    with pytest.raises(UsageError, match="^metric:"):
        res.quantiles("nope")
