"""The outcome of a run (:class:`EpsteinResult`): per-step series, counts and timing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .codes import MODEL1_COLUMNS, SERIES_COLUMNS
from .params import EpsteinParams
from .rules import outburst_steps


@dataclass
class EpsteinResult:
    """Outcome of a run: per-step series (index 0 is the initial state) and timing."""

    params: EpsteinParams
    model: int
    seed: int
    backend: str
    agents: int
    citizens: int
    cops: int
    steps: int
    seconds: float
    series: dict[str, np.ndarray] = field(repr=False)

    @property
    def agent_steps_per_s(self) -> float:
        """Agents x steps / seconds of stepping."""
        return self.agents * self.steps / self.seconds if self.seconds > 0 else float("inf")

    def summary(self, outburst_threshold: int = 50) -> dict[str, float | int]:
        """Means over steps 1..n (the initial state excluded)."""
        s = {k: v[1:] for k, v in self.series.items()}
        out: dict[str, float | int] = {
            "mean_active": float(np.mean(s["active"])) if self.steps else 0.0,
            "mean_jailed": float(np.mean(s["jailed"])) if self.steps else 0.0,
            "max_active": int(np.max(s["active"])) if self.steps else 0,
            "outburst_steps": outburst_steps(s["active"], outburst_threshold),
            "arrests": int(np.sum(s["arrests"])),
        }
        if self.model == 2:
            out.update(
                killed_a=int(np.sum(s["killed_a"])),
                killed_b=int(np.sum(s["killed_b"])),
                alive_a_start=int(self.series["alive_a"][0]),
                alive_b_start=int(self.series["alive_b"][0]),
                alive_a_end=int(self.series["alive_a"][-1]),
                alive_b_end=int(self.series["alive_b"][-1]),
            )
        return out

    def to_dict(self, include_series: bool = True) -> dict[str, Any]:
        """The result as plain JSON-ready data (the document of ``shatterbelt epstein --json``)."""
        d: dict[str, Any] = {
            "model": self.model,
            "backend": self.backend,
            "seed": self.seed,
            "params": self.params.as_dict(),
            "agents": self.agents,
            "citizens": self.citizens,
            "cops": self.cops,
            "steps": self.steps,
            "seconds": self.seconds,
            "agent_steps_per_s": self.agent_steps_per_s if self.seconds > 0 else None,
            "summary": self.summary(),
        }
        if include_series:
            cols = SERIES_COLUMNS if self.model == 2 else MODEL1_COLUMNS
            d["series"] = {c: self.series[c].tolist() for c in cols}
        return d
