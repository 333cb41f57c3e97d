"""What every CLI command shares: option definitions (each declared once), ``--json`` output,
and the one-line message for a command whose optional extra is missing.

An option used by several commands is declared here as an ``Annotated`` type and used as
``scale: Scale = 0.01``.  Values are validated once, by the library the command calls
(:class:`~shatterbelt.sim.Simulation`, the experiments' ensemble, the politics layer); its
:class:`~shatterbelt.errors.UsageError` becomes ``error: <field>: <reason>`` (exit status 2) in
:func:`shatterbelt.cli.main.main`.
"""

from __future__ import annotations

import importlib.util
import json
import math
import socket
import struct
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from ..errors import ShatterbeltError, UsageError

DEFAULT_SCENARIO = "iraq-2010"


# ---------------------------------------------------------------------------- validation
def check_seed(value: int) -> int:
    """``--seed`` of ``formation`` (the politics layer takes any integer a SeedSequence takes)."""
    if value < 0:
        raise UsageError(f"--seed: must be >= 0, got {value}")
    return value


#: the largest first frame a Dask scheduler's handshake announces (it is a few hundred bytes)
_MAX_HANDSHAKE = 1 << 24


def check_scheduler(address: str, timeout: float) -> None:
    """Before Dask connects, make sure ``--scheduler`` names a reachable server that speaks Dask.

    A malformed address (``::::garbage``), a port nobody listens on, and a server of another kind
    (one that sends nothing, or whose first bytes announce an absurd frame) are refused in one line;
    Dask's own client would otherwise hang, exhaust memory or print a teardown traceback.  Only
    plain ``tcp://`` addresses are probed (TLS and other transports go to Dask as given).
    """
    if not (math.isfinite(timeout) and timeout > 0):
        raise UsageError(f"--connect-timeout: must be a finite number of seconds > 0, got {timeout}")
    a = address.strip()
    if not a:
        raise UsageError("--scheduler: empty address")
    scheme, sep, rest = a.partition("://")
    if not sep:
        scheme, rest = "tcp", a
    if scheme != "tcp":
        return
    host, colon, port_s = rest.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not colon or not host or not port_s.isdigit() or not 0 < int(port_s) < 65536 or "/" in host \
            or (":" in host and not rest.startswith("[")):
        raise UsageError(f"--scheduler {a}: not an address written tcp://HOST:PORT (IPv6 as [::1]:PORT)")
    deadline = time.monotonic() + timeout
    try:
        with socket.create_connection((host, int(port_s)), timeout=timeout) as sock:
            head = b""
            while len(head) < 8:
                sock.settimeout(max(0.01, deadline - time.monotonic()))
                chunk = sock.recv(8 - len(head))
                if not chunk:
                    raise UsageError(f"--scheduler {a}: the server closed the connection; not a Dask scheduler")
                head += chunk
    except UsageError:
        raise
    except TimeoutError:
        raise UsageError(f"--scheduler {a}: no Dask handshake within {timeout:g} s (not a Dask scheduler, or "
                         "unreachable)") from None
    except (OSError, ValueError, OverflowError) as exc:
        why = getattr(exc, "strerror", None) or " ".join(str(exc).split())[:120]
        raise UsageError(f"--scheduler {a}: cannot reach the Dask scheduler ({why})") from None
    (first,) = struct.unpack("<Q", head)
    if not 0 < first <= _MAX_HANDSHAKE:
        raise UsageError(f"--scheduler {a}: the server does not speak Dask's protocol; not a Dask scheduler")


# ---------------------------------------------------------------------------- shared options
ScenarioArg = Annotated[str, typer.Argument(help="built-in name, base+variant, or a YAML file")]
Scale = Annotated[float, typer.Option(help="share of the population simulated (1.0 = every person)")]
Seed = Annotated[int, typer.Option(help="random seed (>= 0)")]
Until = Annotated[str | None, typer.Option(help="stop after this month, YYYY-MM")]
Runs = Annotated[int, typer.Option(help="number of runs (>= 1)")]
SetOpt = Annotated[list[str] | None, typer.Option("--set", help="override a parameter: path=value (repeatable)")]
ParamsFile = Annotated[
    Path | None, typer.Option("--params", help="parameter overlay YAML (e.g. from calibrate), applied before --set")
]
Json = Annotated[bool, typer.Option("--json", help="print one JSON document on stdout")]
Quiet = Annotated[bool, typer.Option(help="no progress bar")]
Backend = Annotated[
    str | None,
    typer.Option(help="per-person kernels: auto (numba whenever it can be used), numba or numpy; same results"),
]
Workers = Annotated[
    int | None, typer.Option(help="local worker processes (default: one per CPU core)")
]
Scheduler = Annotated[
    str | None, typer.Option(help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (runs go to its workers)")
]
ResultsDir = Annotated[str | None, typer.Option("--out", help="results folder (resumes what is there)")]
Rebuild = Annotated[bool, typer.Option(help="move a damaged results database aside and rebuild it from the run folders")]
ConnectTimeout = Annotated[float, typer.Option(help="seconds to wait for a Dask scheduler and its first worker")]
Vary = Annotated[list[str] | None, typer.Option(help="sample only parameters matching this glob (repeatable)")]


# ---------------------------------------------------------------------------- optional extras
#: extra -> the modules it installs (checked before a command that needs them starts)
EXTRAS: dict[str, tuple[str, ...]] = {
    "experiments": ("scipy", "duckdb", "SALib"),
    "dask": ("distributed",),
    "mesa": ("mesa",),
    "interop": ("xarray", "h5netcdf"),
}


def missing_extra(module: str) -> str | None:
    """The extra that installs ``module`` (a top-level module name), if it is an optional one."""
    for extra, modules in EXTRAS.items():
        if module in modules:
            return extra
    return None


class MissingExtra(ShatterbeltError):
    """A command needs an optional dependency that is not installed."""


def extra_message(command: str, extra: str) -> str:
    return f"{command}: needs the '{extra}' extra: pip install 'shatterbelt[{extra}]'"


def require(command: str, *extras: str) -> None:
    """Raise one line naming the extra to install when a module of ``extras`` is missing."""
    for extra in extras:
        for module in EXTRAS[extra]:
            if importlib.util.find_spec(module) is None:
                raise MissingExtra(extra_message(command, extra))


# ---------------------------------------------------------------------------- output
def _default(o: Any) -> Any:
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return None if not math.isfinite(float(o)) else float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.bool_):
        return bool(o)
    if hasattr(o, "model_dump"):
        return o.model_dump(mode="json")
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def to_json(obj: Any, indent: int | None = 2) -> str:
    """Deterministic JSON (sorted keys are *not* forced: callers order their dicts)."""
    return json.dumps(obj, default=_default, indent=indent, allow_nan=False, ensure_ascii=False)


def emit_json(obj: Any) -> None:
    """Print exactly one JSON document on stdout (the ``--json`` contract)."""
    sys.stdout.write(to_json(obj) + "\n")
    sys.stdout.flush()
