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

from simulator.domain.benefits import ON_ENROL, STORE
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
from simulator.engine.audience import reachable, targets
from simulator.engine.counters import AMOUNT, COUNT
from simulator.engine.jit import hot_inline
from simulator.engine.offers import settle
from simulator.engine.rng import PRIORITY_BINS

MAX_ORDERS = 100  # orders of one shopper in a day; days that reach it are counted, not hidden


# ----------------------------------------------------------------------------- 2. contacts
@hot_inline
def receive_contacts(
    shoppers, plan, params, today, keys, counters, i, state, flags, held, last_purchase, lo, hi
):
    """Each of today's touches lo..hi-1 (a slot's), in plan order, that may reach i contacts them.

    A touch reaches the shopper if they have one of the segments it requires, their keyed
    priority is under its threshold (capacity and budget), and the audience, channel reach,
    benefit target and frequency cap allow (`audience.reachable`). A contact is counted and
    costed, lifts the visit chance (by the channel's response to the shopper's segments, damped
    by fatigue), hands over the touch's offer (held if noticed) and may reactivate a
    latent-inactive shopper.

    The audience tags are the shopper's as the slot starts (last_purchase: today if they have
    ordered in an earlier slot).

    Returns:
        (contact lift, first channel that made contact or -1, flags, held benefits).
    """
    segments = shoppers.segments[i]
    contact_lift = 1.0
    first_channel = -1
    load = -1.0  # fatigue load, computed at the slot's first contact
    tag_word = np.uint32(0)  # computed when first needed (never 0: TAG_ALL is set)
    for k in range(lo, hi):
        touch = today.touches[k]
        required = plan.t_segments[touch]
        if required != 0 and (np.uint32(segments) & required) == 0:
            continue  # none of the segments the touch requires
        # the priority test first: it is cheaper and rejects most under a tight cap
        threshold = today.thresholds[k]
        if threshold < PRIORITY_BINS and rng.priority_bin(today.priority_keys[k], i) >= threshold:
            continue
        if tag_word == 0:
            tag_word = tags(
                state,
                segments,
                flags,
                last_purchase,
                today.day,
                params.recent_days,
                shoppers.deposit[i],
            )
        if not reachable(plan, shoppers, i, touch, state, segments, tag_word):
            continue
        channel = plan.t_channel[touch]
        slot = plan.ch_cap_slot[channel]
        if slot >= 0:  # counted only where a frequency cap needs it (cap <= 255)
            shoppers.contacts[i, slot] += 1
        if load < 0.0:
            load = shoppers.fatigue[i] * params.decay_after[today.day - shoppers.last_contact[i]]
        response = math.exp(-plan.ch_fatigue[channel] * load)
        segment_response = plan.ch_segment_response[channel, segments]
        contact_lift *= 1.0 + plan.ch_lift[channel] * segment_response * response
        load += 1.0
        if first_channel < 0:
            first_channel = channel
        count_contact(plan, counters, channel, touch)
        benefit = plan.t_benefit[touch]
        if benefit < 0:
            continue  # a bare reminder
        held = deliver(plan, counters, keys, i, touch, channel, benefit, held)
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
def deliver(plan, counters, keys, i, touch, channel, benefit, held):
    """A touch hands over its offer (unless a store benefit or already held); returns held.

    Handing over is a grant (counted, and its grant cost charged); the shopper holds the offer
    only if they notice it: a keyed draw against the channel's awareness.
    """
    bit = np.uint32(1) << np.uint32(benefit)
    if plan.ben_delivery[benefit] == STORE or (held & bit) != 0:
        return held  # a benefit already held is not granted (or costed) twice
    grant(plan, counters, benefit)
    aware = plan.ch_awareness[channel]
    if aware >= 1.0 or rng.uniform(rng.substream(keys.aware, touch), i) < aware:
        held |= bit
    return held


@hot_inline
def grant(plan, counters, benefit):
    """An offer handed over (by a touch or on enrolment): counted, grant cost charged."""
    counters.counts[counters.blocks.grants_by_benefit + benefit] += 1
    counters.amounts[counters.blocks.cost_by_benefit + benefit] += plan.ben_grant_cost[benefit]


