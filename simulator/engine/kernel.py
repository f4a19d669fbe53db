"""The day step: one Numba kernel over the shopper arrays, parallel over fixed chunks of shoppers.

Order of a shopper's day (docs/model.md explains each step; `steps` has their functions):
1. observed label: a member idle for `dormant_after` days is dormant, for `churn_after` churned
Steps 2-7 run once per slot of the day: a day split into hours (`calendar.hours`) has a slot from
00:00 and one from each later hour a touch is sent at; every other day is one slot with share 1.
2. contacts: each of the slot's touches, in plan order, reaches the shopper if the audience,
   the channel's reach, the benefit's target and the frequency cap allow, and the shopper's keyed
   priority is under the touch's threshold (capacity and budget); cost, fatigue, response lift,
   benefit delivery and reactivation of a latent-inactive shopper
3. visit: chance min(1, v) for v = rate x traffic x slot share x contact lift (of the contacts
   so far today) / conversion expected visits, for latent-active shoppers; a later slot's
   draws use keys of their own (`slot_keys`); on a final-payment day, first the balance of the
   shopper's pre-sale deposits is paid (one order) or forfeited (`presale`), visit or not
4. enrolment of a visiting non-member: enrol_per_visit x product of (1 + enrol lift)
5. orders: one with the purchase chance p of a visit, moved by the usable offers (`offers`,
   capped on the log-odds scale), plus, when v > 1, a Poisson number with mean p x (v - 1): no
   ceiling, orders follow rate x traffic x lifts; each basket Gamma(p) x scale, settled by the
   combination rules (coupon, price, platform discount, gifts, points), which count
   redemptions, discounts and costs; on a pre-sale day an order may be a deposit instead
   (`presale`: the basket is locked until the final payment, no GMV yet)
6. after each repeat purchase: BG/NBD dropout with the shopper's p (an inactive shopper stops)
7. benefits granted on enrolment (usable from the next slot: on a normal day, the next day)
8. write-back of what changed, and the change of state in the day's counters

Each chunk first picks its busy shoppers with branch-free SIMD loops (`busy.busy_shoppers`); the
steps above run for them only, since a quiet shopper's day changes and counts nothing.
Counters go to one row per chunk (no atomics); the caller sums the rows in chunk order, so results
are identical for any thread count. Nothing is allocated inside the loops.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from simulator.domain.lifecycle import ALIVE, ENROLLED, JOINED, observed_state
from simulator.engine import rng
from simulator.engine.audience import usable
from simulator.engine.busy import busy_shoppers
from simulator.engine.counters import COUNT, CounterBlocks
from simulator.engine.eligible import CountedTouches, add_eligible
from simulator.engine.jit import hot, hot_inline
from simulator.engine.needs import ahead_share, buy_ahead, meet_need, waits
from simulator.engine.offers import buy_chance, price_sensitivity, purchase_log_odds
from simulator.engine.presale import is_deposit, place_deposit, settle_balance
from simulator.engine.steps import (
    MAX_ORDERS,
    count_enrolment,
    drop_out,
    enrols,
    grant_on_enrolment,
    in_birthday_month,
    orders_today,
    place_order,
    receive_contacts,
    visit_mean,
    write_back,
)
from simulator.engine.window_buyers import count_window_buyer
from simulator.engine.workers import CHUNK, n_chunks


class Today(NamedTuple):
    """The day being stepped: what every worker needs to know about it (built by the model)."""

    day: int
    seed: np.uint64  # run seed
    touches: np.ndarray  # int64[k]: the touches sent today, by slot, in plan order within one
    thresholds: np.ndarray  # int64[k]: their priority-bin thresholds (PRIORITY_BINS: no limit)
    priority_keys: np.ndarray  # uint64[k]: their contact-priority stream keys
    slot_bounds: np.ndarray  # int64[S + 1]: slot s sends touches[slot_bounds[s]:slot_bounds[s + 1]]
    slot_share: np.ndarray  # float64[S]: the slot's share of the day's traffic (one slot: 1)
    slot_hour: np.ndarray  # int64[S]: the slot's first hour (its draws' keys: `slot_keys`)
    tomorrow: CountedTouches  # tomorrow's limited touches, counted on the way (`eligible`)


class Counters(NamedTuple):
    """Where the day step counts: integer and float rows (one per chunk) and the block offsets."""

    counts: np.ndarray  # int64[chunks, counters.Layout.n_int]; a chunk's row in `steps`
    amounts: np.ndarray  # float64[chunks, counters.Layout.n_float]; a chunk's row in `steps`
    blocks: CounterBlocks


class WorkerBuffers(NamedTuple):
    """One worker's scratch arrays, allocated once by the model."""

    histogram: np.ndarray  # int64[k, PRIORITY_BINS]: tomorrow's touches, eligible shoppers by bin
    is_busy: np.ndarray  # uint8[CHUNK]: the shopper of the chunk has anything to do today
    busy: np.ndarray  # int64[CHUNK]: the busy shoppers' indices


