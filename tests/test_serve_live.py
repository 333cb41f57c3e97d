"""``shatterbelt serve`` as a real server: killed mid-job and restarted, under concurrent load,
fuzzed against its own OpenAPI spec, and driven in a browser.

The browser test drives Debian's chromium (``tools/install_browser.sh``) through Playwright's
``executable_path`` with every request outside the server blocked, like the report's; it
skips when either is missing, except under CI (``CI=true``), where it fails.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")

from shatterbelt.serve import Caps, ServeConfig, create_app  # noqa: E402
from tests.test_serve import SMALL, TOKEN, auth, free_port, start_server, stop_server, wait_job  # noqa: E402

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(os.environ.get("SHATTERBELT_ARTIFACTS", "out/test-artifacts"))
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def _gone(pid: int, timeout: float = 10.0) -> bool:
    """Whether process ``pid`` has ended (a zombie counts as ended) within ``timeout``."""
    import psutil

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.1)
    return False


# ---------------------------------------------------------------------------- a crash
def test_killed_mid_job_then_restarted_loses_no_finished_result(tmp_path: Path) -> None:
    port = free_port()
    caps = ["--workers", "1", "--max-scale", "0.05", "--max-runs", "10"]
    proc = start_server(tmp_path, port, TOKEN, *caps)
    base = f"http://127.0.0.1:{port}"

    def get(path: str) -> Any:
        return httpx.get(base + path, headers=auth(), timeout=30)

    def post(body: dict[str, Any]) -> dict[str, Any]:
        r = httpx.post(base + "/api/jobs", json=body, headers=auth(), timeout=30)
        assert r.status_code == 202, r.text
        return r.json()
    try:
        done = post(SMALL)["id"]
        assert wait_job(get, done)["status"] == "done"
        before = get(f"/api/jobs/{done}/summary").json()
        report_before = (tmp_path / "jobs" / done / "report.html").read_bytes()
        long = post({"scenario": "iraq-2010", "scale": 0.01, "runs": 6, "seed": 50})["id"]
        queued = post({**SMALL, "seed": 9})["id"]  # behind the long one (one worker)
        deadline = time.monotonic() + 120
        while get(f"/api/jobs/{long}").json()["progress"] < 0.05:
            assert time.monotonic() < deadline, "the long job did not start"
            time.sleep(0.1)
        with sqlite3.connect(tmp_path / "jobs.sqlite") as db:
            worker = db.execute("SELECT worker FROM jobs WHERE id=?", (long,)).fetchone()[0]
    finally:
        stop_server(proc, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    assert _gone(worker), "the worker outlived the killed server"
    # the database is whole and says what it said
    with sqlite3.connect(tmp_path / "jobs.sqlite") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT status FROM jobs WHERE id=?", (long,)).fetchone()[0] == "running"
    proc = start_server(tmp_path, port, TOKEN, *caps)
    try:
        j = get(f"/api/jobs/{long}").json()
        assert j["status"] == "interrupted" and 0.05 <= j["progress"] < 1 and "server stopped" in j["error"]
        assert get(f"/api/jobs/{long}/summary").status_code == 409
        assert get(f"/api/jobs/{done}").json()["status"] == "done"
        assert get(f"/api/jobs/{done}/summary").json() == before
        assert (tmp_path / "jobs" / done / "report.html").read_bytes() == report_before
        assert not (tmp_path / "jobs" / long).exists() and list((tmp_path / "tmp").iterdir()) == []
        # the queued job was never started: it runs now
        assert wait_job(get, queued)["status"] == "done"
        assert get(f"/api/jobs/{queued}/summary").json()["summaries"][0]["seed"] == 9
        # the interrupted request can be sent again: a new job
        again = post({"scenario": "iraq-2010", "scale": 0.01, "runs": 6, "seed": 50})
        assert again["id"] != long and again["created"] is True
        # cancelled while it runs: it stops, and leaves no files
        wait_job(get, again["id"], until=("running",))
        assert httpx.delete(f"{base}/api/jobs/{again['id']}", headers=auth()).json()["status"] == "cancelled"
        deadline = time.monotonic() + 30
        while list((tmp_path / "tmp").iterdir()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert list((tmp_path / "tmp").iterdir()) == [] and not (tmp_path / "jobs" / again["id"]).exists()
        assert get(f"/api/jobs/{again['id']}").json()["status"] == "cancelled"
        assert get("/api/health").json()["workers"] == 1
    finally:
        stop_server(proc)
    assert proc.returncode == 128 + signal.SIGTERM  # a command ended by a signal exits 128 + its number
    err = proc.stderr.read().decode()  # type: ignore[union-attr]
    assert err.strip().splitlines()[-1] == "error: interrupted (SIGTERM)", err[-2000:]
    assert "Traceback" not in err


# ---------------------------------------------------------------------------- load
def test_concurrent_clients_get_correct_answers() -> None:
    spec = importlib.util.spec_from_file_location("bench_serve", ROOT / "benchmarks" / "bench_serve.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    res = bench.run_load(clients=20, requests=6, workers=1)
    assert res["requests"] == 120
    assert res["errors"] == 0, res["error_samples"]
    assert res["server_alive"] and res["jobs_done"] == res["jobs_submitted_unique"] == 5


# ---------------------------------------------------------------------------- the spec
def _fuzz(op: Any, checks: list[Any], failures: list[str]) -> None:
    """Up to 12 generated requests to one operation; every failed check is collected."""
    from hypothesis import HealthCheck, Phase, given, settings

    @settings(max_examples=12, deadline=None, phases=[Phase.generate], suppress_health_check=list(HealthCheck),
              database=None)
    @given(case=op.as_strategy())
    def check(case: Any) -> None:
        try:
            case.call_and_validate(headers=auth(), checks=checks)
        except Exception as exc:  # noqa: BLE001  (collected, reported together)
            failures.append(f"{op.method.upper()} {op.path}: {' '.join(str(exc).split())[:400]}")
    check()


def test_schemathesis_finds_no_server_error_and_no_schema_violation(tmp_path: Path) -> None:
    schemathesis = pytest.importorskip("schemathesis")
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    app = create_app(ServeConfig(data=tmp_path, token=TOKEN, workers=1,
                                 caps=Caps(max_scale=0.002, max_runs=2, max_months=3, max_jobs=4)))
    from starlette.testclient import TestClient

    failures: list[str] = []
    with TestClient(app):  # runs the lifespan: data folder, workers
        schema = schemathesis.openapi.from_asgi("/openapi.json", app, headers=auth())
        checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
        n_ops = 0
        for result in schema.get_all_operations():
            op = result.ok()
            n_ops += 1
            _fuzz(op, checks, failures)
    assert n_ops >= 13
    assert failures == [], "\n".join(failures[:10])


# ---------------------------------------------------------------------------- the browser
def _browser_or_skip() -> None:
    ci = os.environ.get("CI", "").lower() == "true"
    why = None
    if not Path(CHROMIUM).exists():
        why = f"{CHROMIUM} is absent (run tools/install_browser.sh)"
    elif importlib.util.find_spec("playwright") is None:
        why = "playwright is not installed (run tools/install_browser.sh)"
    if why:
        if ci:
            pytest.fail(f"browser test under CI: {why}")
        pytest.skip(why)


def test_dashboard_in_headless_chromium(tmp_path: Path) -> None:
    _browser_or_skip()
    from playwright.sync_api import sync_playwright

    port = free_port()
    proc = start_server(tmp_path, port, TOKEN, "--workers", "2", "--max-scale", "0.01", "--max-months", "30")
    base = f"http://127.0.0.1:{port}"
    attempted: list[str] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                ctx = browser.new_context(viewport={"width": 1600, "height": 1200})

                def block(route: Any) -> None:
                    if route.request.url.startswith(base + "/"):
                        route.continue_()
                    else:
                        attempted.append(route.request.url)
                        route.abort()
                ctx.route("**/*", block)
                page = ctx.new_page()
                errors: list[str] = []
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.goto(f"{base}/#token={TOKEN}", wait_until="load")
                page.wait_for_selector("body[data-ready='1']", timeout=60_000)
                assert "token=" not in page.url  # the token leaves the address bar
                assert page.locator("#scenario option").count() >= 8
                # the lever shows its documented range and source
                row = page.locator(".lever[data-path='economy.corruption']")
                assert "range 0 to 0.45" in row.inner_text() and "CPI" in row.inner_text()
                # the withdrawal control starts at the timeline's own withdrawal
                assert page.input_value("#wd-month") == "2011-12" and page.input_value("#wd-residual") == "0"
                assert not page.is_checked("#wd-on")
                page.fill("#scale", "0.002")
                page.fill("#until", "2012-12")
                row.locator("input[type=range]").fill("0.44")  # move the lever
                assert row.locator("input[type=number]").input_value() == "0.44"
                assert "changed" in (row.get_attribute("class") or "")
                page.click("#run")
                page.wait_for_selector("#status[data-status='done']", timeout=120_000)
                page.wait_for_selector("#compare-section:not([hidden]) #effects tbody tr", timeout=60_000)
                regions = page.evaluate("""() => Array.from(document.querySelectorAll('#map svg[data-map] path[data-region]'))
                    .map(p => [p.getAttribute('fill'), p.getBBox().width])""")
                assert len(regions) == 18 and all(f and f != "none" and w > 0 for f, w in regions)
                charts = page.evaluate("""() => Array.from(document.querySelectorAll('#charts svg[data-figure]'))
                    .map(s => [s.getBoundingClientRect().width, s.querySelectorAll('path[data-series]').length +
                               s.querySelectorAll('[data-band], line').length])""")
                assert len(charts) >= 6 and all(w > 100 and n > 0 for w, n in charts)
                # the compare view draws both the baseline and the lever's run
                rows = page.locator("#effects tbody tr").count()
                assert rows >= 5
                assert page.locator("#compare-charts svg").count() >= 1
                # the map follows the month slider and the layer buttons
                page.fill("#month", "0")
                page.dispatch_event("#month", "input")
                assert page.evaluate("document.querySelector('#map svg[data-map]').getAttribute('data-month')") == "2010-07"
                page.click("#layers button[data-layer='2']")
                assert page.get_attribute("#layers button[data-layer='2']", "aria-pressed") == "true"
                page.fill("#month", "29")
                page.dispatch_event("#month", "input")
                # a second run with another lever value updates the charts
                job1 = page.get_attribute("#charts", "data-job")
                svg1 = page.inner_html("#charts [data-chart='civilian-deaths']")
                row.locator("input[type=range]").fill("0.16")
                page.click("#run")
                page.wait_for_function(f"document.querySelector('#charts').getAttribute('data-job') !== '{job1}'",
                                       timeout=120_000)
                assert page.inner_html("#charts [data-chart='civilian-deaths']") != svg1
                page.wait_for_selector("#compare-section:not([hidden]) #effects tbody tr", timeout=60_000)
                assert page.get_attribute("#report-link", "href").startswith("/api/jobs/")
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                shot = ARTIFACTS / "dashboard.png"
                page.screenshot(path=str(shot), full_page=True)
                assert shot.stat().st_size > 20_000
                assert errors == []
            finally:
                browser.close()
    finally:
        stop_server(proc)
    assert attempted == [], f"the page tried to reach outside the server: {attempted}"


def test_screenshot_in_docs_is_present() -> None:
    png = ROOT / "docs" / "dashboard-screenshot.png"
    assert png.exists() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "dashboard-screenshot.png" in (ROOT / "docs" / "dashboard.md").read_text(encoding="utf-8")
    assert shutil.which("bash") and json.dumps({})  # the docs' curl examples are shell
