"""Jobs in an embedded SQLite database under the server's data folder.

One row per job: its request, status (``queued``, ``running``, ``done``, ``failed``,
``cancelled``, ``interrupted``), progress and timestamps.  Every change is one
transaction, and a status moves on only from the status it is expected to hold (a job
cancelled while it runs is never turned into ``done`` by its worker), so the server, its
worker processes and a restart after a crash all see a consistent state.  The database is
in WAL mode so that readers (the API) never wait for the writer (a worker's progress).
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover  (not POSIX)
    fcntl = None  # type: ignore[assignment]

#: every status a job can hold; the last four are final
STATUSES = ("queued", "running", "done", "failed", "cancelled", "interrupted")
ACTIVE = ("queued", "running")

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    key TEXT NOT NULL,
    request TEXT NOT NULL,
    status TEXT NOT NULL,
    progress REAL NOT NULL DEFAULT 0,
    month TEXT,
    error TEXT,
    warnings TEXT,
    worker INTEGER,
    created REAL NOT NULL,
    started REAL,
    finished REAL
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs(status);
CREATE INDEX IF NOT EXISTS jobs_key ON jobs(key);
"""


class TooManyJobs(Exception):
    """The cap on queued and running jobs is reached."""


def request_key(request: dict[str, Any]) -> str:
    """The canonical form of a request: identical requests give identical results."""
    return json.dumps(request, sort_keys=True, separators=(",", ":"))


