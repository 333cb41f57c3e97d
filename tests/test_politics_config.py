"""Politics configuration: built-ins load, every bad input is one line naming the field."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from shatterbelt.errors import ScenarioError
from shatterbelt.politics import builtin_politics, load_politics, politics_from_dict, read_politics
from shatterbelt.scenario.params import Param

BUILTINS = ["iraq-2005", "iraq-2010", "iraq-2014", "iraq-2018"]


def _raw(name: str = "iraq-2010") -> dict:
    data, _ = read_politics(name)
    return copy.deepcopy(data)


def _error(data: dict) -> str:
    with pytest.raises(ScenarioError) as exc:
        politics_from_dict(data)
    msg = str(exc.value)
    assert "\n" not in msg
    return msg


def test_builtins_load() -> None:
    assert set(BUILTINS) <= set(builtin_politics())
    for name in BUILTINS:
        cfg = load_politics(name)
        seats = cfg.documented_bloc_seats()
        assert seats is not None and sum(seats.values()) == int(cfg.chamber_size.value)


def test_every_number_is_a_param() -> None:
    """Walk the validated model: any float/int that is not a seat count inside a Param is a bug."""
    cfg = load_politics("iraq-2010")

    def walk(obj: object, path: str) -> None:
        if isinstance(obj, Param):
            assert obj.source, path
            return
        if isinstance(obj, bool) or obj is None or isinstance(obj, str):
            return
        if isinstance(obj, (int, float)):
            pytest.fail(f"bare number at {path}")
        if isinstance(obj, dict):
            for k, v in obj.items():
                walk(v, f"{path}.{k}")
        elif isinstance(obj, (list, tuple)):
            for i, v in enumerate(obj):
                walk(v, f"{path}[{i}]")
        elif isinstance(obj, BaseModel):
            for k in type(obj).model_fields:
                if k == "term":  # an index, not a quantity
                    continue
                walk(getattr(obj, k), f"{path}.{k}")

    walk(cfg, "politics")


def test_defaults_from_shares_calibrated_parameters() -> None:
    base = load_politics("iraq-2010")
    for name in ("iraq-2005", "iraq-2014", "iraq-2018"):
        cfg = load_politics(name)
        assert cfg.formation.delay_cost == base.formation.delay_cost
        assert cfg.formation.caretaker_cost_factor == base.formation.caretaker_cost_factor
        assert cfg.apportionment.exponent == base.apportionment.exponent
        assert cfg.formation.certification_day != base.formation.certification_day


def test_negative_seats() -> None:
    data = _raw()
    data["blocs"][3]["seats"] = {"value": -1, "source": "x"}
    assert _error(data) == "politics.blocs[3].seats: -1 is outside the domain of a count (>= 0)"


def test_unknown_bloc_in_coalition() -> None:
    data = _raw()
    data["incumbent"]["coalition"].append("baath")
    assert "politics.incumbent.coalition[4]: unknown bloc 'baath'" == _error(data)


def test_unknown_bloc_in_candidate_and_patron() -> None:
    data = _raw()
    data["candidates"][0]["bloc"] = "nobody"
    assert _error(data).startswith("politics.candidates[0].bloc: unknown bloc")
    data = _raw()
    data["patrons"][0]["leverage"]["nobody"] = {"value": 0.1, "source": "x"}
    assert "unknown bloc 'nobody'" in _error(data)


def test_seats_must_sum_to_chamber() -> None:
    data = _raw()
    data["blocs"][0]["seats"] = {"value": 88, "source": "x"}
    msg = _error(data)
    assert msg.startswith("politics.blocs: documented seats sum to 324, not the chamber size 325")


def test_unknown_rule() -> None:
    data = _raw()
    data["electoral_system"]["rule"] = "first_past_the_post"
    msg = _error(data)
    assert msg.startswith("politics.electoral_system.rule: unknown electoral rule 'first_past_the_post'")


def test_unknown_patron_field_and_missing() -> None:
    data = _raw()
    data["formation"]["speed"] = 3
    assert _error(data) == "politics.formation.speed: unknown field"
    data = _raw()
    del data["formation"]["delay_cost"]
    assert _error(data) == "politics.formation.delay_cost: required field is missing"


def test_param_out_of_range_is_one_line() -> None:
    data = _raw()
    data["formation"]["delay_cost"] = {"value": 0.5, "range": [0.0, 0.1], "source": "x"}
    msg = _error(data)
    assert msg.startswith("politics.formation.delay_cost: range [0.0, 0.1] does not contain value 0.5")


def test_bad_yaml_and_unknown_name(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("politics:\n  name: [unclosed\n")
    with pytest.raises(ScenarioError) as exc:
        load_politics(bad)
    assert "invalid YAML" in str(exc.value) and "\n" not in str(exc.value)
    with pytest.raises(ScenarioError) as exc:
        load_politics("atlantis-1999")
    assert "no such politics configuration" in str(exc.value)


def test_yaml_path_with_and_without_section(tmp_path: Path) -> None:
    data = _raw()
    p1 = tmp_path / "a.yaml"
    p1.write_text(yaml.safe_dump({"politics": data}))
    p2 = tmp_path / "b.yaml"
    p2.write_text(yaml.safe_dump(data))
    assert load_politics(p1).name == load_politics(p2).name == "iraq-2010"


def test_overrides() -> None:
    cfg = load_politics("iraq-2010", ["patrons.iran.leverage.sadrists=0", "politics.formation.formateur_agenda_prob=0"])
    iran = next(p for p in cfg.patrons if p.id == "iran")
    assert iran.leverage["sadrists"].value == 0.0
    assert cfg.formation.formateur_agenda_prob.value == 0.0
    assert cfg.formation.formateur_agenda_prob.source.endswith("; overridden by --set to 0")
    for bad, reason in (("blocs.nobody.seats=3", "no item with id 'nobody'"),
                        ("formation.speed=3", "no field 'speed'"),
                        ("preferences.sol.nobody=0.5", "no field 'nobody'")):
        with pytest.raises(ScenarioError) as exc:
            load_politics("iraq-2010", [bad])
        assert str(exc.value) == f"--set {bad.partition('=')[0]}: {reason}"
    # a field the file leaves to its default is declared by the schema, so it may be set
    cfg = load_politics("iraq-2010", ["blocs.sol.exposure=0.5", "formation.formateur_first_designation=false"])
    assert cfg.bloc("sol").exposure.value == 0.5 and cfg.bloc("sol").exposure.source == "set by --set to 0.5"
    assert cfg.formation.formateur_first_designation is False
