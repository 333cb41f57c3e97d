"""Documentation stays true to the code: the parameter appendix is current, every module is described."""

from __future__ import annotations

import sys
from pathlib import Path

from shatterbelt.modules import PROCESS

ROOT = Path(__file__).resolve().parents[1]


def test_parameter_appendix_is_current():
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import param_table
    finally:
        sys.path.pop(0)
    assert (ROOT / "docs" / "parameters.md").read_text() == param_table.render(), (
        "docs/parameters.md is stale: run `python tools/param_table.py > docs/parameters.md`"
    )


def test_odd_describes_every_module():
    odd = (ROOT / "docs" / "ODD.md").read_text()
    for m in PROCESS:
        assert f"{m.name}.py" in odd or f"`{m.name}`" in odd or m.name in odd, m.name
    for section in ("Purpose", "Entities, state variables and scales", "Process overview", "Design concepts",
                    "Initialization", "Input data", "Submodels"):
        assert section in odd, section


def test_readme_starts_with_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    first = readme[: readme.find("make test") + 20]
    assert "make run" in first and "make test" in first
    assert readme.find("make run") < 1500
