"""Reading scenarios as raw data: built-ins, files, variants, politics sections, path overrides.

This module reads YAML and edits raw (unvalidated) scenario mappings; it knows nothing
of the mechanisms or of the politics layer.  The whole chain that turns a name into a
validated :class:`~shatterbelt.scenario.schema.Scenario` (variants, module defaults,
overlays, ``--set``) is :mod:`shatterbelt.resolve`.

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

One path engine (:func:`set_path`) serves variants' ``set:``, ``--set`` and parameter
overlays, for every section of the scenario (politics included): a path names an
existing field (dots; list items by id or ``[index]``), never creates one, and an
override of a parameter records its origin in the parameter's ``source``.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import math
import warnings
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from ..errors import ScenarioError
from .params import Param, ParameterRangeWarning
from .politics_schema import PoliticsConfig, check_politics
from .schema import Scenario

BUILTIN_PKG = "shatterbelt.scenario.builtin"

#: keys a variant file may have
VARIANT_FIELDS = ("base", "description", "replace", "set", "timeline", "variant")


# ---------------------------------------------------------------------------- discovery
def builtin_dir() -> Path:
    """Folder of the built-in scenarios (package data)."""
    return Path(str(resources.files(BUILTIN_PKG)))


def builtin_scenarios() -> list[str]:
    """Names of the built-in scenarios."""
    return sorted(p.stem for p in builtin_dir().glob("*.yaml"))


def builtin_variants() -> list[str]:
    """Names of the built-in variants."""
    d = builtin_dir() / "variants"
    return sorted(p.stem for p in d.glob("*.yaml")) if d.exists() else []


def builtin_politics_dir() -> Path:
    """Folder of the built-in politics sections (package data)."""
    return builtin_dir() / "politics"


def builtin_politics() -> list[str]:
    """Names of the built-in politics sections."""
    d = builtin_politics_dir()
    return sorted(p.stem for p in d.glob("*.yaml")) if d.is_dir() else []


def describe_builtins() -> list[dict[str, str]]:
    """Built-in scenarios and variants with their one-line descriptions."""
    out = []
    for name in builtin_scenarios():
        raw = read_yaml(builtin_dir() / f"{name}.yaml", name)
        out.append({"name": name, "kind": "scenario", "description": str(raw.get("description", "")).strip()})
    for name in builtin_variants():
        raw = read_yaml(builtin_dir() / "variants" / f"{name}.yaml", name)
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
#: the largest scenario, variant, politics or overlay file read (the full Iraq scenario is ~100 kB)
MAX_YAML_BYTES = 16 * 1024 * 1024


def read_yaml(path: Path, label: str, what: str = "scenario") -> dict[str, Any]:
    """A YAML file whose top level is a mapping; one-line ScenarioError otherwise.

    Only a regular file of at most :data:`MAX_YAML_BYTES` is read (``/dev/zero``, a FIFO or a
    huge file would never end or fill memory).
    """
    try:
        if path.exists() and not path.is_file():
            raise ScenarioError(f"{what} '{label}': {path} is not a regular file")
        size = path.stat().st_size
        if size > MAX_YAML_BYTES:
            raise ScenarioError(f"{what} '{label}': {path} is {size:,} bytes; a scenario file is at most "
                                f"{MAX_YAML_BYTES:,}")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"{what} '{label}': file not found: {path}") from None
    except OSError as exc:
        raise ScenarioError(f"{what} '{label}': cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{what} '{label}': not UTF-8 text (byte {exc.start})") from None
    try:
        data = yaml.safe_load(text)
    except RecursionError:
        raise ScenarioError(f"{what} '{label}': YAML nested too deeply") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError(f"{what} '{label}': invalid YAML{where}: {problem}") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{what} '{label}': top level must be a mapping, got {type(data).__name__}")
    return data


def _is_path(spec: str) -> bool:
    return spec.endswith((".yaml", ".yml")) or Path(spec).exists()


def read_base(spec: str) -> dict[str, Any]:
    """Raw dict of a base scenario given a built-in name or a path."""
    if _is_path(spec):
        return read_yaml(Path(spec), spec)
    path = builtin_dir() / f"{spec}.yaml"
    if not path.exists():
        known = ", ".join(builtin_scenarios()) or "none"
        raise ScenarioError(f"scenario '{spec}': unknown scenario (built-ins: {known}; or give a YAML file path)")
    return read_yaml(path, spec)


def read_variant(name: str) -> dict[str, Any]:
    """Raw dict of a variant given a built-in name or a path."""
    if _is_path(name):
        return read_yaml(Path(name), name, "variant")
    path = builtin_dir() / "variants" / f"{name}.yaml"
    if not path.exists():
        known = ", ".join(builtin_variants()) or "none"
        raise ScenarioError(f"variant '{name}': unknown variant (built-ins: {known})")
    return read_yaml(path, name, "variant")


def read_spec(spec: str) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]], str]:
    """``base[+variant...]`` or a YAML path as ``(base raw dict, [(variant name, variant raw)], label)``."""
    if not isinstance(spec, str) or not spec.strip():
        raise ScenarioError("scenario: empty name")
    spec = spec.strip()
    if "+" in spec and not Path(spec).exists():
        base, *variants = spec.split("+")
        return read_base(base), [(v, read_variant(v)) for v in variants], spec
    raw = read_base(spec)
    if "variant" in raw and "base" in raw:  # a variant file given directly
        return read_base(str(raw["base"])), [(spec, raw)], spec
    return raw, [], spec


# ---------------------------------------------------------------------------- politics sections
def read_politics(name: str, depth: int = 0) -> tuple[dict[str, Any], Path]:
    """The raw politics section for a name or path: ``(mapping, file it came from)``.

    Looked up as a built-in politics section (``builtin/politics/<name>.yaml``), a
    built-in scenario's ``politics:`` (a mapping, or the name of a politics section),
    or a YAML path (a bare politics section, or a file with a ``politics:`` key).
    """
    if "+" in name and not Path(name).exists():
        raise ScenarioError(f"{name}: a scenario with variants is not a politics section")
    if depth > 4:
        raise ScenarioError(f"{name}: politics sections name each other too deeply (a cycle?)")
    candidates: list[Path] = []
    pdir = builtin_politics_dir()
    if name and "/" not in name and not name.endswith((".yaml", ".yml")):
        candidates += [pdir / f"{name}.yaml", builtin_dir() / f"{name}.yaml"]
    else:
        candidates.append(Path(name))
    for path in candidates:
        if not path.is_file():
            continue
        data = read_yaml(path, str(path), "politics")
        if "politics" in data:
            section = data["politics"]
            if section is None:
                continue
            if isinstance(section, str):
                return read_politics(section, depth + 1)
            if not isinstance(section, dict):
                raise ScenarioError(f"{path}: politics: must be a mapping, got {type(section).__name__}")
            return section, path
        if path.parent == builtin_dir():
            continue  # a built-in scenario without a politics section
        return data, path
    known = ", ".join(builtin_politics()) or "none"
    raise ScenarioError(f"{name}: no such politics configuration or file (built-in: {known})")


def politics_with_defaults(data: Mapping[str, Any], where: str = "politics", depth: int = 0) -> dict[str, Any]:
    """Resolve ``defaults_from: {name: <politics>, sections: [...]}``: the named sections are taken
    from another politics section and merged one level deep (this one's keys win).

    Why: the out-of-sample formations (2005, 2014, 2018) must run with exactly the behavioural
    parameters calibrated on 2010, not with copies that could drift.
    """
    out = dict(data)
    spec = out.pop("defaults_from", None)
    if spec is None:
        return out
    if depth > 4:
        raise ScenarioError(f"{where}.defaults_from: nested too deeply")
    if not isinstance(spec, Mapping) or "name" not in spec or not isinstance(spec.get("sections"), list):
        raise ScenarioError(f"{where}.defaults_from: expected {{name: <config>, sections: [<section>, ...]}}")
    base_data, _ = read_politics(str(spec["name"]))
    base = politics_with_defaults(base_data, where, depth + 1)
    for sec in spec["sections"]:
        if sec not in base:
            raise ScenarioError(f"{where}.defaults_from.sections: '{sec}' not found in '{spec['name']}'")
        mine = out.get(sec)
        if isinstance(mine, Mapping) and isinstance(base[sec], Mapping):
            merged = dict(base[sec])
            merged.update(mine)
            out[sec] = merged
        elif mine is None:
            out[sec] = base[sec]
    return out


def expand_politics(raw: dict[str, Any], label: str) -> dict[str, Any]:
    """Replace ``politics: <name>`` by the named section with its ``defaults_from`` merged, so
    every politics parameter is part of the resolved scenario (``params``, ``--set``, ensembles)."""
    pol = raw.get("politics")
    if pol is None or isinstance(pol, dict) and "use" not in pol and "defaults_from" not in pol:
        return raw
    try:
        if isinstance(pol, dict) and "use" not in pol:
            data = politics_with_defaults(pol, "politics")
        else:
            name = pol if isinstance(pol, str) else pol.get("use") if isinstance(pol, dict) else None
            if not isinstance(name, str):
                raise ScenarioError("expected a configuration name or a mapping")
            data, _ = read_politics(name)
            data = politics_with_defaults(data, "politics")
    except ScenarioError as exc:
        raise ScenarioError(f"scenario '{label}': politics: {exc}") from None
    raw = dict(raw)
    raw["politics"] = copy.deepcopy(dict(data))
    return raw


def politics_from_dict(data: Any, where: str = "politics") -> PoliticsConfig:
    """Validate a politics section on its own (no scenario around it); one-line ScenarioError.

    Its communities are those of its ``community_shares``; inside a scenario the
    :class:`~shatterbelt.scenario.schema.Scenario` checks it against the scenario instead.
    """
    if not isinstance(data, Mapping):
        raise ScenarioError(f"{where}: must be a mapping, got {type(data).__name__}")
    data = politics_with_defaults(data, where)
    try:
        cfg = PoliticsConfig.model_validate(data)
        return check_politics(cfg, where)
    except ValidationError as exc:
        raise ScenarioError(validation_message(exc, data, prefix=where, label_ids=False)) from None
    except ValueError as exc:
        raise ScenarioError(str(exc)) from None


def load_politics(name_or_path: str | Path, overrides: Iterable[str] = ()) -> PoliticsConfig:
    """A politics section on its own, by built-in name or YAML path, after ``path=value`` overrides.

    Override paths may start with ``politics.``; they follow the scenario's rule (:func:`set_path`).
    """
    data, path = read_politics(str(name_or_path))
    data = politics_with_defaults(copy.deepcopy(data), "politics")
    for key, value in parse_overrides(overrides):
        rel = key[len("politics."):] if key.startswith("politics.") else key
        set_path(data, rel, value, root=PoliticsConfig)
    cfg = politics_from_dict(data, "politics")
    cfg._origin = path
    return cfg


# ---------------------------------------------------------------------------- errors
_EVENT_TAGS = {"foreign_troops", "government", "regional_war", "election", "resignation", "pay_change", "shock"}


def _loc_str(loc: tuple[Any, ...], raw: Any, label_ids: bool = True) -> str:
    """'actors[3] (aqi).size.value' from a pydantic location, naming list items by id."""
    parts: list[str] = []
    node: Any = raw
    for item in loc:
        if isinstance(item, int):
            label = f"[{item}]"
            if isinstance(node, list) and 0 <= item < len(node):
                node = node[item]
                if label_ids and isinstance(node, dict) and "id" in node:
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
        if isinstance(node, dict) and s not in node and s in _EVENT_TAGS:
            continue
        parts.append(s)
        node = node.get(s) if isinstance(node, dict) else None
    return ".".join(parts)


def validation_message(exc: ValidationError, raw: Any, prefix: str = "", label_ids: bool = True) -> str:
    """The first error of a pydantic validation as one line, ``field.path: reason``."""
    err = exc.errors()[0]
    loc = _loc_str(tuple(err.get("loc", ())), raw, label_ids)
    if prefix:
        loc = f"{prefix}{loc}" if loc.startswith("[") or not loc else f"{prefix}.{loc}"
    msg = str(err.get("msg", "invalid"))
    for p in ("Value error, ", "Assertion failed, "):
        if msg.startswith(p):
            msg = msg[len(p):]
    if err.get("type") == "missing":
        msg = "required field is missing"
    elif err.get("type") == "extra_forbidden":
        msg = "unknown field"
    n = len(exc.errors())
    more = f" (and {n - 1} more error{'s' if n > 2 else ''})" if n > 1 else ""
    return f"{loc}: {msg}{more}" if loc else f"{msg}{more}"


# ---------------------------------------------------------------------------- the path engine
def split_path(path: str) -> list[str]:
    """``a.b[2].c`` -> ``['a', 'b', '[2]', 'c']``."""
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


def _walk(node: Any, seg: str, path: str, origin: str) -> Any:
    if isinstance(node, dict):
        if seg not in node:
            raise ScenarioError(f"{origin} {path}: no field '{seg}'")
        return node[seg]
    if isinstance(node, list):
        if seg.startswith("[") and seg.endswith("]"):
            try:
                return node[int(seg[1:-1])]
            except (ValueError, IndexError):
                raise ScenarioError(f"{origin} {path}: no item {seg}") from None
        for item in node:
            if isinstance(item, dict) and item.get("id") == seg:
                return item
        raise ScenarioError(f"{origin} {path}: no item with id '{seg}'")
    raise ScenarioError(f"{origin} {path}: cannot go into '{seg}'")


def _is_param(node: Any) -> bool:
    return isinstance(node, dict) and "value" in node and "source" in node


def _unwrap(tp: Any) -> Any:
    """``X`` from ``X | None`` and ``Annotated[X, ...]``."""
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, UnionType):
            args = [a for a in get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def declared_field(root: type[BaseModel], segs: list[str]) -> Any:
    """The annotation of the field a path names in the schema (``None`` if the schema has no such
    field): a field left out of a file but declared (with a default) may be set; a key is never made up."""
    tp: Any = root
    for i, seg in enumerate(segs):
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if seg not in tp.model_fields:
                return None
            tp = tp.model_fields[seg].annotation
        elif get_origin(tp) is list and i < len(segs) - 1:
            tp = get_args(tp)[0]
        else:
            return None
    return _unwrap(tp)


def find_field(raw: dict[str, Any], path: str, origin: str = "--set") -> tuple[Any, Any]:
    """``(parent, key)`` of the existing field at ``path``; a missing field is refused."""
    segs = split_path(path)
    if not segs:
        raise ScenarioError(f"{origin} {path}: empty path")
    node: Any = raw
    for seg in segs[:-1]:
        node = _walk(node, seg, path, origin)
    last = segs[-1]
    if isinstance(node, list):
        target = _walk(node, last, path, origin)
        return node, node.index(target)
    if not isinstance(node, dict):
        raise ScenarioError(f"{origin} {path}: parent is not a mapping")
    if last not in node:
        raise ScenarioError(f"{origin} {path}: no field '{last}'")
    return node, last


def set_path(
    raw: dict[str, Any], path: str, value: Any, origin: str = "--set", root: type[BaseModel] = Scenario
) -> None:
    """Set the field at ``path`` to ``value``; on a parameter, set its value.

    A parameter's range is widened to include an overriding value (counterfactual levers
    may lie outside the plausible range) and its source records the override and its
    origin: ``<source>; overridden by <origin> to <value>``.  A field the raw data leaves
    out may be set only if ``root`` (the schema) declares it; a parameter created so has
    the source ``set by <origin> to <value>``.
    """
    segs = split_path(path)
    if segs and not isinstance(raw, list):
        try:
            parent: Any = raw
            for seg in segs[:-1]:
                parent = _walk(parent, seg, path, origin)
        except ScenarioError:
            parent = None
        if isinstance(parent, dict) and segs[-1] not in parent:
            tp = declared_field(root, segs)
            if tp is not None:
                if tp is Param:
                    v = _number(value, path, origin)
                    parent[segs[-1]] = {"value": v, "source": f"set by {origin} to {v:g}"}
                else:
                    parent[segs[-1]] = value
                return
    parent, key = find_field(raw, path, origin)
    cur = parent[key]
    if _is_param(cur):
        _set_param(cur, value, path, origin)
    elif isinstance(parent, list):
        raise ScenarioError(f"{origin} {path}: cannot replace a whole list item")
    else:
        parent[key] = value


def _number(value: Any, path: str, origin: str) -> float:
    if isinstance(value, bool):
        raise ScenarioError(f"{origin} {path}: value '{value}' is not a number")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ScenarioError(f"{origin} {path}: value '{value}' is not a number") from None


def _widen(param: dict[str, Any], v: float, path: str, origin: str) -> None:
    """Widen the range to include ``v``, with a one-line warning (a counterfactual outside the
    plausible range is allowed; its domain is checked at validation)."""
    rng = param.get("range")
    if rng is not None:
        lo, hi = rng
        if not (lo <= v <= hi):
            if math.isfinite(v):
                warnings.warn(
                    f"{path}: {v:g} is outside its documented range [{lo:g}, {hi:g}] (set by {origin})",
                    ParameterRangeWarning,
                    stacklevel=3,
                )
            param["range"] = [min(lo, v), max(hi, v)]


def _set_param(param: dict[str, Any], value: Any, path: str, origin: str) -> None:
    v = _number(value, path, origin)
    param["value"] = v
    _widen(param, v, path, origin)
    param["source"] = f"{param.get('source', 'assumption')}; overridden by {origin} to {v:g}"


def replace_param(
    raw: dict[str, Any], path: str, value: Any, rng: Iterable[Any] | None, source: str, origin: str
) -> None:
    """Replace the parameter at ``path`` whole (value, range, source): a parameter overlay.

    The given source is the parameter's provenance (``calibrated (<=2012): ...``); the range,
    given or kept, is widened to include the value.
    """
    parent, key = find_field(raw, path, origin)
    param = parent[key]
    if not _is_param(param):
        raise ScenarioError(f"{origin} {path}: not a parameter (value, range, source)")
    v = _number(value, path, origin)
    param["value"] = v
    if rng is not None:
        lo, hi = (_number(x, path, origin) for x in rng)
        if lo > hi:
            raise ScenarioError(f"{origin} {path}: range [{lo:g}, {hi:g}] has low > high")
        param["range"] = [lo, hi]
    _widen(param, v, path, origin)
    param["source"] = source


def parse_overrides(overrides: Iterable[str]) -> list[tuple[str, Any]]:
    """``path=value`` strings as ``(path, value)`` (values parsed as YAML: numbers, booleans, lists)."""
    out: list[tuple[str, Any]] = []
    for ov in overrides:
        if "=" not in ov:
            raise ScenarioError(f"--set {ov}: expected path=value")
        path, _, text = ov.partition("=")
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError:
            value = text
        out.append((path.strip(), value))
    return out


# ---------------------------------------------------------------------------- variants
def _date(v: Any, where: str) -> dt.date:
    if isinstance(v, dt.date):
        return v
    try:
        return dt.date.fromisoformat(str(v))
    except ValueError:
        raise ScenarioError(f"{where}: '{v}' is not a date written YYYY-MM-DD") from None


def _event_matches(ev: dict[str, Any], flt: dict[str, Any], where: str) -> bool:
    d = ev.get("date")
    d = _date(d, "timeline date") if d else None
    for k, v in flt.items():
        if k == "after":
            if d is None or d < _date(v, f"{where}.after"):
                return False
        elif k == "before":
            if d is None or d >= _date(v, f"{where}.before"):
                return False
        elif ev.get(k) != v:
            return False
    return True


def apply_variant(raw: dict[str, Any], var: dict[str, Any], name: str) -> dict[str, Any]:
    """A copy of ``raw`` with a variant's name, description, timeline and ``replace:`` applied.

    Its ``set:`` paths are applied by :func:`shatterbelt.resolve.resolve_raw` once the
    defaults are filled in (they may name parameters the file leaves to the defaults).
    """
    for k in var:
        if k not in VARIANT_FIELDS:
            raise ScenarioError(f"variant '{name}': {k}: unknown field (allowed: {', '.join(VARIANT_FIELDS)})")
    if not isinstance(var.get("set") or {}, dict):
        raise ScenarioError(f"variant '{name}': set: must be a mapping of path: value")
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
            events = [e for e in events if not _event_matches(e, flt, f"variant '{name}': timeline.remove[{i}]")]
        events += list(tl.get("add") or [])
        raw["timeline"] = events
    for k, v in (var.get("replace") or {}).items():
        raw[k] = v
    return raw


# ---------------------------------------------------------------------------- writing
def dump_scenario(sc: Scenario) -> str:
    """The fully resolved scenario as YAML (every parameter used, with provenance)."""
    data = sc.model_dump(mode="json", exclude_none=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120)


def scenario_hash(sc: Scenario) -> str:
    """SHA-256 of the resolved scenario (for manifests and caches)."""
    return hashlib.sha256(dump_scenario(sc).encode("utf-8")).hexdigest()
