"""The server's settings: where it keeps jobs, its token, its worker pool and its caps."""

from __future__ import annotations

import ipaddress
import math
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UsageError

#: the environment variable that holds the token when ``--token`` is not given
TOKEN_ENV = "SHATTERBELT_TOKEN"


@dataclass(frozen=True)
class Caps:
    """What one request may ask for; past a cap the API answers 4xx naming the cap."""

    max_scale: float = 0.05
    max_runs: int = 10
    max_months: int = 60
    max_jobs: int = 16  # queued + running at once
    max_levers: int = 64
    max_body: int = 64 * 1024  # bytes of a request body

    def check(self) -> None:
        if not (math.isfinite(self.max_scale) and 0 < self.max_scale <= 1):
            raise UsageError(f"--max-scale: must be in (0, 1], got {self.max_scale}")
        for name, v in (("--max-runs", self.max_runs), ("--max-months", self.max_months),
                        ("--max-jobs", self.max_jobs), ("--max-body", self.max_body)):
            if v < 1:
                raise UsageError(f"{name}: must be >= 1, got {v}")
        if self.max_body < 1024:
            raise UsageError(f"--max-body: must be at least 1024 bytes, got {self.max_body}")


@dataclass(frozen=True)
class ServeConfig:
    """Everything :func:`shatterbelt.serve.create_app` needs."""

    data: Path = Path("serve-data")
    token: str | None = None
    workers: int = 2
    caps: Caps = field(default_factory=Caps)
    poll_seconds: float = 0.2  # how often an idle worker looks for a queued job
    #: Host headers answered (None: any); a loopback server answers only its loopback names, so a web page
    #: elsewhere cannot reach it by pointing a name of its own at 127.0.0.1 (DNS rebinding)
    allowed_hosts: tuple[str, ...] | None = None

    def check(self) -> None:
        if self.workers < 1:
            raise UsageError(f"--workers: must be >= 1, got {self.workers}")
        if self.workers > 64:
            raise UsageError(f"--workers: at most 64, got {self.workers}")
        if self.token is not None and len(self.token) < 8:
            raise UsageError("--token: must be at least 8 characters")
        if self.token is not None and not self.token.isprintable():
            raise UsageError("--token: must be printable characters")
        self.caps.check()


def resolve_token(flag: str | None) -> str | None:
    """``--token``, else ``$SHATTERBELT_TOKEN``, else None (an empty value counts as none)."""
    tok = flag if flag is not None else os.environ.get(TOKEN_ENV)
    tok = tok.strip() if tok is not None else None
    return tok or None


def is_loopback(host: str) -> bool:
    """Whether ``host`` binds only the loopback interface (127.0.0.0/8, ::1, localhost)."""
    h = host.strip().strip("[]")
    if h == "localhost":
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(h, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(i[4][0]).is_loopback for i in infos)


def loopback_hosts(host: str) -> tuple[str, ...]:
    """The Host names a server bound to loopback ``host`` answers."""
    return tuple(dict.fromkeys(["127.0.0.1", "localhost", "::1", host.strip().strip("[]").lower()]))


def check_bind(host: str, port: int, token: str | None) -> None:
    """Refuse a non-loopback address without a token, and a port out of range (one line each)."""
    if not host.strip():
        raise UsageError("--host: empty address")
    if not 0 <= port <= 65535:
        raise UsageError(f"--port: must be in 0..65535, got {port}")
    if token is None and not is_loopback(host):
        raise UsageError(f"--host: {host} is not a loopback address; serving it needs a token "
                         f"(--token or ${TOKEN_ENV})")
