"""Confessional rules in the politics layer, on Lebanon's data: reserved seats (Taif), offices reserved to a
community, the cabinet's blocking third and the presidency's two-thirds quorum."""

from __future__ import annotations

import copy
import csv
import datetime as dt
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from shatterbelt.errors import ScenarioError
from shatterbelt.politics import (
    FormationProcess,
    load_politics,
    politics_from_dict,
    read_politics,
    run_formations,
)
from shatterbelt.politics.confessional import (
    OfficeElectionProcess,
    elect_reserved,
    eligible_candidates,
    run_office_election,
    seats_by_group,
)
from shatterbelt.resolve import load_scenario
from shatterbelt.scenario.politics_schema import PoliticsConfig

DATA = Path(str(resources.files("shatterbelt") / "data" / "lebanon"))
#: parliament.csv's names of the Taif confessions -> the politics section's confession ids
TAIF_NAMES = {
    "Maronite": "maronite", "Greek Orthodox": "greek_orthodox", "Greek Catholic": "greek_catholic",
    "Armenian Orthodox": "armenian_orthodox", "Armenian Catholic": "armenian_catholic",
    "Protestant (Evangelical)": "evangelical", "Christian minorities": "christian_minorities",
    "Sunni": "sunni", "Shia": "shia", "Druze": "druze", "Alawite": "alawite",
}


def _raw() -> dict[str, Any]:
    data, _ = read_politics("lebanon-2005")
    return copy.deepcopy(data)


def _cfg(raw: dict[str, Any]) -> PoliticsConfig:
    return politics_from_dict(raw)


# --------------------------------------------------------------------------- reserved seats


def test_taif_seats_sum_to_128_half_christian_half_muslim_as_documented() -> None:
    cfg = load_politics("lebanon-2005")
    assert cfg.seat_reservations is not None
    groups = seats_by_group(cfg)
    assert groups == {"christian": 64, "muslim": 64}
    national: dict[str, int] = {}
    for seats in cfg.seat_reservations.districts.values():
        for k, n in seats.items():
            national[k] = national.get(k, 0) + n
    with (DATA / "parliament.csv").open(encoding="utf-8", newline="") as fh:
        taif = {TAIF_NAMES[r["group"]]: int(r["seats"]) for r in csv.DictReader(fh)
                if r["record_type"] == "taif_allocation" and r["group"] in TAIF_NAMES}
    assert national == taif


def test_reservations_that_break_parity_or_the_chamber_are_refused_in_one_line() -> None:
    with pytest.raises(ScenarioError, match=r"parity_groups: groups hold unequal seats: christian 63, muslim 65"):
        load_politics("lebanon-2005", ["seat_reservations.districts.LB-BA.maronite=0",
                                       "seat_reservations.districts.LB-BA.sunni=7"])
    with pytest.raises(ScenarioError, match=r"seat_reservations: reserved seats sum to 129, not the chamber size 128"):
        load_politics("lebanon-2005", ["seat_reservations.districts.LB-BA.sunni=7"])


def test_reserved_seats_are_filled_district_by_district() -> None:
    cfg = load_politics("lebanon-2005")
    sc = load_scenario("lebanon-2005")
    turnout = {r.id: {c: r.population * s for c, s in r.shares.items()} for r in sc.regions}
    res = elect_reserved(cfg, turnout)
    assert sum(res.seats.values()) == 128
    for d, groups in cfg.seat_reservations.districts.items():  # type: ignore[union-attr]
        for k, n in groups.items():
            assert sum(res.by_district[d].get(k, {}).values()) == n
    # Shia voters back the March 8 list: its blocs take nearly all Shia seats, and Nabatieh's 8 of 11 seats
    # (all Shia) go to March 8
    assert sum(res.by_district["LB-NA"]["shia"].get(x, 0) for x in ("march8",)) >= 6
    # a district where only one list's voters live gives that list every reserved seat there
    only = {d: ({"shia": 1000.0} if d == "LB-NA" else t) for d, t in turnout.items()}
    res2 = elect_reserved(cfg, only)
    assert all(set(v) == {"march8"} for v in res2.by_district["LB-NA"].values())


# --------------------------------------------------------------------------- reserved offices


def _with_maronite_favourite(raw: dict[str, Any], reserved: bool) -> PoliticsConfig:
    raw["candidates"].append({"id": "favourite", "name": "A Maronite everyone prefers", "bloc": "fpm"})
    for prefs in raw["preferences"].values():
        prefs["favourite"] = {"value": 1.0, "source": "test"}
    raw["preferences"]["fpm"] = {"favourite": {"value": 1.0, "source": "test"}}
    if not reserved:
        raw["reserved_offices"] = [o for o in raw["reserved_offices"] if o["role"] != "head_of_government"]
    return _cfg(raw)


