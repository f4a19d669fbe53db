"""Pre-sale: deposits on pre-sale days and the balance paid, or forfeited, on the final-payment day.

On a day of a phase with `presale: true`, each order a shopper makes is, by a keyed draw under
`goods_share`, a pre-sale order: its basket (list value) is locked as a deposit on the shopper
(`shoppers.deposit`, the sum of the locked list values) and `deposit_share` of it is counted as
deposit amount, with no GMV, offer or lifecycle change; the order's BG/NBD dropout draw still
happens (the day step draws it). On the phase's final-payment day every holder pays the balance,
visiting or not, active or not (they have committed), with chance sigmoid(logit(payment_rate) +
the `payment` log-odds of the payment reminders they can use): one order of the locked value,
settled with the benefits usable that day and counted as any order; else the deposit is
forfeited. Either way the deposit is cleared. docs/model.md, "Pre-sale: deposits and final
payment", states the rules and parameters. Inlined into the day kernel; the reference model
implements the same rules in Python.
"""

from __future__ import annotations

import math

import numpy as np

from simulator.domain.lifecycle import ENROLLED
from simulator.engine import rng
from simulator.engine.audience import usable
from simulator.engine.counters import AMOUNT, COUNT
from simulator.engine.jit import hot_inline
from simulator.engine.offers import price_sensitivity, settle
from simulator.engine.steps import advance_lifecycle, basket_draw, count_order, in_birthday_month


@hot_inline
def is_deposit(params, keys, i, order):
    """Order `order` of shopper i's pre-sale day is a deposit on pre-sale goods (goods_share)."""
    return rng.uniform(rng.substream(keys.presale, order), i) < params.goods_share


@hot_inline
def place_deposit(shoppers, params, keys, counters, i, order, scale):
    """Order `order` of shopper i's day as a deposit: its list value locked until paid, counted.

    The list value is drawn as any order's (`steps.basket_draw`).
    No GMV, offers or lifecycle change until the balance is paid; the order's BG/NBD dropout
    draw is the caller's, at the decision, as for any order.
    """
    basket = basket_draw(params, keys, i, order, scale)
    shoppers.deposit[i] = shoppers.deposit[i] + basket  # stored as float32
    counters.counts[COUNT.deposits] += 1
    counters.amounts[AMOUNT.deposit_amount] += params.deposit_share * basket


@hot_inline
def payment_chance(plan, params, usable_now):
    """Chance to pay a balance: logit(payment_rate) plus the usable reminders' payment log-odds."""
    log_odds = params.logit_payment
    for b in range(len(plan.ben_payment)):
        if (usable_now >> np.uint32(b)) & np.uint32(1):
            log_odds += plan.ben_payment[b]
    return 1.0 / (1.0 + math.exp(-log_odds))


@hot_inline
def settle_balance(shoppers, plan, params, keys, counters, i, day, state, flags, held, last):
    """Shopper i's deposits due today: the balance paid as one order, or forfeited.

    Paying uses the benefits usable today (coupons valid on the payment day apply; a held payment
    reminder is used up), counts the order and its GMV by the shopper's status now, and moves the
    lifecycle on; there is no second dropout draw. last: the day of the last purchase.
    Returns (state, flags, held, day of the last purchase).
    """
    locked = np.float64(shoppers.deposit[i])
    shoppers.deposit[i] = 0.0
    counts, amounts = counters.counts, counters.amounts
    counts[COUNT.balances_due] += 1
    segments = shoppers.segments[i]
    birthday_month = plan.birthday_online[day] and in_birthday_month(plan, keys, i, plan.month[day])
    online = plan.online[day] | plan.payment_online[day]
    since_enrol = day - shoppers.enrol_day[i]
    usable_now = usable(plan, online, held, state, segments, birthday_month, since_enrol)
    if rng.uniform(keys.payment, i) >= payment_chance(plan, params, usable_now):
        counts[COUNT.balances_forfeited] += 1
        amounts[AMOUNT.deposit_forfeited] += params.deposit_share * locked
        return state, flags, held, last
    basket, paid = locked, locked
    if usable_now != 0:
        sensitivity = price_sensitivity(params, keys.sensitivity, i, segments)
        basket, paid, held = settle(plan, params, counters, usable_now, basket, sensitivity, held)
    flags = count_order(counters, basket, paid, state, flags)
    if state >= ENROLLED:
        amounts[AMOUNT.presale_gmv_member] += paid
    else:
        amounts[AMOUNT.presale_gmv_nonmember] += paid
    counts[COUNT.balances_paid] += 1
    state, flags = advance_lifecycle(counters, state, flags)
    return state, flags, held, day
