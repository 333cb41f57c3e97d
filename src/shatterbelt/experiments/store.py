"""The results of an ensemble: an embedded DuckDB database, per-run Parquet files and a manifest.

Layout of an ensemble folder::

    DIR/manifest.json          what was asked: scenarios and their hashes, package version,
                               the design (parameters and samples), every run's seed and sample
    DIR/results.duckdb         tables runs, parameters, summaries, metrics, panel, events (+ timings)
    DIR/runs/<run_id>/         the same run's files: run.json, summary.json, metrics.json,
                               panel.parquet, events.parquet
    DIR/.lock                  held while a process has the folder open (its pid inside)
    DIR/damaged/<run_id>.<n>/  run folders that could not be read back, set aside

Why both: the per-run folder is written first, to a temporary name, and renamed
into place (an atomic step), then the run's rows go into the database in one
transaction.  A process killed at any instant leaves every run either complete
or absent -- never half-written -- and a resumed ensemble re-ingests a run whose
folder exists but whose rows do not, instead of recomputing it.  A damaged
database is never deleted: ``--rebuild`` moves it aside and rebuilds it from
the folders.

Every stored run carries its *identity* (:meth:`RunSpec.identity`: scenario and
its hash, seed, parameter sample and its values, ``--set`` overrides, scale,
horizon, what is kept, code version) in the ``runs`` table and in its
``run.json``.  Opening a folder takes an exclusive lock on ``DIR/.lock`` first;
under it the manifest is checked (and written, for a new ensemble) and every
stored run's identity is compared with the run the ensemble plans under that
id.  A folder holding another design -- a different manifest, a run with
another seed or sample, a run the ensemble does not plan -- is refused with one
line naming the difference, before anything in it is changed; a second process
opening a folder in use is refused at once.  So two ensembles can never mix in
one folder, whatever order they start in.

Recovery never fails on one damaged run: a run folder that cannot be read back
(garbage Parquet, corrupt ``run.json``, a missing file) is moved to
``DIR/damaged/`` and the run is computed again; a run whose folder was deleted
is written back from the database.  Each such repair prints one ``warning:``
line on stderr.

The ``parameters`` table has one row per stored run (run_id, scenario, run_index, sample,
seed) and one DOUBLE column per sampled parameter of the design, named by its dotted path
(NULL where a scenario pins it); ``runs.overrides`` keeps the same values as JSON.

While a process holds the folder, DuckDB lets no other process open the database, not even
read-only.  :func:`snapshot` reads a folder without it: an in-memory database built from the
run folders (each complete, thanks to the atomic rename) and the manifest, so a reader can
query an ensemble that is still running.

Everything stored is deterministic except the ``timings`` table (wall-clock
seconds, host, pid), so the same ensemble gives the same database contents
whichever executor ran it.
"""

from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import shutil
import signal
import sys
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .. import outputs
from ..errors import ShatterbeltError, UsageError
from .runner import RunOutput, RunSpec, canonical_json

try:  # POSIX file locks; without them the database's own lock is the only one
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

DB_NAME = "results.duckdb"
MANIFEST = "manifest.json"
RUNS_DIR = "runs"
LOCK = ".lock"
DAMAGED_DIR = "damaged"
FORMAT = 2
TABLES = ("runs", "parameters", "summaries", "metrics", "panel", "events", "timings")
#: the files of a stored run's folder
RUN_FILES = ("run.json", "summary.json", "metrics.json", "panel.parquet", "events.parquet")
#: the largest seed every store holds (DuckDB BIGINT, signed 64-bit)
MAX_SEED = 2**63 - 1
#: manifest keys that may differ between an interrupted ensemble and its resumption
_FREE_KEYS = {"command_line"}
#: identity fields in the order a difference is reported
_IDENTITY_ORDER = (
    "scenario", "seed", "sample", "parameters", "overrides", "scale", "until", "scenario_sha256",
    "panel", "events", "index", "code_version",
)
_REFUSE = "rerun its original command to resume it, or choose another --out"


class StoreError(ShatterbeltError):
    """A results folder that cannot be used as asked."""


def check_seeds(seeds: Iterable[int], field: str = "--seed") -> None:
    """Refuse seeds that a results database cannot hold, before anything is computed or written."""
    values = [int(s) for s in seeds]
    if not values:
        return
    lo, hi = min(values), max(values)
    if lo < 0:
        raise UsageError(f"{field}: must be >= 0, got {lo}")
    if hi > MAX_SEED:
        which = f"got {hi}" if len(values) == 1 else f"the runs would use seeds up to {hi}"
        raise UsageError(f"{field}: seeds must be below 2^63 = {MAX_SEED + 1} (what a results database holds); {which}")


