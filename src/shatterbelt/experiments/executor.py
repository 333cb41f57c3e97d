"""Where runs execute: in this process, on local worker processes, or on a Dask cluster.

Every executor takes a list of :class:`RunSpec` and calls ``on_result`` in the
coordinating process as each run finishes (in completion order; the store does
not care about order).  Only the coordinator writes results, so the DuckDB
database has a single writer whichever executor is used.

Interrupting (Ctrl-C, SIGTERM) stops handing out runs, stops the workers, and
re-raises ``KeyboardInterrupt``: the runs already recorded stay, the ones in
flight are simply run again on resume.  Local workers also exit on their own
if the coordinator is killed outright (they watch their parent process), so a
``kill -9`` leaves no orphans behind.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any, Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from .. import __version__
from ..errors import ShatterbeltError, UsageError
from .runner import (
    SINGLE_THREAD_ENV,
    RunOutput,
    RunSpec,
    execute_run,
    execute_run_single_threaded,
    worker_version,
)

OnResult = Callable[[RunOutput, RunSpec], None]


class RunFailures(ShatterbeltError):
    """Some runs raised; the others were kept."""


class Executor(Protocol):
    name: str

    def run(self, specs: list[RunSpec], on_result: OnResult) -> list[tuple[str, str]]:
        """Execute ``specs``; return (run_id, error) for runs that raised."""
        ...

    def close(self) -> None: ...


def _err(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:300]


def _interrupted(exc: BaseException) -> bool:
    """True when ``exc`` wraps a KeyboardInterrupt (numba's dispatcher turns an exception raised by a
    signal handler during a kernel into ``SystemError: ... returned a result with an exception set``)."""
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        if isinstance(e, KeyboardInterrupt):
            return True
        seen.add(id(e))
        e = e.__cause__ or e.__context__
    return isinstance(exc, SystemError) and "exception set" in str(exc)


class InProcess:
    """Runs one after another in this process (``--workers 1``)."""

    name = "in-process"

    def run(self, specs: list[RunSpec], on_result: OnResult) -> list[tuple[str, str]]:
        failed = []
        for s in specs:
            try:
                out = execute_run(s)
            except KeyboardInterrupt:
                raise
            except Exception as exc:  # a model error in one run must not lose the others
                if _interrupted(exc):  # a signal met inside a compiled kernel: an interrupt, not a failure
                    raise KeyboardInterrupt from exc
                failed.append((s.run_id, _err(exc)))
                continue
            on_result(out, s)
        return failed

    def close(self) -> None:
        pass


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(1)


def _worker_init(parent: int) -> None:
    """Local workers ignore Ctrl-C (the coordinator stops them) and die with their parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


class LocalPool:
    """Local worker processes (``--workers K``), started fresh with ``spawn``."""

    name = "local"

    def __init__(self, workers: int) -> None:
        self.workers = workers
        # workers are spawned with this environment: one thread each, K workers on K cores
        self._saved_env = {k: os.environ.get(k) for k in SINGLE_THREAD_ENV}
        for k, v in SINGLE_THREAD_ENV.items():
            os.environ.setdefault(k, v)
        self.pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=mp.get_context("spawn"), initializer=_worker_init,
            initargs=(os.getpid(),),
        )

    def run(self, specs: list[RunSpec], on_result: OnResult) -> list[tuple[str, str]]:
        failed: list[tuple[str, str]] = []
        pending = list(reversed(specs))
        running: dict[Any, RunSpec] = {}
        # a bounded queue: interrupting then cancels nothing expensive
        while pending or running:
            while pending and len(running) < 2 * self.workers:
                s = pending.pop()
                running[self.pool.submit(execute_run, s)] = s
            done, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for f in sorted(done, key=lambda f: running[f].index):
                s = running.pop(f)
                try:
                    out = f.result()
                except BrokenProcessPool:
                    raise ShatterbeltError(
                        "a local worker process died (out of memory?); the finished runs were kept -- "
                        "rerun the same command to resume"
                    ) from None
                except Exception as exc:
                    failed.append((s.run_id, _err(exc)))
                    continue
                on_result(out, s)
        return failed

    def close(self) -> None:
        procs = list(getattr(self.pool, "_processes", {}).values())
        self.pool.shutdown(wait=False, cancel_futures=True)
        for p in procs:
            if p.is_alive():
                p.terminate()
        for p in procs:
            p.join(timeout=5)
        for k, v in self._saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def normalise_address(address: str) -> str:
    a = address.strip()
    if not a:
        raise UsageError("--scheduler: empty address")
    if "://" not in a:
        a = "tcp://" + a
    return a


