"""The mechanisms, one module each, in the order of the process overview (SYSTEM.md section 3)."""

from __future__ import annotations

from typing import Any

from ..scenario.params import Param
from .army import ArmyCohesion
from .base import Module
from .control import Control
from .displacement import Displacement
from .economy import Economy
from .grievance import Grievance
from .legitimacy import Legitimacy
from .mobilization import Mobilization
from .patrons import Patrons
from .politics import ScriptedPolitics
from .record import Record
from .timeline import Timeline
from .violence import Violence

PROCESS: list[type[Module]] = [
    Timeline,
    ScriptedPolitics,
    Economy,
    Legitimacy,
    Grievance,
    Mobilization,
    Violence,
    ArmyCohesion,
    Displacement,
    Control,
    Patrons,
    Record,
]

#: module name -> its parameters with defaults (value, range, provenance)
MODULE_PARAMS: dict[str, dict[str, Param]] = {m.name: dict(m.PARAMS) for m in PROCESS if m.PARAMS}


def politics_module_for(scenario: Any) -> type[Module]:
    """The politics step to use: the endogenous layer when the scenario configures it, else the script."""
    if getattr(scenario, "politics", None):
        try:
            from ..politics.engine import EndogenousPolitics  # type: ignore[import-not-found]
        except ImportError:
            return ScriptedPolitics
        return EndogenousPolitics
    return ScriptedPolitics


__all__ = ["PROCESS", "MODULE_PARAMS", "Module", "politics_module_for"]