def test_the_prime_minister_is_always_of_the_community_the_office_is_reserved_to() -> None:
    cfg = _with_maronite_favourite(_raw(), reserved=True)
    assert "favourite" not in eligible_candidates(cfg)
    outs = run_formations(cfg, 6, seed=2)
    assert all(o.formed for o in outs)
    assert {cfg.candidate_community(o.pm_candidate) for o in outs} == {"sunni"}  # type: ignore[arg-type]
    # without the reservation the same parliament would take the Maronite everyone prefers
    free = _with_maronite_favourite(_raw(), reserved=False)
    assert any(o.pm_candidate == "favourite" for o in run_formations(free, 6, seed=2))


def test_a_reserved_office_needs_a_candidate_of_its_community() -> None:
    raw = _raw()
    raw["reserved_offices"][1]["community"] = "druze"
    with pytest.raises(ScenarioError, match=r"politics\.candidates: no candidate of the community 'druze'"):
        _cfg(raw)
    raw = _raw()
    raw["office_elections"][0]["candidates"][1]["community"] = "sunni"
    with pytest.raises(ScenarioError, match=r"office_elections\[0\]\.candidates\[1\]\.community: 'sunni' may not hold"):
        _cfg(raw)


def test_the_blocking_third_is_worth_its_value_only_to_a_unit_outside_the_pms() -> None:
    cfg = load_politics("lebanon-2005")
    seats = cfg.documented_bloc_seats()
    assert seats is not None
    raw = _raw()
    raw.pop("cabinet")
    plain = FormationProcess(_cfg(raw), seats, None, np.random.default_rng(0))
    rule = FormationProcess(cfg, seats, None, np.random.default_rng(0))
    diff = rule._utilities() - plain._utilities()
    value = float(cfg.cabinet.blocking_value.value)  # type: ignore[union-attr]
    assert set(np.unique(np.round(diff, 12))) <= {0.0, value}
    march8 = [rule.idx[b] for b in ("hezbollah", "amal", "m8_other")]
    pm_future = rule.cand_bloc[rule.pk_cand] == rule.idx["future"]
    unit_share = rule.S[:, march8].sum(axis=1)
    holds = pm_future & rule.M[:, march8].all(axis=1) & (unit_share >= 0.3334)
    assert holds.any() and np.allclose(diff[holds][:, march8], value)
    assert np.all(diff[pm_future][:, rule.idx["future"]] == 0.0)  # the PM's own unit never blocks itself


# --------------------------------------------------------------------------- the presidency's quorum


def _designed_presidency(quorum: float) -> PoliticsConfig:
    """A chamber of three blocs: March 14's Future 50 seats, the FPM 44 and Hezbollah 34; each side
    supports only its own candidate, so a two-thirds quorum (86) needs both sides."""
    raw = _raw()
    office = raw["office_elections"][0]
    office["quorum"] = {"value": quorum, "source": "test"}
    zero = {"value": 0.0, "source": "test"}
    one = {"value": 1.0, "source": "test"}
    office["candidates"] = [
        {"id": "aoun", "name": "Aoun", "bloc": "fpm", "community": "maronite",
         "support": {"fpm": one, "hezbollah": one, "future": zero}},
        {"id": "m14", "name": "A March 14 candidate", "community": "maronite",
         "support": {"fpm": zero, "hezbollah": zero, "future": one}},
    ]
    return _cfg(raw)


SEATS = {"future": 50, "fpm": 44, "hezbollah": 34}


def test_a_boycott_above_a_third_denies_the_quorum_and_leaves_the_presidency_vacant() -> None:
    cfg = _designed_presidency(0.6667)
    out = run_office_election(cfg, "president", SEATS, np.random.default_rng(5), max_days=300)
    assert out is None  # 300 days after the term ended, still no valid session
    proc = OfficeElectionProcess(cfg, cfg.office_elections[0], SEATS, dt.date(2007, 11, 24),  # type: ignore[index]
                                 np.random.default_rng(5))
    proc.advance(200, 0.0)
    assert proc.sessions > 20 and proc.failed == proc.sessions
    assert proc.attendance().max() < proc.quorum == 86


def test_with_a_simple_majority_quorum_the_same_chamber_elects_before_the_term_ends() -> None:
    cfg = _designed_presidency(0.5)
    out = run_office_election(cfg, "president", SEATS, np.random.default_rng(5), max_days=300)
    assert out is not None
    assert out.candidate == "aoun"  # 78 seats: no two thirds in the first session, a majority in the second
    assert out.sessions == 2 and out.vacancy_days == 0
    assert out.elected < dt.date(2007, 11, 24) == out.term_starts


def test_the_engine_holds_the_2007_presidential_election_under_the_quorum() -> None:
    from shatterbelt.sim import Simulation

    res = Simulation(load_scenario("lebanon-2005"), scale=0.01, seed=4, until="2009-05").run()
    offices = [e for e in res.summary["office_events"] if e["office"] == "president"]
    assert len(offices) == 1
    ev = offices[0]
    assert ev["elected"] >= "2007-09-25"  # sessions open 60 days before the term ends
    assert ev["vacancy_days"] == max(0, (dt.date.fromisoformat(ev["elected"]) - dt.date(2007, 11, 24)).days)
    # a new government follows the new president's term (constitution, Art. 69)
    assert any(t["date"] > ev["term_starts"] for t in res.summary["pm_by_term"])
