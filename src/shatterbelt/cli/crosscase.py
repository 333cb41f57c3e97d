"""``shatterbelt crosscase A B``: two countries side by side, the inputs that differ, and the mechanism
channels that separate the one that escalates from the one that does not (docs/lebanon.md).

It takes the options of :func:`shatterbelt.cli.experiments.experiment` and registers there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import UsageError
from .common import emit_json
from .experiments import Shared, _f, _table, experiment

__all__ = ["crosscase"]


@experiment()
def crosscase(
    opts: Shared,
    a: Annotated[str, typer.Argument(help="first case: built-in name, base+variant, or a YAML file")] = "iraq-2010",
    b: Annotated[str, typer.Argument(help="second case")] = "lebanon-2005",
    runs: Annotated[int, typer.Option(help="runs per case and per ablation (seeds; the same for all)")] = 8,
    channel: Annotated[list[str] | None, typer.Option(help="ablate only these channels (repeatable; default all)")] = None,
    sample: Annotated[str, typer.Option(help="'none' (point values, seeds only) or 'lhs'")] = "none",
    top: Annotated[int, typer.Option(help="differing parameters to print (all are in crosscase.json)")] = 25,
    escalating: Annotated[str | None, typer.Option(help="the case to ablate (A or B; default: the one with more "
                                                   "deaths per 100,000 a year in the runs)")] = None,
) -> None:
    """Compare two scenarios' headline outcomes with intervals, list the parameters whose values differ, and
    set each mechanism channel to zero in the escalating case to see which separate escalation from calm."""
    from ..experiments.crosscase import CHANNELS, HEADLINE, run_crosscase

    if a == b:
        raise UsageError(f"b: the two cases are the same scenario '{a}'; give two different ones")
    unknown = [c for c in channel or [] if c not in CHANNELS]
    if unknown:
        raise UsageError(f"--channel: '{unknown[0]}' is not one of {', '.join(CHANNELS)}")
    if escalating is not None and escalating not in (a, b):
        raise UsageError(f"--escalating: '{escalating}' is neither case ('{a}' or '{b}')")
    if top < 0:
        raise UsageError(f"--top: must be >= 0, got {top}")
    out_dir = opts.out_dir("crosscase", f"{a}-vs-{b}")
    cc = run_crosscase(a, b, runs, out_dir, channels=list(channel) if channel else None, sample=sample,
                       escalating=escalating,
                       **opts.common(), **opts.run_kw())
    if opts.json:
        emit_json(cc.to_json())
        return

    def cell(d: dict) -> str:
        return f"{_f(d['mean'])} [{_f(d['mean_lo90'])}, {_f(d['mean_hi90'])}]; median {_f(d['median'])} " \
               f"({_f(d['p05'])}-{_f(d['p95'])})"

    _table(f"cross-case, {runs} runs each: mean [90% interval of the mean]; median (90% of runs)",
           ["outcome", a, b], [[lab, cell(cc.headline[m][a]), cell(cc.headline[m][b])] for m, lab in HEADLINE])
    _table(f"parameters that differ ({len(cc.parameters)}; {cc.only_a} only in {a}, {cc.only_b} only in {b}); "
           f"first {min(top, len(cc.parameters))}", ["parameter", a, b, "relative difference"],
           [[p["path"] + (f" (mean of {p['values_a']}/{p['values_b']})" if max(p["values_a"], p["values_b"]) > 1 else ""),
             _f(p["a"]), _f(p["b"]), _f(p["relative_difference"], 2)] for p in cc.parameters[:top]])
    _table(f"channels removed from the escalating case ({cc.escalating}; calm: {cc.calm}), same seeds",
           ["channel", "deaths /100k/yr (mean)", "paired change [90%]", "share of the gap closed",
            "civil-war share", "separates"],
           [[x["channel"], _f(x["deaths.per_100k_year"]["mean"]),
             f"{_f(x['change'])} [{_f(x['change_lo90'])}, {_f(x['change_hi90'])}]", _f(x["gap_closed"], 2),
             _f(x["civil_war.any"]["mean"], 2), "yes" if x["separates"] else "no"] for x in cc.ablations])
    if not cc.gap > 0:
        print(f"{cc.escalating} is not the deadlier case in these runs: there is no gap for a channel to close")
    print(f"channels that separate escalation from calm: {', '.join(cc.separating) or 'none'} "
          f"(rule: removing it closes >= half the gap in deaths per 100,000 a year, interval excluding 0)")
    print(f"saved {Path(cc.out) / 'crosscase.json'}")
