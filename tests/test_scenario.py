"""Scenario loading, validation errors (one line naming the field), variants, overrides, provenance."""

from __future__ import annotations

import copy
import warnings
from pathlib import Path

import pytest
import yaml

from shatterbelt.errors import ScenarioError
from shatterbelt.resolve import load_raw, load_scenario, politics_for
from shatterbelt.scenario.loader import builtin_scenarios, describe_builtins, dump_scenario, scenario_hash
from shatterbelt.scenario.params import PROVENANCE_KINDS, Param, ParameterRangeWarning, Strict
from shatterbelt.scenario.politics_schema import PoliticsConfig
from shatterbelt.scenario.provenance import collect_params, uncertain_params
from shatterbelt.scenario.schema import Scenario
from shatterbelt.sim import Simulation


def _write(tmp_path: Path, raw: dict) -> str:
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(raw, sort_keys=False))
    return str(p)


@pytest.fixture(scope="module")
def base_raw(tiny_path) -> dict:
    raw, _ = load_raw(tiny_path)
    return raw


def _error(tmp_path, raw) -> str:
    with pytest.raises(ScenarioError) as ei:
        load_scenario(_write(tmp_path, raw))
    msg = str(ei.value)
    assert "\n" not in msg, "errors must be one line"
    return msg


def test_builtin_loads_and_lists():
    assert "iraq-2010" in builtin_scenarios()
    sc = load_scenario("iraq-2010")
    assert len(sc.regions) == 18 and len(sc.adjacency) == 40
    # the governorate rows sum to 32,489,971; the data pack README quotes 32,489,972 (a rounding in the source)
    assert sum(r.population for r in sc.regions) == 32_489_971
    names = [d["name"] for d in describe_builtins()]
    assert "iraq-2010+us-stays" in names


def test_missing_field(tmp_path, base_raw):
    raw = copy.deepcopy(base_raw)
    del raw["actors"][2]["size"]
    msg = _error(tmp_path, raw)
    assert "actors[2] (mil).size" in msg and "missing" in msg


def test_wrong_type(tmp_path, base_raw):
    raw = copy.deepcopy(base_raw)
    raw["actors"][0]["size"]["value"] = "lots"
    msg = _error(tmp_path, raw)
    assert "actors[0] (army).size.value" in msg and "number" in msg


def test_negative_population(tmp_path, base_raw):
    raw = copy.deepcopy(base_raw)
    raw["regions"][1]["population"] = -5
    msg = _error(tmp_path, raw)
    assert "regions[1] (R2).population" in msg and ">= 0" in msg


def test_shares_not_summing_to_one(tmp_path, base_raw):
    raw = copy.deepcopy(base_raw)
    raw["regions"][0]["shares"] = {"a": 0.5, "b": 0.4}
    msg = _error(tmp_path, raw)
    assert "regions[0] (R1).shares" in msg and "sum to 0.9" in msg


def test_unknown_actor_referenced(tmp_path, base_raw):
    raw = copy.deepcopy(base_raw)
    raw["actors"][0]["hostility"]["actors"]["ghosts"] = 1.0
    msg = _error(tmp_path, raw)
    assert "actors[0].hostility.actors" in msg and "unknown actor 'ghosts'" in msg


def test_range_not_containing_value(tmp_path, base_raw):
    raw = copy.deepcopy(base_raw)
    raw["economy"]["corruption"] = {"value": 0.9, "range": [0.1, 0.5], "source": "assumption"}
    msg = _error(tmp_path, raw)
    assert "economy.corruption" in msg and "does not contain value 0.9" in msg


def test_unknown_region_in_adjacency(tmp_path, base_raw):
    raw = copy.deepcopy(base_raw)
    raw["adjacency"].append(["R1", "R9"])
    msg = _error(tmp_path, raw)
    assert "adjacency[2]" in msg and "unknown region 'R9'" in msg


def test_unknown_field_and_unknown_parameter(tmp_path, base_raw):
    raw = copy.deepcopy(base_raw)
    raw["colour"] = "red"
    assert "colour: unknown field" in _error(tmp_path, raw)
    raw = copy.deepcopy(base_raw)
    raw["parameters"] = {"violence": {"rate_of_everything": {"value": 1, "source": "assumption"}}}
    assert "parameters.violence.rate_of_everything: unknown parameter" in _error(tmp_path, raw)


