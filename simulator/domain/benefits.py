"""Benefit types: what each is, who can use it, and how it reaches a shopper.

A benefit (权益) has a type from `BENEFIT_TYPES`. The type fixes the lifecycle states that can use
it (a scenario offering it to any other state is rejected) and its default delivery:

- ``store``: online for every eligible shopper who visits on the days it is online (member price,
  member day, points): no contact needed.
- ``touch``: held only by shoppers a plan touch delivered it to (coupons, win-back coupon, trial);
  single use, usable on the days it is online.
- ``on_enrol``: granted to each shopper who enrols during the campaign, usable from the next day
  (new-member gift pack).

A type may also carry special mechanics the engine honours (`BenefitType.only_on_birthday`).
Effects and costs are per benefit in the scenario; the engine applies them in its day steps
(`simulator/engine/steps.py`).
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

COST_KINDS = ("per_redemption", "per_grant", "share_of_basket")
COST_KIND = codes(COST_KINDS, np.int8)  # code of each cost kind in the compiled plan
PER_REDEMPTION = COST_KIND["per_redemption"]  # the cost's value for each order that uses it
PER_GRANT = COST_KIND["per_grant"]  # the value for each shopper it is delivered or granted to
SHARE_OF_BASKET = COST_KIND["share_of_basket"]  # the value x the basket of each order using it


@dataclass(frozen=True)
class BenefitType:
    """A kind of benefit: its family, who can use it, its default delivery and special mechanics."""

    family: str  # "price" (discount) or "mind_share" (non-discount)
    states: tuple[str, ...]
    delivery: str
    only_on_birthday: bool = False  # usable only on the shopper's birthday


BENEFIT_TYPES: dict[str, BenefitType] = {
    # price / discount
    "member_coupon": BenefitType("price", MEMBER_STATES, "touch"),
    "member_price": BenefitType("price", MEMBER_STATES, "store"),
    "lockin_gift": BenefitType("price", STATES, "touch"),  # 0.01-yuan lock-in member gift
    "new_member_gift": BenefitType("price", ("enrolled",), "on_enrol"),
    "presale_gift": BenefitType("price", MEMBER_STATES, "store"),
    "early_bird_price": BenefitType("price", STATES, "store"),
    "repurchase_gift": BenefitType("price", BUYER_MEMBERS + LAPSED, "touch"),
    "winback_coupon": BenefitType("price", LAPSED, "touch"),
    "trial": BenefitType("price", NON_MEMBERS + ("enrolled",), "touch"),
    # mind-share / non-discount
    "points": BenefitType("mind_share", MEMBER_STATES, "store"),
    "birthday_gift": BenefitType("mind_share", MEMBER_STATES, "store", only_on_birthday=True),
    "member_day": BenefitType("mind_share", MEMBER_STATES, "store"),
    "priority_purchase": BenefitType("mind_share", MEMBER_STATES, "store"),
    "challenge_plan": BenefitType("mind_share", MEMBER_STATES, "store"),
}
