"""Two different ensembles started at the same instant on one folder, many times over.

Each trial starts two ``shatterbelt ensemble`` processes on one fresh folder: A (4 runs, seeds
0..3) and B (6 runs, seeds 100..105) of ``tests/data/tiny.yaml``.  Both import everything
first, then wait for the same wall-clock instant before the command starts (no delay is
injected anywhere else).  A trial passes when one process exits 0, the other exits 2 with one
``error:`` line (``in use by another process`` or ``holds a different ensemble``), and the
database and the manifest hold exactly the winner's runs (its seeds, no others).

Usage::

    python benchmarks/bench_ensemble_race.py              # 20 trials (~2 min on 2 cores)
    python benchmarks/bench_ensemble_race.py --trials 50

Results go to ``benchmarks/results/ensemble-race.json`` with the machine; exit status 1 if any
trial failed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from _machine import machine

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
TINY = str(HERE.parent / "tests" / "data" / "tiny.yaml")
FAST = ["--scale", "0.05", "--until", "2010-12", "--workers", "1", "--quiet"]
DESIGNS = {"a": (["--runs", "4", "--seed", "0"], list(range(4))),
           "b": (["--runs", "6", "--seed", "100"], list(range(100, 106)))}
GO = ("import sys, time; from shatterbelt.cli.main import main; t = float(sys.argv[1]); "
      "time.sleep(max(0.0, t - time.time())); print(repr(time.time()), file=sys.stderr, flush=True); "
      "sys.exit(main(sys.argv[2:]))")


def stored(out: Path) -> tuple[list[int], list[int]]:
    """Seeds in the database and in the manifest."""
    import duckdb

    con = duckdb.connect(str(out / "results.duckdb"), read_only=True)
    try:
        db = [int(r[0]) for r in con.execute("SELECT seed FROM runs ORDER BY run_id").fetchall()]
    finally:
        con.close()
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return db, [int(r["seed"]) for r in manifest["runs"]]


def trial(out: Path, lead_s: float) -> dict[str, Any]:
    start = time.time() + lead_s
    procs = {
        k: subprocess.Popen([sys.executable, "-c", GO, repr(start), "ensemble", TINY, *FAST, "--out", str(out), *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for k, (args, _) in DESIGNS.items()
    }
    res: dict[str, Any] = {}
    began: dict[str, float] = {}
    for k, p in procs.items():
        try:
            _, err = p.communicate(timeout=300)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        lines = err.splitlines()
        began[k] = float(lines[0]) if lines else float("nan")
        res[k] = {"rc": p.returncode, "stderr": [ln for ln in lines[1:] if not ln.startswith("warning: ")]}
    rcs = sorted(v["rc"] for v in res.values())
    winner = next((k for k, v in res.items() if v["rc"] == 0), None)
    loser = next((k for k, v in res.items() if v["rc"] != 0), None)
    why = None
    ok = rcs == [0, 2] and winner is not None and loser is not None
    if ok:
        msg = res[loser]["stderr"]
        ok = len(msg) == 1 and msg[0].startswith("error: ")
        why = ("in use" if "in use by another process" in msg[0] else
               "different ensemble" if "holds a different ensemble" in msg[0] else msg[0]) if msg else None
        ok = ok and why in ("in use", "different ensemble")
        db, man = stored(out)
        ok = ok and db == DESIGNS[winner][1] and man == DESIGNS[winner][1]
    return {"ok": ok, "winner": winner, "refused_because": why, "exit_codes": {k: v["rc"] for k, v in res.items()},
            "start_spread_ms": round(abs(began["a"] - began["b"]) * 1000, 2), "processes": res if not ok else None}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--lead", type=float, default=4.0, help="seconds given to both processes to import first")
    ap.add_argument("--out", type=Path, default=RESULTS / "ensemble-race.json")
    a = ap.parse_args()
    trials = []
    with tempfile.TemporaryDirectory(prefix="race-") as tmp:
        for i in range(a.trials):
            t = trial(Path(tmp) / f"t{i}", a.lead)
            trials.append(t)
            print(f"trial {i + 1}/{a.trials}: {'ok' if t['ok'] else 'FAILED'}, winner {t['winner']}, "
                  f"loser refused: {t['refused_because']}, starts {t['start_spread_ms']} ms apart", flush=True)
    passed = sum(t["ok"] for t in trials)
    doc = {
        "benchmark": "two different ensembles started together on one folder",
        "command": "python benchmarks/bench_ensemble_race.py " + " ".join(sys.argv[1:]),
        "trials": a.trials,
        "passed": passed,
        "winners": dict(Counter(t["winner"] for t in trials)),
        "refused_because": dict(Counter(t["refused_because"] for t in trials)),
        "max_start_spread_ms": max(t["start_spread_ms"] for t in trials) if trials else None,
        "machine": machine(("duckdb",)),
        "trials_detail": trials,
    }
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    print(f"{passed} of {a.trials} trials: one ensemble completed, the other refused, one design stored "
          f"-> {a.out}")
    return 0 if passed == a.trials else 1


if __name__ == "__main__":
    sys.exit(main())
