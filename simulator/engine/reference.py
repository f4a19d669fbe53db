"""The promotion model as plain Mesa agents: the readable, executable specification of the kernel.

`ReferenceModel` runs the same model as `PromotionModel` with one `ShopperAgent` per shopper and
ordinary Python attributes, one shopper at a time in id order. It draws the same
counter-based random numbers (`simulator.engine.rng`, keyed by seed, decision, day and shopper),
so on the same seed it reproduces the engine's per-shopper state and daily counters exactly;
the equivalence test (tests/test_reference_equivalence.py) checks that day by day. It is slow
(pure Python) and exists to be read and compared against, not to run campaigns.

Floats: the engine stores rate and fatigue as float32 and computes in float64; the agents keep
those attributes as Python floats rounded to float32 (`f32`), so every expression sees the same
values and rounds the same way. Dropout and basket scale are not stored by the engine (it derives
them from their keyed draws when a shopper buys); the agents hold them as exact float64 values.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import mesa
import numpy as np

from simulator.domain.lifecycle import (
    ALIVE,
    AUDIENCES,
    BOUGHT_AS_MEMBER,
    BOUGHT_AS_NONMEMBER,
    CHURNED,
    DORMANT,
    ENROLLED,
    EVER_BOUGHT,
    FIRST_PURCHASE,
    JOINED,
    MEMBER_BUYER,
    NONMEMBER_BUYER,
    OLD_MEMBER,
    PROSPECT,
    REPEAT,
    SEGMENTS,
    STATES,
    TAG_ALL,
    TAG_BUYER,
    TAG_CAMPAIGN_BUYER,
    TAG_MEMBER,
    TAG_NEW_MEMBER,
    TAG_OLD_MEMBER,
    TAG_RECENT_BUYER,
)
from simulator.engine import rng
from simulator.engine.counters import (
    F_GMV_NEW,
    F_GMV_NON,
    F_GMV_OLD,
    I_B,
    I_CONTACTS,
    I_DROP,
    I_ENROL,
    I_FIRST,
    I_JB,
    I_MB,
    I_NMB,
    I_OMB,
    I_ORD_NEW,
    I_ORD_NON,
    I_ORD_OLD,
    I_REACT,
    I_VISITS,
    Layout,
)
from simulator.engine.plan import (
    C_PER_GRANT,
    C_PER_REDEMPTION,
    C_SHARE,
    D_ON_ENROL,
    D_STORE,
    NO_CAPACITY,
    compile_plan,
)
from simulator.engine.population import NEVER, Shoppers, resolve_params
from simulator.scenario.schema import Scenario

NBINS = 4096  # contact-priority bins for capacity thresholds (the engine's kernel.NBINS)
STATE_TAG = [AUDIENCES[name] for name in STATES]  # tag-word bit of each lifecycle state
_MASK64 = (1 << 64) - 1


# ----------------------------------------------------------------------------- draws
def f32(x: float) -> float:
    """Round to the nearest float32, as storing into the engine's float32 arrays does."""
    return float(np.float32(x))


def stream_key(seed: int, decision: int, day: int) -> np.uint64:
    """Key of the (seed, decision, day) stream (rng.stream_key, typed as the kernel types it)."""
    return np.uint64(rng.stream_key(np.uint64(seed), decision, day))


def substream(key: np.uint64, sub: int) -> np.uint64:
    """Key of sub-stream `sub` of a stream (a touch, a segment)."""
    return np.uint64(rng.substream(key, sub))


def uniform(key: np.uint64, shopper: int) -> float:
    """The shopper's uniform in [0, 1) in stream `key`."""
    return rng.uniform(key, shopper)


def gamma(key: np.uint64, shopper: int, shape: float) -> float:
    """The shopper's Gamma(shape, 1) draw in stream `key`."""
    return rng.gamma(key, shopper, shape)


def priority_bin(key: np.uint64, shopper: int) -> int:
    """The shopper's contact-priority bin (0..NBINS-1) for a touch: lower bins are served first."""
    return int(uniform(key, shopper) * NBINS)


