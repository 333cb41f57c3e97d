"""The parameter type every scenario number is written in.

A parameter carries its ``value``, a plausible ``range`` for ensembles and
sensitivity analysis, and its ``source`` (provenance): a citation, ``seed claim``
(taken from the essay), ``calibrated (<=2012)`` (fitted on data up to 2012 only)
or ``assumption``.  A value outside its own range is refused at load time so
an ensemble can never sample a region that excludes the baseline.

Every parameter also has a *domain*: what its meaning allows (a probability lies in
[0, 1], a count of persons is never negative, money is never negative...).  The domain
is declared once, beside the field (``corruption: Share``) or beside a module's default
(``Param(..., domain="probability")``), and enforced wherever a value enters: files,
variants, overlays, ``--set`` and the Python API.  A value outside its domain is an
error; an override outside the documented range but inside the domain is allowed
(the range widens, the source records the override, a :class:`ParameterRangeWarning`
says so).  Every value and range must be a finite number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

PROVENANCE_KINDS = ("seed claim", "calibrated (<=2012)", "assumption")


class Strict(BaseModel):
    """The base of every scenario model: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


@dataclass(frozen=True)
class Domain:
    """The values a parameter's meaning allows: ``lo <= value <= hi`` (``lo < value`` if ``lo_open``)."""

    name: str
    lo: float = -math.inf
    hi: float = math.inf
    lo_open: bool = False

    def describe(self) -> str:
        if self.lo == -math.inf and self.hi == math.inf:
            return f"{self.name} (any finite number)"
        if self.hi == math.inf:
            return f"{self.name} ({'>' if self.lo_open else '>='} {self.lo:g})"
        return f"{self.name} in [{self.lo:g}, {self.hi:g}]"

    def contains(self, v: float) -> bool:
        above = v > self.lo if self.lo_open else v >= self.lo
        return math.isfinite(v) and above and v <= self.hi

    def check(self, p: Param) -> Param:
        """``p`` if its value and range lie in the domain; ValueError naming the reason otherwise."""
        if not self.contains(p.value):
            raise ValueError(f"{p.value:g} is outside the domain of a {self.describe()}")
        if p.range is not None and not (self.contains(p.range[0]) and self.contains(p.range[1])):
            raise ValueError(
                f"range [{p.range[0]:g}, {p.range[1]:g}] leaves the domain of a {self.describe()}"
            )
        return p


#: every domain, by name (what a module's ``Param(domain=...)`` names)
DOMAINS: dict[str, Domain] = {
    d.name: d
    for d in (
        Domain("probability", 0.0, 1.0),
        Domain("share", 0.0, 1.0),
        Domain("unit weight", 0.0, 1.0),
        Domain("signed weight", -1.0, 1.0),
        Domain("count", 0.0),
        Domain("money", 0.0),
        Domain("rate", 0.0),
        Domain("multiplier", 0.0),
        Domain("non-negative number", 0.0),
        Domain("positive number", 0.0, lo_open=True),
        Domain("power-law exponent", 1.0, lo_open=True),
        Domain("number"),
    )
}


class ParameterRangeWarning(UserWarning):
    """An override put a parameter outside its documented range (inside its domain)."""


class Param(BaseModel):
    """A scalar model parameter with its plausible range and provenance."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: float
    range: tuple[float, float] | None = None
    source: str
    note: str | None = None
    domain: str | None = Field(
        None, exclude=True, description="name of its domain (a module's default declares it; files do not)"
    )

    @field_validator("domain")
    @classmethod
    def _known_domain(cls, v: str | None) -> str | None:
        if v is not None and v not in DOMAINS:
            raise ValueError(f"unknown domain '{v}' (known: {', '.join(DOMAINS)})")
        return v

    @field_validator("source")
    @classmethod
    def _source_non_empty(cls, v: str) -> str:
        if not v or not v.strip():
            raise ValueError("source must name a citation, 'seed claim', 'calibrated (<=2012)' or 'assumption'")
        return v.strip()

    @model_validator(mode="after")
    def _range_contains_value(self) -> Param:
        if not math.isfinite(self.value):
            raise ValueError(f"value must be a finite number, got {self.value}")
        if self.range is not None and not all(math.isfinite(x) for x in self.range):
            raise ValueError(f"range must be finite numbers, got [{self.range[0]}, {self.range[1]}]")
        if self.domain is not None:
            DOMAINS[self.domain].check(self)
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
        data: dict[str, Any] = {**self.model_dump(), "domain": self.domain}
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


def _in(name: str) -> AfterValidator:
    domain = DOMAINS[name]
    return AfterValidator(domain.check)


#: parameter types by domain, for schema fields (``corruption: Share``)
Probability = Annotated[Param, _in("probability")]
Share = Annotated[Param, _in("share")]
UnitWeight = Annotated[Param, _in("unit weight")]
SignedWeight = Annotated[Param, _in("signed weight")]
Count = Annotated[Param, _in("count")]
Money = Annotated[Param, _in("money")]
Rate = Annotated[Param, _in("rate")]
Multiplier = Annotated[Param, _in("multiplier")]
NonNegative = Annotated[Param, _in("non-negative number")]
Positive = Annotated[Param, _in("positive number")]
Number = Annotated[Param, _in("number")]
