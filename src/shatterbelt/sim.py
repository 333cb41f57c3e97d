"""The month loop: the one place where the model's process overview is executed.

Each month, in this order (``Simulation.describe()`` prints it):

 1. timeline       exogenous events: foreign troops, revenue, a war next door, elections, pay
 2. politics       who governs; the vacuum; apportionment of portfolios and army command
 3. economy        rents, services, pay and arrears, each actor's capacity
 4. legitimacy     of the state for each community in each region
 5. grievance      fear from killings of one's own; security
 6. mobilization   joining and leaving armed actors (Epstein's rule, limited by pay)
 7. violence       events, deaths applied to people, detentions and releases
 8. army           cohesion and local collapse
 9. displacement   flight to co-community regions and return
10. control        contest for each region; microstates
11. patrons        foreign money to clients; alignment; influence
12. record         metrics for the month

Before the first month every module registers the state it owns (``define_states``), then
``init_pre`` and ``init`` run in the same order.  Every module is timed (LASER-style), so a run
reports which mechanism dominates.  With ``check=True`` (or ``SHATTERBELT_CHECK_OWNERSHIP=1``)
each module runs with every other module's state read-only, so a write to state it does not
own fails at once (:class:`~shatterbelt.world.OwnershipError`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from .errors import UsageError
from .modules import PROCESS, Module, politics_module_for
from .outputs import build_events, build_panel
from .result import Result
from .scenario.schema import MONTH_RE, Scenario
from .summary import build_summary
from .world import World


class Simulation:
    """One run of a scenario at a scale with a seed.

    >>> from shatterbelt import load_scenario, Simulation
    >>> res = Simulation(load_scenario("iraq-2010"), scale=0.001, seed=1, until="2011-06").run()
    >>> res.summary["civilian_deaths_by_year"]
    {'2010': 2673, '2011': 1782}
    """

    def __init__(
        self,
        scenario: Scenario,
        scale: float = 0.01,
        seed: int = 0,
        until: str | None = None,
        backend: str | None = None,
        check: bool = False,
    ) -> None:
        if not (0.0 < scale <= 1.0):
            raise UsageError(f"scale: must be in (0, 1], got {scale}")
        if seed < 0:
            raise UsageError(f"seed: must be >= 0, got {seed}")
        if seed >= 2**63:  # what every store holds: an ensemble's database keeps seeds as signed 64-bit integers
            raise UsageError(f"seed: must be below 2^63 = {2**63}, got {seed}")
        if until is not None:
            if not MONTH_RE.match(until):
                raise UsageError(f"until: '{until}' is not a month written YYYY-MM")
            if not (scenario.start <= until <= scenario.horizon):
                raise UsageError(f"until: {until} is outside the scenario's {scenario.start}..{scenario.horizon}")
            scenario = scenario.model_copy(update={"horizon": until})
        for r in scenario.regions:  # a region without a single agent would be silently empty
            if int(r.population * scale + 0.5) < 1:
                need = 0.5 / r.population if r.population > 0 else float("inf")
                raise UsageError(f"scale: {scale:g} gives region {r.id} (population {r.population:,}) no agent; "
                                 f"it needs a scale of at least {need:.3g}" if need <= 1 else
                                 f"regions.{r.id}.population: {r.population} gives no agent even at scale 1")
        self.scenario = scenario
        self.scale = float(scale)
        self.seed = int(seed)
        t0 = time.perf_counter()
        # backend: "numba", "numpy" or "auto" (default: $SHATTERBELT_BACKEND, else auto); results are identical
        self.world = w = World(scenario, self.scale, self.seed, backend=backend)
        # check mode: every module runs with the state of the others read-only (a foreign write raises)
        self.check = bool(check) or os.environ.get("SHATTERBELT_CHECK_OWNERSHIP", "").strip().lower() not in (
            "", "0", "false", "no"
        )
        w.check(self.check)
        classes = [politics_module_for(scenario) if c.name == "politics" else c for c in PROCESS]
        self.modules = [cls(w) for cls in classes]
        by_name = {m.name: m for m in self.modules}
        for m in self.modules:
            m.deps = {n: by_name[n] for n in m.USES}
        by_name["record"].attach(self.modules)  # type: ignore[attr-defined]
        self.timings: dict[str, float] = {"init": 0.0, **{m.name: 0.0 for m in self.modules}}
        for hook in ("define_states", "init_pre", "init"):
            for m in self.modules:
                with w.acting(m.name):
                    getattr(m, hook)()
            if hook == "define_states":
                w.new_month_log()
        self.timings["init"] = time.perf_counter() - t0
        self.t = 0

    def module(self, name: str) -> Module:
        """The run's module ``name`` (e.g. ``"mobilization"``)."""
        for m in self.modules:
            if m.name == name:
                return m
        raise KeyError(name)

    @staticmethod
    def describe() -> str:
        """The process overview: the modules in the order the month loop calls them."""
        lines = []
        for i, cls in enumerate(PROCESS, 1):
            lines.append(f"{i:2d}. {cls.name:<13} {cls.title}")
        return "\n".join(lines)

    def step(self) -> None:
        """Advance one month."""
        w = self.world
        t = self.t
        w.new_month_log()
        w.kernels.add_one(w.people.timer)
        for m in self.modules:
            t0 = time.perf_counter()
            with w.acting(m.name):
                m.step(t)
            self.timings[m.name] += time.perf_counter() - t0
        w.prev_log = w.log
        self.t += 1

    def run(self, progress: Callable[[int, int, str], None] | None = None) -> Result:
        """Run every month to the horizon and return the :class:`Result`."""
        w = self.world
        while self.t < w.T:
            self.step()
            if progress is not None:
                progress(self.t, w.T, w.months[self.t - 1])
        for m in self.modules:
            m.finish()
        return self.result()

    def result(self) -> Result:
        """Outputs for the months completed so far (all of them after :meth:`run`).

        Called after an interruption, it gives a partial result (``summary['complete']``
        is false) so that nothing already computed is lost.
        """
        w = self.world
        w.t_done = self.t
        t0 = time.perf_counter()
        panel = build_panel(w)
        events = build_events(w, self.seed)
        summary = build_summary(w, events, seed=self.seed)
        self.timings["outputs"] = time.perf_counter() - t0
        return Result(self.scenario, self.seed, self.scale, w, panel, events, summary, dict(self.timings))


def run(
    scenario: Scenario, scale: float = 0.01, seed: int = 0, until: str | None = None, backend: str | None = None
) -> Result:
    """Convenience: ``Simulation(...).run()``."""
    return Simulation(scenario, scale=scale, seed=seed, until=until, backend=backend).run()


__all__ = ["Simulation", "Result", "run"]
