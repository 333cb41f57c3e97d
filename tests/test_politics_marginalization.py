"""Marginalization: a hazard that rises with patron backing and rivals' weakness, never a date."""

from __future__ import annotations

import numpy as np
import pytest

from shatterbelt.errors import UsageError
from shatterbelt.politics import (
    apply_marginalization,
    build_government,
    draw_marginalization,
    load_politics,
    marginalization_hazard,
)
from shatterbelt.politics.marginalization import patron_pressure, representation


@pytest.fixture(scope="module")
def cfg():
    return load_politics("iraq-2010")


@pytest.fixture(scope="module")
def gov(cfg):
    units = {b: ("na" if b in ("sol", "sadrists", "ina") else b) for b in cfg.bloc_ids()}
    return build_government(cfg, "maliki", cfg.documented.cabinet_coalition, cfg.documented_bloc_seats(),
                            formed_day=289, term=2, units=units)


def test_hazard_shape(cfg, gov) -> None:
    seats = cfg.documented_bloc_seats()
    with_us = marginalization_hazard(cfg, gov, seats, support={"us": 1.0})
    after_us = marginalization_hazard(cfg, gov, seats, support={"us": 0.0})
    assert "sol" not in with_us
    assert after_us["iraqiya"] > 2 * with_us["iraqiya"]
    assert after_us["iraqiya"] > after_us["ka"]  # Kurdish leaders sit in the KRG
    assert after_us["iraqiya"] > after_us["sadrists"]  # rivals of another community first
    more_iran = marginalization_hazard(cfg, gov, seats, support={"us": 0.0, "iran": 3.0})
    assert more_iran["iraqiya"] >= after_us["iraqiya"]
    weak = marginalization_hazard(cfg, gov, seats, support={"us": 0.0}, rival_strength={"iraqiya": 0.1})
    strong = marginalization_hazard(cfg, gov, seats, support={"us": 0.0}, rival_strength={"iraqiya": 1.0})
    assert weak["iraqiya"] > strong["iraqiya"]
    back, restr = patron_pressure(cfg, "sol", {"us": 0.0})
    assert back > 0 and restr == 0


def test_endogenous_after_withdrawal(cfg, gov) -> None:
    """Over 24 months, a move against Iraqiya is likely once US troops are gone, and less likely while they stay."""
    seats = cfg.documented_bloc_seats()

    def share(us: float) -> float:
        hits = 0
        for s in range(200):
            rng = np.random.default_rng(s)
            g = gov
            for _ in range(24):
                ev = draw_marginalization(cfg, g, seats, rng, support={"us": us})
                if ev is not None:
                    g = ev.government
                    if ev.target_bloc == "iraqiya":
                        hits += 1
                        break
        return hits / 200

    gone, stays = share(0.0), share(1.0)
    assert gone > 0.5
    assert stays < gone - 0.2


def test_apply_event(cfg, gov) -> None:
    ev = apply_marginalization(cfg, gov, "iraqiya", np.random.default_rng(0))
    g2 = ev.government
    assert ev.community == "sunni" and ev.kind in ("arrest", "exclusion")
    assert g2.command_shares["iraqiya"] < gov.command_shares["iraqiya"]
    assert g2.command_shares["sol"] > gov.command_shares["sol"]
    assert abs(sum(g2.command_shares.values()) - 1) < 1e-9 and abs(sum(g2.portfolio_shares.values()) - 1) < 1e-9
    assert ev.representation_change["sunni"] < 0 < ev.representation_change["shia"]
    assert ev.legitimacy_penalty == cfg.marginalization.legitimacy_penalty.value
    r = representation(cfg, g2.portfolio_shares)
    assert abs(sum(r.values()) - 1) < 1e-9
    with pytest.raises(UsageError):
        apply_marginalization(cfg, gov, "sol", np.random.default_rng(0))
    with pytest.raises(UsageError):
        apply_marginalization(cfg, gov, "gorran", np.random.default_rng(0))


def test_deterministic(cfg, gov) -> None:
    seats = cfg.documented_bloc_seats()
    a = [draw_marginalization(cfg, gov, seats, np.random.default_rng(i), support={"us": 0.0}) for i in range(30)]
    b = [draw_marginalization(cfg, gov, seats, np.random.default_rng(i), support={"us": 0.0}) for i in range(30)]
    assert [e.to_dict() if e else None for e in a] == [e.to_dict() if e else None for e in b]
