"""The escalation mechanisms (issue 9), each a designed situation on ``tiny.yaml`` with an asserted outcome.

As in ``test_mechanisms.py``: a fresh simulation of the three-region toy country at scale 1.0,
the state the situation needs set by hand, one module stepped, the outcome its rule implies.
"""

from __future__ import annotations

import numpy as np
import pytest

from shatterbelt.modules.strength import compute_strength
from shatterbelt.population import ABSENT, CIV, DETAINED, FIGHTER
from shatterbelt.resolve import load_scenario
from shatterbelt.sim import Simulation
from tests.conftest import TINY, cached_run
from tests.test_levers import _paired_full, _window
from tests.test_mechanisms import _ids, _sim, _step


# ---------------------------------------------------------------------------- mobilization
def test_people_join_an_actor_that_cannot_pay_them_when_grievance_and_fear_are_high():
    sim = _sim()
    w = sim.world
    _, _, ins, _, b = _ids(w)
    w.capacity[ins] = 0.0  # not a dollar for new fighters
    w.paid_frac[ins] = 0.0
    w.cash[ins] = 0.0
    w.L[:, b] = 0.0  # community b judges the state illegitimate...
    w.fear[:, b] = 0.9  # ...and fears for its life
    _step(sim, "mobilization", 0)
    assert w.log.recruits_a[ins] > 0


def test_an_actors_income_grows_with_the_territory_it_holds():
    income = {}
    for held in (0.0, 1.0):
        sim = _sim()
        w = sim.world
        _, _, ins, _, _ = _ids(w)
        e = w.entity_of_actor[ins]
        _step(sim, "timeline", 0)
        w.control[:, 0] = 0.0
        w.control[e, 0] = held  # the insurgency holds R1, or nothing
        w.control[0, 0] = 1.0 - held
        _step(sim, "economy", 0)
        income[held] = w.income[ins]
    assert income[1.0] > income[0.0]


# ---------------------------------------------------------------------------- army
def _army_facing_momentum(paid: bool) -> tuple[bool, float]:
    sim = _sim()
    w = sim.world
    army, _, ins, _, _ = _ids(w)
    if paid:
        w.cohesion[:] = 0.9
        w.unpaid_months[army] = 0.0
        w.ghost_share = 0.0
    else:
        w.cohesion[:] = 0.3  # months of arrears, ghosts and a unit of the other community
        w.unpaid_months[army] = 6.0
        w.ghost_share = 0.5
    # the insurgents come on: their strength relative to the army's has tripled over what soldiers remember
    S = compute_strength(w)
    ratio = (w.danger[army][:, None] * S * w.outlaw[:, None]).sum(0) / np.maximum(S[army], 1e-9)
    w.ratio_memory = ratio / 3.0
    persons = w.census().fighters_ar()[:, 0]
    assert persons[army] > 2 * persons[ins]  # a large nominal advantage in R1
    soldiers = int(((w.people.actor == army) & (w.people.region == 0)).sum())
    _step(sim, "army", 0)
    left = int(((w.people.actor == army) & (w.people.region == 0)).sum())
    return bool(w.collapsed[0]), left / soldiers


def test_an_unpaid_ghost_heavy_mismatched_unit_facing_momentum_collapses_a_paid_cohesive_one_does_not():
    collapsed, left = _army_facing_momentum(paid=False)
    assert collapsed and left < 0.5
    collapsed, left = _army_facing_momentum(paid=True)
    assert not collapsed and left > 0.9


# ---------------------------------------------------------------------------- control
def test_control_does_not_change_between_allies():
    held = {}
    for allied in (False, True):
        sim = _sim()
        w = sim.world
        _, mil, _, _, _ = _ids(w)
        e = w.entity_of_actor[mil]
        ctl = sim.module("control")
        if allied:
            ctl.ent_hostile[0, e] = ctl.ent_hostile[e, 0] = False  # the militia's entity and the state are allies
        w.quality[mil] = 100.0  # the militia overwhelms everyone where it is
        _step(sim, "control", 0)
        held[allied] = (int(w.controller[1]), float(w.control[e, 1]))
    e = held[False][0]
    assert e != 0 and held[False][1] > 0.5  # an enemy takes R2 from the state
    assert held[True] == (0, 0.0)  # an ally does not: the state holds, the ally's weight with it