class JobStore:
    """The job table; each call opens its own connection (safe across threads and processes)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._conn() as c:
            c.executescript(SCHEMA)

    @contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        c = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        try:
            c.row_factory = sqlite3.Row
            c.execute("PRAGMA journal_mode=WAL")
            c.execute("PRAGMA synchronous=NORMAL")
            c.execute("PRAGMA busy_timeout=30000")
            yield c
        finally:
            c.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._conn() as c:
            c.execute("BEGIN IMMEDIATE")
            try:
                yield c
            except BaseException:
                c.execute("ROLLBACK")
                raise
            c.execute("COMMIT")

    @staticmethod
    def _row(r: sqlite3.Row | None) -> dict[str, Any] | None:
        if r is None:
            return None
        d = dict(r)
        d["request"] = json.loads(d["request"])
        d["warnings"] = json.loads(d["warnings"]) if d.get("warnings") else []
        return d

    # ------------------------------------------------------------------ the API's side
    def submit(self, request: dict[str, Any], max_active: int,
               notes: list[str] | None = None) -> tuple[dict[str, Any], bool]:
        """Queue ``request`` (with ``notes`` about it); returns ``(job, created)``.

        An identical request already queued, running or done is returned instead of a new
        job (``created`` false).  Past ``max_active`` queued and running jobs, raises
        :class:`TooManyJobs`.
        """
        key = request_key(request)
        with self._tx() as c:
            old = c.execute("SELECT * FROM jobs WHERE key=? AND status IN ('queued','running','done') "
                            "ORDER BY seq DESC LIMIT 1", (key,)).fetchone()
            if old is not None:
                return self._row(old), False  # type: ignore[return-value]
            n = c.execute("SELECT COUNT(*) FROM jobs WHERE status IN ('queued','running')").fetchone()[0]
            if n >= max_active:
                raise TooManyJobs(f"{n} jobs are queued or running (the cap is {max_active})")
            jid = uuid.uuid4().hex
            c.execute("INSERT INTO jobs (id, key, request, status, warnings, created) VALUES (?,?,?,?,?,?)",
                      (jid, key, key, "queued", json.dumps(notes or []), time.time()))
            row = c.execute("SELECT * FROM jobs WHERE id=?", (jid,)).fetchone()
        return self._row(row), True  # type: ignore[return-value]

    def get(self, job_id: str) -> dict[str, Any] | None:
        with self._conn() as c:
            return self._row(c.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone())

    def list(self, limit: int = 100, status: str | None = None) -> list[dict[str, Any]]:
        with self._conn() as c:
            if status is None:
                rows = c.execute("SELECT * FROM jobs ORDER BY seq DESC LIMIT ?", (limit,)).fetchall()
            else:
                rows = c.execute("SELECT * FROM jobs WHERE status=? ORDER BY seq DESC LIMIT ?",
                                 (status, limit)).fetchall()
        return [self._row(r) for r in rows]  # type: ignore[misc]

    def find_done(self, request: dict[str, Any]) -> dict[str, Any] | None:
        """The latest finished job of exactly this request."""
        with self._conn() as c:
            return self._row(c.execute("SELECT * FROM jobs WHERE key=? AND status='done' ORDER BY seq DESC LIMIT 1",
                                       (request_key(request),)).fetchone())

    def cancel(self, job_id: str) -> str | None:
        """Cancel a queued or running job; returns its status afterwards (None: no such job)."""
        with self._tx() as c:
            r = c.execute("SELECT status FROM jobs WHERE id=?", (job_id,)).fetchone()
            if r is None:
                return None
            if r["status"] in ACTIVE:
                c.execute("UPDATE jobs SET status='cancelled', finished=? WHERE id=?", (time.time(), job_id))
                return "cancelled"
            return str(r["status"])

    def counts(self) -> dict[str, int]:
        with self._conn() as c:
            rows = c.execute("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status").fetchall()
        out = {s: 0 for s in STATUSES}
        out.update({r["status"]: int(r["n"]) for r in rows})
        return out

    # ------------------------------------------------------------------ the workers' side
    def claim(self, worker: int) -> dict[str, Any] | None:
        """Take the oldest queued job for ``worker`` (a process id) and mark it running."""
        with self._tx() as c:
            r = c.execute("SELECT id FROM jobs WHERE status='queued' ORDER BY seq LIMIT 1").fetchone()
            if r is None:
                return None
            c.execute("UPDATE jobs SET status='running', worker=?, started=?, progress=0 WHERE id=?",
                      (worker, time.time(), r["id"]))
            return self._row(c.execute("SELECT * FROM jobs WHERE id=?", (r["id"],)).fetchone())

    def progress(self, job_id: str, fraction: float, month: str) -> str | None:
        """Record progress of a running job; returns the job's status (``running`` unless cancelled)."""
        with self._conn() as c:
            c.execute("UPDATE jobs SET progress=?, month=? WHERE id=? AND status='running'",
                      (max(0.0, min(1.0, fraction)), month, job_id))
            r = c.execute("SELECT status FROM jobs WHERE id=?", (job_id,)).fetchone()
        return None if r is None else str(r["status"])

    def finish(self, job_id: str, status: str, error: str | None = None) -> bool:
        """Move a running job to a final status; False when it is no longer running (cancelled)."""
        assert status in STATUSES[2:]
        with self._conn() as c:
            cur = c.execute("UPDATE jobs SET status=?, error=?, finished=?, "
                            "progress=CASE WHEN ?='done' THEN 1 ELSE progress END WHERE id=? AND status='running'",
                            (status, error, time.time(), status, job_id))
            return cur.rowcount == 1

    def fail_worker(self, worker: int, why: str) -> list[str]:
        """Jobs a dead worker held: marked failed; returns their ids."""
        with self._tx() as c:
            ids = [r["id"] for r in c.execute("SELECT id FROM jobs WHERE status='running' AND worker=?", (worker,))]
            c.execute("UPDATE jobs SET status='failed', error=?, finished=? WHERE status='running' AND worker=?",
                      (why, time.time(), worker))
        return ids

    def recover(self, finished: Any) -> dict[str, list[str]]:
        """At start-up: every job left running by a server that stopped is ``interrupted``, unless
        ``finished(job_id)`` says its results were written whole (then ``done``)."""
        out: dict[str, list[str]] = {"done": [], "interrupted": []}
        with self._tx() as c:
            for r in c.execute("SELECT id FROM jobs WHERE status='running'").fetchall():
                st = "done" if finished(r["id"]) else "interrupted"
                err = None if st == "done" else "the server stopped while the job ran"
                c.execute("UPDATE jobs SET status=?, error=?, finished=?, progress=CASE WHEN ?='done' THEN 1 "
                          "ELSE progress END WHERE id=?", (st, err, time.time(), st, r["id"]))
                out[st].append(r["id"])
        return out

    def interrupt_running(self, why: str) -> list[str]:
        """At shutdown: jobs still running are ``interrupted``."""
        with self._tx() as c:
            ids = [r["id"] for r in c.execute("SELECT id FROM jobs WHERE status='running'")]
            c.execute("UPDATE jobs SET status='interrupted', error=?, finished=? WHERE status='running'",
                      (why, time.time()))
        return ids


def lock_data(data: str | os.PathLike[str]) -> Any:
    """Hold ``DATA/server.lock`` for this process (one server per data folder); returns the open
    lock file, to keep.  Raises BlockingIOError when another server holds it.  The lock goes with
    the process, however it ends."""
    path = Path(data) / "server.lock"
    fh = open(path, "a+")  # noqa: SIM115  (held for the server's life)
    if fcntl is None:  # not POSIX: no lock
        return fh
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        raise
    fh.seek(0)
    fh.truncate()
    fh.write(str(os.getpid()))
    fh.flush()
    return fh
