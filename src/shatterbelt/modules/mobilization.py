"""Step 6 - Mobilization: Epstein's activation rule, extended to many armed actors that must pay.

A fighting-age civilian i in region r of community c weighs every armed actor a
that is present in r and recruits from c (state forces recruit from all):

    net_a(i) = m_g G_i + m_f F[r,c] + m_p pay_a + m_l L[r,c] + m_i ideology_a,r
               - R_i P[a,r] - T_a

with G_i = H_i (1 - L[r,c]) (Epstein's grievance), F the fear of the security
dilemma, pay_a = pay / (pay + civilian wage) x the share of pay that arrives,
ideology_a,r a constant pull plus, for an insurgency, the haven of a war next
door, and P[a,r] = 1 - exp(-k hostile strength / (1 + own strength)) the
perceived risk (Epstein's C/A ratio, k = 2.3).  The weights m are the actor's
``motivation`` in the scenario: rebels are moved by grievance, militias by fear,
soldiers by pay and legitimacy.

i is eligible for the actor with the largest positive net, and joins with
probability join_rate.  Pay is one pull among several, not a cap: a non-state
actor takes eligible people whatever it can pay (unpaid volunteers are persons),
as many as its members' social ties reach (``network_rate`` recruits a month per
member; Humphreys & Weinstein 2008), and pay and arrears act on retention.  An actor that cannot pay everyone pays a
smaller share (its pay pull falls with it), and its opportunists (the pay share
of its motivation) drift away: fighters leave when the inequality fails by a
margin (rate leave_rate), when pay has not come for ``unpaid_max`` months, and
at ``excess_leave`` x the unpaid share of the ranks, each weighted by how much
the actor's fighters joined for pay (Weinstein 2007: rich groups recruit
opportunists, poor ones the committed).  State forces recruit from all
communities, and forces on a public payroll (auxiliaries such as the Sons of
Iraq, a regional guard) from their own, up to their authorised strength (the
documented 2010 strength x ``authorised_ratio``) while the budget pays them.  The insurgency's pull grows
with the premiership vacuum (``vacuum_pull`` x min(1, vacuum months / 12), S6).  Deserting
soldiers go home.

Foreign fighters are persons.  While there is a war next door, ``foreign_inflow`` x its
intensity persons a month (in agents: x the population scale, the fraction carried to the
next month) arrive from a pool of slots reserved after the residents
(:func:`shatterbelt.population.foreign_pool_size`).  They go to the insurgent actors the
scenario marks ``foreign_fighters`` (all insurgent actors if none is marked) in
proportion to their fighters (the networks that draw volunteers in: the more the
insurgency has grown, the more arrive to it), arrive where it has fighters in the border
regions (anywhere it has fighters if none there), belong to its main community and are of
fighting age.  They are fighters like any other, subject to the same leaving rule, deaths and detention; one who leaves, or
whose detention ends, goes home (status ``ABSENT``, no longer a person of the country), so
they never join the civilian population.  People are conserved: alive + dead = residents +
arrivals - departures.
"""

from __future__ import annotations

import numpy as np

from ..kernels import group_rank_select, smallest_sorted
from ..population import ABSENT, CIV, DETAINED, FIGHTER, NO_ACTOR, largest_remainder
from ..scenario.params import Param
from ..world import MOTIVES, World
from . import mobilization_kernels as mk
from .base import Module
from .record import MonthRecord
from .strength import STRENGTH_READS, compute_strength

G_, F_, PAY_, L_, IDEO_ = (MOTIVES.index(m) for m in ("grievance", "fear", "pay", "legitimacy", "ideology"))


