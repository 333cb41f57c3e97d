"""Armed actors with entry and exit dates (``active_from`` / ``active_until``).

On tests/data/tiny.yaml (July 2010 - December 2011) the insurgency is given October 2010 to June 2011:
it has no fighters and no events before, its documented size from October, none after June, and
people are conserved throughout.  Bad dates are refused with one line naming the field.
"""

from __future__ import annotations

import functools

import pytest

from shatterbelt import Simulation, load_scenario
from shatterbelt.cli.main import main
from shatterbelt.errors import ScenarioError
from shatterbelt.population import FIGHTER
from tests.conftest import TINY

DATES = ("actors.ins.active_from=2010-10", "actors.ins.active_until=2011-06")
SCALE = 0.5


@functools.lru_cache(maxsize=2)
def _run(seed: int):
    return Simulation(load_scenario(TINY, list(DATES)), scale=SCALE, seed=seed).run()


def _national(res, metric: str) -> dict[str, float]:
    t = res.panel.to_pandas()
    x = t[(t.metric == metric) & (t.region == "national")]
    return dict(zip(x.month.astype(str).str[:7], x.value, strict=True))


def _ins_events_by_month(res) -> dict[str, int]:
    e = res.events.to_pandas()
    name = next(a.name for a in res.world.sc.actors if a.id == "ins")
    e = e[(e.actor1 == name) | (e.actor2 == name)]
    return e.event_date.astype(str).str[:7].value_counts().to_dict()


@pytest.mark.parametrize("seed", [3, 5])
def test_no_fighters_or_events_before_entry_fighters_from_then_none_after(seed):
    res = _run(seed)
    f = _national(res, "fighters_ins")
    assert set(f) == set(res.world.sc.months())
    before = [m for m in f if m < "2010-10"]
    during = [m for m in f if "2010-10" <= m <= "2011-06"]
    after = [m for m in f if m > "2011-06"]
    assert before and during and after
    assert all(f[m] == 0 for m in before)
    assert all(f[m] == 0 for m in after)
    # it enters with its documented size (300 persons), placed as at the start (less the month's losses)
    assert 150 <= f["2010-10"] <= 450
    assert all(f[m] > 0 for m in during)
    ev = _ins_events_by_month(res)
    assert not any(m < "2010-10" for m in ev)
    assert not any(m > "2011-06" for m in ev)
    assert sum(ev.values()) > 0  # it does act while it exists
    # no recruits outside its dates, and no fighters of it in the final population
    rec = _national(res, "recruits_ins")
    assert all(rec[m] == 0 for m in before + after)
    ppl = res.world.people
    assert not ((ppl.status == FIGHTER) & (ppl.actor == res.world.act.ids.index("ins"))).any()
    # the territory it held goes back when it is dissolved
    assert not any(c[3] == "ins" and c[1] > "2011-06" for c in res.world.control_changes)


@pytest.mark.parametrize("seed", [3, 5])
def test_people_are_conserved_with_dates(seed):
    res = _run(seed)
    s = res.summary
    net_in = s["agents_arrived"] - s["agents_departed"]
    assert s["agents_alive"] + s["agents_dead"] == s["agents"] + net_in
    assert s["population_start"] + net_in / SCALE == pytest.approx(s["population_end"] + s["deaths_total"])
    w = res.world
    n0 = w.cell_n0.sum(0)
    for c in range(w.C):
        assert int((w.people.community[: w.people.residents] == c).sum()) == n0[c]


def test_same_seed_same_run_with_dates():
    a = Simulation(load_scenario(TINY, list(DATES)), scale=0.1, seed=9).run()
    b = Simulation(load_scenario(TINY, list(DATES)), scale=0.1, seed=9).run()
    assert a.panel.equals(b.panel)
    assert a.events.equals(b.events)


def test_dates_change_the_run_only_through_the_actor():
    """Without dates the insurgency exists from the start; with them it does not, so the runs differ."""
    plain = Simulation(load_scenario(TINY), scale=SCALE, seed=3).run()
    f = _national(plain, "fighters_ins")
    assert f["2010-07"] > 0
    assert _national(_run(3), "fighters_ins")["2010-07"] == 0


@pytest.mark.parametrize(
    "sets,field",
    [
        (("actors.ins.active_from=2009-01",), "actors[3].active_from"),
        (("actors.ins.active_until=2010-06",), "actors[3].active_until"),
        (("actors.ins.active_from=2011-03", "actors.ins.active_until=2011-01"), "actors[3].active_until"),
        (("actors.ins.active_from=2011-03", "actors.ins.active_until=2011-03"), "actors[3].active_until"),
        (("actors.ins.active_from=2011-13",), "active_from"),
        (("actors.foreign.active_from=2011-01",), "actors[4].active_from"),
        (("actors.army.active_until=2011-01",), "army.actor"),
    ],
)
def test_bad_dates_are_refused_in_one_line(sets, field):
    with pytest.raises(ScenarioError) as e:
        load_scenario(TINY, list(sets))
    msg = str(e.value)
    assert "\n" not in msg.strip()
    assert field in msg


def test_bad_dates_on_the_command_line_are_one_line(capsys, tmp_path):
    rc = main(["run", TINY, "--set", "actors.ins.active_from=2009-01", "--out", str(tmp_path / "o")])
    out, err = capsys.readouterr()
    assert rc == 2
    lines = [x for x in (out + err).splitlines() if x.strip()]
    assert len(lines) == 1
    assert lines[0].startswith("error:") and "actors[3].active_from" in lines[0] and "before the start" in lines[0]


def test_run_cut_short_before_the_entry():
    """A run stopped (``until``) before an actor's entry simply never sees it."""
    res = Simulation(load_scenario(TINY, list(DATES)), scale=0.1, seed=2, until="2010-09").run()
    f = _national(res, "fighters_ins")
    assert len(f) == 3 and all(v == 0 for v in f.values())
    assert not _ins_events_by_month(res)


def test_a_cut_short_run_with_later_dates_writes_a_scenario_that_loads_again(tmp_path):
    """``until`` cuts the horizon; the resolved scenario keeps the later dates and must load again."""
    res = Simulation(load_scenario(TINY, list(DATES)), scale=0.1, seed=2, until="2010-08").run()
    res.write(str(tmp_path / "run"))
    again = load_scenario(str(tmp_path / "run" / "scenario.resolved.yaml"))
    assert again.horizon == "2010-08"
    assert next(a for a in again.actors if a.id == "ins").active_from == "2010-10"


def test_entry_and_exit_same_under_numpy_and_numba_and_with_ownership_checks():
    runs = [
        Simulation(load_scenario(TINY, list(DATES)), scale=0.2, seed=5, backend=b, check=c).run()
        for b, c in (("numpy", False), ("numba", True))
    ]
    assert runs[0].panel.equals(runs[1].panel)
    assert runs[0].events.equals(runs[1].events)
