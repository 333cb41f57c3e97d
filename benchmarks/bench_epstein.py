"""Side-by-side benchmark: our Epstein Model I against Mesa 3.3.1's own example.

Both sides run the same parameters (NetLogo's set: citizen density 0.7, cop
density 0.04, legitimacy 0.82, max jail 30, vision 7) with Mesa's rules
(round, von Neumann diamond, random sequential activation), in one session,
each in its own subprocess so that peak RSS figures are not mixed.  Mesa is
slow, so it runs a few steps only; the comparison is in agent-steps per
second (agents x steps / seconds of stepping; model construction and numba
compilation excluded on both sides).

Mesa builds its neighbourhood caches lazily during its first step, so we
report Mesa over all timed steps *and* over steps 2..n (its steady state),
and the ratio for both; ours is timed over the same steps from the same
kind of initial state, and over a longer run.  Our same-steps run takes
milliseconds, so it is repeated ``--reps`` times from the same seed (the
same work each time) and the median is reported; Mesa's takes seconds and
runs once.  Both sides also report CPU time of the stepping thread
(``time.thread_time``), which on a shared, loaded machine is less noisy
than wall time; the ratios are given for both.

Usage::

    python benchmarks/bench_epstein.py            # 100x100 and 400x400 (several minutes)
    python benchmarks/bench_epstein.py --quick    # 40x40 and 100x100 (about a minute)

Results go to ``benchmarks/results/epstein.json`` (``epstein-quick.json``)
with a description of the machine.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _machine import machine

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
TESTS = HERE.parent / "tests"  # Mesa's example is loaded by tests/epstein_mesa_ref.py

PARAMS = dict(citizen_density=0.7, cop_density=0.04, legitimacy=0.82, vision=7, cop_vision=7, max_jail=30)

# size -> (mesa steps, our long-run steps)
FULL = {100: (20, 3000), 400: (3, 300)}
QUICK = {40: (30, 2000), 100: (5, 500)}
REPS = 7  # repeats of our same-steps run (median reported)
TARGETS = {100: 1_000, 400: 10_000}  # targets: ours / Mesa agent-steps per second


def _peak_rss_mb() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / (1024 * 1024) if sys.platform == "darwin" else r / 1024


# --------------------------------------------------------------------------
# workers (run in subprocesses)
# --------------------------------------------------------------------------


def worker_mesa(size: int, steps: int, seed: int) -> dict[str, Any]:
    sys.path.insert(0, str(TESTS))
    from epstein_mesa_ref import load_mesa_model

    model_cls = load_mesa_model()
    rss0 = _peak_rss_mb()
    t0 = time.perf_counter()
    m = model_cls(
        width=size,
        height=size,
        citizen_density=PARAMS["citizen_density"],
        cop_density=PARAMS["cop_density"],
        citizen_vision=PARAMS["vision"],
        cop_vision=PARAMS["cop_vision"],
        legitimacy=PARAMS["legitimacy"],
        max_jail_term=PARAMS["max_jail"],
        seed=seed,
        max_iters=10**9,
    )
    build = time.perf_counter() - t0
    agents = len(m.agents)
    times = []
    cpu = []
    active = []
    for _ in range(steps):
        t = time.perf_counter()
        c = time.thread_time()
        m.step()
        cpu.append(time.thread_time() - c)
        times.append(time.perf_counter() - t)
        active.append(int(m.ACTIVE))
    return {
        "side": "mesa",
        "size": size,
        "agents": agents,
        "steps": steps,
        "build_seconds": build,
        "step_seconds": times,
        "seconds": sum(times),
        "agent_steps_per_s": agents * steps / sum(times),
        "steady_agent_steps_per_s": agents * (steps - 1) / sum(times[1:]) if steps > 1 else None,
        "cpu_seconds": sum(cpu),
        "cpu_agent_steps_per_s": agents * steps / sum(cpu),
        "active": active,
        "rss_after_imports_mb": rss0,
        "peak_rss_mb": _peak_rss_mb(),
    }


def worker_ours(size: int, steps: int, long_steps: int, seed: int, reps: int = REPS) -> dict[str, Any]:
    import statistics

    from shatterbelt.models.epstein import EpsteinParams, EpsteinSim

    p = EpsteinParams.mesa_rules(width=size, height=size, **PARAMS)
    # compile (or load) the kernel outside the timed region, then measure
    EpsteinSim(EpsteinParams.mesa_rules(width=20, height=20), seed=0).step(1)
    rss0 = _peak_rss_mb()
    walls, cpus, builds = [], [], []
    for _ in range(reps):  # the same steps as Mesa, one at a time, from the same seed each time
        t0 = time.perf_counter()
        sim = EpsteinSim(p, seed=seed)
        builds.append(time.perf_counter() - t0)
        times, cpu = [], []
        for _ in range(steps):
            before = sim.seconds
            c = time.thread_time()
            sim.step(1)
            cpu.append(time.thread_time() - c)
            times.append(sim.seconds - before)
        walls.append(times)
        cpus.append(cpu)
    wall = statistics.median(sum(t) for t in walls)
    cpu_s = statistics.median(sum(c) for c in cpus)
    agents = sim.n_agents
    c = time.thread_time()
    sim.step(long_steps - steps)  # the long run continues the same world
    long_cpu = sum(cpus[-1]) + time.thread_time() - c
    return {
        "side": "ours",
        "size": size,
        "agents": agents,
        "steps": steps,
        "reps": reps,
        "build_seconds": statistics.median(builds),
        "step_seconds": walls[0],
        "seconds": wall,
        "seconds_all_reps": [sum(t) for t in walls],
        "agent_steps_per_s": agents * steps / wall,
        "steady_agent_steps_per_s": (
            agents * (steps - 1) / statistics.median(sum(t[1:]) for t in walls) if steps > 1 else None
        ),
        "cpu_seconds": cpu_s,
        "cpu_agent_steps_per_s": agents * steps / cpu_s,
        "active": sim.series["active"][1 : steps + 1].tolist(),
        "long_steps": long_steps,
        "long_seconds": sim.seconds,
        "long_agent_steps_per_s": agents * long_steps / sim.seconds,
        "long_cpu_agent_steps_per_s": agents * long_steps / long_cpu,
        "backend": sim.backend,
        "rss_after_imports_mb": rss0,
        "peak_rss_mb": _peak_rss_mb(),
    }


# --------------------------------------------------------------------------
# driver
# --------------------------------------------------------------------------


def _run_worker(args: list[str], timeout: float) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", *args]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"worker {args} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (40x40, 100x100)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--reps", type=int, default=REPS, help="repeats of our same-steps run (median reported)")
    ap.add_argument(
        "--out", type=Path, default=None, help="result file (default benchmarks/results/epstein[-quick].json)"
    )
    ap.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)

    if a.worker:
        side, *nums = a.worker
        n = [int(x) for x in nums]
        res = worker_mesa(n[0], n[1], n[2]) if side == "mesa" else worker_ours(n[0], n[1], n[2], n[3], n[4])
        print(json.dumps(res))
        return 0

    plan = QUICK if a.quick else FULL
    rows = []
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    for size, (mesa_steps, long_steps) in plan.items():
        print(f"[{size}x{size}] ours ...", file=sys.stderr, flush=True)
        ours = _run_worker(
            ["ours", str(size), str(mesa_steps), str(long_steps), str(a.seed), str(a.reps)], timeout=1800
        )
        print(f"[{size}x{size}] mesa ({mesa_steps} steps) ...", file=sys.stderr, flush=True)
        mesa = _run_worker(["mesa", str(size), str(mesa_steps), str(a.seed)], timeout=3600)
        row = {
            "size": f"{size}x{size}",
            "ours": ours,
            "mesa": mesa,
            "ratio_same_steps": ours["agent_steps_per_s"] / mesa["agent_steps_per_s"],
            "ratio_steady": (
                ours["long_agent_steps_per_s"] / mesa["steady_agent_steps_per_s"]
                if mesa["steady_agent_steps_per_s"]
                else None
            ),
            "ratio_long_vs_mesa_all_steps": ours["long_agent_steps_per_s"] / mesa["agent_steps_per_s"],
            "ratio_same_steps_cpu": ours["cpu_agent_steps_per_s"] / mesa["cpu_agent_steps_per_s"],
            "target": TARGETS.get(size),
        }
        row["target_met_same_steps"] = bool(row["target"] and row["ratio_same_steps"] >= row["target"])
        rows.append(row)

    doc = {
        "benchmark": "epstein model I vs mesa 3.3.1 example",
        "command": "python benchmarks/bench_epstein.py" + (" --quick" if a.quick else ""),
        "started": started,
        "params": dict(PARAMS, discretisation="round", neighbourhood="von_neumann", activation="sequential"),
        "seed": a.seed,
        "machine": machine(('numba', 'mesa')),
        "results": rows,
    }
    out = a.out or RESULTS / ("epstein-quick.json" if a.quick else "epstein.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n")

    print(
        f"machine: {doc['machine']['cpu']}, {doc['machine']['logical_cores']} cores, {doc['machine']['ram_gb']} GB"
    )
    hdr = f"{'grid':>9} {'agents':>8} {'side':>5} {'steps':>6} {'agent-steps/s':>15} {'steady/long':>15} {'peak RSS MB':>12}"
    print(hdr)
    for r in rows:
        for side in ("ours", "mesa"):
            s = r[side]
            second = s.get("long_agent_steps_per_s") or s.get("steady_agent_steps_per_s") or float("nan")
            print(
                f"{r['size']:>9} {s['agents']:>8} {side:>5} {s['steps']:>6} {s['agent_steps_per_s']:>15,.0f} "
                f"{second:>15,.0f} {s['peak_rss_mb']:>12,.0f}"
            )
        steady = f"{r['ratio_steady']:,.0f}x" if r["ratio_steady"] else "n/a"
        target = (
            f"target {r['target']:,}x {'met' if r['target_met_same_steps'] else 'NOT met'}"
            if r["target"]
            else ""
        )
        print(
            f"{'':>9} ratio: same steps {r['ratio_same_steps']:,.0f}x (CPU time {r['ratio_same_steps_cpu']:,.0f}x); "
            f"ours long run vs mesa all steps {r['ratio_long_vs_mesa_all_steps']:,.0f}x; vs mesa steady state {steady}; "
            f"{target}"
        )
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
