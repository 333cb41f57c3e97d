"""Step 7 - Violence: Poisson events, heavy-tailed sizes, deaths applied to sampled people, detentions.

For every armed actor a and region r, attacks per month

    Lambda[a, r] = rate_kind(a) x (S[a, r] / 1000)^theta x suppression[a, r]

are shared among its targets in r: hostile actors j with weight
hostility[a, j] x S_j / (S_j + K_act) and civilians of community c with weight
hostility_civ[a, c] x N_c / (N_c + K_civ) (its doctrine: whom it may target).
If the weights sum to less than one the actor attacks less.  An outlaw actor is
suppressed by foreign forces nearby: 1 / (1 + foreign_suppression x foreign
troops per 100,000 residents) (S5).  Counts are Poisson; each event's size is a
discrete power law with exponent alpha ~ 2.5 (Bohorquez et al. 2009, Nature 462:
911).  In a battle the attacker takes a share of the losses that grows with the
target's strength; bombings (an actor's ``civilian_event_share_explosive``, and
the same share of its attacks on forces) cost the attacker nothing.

Deaths are in persons.  They are turned into agents per cell (region x
community for civilians, actor x region for fighters) by stochastic rounding
(floor plus a Bernoulli on the fraction) and applied to the candidates with the
smallest per-agent uniforms; at scale 1.0 that is exact and events' fatalities
sum to the deaths applied.  A foreign force's own losses are not residents and
are not applied.  Each event is logged in ACLED's vocabulary: an attack on civilians is
"Violence against civilians / Attack", or "Explosions/Remote violence" when it is a bombing; a
bombing is a "Suicide bomb" for an insurgency with probability ``suicide_share`` (about one in
ten in Iraq 2010-14) and otherwise "Remote explosive/landmine/IED"; a clash is "Battles / Armed
clash".  The typing draws from a stream of its own and changes no death.

State forces (and foreign forces) detain fighters of outlaw actors with a
monthly probability that rises with their local dominance; terms are uniform in
[term_min, term_max] months, and the released come back as civilians with more
hardship.
"""

from __future__ import annotations

import numpy as np

from ..kernels import discrete_power_law, select_in_cells
from ..population import CIV, DEAD, DETAINED, FIGHTER, NO_ACTOR, largest_remainder
from ..rng import stochastic_round
from ..scenario.params import Param
from ..scenario.schema import ActorKind
from ..world import KIND_CODES, World
from . import violence_kernels as vk
from .base import Module
from .record import MonthRecord
from .strength import STRENGTH_READS, compute_strength, foreign_deployment

# event type codes
BATTLE, EXPLOSION, VAC, ARREST = 0, 1, 2, 3
EVENT_TYPES = ("Battles", "Explosions/Remote violence", "Violence against civilians", "Strategic developments")
SUB_TYPES = (
    "Armed clash", "Remote explosive/landmine/IED", "Attack", "Arrests", "Suicide bomb",
    "Non-state actor overtakes territory", "Government regains territory",
)
SUB_CLASH, SUB_IED, SUB_ATTACK, SUB_ARREST, SUB_SUICIDE, SUB_OVERTAKES, SUB_GOV_REGAINS = range(7)

_RATE_KEY = {
    ActorKind.state_army: "rate_state",
    ActorKind.police: "rate_police",
    ActorKind.regional_guard: "rate_regional_guard",
    ActorKind.militia: "rate_militia",
    ActorKind.tribal: "rate_tribal",
    ActorKind.insurgency: "rate_insurgency",
    ActorKind.foreign_force: "rate_foreign",
}


class EventBuffer:
    """Events of the run as typed columns (chunks per month; a few thousand rows, not people)."""

    COLS = ("month", "day", "etype", "sub", "actor1", "actor2", "region", "fatalities", "civ")

    def __init__(self) -> None:
        self.chunks: list[dict[str, np.ndarray]] = []

    def add(self, **cols: np.ndarray) -> None:
        if len(cols["month"]):
            self.chunks.append({k: np.asarray(cols[k]) for k in self.COLS})

    def columns(self) -> dict[str, np.ndarray]:
        if not self.chunks:
            return {k: np.zeros(0, np.int64) for k in self.COLS}
        return {k: np.concatenate([c[k] for c in self.chunks]) for k in self.COLS}