def os_reason(exc: OSError) -> str:
    """An OSError's cause in words, with its errno name (``No space left on device (ENOSPC)``)."""
    code = errno.errorcode.get(exc.errno or 0, "")
    text = exc.strerror or " ".join(str(exc).split()) or type(exc).__name__
    return f"{text} ({code})" if code and code not in text else text


def _dumps(obj: Any) -> str:
    return outputs.dumps(obj)


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write_parquet(tbl: pa.Table, path: Path) -> None:
    pq.write_table(tbl, path, compression="zstd", write_statistics=False, store_schema=False)


def _to_arrow(relation: Any) -> pa.Table:
    """A DuckDB relation as an Arrow table (``to_arrow_table`` since DuckDB 1.4, ``arrow`` before)."""
    fetch = getattr(relation, "to_arrow_table", None)
    return fetch() if fetch is not None else relation.arrow()


@contextmanager
def deferred_interrupts() -> Iterator[None]:
    """Hold Ctrl-C / SIGTERM / SIGHUP until a run's commit is over, then raise KeyboardInterrupt.

    A run is recorded whole or not at all either way (the transaction sees to that);
    deferring keeps DuckDB from turning the signal into a failed query mid-commit.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []

    def hold(signum: int, frame: Any) -> None:
        caught.append(signum)

    sigs = [signal.SIGINT, signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])
    old = {s: signal.signal(s, hold) for s in sigs}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    if caught:
        first = old[caught[0]]
        if callable(first) and first is not signal.default_int_handler:
            first(caught[0], None)  # the handler the signal met before (e.g. the CLI's, which notes it)
        raise KeyboardInterrupt


def manifest_fingerprint(manifest: dict[str, Any]) -> str:
    core = {k: v for k, v in manifest.items() if k not in _FREE_KEYS}
    return hashlib.sha256(json.dumps(core, sort_keys=True, default=str).encode()).hexdigest()


#: design fields that may change when an ensemble grows (its runs and samples are checked one by one)
_GROWING_DESIGN = {"samples", "run_sample", "run_seed", "repaired", "grown_from", "seeds_per_point"}


def grows(there: dict[str, Any], here: dict[str, Any]) -> bool:
    """True when ``here`` is ``there`` with more runs: every other field equal, the stored runs the
    first runs of the new list (same ids, seeds and samples) and the samples they use unchanged."""
    skip = _FREE_KEYS | {"design", "runs"}
    if any(there.get(k) != here.get(k) for k in set(there) | set(here) if k not in skip):
        return False
    a, b = there.get("design"), here.get("design")
    if not (isinstance(a, dict) and isinstance(b, dict)):
        return False
    if any(a.get(k) != b.get(k) for k in set(a) | set(b) if k not in _GROWING_DESIGN):
        return False
    old, new = there.get("runs"), here.get("runs")
    if not (isinstance(old, list) and isinstance(new, list)) or len(new) <= len(old) or new[: len(old)] != old:
        return False
    sa, sb = a.get("samples") or [], b.get("samples") or []
    used = {int(r["sample"]) for r in old if isinstance(r, dict) and int(r.get("sample", -1)) >= 0}
    return all(j < len(sa) and j < len(sb) and sa[j] == sb[j] for j in used)


def _short(value: Any) -> str | None:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 48 else None


def _difference(key: str, there: Any, here: Any) -> str:
    a, b = _short(there), _short(here)
    if a is not None and b is not None:
        return f"{key} {a} there, {b} here"
    if isinstance(there, list) and isinstance(here, list) and len(there) != len(here):
        return f"{key}: {len(there)} entries there, {len(here)} here"
    return f"{key} differs"


def manifest_difference(there: dict[str, Any], here: dict[str, Any]) -> str:
    """The manifest fields that differ, with both values where they are short."""
    keys = sorted(k for k in set(there) | set(here) if k not in _FREE_KEYS and there.get(k) != here.get(k))
    parts = [_difference(k, there.get(k), here.get(k)) for k in keys[:4]]
    return "; ".join(parts) + ("; ..." if len(keys) > 4 else "")


def identity_difference(stored: dict[str, Any] | None, wanted: dict[str, Any]) -> str | None:
    """How a stored run's identity differs from the wanted one (fields of ``wanted`` only), or None."""
    if stored is None:
        return "stored without an identity (an older format)"
    keys = [k for k in _IDENTITY_ORDER if k in wanted] + sorted(set(wanted) - set(_IDENTITY_ORDER))
    diff = [k for k in keys if stored.get(k) != wanted[k]]
    if not diff:
        return None
    return ", ".join(_difference(k, stored.get(k), wanted[k]) for k in diff[:3])


def _parse_identity(value: Any) -> dict[str, Any] | None:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, dict) else None


