"""``shatterbelt report``: the self-contained HTML report of a run or an ensemble folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..report import build_report
from .common import emit_json

app = typer.Typer()


def report_cmd(
    results_dir: Annotated[Path, typer.Argument(help="a run folder (shatterbelt run --out) or an ensemble folder")],
    out: Annotated[Path | None, typer.Option("--out", help="the HTML file to write (default RESULTS_DIR/report.html)")] = None,
    figures: Annotated[
        Path | None, typer.Option("--figures", help="also write every figure here as SVG and PNG (PNG: report extra)")
    ] = None,
    json_: Annotated[bool, typer.Option("--json", help="print one JSON document on stdout")] = False,
) -> None:
    """Write one self-contained HTML report (map, fan charts, tables) that opens offline in any browser."""
    info = build_report(results_dir, out=out, figures_dir=figures)
    if json_:
        emit_json(info.to_json())
        return
    extra = f"; {len(info.figures)} figure files in {figures}" if figures is not None else ""
    print(f"report of {info.kind} ({info.runs} run{'s' if info.runs != 1 else ''}) in {info.html} "
          f"({info.bytes / 1e6:.1f} MB){extra}")


app.command("report")(report_cmd)


def register(parent: typer.Typer) -> None:
    """Add the ``report`` command to the ``shatterbelt`` app."""
    parent.command("report")(report_cmd)
