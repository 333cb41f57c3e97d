"""The results of an ensemble: an embedded DuckDB database, per-run Parquet files and a manifest.

Layout of an ensemble folder::

    DIR/manifest.json          what was asked: scenarios and their hashes, package version,
                               the design (parameters and samples), every run's seed and sample
    DIR/results.duckdb         tables runs, summaries, metrics, panel, events (+ timings)
    DIR/runs/<run_id>/         the same run's files: run.json, summary.json, metrics.json,
                               panel.parquet, events.parquet

Why both: the per-run folder is written first, to a temporary name, and renamed
into place (an atomic step), then the run's rows go into the database in one
transaction.  A process killed at any instant leaves every run either complete
or absent -- never half-written -- and a resumed ensemble re-ingests a run whose
folder exists but whose rows do not, instead of recomputing it.  A damaged
database is never deleted: ``--rebuild`` moves it aside and rebuilds it from
the folders.

Everything stored is deterministic except the ``timings`` table (wall-clock
seconds, host, pid), so the same ensemble gives the same database contents
whichever executor ran it.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import signal
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import ShatterbeltError
from .runner import RunOutput, RunSpec

DB_NAME = "results.duckdb"
MANIFEST = "manifest.json"
RUNS_DIR = "runs"
FORMAT = 1
TABLES = ("runs", "summaries", "metrics", "panel", "events", "timings")
#: manifest keys that may differ between an interrupted ensemble and its resumption
_FREE_KEYS = {"command_line"}


class StoreError(ShatterbeltError):
    """A results folder that cannot be used as asked."""


def _dumps(obj: Any) -> str:
    from .. import outputs

    return outputs.dumps(obj)


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _write_parquet(tbl: pa.Table, path: Path) -> None:
    pq.write_table(tbl, path, compression="zstd", write_statistics=False, store_schema=False)


@contextmanager
def deferred_interrupts() -> Iterator[None]:
    """Hold Ctrl-C / SIGTERM until a run's commit is over, then raise KeyboardInterrupt.

    A run is recorded whole or not at all either way (the transaction sees to that);
    deferring keeps DuckDB from turning the signal into a failed query mid-commit.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []

    def hold(signum: int, frame: Any) -> None:
        caught.append(signum)

    old = {s: signal.signal(s, hold) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    if caught:
        raise KeyboardInterrupt


def manifest_fingerprint(manifest: dict[str, Any]) -> str:
    core = {k: v for k, v in manifest.items() if k not in _FREE_KEYS}
    return hashlib.sha256(json.dumps(core, sort_keys=True, default=str).encode()).hexdigest()


class ResultStore:
    """An ensemble folder: manifest, DuckDB database and per-run files (see module docstring)."""

    def __init__(self, out_dir: str | os.PathLike[str]) -> None:
        self.dir = Path(out_dir)
        self.db_path = self.dir / DB_NAME
        self.runs_dir = self.dir / RUNS_DIR
        self.con: Any = None
        self._known: set[str] = set()
        self.manifest: dict[str, Any] = {}

    # ------------------------------------------------------------------ opening
    def open(self, manifest: dict[str, Any] | None = None, rebuild: bool = False) -> ResultStore:
        """Open (creating if needed) and reconcile; check that ``manifest`` matches the folder's.

        With ``manifest=None`` the folder must already hold an ensemble (read-only use).
        """
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            self.runs_dir.mkdir(exist_ok=True)
        except OSError as exc:
            raise StoreError(f"--out {self.dir}: cannot create the folder: {exc.strerror}") from None
        mpath = self.dir / MANIFEST
        existing = None
        if mpath.exists():
            try:
                existing = json.loads(mpath.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise StoreError(f"{mpath}: unreadable manifest ({exc}); use another --out") from None
        if manifest is None:
            if existing is None:
                raise StoreError(f"{self.dir}: no ensemble here (no {MANIFEST})")
            self.manifest = existing
        else:
            manifest = json.loads(_dumps(manifest))  # normalise types as stored
            if existing is not None and manifest_fingerprint(existing) != manifest_fingerprint(manifest):
                diff = sorted(
                    k for k in set(existing) | set(manifest)
                    if k not in _FREE_KEYS and existing.get(k) != manifest.get(k)
                )
                raise StoreError(
                    f"--out {self.dir} holds a different ensemble (differs in: {', '.join(diff)}); "
                    "rerun its original command to resume it, or choose another --out"
                )
            if existing is None:
                _atomic_write_text(mpath, _dumps(manifest))
            self.manifest = manifest
        self._connect(rebuild)
        self._reconcile()
        return self

    def _connect(self, rebuild: bool) -> None:
        import duckdb

        if rebuild and self.db_path.exists():
            n = 1
            while (aside := self.db_path.with_name(f"{DB_NAME}.damaged-{n}")).exists():
                n += 1
            os.replace(self.db_path, aside)
            wal = self.db_path.with_name(DB_NAME + ".wal")
            if wal.exists():
                os.replace(wal, aside.with_name(aside.name + ".wal"))
        try:
            # one thread: the coordinator must leave the cores to the workers
            self.con = duckdb.connect(str(self.db_path), config={"threads": 1})
            self._create_tables()
        except duckdb.Error as exc:
            msg = " ".join(str(exc).split())
            if "lock" in msg.lower():
                raise StoreError(f"{self.db_path}: in use by another process ({msg[:120]})") from None
            n = sum(1 for _ in self._run_dirs())
            raise StoreError(
                f"{self.db_path}: results database is damaged ({msg[:120]}); nothing was deleted -- "
                f"rerun the same command with --rebuild to move it aside and rebuild it from the "
                f"{n} run folders in {self.runs_dir}"
            ) from None

    def _create_tables(self) -> None:
        c = self.con
        c.execute(
            """CREATE TABLE IF NOT EXISTS runs (
                run_id VARCHAR PRIMARY KEY, scenario VARCHAR, run_index INTEGER, sample INTEGER,
                seed BIGINT, scale DOUBLE, until VARCHAR, overrides VARCHAR, extra VARCHAR,
                scenario_sha256 VARCHAR, complete BOOLEAN, months INTEGER, n_events BIGINT, command VARCHAR)"""
        )
        c.execute("CREATE TABLE IF NOT EXISTS summaries (run_id VARCHAR, summary VARCHAR)")
        c.execute("CREATE TABLE IF NOT EXISTS metrics (run_id VARCHAR, metric VARCHAR, value DOUBLE)")
        c.execute(
            "CREATE TABLE IF NOT EXISTS timings (run_id VARCHAR, wall_s DOUBLE, cpu_s DOUBLE, host VARCHAR, pid BIGINT)"
        )

    def _has(self, table: str) -> bool:
        if table in self._known:
            return True
        r = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]
        ).fetchone()
        if r and r[0]:
            self._known.add(table)
            return True
        return False

    def _run_dirs(self) -> Iterable[Path]:
        if not self.runs_dir.exists():
            return []
        return sorted(p for p in self.runs_dir.iterdir() if p.is_dir() and not p.name.startswith("."))

    def _reconcile(self) -> None:
        """Make the database agree with the run folders: ingest folders it lacks, drop orphan rows."""
        for p in list(self.runs_dir.glob(".tmp-*")):
            shutil.rmtree(p, ignore_errors=True)
        done = self.done_ids()
        for d in self._run_dirs():
            if d.name not in done and (d / "run.json").exists():
                self._ingest_folder(d)
        done = self.done_ids()
        for t in ("summaries", "metrics", "panel", "events", "timings"):
            if self._has(t):
                self.con.execute(f"DELETE FROM {t} WHERE run_id NOT IN (SELECT run_id FROM runs)")

    # ------------------------------------------------------------------ writing
    def done_ids(self) -> set[str]:
        return {r[0] for r in self.con.execute("SELECT run_id FROM runs").fetchall()}

    def add(self, out: RunOutput, spec: RunSpec, command: str) -> None:
        """Record one finished run: folder first (atomic rename), then one database transaction."""
        row = {
            "run_id": spec.run_id,
            "scenario": spec.scenario,
            "run_index": spec.index,
            "sample": spec.sample,
            "seed": spec.seed,
            "scale": spec.scale,
            "until": spec.until,
            "overrides": json.dumps([[p, v] for p, v in spec.overrides]),
            "extra": json.dumps(list(spec.extra)),
            "scenario_sha256": out.scenario_sha256,
            "complete": out.complete,
            "months": out.months,
            "n_events": int(out.n_events),
            "command": command,
        }
        timing = {"wall_s": round(out.wall_s, 4), "cpu_s": round(out.cpu_s, 4), "host": out.host, "pid": out.pid}
        with deferred_interrupts():
            self._add(out, spec, row, timing)

    def _add(self, out: RunOutput, spec: RunSpec, row: dict[str, Any], timing: dict[str, Any]) -> None:
        final = self.runs_dir / spec.run_id
        if not final.exists():
            tmp = self.runs_dir / f".tmp-{spec.run_id}"
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            _write_parquet(out.panel, tmp / "panel.parquet")
            _write_parquet(out.events, tmp / "events.parquet")
            (tmp / "summary.json").write_text(_dumps(out.summary), encoding="utf-8")
            finite = {k: (v if math.isfinite(v) else None) for k, v in out.metrics.items()}
            (tmp / "metrics.json").write_text(_dumps(finite), encoding="utf-8")
            (tmp / "run.json").write_text(_dumps({"run": row, "timing": timing}), encoding="utf-8")
            os.replace(tmp, final)
        self._insert(row, out.summary, out.metrics, out.panel, out.events, timing)

    def _ingest_folder(self, d: Path) -> None:
        info = json.loads((d / "run.json").read_text(encoding="utf-8"))
        summary = json.loads((d / "summary.json").read_text(encoding="utf-8"))
        metrics = json.loads((d / "metrics.json").read_text(encoding="utf-8"))
        metrics = {k: (float("nan") if v is None else float(v)) for k, v in metrics.items()}
        panel = pq.read_table(d / "panel.parquet")
        events = pq.read_table(d / "events.parquet")
        self._insert(info["run"], summary, metrics, panel, events, info["timing"])

    def _insert(
        self,
        row: dict[str, Any],
        summary: dict[str, Any],
        metrics: dict[str, float],
        panel: pa.Table,
        events: pa.Table,
        timing: dict[str, Any],
    ) -> None:
        c = self.con
        rid = row["run_id"]
        n = panel.num_rows
        panel_t = panel.add_column(0, "run_id", pa.array([rid] * n, pa.string()))
        events_t = events.add_column(0, "run_id", pa.array([rid] * events.num_rows, pa.string()))
        metrics_t = pa.table(
            {
                "run_id": pa.array([rid] * len(metrics), pa.string()),
                "metric": pa.array(list(metrics), pa.string()),
                "value": pa.array([float(v) for v in metrics.values()], pa.float64()),
            }
        )
        # no run_id is inserted twice (callers skip finished runs), and a transaction that did
        # not commit left nothing behind, so there is nothing to delete first
        c.execute("BEGIN TRANSACTION")
        try:
            for name, tbl in (("panel", panel_t), ("events", events_t)):
                c.register("_incoming", tbl)
                if not self._has(name):
                    c.execute(f"CREATE TABLE {name} AS SELECT * FROM _incoming")
                else:
                    c.execute(f"INSERT INTO {name} BY NAME SELECT * FROM _incoming")
                c.unregister("_incoming")
            c.register("_incoming", metrics_t)
            c.execute("INSERT INTO metrics SELECT * FROM _incoming")
            c.unregister("_incoming")
            c.execute("INSERT INTO summaries VALUES (?, ?)", [rid, _dumps(summary)])
            c.execute(
                "INSERT INTO timings VALUES (?, ?, ?, ?, ?)",
                [rid, timing["wall_s"], timing.get("cpu_s"), timing["host"], timing["pid"]],
            )
            cols = list(row)
            c.execute(
                f"INSERT INTO runs ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                [row[k] for k in cols],
            )
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise

    # ------------------------------------------------------------------ reading
    def query(self, sql: str, params: list[Any] | None = None) -> Any:
        """A DuckDB relation result as a pandas DataFrame."""
        return self.con.execute(sql, params or []).df()

    def metrics_long(self, scenarios: list[str] | None = None) -> Any:
        """run_id, scenario, run_index, sample, seed, metric, value for finished runs."""
        sql = (
            "SELECT r.run_id, r.scenario, r.run_index, r.sample, r.seed, m.metric, m.value "
            "FROM metrics m JOIN runs r USING (run_id)"
        )
        params: list[Any] = []
        if scenarios:
            sql += f" WHERE r.scenario IN ({', '.join('?' * len(scenarios))})"
            params = list(scenarios)
        return self.query(sql + " ORDER BY r.scenario, r.run_index, m.metric", params)

    def metrics_wide(self, scenario: str) -> Any:
        """One row per run of ``scenario`` (indexed by run_index), one column per metric."""
        df = self.metrics_long([scenario])
        if df.empty:
            import pandas as pd

            return pd.DataFrame()
        return df.pivot(index="run_index", columns="metric", values="value").sort_index()

    def table_digest(self, table: str) -> str:
        """SHA-256 of a table's rows in a canonical order (for executor-equivalence checks)."""
        if not self._has(table):
            return "absent"
        cols = [r[0] for r in self.con.execute(f"DESCRIBE {table}").fetchall()]
        order = ", ".join(f'"{c}"' for c in cols)
        h = hashlib.sha256()
        for rec in self.con.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall():
            h.update(repr(rec).encode())
        return h.hexdigest()

    def close(self) -> None:
        if self.con is not None:
            try:
                self.con.execute("CHECKPOINT")
            except Exception:  # closing must not mask the real error
                pass
            self.con.close()
            self.con = None

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
