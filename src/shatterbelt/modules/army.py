"""Step 8 - Army cohesion, desertion and local collapse (S3).

Cohesion of the army in region r starts at ``cohesion0`` (the level 2010's conditions
sustain, not 1) and moves each month toward a target, through a smooth bounded transform:

    x = 1 - a_pay arrears - a_ghost (ghost share / 0.3) - a_illeg illegitimacy_r
          - a_pol politicization_r - a_mis mismatch_r - a_vac vacuum
    target = 1 / (1 + exp(-4 (x - 1/2)))

arrears = months unpaid / unpaid_scale (at most 1); the ghost share is corruption's
part of the payroll; illegitimacy_r is the soldiers' mean (1 - L) for their own
community; politicization_r = 1 - sum_g s_g^2 over the groups soldiers answer to (the
state or an entity: S3's "distributed among the entities"); mismatch_r the chance that
a soldier and a resident of r are of different communities; vacuum = min(1, vacuum
months / 12) while a caretaker governs (S6).  Local defeat multiplies cohesion by
exp(-a_defeat x army deaths per 1,000 soldiers in r).

Desertion is a threshold cascade (Granovetter 1978; McLauchlin 2015).  Every soldier
has a fixed threshold theta_i (the mean of two uniforms: most soldiers in the middle,
a few quick to leave, a few staunch).  The pressure on the soldiers of r is

    P_r = d_coh (1 - cohesion_r) + d_mom momentum_r + d_near near_r

with momentum_r = max(0, log((ratio_r + floor) / (ratio memory_r + floor))) the recent growth of hostile
outlaw strength relative to the army's in r (not its level: an army many times larger
can break when the enemy is coming on), and near_r the share of r's neighbours whose army
has collapsed (contagion).  Soldiers watch each other: the share f_r deserting solves
f = share of soldiers with theta_i < P_r + contagion f (iterated from f = 0).  Those
soldiers desert and go home; when f_r reaches ``collapse_share`` the local army has
collapsed: police desert with probability police_desert_share, and the strongest hostile
outlaw actor there takes materiel worth materiel_per_soldier per deserter.  Nothing in
the scenario schedules a collapse: it can only emerge (as Mosul's did in June 2014).  The
region counts as collapsed until the state holds the majority of control again with
cohesion above recover_threshold.
"""

from __future__ import annotations

import numpy as np

from ..population import CIV, FIGHTER, NO_ACTOR
from ..scenario.params import Param
from ..world import World
from . import army_kernels as ak
from .base import Module
from .record import MonthRecord
from .strength import compute_strength

_THETA_KEY = "army.threshold"  # each person's fixed desertion threshold


