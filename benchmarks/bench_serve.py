"""Load test of ``shatterbelt serve``: concurrent clients polling and submitting, within the caps.

A server is started on a free loopback port (a temporary data folder, a token, two worker
processes); ``--clients`` threads, each with its own HTTP connection, send ``--requests``
requests each, in a fixed pattern: every tenth a job submission (``POST /api/jobs``; each
client submits one of five small requests, so the jobs stay within the caps and identical
requests meet the same job), and otherwise a job's status, the health route, the results of
a finished job, or the scenario list.  Every response is checked (status code and body);
anything unexpected is an error.  At the end every submitted job must finish and the
server must still answer.

Usage::

    python benchmarks/bench_serve.py                      # 20 clients x 50 requests -> results/serve.json
    python benchmarks/bench_serve.py --clients 4 --requests 10 --out /tmp/s.json

Writes latencies (p50, p90, p99, max by kind of request), the error count with samples,
throughput and the machine.  A benchmark, not a test; ``tests/test_serve_live.py`` runs a
small version and asserts that every response is correct.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TOKEN = "bench-token-0123456789"
STATUSES = {"queued", "running", "done", "failed", "cancelled", "interrupted"}
ID = re.compile(r"^[0-9a-f]{32}$")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(data: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "shatterbelt", "serve", "--port", str(port), "--data", str(data), "--token", TOKEN,
           "--workers", str(workers), "--max-scale", "0.01", "--max-months", "12", "--max-jobs", "16"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(proc.stderr.read().decode()[-2000:])  # type: ignore[union-attr]
        try:
            r = httpx.get(f"http://127.0.0.1:{port}/api/health", headers=headers(), timeout=2)
            if r.status_code == 200 and r.json()["ready"]:  # scenarios loaded: the load starts on a warm server
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the server did not answer within 60 s")


def headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


def job_request(k: int) -> dict[str, Any]:
    """The k-th of five small requests (seeds 0..4; 4 months at scale 0.002)."""
    return {"scenario": "iraq-2010", "scale": 0.002, "until": "2010-10", "seed": k % 5, "levers": {}}


def _check(kind: str, r: httpx.Response, ids: set[str]) -> str | None:
    """None when the response is what ``kind`` must answer; otherwise why not."""
    try:
        body = r.json()
    except ValueError:
        return f"{kind}: {r.status_code} with a body that is not JSON"
    if kind == "submit":
        if r.status_code != 202 or not ID.match(body.get("id", "")) or body.get("status") not in STATUSES:
            return f"submit: {r.status_code} {str(body)[:200]}"
        ids.add(body["id"])
    elif kind == "status":
        if r.status_code != 200 or body.get("status") not in STATUSES or not 0 <= body.get("progress", -1) <= 1:
            return f"status: {r.status_code} {str(body)[:200]}"
    elif kind == "health":
        if r.status_code != 200 or body.get("status") != "ok":
            return f"health: {r.status_code} {str(body)[:200]}"
    elif kind == "summary":
        ok = (r.status_code == 200 and body.get("runs") == 1 and body["summaries"][0]["months"] == 4) or \
             (r.status_code == 409 and body.get("error", "").startswith("job:"))
        if not ok:
            return f"summary: {r.status_code} {str(body)[:200]}"
    elif kind == "scenarios":
        if r.status_code != 200 or not any(s["name"] == "iraq-2010" for s in body.get("scenarios", [])):
            return f"scenarios: {r.status_code} {str(body)[:200]}"
    return None


def client(cid: int, base: str, n: int, out: dict[str, Any], lock: threading.Lock) -> None:
    ids: set[str] = set()
    lat: dict[str, list[float]] = {}
    errors: list[str] = []
    with httpx.Client(base_url=base, headers=headers(), timeout=60) as c:
        for i in range(n):
            if i % 10 == 0:
                kind = "submit"
            elif not ids:
                kind = "health"
            else:
                kind = ("status", "status", "health", "summary", "status", "status", "summary", "status",
                        "scenarios")[(i + cid) % 9]
            jid = sorted(ids)[i % len(ids)] if ids else ""
            t0 = time.perf_counter()
            try:
                if kind == "submit":
                    r = c.post("/api/jobs", json=job_request(cid + i // 10))
                elif kind == "status":
                    r = c.get(f"/api/jobs/{jid}")
                elif kind == "summary":
                    r = c.get(f"/api/jobs/{jid}/summary")
                elif kind == "scenarios":
                    r = c.get("/api/scenarios")
                else:
                    r = c.get("/api/health")
                why = _check(kind, r, ids)
            except httpx.HTTPError as exc:
                why = f"{kind}: {type(exc).__name__}: {exc}"
            lat.setdefault(kind, []).append(time.perf_counter() - t0)
            if why:
                errors.append(why)
    with lock:
        out["ids"].update(ids)
        out["errors"] += errors
        for k, v in lat.items():
            out["latency"].setdefault(k, []).extend(v)


def _q(xs: list[float]) -> dict[str, float]:
    s = sorted(xs)

    def at(p: float) -> float:
        return round(1000 * s[min(len(s) - 1, int(p * len(s)))], 2)
    return {"n": len(s), "p50_ms": at(0.5), "p90_ms": at(0.9), "p99_ms": at(0.99), "max_ms": round(1000 * s[-1], 2)}


def run_load(clients: int = 20, requests: int = 50, workers: int = 2, job_timeout: float = 300.0) -> dict[str, Any]:
    """Start a server, run the load, wait for the jobs, stop the server; returns the figures."""
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = start(Path(tmp), port, workers)
        try:
            out: dict[str, Any] = {"ids": set(), "errors": [], "latency": {}}
            lock = threading.Lock()
            threads = [threading.Thread(target=client, args=(k, base, requests, out, lock)) for k in range(clients)]
            t0 = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - t0
            # every job finishes, and the server is alive
            final: dict[str, str] = {}
            deadline = time.monotonic() + job_timeout
            with httpx.Client(base_url=base, headers=headers(), timeout=30) as c:
                for jid in sorted(out["ids"]):
                    while True:
                        st = c.get(f"/api/jobs/{jid}").json()["status"]
                        if st not in ("queued", "running") or time.monotonic() > deadline:
                            break
                        time.sleep(0.3)
                    final[jid] = st
                alive = proc.poll() is None and c.get("/api/health").status_code == 200
            errors = out["errors"] + [f"job {j}: ended {s}" for j, s in final.items() if s != "done"]
            every = [x for v in out["latency"].values() for x in v]
            return {
                "clients": clients, "requests_per_client": requests, "requests": len(every), "workers": workers,
                "errors": len(errors), "error_samples": errors[:10], "server_alive": alive,
                "wall_seconds": round(wall, 3), "throughput_rps": round(len(every) / wall, 1),
                "latency_all": _q(every), "latency_by_kind": {k: _q(v) for k, v in sorted(out["latency"].items())},
                "jobs_submitted_unique": len(out["ids"]), "jobs_done": sum(1 for s in final.values() if s == "done"),
            }
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--requests", type=int, default=50, help="requests per client")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "serve.json")
    a = ap.parse_args()
    sys.path.insert(0, str(HERE))
    from _machine import machine

    res = run_load(a.clients, a.requests, a.workers)
    res["machine"] = machine(("fastapi", "uvicorn"))
    res["command"] = "python benchmarks/bench_serve.py " + " ".join(sys.argv[1:])
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in res.items() if k != "machine"}, indent=1))


if __name__ == "__main__":
    main()
