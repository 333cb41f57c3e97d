"""Every parameter of a scenario with its path, value, range and provenance.

Paths are the ones ``--set`` accepts (list items named by id), so the list is
also the menu of uncertainties for ensembles and sensitivity analysis: a
parameter with a range of non-zero width is uncertain.
"""

from __future__ import annotations

from typing import Any

from .params import PROVENANCE_KINDS
from .schema import Scenario


def _kind(source: str) -> str:
    s = source.lower()
    for k in PROVENANCE_KINDS:
        if s.startswith(k):
            return k
    return "source"


def collect_params(sc: Scenario) -> list[dict[str, Any]]:
    """All Params in the scenario as dicts: path, value, range, source, kind."""
    out: list[dict[str, Any]] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            if "value" in node and "source" in node and isinstance(node.get("value"), (int, float)):
                rng = node.get("range")
                out.append(
                    {
                        "path": path,
                        "value": float(node["value"]),
                        "range": None if rng is None else [float(rng[0]), float(rng[1])],
                        "source": node["source"],
                        "kind": _kind(node["source"]),
                    }
                )
                return
            for k, v in node.items():
                walk(v, f"{path}.{k}" if path else str(k))
        elif isinstance(node, list):
            for i, item in enumerate(node):
                label = item.get("id") if isinstance(item, dict) and "id" in item else f"[{i}]"
                walk(item, f"{path}.{label}" if not label.startswith("[") else f"{path}{label}")

    data = sc.model_dump(mode="json", exclude_none=True)
    data.pop("timeline", None)
    if isinstance(data.get("politics"), dict):
        # documented outcomes are observations to compare with, not parameters
        data["politics"].pop("documented", None)
    walk(data, "")
    return out


def uncertain_params(sc: Scenario) -> list[dict[str, Any]]:
    """Parameters whose range has a non-zero width: the ensemble's uncertainties."""
    return [p for p in collect_params(sc) if p["range"] is not None and p["range"][1] > p["range"][0]]
