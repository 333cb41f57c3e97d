"""The mechanisms, one module each, in the order of the process overview (``Simulation.describe()``)."""

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
from .politics import EndogenousPolitics, ScriptedPolitics
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
    """The politics step to use: the endogenous layer when the scenario has a politics section, else the script."""
    return EndogenousPolitics if getattr(scenario, "politics", None) else ScriptedPolitics


__all__ = ["MODULE_PARAMS", "PROCESS", "EndogenousPolitics", "Module", "ScriptedPolitics", "politics_module_for"]
