"""Run every benchmark: the engine, the Epstein reference models against Mesa, and ensemble throughput.

Each benchmark is its own script, run here as a subprocess (so that one failing or missing
does not stop the others) with ``--quick`` passed through; each writes its JSON under
``benchmarks/results/``.  ``make bench`` calls this.

Usage::

    python benchmarks/run_all.py            # full benchmarks (tens of minutes on 2 cores)
    python benchmarks/run_all.py --quick    # a few minutes
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = ("bench_engine.py", "bench_epstein.py", "bench_ensemble.py")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="pass --quick to every benchmark")
    a = ap.parse_args(argv)
    status: dict[str, str] = {}
    for name in BENCHMARKS:
        script = HERE / name
        if not script.exists():
            print(f"== {name}: not present, skipped", flush=True)
            status[name] = "skipped (absent)"
            continue
        cmd = [sys.executable, str(script)] + (["--quick"] if a.quick else [])
        print(f"== {' '.join(cmd[1:])}", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.run(cmd).returncode
        status[name] = f"{'ok' if rc == 0 else f'failed (exit {rc})'} in {time.perf_counter() - t0:.0f} s"
        print(f"== {name}: {status[name]}", flush=True)
    print("\nsummary:")
    for name, s in status.items():
        print(f"  {name:<20} {s}")
    return 0 if all(not s.startswith("failed") for s in status.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
