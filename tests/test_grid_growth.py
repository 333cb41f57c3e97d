"""Sweeps and growth: full factorial --grid designs, growing a stored ensemble without touching its
runs, and reading a folder while a writer holds it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shatterbelt.cli.main import main
from shatterbelt.errors import UsageError
from shatterbelt.experiments.design import grid_design, parse_grid
from shatterbelt.experiments.store import ResultStore, Snapshot
from shatterbelt.resolve import load_scenario

TINY_YAML = str(Path(__file__).parent / "data" / "tiny.yaml")
FAST = ["--scale", "0.02", "--until", "2011-01", "--workers", "1", "--quiet", "--no-report"]
GRID = ["--grid", "parameters.legitimacy.base=0.4,0.6", "--grid", "population.fighting_age_share=0.2,0.25,0.3"]


def run_files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted((out / "runs").rglob("*")) if p.is_file()}


def test_grid_design_is_a_full_factorial_times_seeds() -> None:
    sc = load_scenario(TINY_YAML)
    d = grid_design(sc, [GRID[1], GRID[3]], seeds=2, seed=5)
    assert d.method == "grid" and d.n_runs == 12 and d.samples.shape == (6, 2)
    points = {tuple(r) for r in d.samples.tolist()}
    assert points == {(a, b) for a in (0.4, 0.6) for b in (0.2, 0.25, 0.3)}
    assert [d.run_sample.count(j) for j in range(6)] == [2] * 6
    assert d.run_seed == list(range(5, 17))
    with pytest.raises(UsageError, match="did you mean parameters.legitimacy.base"):
        grid_design(sc, ["parameters.legitimacy.bse=1"])
    with pytest.raises(UsageError, match="given twice"):
        parse_grid(["a=1,1"])


def test_grid_ensemble_stores_every_point_and_grows_by_seeds(tmp_path: Path, capsys) -> None:
    out = tmp_path / "grid"
    assert main(["ensemble", TINY_YAML, *GRID, *FAST, "--out", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["runs"] == 6 and doc["design"] == "grid"
    before = run_files(out)
    assert main(["ensemble", TINY_YAML, *GRID, "--seeds", "2", *FAST, "--out", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["runs"] == 12 and doc["computed_now"] == 6 and doc["grown_from"] == 6
    after = run_files(out)
    assert {k: after[k] for k in before} == before
    with Snapshot(out) as snap:
        df = snap.query('SELECT "parameters.legitimacy.base" AS a, "population.fighting_age_share" AS b, '
                        "count(*) AS n, count(DISTINCT seed) AS s FROM parameters GROUP BY a, b")
    assert len(df) == 6 and (df["n"] == 2).all() and (df["s"] == 2).all()
    # --runs must agree with the grid
    assert main(["ensemble", TINY_YAML, *GRID, "--runs", "5", *FAST, "--out", str(tmp_path / "x")]) == 2
    assert "6 points x 1 seeds = 6" in capsys.readouterr().err


@pytest.mark.parametrize("sample", ["none", "lhs"])
def test_growing_8_to_10_runs_keeps_the_first_8_byte_identical(sample: str, tmp_path: Path, capsys) -> None:
    out = tmp_path / "ens"
    args = ["ensemble", TINY_YAML, "--sample", sample, *FAST, "--out", str(out)]
    assert main([*args, "--runs", "8"]) == 0
    capsys.readouterr()
    before = run_files(out)
    manifest8 = json.loads((out / "manifest.json").read_text())
    assert main([*args, "--runs", "10", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["computed_now"] == 2 and doc["stored"] == 10 and doc["grown_from"] == 8
    after = run_files(out)
    assert len({k.split("/")[1] for k in after}) == 10
    assert {k: after[k] for k in before} == before
    manifest10 = json.loads((out / "manifest.json").read_text())
    assert manifest10["runs"][:8] == manifest8["runs"]
    assert manifest10["design"]["samples"][:len(manifest8["design"]["samples"])] == manifest8["design"]["samples"]
    # a change of design is still refused
    assert main([*args, "--runs", "10", "--seed", "1"]) == 2
    assert "holds a different ensemble" in capsys.readouterr().err


def test_a_reader_works_while_a_writer_holds_the_store(tmp_path: Path) -> None:
    out = tmp_path / "ens"
    assert main(["ensemble", TINY_YAML, "--runs", "3", "--sample", "lhs", *FAST, "--out", str(out)]) == 0
    writer = ResultStore(out).open()
    try:
        with pytest.raises(Exception, match="in use by another process"):
            ResultStore(out).open()  # a second writer is refused, as before
        with Snapshot(out) as snap:
            assert snap.query("SELECT count(*) AS n FROM runs")["n"][0] == 3
            wide = snap.metrics_wide(TINY_YAML)
            assert len(wide) == 3 and "deaths.total" in wide
            n_panel = snap.query("SELECT count(DISTINCT run_id) AS n FROM panel")["n"][0]
            assert n_panel == 3
            assert snap.query("SELECT * FROM parameters").equals(writer.query("SELECT * FROM parameters"))
    finally:
        writer.close()


def test_policies_x_scenarios_pairs_every_grid_point(tmp_path: Path, capsys) -> None:
    other = tmp_path / "tiny-b.yaml"
    other.write_text(Path(TINY_YAML).read_text(encoding="utf-8"), encoding="utf-8")
    out = tmp_path / "px"
    assert main(["ensemble", TINY_YAML, "--also", str(other), GRID[0], GRID[1], *FAST, "--out", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["scenarios"] == [TINY_YAML, str(other)] and set(doc["metrics_by_scenario"]) == set(doc["scenarios"])
    with Snapshot(out) as snap:
        df = snap.query('SELECT scenario, "parameters.legitimacy.base" AS a, seed FROM parameters ORDER BY scenario, a')
    assert len(df) == 4
    # the same points and seeds in both scenarios (paired runs)
    a, b = (df[df["scenario"] == s][["a", "seed"]].reset_index(drop=True) for s in doc["scenarios"])
    assert a.equals(b) and sorted(a["a"]) == [0.4, 0.6]