def test_bad_yaml_and_missing_file(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("name: [unclosed\n")
    with pytest.raises(ScenarioError, match="invalid YAML at line"):
        load_scenario(str(p))
    with pytest.raises(ScenarioError, match="file not found"):
        load_scenario(str(tmp_path / "nope.yaml"))
    with pytest.raises(ScenarioError, match="unknown scenario"):
        load_scenario("atlantis-2010")
    with pytest.raises(ScenarioError, match="unknown variant"):
        load_scenario("iraq-2010+nonsense")


def test_unknown_timeline_event_type(tmp_path, base_raw):
    raw = copy.deepcopy(base_raw)
    raw["timeline"].append({"type": "earthquake", "date": "2011-01-01"})
    msg = _error(tmp_path, raw)
    assert "timeline[4]" in msg


def test_variant_us_stays_keeps_troops():
    base = load_scenario("iraq-2010")
    stay = load_scenario("iraq-2010+us-stays")
    last_base = [e for e in base.timeline if e.type == "foreign_troops"][-1]
    last_stay = [e for e in stay.timeline if e.type == "foreign_troops"][-1]
    assert last_base.level == 0
    assert last_stay.level == 50_000
    assert stay.name == "iraq-2010+us-stays"


def test_set_overrides_param_and_widens_range():
    sc = load_scenario("iraq-2010", ["economy.corruption=0", "actors.aqi.size=1500"])
    assert sc.economy.corruption.value == 0
    assert sc.economy.corruption.range[0] == 0
    assert "overridden by --set" in sc.economy.corruption.source
    assert sc.actor("aqi").size.value == 1500
    with pytest.raises(ScenarioError, match="no field 'nonsense'"):
        load_scenario("iraq-2010", ["economy.nonsense=1"])
    with pytest.raises(ScenarioError, match="no item with id 'ghosts'"):
        load_scenario("iraq-2010", ["actors.ghosts.size=1"])
    with pytest.raises(ScenarioError, match="not a number"):
        load_scenario("iraq-2010", ["economy.corruption=high"])
    with pytest.raises(ScenarioError, match="expected path=value"):
        load_scenario("iraq-2010", ["economy.corruption"])


def test_every_parameter_has_provenance_and_range():
    sc = load_scenario("iraq-2010")
    ps = collect_params(sc)
    assert len(ps) > 100
    for p in ps:
        assert p["source"].strip(), p["path"]
        assert p["range"] is not None, f"{p['path']} has no range"
        assert p["range"][0] <= p["value"] <= p["range"][1], p["path"]
    kinds = {p["kind"] for p in ps}
    assert {"assumption", "seed claim", "calibrated (<=2012)", "source"} <= kinds
    assert len(uncertain_params(sc)) > 80


def test_module_defaults_are_filled_and_resolved_yaml_round_trips(tmp_path):
    sc = load_scenario("iraq-2010")
    assert "k_risk" in sc.parameters["mobilization"]
    text = dump_scenario(sc)
    p = tmp_path / "resolved.yaml"
    p.write_text(text)
    again = load_scenario(str(p))
    assert dump_scenario(again) == text
    assert scenario_hash(again) == scenario_hash(sc)


def test_param_type():
    with pytest.raises(ValueError):
        Param(value=2, range=(0, 1), source="assumption")
    with pytest.raises(ValueError):
        Param(value=1, source=" ")
    assert Param(value=1, source="seed claim").provenance_kind == "seed claim"
    assert Param(value=1, source="COSIT 2010").provenance_kind == "source"
    assert set(PROVENANCE_KINDS) == {"seed claim", "calibrated (<=2012)", "assumption"}


# ----------------------------------------------------------------------------- politics in the scenario
TINY_POLITICS = str(Path(__file__).parent / "data" / "tiny-politics.yaml")


def test_politics_of_another_country_is_typed_and_runs():
    sc = load_scenario(TINY_POLITICS)
    assert isinstance(sc.politics, PoliticsConfig)
    assert sc.politics.communities() == ["a", "b"]
    assert sc.politics.bloc_ids() == ["pa", "pb"] and [p.id for p in sc.politics.patrons] == ["east", "west"]
    # defaults_from brought the rules calibrated elsewhere in
    assert sc.politics.formation.delay_cost == load_scenario("iraq-2010").politics.formation.delay_cost
    res = Simulation(sc, scale=1.0, seed=3, until="2011-03").run()
    s = res.summary
    net_in = s["foreign_fighters_arrived"] - s["foreign_fighters_departed"]  # foreign fighters (persons)
    assert s["population_start"] + net_in == s["population_end"] + s["deaths_total"]
    # the resolved scenario reads back to the same scenario
    assert dump_scenario(load_scenario(sc)) == dump_scenario(sc)


def test_politics_must_speak_of_the_scenarios_communities_blocs_and_patrons(tmp_path):
    raw = yaml.safe_load(Path(TINY_POLITICS).read_text())
    for edit, expected in (
        (lambda r: r["politics"]["community_shares"].update(c={"value": 0.0, "source": "x"}),
         "politics.community_shares: communities a, b, c are not the scenario's (a, b)"),
        (lambda r: r["politics"]["patrons"][0].update(id="north"), "politics.patrons[0].id: unknown patron 'north'"),
        (lambda r: r["politics"]["blocs"][1].update(sect="c"), "politics.blocs[1].sect: unknown sect tag 'c'"),
    ):
        bad = copy.deepcopy(raw)
        edit(bad)
        msg = _error(tmp_path, bad)
        assert msg.startswith(f"scenario '{tmp_path / 's.yaml'}': {expected}"), msg


def test_set_on_a_politics_parameter_records_its_origin():
    sc = load_scenario("iraq-2010", ["politics.formation.delay_cost=0.02", "politics.apportionment.method=gamson"])
    p = sc.politics.formation.delay_cost
    assert p.value == 0.02 and p.source.endswith("; overridden by --set to 0.02")
    assert sc.politics.apportionment.method == "gamson"
    assert "overridden by --set to 0.02" in dump_scenario(sc)


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ("economy.nope=1", "no field 'nope'"),
        ("politics.formation.nope=1", "no field 'nope'"),
        ("regions.R1.shares.c=0.1", "no field 'c'"),
        ("politics.community_shares.c=0.1", "no field 'c'"),
        ("actors.ghosts.size=1", "no item with id 'ghosts'"),
        ("politics.blocs.ghosts.seats=1", "no item with id 'ghosts'"),
    ],
)
def test_overrides_never_create_a_key_in_scenario_or_politics(override, reason):
    with pytest.raises(ScenarioError) as exc:
        load_scenario(TINY_POLITICS, [override])
    assert str(exc.value) == f"--set {override.partition('=')[0]}: {reason}"