# ---------------------------------------------------------------------------- displacement
def test_a_region_that_changes_hands_loses_a_tenth_of_those_who_fear_the_new_controller_in_three_months():
    sim = _sim()
    w = sim.world
    ppl = w.people
    _, _, ins, a, _ = _ids(w)
    r2 = w.reg["R2"]
    _step(sim, "displacement", 0)  # the state holds R2
    before = int(((ppl.region == r2) & (ppl.community == a) & (ppl.status == CIV)).sum())
    e = w.entity_of_actor[ins]
    w.controller[r2] = e  # the insurgency (hostile to community a) takes R2
    for t in (1, 2, 3):
        _step(sim, "displacement", t)
    after = int(((ppl.region == r2) & (ppl.community == a) & (ppl.status == CIV)).sum())
    assert after <= 0.9 * before


def test_people_displaced_before_the_start_do_not_return_by_the_new_flows_rule():
    sim = _sim()
    w = sim.world
    disp = sim.module("displacement")
    disp.p["return_rate"] = 1.0
    pre = np.flatnonzero(w.prestart)
    assert pre.size > 0
    _step(sim, "displacement", 0)
    assert w.people.displaced[pre].all()


# ---------------------------------------------------------------------------- vacuum, legitimacy
def test_the_vacuum_resets_when_a_government_forms():
    sim = _sim()
    w = sim.world
    for t in range(3):
        _step(sim, "politics", t)
    assert w.gov.caretaker and w.vacuum_months > 0
    _step(sim, "politics", 3)  # 2010-10: the government of 10 October
    assert not w.gov.caretaker and w.vacuum_months == 0


def test_legitimacy_at_zero_recovers_when_its_causes_reverse():
    sim = _sim()
    w = sim.world
    w.L[:] = 0.0
    w.security[:] = 0.0
    w.representation = np.zeros(w.C)
    w.services[:] = 0.0
    _step(sim, "legitimacy", 0)
    low = w.L.copy()
    w.representation = np.full(w.C, 0.5)  # a partial improvement, still bad: L still moves
    _step(sim, "legitimacy", 1)
    assert (w.L > low).all()
    w.representation = np.ones(w.C)
    w.security[:] = 1.0
    w.services[:] = 1.0
    for t in range(2, 8):
        _step(sim, "legitimacy", t)
    assert (w.L > 0.4).all()


def test_the_vacuum_feeds_insurgent_recruitment_through_its_named_channel():
    eligible = {}
    for pull in (0.0, 0.1):
        sim = _sim()
        w = sim.world
        _, _, ins, _, _ = _ids(w)
        sim.module("mobilization").p["vacuum_pull"] = pull
        w.vacuum_months = 12  # a year without a government
        _step(sim, "mobilization", 0)
        eligible[pull] = sim.module("mobilization").eligible[ins]
    assert eligible[0.1] > eligible[0.0]


def test_defection_is_a_flow_of_persons_from_an_unpaid_actor_to_the_one_pulling_them():
    sim = _sim()
    w = sim.world
    army, mil, ins, _, b = _ids(w)
    sim.module("mobilization").p["defect_share"] = 1.0
    w.unpaid_months[army] = 12.0  # months without pay: soldiers leave
    w.L[:, b] = 0.0  # and the insurgency pulls their community hard
    w.fear[:, b] = 0.9
    before = w.people.actor.copy()
    _step(sim, "mobilization", 0)
    came = (before == army) & np.isin(w.people.actor, [mil, ins])
    assert came.any() and w.log.defectors_a.sum() >= came.sum() * w.w  # (police who left may defect too)