class DrawKeys(NamedTuple):
    """Stream keys of the day's draws (run seed) and of the shoppers' traits (population seed)."""

    visit: np.uint64
    enrol: np.uint64
    buy: np.uint64
    basket: np.uint64
    dropout: np.uint64
    reactivate: np.uint64  # one substream per touch
    aware: np.uint64  # one substream per touch
    birthday: np.uint64
    sensitivity: np.uint64  # price sensitivity, derived when the shopper may use an offer
    ahead: np.uint64  # an added order is bought ahead of need; one substream per order
    wait: np.uint64  # a need waits for a held offer; one substream per order
    presale: np.uint64  # an order is a pre-sale deposit; one substream per order
    payment: np.uint64  # a pre-sale balance is paid


@hot_inline
def draw_keys(seed, population_seed, day):
    """The day's `DrawKeys`."""
    population_seed = np.uint64(population_seed)
    return DrawKeys(
        rng.stream_key(seed, rng.VISIT, day),
        rng.stream_key(seed, rng.ENROL, day),
        rng.stream_key(seed, rng.BUY, day),
        rng.stream_key(seed, rng.BASKET, day),
        rng.stream_key(seed, rng.DROPOUT, day),
        rng.stream_key(seed, rng.REACTIVATE, day),
        rng.stream_key(seed, rng.AWARE, day),
        rng.stream_key(population_seed, rng.BIRTHDAY, 0),
        rng.stream_key(population_seed, rng.INIT_SENSITIVITY, 0),
        rng.stream_key(seed, rng.AHEAD, day),
        rng.stream_key(seed, rng.WAIT, day),
        rng.stream_key(seed, rng.PRESALE, day),
        rng.stream_key(seed, rng.PAYMENT, day),
    )


@hot_inline
def slot_keys(keys, hour):
    """The draw keys of the slot from `hour` of an hourly day (`rng.slot_key`).

    The day's draws of a later slot (visits, enrolments, orders, baskets, dropouts, buying ahead,
    waiting, deposits) use keys of their own (moving one touch's hour redraws only the slots it
    bounds); the slot from 00:00, and so a normal day, keeps the day's keys. Per-touch and trait
    keys, and the balance payment (settled in the first slot), do not depend on the slot.
    """
    return DrawKeys(
        rng.slot_key(keys.visit, hour),
        rng.slot_key(keys.enrol, hour),
        rng.slot_key(keys.buy, hour),
        rng.slot_key(keys.basket, hour),
        rng.slot_key(keys.dropout, hour),
        keys.reactivate,
        keys.aware,
        keys.birthday,
        keys.sensitivity,
        rng.slot_key(keys.ahead, hour),
        rng.slot_key(keys.wait, hour),
        rng.slot_key(keys.presale, hour),
        keys.payment,  # a balance is settled once a day, in the first slot
    )


@hot
def step_day(shoppers, plan, params, today, counters, buffers, first, step):
    """Advance one worker's chunks (first, first + step, ...) by one day.

    Chunk c's counters are added into row c of counters.counts and counters.amounts. The
    shoppers tomorrow's limited touches may reach are counted into buffers.histogram on the way
    (this saves a second pass over the population before tomorrow's capacity thresholds).
    """
    keys = draw_keys(today.seed, params.seed, today.day)
    for c in range(first, n_chunks(len(shoppers.state)), step):
        chunk_counters = Counters(counters.counts[c], counters.amounts[c], counters.blocks)
        day_chunk(shoppers, plan, params, today, keys, chunk_counters, buffers, c)


