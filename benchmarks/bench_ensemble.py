"""Ensemble throughput: runs per minute on one and two local workers, and a 200-run ensemble.

What it measures, each through the same API the ``ensemble`` command uses (resume switched
off: every ensemble goes to a fresh folder):

1. the speed-up from one worker to two, on identical ensembles (same design, same seeds);
2. a 200-run ensemble at scale 0.01 (Latin hypercube over every uncertain parameter) on two
   local workers: that it completes, and its runs per minute.

Wall-clock includes everything a user waits for: worker start-up, the simulation, and the
coordinator writing each run to DuckDB and Parquet.  Because other work on a shared machine
slows a pool down, the JSON also records the runs' CPU seconds and ``cores_used`` (CPU seconds of
the runs / wall seconds: how many cores the ensemble actually got) and the load average.  Results are machine-dependent; the JSON
records the machine.  This is a benchmark, not a test: it asserts nothing about speed.

Usage::

    python benchmarks/bench_ensemble.py            # 40-run speed-up + 200 runs at scale 0.01 (~10 min on 2 cores)
    python benchmarks/bench_ensemble.py --quick    # 12-run speed-up + 24 runs at scale 0.002 (~1 min)

Results go to ``benchmarks/results/ensemble.json`` (``ensemble-quick.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _machine import machine

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

FULL = {"speedup_runs": 40, "big_runs": 200, "scale": 0.01}
QUICK = {"speedup_runs": 12, "big_runs": 24, "scale": 0.002}


def _ensemble(runs: int, scale: float, workers: int, tmp: Path, name: str) -> dict[str, Any]:
    from shatterbelt.experiments.ensemble import Ensemble, check_failures

    out = tmp / name
    shutil.rmtree(out, ignore_errors=True)
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    ens = Ensemble(["iraq-2010"], runs=runs, out=out, sample="lhs", scale=scale, seed=0, panel="full")
    res = ens.run(workers=workers, progress=sys.stderr.isatty())
    wall = time.perf_counter() - t0
    try:
        check_failures(res)
        sim_s = float(res.store.query("SELECT sum(wall_s) FROM timings").iloc[0, 0])
        cpu_s = float(res.store.query("SELECT sum(cpu_s) FROM timings").iloc[0, 0])
        digest = res.store.table_digest("metrics")
    finally:
        res.close()
    db_mb = sum(f.stat().st_size for f in out.rglob("*") if f.is_file()) / 2**20
    return {
        "runs": runs, "workers": workers, "scale": scale, "completed": res.done,
        "wall_s": round(wall, 2), "runs_per_minute": round(runs / wall * 60, 2),
        "worker_seconds_in_runs": round(sim_s, 2), "cpu_seconds_in_runs": round(cpu_s, 2),
        "cpu_seconds_per_run": round(cpu_s / runs, 3),
        # CPU time of the runs over wall-clock: how many cores the ensemble actually got
        "cores_used": round(cpu_s / wall, 2),
        "load_average_1min_before_after": [round(load0, 2), round(os.getloadavg()[0], 2)],
        "folder_mb": round(db_mb, 1), "metrics_sha256": digest,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small ensembles at scale 0.002 (about a minute)")
    ap.add_argument("--keep", type=Path, default=None, help="keep the ensembles in this folder")
    args = ap.parse_args()
    cfg = QUICK if args.quick else FULL
    from shatterbelt import __version__

    tmp = args.keep or Path(tempfile.mkdtemp(prefix="sb-bench-"))
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        one = _ensemble(cfg["speedup_runs"], cfg["scale"], 1, tmp, "w1")
        two = _ensemble(cfg["speedup_runs"], cfg["scale"], 2, tmp, "w2")
        big = _ensemble(cfg["big_runs"], cfg["scale"], 2, tmp, "big")
    finally:
        if args.keep is None:
            shutil.rmtree(tmp, ignore_errors=True)
    result = {
        "benchmark": "ensemble throughput (shatterbelt.experiments.Ensemble, local worker processes)",
        "command_equivalent": f"shatterbelt ensemble iraq-2010 --runs N --sample lhs --scale {cfg['scale']} --workers K",
        "shatterbelt": __version__,
        "mode": "quick" if args.quick else "full",
        "machine": machine(('numba', 'dask', 'duckdb')),
        "one_worker": one,
        "two_workers": two,
        "speedup_1_to_2": round(two["runs_per_minute"] / one["runs_per_minute"], 3),
        "identical_results_1_vs_2_workers": one["metrics_sha256"] == two["metrics_sha256"],
        "ensemble_200" if not args.quick else "ensemble_big": big,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / ("ensemble-quick.json" if args.quick else "ensemble.json")
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}, indent=2))
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
