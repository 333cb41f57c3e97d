"""The parameter type every scenario number is written in.

A parameter carries its ``value``, a plausible ``range`` for ensembles and
sensitivity analysis, and its ``source`` (provenance): a citation, ``seed claim``
(taken from the essay), ``calibrated (<=2012)`` (fitted on data up to 2012 only)
or ``assumption``.  A value outside its own range is refused at load time so
an ensemble can never sample a region that excludes the baseline.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

PROVENANCE_KINDS = ("seed claim", "calibrated (<=2012)", "assumption")


class Strict(BaseModel):
    """The base of every scenario model: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Param(BaseModel):
    """A scalar model parameter with its plausible range and provenance."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: float
    range: tuple[float, float] | None = None
    source: str
    note: str | None = None

    @field_validator("source")
    @classmethod
    def _source_non_empty(cls, v: str) -> str:
        if not v or not v.strip():
            raise ValueError("source must name a citation, 'seed claim', 'calibrated (<=2012)' or 'assumption'")
        return v.strip()

    @model_validator(mode="after")
    def _range_contains_value(self) -> Param:
        if self.range is not None:
            lo, hi = self.range
            if lo > hi:
                raise ValueError(f"range [{lo}, {hi}] has low > high")
            if not (lo <= self.value <= hi):
                raise ValueError(f"range [{lo}, {hi}] does not contain value {self.value}")
        return self

    @property
    def provenance_kind(self) -> str:
        """'seed claim', 'calibrated (<=2012)', 'assumption' or 'source' (a citation)."""
        s = self.source.lower()
        for k in PROVENANCE_KINDS:
            if s.startswith(k):
                return k
        return "source"

    def with_value(self, value: float, source: str | None = None) -> Param:
        """A copy with a new value; the range is widened only if it must be (never silently)."""
        data: dict[str, Any] = self.model_dump()
        data["value"] = float(value)
        if source is not None:
            data["source"] = source
        return Param(**data)

    def __float__(self) -> float:
        return float(self.value)


def P(value: float, lo: float | None = None, hi: float | None = None, source: str = "assumption") -> Param:
    """Shorthand used by tests and small scenarios written in Python."""
    rng = (lo, hi) if lo is not None and hi is not None else None
    return Param(value=value, range=rng, source=source)
