"""A reference shopper's state: the engine's per-shopper fields as agent attributes."""

from __future__ import annotations

from types import SimpleNamespace

import mesa
import numpy as np

from simulator.clv.customer_table import NO_DAY
from simulator.domain.lifecycle import (
    AUDIENCES,
    CHURNED,
    DORMANT,
    ENROLLED,
    FIRST_PURCHASE,
    FLAG,
    NONMEMBER_BUYER,
    PROSPECT,
    REPEAT,
    STATES,
)
from simulator.engine import rng
from simulator.engine.customers import CustomerRows
from simulator.engine.population import BY_RATE, BY_SPEND, LAST_STATE
from simulator.engine.reference.numbers import (
    birthday_of,
    f32,
    gamma,
    stream_key,
    substream,
    uniform,
)
from simulator.engine.shoppers import DRAWN, FIELDS, NEVER, Shoppers

STATE_TAG = [AUDIENCES[name] for name in STATES]  # tag-word bit of each lifecycle state


def initial_draw_keys(population_seed: int, n_segments: int) -> dict:
    """Stream keys of the shoppers' initial draws (and derived traits), by attribute."""
    k_seg = stream_key(population_seed, rng.INIT_SEGMENT, 0)
    k_drop = stream_key(population_seed, rng.INIT_DROPOUT, 0)
    return {
        "state": stream_key(population_seed, rng.INIT_STATE, 0),
        "segment": [substream(k_seg, g) for g in range(n_segments)],
        "rate": stream_key(population_seed, rng.INIT_RATE, 0),
        "dropout_a": substream(k_drop, 0),
        "dropout_b": substream(k_drop, 1),
        "basket": stream_key(population_seed, rng.INIT_BASKET, 0),
        "recency": stream_key(population_seed, rng.INIT_RECENCY, 0),
        "alive": stream_key(population_seed, rng.INIT_ALIVE, 0),
        "sensitivity": stream_key(population_seed, rng.INIT_SENSITIVITY, 0),
    }


