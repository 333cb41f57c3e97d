#!/usr/bin/env bash
# Install what the report's browser test needs: Debian's chromium (apt-get) and
# Playwright's Python package (pip, into the project's virtual environment).
# Playwright's own browser downloads are never used: the test drives
# /usr/bin/chromium through executable_path.  Idempotent and quiet; safe to call
# from `make test` and .ci/run.
#
#   tools/install_browser.sh [PYTHON]     # PYTHON defaults to .venv/bin/python
set -euo pipefail

PY="${1:-.venv/bin/python}"

if ! command -v chromium >/dev/null 2>&1; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        SUDO="sudo"
    fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq >/dev/null
    $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi

if ! "$PY" -c "import playwright" >/dev/null 2>&1; then
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 "$PY" -m pip install -q "playwright==1.65.2"
fi
