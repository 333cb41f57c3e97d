"""Resolving a scenario: raw YAML -> variants -> defaults -> overlays -> ``--set`` -> validated Scenario.

This step sits above the mechanisms (:mod:`shatterbelt.modules`, whose declared ``PARAMS``
are the defaults) and the politics layer, so the scenario package below them only reads
and edits raw data (:mod:`shatterbelt.scenario.loader`) and validates it
(:mod:`shatterbelt.scenario.schema`).  In order:

1. the base scenario is read (a built-in name or a YAML path);
2. each variant of ``base+variant+...`` is applied (timeline, ``replace:``, then its ``set:``);
3. defaults are filled in: a named politics section is expanded, and every parameter a
   module declares and the scenario leaves out is added with its default, so the
   resolved scenario lists every parameter actually used, with its provenance;
4. a parameter overlay (``--params FILE``, see :mod:`shatterbelt.experiments.overlay`)
   replaces parameters whole (value, range, source);
5. ``--set path=value`` overrides are applied;
6. the result is validated into a :class:`~shatterbelt.scenario.schema.Scenario`.

Variants' ``set:``, overlays and ``--set`` go through one path engine
(:func:`~shatterbelt.scenario.loader.set_path`) with one rule: a path must name an existing
field, and an overridden parameter's ``source`` records the override's origin.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .errors import ScenarioError
from .modules import MODULE_PARAMS
from .scenario.loader import (
    apply_variant,
    expand_politics,
    load_politics,
    parse_overrides,
    read_spec,
    replace_param,
    set_path,
    validation_message,
)
from .scenario.params import DOMAINS, ParameterRangeWarning
from .scenario.politics_schema import PoliticsConfig
from .scenario.schema import Scenario, Shock

__all__ = [
    "apply_overlay",
    "apply_overrides",
    "check_module_domains",
    "expand_defaults",
    "hold_range_warnings",
    "load_raw",
    "load_scenario",
    "politics_for",
    "resolve_raw",
    "validate",
]


@contextmanager
def hold_range_warnings(emit: bool = True) -> Iterator[None]:
    """Hold back the warnings of overrides outside their documented range until the scenario is
    valid: a value outside its domain then gives its one-line error alone.  ``emit=False`` drops
    them (an ensemble's sampled values, repaired to meet constraints, may sit just outside)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ParameterRangeWarning)
        yield
    for w in caught:
        if emit or not issubclass(w.category, ParameterRangeWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def fill_parameters(raw: dict[str, Any], label: str) -> dict[str, Any]:
    """``raw`` with every module parameter it leaves out set to the module's declared default,
    and every module parameter carrying the domain its module declares."""
    raw = dict(raw)
    given = raw.get("parameters") or {}
    if not isinstance(given, dict):
        raise ScenarioError(f"scenario '{label}': parameters: must be a mapping of module -> parameter")
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
    out: dict[str, Any] = {}
    for mod, defaults in MODULE_PARAMS.items():
        cur = dict(given.get(mod) or {})
        for k, p in defaults.items():
            if k not in cur:
                cur[k] = p.model_dump(exclude_none=True)
            if p.domain is not None and isinstance(cur[k], dict):
                # the module's declaration travels with the value (validated by Param, never written out)
                cur[k] = {**cur[k], "domain": p.domain}
        out[mod] = cur
    raw["parameters"] = out
    return raw


def expand_defaults(raw: dict[str, Any], label: str) -> dict[str, Any]:
    """Step 3: a named politics section expanded and module parameter defaults filled (idempotent)."""
    return fill_parameters(expand_politics(raw, label), label)


def apply_overlay(raw: dict[str, Any], overlay: Mapping[str, Any] | None) -> dict[str, Any]:
    """Step 4: a copy of ``raw`` with an overlay's parameters replaced whole (value, range, source).

    ``overlay`` is what :func:`shatterbelt.experiments.overlay.read_overlay` returns: a
    ``parameters:`` mapping of path -> number or ``{value, range, source}``.
    """
    if not overlay:
        return raw
    raw = expand_defaults(copy.deepcopy(raw), str(raw.get("name", "scenario")))
    origin = f"--params {overlay.get('_file', '')}".strip()
    default_source = str(overlay.get("source") or f"overlay {overlay.get('_file', '')}".strip())
    for path, spec in overlay["parameters"].items():
        if isinstance(spec, Mapping):
            replace_param(raw, str(path), spec.get("value"), spec.get("range"),
                          str(spec.get("source") or default_source), origin)
        else:
            replace_param(raw, str(path), spec, None, default_source, origin)
    return raw


def apply_overrides(raw: dict[str, Any], overrides: list[str] | None, origin: str = "--set") -> dict[str, Any]:
    """Step 5: a copy of ``raw`` with ``path=value`` strings applied."""
    if not overrides:
        return raw
    raw = expand_defaults(copy.deepcopy(raw), str(raw.get("name", "scenario")))
    for path, value in parse_overrides(overrides):
        set_path(raw, path, value, origin)
    return raw


def load_raw(spec: str) -> tuple[dict[str, Any], str]:
    """Steps 1-3: the raw scenario of ``base[+variant...]`` or a YAML path, defaults filled in;
    returns ``(raw dict, label)``."""
    raw, variants, label = read_spec(spec)
    for name, var in variants:
        raw = apply_variant(raw, var, name)
        sets = var.get("set") or {}
        if sets:
            raw = expand_defaults(raw, raw["name"])
            for path, value in sets.items():
                set_path(raw, str(path), value, origin=f"variant {name}")
    return expand_defaults(raw, label), label


def resolve_raw(
    spec: str, overlay: Mapping[str, Any] | None = None, overrides: list[str] | None = None
) -> tuple[dict[str, Any], str]:
    """Steps 1-5: the raw scenario with variants, defaults, an overlay and ``--set`` applied."""
    raw, label = load_raw(spec)
    return apply_overrides(apply_overlay(raw, overlay), overrides), label


def validate(raw: dict[str, Any], label: str) -> Scenario:
    """Step 6: validate a raw scenario (defaults are filled in first); one-line ScenarioError."""
    raw = expand_defaults(raw, label)
    try:
        sc = Scenario.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(f"scenario '{label}': {validation_message(exc, raw)}") from None
    check_module_domains(sc, label)
    return sc


def check_module_domains(sc: Scenario, label: str = "scenario") -> None:
    """Each module parameter, and each timeline shock to one, inside the domain its module declares."""
    for mod, params in sc.parameters.items():
        for k, p in params.items():
            declared = MODULE_PARAMS.get(mod, {}).get(k)
            if declared is None or declared.domain is None:
                continue
            try:
                DOMAINS[declared.domain].check(p)
            except ValueError as exc:
                raise ScenarioError(f"scenario '{label}': parameters.{mod}.{k}: {exc}") from None
    for i, ev in enumerate(sc.timeline):
        if isinstance(ev, Shock) and ev.target.startswith("parameters."):
            _, mod, k = ev.target.split(".")
            domain = MODULE_PARAMS[mod][k].domain
            if domain is not None and not DOMAINS[domain].contains(ev.value):
                raise ScenarioError(
                    f"scenario '{label}': timeline[{i}].value: {ev.value:g} is outside the domain of a "
                    f"{DOMAINS[domain].describe()}"
                )


def load_scenario(
    spec: str | Scenario, overrides: list[str] | None = None, overlay: Mapping[str, Any] | None = None
) -> Scenario:
    """Load and validate a scenario: a built-in name (``iraq-2010``), ``base+variant``, or a YAML path.

    ``overrides`` are ``path=value`` strings (``--set``); ``overlay`` a parameter overlay
    (:func:`shatterbelt.experiments.overlay.read_overlay`).  A :class:`Scenario` given as
    ``spec`` is returned as it is, or re-resolved with the overlay and overrides.
    """
    with hold_range_warnings():
        if isinstance(spec, Scenario):
            if not overrides and not overlay:
                return spec
            raw: dict[str, Any] = spec.model_dump(mode="json", exclude_none=True)
            label = spec.name
        else:
            raw, label = load_raw(spec)
        return validate(apply_overrides(apply_overlay(raw, overlay), overrides), label)


def politics_for(spec: str, overrides: list[str] | None = None) -> PoliticsConfig:
    """The politics section the ``election`` and ``formation`` commands work on.

    ``spec`` is a politics section (a built-in name such as ``iraq-2005``, or a YAML path,
    alone or under a ``politics:`` key) or a scenario with variants (``iraq-2010+technocratic``),
    whose resolved politics section is taken.  ``overrides`` are ``path=value`` strings
    relative to the section (a leading ``politics.`` is accepted).
    """
    if "+" in spec and not Path(spec).exists():
        sets = [o if o.strip().startswith("politics.") else f"politics.{o.strip()}" for o in overrides or []]
        sc = load_scenario(spec, sets)
        if sc.politics is None:
            raise ScenarioError(f"scenario '{spec}': politics: the scenario has no politics section")
        return sc.politics
    with hold_range_warnings():
        return load_politics(spec, overrides or [])
