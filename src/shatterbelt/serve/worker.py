"""The bounded worker pool: a fixed number of processes that take queued jobs from the store.

Each worker is a separate process (``python -m shatterbelt.serve._proc``), so a job cannot block the server and a crash
in one cannot take the server down.  A worker claims the oldest queued job in one
transaction, runs it into ``DATA/tmp/<id>``, moves the finished folder to
``DATA/jobs/<id>`` in one rename and only then marks the job done: a job is ``done``
exactly when its results are whole.  After every simulated month it records its progress
and stops if the job was cancelled.  A worker ends itself when the server process goes away
(Linux's parent-death signal, and a check of its parent at every month), so a killed server
leaves no orphan computing; the next server marks the jobs that were running as
``interrupted``.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from .jobs import Cancelled, one_line, run_job
from .store import JobStore


def jobs_dir(data: Path) -> Path:
    return data / "jobs"


def tmp_dir(data: Path) -> Path:
    return data / "tmp"


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def worker_main(db: str, data: str, parent: int, poll: float) -> None:
    """A worker process: claim, run, repeat until the parent goes away or SIGTERM arrives."""
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in the server's terminal is the server's to handle
    if os.getppid() != parent:
        return
    store = JobStore(db)
    root = Path(data)
    me = os.getpid()
    while os.getppid() == parent:
        job = store.claim(me)
        if job is None:
            time.sleep(poll)
            continue
        jid = job["id"]

        def progress(fraction: float, month: str, jid: str = jid) -> None:
            if os.getppid() != parent:
                raise SystemExit(0)
            if store.progress(jid, fraction, month) != "running":
                raise Cancelled(jid)
        try:
            run_job(jid, job["request"], tmp_dir(root) / jid, jobs_dir(root) / jid, progress)
        except Cancelled:
            continue
        except SystemExit:
            return
        except Exception as exc:  # noqa: BLE001  (a job's failure is recorded, the worker carries on)
            store.finish(jid, "failed", one_line(exc))
            continue
        if not store.finish(jid, "done"):  # cancelled in the instant it finished: drop the results
            shutil.rmtree(jobs_dir(root) / jid, ignore_errors=True)


class WorkerPool:
    """Starts ``n`` worker processes, replaces any that dies (failing the job it held) and stops them.

    A slot whose worker dies is refilled at most once every :attr:`RESPAWN_SECONDS`, so a worker
    that cannot start does not spin."""

    RESPAWN_SECONDS = 2.0

    def __init__(self, store: JobStore, data: Path, n: int, poll: float = 0.2) -> None:
        self.store = store
        self.data = data
        self.n = n
        self.poll = poll
        self.procs: list[subprocess.Popen[bytes]] = []
        self.spawned: list[float] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.restarts = 0

    def _spawn(self) -> subprocess.Popen[bytes]:
        cmd = [sys.executable, "-m", "shatterbelt.serve._proc", str(self.store.path), str(self.data),
               str(os.getpid()), str(self.poll)]
        return subprocess.Popen(cmd, stdin=subprocess.DEVNULL)

    def start(self) -> None:
        self.procs = [self._spawn() for _ in range(self.n)]
        self.spawned = [time.monotonic()] * self.n
        self._thread = threading.Thread(target=self._watch, name="shatterbelt-serve-pool", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(0.5):
            try:
                self._check()
            except Exception:  # noqa: BLE001  (the data folder went away, the disk is full: try again later)
                continue

    def _check(self) -> None:
        for i, p in enumerate(self.procs):
            if p.poll() is None or self._stop.is_set():
                continue
            if self.spawned[i] >= 0:
                why = f"the worker process ended unexpectedly (exit code {p.returncode})"
                for jid in self.store.fail_worker(p.pid, why):
                    shutil.rmtree(tmp_dir(self.data) / jid, ignore_errors=True)
                self.spawned[i] = -abs(self.spawned[i])  # its jobs are recorded once
            if time.monotonic() - abs(self.spawned[i]) >= self.RESPAWN_SECONDS:
                self.procs[i] = self._spawn()
                self.spawned[i] = time.monotonic()
                self.restarts += 1

    def alive(self) -> int:
        return sum(1 for p in self.procs if p.poll() is None)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop every worker; the jobs they were running are marked interrupted."""
        self._stop.set()
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        deadline = time.monotonic() + timeout
        for p in self.procs:
            try:
                p.wait(max(0.01, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(2.0)
        self.store.recover(lambda jid: (jobs_dir(self.data) / jid / "job.json").exists())
        if self._thread is not None:
            self._thread.join(2.0)
