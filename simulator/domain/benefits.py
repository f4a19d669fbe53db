"""Benefit types: what each is, who can use it, how it reaches a shopper and how it combines.

A benefit (权益) has a type from `BENEFIT_TYPES`. The type fixes the lifecycle states that can use
it (a scenario offering it to any other state is rejected), its default delivery and its *offer
class*, which says what terms it states and how it combines with other benefits in one order:

- ``coupon``: amount or percent off, with an optional spend threshold (满减). A shopper holding
  several coupons uses the best single one (the platform allows one store coupon per order).
- ``price``: a percent off the list price (member price, early-bird price): the best one applies.
- ``platform``: the platform's cross-store discount, amount off for every `per_spend` spent: it
  stacks with the store's coupon and price.
- ``gift``: a gift of a value with the order (optionally over a threshold): gifts add up.
- ``points``: points on the amount paid, each with a cost to the store (a liability).
- ``none``: no terms (priority purchase): its effect parameters only.

Price-family benefits (coupon, price, platform and gifts of the price family) move purchase
through their terms (`engine/offers.py`, docs/model.md "Offers"); mind-share benefits through their
effect parameters. Deliveries:

- ``store``: online for every eligible shopper who visits on the days it is online (member price,
  member day, points): no contact needed.
- ``touch``: held only by shoppers a plan touch delivered it to (coupons, win-back coupon, trial);
  single use, usable on the days it is online.
- ``on_enrol``: granted to each shopper who enrols during the campaign, usable from the next day
  (new-member gift pack).

A payment reminder (催付) acts only when its holder pays a pre-sale balance (its
`effects.payment`), never on a visit's purchase (docs/model.md "Pre-sale").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.domain.layouts import codes
from simulator.domain.lifecycle import MEMBER_STATES, STATES

NON_MEMBERS = ("prospect", "nonmember_buyer")
LAPSED = ("dormant", "churned")
BUYER_MEMBERS = ("first_purchase", "repeat")

DELIVERIES = ("store", "touch", "on_enrol")
DELIVERY = codes(DELIVERIES, np.int8)  # code of each delivery in the compiled plan
STORE = DELIVERY["store"]
ON_ENROL = DELIVERY["on_enrol"]

OFFER_CLASSES = ("none", "coupon", "price", "platform", "gift", "points")
OFFER_CLASS = codes(OFFER_CLASSES, np.int8)  # code of each offer class in the compiled plan
NO_OFFER = OFFER_CLASS["none"]
COUPON = OFFER_CLASS["coupon"]
PRICE = OFFER_CLASS["price"]
PLATFORM = OFFER_CLASS["platform"]
GIFT = OFFER_CLASS["gift"]
POINTS = OFFER_CLASS["points"]

# The offer terms each class may state (schema `Offer` fields); the others must stay unset.
OFFER_TERMS: dict[str, tuple[str, ...]] = {
    "none": (),
    "coupon": ("amount_off", "percent_off", "min_spend"),
    "price": ("percent_off",),
    "platform": ("amount_off", "per_spend"),
    "gift": ("gift_value", "min_spend"),
    "points": ("points_per_yuan", "point_value"),
}


@dataclass(frozen=True)
class BenefitType:
    """A kind of benefit: family, who can use it, delivery, offer class and special mechanics."""

    family: str  # "price" (terms drive the response) or "mind_share" (effect parameters do)
    states: tuple[str, ...]
    delivery: str
    offer: str  # one of OFFER_CLASSES
    birthday_month: bool = False  # usable only in the shopper's birthday month
    once: bool = False  # a store benefit each shopper uses at most once in the campaign
    at_payment: bool = False  # acts on paying a pre-sale balance only (effects.payment)


BENEFIT_TYPES: dict[str, BenefitType] = {
    # price / discount
    "member_coupon": BenefitType("price", MEMBER_STATES, "touch", "coupon"),
    "member_price": BenefitType("price", MEMBER_STATES, "store", "price"),
    "lockin_gift": BenefitType("price", STATES, "touch", "gift"),  # 0.01-yuan lock-in gift
    "new_member_gift": BenefitType("price", ("enrolled",), "on_enrol", "coupon"),
    "presale_gift": BenefitType("price", MEMBER_STATES, "store", "gift"),
    "early_bird_price": BenefitType("price", STATES, "store", "price"),
    "repurchase_gift": BenefitType("price", BUYER_MEMBERS + LAPSED, "touch", "gift"),
    "winback_coupon": BenefitType("price", LAPSED, "touch", "coupon"),
    "trial": BenefitType("price", NON_MEMBERS + ("enrolled",), "touch", "gift"),
    "platform_discount": BenefitType("price", STATES, "store", "platform"),  # e.g. 50 off per 300
    # mind-share / non-discount
    "points": BenefitType("mind_share", MEMBER_STATES, "store", "points"),
    "birthday_gift": BenefitType(
        "mind_share", MEMBER_STATES, "store", "gift", birthday_month=True, once=True
    ),
    "member_day": BenefitType("mind_share", MEMBER_STATES, "store", "gift"),
    "priority_purchase": BenefitType("mind_share", MEMBER_STATES, "store", "none"),
    "challenge_plan": BenefitType("mind_share", MEMBER_STATES, "store", "gift", once=True),
    # 催付 (004): a reminder to pay a pre-sale balance, held until the payment uses it
    "payment_reminder": BenefitType("mind_share", STATES, "touch", "none", at_payment=True),
}
