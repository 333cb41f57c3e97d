"""Ensembles end to end: same results whichever executor, a run equals itself alone, resume, bad inputs.

Tiny runs (scale 0.002, to mid-2011) keep this file to seconds; the CLI is called in-process
through ``shatterbelt.cli.main.main`` except where a real process must be interrupted.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shatterbelt.cli.main import main
from shatterbelt.experiments.store import ResultStore
from shatterbelt.resolve import load_scenario
from shatterbelt.sim import Simulation

TINY = ["--runs", "6", "--sample", "lhs", "--scale", "0.002", "--until", "2011-06", "--quiet"]
DETERMINISTIC = ("runs", "summaries", "metrics", "panel", "events")


def digests(out: Path) -> dict[str, str]:
    st = ResultStore(out).open()
    try:
        return {t: st.table_digest(t) for t in DETERMINISTIC}
    finally:
        st.close()


def cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    rc = main(args)
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


@pytest.fixture(scope="module")
def serial(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ens") / "serial"
    assert main(["ensemble", *TINY, "--workers", "1", "--out", str(out)]) == 0
    return out


def test_local_pool_gives_the_same_database_as_one_process(serial: Path, tmp_path: Path) -> None:
    pool = tmp_path / "pool"
    assert main(["ensemble", *TINY, "--workers", "2", "--out", str(pool)]) == 0
    a, b = digests(serial), digests(pool)
    assert a == b
    assert all(v != "absent" for v in a.values())
    st = ResultStore(pool).open()
    try:
        assert st.query("SELECT count(*) n, count(DISTINCT run_id) d FROM runs").values.tolist() == [[6, 6]]
        assert len(st.query("SELECT DISTINCT pid FROM timings")) >= 1
    finally:
        st.close()


def test_a_stored_run_equals_the_same_run_alone(serial: Path) -> None:
    st = ResultStore(serial).open()
    try:
        row = st.query("SELECT run_id, command FROM runs ORDER BY run_id LIMIT 1 OFFSET 2").iloc[0]
        stored = json.loads(st.query("SELECT summary FROM summaries WHERE run_id = ?", [row.run_id]).iloc[0, 0])
        panel = st.query("SELECT month, region, metric, value FROM panel WHERE run_id = ? ORDER BY ALL", [row.run_id])
    finally:
        st.close()
    argv = shlex.split(row.command)
    assert argv[:3] == ["shatterbelt", "run", "iraq-2010"]
    sets = [argv[i + 1] for i, a in enumerate(argv) if a == "--set"]
    seed = int(argv[argv.index("--seed") + 1])
    assert len(sets) > 100  # every sampled parameter is in the reproduction command
    res = Simulation(load_scenario("iraq-2010", sets), scale=0.002, seed=seed, until="2011-06").run()
    assert json.loads(json.dumps(res.summary)) == stored
    alone = res.panel.to_pandas().sort_values(["month", "region", "metric", "value"]).reset_index(drop=True)
    assert alone.equals(panel.reset_index(drop=True))


def test_interrupted_ensemble_resumes_without_loss(serial: Path, tmp_path: Path) -> None:
    out = tmp_path / "int"
    args = [sys.executable, "-m", "shatterbelt", "ensemble", *TINY, "--workers", "1", "--out", str(out)]
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        t0 = time.time()
        while time.time() - t0 < 60:
            if (out / "runs").exists() and any(not d.name.startswith(".") for d in (out / "runs").iterdir()):
                break
            if p.poll() is not None:
                break
            time.sleep(0.02)
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    if p.returncode == 130:
        assert "rerun the same command to resume" in err
        assert len(err.strip().splitlines()) <= 2
    else:  # it finished before the signal arrived
        assert p.returncode == 0
    assert main(["ensemble", *TINY, "--workers", "1", "--out", str(out)]) == 0
    assert digests(out) == digests(serial)


def test_damaged_database_one_line_error_then_rebuild(serial: Path, tmp_path: Path, capsys) -> None:
    import shutil

    out = tmp_path / "dmg"
    shutil.copytree(serial, out)
    (out / "results.duckdb").write_bytes(b"this is not a database" * 100)
    before = sorted(p.name for p in (out / "runs").iterdir())
    rc, _, err = cli(["ensemble", *TINY, "--workers", "1", "--out", str(out)], capsys)
    assert rc == 2 and err.count("\n") == 1 and "--rebuild" in err and "nothing was deleted" in err
    assert sorted(p.name for p in (out / "runs").iterdir()) == before
    assert (out / "results.duckdb").read_bytes().startswith(b"this is not")
    rc, _, err = cli(["ensemble", *TINY, "--workers", "1", "--out", str(out), "--rebuild"], capsys)
    assert rc == 0, err
    assert any(p.name.startswith("results.duckdb.damaged") for p in out.iterdir())
    assert digests(out) == digests(serial)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["ensemble", "no-such-scenario", "--runs", "2"], "unknown scenario"),
        (["ensemble", "iraq-2010+no-such-variant", "--runs", "2"], "unknown variant"),
        (["ensemble", "--runs", "0"], "--runs"),
        (["compare", "iraq-2010", "iraq-2010+us-stays", "--runs", "0"], "--runs"),
        (["claims", "--runs", "0"], "--runs"),
        (["backtest", "--runs", "0"], "--runs"),
        (["ensemble", "--runs", "2", "--scale", "0"], "--scale"),
        (["ensemble", "--runs", "2", "--sample", "sobol"], "--sample"),
        (["claims", "--claim", "C9", "--runs", "2"], "unknown claim"),
        (["sensitivity", "--method", "fast", "--runs", "10"], "--method"),
    ],
)
def test_bad_inputs_give_one_line_errors(args: list[str], needle: str, tmp_path: Path, capsys) -> None:
    rc, out, err = cli([*args, "--out", str(tmp_path / "x")], capsys)
    assert rc == 2 and needle in err and err.count("\n") == 1 and out == ""


def test_unreachable_scheduler_is_one_line(tmp_path: Path, capsys) -> None:
    t0 = time.time()
    rc, _, err = cli(["ensemble", *TINY, "--scheduler", "tcp://127.0.0.1:9", "--connect-timeout", "2",
                      "--out", str(tmp_path / "x")], capsys)
    assert rc == 2 and "cannot reach the Dask scheduler" in err and err.count("\n") == 1
    assert time.time() - t0 < 30


def test_another_ensemble_in_the_same_folder_is_refused(serial: Path, tmp_path: Path, capsys) -> None:
    import shutil

    out = tmp_path / "same"
    shutil.copytree(serial, out)
    rc, _, err = cli(["ensemble", *TINY[:-1], "--seed", "3", "--workers", "1", "--out", str(out)], capsys)
    assert rc == 2 and "holds a different ensemble" in err
    assert digests(out) == digests(serial)


def test_json_output_is_one_document(serial: Path, capsys) -> None:
    rc, out, _ = cli(["ensemble", *TINY, "--workers", "1", "--out", str(serial), "--json"], capsys)
    doc = json.loads(out)
    assert rc == 0 and doc["stored"] == 6 and doc["computed_now"] == 0 and doc["parameters_sampled"] > 100


def test_no_orphan_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The local pool restores the thread environment it sets for its workers."""
    from shatterbelt.experiments.executor import LocalPool

    monkeypatch.delenv("NUMBA_NUM_THREADS", raising=False)
    pool = LocalPool(2)
    assert os.environ.get("NUMBA_NUM_THREADS") == "1"
    pool.close()
    assert "NUMBA_NUM_THREADS" not in os.environ
