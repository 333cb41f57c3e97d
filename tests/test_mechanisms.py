"""One mechanism at a time: a designed situation on ``tiny.yaml``, one module stepped, the outcome its rule implies.

Every test builds a fresh simulation of the three-region toy country at scale 1.0, sets the
state the situation needs (outside check mode, as a test may), steps one module and checks
what that mechanism alone should do.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from shatterbelt.population import CIV, FIGHTER
from shatterbelt.resolve import load_scenario
from shatterbelt.sim import Simulation
from shatterbelt.world import MonthLog, World
from tests.conftest import TINY


def _sim(seed: int = 1) -> Simulation:
    return Simulation(load_scenario(TINY), scale=1.0, seed=seed, backend="numpy")


def _step(sim: Simulation, name: str, t: int = 0) -> None:
    """Step one module in month ``t`` (a fresh month log, as the month loop starts a month)."""
    sim.world.new_month_log()
    sim.module(name).step(t)


def _ids(w: World) -> tuple[int, int, int, int, int]:
    return w.act["army"], w.act["mil"], w.act["ins"], w.comm["a"], w.comm["b"]


# ---------------------------------------------------------------------------- 1 timeline
def test_timeline_averages_troop_levels_over_the_days_and_starts_the_war_next_door():
    sim = _sim()
    w = sim.world
    f = w.act["foreign"]
    _step(sim, "timeline", 6)  # 2011-01: 2,000 troops until the 14th, 1,000 from the 15th
    assert w.foreign_level[f] == pytest.approx((14 * 2000 + 17 * 1000) / 31)
    assert w.regional_war == 0.0
    _step(sim, "timeline", 8)  # 2011-03: the war next door, on R1's border
    assert w.regional_war == 0.5 and w.border.tolist() == [True, False, False]
    assert w.revenue == 25_000_000


# ---------------------------------------------------------------------------- 2 politics
def test_scripted_politics_counts_the_vacuum_then_installs_the_timelines_government():
    sim = _sim()
    w = sim.world
    v0 = w.vacuum_months
    for t in range(3):
        _step(sim, "politics", t)
    assert w.gov.caretaker and w.vacuum_months == v0 + 3
    _step(sim, "politics", 3)  # 2010-10: the government of 10 October
    assert not w.gov.caretaker and w.gov.term == 1
    assert w.vacuum_days_by_term == [(dt.date(2010, 10, 10) - dt.date(2010, 3, 1)).days]
    assert w.gov.portfolio[w.bloc["pa"]] == pytest.approx(0.6)
    assert w.vacuum_months == 0  # the vacuum ended with the government


# ---------------------------------------------------------------------------- 3 economy
def test_corruption_becomes_rents_and_costs_services():
    clean, corrupt = _sim(), _sim()
    for s, c in ((clean, 0.0), (corrupt, 0.3)):
        _step(s, "timeline", 0)
        s.world.economy["corruption"] = c
        _step(s, "economy", 0)
    assert clean.world.rents.sum() == 0.0 and corrupt.world.rents.sum() > 0.0
    assert (clean.world.services >= corrupt.world.services).all()
    assert clean.world.services.sum() > corrupt.world.services.sum()


def test_no_revenue_leaves_state_forces_unpaid():
    sim = _sim()
    w = sim.world
    army = w.act["army"]
    w.cash[:] = 0.0
    w.revenue = 0.0
    _step(sim, "economy", 0)
    assert w.paid_frac[army] < 0.75 and w.unpaid_months[army] == 1


# ---------------------------------------------------------------------------- 4 legitimacy
def test_insecurity_lowers_legitimacy_where_it_happens():
    base, hit = _sim(), _sim()
    hit.world.security[0] = 0.1  # killings in R1
    for s in (base, hit):
        _step(s, "legitimacy", 0)
    assert (hit.world.L[0] < base.world.L[0]).all()
    assert np.array_equal(hit.world.L[1:], base.world.L[1:])


# ---------------------------------------------------------------------------- 5 grievance
def test_killings_of_a_community_raise_its_fear():
    sim = _sim()
    w = sim.world
    _, _, _, a, b = _ids(w)
    w.prev_log = MonthLog(w.fields)
    w.prev_log.civ_deaths_by_other_rc[1, b] = 20.0  # 20 of community b killed by others in R2
    w.prev_log.civ_deaths_rc[1, b] = 20.0
    sec0 = w.security.copy()
    _step(sim, "grievance", 1)
    assert w.fear[1, b] > 0.0
    assert w.fear[1, a] == 0.0 and (w.fear[[0, 2]] == 0.0).all()
    assert w.security[1] < sec0[1]


# ---------------------------------------------------------------------------- 6 mobilization
def test_more_grievance_brings_more_recruits():
    recruits = {}
    for L in (0.9, 0.0):  # the insurgency's community judges the state legitimate, or not at all
        sim = _sim()
        w = sim.world
        _, _, ins, _, b = _ids(w)
        w.L[:, b] = L
        w.capacity[ins] = 1e6  # room for every recruit
        _step(sim, "mobilization", 0)
        recruits[L] = w.log.recruits_a[ins]
    assert recruits[0.0] > recruits[0.9] >= 0


def test_recruits_are_fighting_age_civilians_of_the_actors_community():
    sim = _sim()
    w = sim.world
    ppl = w.people
    _, mil, _, a, _ = _ids(w)
    w.capacity[mil] = 1e6
    before = ppl.status.copy()
    _step(sim, "mobilization", 0)
    new = np.flatnonzero((before == CIV) & (ppl.status == FIGHTER) & (ppl.actor == mil))
    assert new.size > 0
    assert ppl.fighting_age[new].all() and (ppl.community[new] == a).all()


# ---------------------------------------------------------------------------- 7 violence
def test_violence_targets_only_whom_an_actor_may_target_and_idle_actors_do_nothing():
    sim = _sim()
    w = sim.world
    ppl = w.people
    _, mil, ins, _, b = _ids(w)
    gone = np.flatnonzero((ppl.status == FIGHTER) & (ppl.actor == ins))
    ppl.status[gone] = CIV
    ppl.actor[gone] = -1
    w.touched()
    w.quality[mil] = 20.0  # a strong militia: many attacks
    _step(sim, "violence", 0)
    ev = w.events.columns()
    assert ev["actor1"].size > 0
    assert not (ev["actor1"] == ins).any()  # no fighters, no attacks
    civ = ev["civ"].astype(bool) & (ev["actor1"] == mil)
    assert civ.any() and (ev["actor2"][civ] == -(b + 1)).all()  # the militia's doctrine: community b only
    assert w.log.civ_deaths_rc[:, w.comm["a"]].sum() == 0.0


# ---------------------------------------------------------------------------- 8 army
def test_an_outnumbered_army_with_low_cohesion_collapses_locally():
    sim = _sim()
    w = sim.world
    ppl = w.people
    army, _, ins, _, _ = _ids(w)
    w.quality[ins] = 50.0  # hostile outlaw strength far above the army's in R1 and R2
    w.cohesion[0] = 0.1
    soldiers_r1 = int(((ppl.status == FIGHTER) & (ppl.actor == army) & (ppl.region == 0)).sum())
    _step(sim, "army", 0)
    assert w.collapsed[0] and ("R1", w.months[0]) in w.army_collapses
    left = int(((ppl.status == FIGHTER) & (ppl.actor == army) & (ppl.region == 0)).sum())
    assert left < 0.5 * soldiers_r1
    assert w.log.deserters_a[army] > 0
    assert w.captured and w.captured[0][0] == ins  # the strongest hostile outlaw actor takes the materiel


def test_a_cohesive_army_does_not_collapse():
    sim = _sim()
    w = sim.world
    _step(sim, "army", 0)
    assert not w.collapsed.any() and w.army_collapses == []


# ---------------------------------------------------------------------------- 9 displacement
def test_the_threatened_flee_to_regions_where_their_community_is_the_majority():
    sim = _sim()
    w = sim.world
    ppl = w.people
    _, _, _, a, _ = _ids(w)
    w.fear[0, a] = 1.0  # community a, a minority in R1 (North), is terrified
    disp = sim.module("displacement")
    disp.p["p_max"] = 0.5
    was, r0 = ppl.displaced.copy(), ppl.region.copy()
    _step(sim, "displacement", 0)
    fled = np.flatnonzero(ppl.displaced & ~was & (r0 == 0) & (ppl.community == a))
    assert fled.size > 0.1 * ((r0 == 0) & (ppl.community == a) & (ppl.status == CIV)).sum()
    assert (ppl.region[fled] == w.reg["R3"]).all()  # the nearest region where a is the majority
    assert w.log.displaced_new_rc[0, a] >= fled.size  # (some of those who fled went home again at once)


# ---------------------------------------------------------------------------- 10 control
def test_the_strongest_entity_controls_and_connected_domination_is_one_microstate():
    sim = _sim()
    w = sim.world
    _, mil, _, _, _ = _ids(w)
    w.quality[mil] = 100.0  # the militia (its bloc's entity) overwhelms everyone where it is
    _step(sim, "control", 0)
    e = w.entity_of_actor[mil]
    r2, r3 = w.reg["R2"], w.reg["R3"]
    assert w.dominant[r2] == e and w.dominant[r3] == e
    assert w.control[e, r2] > 0.9
    assert w.microstates == 1  # R2 and R3 are neighbours: one microstate


# ---------------------------------------------------------------------------- 11 patrons
def test_patron_money_goes_to_clients_and_loyalty_follows_pay():
    sim = _sim()
    w = sim.world
    army, mil, _, _, _ = _ids(w)
    east, west = w.pat["east"], w.pat["west"]
    w.patron_budget0[east] = 0.0  # East stops paying
    a_mil = w.align[mil, east]
    _step(sim, "patrons", 0)
    assert w.patron_money[east].sum() == 0.0
    assert w.patron_money[west, army] > 0.0 and w.patron_money[west, mil] == 0.0  # not West's client
    assert w.align[mil, east] < a_mil


# ---------------------------------------------------------------------------- 12 record
def test_record_writes_each_modules_declared_metrics():
    sim = _sim()
    sim.step()
    w = sim.world
    res = sim.result()
    assert res.series("microstates").iloc[0] == w.microstates
    assert np.allclose([res.series("fear_b", r).iloc[0] for r in w.reg.ids], w.fear[:, w.comm["b"]])
    assert res.series("population").iloc[0] == w.census().alive() * w.w
    assert res.series("recruits_ins").iloc[0] == w.log.recruits_a[w.act["ins"]]