def test_overrides_may_set_a_declared_field_left_to_its_default():
    sc = load_scenario(TINY_POLITICS, ["politics.blocs.pa.exposure=0.5", "actors.mil.tempo=2"])
    assert sc.politics.bloc("pa").exposure.source == "set by --set to 0.5"
    assert sc.actor("mil").tempo.value == 2.0


def test_variants_set_politics_parameters(tmp_path):
    var = tmp_path / "patient.yaml"
    var.write_text(yaml.safe_dump({"variant": "patient", "description": "slower bargaining",
                                   "set": {"politics.formation.delay_cost": 0.005}}))
    sc = load_scenario(f"{TINY_POLITICS}+{var}")
    assert sc.name == "tiny-politics+patient"
    p = sc.politics.formation.delay_cost
    assert p.value == 0.005 and p.source.endswith(f"; overridden by variant {var} to 0.005")
    tech = load_scenario("iraq-2010+technocratic")
    assert tech.politics.apportionment.method == "technocratic"
    # the same path on the politics commands' side
    assert politics_for(f"{TINY_POLITICS}+{var}").formation.delay_cost == p
    assert politics_for("iraq-2010+technocratic", ["formation.delay_cost=0.02"]).formation.delay_cost.value == 0.02


# ----------------------------------------------------------------------------- domains
@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("economy.corruption=2", "economy.corruption: 2 is outside the domain of a share in [0, 1]"),
        ("economy.corruption=-1", "economy.corruption: -1 is outside the domain of a share in [0, 1]"),
        ("economy.corruption=.nan", "economy.corruption: value must be a finite number, got nan"),
        ("economy.corruption=1e400", "economy.corruption: value must be a finite number, got inf"),
        ("economy.revenue_scale=-1", "economy.revenue_scale: -1 is outside the domain of a multiplier (>= 0)"),
        ("actors.ins.size=-5", "actors[3] (ins).size: -5 is outside the domain of a count (>= 0)"),
        ("population.fighting_age_share=5", "population.fighting_age_share: 5 is outside the domain of a share"),
        ("regions.R1.shares.a=.nan", "regions[0] (R1).shares: shares 'a' is not a finite number (nan)"),
        ("politics.formation.max_days=-1", "politics.formation.max_days: -1 is outside the domain of a count (>= 0)"),
        ("politics.patrons.east.marginalization_stance=2",
         "politics.patrons[0] (east).marginalization_stance: 2 is outside the domain of a signed weight in [-1, 1]"),
    ],
)
@pytest.mark.filterwarnings("ignore::shatterbelt.scenario.params.ParameterRangeWarning")
def test_a_value_outside_its_domain_is_one_line_naming_the_field(override, expected):
    with pytest.raises(ScenarioError) as exc:
        load_scenario(TINY_POLITICS, [override])
    assert str(exc.value).startswith(f"scenario '{TINY_POLITICS}': {expected}"), str(exc.value)