@hot
def day_chunk(shoppers, plan, params, today, day_keys, counters, buffers, c):
    """Chunk c of the shoppers through the day: the busy ones take the steps of the day.

    Compiled as a function of its own rather than inlined into `step_day` (one call per 8,192
    shoppers costs nothing measurable): inlining copied its whole inlined body again and made a
    cold start 4 s slower.
    """
    day = today.day
    online = plan.online[day]
    month = plan.month[day]
    priced = plan.priced_online[day]  # price-family benefits: their terms need the traits
    by_birthday = plan.birthday_online[day]
    windows = plan.window_of_day[day]  # KPI windows containing today (distinct buyers)
    presale = plan.presale[day]  # an order may be a pre-sale deposit
    payment_day = plan.payment_day[day]  # pre-sale balances are paid or forfeited
    visit_scale = plan.traffic[day] / params.conversion  # visit chance per unit of purchase rate
    # the buy chance of the last set of benefits without price terms: a pure function of the
    # set, reused by the next visitor with the same set rather than recomputed
    cached, last_set, last_chance = False, np.uint32(0), 0.0
    lo = c * CHUNK
    hi = min(len(shoppers.state), lo + CHUNK)
    n_busy = busy_shoppers(
        shoppers, plan, params, today, lo, hi, day_keys.visit, visit_scale, buffers
    )
    for j in range(n_busy):
        i = buffers.busy[j]
        segments = shoppers.segments[i]
        flags = shoppers.flags[i]
        held = shoppers.held[i]
        last_purchase = shoppers.last_purchase[i]
        enrol_day = shoppers.enrol_day[i]
        # 1. observed label
        last_active = max(last_purchase, enrol_day)
        state = observed_state(
            shoppers.state[i], last_active, day, params.dormant_after, params.churn_after
        )
        stock, waiting = shoppers.stock[i], shoppers.waiting[i]
        contact_lift, first_channel, ordered = 1.0, -1, 0  # of the contacts, orders so far today
        for s in range(len(today.slot_share)):  # steps 2-7 once per slot (normal day: one)
            keys = slot_keys(day_keys, today.slot_hour[s])  # the slot's draws
            # 2. contacts
            lift, channel, flags, held = receive_contacts(
                shoppers,
                plan,
                params,
                today,
                keys,
                counters,
                i,
                state,
                flags,
                held,
                last_purchase,
                today.slot_bounds[s],
                today.slot_bounds[s + 1],
            )
            contact_lift *= lift
            first_channel = channel if first_channel < 0 else first_channel
            if payment_day and shoppers.deposit[i] != 0:  # pre-sale balance due (once a day)
                state, flags, held, last_purchase = settle_balance(
                    shoppers,
                    plan,
                    params,
                    keys,
                    counters,
                    i,
                    day,
                    state,
                    flags,
                    held,
                    last_purchase,
                )
                if windows != 0 and last_purchase == day:  # the balance paid: a window order
                    count_window_buyer(
                        shoppers, plan, counters, i, windows, state, flags, enrol_day
                    )
            # 3. visit; a shopper whose wait for an offer is over buys what waited, visit or not
            slot_scale = visit_scale * today.slot_share[s]
            mean = visit_mean(shoppers, params, i, state, flags, slot_scale, contact_lift)
            visit_u = rng.uniform(keys.visit, i)
            waiting_now = waits(plan, day, held)
            released = np.uint8(0) if waiting_now else waiting
            if visit_u < mean or released > 0:
                birthday_month = by_birthday and in_birthday_month(plan, keys, i, month)
                since_enrol = day - enrol_day  # on-enrolment offers may be valid for some days
                usable_today = usable(
                    plan, online, held, state, segments, birthday_month, since_enrol
                )
                # 4. enrolment: what the shopper could use now or as a member draws them in
                joined_today = False
                if visit_u < mean:
                    counters.counts[COUNT.visits] += 1
                    if state < ENROLLED:
                        as_member = usable(
                            plan, online, held, ENROLLED, segments, birthday_month, since_enrol
                        )
                        if enrols(plan, params, keys, i, usable_today | as_member):
                            state = ENROLLED
                            enrol_day = day
                            flags |= JOINED
                            joined_today = True
                            usable_today = as_member
                            count_enrolment(counters, first_channel)
                # 5. orders with the offers usable now: the need's, and those the offers add
                scale = np.float64(shoppers.basket_scale[i])
                sensitivity = -1.0  # derived from its keyed draw when an offer needs it
                n_orders, n_need = 0, 0
                if visit_u < mean:
                    by_terms = (usable_today & priced) != 0  # else the chance is the same for every
                    if by_terms or not cached or usable_today != last_set:  # shopper with this set
                        if by_terms:
                            sensitivity = price_sensitivity(params, keys.sensitivity, i, segments)
                        expected = params.p * scale
                        log_odds = purchase_log_odds(
                            plan, params, usable_today, sensitivity, expected
                        )
                        chance = buy_chance(params, log_odds)
                        if not by_terms:
                            last_set, last_chance, cached = usable_today, chance, True
                    else:
                        chance = last_chance
                    n_orders, n_need = orders_today(
                        params, keys, counters, i, visit_u, chance, mean, contact_lift, ordered
                    )
                    ordered += n_orders
                if n_orders + released > 0 and sensitivity < 0.0:  # the offers' thresholds need it
                    sensitivity = price_sensitivity(params, keys.sensitivity, i, segments)
                share = ahead_share(plan, params, usable_today) if n_orders > n_need else 0.0
                # the needs that waited come first (the offer they waited for is usable now),
                # then today's orders; one loop, so the order's inlined code is compiled once
                slot_bought = False  # an order placed in this slot (window buyers)
                waiting -= released
                for j in range(released + n_orders):
                    k = j - released  # today's order number; negative: a need that waited
                    met = False
                    if k < 0:
                        counters.counts[COUNT.deferred_orders] += 1
                    elif k < n_need:  # a need: a BG/NBD transaction, met, deferred or bought
                        flags = drop_out(params, keys, counters, i, flags, k, shoppers.dropout[i])
                        met, stock, waiting = meet_need(
                            params, keys, counters, i, k, stock, waiting, waiting_now
                        )
                    else:  # added by offers and contacts: perhaps bought ahead of a later need
                        ahead, stock = buy_ahead(keys, counters, i, k, share, stock)
                        if not ahead:  # bought for its own sake: a BG/NBD transaction too
                            flags = drop_out(
                                params, keys, counters, i, flags, k, shoppers.dropout[i]
                            )
                    if not met and k >= 0 and presale and is_deposit(params, keys, i, k):
                        place_deposit(shoppers, params, keys, counters, i, k, scale)  # paid later
                    elif not met:
                        shopper = (i, scale, sensitivity, state, flags)
                        order = k if k >= 0 else MAX_ORDERS + j  # the waited needs' own baskets
                        state, flags, held = place_order(
                            plan, params, keys, counters, shopper, order, usable_today, held
                        )
                        last_purchase = day
                        slot_bought = True
                        usable_today = usable(
                            plan, online, held, state, segments, birthday_month, since_enrol
                        )
                    if k >= 0 and (flags & ALIVE) == 0:
                        break  # dropped out: no more orders (the waited needs were bought)
                if windows != 0 and slot_bought:  # the same membership for every order of a slot
                    count_window_buyer(
                        shoppers, plan, counters, i, windows, state, flags, enrol_day
                    )
                # 7. benefits granted on enrolment, usable from the next slot (or tomorrow)
                if joined_today:
                    held = grant_on_enrolment(plan, counters, segments, held)
        # 8. write-back; tomorrow's limited touches count the shopper as they end the day
        needs = (stock, waiting)
        write_back(shoppers, counters, i, state, flags, held, last_purchase, enrol_day, needs)
        if len(today.tomorrow.touches) > 0:
            add_eligible(shoppers, plan, params, i, day + 1, today.tomorrow, buffers.histogram)