# ---------------------------------------------------------------------------- patrons
def _two_patron_party():
    """Party A, a client of both East and West (East's from the scenario, West's added here)."""
    sim = _sim()
    w = sim.world
    east, west = w.pat["east"], w.pat["west"]
    pa = w.A + w.bloc["pa"]
    w.client_of[west, pa] = True
    w.objective[west, pa] = 1.0
    return sim, w, east, west, pa


def test_alignment_moves_toward_the_patron_that_raises_its_relative_share_whatever_the_rents():
    gained = {}
    for raise_east in (False, True):
        sim, w, east, west, pa = _two_patron_party()
        w.rents[:] = 2.0e9  # the leaders' private rents dwarf every patron's money...
        w.bloc_funds[:] = 0.0  # ...and the party has no political money of its own
        money = np.zeros_like(w.patron_money)
        money[east, pa] = 1.0e5
        money[west, pa] = 1.0e5
        if raise_east:
            money[east, pa] = 3.0e5  # East triples its money: its share of what the party receives rises
        w.patron_money = money
        before = w.align[pa].copy()
        sim.module("patrons").realign()
        gained[raise_east] = (w.align[pa] - before)
    assert gained[True][w.pat["east"]] > gained[False][w.pat["east"]]
    assert gained[True][w.pat["west"]] < gained[False][w.pat["west"]]
    # rents do not swamp it: with equal money the party (aligned 0.5 with East) moves toward equal
    # shares of the two patrons, and does not drift away from East for all its leaders' rents
    assert gained[False][w.pat["east"]] >= 0 and gained[False][w.pat["west"]] > 0


def test_a_party_with_a_political_budget_of_its_own_depends_less_on_its_patron():
    align = {}
    for own in (0.0, 1.0e7):
        sim, w, east, west, pa = _two_patron_party()
        sim.module("patrons").p["own_weight"] = 1.0
        money = np.zeros_like(w.patron_money)
        money[east, pa] = 1.0e6
        w.patron_money = money
        w.bloc_funds[pa - w.A] = own + 1.0e6  # the political budget: own political money plus patron money
        sim.module("patrons").realign()
        align[own] = w.align[pa, east]
    assert align[1.0e7] < align[0.0]


def test_a_threatened_client_receives_more_and_no_patron_exceeds_its_budget():
    got, spent, budget = {}, {}, {}
    for attacked in (False, True):
        sim = _sim()
        w = sim.world
        _, mil, _, _, _ = _ids(w)
        east = w.pat["east"]
        e = w.entity_of_actor[mil]
        w.new_month_log()
        if attacked:
            # the militia loses a fifth of its fighters in a month and its entity loses ground in R2
            w.log.fighter_deaths_ar[mil, 1] = 0.2 * w.size0[mil]
            sim.module("patrons").control_prev[e, 1] = w.control[e, 1] + 0.3
        sim.module("patrons").step(1)
        got[attacked] = w.patron_money[east, mil]
        spent[attacked] = w.patron_money.sum(1)
        budget[attacked] = w.patron_budget.copy()
        assert (w.client_threat > 0).any() == attacked
    assert got[True] > got[False]
    for k in (False, True):
        assert (spent[k] <= budget[k] * (1 + 1e-12)).all()
    assert spent[True][w.pat["east"]] > spent[False][w.pat["east"]]  # the reserve is released, within the budget


def test_without_a_response_to_threats_patrons_pay_the_same_whatever_happens():
    got = {}
    for attacked in (False, True):
        sim = _sim()
        w = sim.world
        _, mil, _, _, _ = _ids(w)
        sim.module("patrons").p["threat_gain"] = 0.0
        w.new_month_log()
        if attacked:
            w.log.fighter_deaths_ar[mil, 1] = 0.2 * w.size0[mil]
        sim.module("patrons").step(1)
        got[attacked] = w.patron_money[w.pat["east"], mil]
    assert got[True] == got[False]


