"""Screenshot of a report for the docs: headless chromium, network blocked, PNG palette-reduced.

    python tools/report_screenshot.py out/iraq-2010/report.html docs/report-screenshot.png

Needs tools/install_browser.sh (Debian's chromium and Playwright's Python package).
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def main(html: str, out: str, width: int = 1500, height: int = 1400) -> None:
    uri = Path(html).resolve().as_uri()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": width, "height": height})
        page.route("**/*", lambda r: r.continue_() if r.request.url == uri else r.abort())
        page.goto(uri, wait_until="load")
        png = page.screenshot(full_page=False)
        browser.close()
    im = Image.open(io.BytesIO(png)).convert("RGB")
    im = im.quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    im.save(out, optimize=True)
    print(f"{out}: {Path(out).stat().st_size / 1e3:.0f} kB")


if __name__ == "__main__":
    main(*sys.argv[1:3])
