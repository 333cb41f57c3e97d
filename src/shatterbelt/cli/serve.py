"""``shatterbelt serve``: the web dashboard and REST API (needs the ``serve`` extra).

The server package (FastAPI, uvicorn) is imported only when the command runs, so the rest
of the command line starts without the extra; without it the command says which extra to
install, in one line.
"""

from __future__ import annotations

import importlib
import importlib.util
import socket
import sys
import warnings
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import UsageError
from ..scenario.params import ParameterRangeWarning
from .common import MissingExtra, emit_json, extra_message

app = typer.Typer()


def _check_port(host: str, port: int) -> None:
    """One line, before anything starts, when the address cannot be bound (in use, not local)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise UsageError(f"--host: cannot resolve {host}: {exc.strerror or exc}") from None
    fam, typ, proto, _, addr = infos[0]
    with socket.socket(fam, typ, proto) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(addr)
        except OSError as exc:
            raise UsageError(f"--port: cannot serve on {host}:{port}: {exc.strerror or exc}") from None


def _server_modules() -> tuple[Any, Any]:
    """``shatterbelt.serve`` and ``uvicorn``, imported now (they need the ``serve`` extra)."""
    for mod in ("fastapi", "uvicorn"):
        if importlib.util.find_spec(mod) is None:
            raise MissingExtra(extra_message("serve", "serve"))
    return importlib.import_module("shatterbelt.serve"), importlib.import_module("uvicorn")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to bind; anything but loopback needs a token")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8050,
    data: Annotated[Path, typer.Option(help="folder of the job database and the jobs' results")] = Path("out/serve"),
    token: Annotated[str | None, typer.Option(help="token every API call must send (Authorization: Bearer "
                                              "<token>); default $SHATTERBELT_TOKEN")] = None,
    workers: Annotated[int, typer.Option(help="worker processes running jobs")] = 2,
    max_scale: Annotated[float, typer.Option(help="cap: the largest scale a job may ask for")] = 0.05,
    max_runs: Annotated[int, typer.Option(help="cap: the most runs in one job")] = 10,
    max_months: Annotated[int, typer.Option(help="cap: the most months one run may simulate")] = 60,
    max_jobs: Annotated[int, typer.Option(help="cap: jobs queued or running at once")] = 16,
    max_body: Annotated[int, typer.Option(help="cap: bytes of a request body")] = 64 * 1024,
    json_: Annotated[bool, typer.Option("--json", help="print the server's address and settings as one JSON "
                                        "document when it starts")] = False,
) -> None:
    """Serve the dashboard and the REST API: pick a scenario, move the levers, run, compare."""
    srv, uvicorn = _server_modules()
    tok = srv.resolve_token(token)
    srv.check_bind(host, port, tok)
    caps = srv.Caps(max_scale=max_scale, max_runs=max_runs, max_months=max_months, max_jobs=max_jobs,
                    max_body=max_body)
    hosts = srv.loopback_hosts(host) if srv.is_loopback(host) else None
    config = srv.ServeConfig(data=data, token=tok, workers=workers, caps=caps, allowed_hosts=hosts)
    config.check()
    _check_port(host, port)
    try:
        data.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--data: cannot create {data}: {exc.strerror or exc}") from None
    if not data.is_dir():
        raise UsageError(f"--data: {data} is not a folder")
    store = importlib.import_module("shatterbelt.serve.store")
    try:
        lock = store.lock_data(data)
    except BlockingIOError:
        raise UsageError(f"--data: another server is using {data}") from None
    except OSError as exc:
        raise UsageError(f"--data: cannot write in {data}: {exc.strerror or exc}") from None
    shown = host if ":" not in host else f"[{host}]"
    url = f"http://{shown}:{port}/"
    info = {"url": url, "data": str(data), "workers": workers, "token_required": tok is not None,
            "caps": {"max_scale": max_scale, "max_runs": max_runs, "max_months": max_months, "max_jobs": max_jobs,
                     "max_body": max_body}}
    if json_:
        emit_json(info)
    else:
        print(f"shatterbelt serve: {url}{'#token=<your token>' if tok else ''} (data {data}, {workers} workers; "
              f"API spec at {url}openapi.json; Ctrl-C stops)", file=sys.stderr)
    # a lever outside its documented range is reported to the client with the job, not on the console
    warnings.filterwarnings("ignore", category=ParameterRangeWarning)
    app_ = srv.create_app(config)
    server = uvicorn.Server(uvicorn.Config(app_, host=host, port=port, log_level="warning", lifespan="on",
                                           access_log=False, timeout_graceful_shutdown=10))
    try:
        server.run()
    except SystemExit as exc:  # uvicorn ends a failed start-up this way (it logged the reason)
        raise UsageError(f"--port: could not serve on {host}:{port} (exit {exc.code})") from None
    finally:
        lock.close()