def birthday_of(seed: int, shopper: int) -> int:
    """Day of the year (0..364) of the shopper's birthday, a keyed draw fixed for the whole run."""
    key = (int(stream_key(seed, rng.BIRTHDAY, 0)) + shopper) & _MASK64
    return int(rng.mix64(np.uint64(key))) % 365


def decay_factor(decay: float, days: int) -> float:
    """The share of fatigue left after `days` days without a contact: decay ** days."""
    return math.pow(decay, float(days))


def lift(benefits: list[int], effect: list[float]) -> float:
    """Product of (1 + effect[b]) over the benefits, in benefit order."""
    x = 1.0
    for b in benefits:
        x *= 1.0 + effect[b]
    return x


def as_lists(named_tuple) -> SimpleNamespace:
    """A Plan or PopulationParams with its arrays as Python lists and numbers as Python scalars."""
    return SimpleNamespace(
        **{
            name: value.tolist() if isinstance(value, np.ndarray) else value
            for name, value in zip(named_tuple._fields, named_tuple, strict=True)
        }
    )


@dataclass(frozen=True)
class Day:
    """What every shopper needs to know about one campaign day: calendar, touches and keys."""

    d: int
    traffic: float
    online: int  # bits of the benefits online today
    day_of_year: int
    touches: list[int]  # the touches sent today, in plan order
    threshold: list[int]  # their priority-bin thresholds (NBINS = no limit)
    priority_keys: list[np.uint64]  # their contact-priority stream keys
    react_keys: list[np.uint64]  # their reactivation stream keys
    visit: np.uint64
    enrol: np.uint64
    buy: np.uint64
    basket: np.uint64
    dropout: np.uint64


