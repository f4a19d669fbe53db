"""The steps of one shopper's day, in the order `kernel.day_chunk` takes them.

Each step is a small function inlined into the day kernel (`jit.hot_inline`): it reads the
shopper's arrays and today's plan and adds to the chunk's counters. What later steps read (state,
flags, held benefits) it returns, and `write_back` stores it once at the end of the shopper's
day; the contact counts and fatigue it stores as they change.
`counters` is the chunk's `Counters`: `counts` (integer row), `amounts` (float row) and the
offsets of the per-channel, per-touch and per-benefit `blocks`; `keys` the day's `DrawKeys`.
"""

from __future__ import annotations

import math

import numpy as np

from simulator.domain.benefits import ON_ENROL, PER_GRANT, PER_REDEMPTION, SHARE_OF_BASKET, STORE
from simulator.domain.lifecycle import (
    ALIVE,
    BOUGHT_AS_MEMBER,
    BOUGHT_AS_NONMEMBER,
    ENROLLED,
    EVER_BOUGHT,
    FIRST_PURCHASE,
    JOINED,
    MEMBER_BUYER,
    NONMEMBER_BUYER,
    OLD_MEMBER,
    PROSPECT,
    REPEAT,
    tags,
)
from simulator.engine import rng
from simulator.engine.audience import lift, reachable, targets
from simulator.engine.counters import AMOUNT, COUNT
from simulator.engine.jit import hot_inline
from simulator.engine.population import basket_scale, dropout_probability
from simulator.engine.rng import PRIORITY_BINS


# ----------------------------------------------------------------------------- 2. contacts
@hot_inline
def receive_contacts(shoppers, plan, params, today, keys, counters, i, state, flags, held):
    """Each of today's touches, in plan order, that may reach shopper i contacts them.

    A touch reaches the shopper if they have one of the segments it requires, their keyed
    priority is under its threshold (capacity and budget), and the audience, channel reach,
    benefit target and frequency cap allow (`audience.reachable`). A contact is counted and
    costed, lifts the visit chance (damped by fatigue), delivers the touch's benefit and may
    reactivate a latent-inactive shopper.

    Returns:
        (contact lift, first channel that made contact or -1, flags, held benefits).
    """
    segments = shoppers.segments[i]
    contact_lift = 1.0
    first_channel = -1
    load = -1.0  # fatigue load, computed at the first contact of the day
    tag_word = np.uint32(0)  # computed when first needed (never 0: TAG_ALL is set)
    for k in range(len(today.touches)):
        touch = today.touches[k]
        required = plan.t_segments[touch]
        if required != 0 and (np.uint32(segments) & required) == 0:
            continue  # none of the segments the touch requires
        # the priority test first: it is cheaper and rejects most under a tight cap
        threshold = today.thresholds[k]
        if threshold < PRIORITY_BINS and rng.priority_bin(today.priority_keys[k], i) >= threshold:
            continue
        if tag_word == 0:
            last_purchase = shoppers.last_purchase[i]
            tag_word = tags(state, segments, flags, last_purchase, today.day, params.recent_days)
        if not reachable(plan, shoppers, i, touch, state, segments, tag_word):
            continue
        channel = plan.t_channel[touch]
        slot = plan.ch_cap_slot[channel]
        if slot >= 0:  # counted only where a frequency cap needs it (cap <= 255)
            shoppers.contacts[i, slot] += 1
        if load < 0.0:
            load = shoppers.fatigue[i] * params.decay_after[today.day - shoppers.last_contact[i]]
        response = math.exp(-plan.ch_fatigue[channel] * load)
        contact_lift *= 1.0 + plan.ch_lift[channel] * response
        load += 1.0
        if first_channel < 0:
            first_channel = channel
        count_contact(plan, counters, channel, touch)
        benefit = plan.t_benefit[touch]
        if benefit < 0:
            continue  # a bare reminder
        held = deliver(plan, counters, benefit, held)
        if (flags & ALIVE) == 0 and plan.ben_react[benefit] > 0.0:
            chance = plan.ben_react[benefit] * response
            if rng.uniform(rng.substream(keys.reactivate, touch), i) < chance:
                flags |= ALIVE
                counters.counts[COUNT.reactivations] += 1
    if load >= 0.0:  # contacted today: fatigue is kept as of its last contact
        shoppers.fatigue[i] = load
        shoppers.last_contact[i] = today.day
    return contact_lift, first_channel, flags, held


