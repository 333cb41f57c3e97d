"""The parameters of Model I and II (:class:`EpsteinParams`) and the names of their switches."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import UsageError

DISCRETISATIONS = ("floor", "round", "none")
NEIGHBOURHOODS = ("disc", "von_neumann", "cross")
ACTIVATIONS = ("sequential", "simultaneous")
MAX_VISION = 20

_ALIASES = {
    "von-neumann": "von_neumann",
    "vonneumann": "von_neumann",
    "diamond": "von_neumann",
    "euclidean": "disc",
    "circle": "disc",
    "random-sequential": "sequential",
    "random_sequential": "sequential",
    "asynchronous": "sequential",
    "synchronous": "simultaneous",
}


def flag(name: str) -> str:
    """The command-line flag of a parameter (``cop_density`` -> ``--cop-density``)."""
    return "--" + name.replace("_", "-")


def canon(value: str, allowed: tuple[str, ...], name: str) -> str:
    """The canonical spelling of a switch value (aliases, case), or a :class:`UsageError` naming the flag."""
    v = str(value).strip().lower()
    v = _ALIASES.get(v, v)
    if v not in allowed:
        raise UsageError(f"{flag(name)}: unknown value {value!r} (choose one of: {', '.join(allowed)})")
    return v


@dataclass(frozen=True)
class EpsteinParams:
    """Parameters of Model I and II.  Defaults are NetLogo's Rebellion parameter set.

    ``citizen_density`` and ``cop_density`` are per-cell probabilities (as
    Mesa places agents), so agent counts are binomial around density × cells.
    ``group_a_share`` is used by Model II only.
    """

    width: int = 40
    height: int = 40
    citizen_density: float = 0.70
    cop_density: float = 0.04
    vision: int = 7
    cop_vision: int = 7
    legitimacy: float = 0.82
    max_jail: int = 30
    threshold: float = 0.1
    arrest_constant: float = 2.3
    discretisation: str = "floor"
    neighbourhood: str = "disc"
    activation: str = "sequential"
    movement: bool = True
    group_a_share: float = 0.5

    def __post_init__(self) -> None:
        for name, allowed in (
            ("discretisation", DISCRETISATIONS),
            ("neighbourhood", NEIGHBOURHOODS),
            ("activation", ACTIVATIONS),
        ):
            object.__setattr__(self, name, canon(getattr(self, name), allowed, name))
        self.validate()

    @classmethod
    def netlogo(cls, **overrides: Any) -> EpsteinParams:
        """NetLogo Rebellion's parameter set and rules (floor, Euclidean disc)."""
        return cls(**overrides)

    @classmethod
    def mesa_defaults(cls, **overrides: Any) -> EpsteinParams:
        """Mesa 3.3.1 example defaults and rules (round, von Neumann, random sequential)."""
        base: dict[str, Any] = dict(
            citizen_density=0.7,
            cop_density=0.074,
            legitimacy=0.8,
            max_jail=1000,
            discretisation="round",
            neighbourhood="von_neumann",
            activation="sequential",
        )
        base.update(overrides)
        return cls(**base)

    @classmethod
    def mesa_rules(cls, **overrides: Any) -> EpsteinParams:
        """NetLogo's parameter set with Mesa's rules: the configuration of the equivalence test."""
        base: dict[str, Any] = dict(
            discretisation="round", neighbourhood="von_neumann", activation="sequential"
        )
        base.update(overrides)
        return cls(**base)

    def replace(self, **changes: Any) -> EpsteinParams:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def validate(self) -> None:
        """Raise :class:`UsageError` naming the flag of the first bad field."""

        def bad(name: str, why: str) -> UsageError:
            return UsageError(f"{flag(name)}: {why} (got {getattr(self, name)!r})")

        for name in ("width", "height", "vision", "cop_vision", "max_jail"):
            val = getattr(self, name)
            if isinstance(val, bool) or not isinstance(val, int | np.integer):
                raise bad(name, "must be an integer")
        for name in (
            "citizen_density",
            "cop_density",
            "legitimacy",
            "threshold",
            "arrest_constant",
            "group_a_share",
        ):
            val = getattr(self, name)
            if isinstance(val, bool) or not isinstance(val, int | float | np.floating | np.integer):
                raise bad(name, "must be a number")
            if not math.isfinite(float(val)):
                raise bad(name, "must be finite")
        for name in ("width", "height"):
            if getattr(self, name) < 1:
                raise bad(name, "must be a positive integer")
        for name in ("vision", "cop_vision"):
            if not 1 <= getattr(self, name) <= MAX_VISION:
                raise bad(name, f"must be between 1 and {MAX_VISION}")
        pad = max(self.vision, self.cop_vision)
        for name in ("width", "height"):
            if getattr(self, name) < 2 * pad + 1:
                raise bad(name, f"must be at least 2 x vision + 1 = {2 * pad + 1}")
        if self.width * self.height >= 2**31:
            raise bad("width", "grid too large (width x height must be below 2**31)")
        for name in ("citizen_density", "cop_density", "legitimacy", "group_a_share"):
            if not 0.0 <= float(getattr(self, name)) <= 1.0:
                raise bad(name, "must be between 0 and 1")
        if float(self.citizen_density) + float(self.cop_density) > 1.0:
            raise bad("cop_density", "citizen density + cop density must not exceed 1")
        if not 0 <= self.max_jail <= 32767:
            raise bad("max_jail", "must be between 0 and 32767")
        if float(self.arrest_constant) < 0:
            raise bad("arrest_constant", "must be non-negative")

    def as_dict(self) -> dict[str, Any]:
        """The parameters as a plain dict (the ``params`` of ``--json``)."""
        return dataclasses.asdict(self)
