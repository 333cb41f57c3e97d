"""Loading scenarios: built-ins, files, variants (``base+variant``) and ``--set`` overrides.

Every failure becomes a :class:`~shatterbelt.errors.ScenarioError` with one line
naming the field path and the reason, e.g.::

    scenario 'bad.yaml': actors[3] (aqi).size.value: Input should be a valid number

A *variant* is a small YAML overlay on a base scenario::

    variant: us-stays
    description: US forces held at 50,000 to the horizon
    set: {"economy.corruption": 0.2}          # optional parameter paths
    timeline:
      remove: [{type: foreign_troops, force: us_forces, after: 2010-09-02}]
      add: [...]

Parameters of modules that a scenario leaves out are filled with the modules'
defaults, so the resolved scenario (written beside every run) lists every
parameter actually used, with its provenance.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ..errors import ScenarioError
from .schema import Scenario

BUILTIN_PKG = "shatterbelt.scenario.builtin"


# ---------------------------------------------------------------------------- discovery
def _builtin_dir() -> Path:
    return Path(str(resources.files(BUILTIN_PKG)))


def builtin_scenarios() -> list[str]:
    return sorted(p.stem for p in _builtin_dir().glob("*.yaml"))


def builtin_variants() -> list[str]:
    d = _builtin_dir() / "variants"
    return sorted(p.stem for p in d.glob("*.yaml")) if d.exists() else []


def describe_builtins() -> list[dict[str, str]]:
    """Built-in scenarios and variants with their one-line descriptions."""
    out = []
    for name in builtin_scenarios():
        raw = _read_yaml(_builtin_dir() / f"{name}.yaml", name)
        out.append({"name": name, "kind": "scenario", "description": str(raw.get("description", "")).strip()})
    for name in builtin_variants():
        raw = _read_yaml(_builtin_dir() / "variants" / f"{name}.yaml", name)
        base = raw.get("base", "")
        out.append(
            {
                "name": f"{base}+{name}" if base else f"+{name}",
                "kind": "variant",
                "description": str(raw.get("description", "")).strip(),
            }
        )
    return out


# ---------------------------------------------------------------------------- reading
def _read_yaml(path: Path, label: str) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"scenario '{label}': file not found: {path}") from None
    except OSError as exc:
        raise ScenarioError(f"scenario '{label}': cannot read {path}: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError(f"scenario '{label}': invalid YAML{where}: {problem}") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"scenario '{label}': top level must be a mapping, got {type(data).__name__}")
    return data


def _resolve_name(spec: str) -> tuple[dict[str, Any], str]:
    """Raw dict of a base scenario given a built-in name or a path."""
    p = Path(spec)
    if spec.endswith((".yaml", ".yml")) or p.exists():
        return _read_yaml(p, spec), spec
    path = _builtin_dir() / f"{spec}.yaml"
    if not path.exists():
        known = ", ".join(builtin_scenarios()) or "none"
        raise ScenarioError(f"scenario '{spec}': unknown scenario (built-ins: {known}; or give a YAML file path)")
    return _read_yaml(path, spec), spec


def _variant_raw(name: str) -> dict[str, Any]:
    p = Path(name)
    if name.endswith((".yaml", ".yml")) or p.exists():
        return _read_yaml(p, name)
    path = _builtin_dir() / "variants" / f"{name}.yaml"
    if not path.exists():
        known = ", ".join(builtin_variants()) or "none"
        raise ScenarioError(f"variant '{name}': unknown variant (built-ins: {known})")
    return _read_yaml(path, name)


# ---------------------------------------------------------------------------- errors
def _loc_str(loc: tuple[Any, ...], raw: dict[str, Any]) -> str:
    """'actors[3] (aqi).size.value' from a pydantic location, naming list items by id."""
    parts: list[str] = []
    node: Any = raw
    for item in loc:
        if isinstance(item, int):
            label = f"[{item}]"
            if isinstance(node, list) and 0 <= item < len(node):
                node = node[item]
                if isinstance(node, dict) and "id" in node:
                    label += f" ({node['id']})"
            else:
                node = None
            if parts:
                parts[-1] += label
            else:
                parts.append(label)
            continue
        s = str(item)
        # discriminated unions add the tag to the path; drop it
        if isinstance(node, dict) and s not in node and s in {
            "foreign_troops", "government", "regional_war", "election", "pay_change", "shock"
        }:
            continue
        parts.append(s)
        node = node.get(s) if isinstance(node, dict) else None
    return ".".join(parts)


def _first_error(exc: ValidationError, raw: dict[str, Any]) -> str:
    err = exc.errors()[0]
    loc = _loc_str(tuple(err.get("loc", ())), raw)
    msg = err.get("msg", "invalid")
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if err.get("type") == "missing":
        msg = "required field is missing"
    elif err.get("type") == "extra_forbidden":
        msg = "unknown field"
    n = len(exc.errors())
    more = f" (and {n - 1} more error{'s' if n > 2 else ''})" if n > 1 else ""
    return f"{loc}: {msg}{more}" if loc else f"{msg}{more}"


def validate_dict(raw: dict[str, Any], label: str) -> Scenario:
    """Validate a raw scenario dict (after overlays); fill module parameter defaults."""
    raw = _fill_parameters(_expand_politics(raw, label), label)
    try:
        sc = Scenario.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(f"scenario '{label}': {_first_error(exc, raw)}") from None
    if sc.politics is not None:
        from ..politics.config import politics_from_dict

        try:
            cfg = politics_from_dict(sc.politics, "politics")
        except ScenarioError as exc:
            raise ScenarioError(f"scenario '{label}': {exc}") from None
        blocs = {b.id for b in sc.blocs}
        for i, b in enumerate(cfg.bloc_ids()):
            if b not in blocs:
                raise ScenarioError(f"scenario '{label}': politics.blocs[{i}]: '{b}' is not one of the scenario's blocs")
    return sc


def _expand_politics(raw: dict[str, Any], label: str) -> dict[str, Any]:
    """Replace ``politics: <name>`` by the named configuration, so every politics parameter
    is part of the resolved scenario (visible to ``params``, ``--set`` and ensembles)."""
    pol = raw.get("politics")
    if pol is None or isinstance(pol, dict) and "use" not in pol:
        return raw
    from ..politics.config import _apply_defaults, resolve_politics

    name = pol if isinstance(pol, str) else pol.get("use")
    if not isinstance(name, str):
        raise ScenarioError(f"scenario '{label}': politics: expected a configuration name or a mapping")
    try:
        data, _ = resolve_politics(name)
        data = _apply_defaults(data, "politics")
    except ScenarioError as exc:
        raise ScenarioError(f"scenario '{label}': politics: {exc}") from None
    raw = dict(raw)
    raw["politics"] = copy.deepcopy(dict(data))
    return raw


def _fill_parameters(raw: dict[str, Any], label: str) -> dict[str, Any]:
    from ..modules import MODULE_PARAMS

    raw = dict(raw)
    given = raw.get("parameters") or {}
    if not isinstance(given, dict):
        raise ScenarioError(f"scenario '{label}': parameters: must be a mapping of module -> parameter")
    out: dict[str, Any] = {}
    for mod, params in given.items():
        if mod not in MODULE_PARAMS:
            known = ", ".join(sorted(MODULE_PARAMS))
            raise ScenarioError(f"scenario '{label}': parameters.{mod}: unknown module (known: {known})")
        if not isinstance(params, dict):
            raise ScenarioError(f"scenario '{label}': parameters.{mod}: must be a mapping of parameter -> value")
        for k in params:
            if k not in MODULE_PARAMS[mod]:
                raise ScenarioError(
                    f"scenario '{label}': parameters.{mod}.{k}: unknown parameter of module '{mod}'"
                )
    for mod, defaults in MODULE_PARAMS.items():
        cur = dict(given.get(mod) or {})
        for k, p in defaults.items():
            if k not in cur:
                cur[k] = p.model_dump(exclude_none=True)
        out[mod] = cur
    raw["parameters"] = out
    return raw


# ---------------------------------------------------------------------------- overlays
def _split_path(path: str) -> list[str]:
    out: list[str] = []
    for part in path.split("."):
        while "[" in part:
            head, _, rest = part.partition("[")
            if head:
                out.append(head)
            idx, _, part = rest.partition("]")
            out.append(f"[{idx}]")
        if part:
            out.append(part)
    return out


def _walk(node: Any, seg: str, path: str) -> Any:
    if isinstance(node, dict):
        if seg not in node:
            raise ScenarioError(f"--set {path}: no field '{seg}'")
        return node[seg]
    if isinstance(node, list):
        if seg.startswith("[") and seg.endswith("]"):
            try:
                return node[int(seg[1:-1])]
            except (ValueError, IndexError):
                raise ScenarioError(f"--set {path}: no item {seg}") from None
        for item in node:
            if isinstance(item, dict) and item.get("id") == seg:
                return item
        raise ScenarioError(f"--set {path}: no item with id '{seg}'")
    raise ScenarioError(f"--set {path}: cannot go into '{seg}'")


def set_path(raw: dict[str, Any], path: str, value: Any, origin: str = "--set") -> None:
    """Set ``path`` (dots; list items by id or [index]) to ``value``; on a Param, set its value.

    A Param's range is widened to include an overriding value (counterfactual levers
    may lie outside the plausible range) and its source records the override.
    """
    segs = _split_path(path)
    if not segs:
        raise ScenarioError(f"{origin} {path}: empty path")
    node: Any = raw
    for seg in segs[:-1]:
        node = _walk(node, seg, path)
    last = segs[-1]
    if isinstance(node, list):
        target = _walk(node, last, path)
        if isinstance(target, dict) and "value" in target and "source" in target:
            _set_param(target, value, path, origin)
            return
        raise ScenarioError(f"{origin} {path}: cannot replace a whole list item")
    if not isinstance(node, dict):
        raise ScenarioError(f"{origin} {path}: parent is not a mapping")
    if last not in node:
        raise ScenarioError(f"{origin} {path}: no field '{last}'")
    cur = node[last]
    if isinstance(cur, dict) and "value" in cur and "source" in cur:
        _set_param(cur, value, path, origin)
    else:
        node[last] = value


def _set_param(param: dict[str, Any], value: Any, path: str, origin: str) -> None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ScenarioError(f"{origin} {path}: value '{value}' is not a number") from None
    param["value"] = v
    rng = param.get("range")
    if rng is not None:
        lo, hi = rng
        if not (lo <= v <= hi):
            param["range"] = [min(lo, v), max(hi, v)]
    param["source"] = f"{param.get('source', 'assumption')}; overridden by {origin} to {v:g}"


def apply_overrides(raw: dict[str, Any], overrides: list[str] | None) -> dict[str, Any]:
    """Apply ``path=value`` strings (values parsed as YAML: numbers, booleans, lists)."""
    if not overrides:
        return raw
    raw = copy.deepcopy(raw)
    raw = _fill_parameters(_expand_politics(raw, raw.get("name", "scenario")), raw.get("name", "scenario"))
    for ov in overrides:
        if "=" not in ov:
            raise ScenarioError(f"--set {ov}: expected path=value")
        path, _, text = ov.partition("=")
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError:
            value = text
        set_path(raw, path.strip(), value)
    return raw


def _event_matches(ev: dict[str, Any], flt: dict[str, Any]) -> bool:
    d = ev.get("date")
    d = d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d)) if d else None
    for k, v in flt.items():
        if k == "after":
            v = v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v))
            if d is None or d < v:
                return False
        elif k == "before":
            v = v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v))
            if d is None or d >= v:
                return False
        elif ev.get(k) != v:
            return False
    return True


def apply_variant(raw: dict[str, Any], var: dict[str, Any], name: str) -> dict[str, Any]:
    allowed = {"variant", "base", "description", "set", "timeline", "replace"}
    for k in var:
        if k not in allowed:
            raise ScenarioError(f"variant '{name}': {k}: unknown field (allowed: {', '.join(sorted(allowed))})")
    raw = copy.deepcopy(raw)
    desc = str(var.get("description", "")).strip()
    raw["name"] = f"{raw.get('name', 'scenario')}+{var.get('variant', name)}"
    if desc:
        raw["description"] = f"{raw.get('description', '')} | variant {var.get('variant', name)}: {desc}".strip(" |")
    tl = var.get("timeline") or {}
    if tl:
        if not isinstance(tl, dict):
            raise ScenarioError(f"variant '{name}': timeline: must have 'remove' and/or 'add'")
        events = list(raw.get("timeline") or [])
        for i, flt in enumerate(tl.get("remove") or []):
            if not isinstance(flt, dict):
                raise ScenarioError(f"variant '{name}': timeline.remove[{i}]: must be a mapping of field: value")
            events = [e for e in events if not _event_matches(e, flt)]
        events += list(tl.get("add") or [])
        raw["timeline"] = events
    for k, v in (var.get("replace") or {}).items():
        raw[k] = v
    if var.get("set"):
        raw = _fill_parameters(_expand_politics(raw, raw["name"]), raw["name"])
        for path, value in var["set"].items():
            set_path(raw, path, value, origin=f"variant {name}")
    return raw


# ---------------------------------------------------------------------------- public
def load_raw(spec: str) -> tuple[dict[str, Any], str]:
    """Raw (unvalidated) dict for ``base[+variant...]`` or a YAML path; returns (dict, label)."""
    if not isinstance(spec, str) or not spec.strip():
        raise ScenarioError("scenario: empty name")
    spec = spec.strip()
    if "+" in spec and not Path(spec).exists():
        base, *variants = spec.split("+")
        raw, _ = _resolve_name(base)
        for v in variants:
            var = _variant_raw(v)
            raw = apply_variant(raw, var, v)
        return raw, spec
    raw, label = _resolve_name(spec)
    if "variant" in raw and "base" in raw:  # a variant file given directly
        base_raw, _ = _resolve_name(str(raw["base"]))
        return apply_variant(base_raw, raw, spec), spec
    return raw, label


def load_scenario(spec: str | Scenario, overrides: list[str] | None = None) -> Scenario:
    """Load and validate a scenario: a built-in name (``iraq-2010``), ``base+variant``, or a YAML path."""
    if isinstance(spec, Scenario):
        if not overrides:
            return spec
        raw = spec.model_dump(mode="json", exclude_none=True)
        label = spec.name
    else:
        raw, label = load_raw(spec)
    raw = apply_overrides(raw, overrides)
    return validate_dict(raw, label)


def dump_scenario(sc: Scenario) -> str:
    """The fully resolved scenario as YAML (every parameter used, with provenance)."""
    data = sc.model_dump(mode="json", exclude_none=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120)


def scenario_hash(sc: Scenario) -> str:
    """SHA-256 of the resolved scenario (for manifests and caches)."""
    return hashlib.sha256(dump_scenario(sc).encode("utf-8")).hexdigest()
