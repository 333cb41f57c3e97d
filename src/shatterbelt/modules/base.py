"""The module interface: each mechanism declares its parameters, the state it owns, what it reads and records.

Modelled on Starsim's modules and LASER's components: a module is small, has a
name (also the key of its parameters in the scenario) and declares

* ``PARAMS``: its parameters (value, range, provenance);
* ``STATE``: the state it owns, each field registered once in :meth:`Module.define_states`
  through :meth:`Module.define` (name, initial value, shape, dtype) or :meth:`Module.define_log`
  (a month-log entry); only the owner writes a field;
* ``READS``: the fields of other modules it reads (checked by the tests);
* ``USES``: the modules whose public methods it calls (e.g. politics asks the army to re-draw
  allegiances after a new government), reached through :meth:`Module.dep`;
* ``RESULTS``: the metrics it records, ``(level, name)`` with level ``"regional"`` or
  ``"national"`` and a name that may hold ``{community}``, ``{actor}``, ``{entity}``,
  ``{patron}`` or ``{bloc}`` (one metric per member); :meth:`Module.record` writes them each month.

The month loop in :mod:`shatterbelt.sim` calls ``define_states`` on every module, then
``init_pre``, then ``init``, then ``step(t)`` each month, in the order of the process overview.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from ..scenario.params import Param
from ..world import World

if TYPE_CHECKING:
    from .record import MonthRecord


class Module:
    """Base class of every mechanism."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    PARAMS: ClassVar[dict[str, Param]] = {}
    STATE: ClassVar[tuple[str, ...]] = ()
    READS: ClassVar[tuple[str, ...]] = ()
    USES: ClassVar[tuple[str, ...]] = ()
    RESULTS: ClassVar[tuple[tuple[str, str], ...]] = ()

    def __init__(self, world: World) -> None:
        self.world = world
        self.p: dict[str, float] = world.params.get(self.name, {})
        self.deps: dict[str, Module] = {}

    # ------------------------------------------------------------------ registration
    def define(self, name: str, value: Any, shape: tuple[int, ...] | None = None, dtype: Any = None) -> Any:
        """Register state ``name`` owned by this module (see :meth:`World.define`)."""
        if name not in self.STATE:
            raise ValueError(f"{self.name}: state '{name}' is not declared in {type(self).__name__}.STATE")
        return self.world.define(self.name, name, value, shape, dtype)

    def define_log(self, name: str, shape: tuple[int, ...]) -> None:
        """Register a month-log entry ``world.log.<name>`` written by this module."""
        if name not in self.STATE:
            raise ValueError(f"{self.name}: log entry '{name}' is not declared in {type(self).__name__}.STATE")
        self.world.define_log(self.name, name, shape)

    def dep(self, name: str) -> Module:
        """The module ``name``, which this module declares in ``USES``."""
        if name not in self.USES:
            raise KeyError(f"{self.name} does not declare '{name}' in USES")
        return self.deps[name]

    # ------------------------------------------------------------------ life cycle
    def define_states(self) -> None:
        """Register the state this module owns, with its initial values (before any ``init``)."""

    def init_pre(self) -> None:
        """Called once after every module defined its states, before any ``init``."""

    def init(self) -> None:
        """Called once before the first month."""

    def step(self, t: int) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def record(self, t: int, out: MonthRecord) -> None:
        """Write this month's values of the metrics declared in ``RESULTS`` (after every step)."""

    def finish(self) -> None:
        """Called once after the last month."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"
