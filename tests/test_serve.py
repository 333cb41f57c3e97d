"""The REST API of ``shatterbelt serve``, in process: jobs from submission to results, the
scenario schema and the caps refusing requests with a line naming the field, cancellation,
the token on every route of the spec, and the job store's recovery after a crash.

The helpers at the top (a live server in a subprocess) are shared by ``test_serve_live.py``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")

from shatterbelt.cli.main import main  # noqa: E402
from shatterbelt.serve import Caps, ServeConfig, create_app  # noqa: E402
from shatterbelt.serve.store import JobStore  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "test-token-0123456789"
SMALL = {"scenario": "iraq-2010", "scale": 0.002, "until": "2010-10"}


# ---------------------------------------------------------------------------- helpers (shared)
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def auth(token: str | None = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def start_server(data: Path, port: int, token: str | None = None, *args: str) -> subprocess.Popen[bytes]:
    """``shatterbelt serve`` in a subprocess, returned once /api/health answers."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT), os.environ.get("PYTHONPATH", "")])}
    env.pop("SHATTERBELT_TOKEN", None)
    cmd = [sys.executable, "-m", "shatterbelt", "serve", "--port", str(port), "--data", str(data), *args]
    if token:
        cmd += ["--token", token]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server ended: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", headers=auth(token), timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise AssertionError("server did not answer within 60 s")