class Violence(Module):
    name = "violence"
    title = "Violence: events, deaths, detentions"
    PARAMS = {
        "rate_insurgency": Param(domain="rate", value=170.0, range=(70.0, 400.0), source="calibrated (<=2012)", note="attacks per month per (1,000 strength)^theta"),
        "rate_militia": Param(domain="rate", value=6.0, range=(1.0, 20.0), source="calibrated (<=2012)"),
        "rate_tribal": Param(domain="rate", value=1.0, range=(0.25, 4.0), source="assumption"),
        "rate_regional_guard": Param(domain="rate", value=0.5, range=(0.0, 3.0), source="assumption"),
        "rate_state": Param(domain="rate", value=0.5, range=(0.1, 2.0), source="assumption"),
        "rate_police": Param(domain="rate", value=0.3, range=(0.05, 1.5), source="assumption"),
        "rate_foreign": Param(domain="rate", value=0.5, range=(0.1, 2.0), source="assumption"),
        "theta": Param(domain="non-negative number", value=1.0, range=(0.8, 1.0), source="assumption", note="returns to scale of attacks in strength"),
        "K_civ": Param(domain="positive number", value=20000.0, range=(5000.0, 100000.0), source="assumption", note="civilians (persons) at which a target community is half available"),
        "K_act": Param(domain="positive number", value=200.0, range=(50.0, 1000.0), source="assumption", note="strength at which a target actor is half available"),
        "kappa_find": Param(domain="non-negative number", value=1.0, range=(0.3, 3.0), source="assumption", note="how much an attacker's own size dilutes its chance of finding a target actor"),
        "alpha_civ": Param(domain="power-law exponent", value=2.5, range=(2.2, 2.8), source="Bohorquez et al. (2009) Nature 462: 911 (alpha ~ 2.5)"),
        "alpha_battle": Param(domain="power-law exponent", value=2.5, range=(2.2, 2.8), source="Bohorquez et al. (2009) Nature 462: 911 (alpha ~ 2.5)"),
        "xmax": Param(domain="positive number", value=400, range=(150, 1000), source="assumption", note="largest single event (persons killed)"),
        "foreign_suppression": Param(domain="non-negative number", value=0.0005, range=(0.0, 0.005), source="calibrated (<=2012)", note="per foreign soldier per 100k residents (S5)"),
        "battle_exchange": Param(domain="share", value=0.6, range=(0.3, 0.9), source="assumption", note="attacker's share of a clash's losses against a much stronger force (half that against an equal one)"),
        "detention_rate": Param(domain="probability", value=0.04, range=(0.01, 0.1), source="assumption", note="monthly probability for an outlaw fighter under full state dominance"),
        "term_min": Param(domain="non-negative number", value=3, range=(1, 6), source="assumption", note="months"),
        "term_max": Param(domain="non-negative number", value=36, range=(12, 60), source="assumption", note="months"),
        "release_hardship": Param(domain="non-negative number", value=0.15, range=(0.0, 0.3), source="assumption", note="hardship added by detention (the 'Camp Bucca' effect)"),
        "haven_quality": Param(domain="non-negative number", value=0.5, range=(0.0, 1.5), source="assumption", note="insurgent strength boost from a war next door"),
        "suicide_share": Param(domain="share", value=0.08, range=(0.03, 0.15), source="assumption: suicide attacks were a minority of bombings in Iraq 2010-2014, roughly one in ten (order of magnitude of the CPOST Suicide Attack Database's yearly counts for Iraq against the Global Terrorism Database's bombings)", note="share of an insurgency's bombings coded ACLED 'Suicide bomb' (the rest 'Remote explosive/landmine/IED'); event typing only, no effect on deaths"),
        "haven_detention": Param(domain="share", value=0.5, range=(0.0, 0.9), source="assumption", note="cut in detention risk for insurgents with a haven next door"),
    }
    STATE = (
        "events", "rounding_var", "civ_deaths_rc", "civ_deaths_by_other_rc", "fighter_deaths_ar", "battle_deaths_r",
        "army_losses_r", "applied_deaths", "detentions_a", "releases_a", "attacks_ar",
    )
    READS = STRENGTH_READS
    RESULTS = (
        ("regional", "civilian_deaths"), ("regional", "battle_deaths"), ("regional", "attacks"),
        ("national", "civilian_deaths"), ("national", "battle_deaths"), ("national", "attacks"),
        ("national", "detentions_{actor}"),
    )

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.k_civilians = world.kernels.pick(vk.select_civilians_numpy, vk.select_civilians_numba)
        self.k_detain = world.kernels.pick(vk.detain_numpy, vk.detain_numba)

    def define_states(self) -> None:
        w = self.world
        R, C, A = w.R, w.C, w.A
        self.events = self.define("events", EventBuffer())
        self.define("rounding_var", 0.0)  # variance (persons squared) of rounding deaths to agents
        self.define_log("civ_deaths_rc", (R, C))  # civilians killed by region x community: events' fatalities (persons)
        self.define_log("civ_deaths_by_other_rc", (R, C))  # ... of them killed by actors not of their community
        self.define_log("fighter_deaths_ar", (A, R))  # fighters killed by actor x region (persons)
        self.define_log("battle_deaths_r", (R,))  # fighters killed in events between armed actors (persons)
        self.define_log("army_losses_r", (R,))
        self.define_log("applied_deaths", (2,))  # [civilians, fighters] agents marked dead x weight (persons)
        self.define_log("detentions_a", (A,))
        self.define_log("releases_a", (A,))
        self.define_log("attacks_ar", (A, R))

    def init(self) -> None:
        w = self.world
        self.rate = np.array([self.p[_RATE_KEY[ActorKind(list(KIND_CODES)[k])]] for k in w.kind]) * w.tempo

    def step(self, t: int) -> None:
        w, p = self.world, self.p
        self._release(t)
        S = compute_strength(w)
        cen = w.census()
        civ = cen.civ_rc().astype(np.float64) * w.w  # R x C persons
        pop_r = cen.alive_rc().sum(1).astype(np.float64) * w.w
        foreign_100k = foreign_deployment(w).sum(0) / np.maximum(pop_r, 1.0) * 1e5
        supp = np.where(w.outlaw[:, None], 1.0 / (1.0 + p["foreign_suppression"] * foreign_100k[None, :]), 1.0)
        lam = self.rate[:, None] * (S / 1000.0) ** p["theta"] * supp  # A x R
        lam[S <= 0] = 0.0
        # a target actor is available in proportion to its size relative to the attacker's: a large
        # army finds a small insurgency only now and then (counter-insurgency events scale with the
        # insurgents' strength), while a small insurgency always finds the army
        wa = w.hostile[:, :, None] * (S[None, :, :] / (S[None, :, :] + p["K_act"] + p["kappa_find"] * S[:, None, :]))
        wa[:, ~w.has_agents & ~w.is_foreign, :] = 0.0
        wc = w.hostile_civ[:, :, None] * (civ / (civ + p["K_civ"])).T[None, :, :]  # a, c, r
        tot = wa.sum(1) + wc.sum(1)  # a, r
        f = lam / np.maximum(1.0, tot)
        g = w.gen("violence.count", t)
        n_act = g.poisson(wa * f[:, None, :])
        n_civ = g.poisson(wc * f[:, None, :])
        w.log.attacks_ar += n_act.sum(1) + n_civ.sum(1)
        gs = w.gen("violence.size", t)

        # ---- civilian events
        a_i, c_i, r_i = np.nonzero(n_civ)
        reps = n_civ[a_i, c_i, r_i]
        ev_a = np.repeat(a_i, reps)
        ev_c = np.repeat(c_i, reps)
        ev_r = np.repeat(r_i, reps)
        x_civ = discrete_power_law(gs, p["alpha_civ"], 1, int(p["xmax"]), ev_a.size)
        expl = gs.random(ev_a.size) < w.explosive_share[ev_a]
        # ---- battles
        a_j, j_j, r_j = np.nonzero(n_act)
        reps = n_act[a_j, j_j, r_j]
        bt_a = np.repeat(a_j, reps)
        bt_j = np.repeat(j_j, reps)
        bt_r = np.repeat(r_j, reps)
        x_bt = discrete_power_law(gs, p["alpha_battle"], 1, int(p["xmax"]), bt_a.size)
        bt_expl = gs.random(bt_a.size) < w.explosive_share[bt_a]
        Sa = S[bt_a, bt_r]
        Sj = S[bt_j, bt_r]
        p_att = p["battle_exchange"] * Sj / np.maximum(Sa + Sj, 1e-9)
        p_att = np.clip(np.where(bt_expl, 0.0, p_att), 0.0, 1.0)
        att_d = gs.binomial(x_bt, p_att)
        tgt_d = x_bt - att_d
        # foreign forces' losses are not residents of the country
        att_d = np.where(w.is_foreign[bt_a], 0, att_d)
        tgt_d = np.where(w.is_foreign[bt_j], 0, tgt_d)

        # ---- apply deaths: civilians by (r, c), fighters by (actor, r)
        gr = w.gen("violence.round", t)
        want_civ = np.zeros((w.R, w.C))
        np.add.at(want_civ, (ev_r, ev_c), x_civ)
        k_civ, applied_civ = self._apply_civilians(t, want_civ, cen, gr)
        want_f = np.zeros((w.A, w.R))
        np.add.at(want_f, (bt_j, bt_r), tgt_d)
        np.add.at(want_f, (bt_a, bt_r), att_d)
        k_f, applied_f = self._apply_fighters(t, want_f, cen, gr)

        # rescale event fatalities where a cell ran out of people (exact at scale 1)
        x_civ = _rescale(x_civ, (ev_r, ev_c), self.capped_civ, applied_civ)
        tgt_d, att_d = _rescale_pair(tgt_d, att_d, (bt_j, bt_r), (bt_a, bt_r), self.capped_f, applied_f)

        # ---- month log: events' fatalities in persons (scale-free inputs for fear, security and
        # cohesion); the deaths applied to agents are logged apart (they conserve people)
        civ_rc = np.zeros((w.R, w.C))
        np.add.at(civ_rc, (ev_r, ev_c), x_civ)
        other = w.actor_comm[ev_a, ev_c] < 0.5
        per_other = np.zeros((w.R, w.C))
        np.add.at(per_other, (ev_r[other], ev_c[other]), x_civ[other])
        f_ar = np.zeros((w.A, w.R))
        np.add.at(f_ar, (bt_j, bt_r), tgt_d)
        np.add.at(f_ar, (bt_a, bt_r), att_d)
        w.log.civ_deaths_rc += civ_rc
        w.log.civ_deaths_by_other_rc += per_other
        w.log.fighter_deaths_ar += f_ar
        w.log.battle_deaths_r += f_ar.sum(0)
        w.log.army_losses_r += f_ar[w.army_i]
        w.log.applied_deaths += (applied_civ.sum(), applied_f.sum())

        # ---- events table
        gd = w.gen("violence.day", t)
        nd = w.days_in_month(t)
        # an insurgency's bombings are suicide attacks with probability suicide_share (a stream
        # of its own: typing events draws nothing from the streams that decide deaths)
        gt = w.gen("violence.type", t)
        civ_suicide = (gt.random(ev_a.size) < p["suicide_share"]) & w.is_insurgency[ev_a]
        bt_suicide = (gt.random(bt_a.size) < p["suicide_share"]) & w.is_insurgency[bt_a]
        civ_type = np.where(expl, EXPLOSION, VAC)
        civ_sub = np.where(expl, np.where(civ_suicide, SUB_SUICIDE, SUB_IED), SUB_ATTACK)
        bt_type = np.where(bt_expl, EXPLOSION, BATTLE)
        bt_sub = np.where(bt_expl, np.where(bt_suicide, SUB_SUICIDE, SUB_IED), SUB_CLASH)
        self.events.add(
            month=np.full(ev_a.size, t), day=gd.integers(1, nd + 1, ev_a.size), etype=civ_type, sub=civ_sub,
            actor1=ev_a, actor2=-(ev_c + 1), region=ev_r, fatalities=x_civ, civ=np.ones(ev_a.size, bool),
        )
        self.events.add(
            month=np.full(bt_a.size, t), day=gd.integers(1, nd + 1, bt_a.size), etype=bt_type, sub=bt_sub,
            actor1=bt_a, actor2=bt_j, region=bt_r, fatalities=tgt_d + att_d, civ=np.zeros(bt_a.size, bool),
        )
        self._detain(t, S, gd, nd)
        w.changed()

    # ------------------------------------------------------------------
    def _apply_civilians(self, t, want, cen, g) -> tuple[np.ndarray, np.ndarray]:
        w = self.world
        ppl = w.people
        avail = cen.civ_rc()
        k = stochastic_round(want * w.scale, g.random(want.shape))
        self.capped_civ = k > avail
        self._rounding_variance(want, self.capped_civ)
        k = np.minimum(k, avail)
        if k.sum() == 0:
            return k, np.zeros_like(want)
        sel = self.k_civilians(
            ppl.status, ppl.region, ppl.community, w.C, k.reshape(-1), avail.reshape(-1), w.rng.key("violence.kill", t),
            w.scratch8(), w.flagged,
        )
        with w.changing(sel):
            ppl.status[sel] = DEAD
            ppl.timer[sel] = 0
        return k, k * w.w

    def _apply_fighters(self, t, want, cen, g) -> tuple[np.ndarray, np.ndarray]:
        w = self.world
        ppl = w.people
        avail = cen.fighters_ar()
        k = stochastic_round(want * w.scale, g.random(want.shape))
        self.capped_f = k > avail
        self._rounding_variance(want, self.capped_f | ~w.has_agents[:, None])
        k = np.minimum(k, avail)
        k[~w.has_agents] = 0
        if k.sum() == 0:
            return k, np.zeros_like(want)
        fidx = w.fighter_idx
        alive = ppl.status[fidx] == FIGHTER
        cell = np.where(alive, ppl.actor[fidx].astype(np.int32) * w.R + ppl.region[fidx], -1)
        sel = select_in_cells(
            cell, k.reshape(-1), avail.reshape(-1), lambda i: w.rng.agent_uniforms("violence.kill_f", t, fidx[i])
        )
        with w.changing(fidx[sel]):
            ppl.status[fidx[sel]] = DEAD
            ppl.timer[fidx[sel]] = 0
        return k, k * w.w

    def _rounding_variance(self, want: np.ndarray, capped: np.ndarray) -> None:
        """Accumulate the variance (persons squared) of the stochastic rounding of deaths to agents.

        Events' fatalities and the deaths applied to agents differ only by this rounding
        (capped cells are rescaled to match), so their difference has this variance.
        """
        w = self.world
        x = want * w.scale
        f = x - np.floor(x)
        w.rounding_var += float((f * (1 - f))[~capped].sum()) * w.w * w.w

    def _release(self, t: int) -> None:
        w, p = self.world, self.p
        ppl = w.people
        if w.live_count(DETAINED) == 0:
            return
        det = w.kernels.where_eq(ppl.status, DETAINED)
        if det.size == 0:
            return
        ppl.term[det] -= 1
        out = det[ppl.term[det] <= 0]
        if out.size:
            w.log.releases_a += np.bincount(ppl.actor[out].astype(np.int64), minlength=w.A) * w.w
            with w.changing(out):
                ppl.status[out] = CIV
                ppl.actor[out] = NO_ACTOR
                ppl.timer[out] = 0
            ppl.hardship[out] = np.minimum(1.0, ppl.hardship[out] + p["release_hardship"]).astype(np.float32)
            w.changed()

    def _detain(self, t: int, S: np.ndarray, gd, nd: int) -> None:
        w, p = self.world, self.p
        ppl = w.people
        fidx = w.fighter_idx
        if fidx.size == 0:
            return
        state_S = S[w.is_state | w.is_foreign].sum(0)  # R
        haven = np.where(w.is_insurgency[:, None], 1.0 - p["haven_detention"] * w.regional_war * np.where(w.border, 1.0, 0.5)[None, :], 1.0)
        d = p["detention_rate"] * state_S[None, :] / (state_S[None, :] + S + 1.0) * haven  # A x R
        sel = self.k_detain(
            fidx, ppl.status, ppl.actor, ppl.region, w.outlaw, np.ascontiguousarray(d), np.uint64(w.rng.key("violence.detain", t))
        )
        if sel.size == 0:
            return
        lo, hi = int(p["term_min"]), int(p["term_max"])
        u2 = w.rng.agent_uniforms("violence.term", t, sel)
        with w.changing(sel):
            ppl.status[sel] = DETAINED
        ppl.term[sel] = (lo + np.floor(u2 * (hi - lo + 1))).astype(np.int16)
        ppl.timer[sel] = 0
        ga, gr = ppl.actor[sel].astype(np.int64), ppl.region[sel].astype(np.int64)
        w.log.detentions_a += np.bincount(ga, minlength=w.A) * w.w
        # one arrests event per (actor, region), by the strongest state force there
        cnt = np.zeros((w.A, w.R), np.int64)
        np.add.at(cnt, (ga, gr), 1)
        ai, ri = np.nonzero(cnt)
        st = np.flatnonzero(w.is_state | w.is_foreign)
        by = st[np.argmax(S[st][:, ri], axis=0)] if ri.size else np.zeros(0, np.int64)
        self.events.add(
            month=np.full(ai.size, t), day=gd.integers(1, nd + 1, ai.size), etype=np.full(ai.size, ARREST),
            sub=np.full(ai.size, SUB_ARREST), actor1=by, actor2=ai, region=ri, fatalities=np.zeros(ai.size, np.int64),
            civ=np.zeros(ai.size, bool),
        )

    def record(self, t: int, out: MonthRecord) -> None:
        w = self.world
        lg = w.log
        out.reg["civilian_deaths"] = lg.civ_deaths_rc.sum(1)
        out.reg["battle_deaths"] = lg.battle_deaths_r
        out.reg["attacks"] = lg.attacks_ar.sum(0)
        out.nat["civilian_deaths"] = lg.civ_deaths_rc.sum()
        out.nat["battle_deaths"] = lg.battle_deaths_r.sum()
        out.nat["attacks"] = lg.attacks_ar.sum()
        for ai, a in enumerate(w.act.ids):
            out.nat[f"detentions_{a}"] = lg.detentions_a[ai]


