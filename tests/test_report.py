"""Reports: the HTML page, figures and the ``report`` command, and the page opened in a browser.

The browser test drives Debian's chromium (``tools/install_browser.sh`` installs it and
Playwright's Python package) with every network request blocked; it skips when either is
missing, except under CI (``CI=true``), where it fails instead.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

from shatterbelt import Simulation, load_scenario
from shatterbelt.report import ReportError, build_report, fan_chart, figures, plot, result_html
from shatterbelt.report.data import load
from shatterbelt.report.png import have_rasteriser

ARTIFACTS = Path(os.environ.get("SHATTERBELT_ARTIFACTS", "out/test-artifacts"))
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small run over the whole horizon (so both the calibration window and later years show)."""
    out = tmp_path_factory.mktemp("report") / "run"
    res = Simulation(load_scenario("iraq-2010"), scale=0.001, seed=3).run()
    res.write(out)
    return out


@pytest.fixture(scope="module")
def ensemble_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An ensemble folder laid out as ``shatterbelt ensemble`` writes it (three small runs)."""
    out = tmp_path_factory.mktemp("report") / "ens"
    runs = []
    for i, seed in enumerate((0, 1, 2)):
        rid = f"iraq-2010.{i:05d}"
        res = Simulation(load_scenario("iraq-2010"), scale=0.001, seed=seed, until="2013-06").run()
        res.write(out / "runs" / rid)
        runs.append({"run_id": rid, "scenario": "iraq-2010", "index": i, "sample": -1, "seed": seed})
    manifest = {"format": 1, "kind": "ensemble", "package_version": "test", "scenarios": [
        {"label": "iraq-2010", "sha256": "0" * 64}], "scale": 0.001, "until": "2013-06", "panel": "full",
        "overrides": [], "design": {"method": "none", "parameters": []}, "runs": runs}
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return out


# ---------------------------------------------------------------------------- the page
def test_run_report_is_self_contained(run_dir: Path) -> None:
    info = build_report(run_dir)
    html = Path(info.html).read_text(encoding="utf-8")
    assert info.kind == "run" and info.runs == 1
    # nothing to fetch: no src/href to anything, no url(), no import; the only URL is the SVG namespace
    assert not re.search(r"""\b(src|href)\s*=""", html)
    assert "url(" not in html and "@import" not in html
    assert set(re.findall(r"https?://[^\s\"'<>)]+", html)) == {"http://www.w3.org/2000/svg"}
    assert html.count('data-region="IQ-') == 18
    for section in ('id="map"', 'id="charts"', 'id="parameters"', 'id="facts"', "Baghdad", "geoBoundaries",
                    "out of sample", "calibration window", "Iraq Body Count", "one run"):
        assert section in html, section
    assert "scenario sha256" in html


def test_ensemble_report_has_bands_and_stays_small(ensemble_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "ens.html"
    info = build_report(ensemble_dir, out=out)
    html = out.read_text(encoding="utf-8")
    assert info.kind == "ensemble" and info.runs == 3
    assert info.bytes < 10_000_000
    assert 'data-band="0.9"' in html and 'data-band="0.5"' in html
    assert "middle 50% of runs" in html and "middle 90%" in html
    assert "median of 3 runs" in html


def test_report_of_a_real_ensemble_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("duckdb", reason="the ensemble command needs the experiments extra")
    from shatterbelt.cli.main import main

    out = tmp_path / "ens"
    assert main(["ensemble", "--runs", "2", "--scale", "0.001", "--until", "2011-06", "--workers", "1", "--quiet",
                 "--out", str(out), "--json"]) == 0
    capsys.readouterr()
    assert (out / "report.html").is_file()  # the ensemble command writes its report by default
    assert main(["report", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["kind"] == "ensemble" and doc["runs"] == 2
    assert Path(doc["html"]).read_text(encoding="utf-8").count('data-region="IQ-') == 18


def test_ensemble_without_a_panel_warns_instead_of_reporting(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("duckdb", reason="the ensemble command needs the experiments extra")
    from shatterbelt.cli.main import main

    out = tmp_path / "ens"
    assert main(["ensemble", "tests/data/tiny.yaml", "--runs", "2", "--scale", "0.5", "--until", "2010-09",
                 "--workers", "1", "--quiet", "--panel", "none", "--out", str(out), "--json"]) == 0
    cap = capsys.readouterr()
    assert json.loads(cap.out)["runs"] == 2 and "report" not in json.loads(cap.out)
    assert cap.err.count("warning: report:") == 1 and "Traceback" not in cap.err
    assert not (out / "report.html").exists()
    rc = main(["report", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: ") and err.count("\n") == 1


def test_claims_backtest_and_compare_tables(ensemble_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "ens"
    shutil.copytree(ensemble_dir, folder)
    claims = [{"claim": "c1", "title": "Withdrawal deepens the divide", "sentence": "The departure deepens it.",
               "experiment": "us-stays vs base", "world": "iraq-2010", "counterfactual": "iraq-2010+us-stays",
               "metrics": ["deaths.total"], "effect": 1234.5, "interval90": [100.0, 2000.0], "verdict": "supported",
               "share_of_parameter_space": 0.8, "samples": 4, "replicates": 2, "per_metric": []}]
    backtest = {"scenario": "iraq-2010", "targets": [
        {"target": "ibc_2011", "label": "civilian deaths 2011 (IBC)", "window": "calibration", "kind": "deaths",
         "observed": 4162.0, "source": "IBC", "runs": 3, "model_median": 4000.0, "model_lo90": 3000.0,
         "model_hi90": 5000.0, "crps.model": 0.12}], "verdicts": ["the model beats persistence"]}
    compare = {"a": "iraq-2010", "b": "iraq-2010+us-stays", "pairs": 3, "metrics": [
        {"metric": "deaths.total", "n": 3, "mean_a": 100.0, "mean_b": 80.0, "effect": -20.0, "lo": -30.0, "hi": -5.0,
         "share_positive": 0.0, "share_negative": 1.0}]}
    for name, doc in (("claims", claims), ("backtest", backtest), ("compare", compare)):
        (folder / f"{name}.json").write_text(json.dumps(doc), encoding="utf-8")
    html = Path(build_report(folder).html).read_text(encoding="utf-8")
    assert 'id="claims"' in html and "Withdrawal deepens the divide" in html and "v-supported" in html
    assert 'id="backtest"' in html and "civilian deaths 2011 (IBC)" in html and "beats persistence" in html
    assert 'id="compare"' in html and 'data-figure="compare"' in html


def test_figures_api(run_dir: Path, ensemble_dir: Path, tmp_path: Path) -> None:
    figs = figures(run_dir)
    assert figs[0].kind == "map" and len(figs[0].data["features"]) == 18
    assert {f.id for f in figs} >= {"map", "civilian-deaths", "civilian_deaths-annual", "fighters", "displaced"}
    f = plot(run_dir, "control_state", region="Anbar")
    assert f.kind == "timeseries" and "<svg" in f._repr_html_()
    spec = json.loads(json.dumps(f.to_dict()))  # renderer-neutral: plain JSON
    assert spec["data"]["series"][0]["median"]
    fan = fan_chart(ensemble_dir, "displaced")
    assert [b["level"] for b in fan.data["series"][0]["bands"]] == [0.5, 0.9]
    assert fan.save(str(tmp_path / "d.svg")).endswith(".svg")
    with pytest.raises(ReportError):
        plot(run_dir, "no_such_metric")


def test_result_html_and_in_memory_plot() -> None:
    res = Simulation(load_scenario("iraq-2010"), scale=0.001, seed=1, until="2011-06").run()
    html = result_html(res)
    assert "<svg" in html and "Key figures" in html
    assert plot(res, "civilian_deaths").kind == "timeseries"
    # the same through the Result: Result.plot and Jupyter's HTML view
    assert res.plot("civilian_deaths").kind == "timeseries" and "<svg" in res.plot().svg()
    assert "<svg" in res._repr_html_()


def test_run_command_writes_its_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from shatterbelt.cli.main import main

    assert main(["run", "tests/data/tiny.yaml", "--scale", "0.5", "--until", "2010-09", "--out",
                 str(tmp_path / "a")]) == 0
    assert f"report: {tmp_path / 'a' / 'report.html'}" in capsys.readouterr().out
    assert (tmp_path / "a" / "report.html").is_file()
    assert main(["run", "tests/data/tiny.yaml", "--scale", "0.5", "--until", "2010-09", "--no-report", "--json",
                 "--out", str(tmp_path / "b")]) == 0
    assert "report.html" not in json.loads(capsys.readouterr().out)["outputs"]
    assert not (tmp_path / "b" / "report.html").exists()


def test_load_errors(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="no such folder"):
        load(tmp_path / "absent")
    with pytest.raises(ReportError, match="neither a run"):
        load(tmp_path)


def test_figures_dir_svg_and_png(run_dir: Path, tmp_path: Path) -> None:
    info = build_report(run_dir, out=tmp_path / "r.html", figures_dir=tmp_path / "figs", png=have_rasteriser())
    names = {Path(p).name for p in info.figures}
    assert "map-violence.svg" in names and "civilian-deaths.svg" in names
    if have_rasteriser():
        png = (tmp_path / "figs" / "map-dominant.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_png_without_the_extra_is_one_line(monkeypatch: pytest.MonkeyPatch, run_dir: Path, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "resvg_py", None)
    with pytest.raises(ReportError, match=r"report extra"):
        build_report(run_dir, out=tmp_path / "r.html", figures_dir=tmp_path / "figs")


def test_report_command(run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from shatterbelt.cli.main import main

    rc = main(["report", str(run_dir), "--out", str(tmp_path / "x.html"), "--json"])
    assert rc == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["html"] == str(tmp_path / "x.html") and doc["kind"] == "run"
    rc = main(["report", str(tmp_path / "absent")])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: ") and err.count("\n") == 1


# ---------------------------------------------------------------------------- the browser
def _browser_or_skip() -> None:
    ci = os.environ.get("CI", "").lower() == "true"
    why = None
    if not Path(CHROMIUM).exists():
        why = f"{CHROMIUM} is absent (run tools/install_browser.sh)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            why = "playwright is not installed (run tools/install_browser.sh)"
    if why:
        if ci:
            pytest.fail(f"browser test under CI: {why}")
        pytest.skip(why)


def test_report_in_headless_chromium_offline(run_dir: Path) -> None:
    _browser_or_skip()
    from playwright.sync_api import sync_playwright

    html = Path(build_report(run_dir).html)
    attempted: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            ctx = browser.new_context(viewport={"width": 1500, "height": 1100})

            def block(route) -> None:  # type: ignore[no-untyped-def]
                url = route.request.url
                if url == html.as_uri():
                    route.continue_()
                else:
                    attempted.append(url)
                    route.abort()
            ctx.route("**/*", block)
            page = ctx.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(html.as_uri(), wait_until="load")
            # 18 governorates drawn with a fill
            regions = page.evaluate("""() => Array.from(document.querySelectorAll('svg[data-map] path[data-region]'))
                .map(p => [p.getAttribute('data-region'), p.getAttribute('fill'), p.getBBox().width])""")
            assert len(regions) == 18
            assert all(fill and fill != "none" and w > 0 for _, fill, w in regions)
            # every chart rendered: a visible SVG with a drawn line
            charts = page.evaluate("""() => Array.from(document.querySelectorAll('#charts svg[data-figure]'))
                .map(s => [s.getAttribute('data-figure'), s.getBoundingClientRect().width,
                           s.querySelectorAll('path[data-series]').length +
                           s.querySelectorAll('[data-band], line').length])""")
            assert len(charts) >= 8
            assert all(w > 100 and n > 0 for _, w, n in charts)
            # the month slider and the layer buttons recolour the map
            before = page.evaluate("document.querySelector('svg[data-map]').getAttribute('data-month')")
            page.fill("#month", "0")
            page.dispatch_event("#month", "input")
            after = page.evaluate("document.querySelector('svg[data-map]').getAttribute('data-month')")
            assert before != after == "2010-07"
            page.click("button[data-layer='2']")
            shown = page.evaluate("""() => Array.from(document.querySelectorAll('[data-legend]'))
                .filter(g => getComputedStyle(g).display !== 'none' && g.getBBox().height > 0)
                .map(g => g.getAttribute('data-legend'))""")
            assert shown == ["2"]
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            shot = ARTIFACTS / "report-run.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
            assert errors == []
        finally:
            browser.close()
    assert attempted == [], f"the page tried the network: {attempted}"


def test_chromium_install_script_is_present() -> None:
    script = Path(__file__).resolve().parents[1] / "tools" / "install_browser.sh"
    text = script.read_text(encoding="utf-8")
    assert "apt-get install" in text and "chromium" in text and "playwright" in text
    assert shutil.which("bash")
