"""Offers: how the terms of the benefits a shopper can use move their purchase and their order.

Two questions, both from the terms and the shopper (docs/model.md, "Offers"):

- `purchase_log_odds`: how much the usable benefits add to the log-odds of buying on a visit. Price
  offers count by their *relative depth* (the saving over what the shopper must spend to get it);
  the platform's combination rules pick which count: the best single coupon, the best single
  price, plus stackable platform discounts, plus gifts. The depth moves the log-odds through a
  saturating curve scaled by the shopper's price sensitivity; mind-share benefits add their
  effect; the total is capped at `max_log_odds` (the documented bound).
- `settle`: what an order pays. The shopper picks the coupon saving most, topping the basket
  up to its threshold when the gap is small against the saving (凑单), and tops up to a gift's
  threshold the same way; then the best price and every platform discount apply; the discount
  never exceeds the basket.

Inlined into the day kernel; the reference model implements the same rules in Python.
"""

from __future__ import annotations

import math

import numpy as np

from simulator.domain.benefits import COUPON, GIFT, PLATFORM, POINTS, PRICE, STORE
from simulator.engine import rng
from simulator.engine.jit import hot_inline


@hot_inline
def price_sensitivity(params, key, i, segments):
    """Shopper i's price sensitivity: the level of their keyed bin x their segments' multipliers.

    Levels are quantiles of a log-logistic distribution with median 1
    (`population.sensitivity_levels`); derived at a visit rather than stored (key:
    INIT_SENSITIVITY, day 0).
    """
    level = np.int64(rng.uniform(key, i) * len(params.sensitivity_levels))
    return params.sensitivity_levels[level] * params.sensitivity_by_segments[segments]


@hot_inline
def relative_depth(plan, b, expected):
    """Benefit b's saving relative to what a shopper with this expected basket must spend."""
    kind = plan.ben_offer[b]
    if kind == PRICE:
        return plan.ben_percent[b]
    if kind == PLATFORM:
        return plan.ben_amount[b] / max(expected, plan.ben_per_spend[b])
    spend = max(expected, plan.ben_min_spend[b])
    if kind == COUPON:
        return (plan.ben_amount[b] + plan.ben_percent[b] * spend) / spend
    if kind == GIFT:
        return plan.ben_gift[b] / spend
    return 0.0


@hot_inline
def purchase_log_odds(plan, params, usable, sensitivity, expected):
    """Log-odds the usable benefits add to buying on a visit, capped at params.max_log_odds."""
    best_coupon = 0.0
    best_price = 0.0
    depth = 0.0  # platform discounts and price-family gifts add up
    effect = 0.0  # mind-share effects add up
    for b in range(len(plan.ben_offer)):
        if ((usable >> np.uint32(b)) & np.uint32(1)) == np.uint32(0):
            continue
        effect += plan.ben_purchase[b]
        if not plan.ben_priced[b]:
            continue
        d = relative_depth(plan, b, expected)
        kind = plan.ben_offer[b]
        if kind == COUPON:
            best_coupon = max(best_coupon, d)
        elif kind == PRICE:
            best_price = max(best_price, d)
        else:
            depth += d
    depth += best_coupon + best_price
    offers = params.max_log_odds * -math.expm1(-sensitivity * depth / params.depth_scale)
    return min(offers + effect, params.max_log_odds)


@hot_inline
def buy_chance(params, log_odds):
    """Purchase chance of a visit: conversion_per_visit moved by `log_odds` on the logit scale."""
    if log_odds == 0.0:
        return params.conversion
    return 1.0 / (1.0 + math.exp(-(params.logit_conversion + log_odds)))


@hot_inline
def best_coupon(plan, params, usable, basket, sensitivity):
    """(coupon used or -1, basket after any top-up) for an order of `basket` at list price.

    A coupon whose threshold the basket misses is still taken if the gap is at most
    topup_per_yuan_saved x sensitivity x its saving: the shopper adds to the basket (凑单).
    The coupon saving most wins (the first of equals); a zero saving is no coupon.
    """
    chosen = -1
    saving_best = 0.0
    basket_best = basket
    for b in range(len(plan.ben_offer)):
        if ((usable >> np.uint32(b)) & np.uint32(1)) == np.uint32(0):
            continue
        if plan.ben_offer[b] != COUPON:
            continue
        spend = basket
        threshold = plan.ben_min_spend[b]
        if spend < threshold:
            saving_there = plan.ben_amount[b] + plan.ben_percent[b] * threshold
            if threshold - spend > params.topup * sensitivity * saving_there:
                continue
            spend = threshold
        saving = plan.ben_amount[b] + plan.ben_percent[b] * spend
        if saving > saving_best:
            chosen = b
            saving_best = saving
            basket_best = spend
    return chosen, basket_best


