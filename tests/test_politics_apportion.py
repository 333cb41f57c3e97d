"""Apportionment (muhasasa): Gamson with a small-party bonus fits the 2010-11 cabinet."""

from __future__ import annotations

import pytest

from shatterbelt.errors import UsageError
from shatterbelt.politics import NONPARTISAN, apportion, build_government, load_politics, portfolio_counts
from shatterbelt.politics.apportion import command_from, group_portfolios

NA = ("sol", "sadrists", "ina")


@pytest.fixture(scope="module")
def cfg():
    return load_politics("iraq-2010")


def _split(cfg, method: str, exponent: float) -> dict[str, int]:
    d = cfg.documented
    units = {b: ("na" if b in NA else b) for b in d.cabinet_coalition}
    sh = apportion(d.cabinet_coalition, cfg.documented_bloc_seats(), method, exponent=exponent, units=units)
    return group_portfolios(portfolio_counts(sh, 37), d.portfolio_groups)


def test_2010_cabinet_within_two_ministries(cfg) -> None:
    doc = {g: int(p.value) for g, p in cfg.documented.portfolios.items()}
    split = _split(cfg, "gamson_bonus", cfg.apportionment.exponent.value)
    assert sum(split.values()) == 37
    for g, n in doc.items():
        assert abs(split[g] - n) <= 2, (g, split[g], n)


def test_bonus_beats_plain_gamson(cfg) -> None:
    doc = {g: int(p.value) for g, p in cfg.documented.portfolios.items()}
    err = {m: sum(abs(_split(cfg, m, cfg.apportionment.exponent.value)[g] - n) for g, n in doc.items())
           for m in ("gamson_bonus", "gamson")}
    assert err["gamson_bonus"] < err["gamson"]


def test_methods() -> None:
    seats = {"a": 60, "b": 30, "c": 10}
    g = apportion(["a", "b", "c"], seats, "gamson")
    assert g == pytest.approx({"a": 0.6, "b": 0.3, "c": 0.1})
    b = apportion(["a", "b", "c"], seats, "gamson_bonus", exponent=0.8)
    assert b["c"] > g["c"] and b["a"] < g["a"] and sum(b.values()) == pytest.approx(1.0)
    p = apportion(["a", "b", "c"], seats, "proposer_premium", premium=0.1, pm_bloc="c")
    assert p["c"] == pytest.approx(0.1 + 0.9 * 0.1)
    assert apportion(["a", "b"], seats, "technocratic") == {NONPARTISAN: 1.0}
    u = apportion(["a", "b", "c"], seats, "gamson_bonus", exponent=0.5, units={"a": "x", "b": "x", "c": "c"})
    assert u["a"] / u["b"] == pytest.approx(2.0)  # inside a unit, by seats
    assert portfolio_counts({"a": 0.5, "b": 0.3, "c": 0.2}, 37) == {"a": 19, "b": 11, "c": 7}


def test_command_concentration() -> None:
    c = command_from({"a": 0.5, "b": 0.5}, "a", 0.4)
    assert c == pytest.approx({"a": 0.7, "b": 0.3})
    assert command_from({NONPARTISAN: 1.0}, "a", 0.4) == {NONPARTISAN: 1.0}


def test_bad_inputs() -> None:
    with pytest.raises(UsageError):
        apportion(["a"], {"a": 1}, "lottery")
    with pytest.raises(UsageError):
        apportion(["a", "z"], {"a": 1}, "gamson")
    with pytest.raises(UsageError):
        apportion([], {"a": 1}, "gamson")


def test_technocratic_government(cfg) -> None:
    gov = build_government(cfg, "maliki", list(cfg.documented.cabinet_coalition), cfg.documented_bloc_seats(),
                           formed_day=289, term=2, method="technocratic")
    assert gov.portfolio_shares == gov.command_shares == {NONPARTISAN: 1.0}
    assert gov.portfolios == {NONPARTISAN: 37}
