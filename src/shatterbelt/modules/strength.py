"""Effective fighting strength of every actor in every region (shared by risk, violence and control).

strength = fighters (persons) x quality x pay x local multipliers: pay = 1 - pay_quality x
(1 - the share of its payroll the actor paid this month) (economy's ``pay_quality``: supplies,
ammunition and turning up depend on pay, so an actor that grows beyond what it can pay fights
less well per fighter), the army's local cohesion (fighters are the soldiers present: ghost soldiers are on the payroll only,
so they are counted once, in the economy's unit cost), the insurgency's safe-haven boost next to a
neighbouring war; a foreign force's strength is its troops deployed there.

These are pure functions of the current state: mobilization, violence, the army and control
each compute strength when they need it; control publishes the month's final strength
(``world.strength``) and foreign deployment (``world.foreign_r``) for the modules after it.
"""

from __future__ import annotations

import numpy as np

from ..world import World

#: the state that strength is computed from (declared in ``READS`` by every module that computes it)
STRENGTH_READS = ("cohesion", "regional_war", "border", "foreign_level", "paid_frac")


def foreign_deployment(world: World) -> np.ndarray:
    """Foreign troops by actor x region (persons)."""
    out = np.zeros((world.A, world.R))
    for a in np.flatnonzero(world.is_foreign):
        w = world.region_w[a]
        out[a] = world.foreign_level[a] * w / max(w.sum(), 1e-12)
    return out


def compute_strength(world: World) -> np.ndarray:
    """Strength now, by actor x region (quality-weighted persons)."""
    cen = world.census()
    f = cen.fighters_ar().astype(np.float64) * world.w
    s = f * world.quality[:, None]
    pay_q = float(world.params.get("economy", {}).get("pay_quality", 0.0))
    if pay_q > 0:
        s *= (1.0 - pay_q * (1.0 - np.clip(world.paid_frac, 0.0, 1.0)))[:, None]
    a = world.army_i
    s[a] *= world.cohesion
    haven = float(world.params.get("violence", {}).get("haven_quality", 0.0))
    if world.regional_war > 0 and haven > 0:
        boost = 1.0 + haven * world.regional_war * np.where(world.border, 1.0, 0.5)
        s[world.is_insurgency] *= boost[None, :]
    s += foreign_deployment(world) * world.quality[:, None]
    return s
