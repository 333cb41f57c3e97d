"""Engine benchmark: the full ``iraq-2010`` run (2010-07 to 2014-12, 54 months) at scales 0.01, 0.1, 1.0.

For each scale and back end (numba, NumPy) one run in its own subprocess (so that peak RSS
is that run's alone): wall time (initialisation, the month loop, outputs), peak RSS,
agent-months per second (agents x 54 months / seconds of the month loop, and over the whole
wall time), and the time per module (``Simulation.timings``), with the module that dominates.
numba's kernels are compiled (or loaded from numba's cache) by a warm-up run first, so no
timed run pays for compilation; loading numba itself is part of ``init``.

Memory-bandwidth bound.  :data:`PASSES` lists every per-person pass of a month and the bytes
per agent it streams (each array a pass touches is read or written whole: at the densities
involved, even a pass over the fighters only, ~4% of people, touches practically every cache
line of the int8 arrays it reads).  Their sum is the bytes touched per agent-month; times
agents x months over 20-25 GB/s (a 2-core CI machine) is the time a perfectly
bandwidth-bound engine would need.  The ratio measured / bound is the distance to it.

Scale invariance.  Civilian deaths per 100,000 people over the run, over several seeds per
scale (8 at 0.01, 4 at 0.1, 2 at 1.0; quick: 8, 3, none), with Welch's t-test of each scale
against 0.01.

Usage::

    python benchmarks/bench_engine.py            # 0.01, 0.1, 1.0 (numba and NumPy) + invariance (~15 min on 2 cores)
    python benchmarks/bench_engine.py --quick    # 0.01 and 0.1 only (~2 min)
    python benchmarks/bench_engine.py --baseline-src /path/to/old/src   # also time another source tree

Results go to ``benchmarks/results/engine.json`` (``engine-quick.json``) with the machine.
This is a benchmark, not a test: it asserts nothing about speed.  The machine's load average
is recorded around every run, because other processes on a shared machine distort timings.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _machine import machine

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
SCENARIO = "iraq-2010"
BANDWIDTH_GBS = (20.0, 25.0)
TARGET_FULL_S, STRETCH_FULL_S, TARGET_DEFAULT_S = 60.0, 20.0, 2.0

#: (pass, bytes per agent streamed per month) -- see the module docstring and docs/performance.md
PASSES: list[tuple[str, int]] = [
    ("timer += 1 (int16 read + write)", 4),
    ("mobilization best actor: fighting_age, status, region, community, hardship, risk; best (scratch) write", 13),
    ("mobilization joins: scratch read, twice", 2),
    ("mobilization leaving over fighters: actor, region, origin, community, hardship, risk", 12),
    ("violence release: status", 1),
    ("violence civilian deaths: status, region, community; flag write; flag scan", 5),
    ("violence fighter deaths and detentions over fighters: status, actor, region (twice)", 6),
    ("army politicization over fighters: actor, status, allegiance, region", 4),
    ("displacement: status, region, community, displaced, origin; flag write; two flag scans", 8),
    ("control infiltration over fighters: actor, status, allegiance, region", 4),
    ("census snapshots: fighter list refresh (status over fighters, three a month)", 3),
]


def _peak_rss_mb() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / (1024 * 1024) if sys.platform == "darwin" else r / 1024


# --------------------------------------------------------------------------
# worker (runs in a subprocess)
# --------------------------------------------------------------------------


def worker(scale: float, seed: int, backend: str) -> dict[str, Any]:
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    from shatterbelt.resolve import load_scenario
    from shatterbelt.sim import Simulation

    sc = load_scenario(SCENARIO)
    t1 = time.perf_counter()
    kw = {} if backend == "baseline" else {"backend": backend}
    sim = Simulation(sc, scale=scale, seed=seed, **kw)
    t2 = time.perf_counter()
    res = sim.run()
    t3 = time.perf_counter()
    w = res.world
    months = w.T
    agents = int(w.people.n)
    s = res.summary
    threads = None
    if w.backend == "numba":
        import numba

        threads = numba.get_num_threads()
    steps_s = t3 - t2 - res.timings.get("outputs", 0.0)
    mods = {k: v for k, v in res.timings.items() if k not in ("init", "outputs")}
    dom = max(mods, key=mods.get)
    return {
        "scale": scale,
        "seed": seed,
        "backend": backend,
        "use_numba": w.backend == "numba",
        "numba_threads": threads,
        "agents": agents,
        "months": months,
        "wall_s": round(t3 - t0, 3),
        "load_scenario_s": round(t1 - t0, 3),
        "init_s": round(t2 - t1, 3),
        "steps_s": round(steps_s, 3),
        "outputs_s": round(res.timings.get("outputs", 0.0), 3),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "agent_months_per_s_steps": agents * months / steps_s,
        "agent_months_per_s_wall": agents * months / (t3 - t0),
        "timings_s": {k: round(v, 4) for k, v in res.timings.items()},
        "dominant_module": dom,
        "dominant_share_of_steps": round(mods[dom] / max(sum(mods.values()), 1e-9), 3),
        "civilian_deaths_per_100k": sum(s["civilian_deaths_by_year"].values()) / s["population_start"] * 1e5,
        "civilian_deaths_by_year": s["civilian_deaths_by_year"],
        "loadavg_before_after": [round(load0, 2), round(os.getloadavg()[0], 2)],
    }


# --------------------------------------------------------------------------
# driver
# --------------------------------------------------------------------------


def _run_worker(scale: float, seed: int, backend: str, timeout: float, src: str | None = None) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", str(scale), str(seed), backend]
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    print(f"  scale {scale} seed {seed} {backend} ...", file=sys.stderr, flush=True)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if out.returncode != 0:
        raise RuntimeError(f"worker {scale} {seed} {backend} failed:\n{out.stderr[-3000:]}")
    r = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"    wall {r['wall_s']:.2f} s (init {r['init_s']:.2f}, steps {r['steps_s']:.2f}), "
        f"{r['agent_months_per_s_steps'] / 1e6:.1f} M agent-months/s, peak RSS {r['peak_rss_mb']:.0f} MB, "
        f"load {r['loadavg_before_after']}",
        file=sys.stderr,
        flush=True,
    )
    return r


def _warm_up() -> None:
    """Compile the numba kernels (or load them from the cache) outside any timed run."""
    code = (
        "from pathlib import Path; from shatterbelt.resolve import load_scenario; "
        "from shatterbelt.sim import Simulation; "
        "Simulation(load_scenario('iraq-2010'), scale=0.002, seed=1, until='2010-09', backend='numba').run()"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=1800)


def bandwidth(rows: list[dict[str, Any]]) -> dict[str, Any]:
    per_agent_month = sum(b for _, b in PASSES)
    out: dict[str, Any] = {
        "passes": [{"pass": p, "bytes_per_agent": b} for p, b in PASSES],
        "bytes_per_agent_month": per_agent_month,
        "bandwidth_gbs": list(BANDWIDTH_GBS),
        "by_run": [],
    }
    for r in rows:
        total = per_agent_month * r["agents"] * r["months"]
        bound = [total / (g * 1e9) for g in BANDWIDTH_GBS]
        out["by_run"].append(
            {
                "scale": r["scale"],
                "backend": r["backend"],
                "bytes_total_gb": round(total / 1e9, 2),
                "bound_s": [round(b, 2) for b in bound],
                "steps_s": r["steps_s"],
                "distance_x": [round(r["steps_s"] / b, 2) for b in bound],
                "effective_gbs": round(total / r["steps_s"] / 1e9, 2),
            }
        )
    return out


def invariance(samples: dict[float, list[float]]) -> dict[str, Any]:
    import numpy as np
    from scipy import stats

    out: dict[str, Any] = {"metric": "civilian deaths per 100,000 people, 2010-07..2014-12", "by_scale": {}, "tests": []}
    for sc, v in sorted(samples.items()):
        a = np.asarray(v)
        out["by_scale"][str(sc)] = {
            "n": int(a.size),
            "mean": float(a.mean()),
            "sd": float(a.std(ddof=1)) if a.size > 1 else None,
            "se": float(a.std(ddof=1) / np.sqrt(a.size)) if a.size > 1 else None,
            "values": [round(float(x), 3) for x in a],
        }
    ref = np.asarray(samples.get(0.01, []))
    for sc, v in sorted(samples.items()):
        if sc == 0.01 or len(v) < 2 or ref.size < 2:
            continue
        t, p = stats.ttest_ind(ref, np.asarray(v), equal_var=False)
        out["tests"].append(
            {"scales": [0.01, sc], "welch_t": float(t), "p_value": float(p), "agree_at_1pct": bool(p > 0.01)}
        )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="scales 0.01 and 0.1 only (about two minutes)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-numpy", action="store_true", help="skip the NumPy back end at scale 1.0")
    ap.add_argument("--baseline-src", default=None, help="also time the engine of another source tree (its src/ folder)")
    ap.add_argument("--out", type=Path, default=None, help="result file (default benchmarks/results/engine[-quick].json)")
    ap.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)

    if a.worker:
        print(json.dumps(worker(float(a.worker[0]), int(a.worker[1]), a.worker[2])))
        return 0

    from shatterbelt.backend import have_numba

    has_nb = have_numba()
    scales = [0.01, 0.1] if a.quick else [0.01, 0.1, 1.0]
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    if has_nb:
        print("warm-up (numba compile or cache load) ...", file=sys.stderr, flush=True)
        _warm_up()
    rows: list[dict[str, Any]] = []
    for sc in scales:
        for bk in (["numba"] if has_nb else []) + ["numpy"]:
            if bk == "numpy" and sc == 1.0 and a.no_numpy:
                continue
            rows.append(_run_worker(sc, a.seed, bk, timeout=3600))
        if a.baseline_src:
            rows.append(_run_worker(sc, a.seed, "baseline", timeout=7200, src=a.baseline_src))

    # scale invariance: more seeds (the timed runs count as one seed each)
    seeds = {0.01: 8, 0.1: 3 if a.quick else 4}
    if not a.quick:
        seeds[1.0] = 2
    fastest = "numba" if has_nb else "numpy"
    samples: dict[float, list[float]] = {}
    for sc, n in seeds.items():
        vals = [r["civilian_deaths_per_100k"] for r in rows if r["scale"] == sc and r["backend"] == fastest]
        for seed in range(a.seed + 1, a.seed + 1 + n - len(vals)):
            vals.append(_run_worker(sc, seed, fastest, timeout=3600)["civilian_deaths_per_100k"])
        samples[sc] = vals

    default = next((r for r in rows if r["scale"] == 0.01 and r["backend"] == fastest), None)
    full = next((r for r in rows if r["scale"] == 1.0 and r["backend"] == fastest), None)
    doc = {
        "benchmark": f"shatterbelt engine, {SCENARIO} full horizon",
        "command": "python benchmarks/bench_engine.py" + (" --quick" if a.quick else ""),
        "started": started,
        "machine": machine(('numba',)),
        "runs": rows,
        "targets": {
            "full_scale_wall_s": {"target": TARGET_FULL_S, "stretch": STRETCH_FULL_S,
                                  "measured": full["wall_s"] if full else None},
            "full_scale_peak_rss_gb": {"target": 8.0, "measured": round(full["peak_rss_mb"] / 1024, 2) if full else None},
            "default_scale_wall_s": {"target": TARGET_DEFAULT_S, "measured": default["wall_s"] if default else None},
            "agent_months_per_s_target": 32.5e6 * 54 / TARGET_FULL_S,
        },
        "bandwidth": bandwidth(rows),
        "scale_invariance": invariance(samples),
    }
    out = a.out or RESULTS / ("engine-quick.json" if a.quick else "engine.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n")

    m = doc["machine"]
    print(f"machine: {m['cpu']}, {m['logical_cores']} cores, {m['ram_gb']} GB, numba {m.get('numba')}")
    print(f"{'scale':>6} {'backend':>8} {'agents':>11} {'wall s':>8} {'init s':>7} {'steps s':>8} {'M agent-months/s':>17} "
          f"{'peak RSS MB':>12}  dominant module")
    for r in rows:
        print(f"{r['scale']:>6} {r['backend']:>8} {r['agents']:>11,} {r['wall_s']:>8.2f} {r['init_s']:>7.2f} "
              f"{r['steps_s']:>8.2f} {r['agent_months_per_s_steps'] / 1e6:>17.1f} {r['peak_rss_mb']:>12,.0f}  "
              f"{r['dominant_module']} ({r['dominant_share_of_steps']:.0%})")
    bw = doc["bandwidth"]
    print(f"bytes touched per agent-month: {bw['bytes_per_agent_month']}")
    for b in bw["by_run"]:
        print(f"  {b['scale']:>6} {b['backend']:>8}: bound {b['bound_s'][1]:.2f}-{b['bound_s'][0]:.2f} s, "
              f"measured {b['steps_s']:.2f} s = {b['distance_x'][1]:.1f}-{b['distance_x'][0]:.1f}x the bound "
              f"({b['effective_gbs']} GB/s effective)")
    inv = doc["scale_invariance"]
    for sc, v in inv["by_scale"].items():
        print(f"  civilian deaths per 100k at {sc}: mean {v['mean']:.1f} (n={v['n']}, se {v['se'] or float('nan'):.1f})")
    for t in inv["tests"]:
        print(f"  Welch 0.01 vs {t['scales'][1]}: t={t['welch_t']:.2f}, p={t['p_value']:.3f}, agree: {t['agree_at_1pct']}")
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