# ----------------------------------------------------------------------------- 3.-4. visit, enrol
@hot_inline
def visit_mean(shoppers, params, i, state, flags, visit_scale, contact_lift):
    """Expected visits of shopper i today: rate x traffic x contact lift / conversion.

    0 if latent-inactive; a prospect's rate is scaled down. visit_scale: traffic / conversion.
    """
    if (flags & ALIVE) == 0:
        return 0.0
    rate = shoppers.rate[i] * (params.prospect_scale if state == PROSPECT else 1.0)
    return rate * visit_scale * contact_lift


@hot_inline
def order_count(u, mean, most):
    """The Poisson(mean) count at uniform u (inverse distribution function), at most `most`.

    A visiting shopper's orders beyond the first when they make more than one visit's worth of
    visits (v > 1 expected): mean p x (v - 1), so orders follow rate x traffic x lifts without
    a ceiling. u < 1 - mean <= exp(-mean) gives 0 without an exponential.
    """
    if u < 1.0 - mean:
        return 0
    term = math.exp(-mean)
    cdf = term
    n = 0
    while u >= cdf and n < most:
        n += 1
        term *= mean / n
        cdf += term
    return n


@hot_inline
def orders_at(keys, i, visit_u, chance, mean):
    """Orders of a shopper whose visit draw is visit_u, at this chance and expected visits.

    None unless visit_u < mean; else one with the purchase chance, plus a Poisson number with
    mean chance x (mean - 1) when more than one visit is expected: no ceiling, orders follow
    rate x traffic x lifts. The draws are shared by every (chance, mean), so the count grows
    with both (the need count is never above the day's orders). Returns (orders, the Poisson
    part reached MAX_ORDERS - 1).
    """
    if visit_u >= mean:
        return 0, False
    n = 1 if rng.uniform(keys.buy, i) < chance else 0
    extra = 0
    if mean > 1.0:  # more visits than one: more orders, no ceiling
        u = rng.uniform(rng.substream(keys.buy, 1), i)
        extra = order_count(u, chance * (mean - 1.0), MAX_ORDERS - 1)
    return n + extra, extra == MAX_ORDERS - 1


@hot_inline
def orders_today(params, keys, counters, i, visit_u, chance, mean, contact_lift, before):
    """A visitor's orders in a slot of today, and how many of them the shopper's own need makes.

    The need: the orders at the purchase chance without any benefit and the visits without the
    contacts' lift (what the no-campaign day gives); the rest are added by offers and contacts.
    Counted: a buyer-day, a day with several orders (once a day: `before` is the shopper's
    orders in earlier slots), a slot whose orders reached MAX_ORDERS.
    Returns (orders, need orders).
    """
    n, capped = orders_at(keys, i, visit_u, chance, mean)
    need, _ = orders_at(keys, i, visit_u, params.conversion, mean / contact_lift)
    if capped:
        counters.counts[COUNT.order_cap_days] += 1
    if n > 0 and before == 0:
        counters.counts[COUNT.buyer_days] += 1
    if n + before > 1 and before <= 1:
        counters.counts[COUNT.multi_order_days] += 1
    return n, min(need, n)


@hot_inline
def in_birthday_month(plan, keys, i, month):
    """Today is in shopper i's birthday month (a keyed day of the year, fixed per population)."""
    birthday = np.int64(rng.mix64(keys.birthday + np.uint64(i)) % np.uint64(365))
    return plan.month_of_day[birthday] == month


@hot_inline
def enrols(plan, params, keys, i, draw_in):
    """A visiting non-member enrols: enrol_per_visit x product of (1 + enrol lift) of draw_in."""
    x = params.enrol_rate
    for b in range(len(plan.ben_enrol)):
        if (draw_in >> np.uint32(b)) & np.uint32(1):
            x *= 1.0 + plan.ben_enrol[b]
    return rng.uniform(keys.enrol, i) < x


@hot_inline
def count_enrolment(counters, first_channel):
    """An enrolment, credited to the first channel that contacted the shopper today (or organic)."""
    counters.counts[COUNT.enrolments] += 1
    counters.counts[counters.blocks.enrol_by_channel + first_channel + 1] += 1


# ----------------------------------------------------------------------------- 5. purchase
@hot_inline
def basket_draw(params, keys, i, order, scale):
    """List value of the day's order number `order`: Gamma(p) x the shopper's scale (1/nu)."""
    return rng.gamma(rng.substream(keys.basket, order), i, params.p) * scale