@hot_inline
def gift_topup(plan, params, usable, basket, sensitivity):
    """The basket after topping up to the threshold of any usable gift worth reaching.

    As for a coupon (`best_coupon`): a gap of at most topup_per_yuan_saved x sensitivity x the
    gift's value is filled, so a challenge plan (spend 500, get a gift) lifts baskets toward
    its threshold. Thresholds are tried in benefit order; each top-up only adds.
    """
    for b in range(len(plan.ben_offer)):
        if ((usable >> np.uint32(b)) & np.uint32(1)) == np.uint32(0):
            continue
        threshold = plan.ben_min_spend[b]
        if plan.ben_offer[b] == GIFT and basket < threshold:
            if threshold - basket <= params.topup * sensitivity * plan.ben_gift[b]:
                basket = threshold
    return basket


@hot_inline
def best_price(plan, usable):
    """The price benefit with the largest percent off (-1: none usable or none above 0)."""
    chosen = -1
    best = 0.0
    for b in range(len(plan.ben_offer)):
        if ((usable >> np.uint32(b)) & np.uint32(1)) and plan.ben_offer[b] == PRICE:
            if plan.ben_percent[b] > best:
                chosen = b
                best = plan.ben_percent[b]
    return chosen


@hot_inline
def coupon_saving(plan, b, basket):
    """What coupon b takes off a basket that meets its threshold."""
    return plan.ben_amount[b] + plan.ben_percent[b] * basket


@hot_inline
def platform_saving(plan, b, basket):
    """What platform discount b takes off a basket: amount_off for every per_spend."""
    return math.floor(basket / plan.ben_per_spend[b]) * plan.ben_amount[b]


@hot_inline
def settle(plan, params, counters, usable_today, basket, sensitivity, held):
    """What an order pays and which benefits it uses; returns (list value, paid, held).

    The best coupon (with any top-up to its threshold, then to a gift's), then the best price
    and every platform discount, each taking at most what is left of the basket (`offers`);
    gifts whose threshold the basket meets are given; points accrue on what is paid. Each
    benefit used is counted as a redemption, its discount or cost booked to it; offers
    delivered by a touch or on enrolment, and store benefits used once, are used up.
    """
    counts, amounts, blocks = counters
    coupon, basket = best_coupon(plan, params, usable_today, basket, sensitivity)
    basket = gift_topup(plan, params, usable_today, basket, sensitivity)
    price = best_price(plan, usable_today)
    left = basket
    if price >= 0:
        left = take(plan, counters, price, plan.ben_percent[price] * basket, left)
    if coupon >= 0:
        left = take(plan, counters, coupon, coupon_saving(plan, coupon, basket), left)
    for b in range(len(plan.ben_offer)):
        bit = np.uint32(1) << np.uint32(b)
        if (usable_today & bit) == 0:
            continue
        kind = plan.ben_offer[b]
        if kind == PLATFORM:
            saving = platform_saving(plan, b, basket)
            if saving <= 0.0:
                continue
            left = take(plan, counters, b, saving, left)
        elif kind == GIFT:
            if basket < plan.ben_min_spend[b]:
                continue
            amounts[blocks.cost_by_benefit + b] += plan.ben_gift[b]
        elif kind == COUPON or kind == PRICE:
            if b != coupon and b != price:
                continue
        counts[blocks.redemptions_by_benefit + b] += 1
        if kind == POINTS:
            amounts[blocks.cost_by_benefit + b] += plan.ben_point_cost[b] * left
        if plan.ben_delivery[b] != STORE:
            held &= ~bit  # a held offer is single use
        elif plan.ben_once[b]:
            held |= bit  # a store benefit used once: its bit marks it used
    return basket, left, held


@hot_inline
def take(plan, counters, b, saving, left):
    """Benefit b takes `saving` off what is left to pay (never below 0); returns what is left."""
    saving = min(saving, left)
    counters.amounts[counters.blocks.discount_by_benefit + b] += saving
    return left - saving
