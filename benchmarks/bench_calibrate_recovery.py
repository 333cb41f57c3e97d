"""Does ``calibrate`` recover a known parameter?  ABC-SMC on a synthetic truth, ten seeds.

For each of ten seeds: run tests/data/tiny.yaml once at a known value of
``parameters.violence.rate_insurgency`` (the truth, 200 in a prior of [70, 400]) with a
seed of its own, take the three death counts the calibration targets up to 2011-12
(IBC-style civilian deaths 2010 and 2011, UCDP-style battle deaths 2011) as the
"observed" values, then calibrate that one parameter against them with
``run_calibration`` (the API behind the ``calibrate`` command; its own seeds).  The
check: the truth lies inside the weighted 90% (5-95%) posterior interval in at least 8
of the 10 seeds.  The JSON also records each posterior's median, interval width against
the prior's, accepted draws and effective sample size, so a trivially wide posterior
would show.

Usage::

    python benchmarks/bench_calibrate_recovery.py            # 10 seeds x 3 rounds x 100 runs (accept 0.5), scale 0.02 (~20 min on 1 core)
    python benchmarks/bench_calibrate_recovery.py --quick    # 3 seeds x 3 rounds x 50 runs (accept 0.5), scale 0.01

Results go to ``benchmarks/results/calibrate-recovery.json`` (``calibrate-recovery-quick.json``).
This is a benchmark, not a test: it records the figures and exits 1 when fewer than 8 of 10 cover.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _machine import machine

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
SCENARIO = str(HERE.parent / "tests" / "data" / "tiny.yaml")
PARAM = "parameters.violence.rate_insurgency"
TRUTH = 200.0
UNTIL = "2011-12"


def synthetic_observed(tmp: Path, seed: int, scale: float) -> dict[str, float]:
    """The calibration targets as the model produces them at the truth, one run with its own seed."""
    import numpy as np

    from shatterbelt.experiments.calibrate import calibration_targets
    from shatterbelt.experiments.design import explicit_design
    from shatterbelt.experiments.ensemble import Ensemble

    d = explicit_design([PARAM], [70.0], [400.0], np.array([[TRUTH]]), 1_000_000 + seed, "truth")
    ens = Ensemble([SCENARIO], runs=1, out=tmp / f"truth{seed}", design=d, scale=scale, until=UNTIL,
                   seed=1_000_000 + seed, panel="none", events=False, kind="truth")
    res = ens.run(workers=1, progress=False)
    try:
        wide = res.metrics(SCENARIO)
    finally:
        res.close()
    return {t.key: float(wide[t.metric].iloc[0]) for t in calibration_targets("2010-07", UNTIL, None)}


def one(tmp: Path, seed: int, runs: int, rounds: int, accept: float, scale: float) -> dict[str, Any]:
    from shatterbelt.errors import UsageError
    from shatterbelt.experiments.calibrate import run_calibration

    obs = synthetic_observed(tmp, seed, scale)
    t0 = time.perf_counter()
    try:
        cal = run_calibration(runs, tmp / f"cal{seed}", scenario=SCENARIO, until=UNTIL, params=[PARAM], accept=accept,
                              rounds=rounds, seed=seed, scale=scale, ppc=0, observed=obs, workers=1, progress=False)
    except UsageError as exc:  # a refused posterior counts as not recovered
        return {"seed": seed, "observed": obs, "covers": False, "refused": str(exc), "width_over_prior": None}
    p = cal.params[0]
    lo, hi = p["posterior_5"], p["posterior_95"]
    return {
        "seed": seed, "observed": obs, "posterior_median": p["posterior_median"], "posterior_5": lo,
        "posterior_95": hi, "covers": bool(lo <= TRUTH <= hi), "width_over_prior": (hi - lo) / (400.0 - 70.0),
        "accepted": cal.accepted, "ess": cal.ess, "tolerance_by_round": [r["tolerance"] for r in cal.rounds],
        "wall_s": round(time.perf_counter() - t0, 1),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    seeds = 3 if args.quick else 10
    runs, rounds, accept, scale = (50, 3, 0.5, 0.01) if args.quick else (100, 3, 0.5, 0.02)
    tmp = Path(tempfile.mkdtemp(prefix="bench-calrec-"))
    rows = []
    try:
        for s in range(seeds):
            r = one(tmp, s, runs, rounds, accept, scale)
            print(json.dumps(r), flush=True)
            rows.append(r)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    covered = sum(r["covers"] for r in rows)
    doc = {
        "benchmark": "calibrate recovery of a synthetic truth",
        "command": "python benchmarks/bench_calibrate_recovery.py" + (" --quick" if args.quick else ""),
        "scenario": "tests/data/tiny.yaml", "parameter": PARAM, "truth": TRUTH, "prior": [70.0, 400.0],
        "cutoff": UNTIL, "runs_per_round": runs, "rounds": rounds, "accept": accept, "scale": scale,
        "seeds": seeds, "covered": covered, "pass": covered >= (8 if not args.quick else 2),
        "mean_width_over_prior": (sum(r["width_over_prior"] for r in rows if r["width_over_prior"] is not None)
                                  / max(1, sum(r["width_over_prior"] is not None for r in rows))),
        "results": rows, "machine": machine(),
    }
    RESULTS.mkdir(exist_ok=True)
    f = RESULTS / ("calibrate-recovery-quick.json" if args.quick else "calibrate-recovery.json")
    f.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    print(f"truth inside the 90% posterior interval in {covered} of {seeds} seeds; mean width "
          f"{doc['mean_width_over_prior']:.2f} of the prior's; saved {f}")
    return 0 if doc["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
