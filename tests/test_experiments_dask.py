"""A real Dask cluster on loopback (one scheduler, two worker processes), and a killed ensemble.

Shows (1) an ensemble run on the Dask workers fills the same database as on a local pool, and
(2) an ensemble whose coordinator is killed outright (SIGKILL) midway resumes with the same
command to the same database as an uninterrupted one, with no run lost or duplicated, and its
local workers do not outlive it.  Every process started here is stopped by its id, also on failure.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from shatterbelt.cli.main import main
from shatterbelt.experiments.store import ResultStore

ARGS = ["--runs", "12", "--sample", "lhs", "--scale", "0.002", "--until", "2012-06", "--quiet", "--seed", "4"]
DETERMINISTIC = ("runs", "summaries", "metrics", "panel", "events")
DASK = str(Path(sys.executable).with_name("dask"))


def digests(out: Path) -> dict[str, str]:
    st = ResultStore(out).open()
    try:
        return {t: st.table_digest(t) for t in DETERMINISTIC}
    finally:
        st.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """Stop the processes we started, their own process groups first politely, then by force."""
    for p in procs:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.time() + 15
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait(timeout=10)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not Path(DASK).exists():
        pytest.fail(f"the dask command is missing next to {sys.executable}")
    port = _free_port()
    addr = f"tcp://127.0.0.1:{port}"
    work = tmp_path_factory.mktemp("dask")
    procs: list[subprocess.Popen[bytes]] = []
    log = open(work / "cluster.log", "wb")  # noqa: SIM115 - closed in the finaliser
    try:
        procs.append(subprocess.Popen(
            [DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=work,
        ))
        procs.append(subprocess.Popen(
            [DASK, "worker", addr, "--nworkers", "2", "--nthreads", "1", "--host", "127.0.0.1", "--no-dashboard",
             "--local-directory", str(work)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=work,
        ))
        from distributed import Client

        t0 = time.time()
        while True:
            try:
                with Client(addr, timeout="5s", set_as_default=False) as c:
                    c.wait_for_workers(2, timeout=60)
                break
            except (OSError, TimeoutError):
                if time.time() - t0 > 90 or any(p.poll() is not None for p in procs):
                    raise
                time.sleep(0.5)
        yield addr
    finally:
        _stop(procs)
        log.close()


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("local") / "ens"
    assert main(["ensemble", *ARGS, "--workers", "2", "--out", str(out)]) == 0
    return out


def test_dask_cluster_and_local_pool_fill_identical_databases(cluster: str, local: Path, tmp_path: Path) -> None:
    out = tmp_path / "dask"
    assert main(["ensemble", *ARGS, "--scheduler", cluster, "--out", str(out)]) == 0
    st = ResultStore(out).open()
    try:
        pids = st.query("SELECT DISTINCT pid FROM timings").pid.tolist()
    finally:
        st.close()
    assert len(pids) == 2, "both Dask workers ran runs"
    assert os.getpid() not in pids
    assert digests(out) == digests(local)


def test_killed_ensemble_resumes_to_the_uninterrupted_result(local: Path, tmp_path: Path) -> None:
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "shatterbelt", "ensemble", *ARGS, "--workers", "2", "--out", str(out)]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    children: list[psutil.Process] = []
    try:
        t0 = time.time()
        runs = out / "runs"
        while time.time() - t0 < 120 and p.poll() is None:
            try:
                children = psutil.Process(p.pid).children(recursive=True) or children
            except psutil.NoSuchProcess:
                break
            if runs.exists() and sum(1 for d in runs.iterdir() if not d.name.startswith(".")) >= 3:
                break
            time.sleep(0.01)
        assert p.poll() is None, "the ensemble finished before it could be killed; make it longer"
        p.send_signal(signal.SIGKILL)  # no chance to clean up: the worst case
        p.wait(timeout=30)
        # the local workers notice their coordinator is gone and exit
        gone, alive = psutil.wait_procs(children, timeout=15)
        assert not alive, f"orphaned workers: {[c.pid for c in alive]}"
    finally:
        if p.poll() is None:
            p.kill()
        for c in children:
            try:
                c.kill()
            except psutil.NoSuchProcess:
                pass
    st = ResultStore(out).open()
    try:
        partial = st.query("SELECT count(*) FROM runs").iloc[0, 0]
    finally:
        st.close()
    assert 1 <= partial < 12
    assert main(["ensemble", *ARGS, "--workers", "2", "--out", str(out)]) == 0
    st = ResultStore(out).open()
    try:
        assert st.query("SELECT count(*), count(DISTINCT run_id) FROM runs").values.tolist() == [[12, 12]]
        per_run = st.query("SELECT run_id, count(*) n FROM metrics GROUP BY run_id").n
        assert per_run.nunique() == 1 and len(per_run) == 12
        dup = st.query("SELECT run_id, metric, count(*) c FROM metrics GROUP BY ALL HAVING c > 1")
        assert dup.empty
    finally:
        st.close()
    assert digests(out) == digests(local)