def test_a_value_outside_its_range_but_inside_its_domain_warns_and_records_its_origin():
    with pytest.warns(ParameterRangeWarning, match=r"economy.corruption: 0.9 is outside its documented range \[0.1, 0.5\]"):
        sc = load_scenario(TINY_POLITICS, ["economy.corruption=0.9"])
    p = sc.economy.corruption
    assert p.value == 0.9 and p.range == (0.1, 0.9) and p.source.endswith("; overridden by --set to 0.9")


def test_files_and_the_api_enforce_domains_too(tmp_path, base_raw):
    raw = copy.deepcopy(base_raw)
    raw["actors"][0]["pay"] = {"value": -200, "source": "assumption"}
    assert "actors[0] (army).pay: -200 is outside the domain of a money (>= 0)" in _error(tmp_path, raw)
    raw = copy.deepcopy(base_raw)
    raw["regions"][0]["shares"] = {}
    assert "regions[0] (R1).shares: shares are empty" in _error(tmp_path, raw)
    with pytest.raises(ValueError, match="outside the domain of a share"):
        Scenario.model_validate({**base_raw, "economy": {**base_raw["economy"],
                                 "corruption": {"value": 1.5, "source": "assumption"}}})


def test_a_module_parameter_declares_its_domain(monkeypatch):
    from shatterbelt.modules import MODULE_PARAMS

    declared = MODULE_PARAMS["economy"]["reserve_months"]
    monkeypatch.setitem(MODULE_PARAMS["economy"], "reserve_months", declared.model_copy(update={"domain": "count"}))
    with warnings.catch_warnings(record=True) as caught, pytest.raises(ScenarioError) as exc:
        warnings.simplefilter("always")
        load_scenario(TINY_POLITICS, ["parameters.economy.reserve_months=-1"])
    assert not caught  # outside its domain: the error alone, no range warning before it
    assert str(exc.value).endswith("parameters.economy.reserve_months: -1 is outside the domain of a count (>= 0)")
    with pytest.raises(ValueError, match="unknown domain 'colour'"):
        Param(value=1, source="assumption", domain="colour")


# ----------------------------------------------------------------------------- one home per parameter
def test_shock_targets_are_scenario_paths(tmp_path, base_raw):
    raw = copy.deepcopy(base_raw)
    raw["timeline"] += [
        {"type": "shock", "date": "2010-08-01", "target": "economy.corruption", "value": 0.45},
        {"type": "shock", "date": "2010-08-01", "target": "parameters.economy.reserve_months", "value": 3},
    ]
    sc = load_scenario(_write(tmp_path, raw))
    sim = Simulation(sc, scale=1.0, seed=1, until="2010-09")
    sim.run()
    assert sim.world.economy["corruption"] == 0.45 and sim.world.params["economy"]["reserve_months"] == 3
    assert "corruption" not in sim.world.params["economy"]  # the economy section has one home
    for target in ("economy.reserve_months", "violence.rate_insurgency", "no.such.path", "economy.revenue"):
        bad = copy.deepcopy(base_raw)
        bad["timeline"].append({"type": "shock", "date": "2010-08-01", "target": target, "value": 1})
        msg = _error(tmp_path, bad)
        assert f"timeline[4].target: '{target}' is not a parameter" in msg, msg
    # a shock's value lies in its parameter's domain
    for target, value, domain in (("economy.corruption", 2, "a share in [0, 1]"),
                                  ("parameters.violence.detention_rate", -0.5, "a probability in [0, 1]")):
        bad = copy.deepcopy(base_raw)
        bad["timeline"].append({"type": "shock", "date": "2010-08-01", "target": target, "value": value})
        msg = _error(tmp_path, bad)
        assert msg.endswith(f"timeline[4].value: {value:g} is outside the domain of {domain}"), msg