def stop_server(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def wait_job(get: Any, jid: str, timeout: float = 120.0, until: tuple[str, ...] = ("done", "failed", "cancelled",
                                                                                     "interrupted")) -> dict[str, Any]:
    """Poll ``GET /api/jobs/{id}`` (``get(path)`` returns a response) until the job's status is in ``until``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        j = get(f"/api/jobs/{jid}").json()
        if j["status"] in until:
            return j
        time.sleep(0.2)
    raise AssertionError(f"job {jid} still {j['status']} after {timeout} s")


# ---------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from starlette.testclient import TestClient

    data = tmp_path_factory.mktemp("serve")
    app = create_app(ServeConfig(data=data, token=None, workers=1,
                                 caps=Caps(max_scale=0.01, max_runs=3, max_months=12, max_jobs=8, max_body=4096)))
    with TestClient(app) as c:
        c.data = data  # type: ignore[attr-defined]
        yield c


@pytest.fixture()
def idle(tmp_path: Path) -> Iterator[Any]:
    """A server without workers (jobs stay queued) and with a token."""
    from starlette.testclient import TestClient

    app = create_app(ServeConfig(data=tmp_path, token=TOKEN, workers=1, caps=Caps(max_jobs=2, max_body=2048)),
                     start_workers=False)
    with TestClient(app) as c:
        yield c


# ---------------------------------------------------------------------------- the API
def test_scenarios_list_variants_and_levers_with_provenance(client: Any) -> None:
    d = client.get("/api/scenarios").json()
    names = {s["name"]: s for s in d["scenarios"]}
    assert d["default"] == "iraq-2010" and "iraq-2010+us-stays" in names and "iraq-2010+autocracy" in names
    assert names["iraq-2010+us-stays"]["kind"] == "variant"
    levers = {lv["path"]: lv for lv in names["iraq-2010"]["levers"]}
    cor = levers["economy.corruption"]
    assert cor["value"] == 0.3 and cor["range"] == [0.0, 0.45] and "CPI" in cor["source"]
    assert levers["army.infiltration"]["kind"] == "seed claim"
    assert names["iraq-2010+autocracy"]["levers"] and d["caps"]["max_scale"] == 0.01
    wd = names["iraq-2010"]["withdrawal"]
    assert wd["force"] == "us_forces" and wd["month"] == "2011-12" and wd["residual"] == 0 and "Dec 2011" in wd["source"]
    assert names["iraq-2010+us-stays"]["withdrawal"] is None  # the US stays: no withdrawal in its timeline
    params = client.get("/api/scenarios/iraq-2010/parameters").json()["parameters"]
    assert len(params) > 300 and all({"path", "value", "range", "source"} <= set(p) for p in params)


def test_a_job_runs_and_its_results_come_back(client: Any) -> None:
    req = {**SMALL, "levers": {"economy.corruption": 0.6, "actors.aqi.size": 2000}}
    r = client.post("/api/jobs", json=req)
    assert r.status_code == 202
    body = r.json()
    assert body["status"] == "queued" and body["created"] is True
    assert any("economy.corruption" in n and "outside" in n for n in body["notes"])
    jid = body["id"]
    again = client.post("/api/jobs", json=req).json()  # an identical request is the same job
    assert again["id"] == jid and again["created"] is False
    j = wait_job(client.get, jid)
    assert j["status"] == "done" and j["progress"] == 1.0 and j["month"] == "2010-10"
    assert j["request"]["levers"] == {"actors.aqi.size": 2000.0, "economy.corruption": 0.6}
    assert j["notes"] == body["notes"] and j["error"] is None
    s = client.get(f"/api/jobs/{jid}/summary").json()
    assert s["runs"] == 1 and s["summaries"][0]["months"] == 4 and s["summaries"][0]["scale"] == 0.002
    idx = client.get(f"/api/jobs/{jid}/panel").json()
    assert "civilian_deaths" in idx["national_metrics"] and len(idx["regions"]) == 18
    sl = client.get(f"/api/jobs/{jid}/panel/civilian_deaths").json()
    assert sl["months"] == ["2010-07", "2010-08", "2010-09", "2010-10"]
    assert sum(sl["values"]) == sum(s["summaries"][0]["civilian_deaths_by_year"].values())
    assert client.get(f"/api/jobs/{jid}/panel/population", params={"region": "IQ-BG"}).json()["values"][0] > 0
    assert client.get(f"/api/jobs/{jid}/panel/no_such_metric").status_code == 404
    ev = client.get(f"/api/jobs/{jid}/events", params={"limit": 5}).json()
    assert ev["total"] > 5 and len(ev["events"]) == 5 and {"event_type", "fatalities"} <= set(ev["events"][0])
    f = client.get(f"/api/jobs/{jid}/figures").json()
    assert f["map"]["svg"].count('data-region="IQ-') == 18 and len(f["map"]["layers"]) >= 4
    assert len(f["map"]["layers"][0]["cls"]) == 4 and len(f["charts"]) >= 6
    rep = client.get(f"/api/jobs/{jid}/report")
    assert rep.headers["content-type"].startswith("text/html") and 'id="map"' in rep.text
    # the comparison needs the baseline: the same request without levers
    r = client.get(f"/api/jobs/{jid}/compare")
    assert r.status_code == 404 and r.json()["error"].startswith("baseline:")
    base = client.post("/api/jobs", json=SMALL).json()["id"]
    assert wait_job(client.get, base)["status"] == "done"
    c = client.get(f"/api/jobs/{jid}/compare").json()
    assert c["baseline"] == base
    eff = {e["metric"]: e for e in c["effects"]}
    civ_a = sum(client.get(f"/api/jobs/{base}/summary").json()["summaries"][0]["civilian_deaths_by_year"].values())
    assert eff["civilian_deaths"]["mean_a"] == civ_a
    assert eff["civilian_deaths"]["effect"] == eff["civilian_deaths"]["mean_b"] - civ_a
    assert c["charts"] and all("<svg" in x["svg"] for x in c["charts"])
    listed = client.get("/api/jobs").json()["jobs"]
    assert {jid, base} <= {x["id"] for x in listed}


def test_the_withdrawal_lever_moves_the_date_and_leaves_a_residual_force(client: Any) -> None:
    import yaml

    req = {**SMALL, "withdrawal": {"month": "2010-08", "residual": 20000}}
    jid = client.post("/api/jobs", json=req).json()["id"]
    j = wait_job(client.get, jid)
    assert j["status"] == "done" and j["request"]["withdrawal"] == {"month": "2010-08", "residual": 20000.0}
    sc = yaml.safe_load((client.data / "jobs" / jid / "scenario.resolved.yaml").read_text())
    troops = [(str(e["date"]), e["level"]) for e in sc["timeline"] if e["type"] == "foreign_troops"]
    assert troops == [("2010-06-04", 88000), ("2010-08-15", 20000)]
    total = [sum(client.get(f"/api/jobs/{jid}/panel/foreign_troops", params={"region": r}).json()["values"][m]
                 for r in client.get(f"/api/jobs/{jid}/panel").json()["regions"]) for m in (0, 2, 3)]
    assert total == [88000, 20000, 20000]


def test_a_small_ensemble_is_a_job(client: Any) -> None:
    jid = client.post("/api/jobs", json={**SMALL, "runs": 3, "seed": 11}).json()["id"]
    assert wait_job(client.get, jid)["status"] == "done"
    s = client.get(f"/api/jobs/{jid}/summary").json()
    assert s["runs"] == 3 and [x["seed"] for x in s["summaries"]] == [11, 12, 13]
    assert client.get(f"/api/jobs/{jid}/panel/civilian_deaths", params={"run": 2}).json()["run"] == 2
    assert client.get(f"/api/jobs/{jid}/panel/civilian_deaths", params={"run": 3}).status_code == 422
    assert "median of 3 runs" in client.get(f"/api/jobs/{jid}/report").text


@pytest.mark.parametrize(("body", "field"), [
    ({"scenario": "../../etc/passwd"}, "scenario:"),
    ({"scenario": "/tmp/x.yaml"}, "scenario:"),
    ({"scenario": "nowhere"}, "scenario: 'nowhere' is not a built-in scenario"),
    ({"scenario": "iraq-2010+nope"}, "scenario: 'nope' is not a built-in variant"),
    ({"levers": {"economy.nope": 1}}, "levers.economy.nope"),
    ({"levers": {"economy.corruption": 5}}, "levers.economy.corruption: 5 is outside the domain"),
    ({"levers": {"../x": 1}}, "levers:"),
    ({"levers": {"economy.corruption": "a lot"}}, "levers.economy.corruption:"),
    ({"scale": 0.5}, "scale: 0.5 is above this server's cap"),
    ({"scale": 0}, "scale:"),
    ({"scale": 0.0000001, "until": "2010-08"}, "scale: 1e-07 gives region"),
    ({"runs": 4}, "runs: 4 is above this server's cap"),
    ({"until": "2014-12"}, "until: 54 months is above this server's cap"),
    ({"until": "2009-01"}, "until: 2009-01 is outside"),
    ({"until": "2010-13"}, "until:"),
    ({"seed": -1}, "seed:"),
    ({"file": "/etc/passwd"}, "file: Extra inputs are not permitted"),
    ({"withdrawal": {"month": "2016-01"}}, "withdrawal.month: 2016-01 is outside the scenario's 2010-07..2014-12"),
    ({"withdrawal": {"month": "2011-12", "residual": -5}}, "withdrawal.residual:"),
    ({"withdrawal": {"residual": 5}}, "withdrawal.month: Field required"),
])
def test_a_bad_request_is_422_naming_the_field(client: Any, body: dict[str, Any], field: str) -> None:
    r = client.post("/api/jobs", json={**SMALL, **body})
    assert r.status_code == 422, r.text
    assert r.json()["error"].startswith(field) or field in r.json()["error"], r.json()
    assert "\n" not in r.json()["error"]


def test_bad_paths_and_ids(client: Any) -> None:
    assert client.get("/api/jobs/not-an-id").status_code == 422
    r = client.get("/api/jobs/" + "0" * 32)
    assert r.status_code == 404 and r.json() == {"error": f"job: no job {'0' * 32}"}
    assert client.get("/api/nothing").status_code == 404
    assert client.get("/static/../../pyproject.toml").status_code == 404
    page = client.get("/").text
    assert page.startswith("<!DOCTYPE html>")
    # the page and its files reference nothing outside the server
    for text in (page, client.get("/static/app.js").text, client.get("/static/style.css").text):
        assert "http://" not in text and "https://" not in text and "url(" not in text and "@import" not in text
    assert client.get("/docs").status_code == 404  # FastAPI's docs page would load a CDN


def test_caps_body_limit_cancel_and_too_many_jobs(idle: Any) -> None:
    h = auth()
    big = {**SMALL, "levers": {f"economy.x{i:04d}": 0.1 for i in range(200)}}
    r = idle.post("/api/jobs", json=big, headers=h)
    assert r.status_code == 413 and r.json()["error"].startswith("body:")
    a = idle.post("/api/jobs", json={**SMALL, "seed": 1}, headers=h).json()
    b = idle.post("/api/jobs", json={**SMALL, "seed": 2}, headers=h).json()
    assert a["status"] == b["status"] == "queued"
    r = idle.post("/api/jobs", json={**SMALL, "seed": 3}, headers=h)
    assert r.status_code == 429 and "cap is 2" in r.json()["error"]
    assert idle.get(f"/api/jobs/{a['id']}/summary", headers=h).status_code == 409
    assert idle.delete(f"/api/jobs/{a['id']}", headers=h).json()["status"] == "cancelled"
    assert idle.delete(f"/api/jobs/{a['id']}", headers=h).json()["status"] == "cancelled"
    assert idle.delete("/api/jobs/" + "1" * 32, headers=h).status_code == 404
    # a slot is free again
    assert idle.post("/api/jobs", json={**SMALL, "seed": 3}, headers=h).status_code == 202
    counts = idle.get("/api/health", headers=h).json()["jobs"]
    assert counts["queued"] == 2 and counts["cancelled"] == 1


def _fill(path: str) -> str:
    return path.replace("{job_id}", "0" * 32).replace("{name}", "iraq-2010").replace("{metric}", "civilian_deaths")


def test_without_the_token_every_route_of_the_spec_is_401(idle: Any) -> None:
    spec = idle.get("/openapi.json", headers=auth()).json()
    routes = [(m.upper(), p) for p, ops in spec["paths"].items() for m in ops]
    assert len(routes) >= 13
    for method, path in routes + [("GET", "/openapi.json")]:
        for headers in ({}, auth("wrong-token-xyz"), {"Authorization": "Basic abc"}, {"X-Shatterbelt-Token": "no"}):
            r = idle.request(method, _fill(path), headers=headers, json=SMALL if method == "POST" else None)
            assert r.status_code == 401, (method, path, headers, r.status_code)
            assert r.json()["error"].startswith("token:") and r.headers["www-authenticate"] == "Bearer"
    assert idle.get("/api/health", headers=auth()).status_code == 200
    assert idle.get("/api/health", headers={"X-Shatterbelt-Token": TOKEN}).status_code == 200
    assert idle.get("/").status_code == 200  # the page itself holds no data; it asks for the token


# ---------------------------------------------------------------------------- the store and the command
def test_store_recovery_marks_running_jobs_interrupted_unless_written_whole(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite")
    ids = [store.submit({**SMALL, "seed": i}, 10)[0]["id"] for i in range(3)]
    for _ in range(2):
        assert store.claim(worker=4242) is not None
    assert store.progress(ids[0], 0.5, "2010-08") == "running"
    written = {ids[1]}
    out = store.recover(lambda jid: jid in written)
    assert out == {"done": [ids[1]], "interrupted": [ids[0]]}
    assert store.get(ids[0])["status"] == "interrupted" and store.get(ids[0])["progress"] == 0.5
    assert store.get(ids[1])["status"] == "done" and store.get(ids[2])["status"] == "queued"
    assert store.finish(ids[0], "done") is False  # a worker cannot revive an interrupted job


@pytest.mark.parametrize(("argv", "start"), [
    (["serve", "--host", "0.0.0.0"], "error: --host: 0.0.0.0 is not a loopback address"),
    (["serve", "--workers", "0"], "error: --workers: must be >= 1"),
    (["serve", "--max-scale", "2"], "error: --max-scale: must be in (0, 1]"),
    (["serve", "--token", "short"], "error: --token: must be at least 8 characters"),
    (["serve", "--port", "70000"], "error: --port: must be in 0..65535"),
])
def test_serve_refuses_bad_settings_in_one_line(argv: list[str], start: str, capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHATTERBELT_TOKEN", raising=False)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(start) and err.count("\n") == 1, err


def test_serve_refuses_a_data_folder_in_use_and_a_busy_port(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from shatterbelt.serve.store import lock_data

    held = lock_data(tmp_path)
    try:
        assert main(["serve", "--data", str(tmp_path), "--port", str(free_port())]) == 2
        assert capsys.readouterr().err == f"error: --data: another server is using {tmp_path}\n"
    finally:
        held.close()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["serve", "--data", str(tmp_path / "d"), "--port", str(port)]) == 2
        assert capsys.readouterr().err.startswith(f"error: --port: cannot serve on 127.0.0.1:{port}")


def test_serve_json_prints_one_document(tmp_path: Path) -> None:
    port = free_port()
    proc = start_server(tmp_path, port, TOKEN, "--json", "--workers", "1")
    try:
        stop_server(proc)
        doc = json.loads(proc.stdout.read().decode())  # type: ignore[union-attr]
        assert doc["url"] == f"http://127.0.0.1:{port}/" and doc["token_required"] is True
        assert TOKEN not in json.dumps(doc)
    finally:
        stop_server(proc, signal.SIGKILL)


def test_a_loopback_server_answers_only_its_loopback_names(tmp_path: Path) -> None:
    """A page elsewhere cannot reach the server by a name of its own pointed at 127.0.0.1."""
    port = free_port()
    proc = start_server(tmp_path, port, None, "--workers", "1")
    try:
        url = f"http://127.0.0.1:{port}/api/health"
        assert httpx.get(url, headers={"Host": f"localhost:{port}"}).status_code == 200
        assert httpx.get(url, headers={"Host": f"[::1]:{port}"}).status_code == 200
        for host in (f"evil.example:{port}", "attacker.test", f"127.0.0.1.nip.io:{port}"):
            r = httpx.get(url, headers={"Host": host})
            assert r.status_code == 400 and r.json()["error"].startswith("host:"), host
            assert httpx.get(f"http://127.0.0.1:{port}/", headers={"Host": host}).status_code == 400
    finally:
        stop_server(proc)


def test_serve_without_its_extra_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.util

    from shatterbelt.cli import serve as serve_cli

    real = importlib.util.find_spec
    monkeypatch.setattr(serve_cli.importlib.util, "find_spec",
                        lambda name, *a: None if name == "fastapi" else real(name, *a))
    assert main(["serve"]) == 2
    assert capsys.readouterr().err == "error: serve: needs the 'serve' extra: pip install 'shatterbelt[serve]'\n"
