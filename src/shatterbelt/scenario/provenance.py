"""Every parameter of a scenario with its path, value, range, provenance and domain.

Paths are the ones ``--set`` accepts (list items named by id), so the list is
also the menu of uncertainties for ensembles and sensitivity analysis: a
parameter with a range of non-zero width is uncertain.
"""

from __future__ import annotations

from typing import Annotated, Any, get_args, get_origin

from pydantic import AfterValidator, BaseModel
from pydantic.fields import FieldInfo

from .params import PROVENANCE_KINDS, Domain, Param
from .schema import Scenario


def _kind(source: str) -> str:
    s = source.lower()
    for k in PROVENANCE_KINDS:
        if s.startswith(k):
            return k
    return "source"


def _domain_in(items: Any) -> str | None:
    """The domain named by an ``AfterValidator(Domain.check)`` among annotation metadata or arguments."""
    for m in items:
        func = getattr(m, "func", None) if isinstance(m, AfterValidator) else None
        owner = getattr(func, "__self__", None)
        if isinstance(owner, Domain):
            return owner.name
        if get_origin(m) is Annotated or get_args(m):
            found = _domain_in(get_args(m))
            if found is not None:
                return found
    return None


def _field_domain(f: FieldInfo) -> str | None:
    return _domain_in(f.metadata) or _domain_in([f.annotation])


def param_domains(sc: Scenario) -> dict[str, str]:
    """Path -> domain name of every parameter whose domain is declared (schema field or module default)."""
    out: dict[str, str] = {}

    def walk(obj: Any, path: str, domain: str | None) -> None:
        if isinstance(obj, Param):
            d = domain or obj.domain
            if d is not None:
                out[path] = d
        elif isinstance(obj, BaseModel):
            for name, f in type(obj).model_fields.items():
                walk(getattr(obj, name), f"{path}.{name}" if path else name, _field_domain(f))
        elif isinstance(obj, dict):
            for k, v in obj.items():
                walk(v, f"{path}.{k}" if path else str(k), domain)
        elif isinstance(obj, (list, tuple)):
            for i, item in enumerate(obj):
                label = getattr(item, "id", None)
                walk(item, f"{path}.{label}" if isinstance(label, str) else f"{path}[{i}]", domain)

    walk(sc, "", None)
    return out


def collect_params(sc: Scenario) -> list[dict[str, Any]]:
    """All Params in the scenario as dicts: path, value, range, source, kind, domain (or None)."""
    out: list[dict[str, Any]] = []
    domains = param_domains(sc)

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
                        "domain": domains.get(path),
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
