"""The reference model's offer rules: `engine/offers.py` and the order settlement, in Python.

Written from docs/model.md ("Offers") rather than called from the engine, so that the equivalence
test checks the engine against the documented rules.
"""

from __future__ import annotations

import math

from simulator.domain.benefits import COUPON, GIFT, PLATFORM, POINTS, PRICE, STORE


def relative_depth(plan, b: int, expected: float) -> float:
    """Saving of benefit b over what a shopper with this expected basket must spend to get it."""
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


def purchase_log_odds(plan, params, usable: list[int], sensitivity: float, expected: float):
    """Log-odds the usable benefits add to buying, capped at max_log_odds.

    Best coupon + best price + platform discounts + price gifts give the depth, through the
    saturating curve; mind-share effects add.
    """
    coupons = [0.0]
    prices = [0.0]
    depth = 0.0
    effect = 0.0
    for b in usable:
        effect += plan.ben_purchase[b]
        if not plan.ben_priced[b]:
            continue
        d = relative_depth(plan, b, expected)
        if plan.ben_offer[b] == COUPON:
            coupons.append(d)
        elif plan.ben_offer[b] == PRICE:
            prices.append(d)
        else:
            depth += d
    depth += max(coupons) + max(prices)
    offers = params.max_log_odds * -math.expm1(-sensitivity * depth / params.depth_scale)
    return min(offers + effect, params.max_log_odds)


def buy_chance(params, log_odds: float) -> float:
    """conversion_per_visit moved by log_odds on the logit scale."""
    if log_odds == 0.0:
        return params.conversion
    return 1.0 / (1.0 + math.exp(-(params.logit_conversion + log_odds)))


def choose_coupon(plan, params, usable: list[int], basket: float, sensitivity: float):
    """(coupon or -1, basket): the coupon saving most, topping up to its threshold if worth it."""
    chosen, best, spent = -1, 0.0, basket
    for b in usable:
        if plan.ben_offer[b] != COUPON:
            continue
        spend, threshold = basket, plan.ben_min_spend[b]
        if spend < threshold:
            saving_there = plan.ben_amount[b] + plan.ben_percent[b] * threshold
            if threshold - spend > params.topup * sensitivity * saving_there:
                continue
            spend = threshold
        saving = plan.ben_amount[b] + plan.ben_percent[b] * spend
        if saving > best:
            chosen, best, spent = b, saving, spend
    return chosen, spent


def settle(shopper, usable: list[int], basket: float, sensitivity: float) -> tuple[float, float]:
    """Apply the combination rules to an order; book redemptions, discounts, costs; (list, paid)."""
    model = shopper.model
    plan, params, lay, ints, floats = (
        model.plan,
        model.params,
        model.layout,
        model.ints,
        model.floats,
    )
    coupon, basket = choose_coupon(plan, params, usable, basket, sensitivity)
    for b in usable:  # a gift's threshold is worth reaching like a coupon's
        threshold = plan.ben_min_spend[b]
        if plan.ben_offer[b] == GIFT and basket < threshold:
            if threshold - basket <= params.topup * sensitivity * plan.ben_gift[b]:
                basket = threshold
    prices = [b for b in usable if plan.ben_offer[b] == PRICE and plan.ben_percent[b] > 0.0]
    price = max(prices, key=lambda b: (plan.ben_percent[b], -b)) if prices else -1
    left = basket

    def take(b: int, saving: float) -> None:
        nonlocal left
        saving = min(saving, left)
        floats[lay.discount_by_benefit + b] += saving
        left -= saving

    if price >= 0:
        take(price, plan.ben_percent[price] * basket)
    if coupon >= 0:
        take(coupon, plan.ben_amount[coupon] + plan.ben_percent[coupon] * basket)
    for b in usable:
        kind = plan.ben_offer[b]
        if kind == PLATFORM:
            saving = math.floor(basket / plan.ben_per_spend[b]) * plan.ben_amount[b]
            if saving <= 0.0:
                continue
            take(b, saving)
        elif kind == GIFT:
            if basket < plan.ben_min_spend[b]:
                continue
            floats[lay.cost_by_benefit + b] += plan.ben_gift[b]
        elif kind in (COUPON, PRICE) and b not in (coupon, price):
            continue
        ints[lay.redemptions_by_benefit + b] += 1
        if kind == POINTS:
            floats[lay.cost_by_benefit + b] += plan.ben_point_cost[b] * left
        if plan.ben_delivery[b] != STORE:
            shopper.benefits_held.discard(b)  # a held offer is single use
        elif plan.ben_once[b]:
            shopper.benefits_held.add(b)  # a store benefit used once: marked used
    return basket, left