# ----------------------------------------------------------------------------- the shopper
class ShopperAgent(mesa.Agent):
    """One shopper. Attributes mirror one slot of the engine's `Shoppers` arrays."""

    def __init__(self, model: ReferenceModel, index: int, population: Shoppers | None = None):
        """Draw the initial attributes from the keyed streams, or take slot `index` of arrays."""
        super().__init__(model)
        self.index = index  # shopper id: the key of every draw (Mesa's unique_id starts at 1)
        self.birthday = birthday_of(model.population_seed, index)
        if population is None:
            self._draw_initial(model.pp, model.init_keys)
        else:
            self._take_initial(population)

    def _take_initial(self, s: Shoppers) -> None:
        """Attributes from the shopper's slot of already drawn arrays (`draw_population`)."""
        i = self.index
        self.state = int(s.state[i])
        self.segments = int(s.segments[i])
        flags = int(s.flags[i])
        self.alive = bool(flags & ALIVE)
        self.ever_bought = bool(flags & EVER_BOUGHT)
        self.old_member = bool(flags & OLD_MEMBER)
        self.bought_as_member = bool(flags & BOUGHT_AS_MEMBER)
        self.bought_as_nonmember = bool(flags & BOUGHT_AS_NONMEMBER)
        self.joined = bool(flags & JOINED)
        self.member_buyer = bool(flags & MEMBER_BUYER)
        self.rate = float(s.rate[i])
        self._derive_purchase_traits(self.model.pp, self.model.init_keys)
        self.last_purchase = int(s.last_purchase[i])
        self.enrol_day = int(s.enrol_day[i])
        self.held = {b for b in range(32) if int(s.held[i]) >> b & 1}
        self.fatigue = float(s.fatigue[i])
        self.last_contact = int(s.last_contact[i])
        self.contacts = [int(c) for c in s.contacts[i, : self.model.n_contact_slots]]

    def _draw_initial(self, pp: SimpleNamespace, keys: dict[str, np.uint64]) -> None:
        """State, segments, BG/NBD and Gamma-Gamma parameters, recency and flags on day 0."""
        i = self.index
        u = uniform(keys["state"], i)
        st = 0
        while st < CHURNED and u >= pp.mix_cdf[st]:
            st += 1
        self.state = st
        # segments, each drawn only for the states it may hold; multipliers compound
        self.segments = 0
        rate_mult = 1.0
        for g in range(len(pp.seg_share)):
            if pp.seg_share[g] > 0.0 and pp.seg_states[g] & STATE_TAG[st]:
                if uniform(keys["segment"][g], i) < pp.seg_share[g]:
                    self.segments |= 1 << g
                    rate_mult *= pp.seg_rate[g]
        # BG/NBD: lambda ~ Gamma(r, alpha), p ~ Beta(a, b); Gamma-Gamma: nu ~ Gamma(q, v)
        lam = gamma(keys["rate"], i, pp.r) / pp.alpha_day * rate_mult
        self.rate = f32(lam)
        self._derive_purchase_traits(pp, keys)
        # days since the last activity, consistent with the label: active < dormant <= churned
        ur = uniform(keys["recency"], i)
        if st == DORMANT:
            ago = pp.dormant_after + int(ur * (pp.churn_after - pp.dormant_after))
        elif st == CHURNED:
            ago = pp.churn_after + int(ur * pp.churn_after)
        elif st == NONMEMBER_BUYER:
            ago = 1 + int(ur * (pp.churn_after - 1))
        else:
            ago = 1 + int(ur * (pp.dormant_after - 1))
        self.alive = uniform(keys["alive"], i) < pp.alive0[st]
        self.ever_bought = st not in (PROSPECT, ENROLLED)
        self.old_member = st >= ENROLLED
        self.bought_as_member = False
        self.bought_as_nonmember = False
        self.joined = False
        self.member_buyer = st > ENROLLED  # dormant and churned members had bought as members
        self.last_purchase = -ago if self.ever_bought else NEVER
        self.enrol_day = -ago if st == ENROLLED else NEVER
        self.held: set[int] = set()  # benefits held (delivered by a touch or granted on enrolment)
        self.fatigue = 0.0
        self.last_contact = NEVER
        self.contacts = [0] * self.model.n_contact_slots  # one per frequency-capped channel

    def _derive_purchase_traits(self, pp: SimpleNamespace, keys: dict[str, np.uint64]) -> None:
        """Dropout p ~ Beta(a, b) and basket scale 1/nu x segment multipliers, from their draws."""
        i = self.index
        x = gamma(keys["dropout_a"], i, pp.a)
        y = gamma(keys["dropout_b"], i, pp.b)
        self.dropout = x / (x + y)
        mult = 1.0
        for g in range(len(pp.seg_basket)):
            if self.segments >> g & 1:
                mult *= pp.seg_basket[g]
        self.basket_scale = mult / (gamma(keys["basket"], i, pp.q) / pp.v)

    @property
    def segment_names(self) -> list[str]:
        """Names of the shopper's segments."""
        return [name for g, name in enumerate(SEGMENTS) if self.segments >> g & 1]

    @property
    def flags(self) -> int:
        """The history booleans as the engine's flag bits."""
        bits = 0
        for on, bit in (
            (self.alive, ALIVE),
            (self.ever_bought, EVER_BOUGHT),
            (self.old_member, OLD_MEMBER),
            (self.bought_as_member, BOUGHT_AS_MEMBER),
            (self.bought_as_nonmember, BOUGHT_AS_NONMEMBER),
            (self.joined, JOINED),
            (self.member_buyer, MEMBER_BUYER),
        ):
            if on:
                bits |= int(bit)
        return bits

    # --- what the shopper is today
    def observed_state(self, d: int) -> int:
        """Lifecycle label on day d: a member idle long enough is dormant, then churned."""
        if self.state < ENROLLED:
            return self.state
        idle = d - max(self.last_purchase, self.enrol_day)
        if idle >= self.model.pp.churn_after:
            return CHURNED
        if idle >= self.model.pp.dormant_after:
            return DORMANT
        return self.state

    def tag_word(self, st: int, d: int) -> int:
        """Audience tags: segments, state, member, buyer, recent/campaign buyer, old/new member."""
        t = self.segments | STATE_TAG[st] | TAG_ALL
        if st >= ENROLLED:
            t |= TAG_MEMBER
        if self.ever_bought:
            t |= TAG_BUYER
            if d - self.last_purchase < self.model.pp.recent_days:
                t |= TAG_RECENT_BUYER
        if self.bought_as_member or self.bought_as_nonmember:
            t |= TAG_CAMPAIGN_BUYER
        if self.old_member:
            t |= TAG_OLD_MEMBER
        if self.joined:
            t |= TAG_NEW_MEMBER
        return t

    def targeted_by(self, b: int, st: int) -> bool:
        """Benefit b is for shoppers in state st with (any of) its segments."""
        P = self.model.P
        if not P.ben_states[b] & STATE_TAG[st]:
            return False
        return P.ben_segments[b] == 0 or (self.segments & P.ben_segments[b]) != 0

    def reachable(self, t: int, st: int, tags: int) -> bool:
        """Touch t may contact the shopper: audience, channel reach, benefit target, cap."""
        P = self.model.P
        ch = P.t_channel[t]
        if not tags & P.t_audience[t] or tags & P.t_exclude[t]:
            return False
        if not tags & P.ch_reach[ch] or not tags & P.ch_kind_reach[ch]:
            return False
        b = P.t_benefit[t]
        if b >= 0 and not self.targeted_by(b, st):
            return False
        slot = P.ch_cap_slot[ch]
        return slot < 0 or self.contacts[slot] < P.ch_freq_cap[ch]

    def usable(self, day: Day, st: int, birthday: bool) -> list[int]:
        """Benefits usable today as state st: online, and held, or a store benefit for st."""
        P = self.model.P
        out = []
        for b in range(len(P.ben_states)):
            if not day.online >> b & 1:
                continue
            if P.ben_birthday[b] and not birthday:
                continue
            if P.ben_delivery[b] != D_STORE:
                if b in self.held:  # the holder keeps it whatever their state now
                    out.append(b)
            elif self.targeted_by(b, st):
                out.append(b)
        return out

    # --- the day
    def step_day(self, day: Day) -> None:
        """One day of this shopper, in the kernel's documented order; counters go to the model."""
        st = self.observed_state(day.d)  # 1. the label is stored: dormant stays dormant
        contact_lift, first_channel = self.receive_contacts(day, st)  # 2.
        if self.alive:
            st = self.visit(day, st, contact_lift, first_channel)  # 3.-7.
        self.model.ints[st] += 1
        self.state = st

    def receive_contacts(self, day: Day, st: int) -> tuple[float, int]:
        """Today's touches in plan order; returns the contact lift and the first channel (-1)."""
        P, lay = self.model.P, self.model.layout
        ints, floats = self.model.ints, self.model.floats
        contact_lift = 1.0
        first_channel = -1
        load = None  # fatigue load: decayed from the last contact day at the first contact today
        tags = self.tag_word(st, day.d) if day.touches else 0
        for k, t in enumerate(day.touches):
            if not self.reachable(t, st, tags):
                continue
            limit = day.threshold[k]
            if limit < NBINS and priority_bin(day.priority_keys[k], self.index) >= limit:
                continue  # over the touch's capacity or budget today
            ch = P.t_channel[t]
            if P.ch_cap_slot[ch] >= 0:  # counted only for frequency-capped channels
                self.contacts[P.ch_cap_slot[ch]] += 1
            if load is None:
                days = day.d - self.last_contact
                load = self.fatigue * decay_factor(self.model.pp.fatigue_decay, days)
            response = math.exp(-P.ch_fatigue[ch] * load)  # fatigue damps the response
            contact_lift *= 1.0 + P.ch_lift[ch] * response
            load += 1.0
            if first_channel < 0:
                first_channel = ch
            ints[I_CONTACTS] += 1
            ints[lay.contacts_by_channel + ch] += 1
            ints[lay.contacts_by_touch + t] += 1
            floats[lay.cost_by_channel + ch] += P.ch_cost[ch]
            floats[lay.cost_by_touch + t] += P.ch_cost[ch]
            b = P.t_benefit[t]
            if b < 0:
                continue  # a bare reminder
            if P.ben_delivery[b] != D_STORE and b not in self.held:
                self.held.add(b)  # a benefit already held is not granted (or costed) twice
                if P.ben_cost_kind[b] == C_PER_GRANT:
                    floats[lay.cost_by_benefit + b] += P.ben_cost[b]
            if not self.alive and P.ben_react[b] > 0.0:
                if uniform(day.react_keys[k], self.index) < P.ben_react[b] * response:
                    self.alive = True
                    ints[I_REACT] += 1
        if load is not None:  # contacted today: fatigue is kept as of its last contact
            self.fatigue = f32(load)
            self.last_contact = day.d
        return contact_lift, first_channel

    def visit(self, day: Day, st: int, contact_lift: float, first_channel: int) -> int:
        """Visit, enrolment, purchase and on-enrol grants of a latent-active shopper; new state."""
        P, pp, lay = self.model.P, self.model.pp, self.model.layout
        ints, floats = self.model.ints, self.model.floats
        i = self.index
        rate = self.rate * (pp.prospect_scale if st == PROSPECT else 1.0)
        if uniform(day.visit, i) >= rate * (day.traffic / pp.conversion) * contact_lift:
            return st
        ints[I_VISITS] += 1
        birthday = self.birthday == day.day_of_year
        # 4. enrolment: what the shopper could use now or as a member draws them in
        joined_today = False
        if st < ENROLLED:
            now = self.usable(day, st, birthday)
            as_member = self.usable(day, ENROLLED, birthday)
            draw_in = sorted(set(now) | set(as_member))
            if uniform(day.enrol, i) < pp.enrol_rate * lift(draw_in, P.ben_enrol):
                st = ENROLLED
                self.enrol_day = day.d
                self.joined = True
                joined_today = True
                ints[I_ENROL] += 1
                ints[lay.enrol_by_channel + first_channel + 1] += 1  # slot 0: organic
        # 5. purchase with the benefits usable in the (possibly new) state
        used = self.usable(day, st, birthday)
        if uniform(day.buy, i) < pp.conversion * lift(used, P.ben_purchase):
            st = self.purchase(day, st, used)
        # 7. benefits granted on enrolment, usable from tomorrow
        if joined_today:
            for b in range(len(P.ben_states)):
                if P.ben_delivery[b] == D_ON_ENROL and self.targeted_by(b, ENROLLED):
                    self.held.add(b)
                    if P.ben_cost_kind[b] == C_PER_GRANT:
                        floats[lay.cost_by_benefit + b] += P.ben_cost[b]
        return st

    def purchase(self, day: Day, st: int, used: list[int]) -> int:
        """An order: basket, GMV and buyer counters, redemptions, lifecycle, dropout; new state."""
        P, pp, lay = self.model.P, self.model.pp, self.model.layout
        ints, floats = self.model.ints, self.model.floats
        basket = gamma(day.basket, self.index, pp.p) * self.basket_scale * lift(used, P.ben_basket)
        if not (self.bought_as_member or self.bought_as_nonmember):
            ints[I_B] += 1
        if st < ENROLLED:
            floats[F_GMV_NON] += basket
            ints[I_ORD_NON] += 1
            if not self.bought_as_nonmember:
                ints[I_NMB] += 1
            self.bought_as_nonmember = True
        else:
            if self.old_member:
                floats[F_GMV_OLD] += basket
                ints[I_ORD_OLD] += 1
            else:
                floats[F_GMV_NEW] += basket
                ints[I_ORD_NEW] += 1
            if not self.bought_as_member:
                ints[I_MB] += 1
                if self.old_member:
                    ints[I_OMB] += 1
                if self.joined:
                    ints[I_JB] += 1
            self.bought_as_member = True
        for b in used:
            ints[lay.redemptions_by_benefit + b] += 1
            if P.ben_cost_kind[b] == C_PER_REDEMPTION:
                floats[lay.cost_by_benefit + b] += P.ben_cost[b]
            elif P.ben_cost_kind[b] == C_SHARE:
                floats[lay.cost_by_benefit + b] += P.ben_cost[b] * basket
            if P.ben_delivery[b] != D_STORE:
                self.held.discard(b)  # single use
        # 6. lifecycle after the purchase; BG/NBD dropout after a repeat purchase
        if st == PROSPECT:
            st = NONMEMBER_BUYER
        elif st >= ENROLLED:
            st = REPEAT if self.member_buyer else FIRST_PURCHASE
            self.member_buyer = True
        if self.ever_bought:
            if uniform(day.dropout, self.index) < self.dropout:
                self.alive = False
                ints[I_DROP] += 1
        else:
            ints[I_FIRST] += 1
        self.ever_bought = True
        self.last_purchase = day.d
        return st