def test_overrides_refuse_what_is_not_a_number_and_overlays_an_inverted_range():
    with pytest.raises(ScenarioError, match=r"^--set economy.corruption: value 'True' is not a number$"):
        load_scenario(TINY_POLITICS, ["economy.corruption=true"])
    overlay = {"_file": "o.yaml", "parameters": {"economy.corruption": {"value": 0.3, "range": [0.5, 0.1]}}}
    with pytest.raises(ScenarioError, match=r"range \[0.5, 0.1\] has low > high"):
        load_scenario(TINY_POLITICS, overlay=overlay)


def test_every_parameter_has_a_domain():
    """Every module default declares one; every scenario and politics field is typed by one."""
    import typing

    from shatterbelt.modules import MODULE_PARAMS
    from shatterbelt.scenario.params import DOMAINS

    assert all(p.domain in DOMAINS for d in MODULE_PARAMS.values() for p in d.values())
    sc = load_scenario(TINY_POLITICS)
    assert [p["path"] for p in collect_params(sc) if p["domain"] not in DOMAINS] == []
    assert sc.parameters["violence"]["detention_rate"].domain == "probability"

    def bare(tp: object) -> bool:
        """A Param in ``tp`` not wrapped in a domain's ``Annotated``."""
        if tp is Param:
            return True
        if typing.get_origin(tp) is typing.Annotated:
            return False
        return any(bare(a) for a in typing.get_args(tp))

    def params_without_domain(model: type) -> list[str]:
        # module parameters carry the domain their module declares
        skip = {("Scenario", "parameters")}
        return [f"{model.__name__}.{name}" for name, f in model.model_fields.items()
                if (model.__name__, name) not in skip and not (f.annotation is Param and f.metadata)
                and bare(f.annotation)]

    import shatterbelt.scenario.politics_schema as ps
    import shatterbelt.scenario.schema as sch

    models = [m for mod in (sch, ps) for m in vars(mod).values()
              if isinstance(m, type) and issubclass(m, Strict) and m.__module__ == mod.__name__]
    assert [x for m in models for x in params_without_domain(m)] == []


def test_bad_files_are_one_line(tmp_path, base_raw):
    cases = []
    p = tmp_path / "latin1.yaml"
    p.write_bytes("name: caf\xe9\n".encode("latin-1"))
    cases.append((str(p), "not UTF-8 text"))
    p = tmp_path / "deep.yaml"
    p.write_text("a: " + "[" * 20000 + "]" * 20000 + "\n")
    cases.append((str(p), "nested too deeply"))
    p = tmp_path / "self.yaml"
    p.write_text(yaml.safe_dump({**base_raw, "politics": str(p)}))
    cases.append((str(p), "name each other too deeply"))
    p = tmp_path / "list.yaml"
    p.write_text(yaml.safe_dump({**base_raw, "politics": [1, 2]}))
    cases.append((str(p), "politics: expected a configuration name or a mapping"))
    v = tmp_path / "v.yaml"
    v.write_text(yaml.safe_dump({"variant": "v", "timeline": {"remove": [{"type": "foreign_troops", "after": "soon"}]}}))
    cases.append((f"{TINY_POLITICS}+{v}", "timeline.remove[0].after: 'soon' is not a date"))
    p = tmp_path / "iso.yaml"
    p.write_text(yaml.safe_dump({**base_raw, "iso_numeric": 99999999999}))
    cases.append((str(p), "iso_numeric: Input should be less than or equal to 999"))
    big = copy.deepcopy(base_raw)
    big["regions"][0]["population"] = 10**30
    p = tmp_path / "big.yaml"
    p.write_text(yaml.safe_dump(big))
    cases.append((str(p), "regions[0] (R1).population: must be at most"))
    for spec, expected in cases:
        with pytest.raises(ScenarioError) as exc:
            load_scenario(spec)
        assert expected in str(exc.value) and "\n" not in str(exc.value), (spec, str(exc.value))