class Mobilization(Module):
    name = "mobilization"
    title = "Mobilization: joining and leaving armed actors (Epstein, extended)"
    PARAMS = {
        "k_risk": Param(domain="non-negative number", value=2.3, range=(1.0, 4.0), source="Epstein (2002) PNAS 99 suppl. 3, k = 2.3"),
        "threshold": Param(domain="number", value=0.1, range=(0.05, 0.3), source="Epstein (2002), T = 0.1 (default for actors without their own)"),
        "join_rate": Param(domain="share", value=0.05, range=(0.01, 0.2), source="assumption", note="share of the eligible who act on it in a month"),
        "leave_rate": Param(domain="share", value=0.1, range=(0.02, 0.3), source="assumption"),
        "leave_margin": Param(domain="non-negative number", value=0.1, range=(0.0, 0.3), source="assumption"),
        "unpaid_max": Param(domain="non-negative number", value=3, range=(1, 6), source="assumption", note="months without pay before fighters start to leave"),
        "unpaid_leave": Param(domain="share", value=0.15, range=(0.05, 0.4), source="assumption"),
        "excess_leave": Param(domain="share", value=0.5, range=(0.2, 1.0), source="assumption", note="share of the excess over capacity shed per month"),
        "wage_ref": Param(domain="positive number", value=400.0, range=(250.0, 600.0), source="assumption", note="civilian monthly wage, USD"),
        "presence_min": Param(domain="count", value=50.0, range=(10.0, 200.0), source="assumption", note="fighters (persons) for an actor to be present"),
        "spread_share": Param(domain="share", value=0.15, range=(0.05, 0.4), source="assumption", note="control share next door from which an actor that spreads becomes present"),
        "candidate_min_share": Param(domain="share", value=0.2, range=(0.1, 0.5), source="assumption", note="an actor recruits from communities making up at least this share of its base"),
        "pool_ratio": Param(domain="non-negative number", value=3.0, range=(1.5, 10.0), source="assumption", note="people above an actor's calibrated threshold at the start, per fighter it has"),
        "haven_pull": Param(domain="non-negative number", value=0.3, range=(0.0, 0.6), source="assumption", note="ideological pull of a war next door on insurgent recruits"),
        "vacuum_pull": Param(domain="non-negative number", value=0.05, range=(0.0, 0.15), source="seed claim", note="S6: added to the insurgency's net pull in a full year of premiership vacuum"),
        "network_rate": Param(domain="rate", value=0.08, range=(0.01, 0.15), source="calibrated (<=2012)", note="recruits a non-state actor's members can bring in a month, per member (social ties; Humphreys & Weinstein 2008)"),
        "defect_share": Param(domain="share", value=0.0, range=(0.0, 0.5), source="calibrated (<=2012)", note="share of those leaving an actor who go over at once to the actor pulling them most, if any pulls (0.1 and above put 2012 battle deaths at x2 of UCDP)"),
        "foreign_inflow": Param(
            domain="non-negative number", value=100.0, range=(0.0, 400.0),
            source="assumption: the order of magnitude US military statements gave for foreign fighters entering Iraq through Syria in 2006-07 (about 60-110 a month; Felter & Fishman 2007, Al-Qa'ida's Foreign Fighters in Iraq: A First Look at the Sinjar Records, CTC West Point)",
            note="foreign fighters arriving a month (persons) at full intensity of the war next door; 0 switches the channel off",
        ),
        "authorised_ratio": Param(domain="multiplier", value=1.0, range=(0.9, 1.3), source="assumption", note="state forces' authorised strength over their documented 2010 strength"),
    }
    STATE = (
        "present", "risk", "threshold", "recruits_a", "leavers_a", "defectors_a", "ff_arrivals_a", "ff_departures_a",
        "ff_next", "ff_due", "ff_arrived", "ff_departed", "active_a",
    )
    READS = (
        *STRENGTH_READS, "pay_reliability", "capacity", "paid_frac", "unpaid_months", "L", "fear", "control", "strength",
        "vacuum_months", "gov",
    )
    USES = ("army", "legitimacy")
    RESULTS = (
        ("regional", "fighters_{actor}"), ("national", "insurgent_fighters"), ("national", "fighters_{actor}"),
        ("national", "recruits_{actor}"), ("national", "defections"),
    )

    def __init__(self, world: World) -> None:
        super().__init__(world)
        pick = world.kernels.pick
        self.k_init = pick(mk.init_candidates_numpy, mk.init_candidates_numba)
        self.k_best = pick(mk.best_actor_numpy, mk.best_actor_numba)
        self.k_join = pick(mk.join_numpy, mk.join_numba)
        self.k_leave = pick(mk.leave_numpy, mk.leave_numba)
        # the months each actor exists: [t_from, t_until] (month indices from the start; -1 and a far
        # month for the whole run, which may be cut short by ``until``)
        y0, m0 = map(int, world.sc.start.split("-"))

        def index(month: str) -> int:
            y, m = map(int, month.split("-"))
            return (y - y0) * 12 + (m - m0)

        acts = world.sc.actors
        self.t_from = np.array([index(a.active_from) if a.active_from else -1 for a in acts], np.int64)
        self.t_until = np.array([index(a.active_until) if a.active_until else 1 << 40 for a in acts], np.int64)

    def active(self, t: int) -> np.ndarray:
        """Actors that exist in month t (``t = -1``: at the start)."""
        return (self.t_from <= max(t, 0)) & (t <= self.t_until)

    def define_states(self) -> None:
        w = self.world
        A, R = w.A, w.R
        self.payroll_force = w.is_state | (w.state_budget_share > 0) | (w.regional_budget_share > 0)
        self.define("present", w.region_w > 0, (A, R), bool)  # where each actor may recruit
        self.define("risk", 0.0, (A, R))  # perceived risk of fighting for each actor there
        default_T = self.p.get("threshold", 0.1)
        self.define("threshold", np.array([a.threshold.value if a.threshold else default_T for a in w.sc.actors]), (A,))
        self.define_log("recruits_a", (A,))  # persons who joined this month
        self.define_log("leavers_a", (A,))  # persons who left this month (not deserters of a collapse)
        self.define_log("defectors_a", (A,))  # persons who came over from another actor this month
        self.define_log("ff_arrivals_a", (A,))  # foreign fighters (persons) who arrived this month
        self.define_log("ff_departures_a", (A,))  # foreign fighters (persons) who went home this month
        self.define("ff_next", w.people.residents)  # the next foreign slot to activate
        self.define("ff_due", 0.0)  # arrivals (agents) owed to the next months: the fraction not yet a person
        self.define("ff_arrived", 0)  # foreign fighters (agents) arrived since the start
        self.define("ff_departed", 0)  # foreign fighters (agents) gone home since the start
        self.define("active_a", self.active(-1), (A,), bool)  # actors that exist this month (active_from / active_until)

    def init_pre(self) -> None:
        """Seat each actor's documented starting size: fighting-age civilians of its base where it operates.

        Who among them is a fighter is drawn here (the smallest per-agent uniforms of each cell);
        :meth:`init` then replaces, region by region, those least motivated by those most
        motivated, keeping each region's number.
        """
        w = self.world
        self._seat(np.flatnonzero(w.has_agents & (self.t_from <= 0)), w.rng.key("init.fighters", 0), civilians_only=False)
        # deployment of soldiers, allegiance of state forces
        ppl = w.people
        army = np.flatnonzero((ppl.status == FIGHTER) & (ppl.actor == w.army_i))
        army_mod = self.dep("army")
        army_mod.deploy(army, month=-1)
        state_members = np.flatnonzero((ppl.status == FIGHTER) & w.is_state[np.maximum(ppl.actor, 0)])
        army_mod.draw_allegiance(state_members, month=-1)
        w.touched()

    def _seat(self, actors: np.ndarray, key: int, civilians_only: bool) -> np.ndarray:
        """Make fighters of the given actors' documented starting size: fighting-age people of each
        actor's base in its regions (by ``regions`` shares), the smallest per-agent uniforms of each
        (home region, community) cell.  ``civilians_only`` (an actor entering during the run) takes
        only civilians living in their home region.  Returns the persons seated."""
        w = self.world
        ppl = w.people
        counts = w.cell_n0
        R, C, A = w.R, w.C, w.A
        sc = w.sc
        # target agents per actor x home region x community
        want = np.zeros((A, R, C), np.int64)
        fa_share = float(sc.population.fighting_age_share.value)
        for a in actors:
            n_a = int(round(w.size0[a] * w.scale))
            if n_a <= 0:
                continue
            if w.is_army[a]:
                # soldiers come from every region by the army's community mix, in proportion to
                # each cell's fighting-age population; deployment is drawn afterwards
                mix = np.zeros(C)
                for c, s in sc.army.community_mix.items():
                    mix[w.comm[c]] = s
                nat = counts.sum(0) / max(counts.sum(), 1)
                wgt = counts * np.where(nat > 0, mix / np.maximum(nat, 1e-12), 0.0)[None, :]
                wgt[w.autonomous] = 0.0
            else:
                comm_w = w.actor_comm[a] if not w.open_recruit[a] else np.ones(C)
                wgt = w.region_w[a][:, None] * counts * comm_w[None, :]
                # normalise within region so the region weights are respected
                rs = wgt.sum(1, keepdims=True)
                wgt = np.where(rs > 0, wgt / np.maximum(rs, 1e-12), 0.0) * w.region_w[a][:, None]
            want[a] = largest_remainder(n_a, wgt.reshape(-1)).reshape(R, C)
        # never more than 90% of a cell's fighting-age men
        cap = (counts * fa_share * 0.9).astype(np.int64)
        tot = want.sum(0)
        over = tot > cap
        if over.any():
            f = np.where(over, cap / np.maximum(tot, 1), 1.0)
            want = np.floor(want * f[None]).astype(np.int64)
        seated = []
        for r in range(R):
            for c in range(C):
                k = want[:, r, c]
                if k.sum() == 0:
                    continue
                s = w.block_start[r, c]
                e = s + counts[r, c]
                blk = np.arange(s, e)
                ok = ppl.fighting_age[s:e]
                if civilians_only:
                    ok = ok & (ppl.status[s:e] == CIV) & (ppl.region[s:e] == r)
                elig = blk[ok]
                # the k.sum() smallest uniforms in (uniform, index) order: a stable argsort's first entries
                order = elig[smallest_sorted(w.kernels.agent_uniforms(key, elig), min(int(k.sum()), elig.size))]
                pos = 0
                for a in np.flatnonzero(k):
                    sel = order[pos : pos + k[a]]
                    pos += k[a]
                    ppl.status[sel] = FIGHTER
                    ppl.actor[sel] = a
                    seated.append(sel)
        return np.concatenate(seated) if seated else np.zeros(0, np.int64)

    def _pulls(self, vacuum: bool = True) -> np.ndarray:
        """Presence, risk P[a, r] and the per-region part of the net pull (without the threshold);
        ``vacuum=False`` leaves out the vacuum's pull (the calibration's reference)."""
        w, p = self.world, self.p
        cen = w.census()
        S = compute_strength(w)
        self._presence(cen, S)
        own = S + 1.0
        hostile = w.danger.T @ S  # A x R: strength hostile to each actor
        w.risk = 1.0 - np.exp(-p["k_risk"] * hostile / own)
        payattr = w.pay / (w.pay + p["wage_ref"]) * np.minimum(1.0, w.paid_frac) * w.pay_reliability
        ideo = np.ones((w.A, w.R))
        if w.regional_war > 0:
            ideo[w.is_insurgency] += p["haven_pull"] * w.regional_war * np.where(w.border, 1.0, 0.5)
        M = w.motivation
        base = M[:, PAY_, None] * payattr[:, None] + M[:, IDEO_, None] * ideo  # A x R
        if vacuum and w.gov.caretaker and p["vacuum_pull"] > 0:
            # S6: the insurgency revives while the blocs fight over the premiership
            base[w.is_insurgency] += p["vacuum_pull"] * min(1.0, w.vacuum_months / 12.0)
        return base

    def init(self) -> None:
        """Calibrate joining thresholds to the documented sizes and seat the most motivated as fighters.

        Thresholds T_a are not observable; sizes are.  Unless the scenario gives an actor's
        threshold, T_a is set so that the number of people for whom the actor's net pull
        exceeds T_a is ``pool_ratio`` times its starting size (a reserve of potential
        recruits).  A non-state actor's starting fighters are then the people of its
        regions with the largest pull toward it (those most motivated to be fighters in
        2010), keeping its documented size in each region.

        The reference is the start's situation *without* a premiership vacuum: the
        vacuum's pull on insurgents and its legitimacy penalty are left out, so the
        thresholds are the same whether or not (and however long) a vacuum is going on,
        and a vacuum acts on recruitment as a departure from the calibrated balance (S6)
        rather than being absorbed into it.
        """
        w, p = self.world, self.p
        ppl = w.people
        base = self._pulls(vacuum=False)
        L_ref = self.dep("legitimacy").target(0.0)  # type: ignore[attr-defined]
        M = w.motivation
        given = np.array([a.threshold is not None for a in w.sc.actors])
        minshare = p["candidate_min_share"]
        self.calibrated_thresholds: dict[str, float] = {}
        for a in np.flatnonzero(w.has_agents):
            ok_comm = w.open_recruit[a] | (w.actor_comm[a] >= minshare)
            home = ppl.origin if w.is_state[a] else ppl.region
            later = self.t_from[a] > 0  # enters during the run: calibrated on its regions and documented size
            where = (w.present[a] | (w.region_w[a] > 0)) if later else w.present[a]
            cand, r, net = self.k_init(
                ppl.fighting_age, ppl.status, ppl.actor, home, ppl.community, ppl.hardship, ppl.risk, a,
                np.ascontiguousarray(where), ok_comm, M[a, G_], M[a, F_], M[a, L_], np.ascontiguousarray(L_ref),
                np.ascontiguousarray(w.fear), np.ascontiguousarray(base[a]), np.ascontiguousarray(w.risk[a]),
                w.scratch8(),
            )
            if cand.size == 0:
                continue
            if not given[a]:
                n_members = int(((ppl.status[cand] == FIGHTER)).sum())
                if later:
                    n_members = int(round(w.size0[a] * w.scale))
                n_pool = int(min(cand.size, max(1, round(p["pool_ratio"] * max(n_members, 1)))))
                T = float(np.partition(net, cand.size - n_pool)[cand.size - n_pool])
                w.threshold[a] = T
                self.calibrated_thresholds[w.act.ids[a]] = round(T, 6)
            if later:
                continue
            members = ppl.status[cand] == FIGHTER
            k = np.bincount(r[members], minlength=w.R)
            pos = group_rank_select(r, -net, k)
            chosen = np.zeros(cand.size, bool)
            chosen[pos] = True
            out = cand[members & ~chosen]
            inn = cand[chosen & ~members]
            ppl.status[out] = CIV
            ppl.actor[out] = NO_ACTOR
            ppl.allegiance[out] = -1
            ppl.region[out] = ppl.origin[out]
            ppl.status[inn] = FIGHTER
            ppl.actor[inn] = a
            if a == w.army_i:
                self.dep("army").deploy(inn, -1)
            if w.is_state[a]:
                self.dep("army").draw_allegiance(inn, -1)
            w.touched()

    def step(self, t: int) -> None:
        w, p = self.world, self.p
        ppl = w.people
        first_new = w.ff_next  # this month's arrivals, like its recruits, do not leave this month
        self._enter_and_exit(t)
        if ppl.pool:
            self._foreign_departures()
            self._foreign_arrivals(t)
        cen = w.census()
        M = w.motivation
        const = self._pulls() - w.threshold[:, None]  # A x R

        fighters_a = cen.fighters_ar().sum(1)
        # forces on a public payroll (state forces, auxiliaries, a regional guard): open places up to
        # their authorised strength while the budget pays them; everyone else recruits through its
        # members' ties, whatever it can pay (Humphreys & Weinstein 2008)
        room = np.minimum(w.capacity, w.size0 * p["authorised_ratio"]) * w.scale - fighters_a  # agents
        ties = p["network_rate"] * np.maximum(fighters_a, p["presence_min"] * w.scale)
        vac = np.where(self.payroll_force, np.maximum(0.0, room), ties)
        can = w.has_agents & (vac > 0.0) & self.active(t)
        # ------------------------------------------------ joining
        key = w.rng.key("mobilization.join", t)
        # one pass for everyone's best actor (into a scratch byte per person), one for the draws
        best8 = w.scratch8()
        # the actors each (region, community) cell may join, in ascending order
        okc = w.open_recruit[:, None] | (w.actor_comm >= self.p["candidate_min_share"])  # A x C
        ok = can[:, None, None] & w.present[:, :, None] & okc[:, None, :]  # A x R x C
        cell_na = ok.sum(0).reshape(-1)
        # per cell and recruiting actor: a, m_g, m_f, m_l, const[a, r], risk[a, r]
        tab = np.zeros((w.R * w.C, max(1, int(cell_na.max())), 6))
        for cell, acts in enumerate(ok.reshape(w.A, -1).T):
            r = cell // w.C
            a_ok = np.flatnonzero(acts)
            tab[cell, : a_ok.size] = np.stack([a_ok, M[a_ok, G_], M[a_ok, F_], M[a_ok, L_], const[a_ok, r], w.risk[a_ok, r]], 1)
        E = self.k_best(
            ppl.region, ppl.community, ppl.status, ppl.fighting_age, ppl.hardship, ppl.risk, cell_na, tab,
            self._hardship_floor(ok, const), w.C, np.ascontiguousarray(w.L), np.ascontiguousarray(w.fear), best8, w.A,
        ).astype(np.float64)
        with np.errstate(invalid="ignore"):
            prob = np.where(E > 0, np.minimum(p["join_rate"], vac / np.maximum(E, 1.0)), 0.0)
        rec, ra = self.k_join(best8, np.uint64(key), prob)
        with w.changing(rec):
            ppl.status[rec] = FIGHTER
            ppl.actor[rec] = ra.astype(np.int8)
            ppl.timer[rec] = 0
            army_rec = rec[ra == w.army_i]
            self.dep("army").deploy(army_rec, t)
            state_rec = rec[w.is_state[ra]]
            self.dep("army").draw_allegiance(state_rec, t)
        w.log.recruits_a += np.bincount(ra, minlength=w.A) * w.w
        self.eligible = E * w.w

        # ------------------------------------------------ leaving
        fidx = w.fighter_idx  # fighters before this month's recruits
        if w.ff_next > first_new:
            fidx = fidx[fidx < first_new]
        if fidx.size:
            unpaid = w.unpaid_months >= p["unpaid_max"]
            cap_agents = w.capacity * w.scale
            excess = np.where(fighters_a > 0, np.maximum(0.0, fighters_a - cap_agents) / np.maximum(fighters_a, 1), 0.0)
            # how much an actor's fighters came for pay: state forces' fully, others' by their motivation
            opportunism = np.where(w.is_state, 1.0, M[:, PAY_] / np.maximum(M.sum(1), 1e-12))
            gone, ga = self.k_leave(
                fidx, ppl.actor, ppl.region, ppl.origin, ppl.community, ppl.hardship, ppl.risk, w.is_state,
                np.ascontiguousarray(M[:, G_]), np.ascontiguousarray(M[:, F_]), np.ascontiguousarray(M[:, L_]),
                np.ascontiguousarray(w.L), np.ascontiguousarray(w.fear), np.ascontiguousarray(const),
                np.ascontiguousarray(w.risk), -p["leave_margin"], p["leave_rate"],
                np.where(unpaid, p["unpaid_leave"] * opportunism, 0.0), p["excess_leave"] * excess * opportunism,
                np.uint64(w.rng.key("mobilization.leave", t)),
            )
            self._leave(gone, ga)
            if ppl.pool:  # foreign fighters who leave go home, they do not go over
                res = gone < ppl.residents
                gone, ga = gone[res], ga[res]
            self._defect(t, gone, ga, ok, const)
        w.changed()

    def _enter_and_exit(self, t: int) -> None:
        """Actors with dates: one whose ``active_from`` is this month enters with its documented size,
        placed as at the start (fighting-age civilians of its base in its regions); one whose
        ``active_until`` was last month is dissolved: its fighters return to civilian life (foreign
        fighters go home) and it recruits no more."""
        w = self.world
        ppl = w.people
        w.active_a = self.active(t)
        enter = np.flatnonzero(w.has_agents & (self.t_from == t) & (t > 0))
        if enter.size:
            seated = self._seat(enter, w.rng.key("mobilization.enter", t), civilians_only=True)
            ppl.timer[seated] = 0
            ppl.allegiance[seated] = -1
            w.touched()  # the census recounts everyone
            state_new = seated[w.is_state[ppl.actor[seated]]]
            if state_new.size:
                self.dep("army").draw_allegiance(state_new, t)
            w.log.recruits_a += np.bincount(ppl.actor[seated], minlength=w.A) * w.w
        leave = np.flatnonzero(self.t_until == t - 1)
        if leave.size:
            gone = np.flatnonzero((ppl.status == FIGHTER) & np.isin(ppl.actor, leave))
            if gone.size:
                self._leave(gone, ppl.actor[gone].astype(np.int64))
                w.changed()

    def _defect(self, t: int, gone: np.ndarray, ga: np.ndarray, ok: np.ndarray, const: np.ndarray) -> None:
        """Defection is a flow of persons: with probability ``defect_share`` a fighter who just left
        joins at once the non-payroll actor with the largest positive net pull on him where he now
        is (unpaid auxiliaries to insurgents, soldiers to militias), bringing himself, outside that
        actor's recruiting through ties."""
        w, p = self.world, self.p
        if p["defect_share"] <= 0 or gone.size == 0:
            return
        ppl = w.people
        u = w.rng.agent_uniforms("mobilization.defect", t, gone)
        try_ = u < p["defect_share"]
        idx, old = gone[try_], ga[try_]
        if idx.size == 0:
            return
        M = w.motivation
        r = ppl.region[idx].astype(np.int64)
        c = ppl.community[idx].astype(np.int64)
        h = ppl.hardship[idx].astype(np.float64)[:, None]
        rk = ppl.risk[idx].astype(np.float64)[:, None]
        net = mk.net_pull(
            M[None, :, G_], M[None, :, F_], M[None, :, L_], h, w.L[r, c][:, None], w.fear[r, c][:, None], const[:, r].T, rk,
            w.risk[:, r].T,
        )  # leavers x actors
        allowed = ok[:, r, c].T & ~self.payroll_force[None, :] & (np.arange(w.A)[None, :] != old[:, None])
        net = np.where(allowed, net, -np.inf)
        best = np.argmax(net, axis=1)
        go = net[np.arange(idx.size), best] > 0
        sel, to = idx[go], best[go]
        if sel.size == 0:
            return
        with w.changing(sel):
            ppl.status[sel] = FIGHTER
            ppl.actor[sel] = to.astype(np.int8)
            ppl.timer[sel] = 0
        w.log.recruits_a += np.bincount(to, minlength=w.A) * w.w
        w.log.defectors_a += np.bincount(to, minlength=w.A) * w.w

    def _hardship_floor(self, ok: np.ndarray, const: np.ndarray) -> np.ndarray:
        """hmin[r * C + c]: hardship at or below which no actor's net pull can be positive (a safe bound).

        For actor a, net = m_g H (1 - L) + K - R risk with K = m_f F + m_l L + const[a, r] and
        R risk >= 0 (risk is 1 - exp(-x), x >= 0), so net <= 0 whenever m_g H (1 - L) <= -K.
        The bound keeps a margin of 1e-9 (absolute and relative) against rounding, which is
        millions of times the error of the few floating-point operations involved; the skipped
        people would have been given no actor by the exact rule too.
        """
        w = self.world
        M = w.motivation
        mg = M[:, G_, None, None]
        one_l = (1.0 - w.L)[None]
        K = M[:, F_, None, None] * w.fear[None] + M[:, L_, None, None] * w.L[None] + const[:, :, None]
        K = K + np.maximum(0.0, -w.risk)[:, :, None]  # (never needed while risk >= 0)
        margin = 1e-9 * (1.0 + np.abs(K) + np.abs(mg))
        slope = mg * one_l
        with np.errstate(divide="ignore", invalid="ignore"):
            thr = np.where(slope > 0, (-K - margin) / np.where(slope > 0, slope, 1.0), np.where(K + margin < 0, np.inf, -np.inf))
        thr = thr - 1e-9 * (1.0 + np.abs(np.where(np.isfinite(thr), thr, 0.0)))
        thr = np.where(ok, thr, np.inf)  # actors that cannot recruit there do not count
        return np.ascontiguousarray(thr.min(0).reshape(-1))

    def _leave(self, gone: np.ndarray, ga: np.ndarray) -> None:
        w = self.world
        ppl = w.people
        w.log.leavers_a += np.bincount(ga, minlength=w.A) * w.w
        with w.changing(gone):
            ppl.status[gone] = CIV
            ppl.actor[gone] = NO_ACTOR
            ppl.allegiance[gone] = -1
            ppl.timer[gone] = 0
            soldiers = gone[w.is_state[ga]]
            ppl.region[soldiers] = ppl.origin[soldiers]
            home = gone >= ppl.residents  # foreign fighters go home
            ppl.status[gone[home]] = ABSENT
        if home.any():
            w.log.ff_departures_a += np.bincount(ga[home], minlength=w.A) * w.w
            w.ff_departed += int(home.sum())

    # ------------------------------------------------------------------ foreign fighters
    def foreign_fighters(self) -> int:
        """Foreign fighters (agents) in the country now, fighting for an actor."""
        w = self.world
        ppl = w.people
        return int((ppl.status[ppl.residents : w.ff_next] == FIGHTER).sum())

    def _foreign_departures(self) -> None:
        """Foreign slots that are civilians, or detainees whose term ends this month (violence releases
        those with one month left), go home: status ``ABSENT``."""
        w = self.world
        ppl = w.people
        n0 = ppl.residents
        if w.ff_next == n0:
            return
        st = ppl.status[n0 : w.ff_next]
        out = n0 + np.flatnonzero((st == CIV) | ((st == DETAINED) & (ppl.term[n0 : w.ff_next] <= 1)))
        if out.size == 0:
            return
        a = ppl.actor[out].astype(np.int64)
        known = a >= 0
        w.log.ff_departures_a += np.bincount(a[known], minlength=w.A) * w.w
        w.ff_departed += int(out.size)
        with w.changing(out):
            ppl.status[out] = ABSENT
            ppl.actor[out] = NO_ACTOR
            ppl.allegiance[out] = -1
            ppl.timer[out] = 0
            ppl.term[out] = 0
        w.changed()

    def _foreign_arrivals(self, t: int) -> None:
        """``foreign_inflow`` x the war next door's intensity persons a month join the insurgent actors
        (those marked ``foreign_fighters`` in the scenario, if any), split by their fighters (the
        networks that draw volunteers in), where they have fighters in the border regions (anywhere
        they have fighters if none there).  Arrivals stop when the reserved pool is spent."""
        w, p = self.world, self.p
        ppl = w.people
        inflow = p.get("foreign_inflow", 0.0)
        if w.regional_war <= 0 or inflow <= 0:
            return
        f_ar = w.census().fighters_ar().astype(np.float64)
        takers = w.is_insurgency & w.has_agents & self.active(t)
        marked = takers & np.array([a.foreign_fighters for a in w.sc.actors], bool)
        pull = np.where(marked if marked.any() else takers, f_ar.sum(1), 0.0)
        if pull.sum() <= 0:
            return
        w.ff_due += inflow * w.regional_war * w.scale
        k = int(np.floor(w.ff_due))
        w.ff_due -= k
        k = min(k, ppl.n - w.ff_next)
        if k <= 0:
            return
        per_a = largest_remainder(k, pull)
        for a in np.flatnonzero(per_a):
            where = f_ar[a] * w.border
            per_r = largest_remainder(int(per_a[a]), where if where.sum() > 0 else f_ar[a])
            comm = int(np.argmax(w.actor_comm[a]))
            for r in np.flatnonzero(per_r):
                new = np.arange(w.ff_next, w.ff_next + per_r[r])
                w.ff_next += int(per_r[r])
                with w.changing(new):
                    ppl.status[new] = FIGHTER
                    ppl.actor[new] = a
                    ppl.region[new] = r
                    ppl.origin[new] = r
                    ppl.community[new] = comm
                    ppl.fighting_age[new] = True
                    ppl.displaced[new] = False
                    ppl.timer[new] = 0
            w.log.ff_arrivals_a[a] += per_a[a] * w.w
        w.ff_arrived += k
        w.changed()

    # ------------------------------------------------------------------
    def _presence(self, cen, S: np.ndarray) -> None:
        """Where each actor is present (may recruit): where it has fighters or its recruitment regions,
        and, for actors that spread, next to regions where its entity holds a share of control."""
        w, p = self.world, self.p
        f = cen.fighters_ar().astype(np.float64) * w.w
        present = (f >= p["presence_min"]) | w.recruits_in
        comm_share = cen.alive_rc().astype(np.float64)
        comm_share = comm_share / np.maximum(comm_share.sum(1, keepdims=True), 1.0)
        for a in np.flatnonzero(w.spreads):
            e = w.entity_of_actor[a]
            strong = w.control[e] >= p["spread_share"]
            near = (w.adj[strong].any(0)) if strong.any() else np.zeros(w.R, bool)
            base_ok = (comm_share @ w.actor_comm[a]) >= 0.1
            present[a] |= near & base_ok & ~w.autonomous
        present[w.is_foreign] = False
        w.present = present

    def record(self, t: int, out: MonthRecord) -> None:
        w = self.world
        fighters = w.census().fighters_ar().astype(np.float64) * w.w
        for ai, a in enumerate(w.act.ids):
            # a foreign force has no agents: its troops (regional: strength / quality)
            out.reg[f"fighters_{a}"] = fighters[ai] if w.has_agents[ai] else w.strength[ai] / max(w.quality[ai], 1e-9)
            out.nat[f"fighters_{a}"] = fighters[ai].sum() if w.has_agents[ai] else w.foreign_level[ai]
            out.nat[f"recruits_{a}"] = w.log.recruits_a[ai]
        out.nat["defections"] = float(w.log.defectors_a.sum())
        out.nat["insurgent_fighters"] = fighters[w.is_insurgency].sum()