# ----------------------------------------------------------------------------- the model
class ReferenceModel(mesa.Model):
    """The same shoppers, plan and days as `PromotionModel`, one Python agent per shopper."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        seed: int | None = None,
        shoppers: int | None = None,
        threads: int | None = None,
        base_dir: str | Path = ".",
        population: Shoppers | None = None,
        population_seed: int | None = None,
    ):
        """Compile the scenario and create the agents; arguments as `PromotionModel`'s.

        `threads` is accepted and ignored; `population` (arrays from `draw_population`) replaces
        the agents' own keyed initial draws. Traits are keyed by the population seed.
        """
        self.run_seed = int(scenario.seed if seed is None else seed)
        super().__init__(seed=self.run_seed)
        self.population_seed = self.run_seed if population_seed is None else int(population_seed)
        self.scenario = scenario
        n = int(shoppers or scenario.population.shoppers)
        self.plan = compile_plan(scenario, scale=n / scenario.population.shoppers)
        self.params = resolve_params(scenario.population, Path(base_dir))
        self.P = as_lists(self.plan)
        self.pp = as_lists(self.params)
        self.layout = Layout(
            tuple(scenario.benefits), tuple(scenario.channels), tuple(scenario.plan)
        )
        self.n_days = len(self.P.traffic)
        self.n_contact_slots = sum(1 for c in scenario.channels.values() if c.frequency_cap)
        self.daily_int = np.zeros((self.n_days, self.layout.n_int), np.int64)
        self.daily_float = np.zeros((self.n_days, self.layout.n_float), np.float64)
        self.ints: list[int] = []
        self.floats: list[float] = []
        seed_ = self.population_seed
        k_seg = stream_key(seed_, rng.INIT_SEGMENT, 0)
        k_drop = stream_key(seed_, rng.INIT_DROPOUT, 0)
        self.init_keys = {
            "state": stream_key(seed_, rng.INIT_STATE, 0),
            "segment": [substream(k_seg, g) for g in range(len(self.pp.seg_share))],
            "rate": stream_key(seed_, rng.INIT_RATE, 0),
            "dropout_a": substream(k_drop, 0),
            "dropout_b": substream(k_drop, 1),
            "basket": stream_key(seed_, rng.INIT_BASKET, 0),
            "recency": stream_key(seed_, rng.INIT_RECENCY, 0),
            "alive": stream_key(seed_, rng.INIT_ALIVE, 0),
        }
        self.shopper_agents = [ShopperAgent(self, i, population) for i in range(n)]

    @property
    def day(self) -> int:
        """Index of the last simulated day (-1 before the first step)."""
        return self.steps - 1

    def step(self) -> None:
        """Simulate one day: thresholds, then every shopper in id order, then the day's counters."""
        d = self.day
        if d >= self.n_days:
            self.running = False
            return
        seed = self.run_seed
        touches = [t for t, on in enumerate(self.P.touch_on[d]) if on]
        k_contact = stream_key(seed, rng.CONTACT, d)
        k_react = stream_key(seed, rng.REACTIVATE, d)
        priority_keys = [substream(k_contact, t) for t in touches]
        day = Day(
            d=d,
            traffic=self.P.traffic[d],
            online=self.P.online[d],
            day_of_year=self.P.day_of_year[d],
            touches=touches,
            threshold=self.thresholds(d, touches, priority_keys),
            priority_keys=priority_keys,
            react_keys=[substream(k_react, t) for t in touches],
            visit=stream_key(seed, rng.VISIT, d),
            enrol=stream_key(seed, rng.ENROL, d),
            buy=stream_key(seed, rng.BUY, d),
            basket=stream_key(seed, rng.BASKET, d),
            dropout=stream_key(seed, rng.DROPOUT, d),
        )
        self.ints = [0] * self.layout.n_int
        self.floats = [0.0] * self.layout.n_float
        for agent in self.shopper_agents:
            agent.step_day(day)
        self.daily_int[d] = self.ints
        self.daily_float[d] = self.floats
        if d == self.n_days - 1:
            self.running = False

    def thresholds(self, d: int, touches: list[int], priority_keys: list[np.uint64]) -> list[int]:
        """Priority-bin threshold per touch today, so contacts stay within capacity and budget.

        A limited touch takes the lowest-priority bins of the shoppers it may reach (as they are at
        the start of the day), whole bins only, up to its cap; touches on a channel with a daily
        capacity share it in plan order.
        """
        P, lay = self.P, self.layout
        caps = []
        for t in touches:
            ch = P.t_channel[t]
            cost = P.ch_cost[ch]
            cap = math.inf if P.ch_capacity[ch] == NO_CAPACITY else P.ch_capacity[ch]
            if math.isfinite(P.t_budget[t]) and cost > 0:
                spent = self.daily_float[:d, lay.cost_by_touch + t].sum()
                affordable = max(0, math.floor((P.t_budget[t] - spent) / cost + 1e-9))
                cap = min(cap, affordable)
            caps.append(cap)
        threshold = [NBINS] * len(touches)
        limited = [math.isfinite(cap) for cap in caps]
        if not any(limited):
            return threshold
        # how many shoppers each limited touch may reach, by priority bin
        counts = [[0] * NBINS for _ in touches]
        for agent in self.shopper_agents:
            st = agent.observed_state(d)
            tags = agent.tag_word(st, d)
            for k, t in enumerate(touches):
                if limited[k] and agent.reachable(t, st, tags):
                    counts[k][priority_bin(priority_keys[k], agent.index)] += 1
        left = [float(c) for c in P.ch_capacity]  # capacity not yet taken, per channel
        for k, t in enumerate(touches):
            if not limited[k]:
                continue
            ch = P.t_channel[t]
            shared = P.ch_capacity[ch] != NO_CAPACITY
            cap = min(caps[k], left[ch]) if shared else caps[k]
            taken = 0
            b = 0
            while b < NBINS and taken + counts[k][b] <= cap:
                taken += counts[k][b]
                b += 1
            threshold[k] = b
            if shared:
                left[ch] -= taken
        return threshold

    def to_arrays(self) -> Shoppers:
        """Every shopper's state in the engine's `Shoppers` layout and dtypes (for comparison)."""
        agents = self.shopper_agents

        def column(attr, dtype):
            return np.array([getattr(a, attr) for a in agents], dtype)

        held = [sum(1 << b for b in a.held) for a in agents]
        return Shoppers(
            state=column("state", np.int8),
            segments=column("segments", np.uint8),
            flags=column("flags", np.uint8),
            rate=column("rate", np.float32),
            last_purchase=column("last_purchase", np.int16),
            enrol_day=column("enrol_day", np.int16),
            held=np.array(held, np.uint32),
            fatigue=column("fatigue", np.float32),
            last_contact=column("last_contact", np.int16),
            contacts=np.array([a.contacts for a in agents], np.uint8).reshape(
                len(agents), self.n_contact_slots
            ),
        )


def reference_agent_days_per_s(
    scenario: Scenario, shoppers: int = 2000, days: int | None = None, base_dir: str | Path = "."
) -> float:
    """Measured speed of the reference model: shoppers x days simulated per second of stepping."""
    model = ReferenceModel(scenario, shoppers=shoppers, base_dir=base_dir)
    days = model.n_days if days is None else min(days, model.n_days)
    start = time.perf_counter()
    for _ in range(days):
        model.step()
    return shoppers * days / (time.perf_counter() - start)