# ---------------------------------------------------------------------------- pay acts on quality
def test_an_actor_that_cannot_pay_its_fighters_fights_less_well_per_fighter():
    sim = _sim()
    w = sim.world
    _, _, ins, _, _ = _ids(w)
    q = sim.world.params["economy"]["pay_quality"]
    assert q > 0
    w.paid_frac[ins] = 1.0
    paid = compute_strength(w)[ins].sum()
    w.paid_frac[ins] = 0.0  # the same fighters, none of them paid this month
    unpaid = compute_strength(w)[ins].sum()
    assert unpaid < paid
    assert unpaid == pytest.approx(paid * (1.0 - q))
    sim.world.params["economy"]["pay_quality"] = 0.0  # the channel switched off: pay does not matter
    assert compute_strength(w)[ins].sum() == paid


# ---------------------------------------------------------------------------- foreign fighters
def _war_next_door(sim, intensity: float = 1.0) -> None:
    w = sim.world
    w.regional_war = intensity
    w.border = np.array([True, False, False])  # R1, where the insurgency has fighters


def test_foreign_fighters_arrive_as_persons_of_the_insurgency_where_it_fights_on_the_border():
    sim = _sim()
    w = sim.world
    ppl = w.people
    _, _, ins, _, _ = _ids(w)
    assert ppl.pool > 0 and (ppl.status[ppl.residents :] == ABSENT).all()  # reserved, not in the country
    alive_before = w.census().alive()
    _war_next_door(sim, 1.0)
    _step(sim, "mobilization", 9)
    inflow = sim.module("mobilization").p["foreign_inflow"]
    assert w.ff_arrived == inflow  # persons at scale 1: inflow x intensity
    new = np.arange(ppl.residents, w.ff_next)
    assert (ppl.status[new] == FIGHTER).all() and (ppl.actor[new] == ins).all()  # none leaves in its first month
    assert (ppl.region[new] == w.reg["R1"]).all() and ppl.fighting_age[new].all()
    assert (ppl.community[new] == int(np.argmax(w.actor_comm[ins]))).all()
    cen = w.census()
    assert cen.alive() == alive_before + inflow
    # they are not civilians: the civilian counts are the residents' civilians only
    assert int(cen.civ_rc().sum()) == int((ppl.status[: ppl.residents] == CIV).sum())
    assert int(cen.fighters_ar()[ins].sum()) == int((ppl.actor[ppl.status == FIGHTER] == ins).sum())


def test_without_a_war_next_door_or_with_no_inflow_no_foreign_fighter_arrives():
    sim = _sim()
    w = sim.world
    _step(sim, "mobilization", 0)  # no war next door yet
    assert w.ff_arrived == 0
    off = Simulation(load_scenario(TINY, ["parameters.mobilization.foreign_inflow=0"]), scale=1.0, seed=1, backend="numpy")
    assert off.world.people.pool == 0 and off.world.people.n == off.world.people.residents  # nothing reserved
    _war_next_door(off, 1.0)
    _step(off, "mobilization", 9)
    assert off.world.ff_arrived == 0


@pytest.mark.parametrize("scale", [1.0, 0.1])
def test_foreign_arrivals_are_scale_invariant_in_persons(scale):
    sim = Simulation(load_scenario(TINY), scale=scale, seed=1, backend="numpy")
    w = sim.world
    mob = sim.module("mobilization")
    _war_next_door(sim, 0.35)
    for t in range(12):
        w.new_month_log()
        mob._foreign_arrivals(t)
    assert w.ff_arrived * w.w == pytest.approx(mob.p["foreign_inflow"] * 0.35 * 12, abs=w.w)