@hot_inline
def count_order(counters, basket, paid, state, flags):
    """Orders, GMV (paid; list) and first-buyer counters; returns the flags with the order noted."""
    counts, amounts = counters.counts, counters.amounts
    amounts[AMOUNT.gmv_list] += basket
    if not (flags & (BOUGHT_AS_MEMBER | BOUGHT_AS_NONMEMBER)):
        counts[COUNT.new_buyers] += 1
    if state < ENROLLED:
        amounts[AMOUNT.gmv_nonmember] += paid
        counts[COUNT.orders_nonmember] += 1
        if not (flags & BOUGHT_AS_NONMEMBER):
            counts[COUNT.new_nonmember_buyers] += 1
        return flags | BOUGHT_AS_NONMEMBER
    if flags & OLD_MEMBER:
        amounts[AMOUNT.gmv_old_member] += paid
        counts[COUNT.orders_old_member] += 1
    else:
        amounts[AMOUNT.gmv_new_member] += paid
        counts[COUNT.orders_new_member] += 1
    if not (flags & BOUGHT_AS_MEMBER):
        counts[COUNT.new_member_buyers] += 1
        if flags & OLD_MEMBER:
            counts[COUNT.new_old_member_buyers] += 1
        if flags & JOINED:
            counts[COUNT.new_joined_buyers] += 1
    return flags | BOUGHT_AS_MEMBER


@hot_inline
def place_order(plan, params, keys, counters, shopper, order, usable_today, held):
    """Order number `order` of the day: basket, settlement, GMV counters, lifecycle.

    shopper: (index, basket scale, price sensitivity, state, flags). Returns (state, flags,
    held); the BG/NBD dropout of a need is drawn by the caller (`drop_out`).
    """
    i, scale, sensitivity, state, flags = shopper
    basket = basket_draw(params, keys, i, order, scale)
    paid = basket
    if usable_today != 0:  # offers to apply
        basket, paid, held = settle(plan, params, counters, usable_today, basket, sensitivity, held)
    flags = count_order(counters, basket, paid, state, flags)
    state, flags = advance_lifecycle(counters, state, flags)
    return state, flags, held


# ----------------------------------------------------------------------------- 6. after a purchase
@hot_inline
def advance_lifecycle(counters, state, flags):
    """The lifecycle after a purchase; returns (state, flags).

    prospect -> nonmember_buyer; a member's first member purchase -> first_purchase, any later
    one (also from dormant or churned) -> repeat. A shopper's first purchase ever is counted.
    """
    if state == PROSPECT:
        state = NONMEMBER_BUYER
    elif state >= ENROLLED:
        state = REPEAT if flags & MEMBER_BUYER else FIRST_PURCHASE
        flags |= MEMBER_BUYER
    if not flags & EVER_BOUGHT:
        counters.counts[COUNT.first_purchases] += 1
    return state, flags | EVER_BOUGHT


@hot_inline
def drop_out(params, keys, counters, i, flags, order, p):
    """BG/NBD dropout, chance p, after a repeat purchase (order `order` of the day); the flags.

    With `dropout.after_first_purchase` (MBG/NBD) the first purchase ever may end the shopper's
    activity too. Called before `advance_lifecycle` marks the purchase.
    """
    if flags & EVER_BOUGHT or params.dropout_after_first:
        dropout = rng.substream(keys.dropout, order)
        if rng.uniform(dropout, i) < p:
            flags &= ~ALIVE
            counters.counts[COUNT.dropouts] += 1
    return flags


# ----------------------------------------------------------------------------- 7. grants
@hot_inline
def grant_on_enrolment(plan, counters, segments, held):
    """Today's new member receives the on-enrolment benefits targeted at them; returns held.

    They are usable from the next day (today's purchase has already been decided).
    """
    for benefit in range(len(plan.ben_states)):
        if plan.ben_delivery[benefit] == ON_ENROL and targets(plan, benefit, ENROLLED, segments):
            held |= np.uint32(1) << np.uint32(benefit)
            grant(plan, counters, benefit)
    return held


# ----------------------------------------------------------------------------- 8. write-back
@hot_inline
def write_back(shoppers, counters, i, state, flags, held, last_purchase, enrol_day, needs):
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
    stock, waiting = needs
    if stock != shoppers.stock[i]:
        shoppers.stock[i] = stock
    if waiting != shoppers.waiting[i]:
        shoppers.waiting[i] = waiting