def _rescale(x: np.ndarray, key: tuple[np.ndarray, np.ndarray], short: np.ndarray, applied: np.ndarray) -> np.ndarray:
    """Scale event sizes down in cells that ran out of people (``short``).

    The events of such a cell then share exactly the deaths applied there (largest
    remainder), so at scale 1.0 events' fatalities always sum to the deaths applied.
    """
    if not short.any() or x.size == 0:
        return x
    x = x.astype(np.int64).copy()
    ev_short = short[key]
    for cell in zip(*np.nonzero(short), strict=True):
        m = np.flatnonzero(ev_short & (key[0] == cell[0]) & (key[1] == cell[1]))
        if m.size == 0:
            continue
        target = int(round(applied[cell]))
        x[m] = largest_remainder(target, x[m].astype(np.float64))
    return x


def _rescale_pair(tgt, att, key_t, key_a, short, applied):
    """As :func:`_rescale` for battles, whose deaths fall on two cells (target and attacker)."""
    if not short.any() or tgt.size == 0:
        return tgt, att
    tgt = tgt.astype(np.int64).copy()
    att = att.astype(np.int64).copy()
    for cell in zip(*np.nonzero(short), strict=True):
        mt = np.flatnonzero((key_t[0] == cell[0]) & (key_t[1] == cell[1]))
        ma = np.flatnonzero((key_a[0] == cell[0]) & (key_a[1] == cell[1]))
        vals = np.r_[tgt[mt], att[ma]].astype(np.float64)
        if vals.sum() <= 0:
            continue
        new = largest_remainder(int(round(applied[cell])), vals)
        tgt[mt] = new[: mt.size]
        att[ma] = new[mt.size :]
    return tgt, att
