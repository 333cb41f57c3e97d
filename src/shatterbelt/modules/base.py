"""The module interface: each mechanism declares its parameters, reads and writes world state, and steps once a month.

Modelled on Starsim's modules and LASER's components: a module is small, has a
name (also the key of its parameters in the scenario), declares ``PARAMS``
(value, range, provenance), ``STATE`` (what it owns on the world) and
``RESULTS`` (what it records), and exposes ``step(t)``.  The month loop in
:mod:`shatterbelt.sim` calls them in the order of the process overview.
"""

from __future__ import annotations

from typing import ClassVar

from ..scenario.params import Param
from ..world import World


class Module:
    """Base class of every mechanism."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    PARAMS: ClassVar[dict[str, Param]] = {}
    STATE: ClassVar[tuple[str, ...]] = ()
    RESULTS: ClassVar[tuple[str, ...]] = ()

    def __init__(self, world: World) -> None:
        self.world = world
        self.p: dict[str, float] = world.params.get(self.name, {})

    def init(self) -> None:
        """Called once before the first month."""

    def step(self, t: int) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def finish(self) -> None:
        """Called once after the last month."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"