class ResultStore:
    """An ensemble folder: manifest, DuckDB database and per-run files (see module docstring)."""

    def __init__(self, out_dir: str | os.PathLike[str]) -> None:
        self.dir = Path(out_dir)
        self.db_path = self.dir / DB_NAME
        self.runs_dir = self.dir / RUNS_DIR
        self.con: Any = None
        self._known: set[str] = set()
        self._lock_fd: int | None = None
        self.manifest: dict[str, Any] = {}
        #: what recovery repaired on opening, one line each (also printed as warnings)
        self.repairs: list[str] = []
        #: (runs before, runs now) when opening grew the ensemble (same design, more runs or seeds)
        self.grown: tuple[int, int] | None = None

    # ------------------------------------------------------------------ opening
    def open(
        self,
        manifest: dict[str, Any] | None = None,
        rebuild: bool = False,
        plan: Sequence[RunSpec] | None = None,
    ) -> ResultStore:
        """Open (creating if needed) and reconcile; check that ``manifest`` matches the folder's.

        With ``plan`` (the ensemble's runs) every stored run must be one of them, identity
        and all.  With ``manifest=None`` the folder must already hold an ensemble (read-only
        use); stored runs are then checked against the manifest's list of runs.
        """
        if plan is not None:
            check_seeds(s.seed for s in plan)
        if manifest is None and not (self.dir / MANIFEST).is_file():
            raise StoreError(f"{self.dir}: no ensemble here (no {MANIFEST})")
        try:
            self.runs_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"--out: cannot create the folder {self.runs_dir}: {os_reason(exc)}") from None
        self._lock()
        try:
            self._open_locked(manifest, rebuild, plan)
        except BaseException:
            self.close()
            raise
        return self

    def _lock(self) -> None:
        """Take ``DIR/.lock`` (exclusive, not waiting): one process at a time in a folder."""
        if fcntl is None:  # pragma: no cover - not POSIX
            return
        path = self.dir / LOCK
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(f"--out: cannot open {path}: {os_reason(exc)}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                os.close(fd)  # no file locks on this file system: the database's own lock remains
                return
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            os.close(fd)
            who = f" (pid {holder})" if holder.isdigit() else ""
            raise StoreError(
                f"--out: {self.dir} is in use by another process{who}; wait for it to finish, "
                "or choose another --out"
            ) from None
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError:  # the pid is only a courtesy to whoever is refused
            pass
        self._lock_fd = fd

    def _open_locked(self, manifest: dict[str, Any] | None, rebuild: bool, plan: Sequence[RunSpec] | None) -> None:
        mpath = self.dir / MANIFEST
        existing = None
        if mpath.exists():
            try:
                existing = json.loads(mpath.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise StoreError(f"{mpath}: unreadable manifest ({exc}); use another --out") from None
        if manifest is None:
            if not isinstance(existing, dict):
                raise StoreError(f"{self.dir}: no ensemble here (no {MANIFEST})")
            self.manifest = existing
        else:
            manifest = json.loads(_dumps(manifest))  # normalise types as stored
            if existing is not None and (
                not isinstance(existing, dict) or manifest_fingerprint(existing) != manifest_fingerprint(manifest)
            ):
                if isinstance(existing, dict) and grows(existing, manifest):
                    self.grown = (len(existing["runs"]), len(manifest["runs"]))
                else:
                    diff = manifest_difference(existing, manifest) if isinstance(existing, dict) else "not a manifest"
                    raise StoreError(f"--out: {self.dir} holds a different ensemble ({diff}); {_REFUSE}")
            self.manifest = manifest
        expected = self._expected(plan)
        folders = {d.name: d for d in self._run_dirs()}
        if rebuild or not self.db_path.exists():
            # every folder is about to be taken in: check them before a database is moved or made
            self._check_folders({name: self._read_run_json(d) for name, d in folders.items()}, expected)
        with self._db_errors():
            self._connect(rebuild)
            self._check_format()
            rows = self._stored_identities()
            pending = {name: self._read_run_json(d) for name, d in folders.items() if name not in rows}
            if expected is not None:
                for rid, ident in sorted(rows.items()):
                    self._check_identity(rid, ident, expected)
            self._check_folders(pending, expected)
            if manifest is not None and (existing is None or self.grown):
                try:
                    _atomic_write_text(mpath, _dumps(manifest))
                except OSError as exc:
                    raise StoreError(f"--out: cannot write {mpath}: {os_reason(exc)}") from None
            self._reconcile(rows, folders, pending)
            self._sync_parameters()

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
        # one thread: the coordinator must leave the cores to the workers
        self.con = duckdb.connect(str(self.db_path), config={"threads": 1})
        self._create_tables()

    @contextmanager
    def _db_errors(self) -> Iterator[None]:
        """Turn a DuckDB failure into one line: in use, disk full, or damaged (with the way out)."""
        import duckdb

        try:
            yield
        except duckdb.Error as exc:
            raise self._db_failure(exc) from None

    def _db_failure(self, exc: Exception, doing: str = "") -> StoreError:
        msg = " ".join(str(exc).split())
        low = msg.lower()
        if "could not set lock" in low or "conflicting lock" in low:
            return StoreError(f"--out: {self.db_path} is in use by another process ({msg[:120]})")
        if any(s in low for s in ("no space left", "disk quota", "disk full", "read-only file system",
                                  "permission denied", "input/output error")):
            return StoreError(f"--out: cannot write {self.db_path}{doing}: {msg[:200]}")
        if doing:
            return StoreError(f"--out: {self.db_path}{doing}: {msg[:200]}")
        n = sum(1 for _ in self._run_dirs())
        return StoreError(
            f"{self.db_path}: results database is damaged ({msg[:120]}); nothing was deleted -- "
            f"rerun the same command with --rebuild to move it aside and rebuild it from the "
            f"{n} run folders in {self.runs_dir}"
        )

    def _create_tables(self) -> None:
        c = self.con
        c.execute(
            """CREATE TABLE IF NOT EXISTS runs (
                run_id VARCHAR PRIMARY KEY, scenario VARCHAR, run_index INTEGER, sample INTEGER,
                seed BIGINT, scale DOUBLE, until VARCHAR, overrides VARCHAR, extra VARCHAR,
                scenario_sha256 VARCHAR, complete BOOLEAN, months INTEGER, n_events BIGINT, command VARCHAR,
                identity VARCHAR)"""
        )
        c.execute("CREATE TABLE IF NOT EXISTS summaries (run_id VARCHAR, summary VARCHAR)")
        c.execute("CREATE TABLE IF NOT EXISTS metrics (run_id VARCHAR, metric VARCHAR, value DOUBLE)")
        c.execute(
            "CREATE TABLE IF NOT EXISTS timings (run_id VARCHAR, wall_s DOUBLE, cpu_s DOUBLE, host VARCHAR, pid BIGINT)"
        )

    def param_paths(self) -> list[str]:
        """The sampled parameters' paths, from the manifest's design (the parameters table's columns)."""
        design = self.manifest.get("design") if isinstance(self.manifest, dict) else None
        params = design.get("parameters", []) if isinstance(design, dict) else []
        return [str(p["path"]) for p in params if isinstance(p, dict) and "path" in p]

    def _sync_parameters(self) -> None:
        """(Re)make the ``parameters`` table: its columns are the design's, its rows every stored run's."""
        c = self.con
        paths = self.param_paths()
        want = ["run_id", "scenario", "run_index", "sample", "seed", *paths]
        have = [r[0] for r in c.execute("DESCRIBE parameters").fetchall()] if self._has("parameters") else None
        if have != want:
            c.execute("DROP TABLE IF EXISTS parameters")
            self._known.discard("parameters")
            cols = ", ".join(f'"{q}" DOUBLE' for q in paths)
            c.execute("CREATE TABLE parameters (run_id VARCHAR PRIMARY KEY, scenario VARCHAR, run_index INTEGER, "
                      "sample INTEGER, seed BIGINT" + (f", {cols}" if cols else "") + ")")
        missing = c.execute("SELECT run_id, scenario, run_index, sample, seed, overrides FROM runs "
                            "WHERE run_id NOT IN (SELECT run_id FROM parameters) ORDER BY run_id").fetchall()
        if missing:
            c.execute("BEGIN TRANSACTION")
            for rid, scen, idx, sample, seed, ov in missing:
                c.execute(*self._parameters_insert(paths, rid, scen, idx, sample, seed, ov))
            c.execute("COMMIT")

    @staticmethod
    def _parameters_insert(paths: list[str], rid: str, scen: str, idx: int, sample: int, seed: int,
                           overrides: str) -> tuple[str, list[Any]]:
        try:
            vals = {str(p): float(v) for p, v in json.loads(overrides or "[]")}
        except (ValueError, TypeError):
            vals = {}
        row = [rid, scen, idx, sample, seed, *[vals.get(p) for p in paths]]
        return f"INSERT INTO parameters VALUES ({', '.join('?' * len(row))})", row

    def _check_format(self) -> None:
        cols = {
            r[0] for r in self.con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'runs'"
            ).fetchall()
        }
        if "identity" not in cols:
            raise StoreError(
                f"--out: {self.dir} holds runs stored without their identity (an older format); "
                "choose another --out"
            )

    def _has(self, table: str) -> bool:
        if table in self._known:
            return True
        r = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]
        ).fetchall()[0]
        if r and r[0]:
            self._known.add(table)
            return True
        return False

    def _run_dirs(self) -> Iterable[Path]:
        if not self.runs_dir.is_dir():
            return []
        return sorted(p for p in self.runs_dir.iterdir() if p.is_dir() and not p.name.startswith("."))

    # ------------------------------------------------------------------ identities
    def _stored_identities(self) -> dict[str, dict[str, Any] | None]:
        rows = self.con.execute("SELECT run_id, identity FROM runs").fetchall()
        return {rid: _parse_identity(ident) for rid, ident in rows}

    def _expected(self, plan: Sequence[RunSpec] | None) -> dict[str, dict[str, Any]] | None:
        """run_id -> the identity a stored run must have (from the plan, else what the manifest says)."""
        if plan is not None:
            return {s.run_id: s.identity() for s in plan}
        runs = self.manifest.get("runs")
        if not isinstance(runs, list):
            return None
        top = {k: self.manifest[k] for k in ("scale", "until", "panel", "events") if k in self.manifest}
        return {
            r["run_id"]: {**top, **{k: r[k] for k in ("scenario", "index", "sample", "seed") if k in r}}
            for r in runs if isinstance(r, dict) and "run_id" in r
        }

    def _check_identity(self, rid: str, stored: dict[str, Any] | None, expected: dict[str, dict[str, Any]]) -> None:
        wanted = expected.get(rid)
        if wanted is None:
            raise StoreError(f"--out: {self.dir} holds a different ensemble (run {rid} is not one of its runs); {_REFUSE}")
        diff = identity_difference(stored, wanted)
        if diff:
            raise StoreError(f"--out: {self.dir} holds a different ensemble (run {rid}: {diff}); {_REFUSE}")

    def _check_folders(self, infos: dict[str, dict[str, Any] | None], expected: dict[str, dict[str, Any]] | None) -> None:
        """Check the identity in each readable run.json (unreadable ones are repaired later)."""
        if expected is None:
            return
        for rid, info in sorted(infos.items()):
            if info is not None:
                self._check_identity(rid, _parse_identity(info["run"].get("identity")), expected)

    def _read_run_json(self, d: Path) -> dict[str, Any] | None:
        """A run folder's run.json if the folder looks whole (all its files, its own id), else None."""
        if any(not (d / f).is_file() for f in RUN_FILES):
            return None
        try:
            info = json.loads((d / "run.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not (isinstance(info, dict) and isinstance(info.get("run"), dict) and isinstance(info.get("timing"), dict)):
            return None
        return info if info["run"].get("run_id") == d.name else None

    # ------------------------------------------------------------------ recovery
    def _reconcile(
        self, rows: dict[str, Any], folders: dict[str, Path], pending: dict[str, dict[str, Any] | None]
    ) -> None:
        """Make the database and the run folders agree, repairing what can be repaired:
        a folder the database lacks is taken in (or, if damaged, set aside so that its run is
        computed again); a run whose folder is gone or incomplete is written back from the
        database; rows of no run are dropped."""
        for p in list(self.runs_dir.glob(".tmp-*")):
            shutil.rmtree(p, ignore_errors=True)
        for rid in sorted(rows):
            d = folders.get(rid)
            if d is not None and all((d / f).is_file() for f in RUN_FILES):
                continue
            if d is not None:
                self._set_aside(d, "incomplete")
            self._restore_folder(rid)
        readable = [folders[rid] for rid, info in pending.items() if info is not None]
        columns = {name: self._columns(name, readable) for name in ("panel", "events")}
        for rid in sorted(pending):
            info = pending[rid]
            reason = (
                "unreadable run.json or a missing file" if info is None
                else self._ingest_folder(folders[rid], info, columns)
            )
            if reason:
                self._set_aside(folders[rid], reason, again=True)
        for t in ("summaries", "metrics", "panel", "events", "timings", "parameters"):
            if self._has(t):
                self.con.execute(f"DELETE FROM {t} WHERE run_id NOT IN (SELECT run_id FROM runs)")

    def _warn(self, line: str) -> None:
        self.repairs.append(line)
        print(f"warning: {line}", file=sys.stderr)

    def _set_aside(self, d: Path, reason: str, again: bool = False) -> None:
        where = self.dir / DAMAGED_DIR
        try:
            where.mkdir(exist_ok=True)
            n = 1
            while (target := where / f"{d.name}.{n}").exists():
                n += 1
            os.replace(d, target)
        except OSError as exc:
            raise StoreError(f"--out: cannot move the damaged run folder {d} aside: {os_reason(exc)}") from None
        then = "; the run will be computed again" if again else ""
        self._warn(f"{RUNS_DIR}/{d.name}: {reason}; moved to {DAMAGED_DIR}/{target.name}{then}")

    def _restore_folder(self, rid: str) -> None:
        """Write a run's folder back from its rows (its folder was deleted or is incomplete)."""
        c = self.con
        tmp = self.runs_dir / f".tmp-{rid}"
        cur = c.execute("SELECT * FROM runs WHERE run_id = ?", [rid])
        names = [d[0] for d in cur.description]
        row = dict(zip(names, cur.fetchall()[0], strict=True))
        t = c.execute("SELECT wall_s, cpu_s, host, pid FROM timings WHERE run_id = ?", [rid]).fetchall()
        timing = dict(zip(("wall_s", "cpu_s", "host", "pid"), t[0], strict=True)) if t else {
            "wall_s": None, "cpu_s": None, "host": None, "pid": None}
        found = c.execute("SELECT summary FROM summaries WHERE run_id = ?", [rid]).fetchall()
        s = found[0] if found else None
        metrics = {m: (v if v is not None and math.isfinite(v) else None)
                   for m, v in c.execute("SELECT metric, value FROM metrics WHERE run_id = ?", [rid]).fetchall()}
        tables = {}
        for name in ("panel", "events"):
            if not self._has(name):
                tables[name] = None
                continue
            tables[name] = _to_arrow(c.sql(f"SELECT * EXCLUDE (run_id) FROM {name} WHERE run_id = ?", params=[rid]))
        if s is None or tables["panel"] is None or tables["events"] is None:
            c.execute("BEGIN TRANSACTION")
            for tname in TABLES:
                if self._has(tname):
                    c.execute(f"DELETE FROM {tname} WHERE run_id = ?", [rid])
            c.execute("COMMIT")
            self._warn(f"{RUNS_DIR}/{rid}: missing, and the database lacks part of the run; "
                       "the run will be computed again")
            return
        try:
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            _write_parquet(tables["panel"], tmp / "panel.parquet")
            _write_parquet(tables["events"], tmp / "events.parquet")
            (tmp / "summary.json").write_text(s[0] if s[0].endswith("\n") else s[0] + "\n", encoding="utf-8")
            (tmp / "metrics.json").write_text(_dumps(metrics), encoding="utf-8")
            (tmp / "run.json").write_text(_dumps({"run": row, "timing": timing}), encoding="utf-8")
            os.replace(tmp, self.runs_dir / rid)
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise StoreError(f"--out: cannot write the run folder {self.runs_dir / rid}: {os_reason(exc)}") from None
        self._warn(f"{RUNS_DIR}/{rid}: missing or incomplete; written back from the database")

    def _columns(self, name: str, dirs: list[Path]) -> set[str] | None:
        """The columns a run's ``name`` table must have: the database's, or else those most of
        the folders about to be taken in have (so that one foreign file cannot define the table)."""
        if self._has(name):
            return {r[0] for r in self.con.execute(f"DESCRIBE {name}").fetchall()} - {"run_id"}
        seen: Counter[tuple[str, ...]] = Counter()
        for d in dirs:
            try:
                seen[tuple(sorted(pq.read_schema(d / f"{name}.parquet").names))] += 1
            except (OSError, ValueError, pa.ArrowException):
                continue
        return set(max(sorted(seen), key=lambda k: seen[k])) if seen else None

    def _ingest_folder(self, d: Path, info: dict[str, Any], columns: dict[str, set[str] | None]) -> str | None:
        """Take a run folder into the database; the reason it cannot be read if it is damaged."""
        import duckdb

        try:
            summary = json.loads((d / "summary.json").read_text(encoding="utf-8"))
            metrics = json.loads((d / "metrics.json").read_text(encoding="utf-8"))
            metrics = {str(k): (float("nan") if v is None else float(v)) for k, v in metrics.items()}
            panel = pq.read_table(d / "panel.parquet")
            events = pq.read_table(d / "events.parquet")
        except (OSError, ValueError, TypeError, AttributeError, pa.ArrowException) as exc:
            return f"unreadable ({type(exc).__name__}: {' '.join(str(exc).split())[:80]})"
        if not isinstance(summary, dict):
            return "unreadable summary.json"
        for name, tbl in (("panel", panel), ("events", events)):
            want = columns.get(name)
            if want is not None and set(tbl.column_names) != want:
                return f"{name}.parquet has columns {sorted(tbl.column_names)}, the other runs {sorted(want)}"
        try:
            self._insert(info["run"], summary, metrics, panel, events, info["timing"])
        except duckdb.IOException:
            raise
        except (duckdb.Error, KeyError, TypeError, ValueError, pa.ArrowException) as exc:
            return f"does not fit the database ({type(exc).__name__}: {' '.join(str(exc).split())[:80]})"
        return None

    # ------------------------------------------------------------------ writing
    def done_ids(self) -> set[str]:
        with self._db_errors():
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
            "identity": canonical_json(spec.identity()),
        }
        timing = {"wall_s": round(out.wall_s, 4), "cpu_s": round(out.cpu_s, 4), "host": out.host, "pid": out.pid}
        with deferred_interrupts():
            self._add(out, spec, row, timing)

    def _add(self, out: RunOutput, spec: RunSpec, row: dict[str, Any], timing: dict[str, Any]) -> None:
        import duckdb

        final = self.runs_dir / spec.run_id
        if not final.exists():
            tmp = self.runs_dir / f".tmp-{spec.run_id}"
            try:
                shutil.rmtree(tmp, ignore_errors=True)
                tmp.mkdir(parents=True)
                _write_parquet(out.panel, tmp / "panel.parquet")
                _write_parquet(out.events, tmp / "events.parquet")
                (tmp / "summary.json").write_text(_dumps(out.summary), encoding="utf-8")
                finite = {k: (v if math.isfinite(v) else None) for k, v in out.metrics.items()}
                (tmp / "metrics.json").write_text(_dumps(finite), encoding="utf-8")
                (tmp / "run.json").write_text(_dumps({"run": row, "timing": timing}), encoding="utf-8")
                os.replace(tmp, final)
            except OSError as exc:
                shutil.rmtree(tmp, ignore_errors=True)
                raise StoreError(
                    f"--out: cannot write run {spec.run_id} into {self.runs_dir}: {os_reason(exc)}; "
                    "the runs stored so far were kept -- rerun the same command to resume"
                ) from None
        try:
            self._insert(row, out.summary, out.metrics, out.panel, out.events, timing)
        except duckdb.Error as exc:
            raise self._db_failure(
                exc, f" (storing run {spec.run_id}; its folder was kept and is taken in on resume)"
            ) from None

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
            if self._has("parameters"):
                c.execute(*self._parameters_insert(self.param_paths(), rid, row["scenario"], row["run_index"],
                                                   row["sample"], row["seed"], row["overrides"]))
            c.execute("COMMIT")
        except BaseException:
            try:
                c.unregister("_incoming")
            except Exception:  # not registered
                pass
            try:
                c.execute("ROLLBACK")
            except Exception:  # DuckDB already ended the transaction: the first error is the one to tell
                pass
            self._known.clear()  # a table created in the rolled-back transaction is gone
            raise

    # ------------------------------------------------------------------ reading
    def query(self, sql: str, params: list[Any] | None = None) -> Any:
        """A DuckDB relation result as a pandas DataFrame."""
        with self._db_errors():
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
            return pd.DataFrame()
        return df.pivot(index="run_index", columns="metric", values="value").sort_index()

    def table_digest(self, table: str) -> str:
        """SHA-256 of a table's rows in a canonical order (for executor-equivalence checks)."""
        if not self._has(table):
            return "absent"
        cols = [r[0] for r in self.con.execute(f"DESCRIBE {table}").fetchall()]
        order = ", ".join(f'"{c}"' for c in cols)
        h = hashlib.sha256()
        with self._db_errors():
            for rec in self.con.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall():
                h.update(repr(rec).encode())
        return h.hexdigest()

    def close(self) -> None:
        """Checkpoint and close the database, then let go of the folder's lock."""
        if self.con is not None:
            try:
                self.con.execute("CHECKPOINT")
            except Exception:  # closing must not mask the real error
                pass
            try:
                self.con.close()
            except Exception:  # an invalidated database (disk full) may refuse even this
                pass
            self.con = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Snapshot:
    """An ensemble folder read without its lock: works while another process is writing to it.

    The tables ``runs``, ``parameters``, ``metrics`` and ``summaries`` are built in an in-memory
    DuckDB database from the complete run folders present when it opens (a run folder appears
    whole, by an atomic rename, or not at all); ``panel`` and ``events`` are views over the run
    folders' Parquet files.  Runs finished after it opened are not in it: open a new one.

    >>> snap = Snapshot("out/ens")                                         # doctest: +SKIP
    >>> snap.query("SELECT count(*) AS n FROM runs")                       # doctest: +SKIP
    """

    def __init__(self, out_dir: str | os.PathLike[str]) -> None:
        import duckdb

        self.dir = Path(out_dir)
        mpath = self.dir / MANIFEST
        try:
            manifest = json.loads(mpath.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise StoreError(f"{self.dir}: no ensemble here (no {MANIFEST})") from None
        except (OSError, ValueError) as exc:
            raise StoreError(f"{mpath}: unreadable manifest ({exc})") from None
        if not isinstance(manifest, dict):
            raise StoreError(f"{mpath}: not an ensemble manifest")
        self.manifest = manifest
        runs_dir = self.dir / RUNS_DIR
        dirs = sorted(p for p in runs_dir.iterdir() if p.is_dir() and not p.name.startswith(".")) \
            if runs_dir.is_dir() else []
        runs: list[dict[str, Any]] = []
        metrics: list[tuple[str, str, float]] = []
        summaries: list[tuple[str, str]] = []
        kept: list[Path] = []
        for d in dirs:
            try:
                info = json.loads((d / "run.json").read_text(encoding="utf-8"))
                m = json.loads((d / "metrics.json").read_text(encoding="utf-8"))
                summary = (d / "summary.json").read_text(encoding="utf-8")
            except (OSError, ValueError):
                continue  # damaged or being set aside: the writer repairs it
            if not all((d / f).is_file() for f in RUN_FILES) or not isinstance(info, dict):
                continue
            row = info.get("run")
            if not isinstance(row, dict) or row.get("run_id") != d.name:
                continue
            runs.append(row)
            metrics += [(d.name, str(k), math.nan if v is None else float(v)) for k, v in m.items()]
            summaries.append((d.name, summary))
            kept.append(d)
        self.con = duckdb.connect(":memory:", config={"threads": 1})
        c = self.con
        c.execute("CREATE TABLE runs (run_id VARCHAR, scenario VARCHAR, run_index INTEGER, sample INTEGER, "
                  "seed BIGINT, scale DOUBLE, until VARCHAR, overrides VARCHAR, extra VARCHAR, "
                  "scenario_sha256 VARCHAR, complete BOOLEAN, months INTEGER, n_events BIGINT, command VARCHAR, "
                  "identity VARCHAR)")
        cols = [r[0] for r in c.execute("DESCRIBE runs").fetchall()]
        for row in runs:
            c.execute(f"INSERT INTO runs VALUES ({', '.join('?' * len(cols))})", [row.get(k) for k in cols])
        c.execute("CREATE TABLE metrics (run_id VARCHAR, metric VARCHAR, value DOUBLE)")
        if metrics:
            c.executemany("INSERT INTO metrics VALUES (?, ?, ?)", metrics)
        c.execute("CREATE TABLE summaries (run_id VARCHAR, summary VARCHAR)")
        if summaries:
            c.executemany("INSERT INTO summaries VALUES (?, ?)", summaries)
        probe = ResultStore(self.dir)
        probe.manifest = manifest
        paths = probe.param_paths()
        pcols = ", ".join(f'"{q}" DOUBLE' for q in paths)
        c.execute("CREATE TABLE parameters (run_id VARCHAR, scenario VARCHAR, run_index INTEGER, sample INTEGER, "
                  "seed BIGINT" + (f", {pcols}" if pcols else "") + ")")
        for row in runs:
            c.execute(*ResultStore._parameters_insert(paths, row["run_id"], row.get("scenario"), row.get("run_index"),
                                                      row.get("sample"), row.get("seed"), row.get("overrides")))
        for name in ("panel", "events"):
            files = [str(d / f"{name}.parquet") for d in kept]
            if files:
                c.execute(f"CREATE VIEW {name} AS SELECT regexp_extract(filename, '([^/\\\\]+)[/\\\\]{name}\\.parquet$', 1) "
                          f"AS run_id, * EXCLUDE (filename) FROM read_parquet({files!r}, filename = true, "
                          "union_by_name = true)")
        self.tables = ("runs", "parameters", "metrics", "summaries") + (("panel", "events") if kept else ())

    def query(self, sql: str, params: list[Any] | None = None) -> Any:
        """A query's result as a pandas DataFrame."""
        import duckdb

        try:
            return self.con.execute(sql, params or []).df()
        except duckdb.Error as exc:
            raise UsageError(f"query: {' '.join(str(exc).split())[:200]}") from None

    def param_paths(self) -> list[str]:
        """The sampled parameters (the ``parameters`` table's value columns)."""
        return [r[0] for r in self.con.execute("DESCRIBE parameters").fetchall()][5:]

    def metrics_wide(self, scenario: str) -> Any:
        """One row per run of ``scenario`` (indexed by run_index), one column per metric."""
        df = self.query("SELECT r.run_index, m.metric, m.value FROM metrics m JOIN runs r USING (run_id) "
                        "WHERE r.scenario = ? ORDER BY r.run_index, m.metric", [scenario])
        if df.empty:
            return pd.DataFrame()
        return df.pivot(index="run_index", columns="metric", values="value").sort_index()

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Snapshot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
