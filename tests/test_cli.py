"""The command line: --json gives one JSON document; bad input gives one line on stderr, exit 2, no traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from shatterbelt.cli.main import main
from tests.conftest import TINY


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    rc = main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


def test_run_json_and_files(capsys, tmp_path):
    rc, out, err = run_cli(capsys, "run", TINY, "--scale", "1", "--seed", "3", "--out", str(tmp_path), "--json")
    assert rc == 0, err
    doc = json.loads(out)
    s = doc["summary"]
    for key in (
        "scenario", "seed", "scale", "agents", "months", "civilian_deaths_by_year", "battle_deaths_by_year",
        "events_by_type", "peak_displaced", "final_control", "microstates_by_month", "army_collapses",
        "legitimacy_final", "patron_influence_final", "civil_war_years", "population_start",
        "population_end", "deaths_total",
    ):
        assert key in s, key
    assert s["seed"] == 3 and s["agents"] == 60_000
    for name in ("panel.parquet", "metrics.csv", "events.parquet", "events.csv", "summary.json",
                 "scenario.resolved.yaml"):
        assert (tmp_path / name).exists(), name
    assert json.loads((tmp_path / "summary.json").read_text()) == s
    import pyarrow.parquet as pq

    ev = pq.read_table(tmp_path / "events.parquet")
    assert ev.column_names[:8] == [
        "event_id_cnty", "event_date", "year", "time_precision", "disorder_type", "event_type", "sub_event_type",
        "actor1",
    ] and len(ev.column_names) == 31  # ACLED's columns (tests/test_exports.py checks them all)
    assert set(ev.column("event_type").to_pylist()) <= {
        "Battles", "Explosions/Remote violence", "Violence against civilians", "Strategic developments"
    }
    panel = pq.read_table(tmp_path / "panel.parquet")
    assert panel.column_names == ["month", "region_code", "region_name", "measure", "subject", "value"]


def test_run_until_and_set(capsys, tmp_path):
    rc, out, _ = run_cli(
        capsys, "run", TINY, "--scale", "1", "--until", "2010-12", "--set", "economy.corruption=0.1",
        "--out", str(tmp_path), "--json",
    )
    assert rc == 0
    s = json.loads(out)["summary"]
    assert s["months"] == 6 and s["end"] == "2010-12"
    assert "overridden by --set" in (tmp_path / "scenario.resolved.yaml").read_text()


def test_table_output(capsys, tmp_path):
    rc, out, _ = run_cli(capsys, "run", TINY, "--scale", "1", "--until", "2010-09", "--out", str(tmp_path))
    assert rc == 0
    assert "civilian deaths / year" in out and f"results in {tmp_path}" in out


def test_scenarios_validate_params_model_json(capsys):
    rc, out, _ = run_cli(capsys, "scenarios", "--json")
    items = json.loads(out)["scenarios"]
    names = [s["name"] for s in items]
    assert rc == 0 and "iraq-2010" in names and "iraq-2010+us-stays" in names
    politics = {s["name"] for s in items if s["kind"] == "politics"}
    assert politics == {"iraq-2005", "iraq-2010", "iraq-2014", "iraq-2018", "lebanon-2005"}
    assert all(s["description"] for s in items if s["kind"] == "politics")
    rc, out, _ = run_cli(capsys, "scenarios")
    assert rc == 0 and "iraq-2014" in out and "politics" in out
    rc, out, _ = run_cli(capsys, "validate", TINY, "--json")
    assert rc == 0 and json.loads(out)["valid"] is True
    rc, out, _ = run_cli(capsys, "params", "iraq-2010", "--json")
    assert rc == 0 and len(json.loads(out)["parameters"]) > 100
    rc, out, _ = run_cli(capsys, "model", "--json")
    steps = [m["module"] for m in json.loads(out)["process"]]
    assert steps[:3] == ["timeline", "politics", "economy"] and steps[-1] == "record"


@pytest.mark.parametrize(
    "args,needle",
    [
        (["run", "--scale", "0"], "scale: must be in (0, 1]"),
        (["run", "--scale", "1.5"], "scale: must be in (0, 1]"),
        (["run", "--scale", "lots"], "--scale"),
        (["run", "--seed", "-1"], "seed: must be >= 0"),
        (["run", "--until", "2010/09"], "until: '2010/09' is not a month"),
        (["run", "--until", "2030-01"], "outside the scenario"),
        (["run", "atlantis"], "unknown scenario"),
        (["run", "iraq-2010+nothing"], "unknown variant"),
        (["run", "--set", "economy.nope=1"], "no field 'nope'"),
        (["run", "--bogus"], "No such option"),
        (["run", "--backend", "gpu"], "backend: must be one of auto, numba, numpy"),
        (["ensemble", "--runs", "0"], "--runs: must be >= 1"),
        (["ensemble", "--scale", "2"], "--scale: must be in (0, 1]"),
        (["calibrate", "--until", "2012"], "--until: '2012' is not a month"),
        (["formation", "iraq-2010", "--seed", "-2"], "--seed: must be >= 0"),
        (["validate", "/nonexistent/file.yaml"], "file not found"),
    ],
)
def test_bad_input_is_one_line(capsys, args, needle):
    rc, out, err = run_cli(capsys, *args)
    assert rc == 2
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert needle in lines[0]
    assert "Traceback" not in err


def test_bad_scenario_file_in_subprocess(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(Path(TINY).read_text().replace("population: 20000", "population: -20000"))
    p = subprocess.run([sys.executable, "-m", "shatterbelt", "validate", str(bad)], capture_output=True, text=True)
    assert p.returncode == 2
    assert p.stderr.strip().count("\n") == 0
    assert "regions[0] (R1).population: must be >= 0" in p.stderr
    assert "Traceback" not in p.stderr


def test_version(capsys):
    from shatterbelt import __version__

    rc, out, err = run_cli(capsys, "--version")
    assert rc == 0 and out == f"shatterbelt {__version__}\n" and err == ""


def test_commands_are_the_documented_ones(capsys):
    rc, out, _ = run_cli(capsys, "--help")
    assert rc == 0
    listed = out[out.index("Commands:"):].split()
    for cmd in ("run", "scenarios", "validate", "params", "model", "election", "formation", "epstein",
                "ensemble", "compare", "claims", "backtest", "calibrate", "sensitivity", "report", "export", "new",
                "schema", "serve", "discover"):
        assert cmd in listed, cmd


def test_shared_options_mean_the_same_everywhere(capsys):
    helps = {}
    for cmd in ("run", "ensemble", "compare", "claims", "backtest", "sensitivity", "calibrate"):
        rc, out, _ = run_cli(capsys, cmd, "--help")
        assert rc == 0
        helps[cmd] = " ".join(out.split())
    for cmd, text in helps.items():
        assert "--scale <float> share of the population simulated (1.0 = every person)" in text, cmd
        assert "--set <list[str]> override a parameter: path=value (repeatable)" in text, cmd
        assert "--json print one JSON document on stdout" in text, cmd


def test_election_and_formation_default_to_iraq_2010_like_run(capsys):
    rc, out, err = run_cli(capsys, "election", "--json")
    assert rc == 0, err
    assert out == run_cli(capsys, "election", "iraq-2010", "--json")[1]
    assert json.loads(out)["total"] == 325
    rc, out, err = run_cli(capsys, "formation", "--runs", "2", "--json")
    assert rc == 0, err
    assert out == run_cli(capsys, "formation", "iraq-2010", "--runs", "2", "--json")[1]
    for cmd in ("run", "election", "formation", "params"):
        help_text = " ".join(run_cli(capsys, cmd, "--help")[1].split())
        assert "[default: iraq-2010]" in help_text, cmd


def test_workers_are_checked_before_any_run(capsys, tmp_path):
    rc, out, err = run_cli(capsys, "ensemble", TINY, "--runs", "1", "--workers", "0", "--out", str(tmp_path / "e"))
    assert rc == 2 and out == "" and err == "error: --workers: must be >= 1, got 0\n"
    assert not list((tmp_path / "e").glob("runs/*/run.json"))


def test_a_missing_extra_is_one_line(capsys, monkeypatch):
    from shatterbelt.cli import common

    monkeypatch.setitem(common.EXTRAS, "experiments", ("shatterbelt_no_such_module",))
    rc, out, err = run_cli(capsys, "ensemble", "--runs", "2")
    assert rc == 2 and out == ""
    assert err == "error: ensemble: needs the 'experiments' extra: pip install 'shatterbelt[experiments]'\n"