def test_a_foreign_fighter_whose_detention_ends_goes_home_not_into_the_population():
    sim = _sim()
    w = sim.world
    ppl = w.people
    _war_next_door(sim, 1.0)
    _step(sim, "mobilization", 9)
    i = np.arange(ppl.residents, w.ff_next)[:3]
    with w.changing(i):
        ppl.status[i] = DETAINED
        ppl.term[i] = 1  # released this month
    w.changed()
    _step(sim, "mobilization", 10)
    assert (ppl.status[i] == ABSENT).all() and w.ff_departed >= 3
    _step(sim, "violence", 10)  # the release finds no foreign detainee left to free
    assert not np.isin(ppl.status[i], [CIV, DETAINED]).any()
    assert (ppl.status[ppl.residents : w.ff_next] != CIV).all()
    assert w.census().civ_rc().sum() == int((ppl.status[: ppl.residents] == CIV).sum())  # no foreign civilian


def test_with_foreign_fighters_people_are_conserved_and_none_becomes_a_civilian():
    on = cached_run(TINY, 1.0, 1)
    off = cached_run(TINY, 1.0, 1, None, ("parameters.mobilization.foreign_inflow=0",))
    w = on.world
    ppl = w.people
    s = on.summary
    assert s["agents_arrived"] > 0 and s["agents"] == ppl.residents == off.world.people.n
    assert s["agents_alive"] + s["agents_dead"] == s["agents"] + s["agents_arrived"] - s["agents_departed"]
    foreign = ppl.status[ppl.residents :]
    assert not np.isin(foreign, [CIV]).any()  # never civilians, never displaced residents
    assert not ppl.displaced[ppl.residents :].any()
    # the insurgency gains persons who are foreign
    ins = w.act["ins"]
    assert int(((foreign == FIGHTER) & (ppl.actor[ppl.residents :] == ins)).sum()) > 0
    assert off.summary["agents_arrived"] == 0
    assert off.summary["agents_alive"] + off.summary["agents_dead"] == off.summary["agents"]


def test_numba_and_numpy_give_the_same_people_with_foreign_fighters():
    pytest.importorskip("numba")
    runs = [Simulation(load_scenario(TINY), scale=1.0, seed=2, backend=be).run() for be in ("numpy", "numba")]
    a, b = (r.world.people for r in runs)
    assert runs[0].world.ff_arrived > 0
    for f in ("status", "actor", "region", "community", "displaced"):
        assert np.array_equal(getattr(a, f), getattr(b, f)), f


def test_foreign_fighters_go_only_to_the_insurgencies_the_scenario_marks():
    arrivals = {}
    for mark in (False, True):
        sim = _sim()
        w = sim.world
        _, mil, ins, _, _ = _ids(w)
        w.is_insurgency[mil] = True  # a second insurgency for the situation
        w.sc.actors[ins].foreign_fighters = mark
        _war_next_door(sim, 1.0)
        _step(sim, "mobilization", 9)
        new = np.arange(w.people.residents, w.ff_next)
        arrivals[mark] = np.bincount(w.people.actor[new], minlength=w.A)
        assert arrivals[mark].sum() == w.ff_arrived > 0
    assert arrivals[False][mil] > 0 and arrivals[False][ins] > 0  # none marked: every insurgency, by size
    assert arrivals[True][mil] == 0 and arrivals[True][ins] == arrivals[True].sum()


@pytest.mark.slow
def test_without_foreign_fighters_the_insurgency_is_smaller():
    # paired lever (common random numbers, iraq-2010 at scale 0.005, seeds 1-8): foreign_inflow = 0.
    # Measured: insurgent fighters March 2011 - December 2012 -331 on average, 8 of 8 seeds lower;
    # civilian deaths 2013-14 -1,988 on average, 6 of 8 lower
    d_ins = _paired_full("iraq-2010", ("parameters.mobilization.foreign_inflow=0",),
                         lambda r: _window(r, "insurgent_fighters", 8, 30))
    assert d_ins.mean() < 0 and (d_ins < 0).sum() >= 7
