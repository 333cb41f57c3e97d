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

import copy
from pathlib import Path
from typing import Any

import yaml

from ..errors import ScenarioError, UsageError
from ..scenario.loader import _fill_parameters, apply_overrides, load_raw, validate_dict
from ..scenario.schema import MONTH_RE, Scenario

#: the last month a calibration overlay may have seen (SYSTEM.md: calibrate on <= 2012 only)
CALIBRATION_LAST_MONTH = "2012-12"


def read_overlay(path: str | Path) -> dict[str, Any]:
    """Read and check an overlay file; one-line errors for every defect."""
    p = Path(path)
    label = f"--params {p}"
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{label}: file not found") from None
    except OSError as exc:
        raise UsageError(f"{label}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise UsageError(f"{label}: invalid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict) or not isinstance(data.get("parameters"), dict) or not data["parameters"]:
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
    data["_file"] = str(p)
    return data


def _find_param(raw: dict[str, Any], path: str) -> dict[str, Any]:
    """The Param dict at ``path`` (list items by id or [index]) inside a raw scenario."""
    node: Any = raw
    for seg in path.split("."):
        if isinstance(node, dict) and seg in node:
            node = node[seg]
        elif isinstance(node, list):
            hit = [it for it in node if isinstance(it, dict) and it.get("id") == seg]
            if not hit:
                raise ScenarioError(f"--params {path}: no item with id '{seg}'")
            node = hit[0]
        else:
            raise ScenarioError(f"--params {path}: no field '{seg}'")
    if not (isinstance(node, dict) and "value" in node and "source" in node):
        raise ScenarioError(f"--params {path}: not a parameter (value, range, source)")
    return node


def apply_overlay(raw: dict[str, Any], overlay: dict[str, Any] | None) -> dict[str, Any]:
    """A copy of ``raw`` with the overlay's values, ranges and sources in place."""
    if not overlay:
        return raw
    raw = _fill_parameters(copy.deepcopy(raw), str(raw.get("name", "scenario")))
    default_source = str(overlay.get("source") or f"overlay {overlay.get('_file', '')}".strip())
    for path, spec in overlay["parameters"].items():
        param = _find_param(raw, str(path))
        if isinstance(spec, dict):
            value = float(spec["value"])
            rng = spec.get("range")
            source = str(spec.get("source") or default_source)
        else:
            value, rng, source = float(spec), None, default_source
        param["value"] = value
        if rng is not None:
            lo, hi = float(rng[0]), float(rng[1])
            param["range"] = [min(lo, value), max(hi, value)]
        elif param.get("range") is not None:
            lo, hi = param["range"]
            param["range"] = [min(lo, value), max(hi, value)]
        param["source"] = source
    return raw


def resolve_raw(spec: str, overlay: dict[str, Any] | None = None) -> tuple[dict[str, Any], str]:
    """Raw scenario dict for ``base[+variant]`` or a file, with an overlay applied."""
    raw, label = load_raw(spec)
    return apply_overlay(raw, overlay), label


def scenario_from_raw(raw: dict[str, Any], label: str, overrides: list[str] | None = None) -> Scenario:
    """Validate a raw scenario after ``path=value`` overrides (what ``load_scenario`` does)."""
    return validate_dict(apply_overrides(raw, overrides), label)


def load_with_overlay(spec: str, overlay_file: str | Path | None, overrides: list[str] | None = None) -> Scenario:
    """``load_scenario`` with an optional ``--params`` overlay applied before ``--set`` overrides."""
    overlay = read_overlay(overlay_file) if overlay_file else None
    raw, label = resolve_raw(spec, overlay)
    return scenario_from_raw(raw, label, overrides)