@hot_inline
def count_contact(plan, counters, channel, touch):
    """A contact: counted, and its cost charged, by channel and by touch."""
    counts, amounts, blocks = counters
    counts[COUNT.contacts] += 1
    counts[blocks.contacts_by_channel + channel] += 1
    counts[blocks.contacts_by_touch + touch] += 1
    amounts[blocks.cost_by_channel + channel] += plan.ch_cost[channel]
    amounts[blocks.cost_by_touch + touch] += plan.ch_cost[channel]


@hot_inline
def deliver(plan, counters, benefit, held):
    """A touch hands over its benefit (unless a store benefit or already held); returns held."""
    bit = np.uint32(1) << np.uint32(benefit)
    if plan.ben_delivery[benefit] != STORE and (held & bit) == 0:
        held |= bit  # a benefit already held is not granted (or costed) twice
        if plan.ben_cost_kind[benefit] == PER_GRANT:
            counters.amounts[counters.blocks.cost_by_benefit + benefit] += plan.ben_cost[benefit]
    return held


# ----------------------------------------------------------------------------- 3.-4. visit, enrol
@hot_inline
def visits(shoppers, params, keys, i, state, flags, visit_scale, contact_lift):
    """A latent-active shopper visits: chance rate x traffic x contact lift / conversion.

    visit_scale is today's traffic / conversion; a prospect's rate is scaled down.
    """
    if (flags & ALIVE) == 0:
        return False
    rate = shoppers.rate[i] * (params.prospect_scale if state == PROSPECT else 1.0)
    return rng.uniform(keys.visit, i) < rate * visit_scale * contact_lift


@hot_inline
def is_birthday(keys, i, day_of_year):
    """Today is shopper i's birthday (a keyed day of the year, fixed for the population)."""
    return np.int64(rng.mix64(keys.birthday + np.uint64(i)) % np.uint64(365)) == day_of_year


@hot_inline
def enrols(plan, params, keys, i, draw_in):
    """A visiting non-member enrols: enrol_per_visit x the enrol lift of the benefits draw_in."""
    return rng.uniform(keys.enrol, i) < params.enrol_rate * lift(draw_in, plan.ben_enrol)


@hot_inline
def count_enrolment(counters, first_channel):
    """An enrolment, credited to the first channel that contacted the shopper today (or organic)."""
    counters.counts[COUNT.enrolments] += 1
    counters.counts[counters.blocks.enrol_by_channel + first_channel + 1] += 1


# ----------------------------------------------------------------------------- 5. purchase
@hot_inline
def buys(plan, params, keys, i, usable_today):
    """A visitor buys: conversion x the purchase lift of the benefits usable today."""
    return rng.uniform(keys.buy, i) < params.conversion * lift(usable_today, plan.ben_purchase)


@hot_inline
def basket_value(plan, params, keys, i, segments, usable_today):
    """The order's value: Gamma(p) x the shopper's scale x the basket lift of the benefits used."""
    scale = basket_scale(params, keys.basket_scale, i, segments)
    return rng.gamma(keys.basket, i, params.p) * scale * lift(usable_today, plan.ben_basket)


@hot_inline
def count_order(counters, basket, state, flags):
    """Orders, GMV and first-buyer counters of an order; returns the flags with the order noted."""
    counts, amounts = counters.counts, counters.amounts
    if not (flags & (BOUGHT_AS_MEMBER | BOUGHT_AS_NONMEMBER)):
        counts[COUNT.new_buyers] += 1
    if state < ENROLLED:
        amounts[AMOUNT.gmv_nonmember] += basket
        counts[COUNT.orders_nonmember] += 1
        if not (flags & BOUGHT_AS_NONMEMBER):
            counts[COUNT.new_nonmember_buyers] += 1
        return flags | BOUGHT_AS_NONMEMBER
    if flags & OLD_MEMBER:
        amounts[AMOUNT.gmv_old_member] += basket
        counts[COUNT.orders_old_member] += 1
    else:
        amounts[AMOUNT.gmv_new_member] += basket
        counts[COUNT.orders_new_member] += 1
    if not (flags & BOUGHT_AS_MEMBER):
        counts[COUNT.new_member_buyers] += 1
        if flags & OLD_MEMBER:
            counts[COUNT.new_old_member_buyers] += 1
        if flags & JOINED:
            counts[COUNT.new_joined_buyers] += 1
    return flags | BOUGHT_AS_MEMBER


