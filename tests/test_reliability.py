"""Issue 10's failure cases, one regression test each: outputs written whole (failure 3),
signals (failure 4), names in paths (failure 5), and the remaining tracebacks and silent
oddities of failures 8 and 9.  Each ends in a correct result or one ``error:`` line, exit 2."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from shatterbelt import Simulation, load_scenario
from shatterbelt.cli.main import main
from shatterbelt.errors import UsageError
from shatterbelt.outputs import RUN_FILES
from tests.conftest import TINY

FAST = ["--scale", "0.5", "--until", "2010-08", "--quiet"]
FILES = {"panel.parquet", "metrics.csv", "events.parquet", "events.csv", "summary.json", "scenario.resolved.yaml",
             "run_info.json"}


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    rc = main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


def one_error(rc: int, err: str, *needles: str) -> None:
    assert rc == 2, err
    lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("warning:")]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    for n in needles:
        assert n in lines[0], lines[0]


def summary(d: Path) -> dict:
    return json.loads((d / "summary.json").read_text())


# ---------------------------------------------------------------------------- failure 3: outputs
@pytest.mark.parametrize("where", ["file", "under_file", "proc", "dev_null", "empty", "foreign"])
def test_unusable_out_is_refused_before_computing(where: str, tmp_path: Path, capsys, monkeypatch) -> None:
    f = tmp_path / "a-file"
    f.write_text("x")
    (tmp_path / "mixed").mkdir()
    (tmp_path / "mixed" / "notes.txt").write_text("mine")
    out = {"file": str(f), "under_file": str(f / "sub"), "proc": "/proc/shatterbelt-x", "dev_null": "/dev/null",
           "empty": "", "foreign": str(tmp_path / "mixed")}[where]
    ran = []
    monkeypatch.setattr(Simulation, "run", lambda self, *a, **k: ran.append(1))
    rc, _, err = cli(capsys, "run", TINY, *FAST, "--out", out)
    one_error(rc, err, "out:")
    assert not ran  # refused before the simulation
    assert (tmp_path / "mixed" / "notes.txt").read_text() == "mine"


def test_second_run_replaces_the_first_whole_and_clears_stale_files(tmp_path: Path, capsys) -> None:
    out = tmp_path / "r"
    assert cli(capsys, "run", TINY, *FAST, "--out", str(out))[0] == 0
    assert {p.name for p in out.iterdir()} == FILES | {"report.html"}
    assert cli(capsys, "run", TINY, *FAST, "--seed", "4", "--no-report", "--out", str(out))[0] == 0
    assert {p.name for p in out.iterdir()} == FILES  # the earlier report is gone with its run
    assert summary(out)["seed"] == 4
    assert [p.name for p in tmp_path.iterdir()] == ["r"]  # no temporary folder left beside it


def test_report_names_the_folder_not_the_temporary_one(tmp_path: Path, capsys) -> None:
    out = tmp_path / "r"
    assert cli(capsys, "run", TINY, *FAST, "--out", str(out))[0] == 0
    html = (out / "report.html").read_text()
    assert ".tmp-" not in html and str(out) in html


def test_full_disk_leaves_the_earlier_run_untouched_and_no_tmp(tmp_path: Path, capsys, monkeypatch) -> None:
    out = tmp_path / "r"
    assert cli(capsys, "run", TINY, *FAST, "--out", str(out))[0] == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    import pyarrow.csv as pacsv

    def full(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pacsv, "write_csv", full)
    rc, _, err = cli(capsys, "run", TINY, *FAST, "--seed", "9", "--out", str(out))
    one_error(rc, err, "No space left on device")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # one complete run, not a mix
    assert [p.name for p in tmp_path.iterdir()] == ["r"]
    assert not list(tmp_path.rglob("*.tmp*"))


def test_result_write_from_python_is_whole_too(tmp_path: Path) -> None:
    res = Simulation(load_scenario(TINY), scale=0.5, seed=0, until="2010-08").run()
    paths = res.write(tmp_path / "w")
    assert set(paths) == FILES and FILES <= RUN_FILES
    with pytest.raises(UsageError.__mro__[1]):  # ShatterbeltError: one line
        res.write(tmp_path / "w" / "summary.json" / "x")


# ---------------------------------------------------------------------------- failure 4: signals
_SLOW_RUN = """
import sys, time
from shatterbelt.sim import Simulation
_step = Simulation.step
def step(self):
    _step(self); print('month', self.t, flush=True); time.sleep(0.15)