class ShopperState(mesa.Agent):
    """A shopper's state: an attribute for each per-shopper field (`shoppers.FIELDS`).

    Attributes are Python values: ints, floats rounded to float32 (`f32`) where the engine stores
    float32, a list for a field per capped channel. Two are views: `flags` packs the history
    booleans (`alive`, `ever_bought`, ..., one per `lifecycle.FLAGS` name) and `held` the set
    `benefits_held`. `shopper.ShopperAgent` adds the day's steps.
    """

    def __init__(self, model: mesa.Model, index: int, population: Shoppers | None = None):
        """Draw the initial attributes from the keyed streams, or take slot `index` of arrays.

        model: the `ReferenceModel` (its params, population seed, keys and capped channels).
        """
        super().__init__(model)
        self.index = index  # shopper id: the key of every draw (Mesa's unique_id starts at 1)
        self.birthday = birthday_of(model.population_seed, index)  # day of the year
        if population is None:
            self.take_start_values(model.n_contact_slots)
            if model.customers is None:
                self.draw_initial(model.params, model.init_keys)
            else:
                self.draw_from_customer(model.params, model.init_keys, model.customers)
        else:
            self.take_slot(population)
        self.derive_sensitivity(model.params, model.init_keys)

    def take_start_values(self, n_slots: int) -> None:
        """Every field with a start value takes it."""
        for field in FIELDS:
            if field.start is not DRAWN:
                start = [field.start] * n_slots if field.per_capped_channel else field.start
                setattr(self, field.name, start)

    def take_slot(self, arrays: Shoppers) -> None:
        """Every field from the shopper's slot of already drawn arrays (`draw_population`)."""
        for field in FIELDS:
            value = getattr(arrays, field.name)[self.index]
            if field.per_capped_channel:
                value = value[: self.model.n_contact_slots]
            setattr(self, field.name, value.tolist())

    def draw_initial(self, params: SimpleNamespace, keys: dict[str, np.uint64]) -> None:
        """State, segments, purchase rate, recency and flags on day 0, from their keyed draws."""
        i = self.index
        u = uniform(keys["state"], i)
        st = PROSPECT
        while st < LAST_STATE and u >= params.mix_cdf[st]:
            st += 1
        self.state = st
        # segments, each for the states it may hold: a keyed draw or the top share by the
        # shopper's own purchase rate (Gamma(r) draw) or spend rate (that over the Gamma(q) draw)
        g_rate = gamma(keys["rate"], i, params.r)
        g_nu = gamma(keys["basket"], i, params.q)  # Gamma-Gamma nu = g_nu / v
        self.segments = 0
        rate_mult = basket_mult = 1.0
        for g in range(len(params.seg_share)):
            if params.seg_share[g] > 0.0 and params.seg_states[g] & STATE_TAG[st]:
                if params.seg_by[g] == BY_RATE:
                    inside = g_rate >= params.seg_cut[g]
                elif params.seg_by[g] == BY_SPEND:
                    inside = g_rate / g_nu >= params.seg_cut[g]
                else:
                    inside = uniform(keys["segment"][g], i) < params.seg_share[g]
                if inside:
                    self.segments |= 1 << g
                    rate_mult *= params.seg_rate[g]
                    basket_mult *= params.seg_basket[g]
        # BG/NBD: lambda ~ Gamma(r, alpha); Gamma-Gamma: mean basket p / nu
        self.rate = f32(g_rate / params.alpha_day * rate_mult)
        self.basket_scale = f32(basket_mult / (g_nu / params.v))
        x = gamma(keys["dropout_a"], i, params.a)  # BG/NBD dropout p ~ Beta(a, b)
        self.dropout = f32(x / (x + gamma(keys["dropout_b"], i, params.b)))
        # days since the last activity, consistent with the label: active < dormant <= churned
        ur = uniform(keys["recency"], i)
        if st == DORMANT:
            ago = params.dormant_after + int(ur * (params.churn_after - params.dormant_after))
        elif st == CHURNED:
            ago = params.churn_after + int(ur * params.churn_after)
        elif st == NONMEMBER_BUYER:
            ago = 1 + int(ur * (params.churn_after - 1))
        else:
            ago = 1 + int(ur * (params.dormant_after - 1))
        self.alive = uniform(keys["alive"], i) < params.alive0[st]
        self.ever_bought = st not in (PROSPECT, ENROLLED)
        self.old_member = st >= ENROLLED
        self.bought_as_member = False
        self.bought_as_nonmember = False
        self.joined = False
        self.member_buyer = st > ENROLLED  # dormant and churned members had bought as members
        self.last_purchase = -ago if self.ever_bought else NEVER
        self.enrol_day = -ago if st == ENROLLED else NEVER

    def draw_from_customer(self, params: SimpleNamespace, keys: dict, c: CustomerRows) -> None:
        """State, flags, recency and BG/NBD and Gamma-Gamma traits from a customer's history.

        Latent traits come from the posterior given the history (`engine.customers`): active
        with P(alive), then lambda ~ Gamma(r + x, alpha + T), p ~ Beta(a, b + x); else dropped
        out after the last purchase, lambda ~ Gamma(r + x, alpha + t_x), p ~ Beta(a + 1,
        b + x - 1); nu ~ Gamma(q + p x, v + x m). Keyed by the customer's row in the table.
        """
        j, i = self.index, int(c.row[self.index])
        bought = bool(c.purchase_days[j] > 0)
        member = bool(c.join[j] != NO_DAY)
        first, last, join = int(c.first[j]), int(c.last[j]), int(c.join[j])
        n_member = int(c.member_purchase_days[j])
        st = NONMEMBER_BUYER if bought else PROSPECT
        if member:
            st = ENROLLED if n_member == 0 else FIRST_PURCHASE if n_member == 1 else REPEAT
            idle = -(max(last, join) if bought else join)  # days idle on day 0
            if idle >= params.churn_after:
                st = CHURNED
            elif idle >= params.dormant_after:
                st = DORMANT
        self.state = st
        self.segments = int(c.segments[j])
        x = max(int(c.purchase_days[j]) - 1, 0)
        self.alive, exposure, a, b = True, 0.0, params.a, params.b
        if bought:
            self.alive = uniform(keys["alive"], i) < c.alive_chance[j]
            exposure = float(-1 - first) if self.alive else float(last - first)
            if not self.alive:
                a, b = params.a + 1.0, params.b + x - 1.0
            else:
                b = params.b + x
        g = gamma(keys["dropout_a"], i, a)
        self.dropout = f32(g / (g + gamma(keys["dropout_b"], i, b)))
        self.rate = f32(gamma(keys["rate"], i, params.r + x) / (params.alpha_day + exposure))
        spent = x * float(c.repeat_spend_mean[j])
        nu = gamma(keys["basket"], i, params.q + params.p * x) / (params.v + spent)
        self.basket_scale = f32(1.0 / nu)
        self.ever_bought = bought
        self.old_member = member
        self.bought_as_member = self.bought_as_nonmember = self.joined = False
        self.member_buyer = n_member > 0
        self.last_purchase = max(last, NEVER) if bought else NEVER
        self.enrol_day = max(join, NEVER) if member else NEVER

    def derive_sensitivity(self, params: SimpleNamespace, keys: dict[str, np.uint64]) -> None:
        """Price sensitivity, from its keyed draw.

        The level of the shopper's keyed bin of a log-logistic distribution, times their
        segments' multipliers.
        """
        i = self.index
        level = int(uniform(keys["sensitivity"], i) * len(params.sensitivity_levels))
        by_segments = params.sensitivity_by_segments[self.segments]
        self.sensitivity = params.sensitivity_levels[level] * by_segments

    @property
    def flags(self) -> int:
        """The history booleans as the engine's flag bits."""
        return sum(bit for name, bit in FLAG.items() if getattr(self, name))

    @flags.setter
    def flags(self, bits: int) -> None:
        for name, bit in FLAG.items():
            setattr(self, name, bool(bits & bit))

    @property
    def held(self) -> int:
        """The benefits held (delivered by a touch or granted on enrolment) as the engine's bits."""
        return sum(1 << b for b in self.benefits_held)

    @held.setter
    def held(self, bits: int) -> None:
        self.benefits_held = {b for b in range(bits.bit_length()) if bits >> b & 1}