class DaskCluster:
    """A Dask distributed scheduler (``--scheduler tcp://HOST:PORT``) and its workers."""

    name = "dask"

    def __init__(self, address: str, connect_timeout: float = 10.0, tag: str = "") -> None:
        try:
            from distributed import Client
        except ImportError:  # pragma: no cover - a core dependency
            raise UsageError("--scheduler: the 'distributed' package is not installed") from None
        self.address = normalise_address(address)
        self.tag = tag
        try:
            self.client = Client(self.address, timeout=f"{connect_timeout}s", set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise UsageError(
                f"--scheduler {self.address}: cannot reach the Dask scheduler ({' '.join(str(exc).split())[:160]})"
            ) from None
        try:
            self.client.wait_for_workers(1, timeout=connect_timeout)
        except (TimeoutError, OSError):
            self.client.close()
            raise UsageError(f"--scheduler {self.address}: no Dask worker connected within {connect_timeout:g} s") from None
        versions = self.client.run(worker_version)
        bad = {w: v for w, v in versions.items() if v != __version__}
        if bad:
            w, v = next(iter(bad.items()))
            self.client.close()
            raise UsageError(
                f"--scheduler {self.address}: worker {w} runs shatterbelt {v}, this is {__version__}; "
                "install the same version on every worker"
            )

    def run(self, specs: list[RunSpec], on_result: OnResult) -> list[tuple[str, str]]:
        from distributed import as_completed

        failed: list[tuple[str, str]] = []
        by_key = {}
        futures = []
        for s in specs:
            f = self.client.submit(execute_run_single_threaded, s, key=f"shatterbelt-{self.tag}-{s.run_id}", pure=False)
            by_key[f.key] = s
            futures.append(f)
        try:
            for f in as_completed(futures, loop=self.client.loop):
                s = by_key[f.key]
                try:
                    out = f.result()
                except Exception as exc:
                    failed.append((s.run_id, _err(exc)))
                    continue
                on_result(out, s)
                f.release()
        except BaseException:
            self.client.cancel(futures)
            raise
        return failed

    def close(self) -> None:
        try:
            self.client.close()
        except Exception:  # closing must not mask the real error
            pass


def make_executor(workers: int | None, scheduler: str | None, connect_timeout: float = 10.0, tag: str = "") -> Executor:
    """The executor for ``--workers`` / ``--scheduler`` (default: one process per CPU core)."""
    if scheduler:
        if workers is not None:
            raise UsageError("--workers and --scheduler: give one or the other (Dask workers are started apart)")
        return DaskCluster(scheduler, connect_timeout, tag)
    if workers is None:
        workers = os.cpu_count() or 1
    if workers < 1:
        raise UsageError(f"--workers: must be >= 1, got {workers}")
    return InProcess() if workers == 1 else LocalPool(workers)


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM and SIGHUP like Ctrl-C while an ensemble runs, so that a killed job cleans up.

    A handler installed before (the CLI's, which notes the signal for the exit status) is called first.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    sigs = [signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])
    old: dict[int, Any] = {}

    def handler(signum: int, frame: Any) -> None:
        before = old.get(signum)
        if callable(before) and before is not signal.default_int_handler:
            before(signum, frame)
        raise KeyboardInterrupt

    for s in sigs:
        old[s] = signal.signal(s, handler)
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


@contextmanager
def progress_bar(total: int, description: str, enabled: bool) -> Iterator[Callable[[int], None]]:
    """A rich progress bar on stderr (never stdout); ``advance(n)`` moves it."""
    if not enabled or total <= 0:
        yield lambda n=1: None
        return
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TimeRemainingColumn(), console=Console(stderr=True), transient=True,
    ) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n=1: bar.advance(task, n)


def show_progress(quiet: bool) -> bool:
    """Progress bars only for a person watching stderr."""
    return not quiet and sys.stderr.isatty()