class ArmyCohesion(Module):
    name = "army"
    title = "Army cohesion and local collapse"
    PARAMS = {
        "cohesion0": Param(domain="unit weight", value=0.6, range=(0.4, 0.9), source="assumption", note="cohesion at the start: about the level 2010's pay, ghosts, politicization and legitimacy sustain"),
        "adjust": Param(domain="share", value=0.15, range=(0.05, 0.4), source="assumption", note="share of the gap to the target closed each month"),
        "a_pay": Param(domain="non-negative number", value=0.3, range=(0.0, 0.5), source="assumption"),
        "unpaid_scale": Param(domain="positive number", value=3.0, range=(1.0, 6.0), source="assumption", note="months of arrears counting fully"),
        "a_ghost": Param(domain="non-negative number", value=0.15, range=(0.0, 0.3), source="assumption", note="per 30% ghost soldiers"),
        "a_illeg": Param(domain="non-negative number", value=0.4, range=(0.1, 0.8), source="assumption"),
        "a_pol": Param(domain="non-negative number", value=0.25, range=(0.0, 0.5), source="seed claim", note="S3: the army 'distributed among the entities'"),
        "a_mis": Param(domain="non-negative number", value=0.2, range=(0.0, 0.5), source="assumption", note="community mismatch of soldiers with the people they police (McLauchlin 2015)"),
        "a_vac": Param(domain="non-negative number", value=0.1, range=(0.0, 0.3), source="seed claim", note="S6: the political vacuum unsettles command"),
        "a_defeat": Param(domain="non-negative number", value=0.02, range=(0.005, 0.05), source="assumption", note="log-cohesion lost per army death per 1,000 soldiers in the region"),
        "d_coh": Param(domain="non-negative number", value=0.2, range=(0.05, 0.4), source="assumption", note="desertion pressure of lost cohesion"),
        "d_mom": Param(domain="non-negative number", value=0.1, range=(0.0, 0.3), source="assumption", note="desertion pressure of enemy momentum (per e-fold growth of hostile/army strength)"),
        "d_near": Param(domain="non-negative number", value=0.1, range=(0.0, 0.3), source="assumption", note="desertion pressure of collapses next door (contagion)"),
        "contagion": Param(domain="unit weight", value=0.8, range=(0.0, 1.0), source="assumption", note="weight of comrades' desertion on one's own (Granovetter 1978)"),
        "momentum_floor": Param(domain="positive number", value=0.1, range=(0.02, 0.5), source="assumption", note="hostile/army ratio below which growth hardly registers as momentum"),
        "momentum_memory": Param(domain="unit weight", value=0.8, range=(0.5, 0.95), source="assumption", note="monthly retention of the hostile/army ratio soldiers compare with"),
        "collapse_share": Param(domain="share", value=0.5, range=(0.3, 0.8), source="assumption", note="share of a region's soldiers deserting at which the local army has collapsed"),
        "recover_threshold": Param(domain="unit weight", value=0.5, range=(0.35, 0.7), source="assumption", note="cohesion at which a collapsed region's army is whole again (with the state in control)"),
        "police_desert_share": Param(domain="share", value=0.5, range=(0.2, 0.9), source="assumption"),
        "materiel_per_soldier": Param(domain="money", value=5000.0, range=(1000.0, 20000.0), source="assumption", note="USD of equipment captured per deserter"),
        "command_turnover": Param(domain="share", value=0.3, range=(0.1, 0.7), source="assumption", note="share of serving members whose allegiance follows a new command apportionment"),
    }
    STATE = ("cohesion", "collapsed", "army_collapses", "politicization", "captured", "deserters_a", "ratio_memory", "desertion_f")
    READS = (
        "ghost_share", "regional_war", "border", "foreign_level", "unpaid_months", "L", "army_losses_r", "control", "gov",
        "excluded", "vacuum_months", "paid_frac",
    )
    RESULTS = (
        ("regional", "army_cohesion"), ("regional", "army_collapsed"), ("regional", "politicization"),
        ("national", "army_cohesion"),
    )

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.k_allegiance = world.kernels.pick(ak.allegiance_counts_numpy, ak.allegiance_counts_numba)

    def define_states(self) -> None:
        w = self.world
        self.define("cohesion", float(self.p.get("cohesion0", 0.6)), (w.R,))
        self.define("ratio_memory", np.nan, (w.R,))  # the hostile/army strength ratio soldiers remember
        self.define("desertion_f", 0.0, (w.R,))  # share of soldiers deserting this month (the cascade)
        self.define("collapsed", False, (w.R,), bool)
        self.define("army_collapses", [])  # (region, month) of every local collapse
        self.define("politicization", 0.0, (w.R,))
        # materiel taken from deserters this month, (actor, USD) in order: the economy adds it to cash
        self.define("captured", [])
        self.define_log("deserters_a", (w.A,))

    # ------------------------------------------------------------------ the army's people
    def deployment_weights(self) -> np.ndarray:
        """The deployment plan: each region's share of soldiers."""
        w = self.world
        dw = np.zeros(w.R)
        for r, s in w.sc.army.deployment.items():
            dw[w.reg[r]] = s
        return dw / max(dw.sum(), 1e-12)

    def deploy(self, idx: np.ndarray, month: int) -> None:
        """Post soldiers ``idx`` to regions by the deployment plan (collapsed regions get none)."""
        if idx.size == 0:
            return
        w = self.world
        dw = self.deployment_weights() * ~w.collapsed
        dw = dw / max(dw.sum(), 1e-12)
        cdf = np.cumsum(dw)
        u = w.rng.agent_uniforms("army.deploy", month + 1, idx)
        w.people.region[idx] = np.minimum(np.searchsorted(cdf, u, side="right"), w.R - 1).astype(np.int8)

    def draw_allegiance(self, idx: np.ndarray, month: int) -> None:
        """Entity allegiance of state-force members ``idx``, drawn from the apportionment of command.

        With probability ``army.infiltration`` a member answers to an entity (S3's
        infiltration), chosen in proportion to that entity's command share times its
        support in the member's community; otherwise to the state (-1).
        """
        if idx.size == 0:
            return
        w = self.world
        ppl = w.people
        iota = float(w.sc.army.infiltration.value)
        u1 = w.rng.agent_uniforms("state.allegiance.has", month + 1, idx)
        u2 = w.rng.agent_uniforms("state.allegiance.who", month + 1, idx)
        cmd = w.gov.command * ~w.excluded
        pw = cmd[:, None] * w.bloc_comm  # B x C
        col = pw.sum(0)
        cdf = np.cumsum(np.where(col > 0, pw / np.maximum(col, 1e-12), 1.0 / w.B), axis=0)  # B x C
        c = ppl.community[idx].astype(np.int64)
        who = np.empty(idx.size, np.int64)
        for ci in range(w.C):
            m = c == ci
            if m.any():
                who[m] = np.minimum(np.searchsorted(cdf[:, ci], u2[m], side="right"), w.B - 1)
        has = (u1 < iota) & (col[c] > 0)
        ppl.allegiance[idx] = np.where(has, who, -1).astype(np.int8)

    def reapportion_command(self) -> None:
        """After a new government: a share of serving state-force members re-draw their allegiance."""
        w = self.world
        ppl = w.people
        turnover = float(self.p.get("command_turnover", 0.3))
        f = w.current_fighters()
        idx = f[w.is_state[ppl.actor[f]]]
        if idx.size == 0:
            return
        u = w.rng.agent_uniforms("state.turnover", w.gov.term, idx)
        self.draw_allegiance(idx[u < turnover], month=1000 + w.gov.term)
        w.changed()  # allegiance is not in the census

    # ------------------------------------------------------------------ month

    def step(self, t: int) -> None:
        w, p = self.world, self.p
        ppl = w.people
        cen = w.census()
        a = w.army_i
        frc = cen.fighters_arc()[a].astype(np.float64)  # R x C agents
        army_r = frc.sum(1)
        illeg = np.where(army_r > 0, (frc * (1.0 - w.L)).sum(1) / np.maximum(army_r, 1.0), 0.0)
        alive = cen.alive_rc().astype(np.float64)
        pop_sh = alive / np.maximum(alive.sum(1, keepdims=True), 1.0)
        sol_sh = frc / np.maximum(army_r[:, None], 1.0)
        mismatch = np.where(army_r > 0, 1.0 - (sol_sh * pop_sh).sum(1), 0.0)
        pol = self._politicization()
        arrears = min(1.0, w.unpaid_months[a] / p["unpaid_scale"])
        vac = min(1.0, w.vacuum_months / 12.0) if w.gov.caretaker else 0.0
        x = (
            1.0 - p["a_pay"] * arrears - p["a_ghost"] * w.ghost_share / 0.3 - p["a_illeg"] * illeg - p["a_pol"] * pol
            - p["a_mis"] * mismatch - p["a_vac"] * vac
        )
        target = 1.0 / (1.0 + np.exp(-4.0 * (x - 0.5)))
        army_persons = army_r * w.w
        losses_per_1000 = np.where(army_persons > 0, w.log.army_losses_r / np.maximum(army_persons, 1.0) * 1000.0, 0.0)
        S = compute_strength(w)
        hostile = (w.danger[a][:, None] * S * w.outlaw[:, None]).sum(0)
        ratio = np.where(S[a] > 0, hostile / np.maximum(S[a], 1e-9), 0.0)
        coh = w.cohesion + p["adjust"] * (target - w.cohesion)
        w.cohesion = coh * np.exp(-p["a_defeat"] * losses_per_1000)
        w.politicization = pol
        w.captured = []
        # enemy momentum: growth of the hostile/army ratio over what soldiers remember
        mem = np.where(np.isnan(w.ratio_memory), ratio, w.ratio_memory)
        r0 = p["momentum_floor"]
        momentum = np.maximum(0.0, np.log((ratio + r0) / (mem + r0)))
        w.ratio_memory = p["momentum_memory"] * mem + (1.0 - p["momentum_memory"]) * ratio
        near = (w.adj.astype(np.float64) @ w.collapsed.astype(np.float64)) / np.maximum(w.adj.sum(1), 1)
        pressure = p["d_coh"] * (1.0 - w.cohesion) + p["d_mom"] * momentum + p["d_near"] * near

        # recover: the state again holds most of the region
        w.collapsed &= ~((w.control[0] > 0.5) & (w.cohesion > p["recover_threshold"]))

        # the cascade, on the soldiers present in each region
        fidx = w.fighter_idx
        alive_f = ppl.status[fidx] == FIGHTER
        fa = ppl.actor[fidx].astype(np.int64)
        sol = alive_f & (fa == a)
        sidx = fidx[sol]
        theta = self.thresholds(sidx)
        sr = ppl.region[sidx].astype(np.int64)
        f = cascade(theta, sr, pressure, p["contagion"], w.R)
        w.desertion_f = f
        hit = (f >= p["collapse_share"]) & (army_r > 0) & ~w.collapsed
        go_s = theta < (pressure + p["contagion"] * f)[sr]
        fr = ppl.region[fidx].astype(np.int64)
        go = np.zeros(fidx.size, bool)
        go[np.flatnonzero(sol)[go_s]] = True
        if hit.any():
            u = w.rng.agent_uniforms("army.desert", t, fidx)
            pol_go = alive_f & w.is_police[np.maximum(fa, 0)] & hit[fr] & (u < p["police_desert_share"])
            go |= pol_go
        sel = fidx[go]
        if sel.size == 0:
            return
        with w.changing(sel):
            ppl.status[sel] = CIV
            ppl.actor[sel] = NO_ACTOR
            ppl.allegiance[sel] = -1
            ppl.region[sel] = ppl.origin[sel]
            ppl.timer[sel] = 0
        deserters = np.bincount(fr[go], minlength=w.R) * w.w
        w.log.deserters_a += np.bincount(fa[go], minlength=w.A) * w.w
        for r in np.flatnonzero(hit):
            w.collapsed[r] = True
            w.army_collapses.append((w.reg.ids[r], w.months[t]))
            cand = np.flatnonzero(w.outlaw & (w.danger[a] > 0) & (S[:, r] > 0))
            if cand.size:
                taker = cand[np.argmax(S[cand, r])]
                w.captured.append((int(taker), deserters[r] * p["materiel_per_soldier"]))
        w.changed()

    def thresholds(self, idx: np.ndarray) -> np.ndarray:
        """Each person's fixed desertion threshold: the mean of two uniforms (triangular on [0, 1])."""
        rng = self.world.rng
        return 0.5 * (rng.agent_uniforms(_THETA_KEY, 0, idx) + rng.agent_uniforms(_THETA_KEY, 1, idx))

    def _politicization(self) -> np.ndarray:
        """1 - Herfindahl of the groups soldiers answer to (the state, or one entity), per region."""
        w = self.world
        ppl = w.people
        fidx = w.fighter_idx
        cnt = self.k_allegiance(
            fidx, ppl.status, ppl.actor, ppl.allegiance, ppl.region, w.army_i, w.R, w.B + 1
        ).astype(np.float64)  # integer counts: the same numbers as adding 1.0 one by one
        if cnt.sum() == 0:
            return np.zeros(w.R)
        tot = cnt.sum(1, keepdims=True)
        sh = np.where(tot > 0, cnt / np.maximum(tot, 1.0), 0.0)
        return np.where(tot[:, 0] > 0, 1.0 - (sh**2).sum(1), 0.0)

    def record(self, t: int, out: MonthRecord) -> None:
        w = self.world
        fighters = w.census().fighters_ar().astype(np.float64) * w.w
        army = fighters[w.army_i]
        out.reg["army_cohesion"] = np.where(army > 0, w.cohesion, np.nan)
        out.reg["army_collapsed"] = w.collapsed
        out.reg["politicization"] = w.politicization
        out.nat["army_cohesion"] = float((w.cohesion * army).sum() / army.sum()) if army.sum() > 0 else np.nan


def cascade(theta: np.ndarray, region: np.ndarray, pressure: np.ndarray, contagion: float, R: int) -> np.ndarray:
    """Share of each region's soldiers who desert: the smallest fixed point of
    f = share of soldiers with theta < pressure + contagion f (Granovetter 1978), from f = 0."""
    n = np.bincount(region, minlength=R).astype(np.float64)
    order = np.lexsort((theta, region))
    th = theta[order]
    start = np.concatenate([[0], np.cumsum(n)[:-1]]).astype(np.int64)
    f = np.zeros(R)
    for _ in range(200):
        x = pressure + contagion * f
        k = np.array([np.searchsorted(th[start[r] : start[r] + int(n[r])], x[r]) for r in range(R)], np.float64)
        nf = np.where(n > 0, k / np.maximum(n, 1.0), 0.0)
        if np.array_equal(nf, f):
            break
        f = nf
    return f