Simulation.step = step
from shatterbelt.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def _interrupt_run(tmp_path: Path, sigs: list[int]) -> tuple[int, str, Path]:
    out = tmp_path / "run"
    p = subprocess.Popen([sys.executable, "-c", _SLOW_RUN, "run", TINY, "--scale", "0.5", "--out", str(out),
                          "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.stdout is not None
    for line in p.stdout:
        if line.startswith("month 2"):
            break
    for s in sigs:
        p.send_signal(s)
    _, err = p.communicate(timeout=120)
    return p.returncode, err, out


@pytest.mark.slow
@pytest.mark.parametrize(("sigs", "status"), [
    ([signal.SIGINT], 130), ([signal.SIGTERM], 143), ([signal.SIGHUP], 129), ([signal.SIGINT, signal.SIGINT], 130),
], ids=["SIGINT", "SIGTERM", "SIGHUP", "double-SIGINT"])
def test_signal_writes_the_completed_months_marked_partial(tmp_path: Path, sigs: list[int], status: int) -> None:
    rc, err, out = _interrupt_run(tmp_path, sigs)
    assert rc == status, err
    assert "Traceback" not in err and err.strip().splitlines()[-1].startswith("error: interrupted")
    assert {p.name for p in out.iterdir()} == FILES | {"report.html"}
    s = summary(out)
    assert s["complete"] is False and 2 <= s["months"] < 18
    net_in = s["foreign_fighters_arrived"] - s["foreign_fighters_departed"]  # foreign fighters (persons)
    assert s["population_start"] + net_in == s["population_end"] + s["deaths_total"]


@pytest.mark.slow
def test_interrupt_during_start_up_is_one_line(tmp_path: Path) -> None:
    p = subprocess.Popen([sys.executable, "-m", "shatterbelt", "run", TINY, "--out", str(tmp_path / "x"), "--quiet"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    threading.Event().wait(0.3)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    if p.returncode == 0:  # pragma: no cover - a machine fast enough to finish first
        pytest.skip("the run finished before the signal")
    assert p.returncode == 130, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1 and err.startswith("error: interrupted")
    assert not (tmp_path / "x").exists()


# ---------------------------------------------------------------------------- failure 5: names in paths
@pytest.mark.parametrize("name", ["../../escaped", "/tmp/absolute-escape", "..", "a/b"])
def test_scenario_name_stays_inside_out(name: str, tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    rc, _, err = cli(capsys, "run", TINY, *FAST, "--no-report", "--set", f"name={name}")
    assert rc == 0, err
    made = [p for p in tmp_path.rglob("summary.json")]
    assert len(made) == 1 and made[0].parent.parent == tmp_path / "out"
    assert not Path("/tmp/absolute-escape-seed0").exists()


# ---------------------------------------------------------------------------- failures 8 and 9
def test_formation_negative_seed(capsys) -> None:
    rc, _, err = cli(capsys, "formation", "iraq-2010", "--seed", "-1", "--runs", "2")
    one_error(rc, err, "--seed")


def test_calibrate_write_into_a_missing_folder_is_created(tmp_path: Path, capsys) -> None:
    target = tmp_path / "new" / "sub" / "cal.yaml"
    rc, _, err = cli(capsys, "calibrate", TINY, "--runs", "20", "--rounds", "1", "--accept", "1", "--ppc", "0",
                     "--until", "2011-06", "--scale", "0.01", "--param", "economy.corruption", "--workers", "1", "--quiet",
                     "--write", str(target), "--out", str(tmp_path / "c"))
    assert rc == 0, err
    assert target.exists()


def test_calibrate_write_under_a_file_is_refused_before_the_runs(tmp_path: Path, capsys) -> None:
    f = tmp_path / "f"
    f.write_text("x")
    rc, _, err = cli(capsys, "calibrate", TINY, "--runs", "20", "--write", str(f / "cal.yaml"),
                     "--out", str(tmp_path / "c"))
    one_error(rc, err, "--write")
    assert not (tmp_path / "c").exists()


def _server(reply: bytes | None) -> tuple[socket.socket, int]:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()

    def serve() -> None:
        while True:
            try:
                c, _ = s.accept()
            except OSError:
                return
            if reply is not None:
                c.sendall(reply)
                c.close()
            # else: hold the connection open without a word (an HTTP server waits for a request)

    threading.Thread(target=serve, daemon=True).start()
    return s, s.getsockname()[1]


@pytest.mark.parametrize("kind", ["garbage-address", "silent-server", "garbage-server", "nobody"])
def test_scheduler_that_is_not_dask_is_one_line(kind: str, tmp_path: Path, capsys) -> None:
    srv = None
    if kind == "garbage-address":
        addr = "::::garbage"
    elif kind == "nobody":
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        addr = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
        probe.close()
    else:
        srv, port = _server(None if kind == "silent-server" else b"\xff" * 64)
        addr = f"tcp://127.0.0.1:{port}"
    try:
        rc, _, err = cli(capsys, "ensemble", TINY, "--runs", "2", "--scheduler", addr, "--connect-timeout", "1",
                         "--out", str(tmp_path / "e"))
    finally:
        if srv is not None:
            srv.close()
    one_error(rc, err, "--scheduler")
    assert not (tmp_path / "e").exists()


@pytest.mark.parametrize("target", ["/dev/zero", "/tmp"])
def test_scenario_that_is_not_a_regular_file(target: str, capsys) -> None:
    rc, _, err = cli(capsys, "run", target, "--quiet")
    one_error(rc, err, "not a regular file")


def test_scale_giving_no_agent_is_refused(tmp_path: Path, capsys) -> None:
    rc, _, err = cli(capsys, "run", TINY, "--scale", "1e-9", "--out", str(tmp_path / "z"))
    one_error(rc, err, "scale:", "no agent")
    one = tmp_path / "one.yaml"
    text = Path(TINY).read_text()
    for pop in ("20000", "25000", "15000"):
        text = text.replace(f"population: {pop},", "population: 1,")
    one.write_text(text)
    rc, _, err = cli(capsys, "run", str(one), "--until", "2010-08", "--out", str(tmp_path / "z"))
    one_error(rc, err, "no agent")
    rc, _, err = cli(capsys, "run", str(one), "--scale", "1", "--until", "2010-08", "--quiet",
                     "--out", str(tmp_path / "z"))
    assert rc == 0, err
    assert summary(tmp_path / "z")["agents"] == 3


@pytest.mark.parametrize("value", ["inf", "nan", "-1", "0"])
def test_election_first_divisor(value: str, capsys) -> None:
    rc, _, err = cli(capsys, "election", "iraq-2010", "--first-divisor", value)
    one_error(rc, err, "--first-divisor")


def test_formation_negative_max_days(capsys) -> None:
    rc, _, err = cli(capsys, "formation", "iraq-2010", "--set", "formation.max_days=-1", "--runs", "2")
    one_error(rc, err, "max_days")


@pytest.mark.parametrize("value", ["true", "false", "yes", "null"])
def test_set_boolean_is_not_a_number(value: str, tmp_path: Path, capsys) -> None:
    rc, _, err = cli(capsys, "run", TINY, *FAST, "--set", f"economy.corruption={value}", "--out", str(tmp_path / "z"))
    one_error(rc, err, "economy.corruption")


@pytest.mark.parametrize(("spec", "needle"), [
    ("{value: 0.3, range: [1, 0], source: x}", "low > high"),
    ("{value: abc, range: [0, 1], source: x}", "not a number"),
    ("{value: 0.3, range: 5, source: x}", "range"),
    ("{value: 0.3, range: [0, .nan], source: x}", "finite"),
])
def test_bad_overlay(spec: str, needle: str, tmp_path: Path, capsys) -> None:
    ov = tmp_path / "ov.yaml"
    ov.write_text(f"parameters:\n  economy.corruption: {spec}\n")
    rc, _, err = cli(capsys, "run", TINY, *FAST, "--params", str(ov), "--out", str(tmp_path / "z"))
    one_error(rc, err, needle)


def test_no_stray_checks_left_behind(tmp_path: Path, capsys) -> None:
    out = tmp_path / "deep" / "er" / "r"
    assert cli(capsys, "run", TINY, *FAST, "--no-report", "--out", str(out))[0] == 0
    leftovers = [p for p in tmp_path.rglob(".*") if p.name.startswith(".")]
    assert not leftovers and os.listdir(tmp_path / "deep" / "er") == ["r"]


@pytest.mark.parametrize("command", ["ensemble", "run"])
def test_empty_out_is_refused(command: str, tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    extra = ["--runs", "1", "--workers", "1"] if command == "ensemble" else []
    rc, _, err = cli(capsys, command, TINY, *FAST, *extra, "--out", "")
    one_error(rc, err, "--out" if command == "ensemble" else "out:")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------- signals in other long commands
@pytest.mark.slow
@pytest.mark.parametrize(("sig", "status"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)], ids=["SIGTERM", "SIGHUP"])
def test_terminating_an_ensemble_keeps_its_stored_runs(tmp_path: Path, sig: int, status: int) -> None:
    """SIGTERM and SIGHUP end an ensemble as Ctrl-C does: runs stored stay, a rerun resumes and completes."""
    import time

    out = tmp_path / "ens"
    args = [sys.executable, "-m", "shatterbelt", "ensemble", TINY, "--runs", "40", "--scale", "0.5", "--until",
            "2011-06", "--workers", "1", "--quiet", "--no-report", "--out", str(out)]
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        t0 = time.time()
        while time.time() - t0 < 90 and p.poll() is None:
            runs = out / "runs"
            if runs.exists() and any(not d.name.startswith(".") for d in runs.iterdir()):
                break
            time.sleep(0.02)
        if p.poll() is None:
            p.send_signal(sig)
        _, err = p.communicate(timeout=90)
    finally:
        if p.poll() is None:
            p.kill()
    assert "Traceback" not in err
    if p.returncode != 0:  # it had not finished when the signal came
        assert p.returncode == status, err
        lines = err.strip().splitlines()
        assert 1 <= len(lines) <= 2 and "rerun the same command to resume" in err
    done = subprocess.run(args[:-2] + ["--json", "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["stored"] == 40


@pytest.mark.slow
def test_terminating_a_formation_study_is_one_line(tmp_path: Path) -> None:
    """A long command without files of its own (formation) ends on SIGTERM with one line and 143."""
    import time

    args = [sys.executable, "-m", "shatterbelt", "formation", "iraq-2010", "--runs", "100000"]
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(6)  # past start-up, inside the runs
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 143, err
    assert "Traceback" not in err and err.strip().startswith("error: ") and len(err.strip().splitlines()) == 1