@hot_inline
def redeem(plan, counters, usable_today, basket, held):
    """Every benefit usable today is used by the order, counted and costed; returns held.

    `per_redemption` costs its value, `share_of_basket` its share of the basket; benefits
    delivered by a touch or on enrolment are single use.
    """
    counts, amounts, blocks = counters
    for benefit in range(len(plan.ben_states)):
        bit = np.uint32(1) << np.uint32(benefit)
        if (usable_today & bit) == 0:
            continue
        counts[blocks.redemptions_by_benefit + benefit] += 1
        kind = plan.ben_cost_kind[benefit]
        if kind == PER_REDEMPTION:
            amounts[blocks.cost_by_benefit + benefit] += plan.ben_cost[benefit]
        elif kind == SHARE_OF_BASKET:
            amounts[blocks.cost_by_benefit + benefit] += plan.ben_cost[benefit] * basket
        if plan.ben_delivery[benefit] != STORE:
            held &= ~bit
    return held


# ----------------------------------------------------------------------------- 6. after a purchase
@hot_inline
def after_purchase(params, keys, counters, i, state, flags):
    """The lifecycle moves on; after a repeat purchase, BG/NBD dropout. Returns (state, flags).

    prospect -> nonmember_buyer; a member's first member purchase -> first_purchase, any later
    one (also from dormant or churned) -> repeat.
    """
    if state == PROSPECT:
        state = NONMEMBER_BUYER
    elif state >= ENROLLED:
        state = REPEAT if flags & MEMBER_BUYER else FIRST_PURCHASE
        flags |= MEMBER_BUYER
    if flags & EVER_BOUGHT:
        if rng.uniform(keys.dropout, i) < dropout_probability(params, keys.dropout_p, i):
            flags &= ~ALIVE
            counters.counts[COUNT.dropouts] += 1
    else:
        counters.counts[COUNT.first_purchases] += 1
    return state, flags | EVER_BOUGHT


# ----------------------------------------------------------------------------- 7. grants
@hot_inline
def grant_on_enrolment(plan, counters, segments, held):
    """Today's new member receives the on-enrolment benefits targeted at them; returns held.

    They are usable from the next day (today's purchase has already been decided).
    """
    for benefit in range(len(plan.ben_states)):
        if plan.ben_delivery[benefit] == ON_ENROL and targets(plan, benefit, ENROLLED, segments):
            held |= np.uint32(1) << np.uint32(benefit)
            if plan.ben_cost_kind[benefit] == PER_GRANT:
                counters.amounts[counters.blocks.cost_by_benefit + benefit] += plan.ben_cost[
                    benefit
                ]
    return held


# ----------------------------------------------------------------------------- 8. write-back
@hot_inline
def write_back(shoppers, counters, i, state, flags, held, last_purchase, enrol_day):
    """Store what changed of shopper i's day; count a change of state.

    Only changed values are written: most shoppers do nothing on most days. The state counts
    (the first counters, one per state) hold the day's changes; the model adds them to
    yesterday's counts.
    """
    before = shoppers.state[i]
    if state != before:
        shoppers.state[i] = state
        counters.counts[COUNT.prospect + before] -= 1
        counters.counts[COUNT.prospect + state] += 1
    if flags != shoppers.flags[i]:
        shoppers.flags[i] = flags
    if held != shoppers.held[i]:
        shoppers.held[i] = held
    if last_purchase != shoppers.last_purchase[i]:
        shoppers.last_purchase[i] = last_purchase
    if enrol_day != shoppers.enrol_day[i]:
        shoppers.enrol_day[i] = enrol_day
