"""Parameter overlays: a YAML file of parameter values with their own provenance.

``shatterbelt calibrate`` writes one; ``run``, ``ensemble`` and every experiment
command accept it as ``--params FILE``.  Unlike ``--set`` (which marks a value
as *overridden*), an overlay replaces a parameter's value, range and source
whole, so a calibrated parameter reads ``calibrated (<=2012): ...`` in the
resolved scenario and later ensembles sample its posterior range, not the
prior one.  The format::

    overlay: calibration
    scenario: iraq-2010
    cutoff: 2012-12            # optional; a calibration overlay must have one <= 2012-12
    parameters:
      parameters.violence.rate_insurgency: {value: 162.5, range: [120.0, 210.0], source: "calibrated (<=2012): ..."}

Paths are the ones ``shatterbelt params`` lists.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..resolve import apply_overlay, apply_overrides, hold_range_warnings, resolve_raw, validate
from ..scenario.loader import read_yaml
from ..scenario.schema import MONTH_RE, Scenario

__all__ = ["CALIBRATION_LAST_MONTH", "apply_overlay", "load_with_overlay", "read_overlay", "resolve_raw",
           "scenario_from_raw"]

#: the last month a calibration overlay may have seen (calibrate on <= 2012 only)
CALIBRATION_LAST_MONTH = "2012-12"


def read_overlay(path: str | Path) -> dict[str, Any]:
    """Read and check an overlay file; one-line errors for every defect."""
    p = Path(path)
    label = f"--params {p}"
    data = read_yaml(p, str(p), "--params")
    if not isinstance(data.get("parameters"), dict) or not data["parameters"]:
        raise UsageError(f"{label}: expected a mapping with a non-empty 'parameters:' mapping of path -> value")
    cutoff = data.get("cutoff")
    if cutoff is not None:
        cutoff = str(cutoff)
        if not MONTH_RE.match(cutoff):
            raise UsageError(f"{label}: cutoff '{cutoff}' is not a month written YYYY-MM")
        data["cutoff"] = cutoff
    if data.get("overlay") == "calibration":
        if cutoff is None:
            raise UsageError(f"{label}: a calibration overlay must state its cutoff")
        if cutoff > CALIBRATION_LAST_MONTH:
            raise UsageError(
                f"{label}: calibrated on data up to {cutoff}, after {CALIBRATION_LAST_MONTH}; "
                "the out-of-sample years must stay unseen"
            )
    for path_, spec in data["parameters"].items():
        if isinstance(spec, (int, float)):
            continue
        if not isinstance(spec, dict) or "value" not in spec:
            raise UsageError(f"{label}: parameters.{path_}: expected a number or {{value, range, source}}")
        rng = spec.get("range")
        if rng is not None and not (isinstance(rng, list) and len(rng) == 2):
            raise UsageError(f"{label}: parameters.{path_}: range must be a list [low, high], got {rng!r}")
    data["_file"] = str(p)
    return data


def scenario_from_raw(
    raw: dict[str, Any], label: str, overrides: list[str] | None = None, warn: bool = True
) -> Scenario:
    """Validate a raw scenario after ``path=value`` overrides (what ``load_scenario`` does); with
    ``warn=False`` an override outside its documented range gives no warning (sampled values)."""
    with hold_range_warnings(warn):
        return validate(apply_overrides(raw, overrides), label)


def load_with_overlay(spec: str, overlay_file: str | Path | None, overrides: list[str] | None = None) -> Scenario:
    """``load_scenario`` with an optional ``--params`` overlay applied before ``--set`` overrides."""
    overlay = read_overlay(overlay_file) if overlay_file else None
    with hold_range_warnings():
        raw, label = resolve_raw(spec, overlay)
        return scenario_from_raw(raw, label, overrides)
