"""The full iraq-2010 run forms its own governments, holds its own 2014 election and can marginalize."""

from __future__ import annotations

import numpy as np

from shatterbelt.population import FIGHTER
from tests.conftest import cached_run

SEEDS = (1, 2, 3, 4)


def test_default_run_forms_its_own_government(default_run):
    s = default_run.summary
    assert s["pm_by_term"], "the 2010 formation must end inside the run"
    first = s["pm_by_term"][0]
    assert first["election"] == "2010-03-07"
    assert 150 <= first["vacuum_days"] <= 600
    assert s["vacuum_days_by_term"][0] == first["vacuum_days"]
    assert first["pm_bloc"] in {"sol", "ina", "iraqiya", "sadrists"}


def test_2014_election_is_an_outcome(default_run):
    seats = default_run.summary["seats_2014"]
    assert seats is not None
    assert sum(seats.values()) == 328  # 320 general seats + 8 quota seats under the 2013 law
    others = [cached_run("iraq-2010", 0.01, s).summary["seats_2014"] for s in SEEDS[:2]]
    assert any(o != seats for o in others), "seats come from simulated votes, not a table"


def test_vacuum_and_pm_vary_and_marginalization_emerges():
    runs = [cached_run("iraq-2010", 0.01, s, "2013-12") for s in SEEDS]
    days = {r.summary["vacuum_days_by_term"][0] for r in runs if r.summary["vacuum_days_by_term"]}
    assert len(days) > 1
    events = [e for r in runs for e in r.summary["marginalization_events"]]
    assert events, "a governing bloc moving against rivals must be able to happen"
    months = {e["month"] for e in events}
    assert len(months) > 1, "marginalization is a hazard, never a date"
    for e in events:
        assert e["portfolio_change"] <= 0 and e["command_change"] <= 0


def test_scripted_government_variant_imposes_december_2010():
    s = cached_run("iraq-2010+scripted-government", 0.01, 7, "2011-06").summary
    first = s["pm_by_term"][0]
    assert first["date"] == "2010-12-21" and first["pm_candidate"] == "Nouri al-Maliki"
    assert first["vacuum_days"] == 289


def test_technocratic_allocation_arms_no_entity():
    res = cached_run("iraq-2010+scripted-government", 0.01, 7, "2011-06", ("politics.apportionment.method=technocratic",))
    w = res.world
    assert w.gov.portfolio.sum() == 0 and w.gov.command.sum() == 0
    assert np.all(w.rents == 0)
    ppl = w.people
    state = (ppl.status == FIGHTER) & w.is_state[np.maximum(ppl.actor, 0)]
    # members recruited or re-drawn after the technocratic government answer to the state
    assert (ppl.allegiance[state] == -1).mean() > 0.5
    assert np.allclose(w.representation, 1.0)


def test_marginalizing_a_bloc_without_command_does_not_crash():
    from shatterbelt.politics import Government, apply_marginalization, load_politics

    cfg = load_politics("iraq-2010")
    gov = Government(
        pm_bloc="sol", pm_candidate="maliki", coalition=("sol", "minorities"),
        portfolio_shares={"sol": 0.9, "minorities": 0.1}, budget_shares={"sol": 0.9, "minorities": 0.1},
        command_shares={"sol": 1.0}, formed_day=0, term=2,
    )
    ev = apply_marginalization(cfg, gov, "minorities", np.random.default_rng(0))
    assert ev.command_change == 0 and ev.portfolio_change < 0
    assert ev.government.command_shares["minorities"] == 0
