"""A reference shopper's pre-sale: deposits, and the balance paid or forfeited on its day.

The rules of `engine/presale.py`, one shopper at a time (docs/model.md, "Pre-sale: deposits and
final payment"). `shopper` is a `shopper.ShopperAgent`, `day` its `day.Day`.
"""

from __future__ import annotations

import math

from simulator.domain.lifecycle import ENROLLED
from simulator.engine.counters import AMOUNT, COUNT
from simulator.engine.reference.numbers import f32, substream, uniform


def is_deposit(shopper, day, order: int) -> bool:
    """On a pre-sale day, order `order` is a deposit on pre-sale goods (chance goods_share)."""
    if not day.presale:
        return False
    return uniform(substream(day.deposit, order), shopper.index) < shopper.model.params.goods_share


def place_deposit(shopper, day, order: int) -> None:
    """Order `order` is a pre-sale deposit: its list value locked until paid, counted.

    No GMV, offers or lifecycle yet; its dropout draw is the caller's, as for any order.
    """
    basket = shopper.basket(day, order)
    shopper.deposit = f32(shopper.deposit + basket)
    shopper.model.ints[COUNT.deposits] += 1
    shopper.model.floats[AMOUNT.deposit_amount] += shopper.model.params.deposit_share * basket


def settle_balance(shopper, day, st: int) -> int:
    """The deposits due today: balance paid as one order, or forfeited; the new state.

    The chance is sigmoid(logit(payment_rate) + the payment log-odds of the reminders usable
    now); paying uses the benefits usable today, counts the order by the status now and moves
    the lifecycle on, without a dropout draw.
    """
    plan, params = shopper.model.plan, shopper.model.params
    ints, floats = shopper.model.ints, shopper.model.floats
    locked, shopper.deposit = shopper.deposit, 0.0
    ints[COUNT.balances_due] += 1
    birthday_month = plan.month_of_day[shopper.birthday] == day.month
    used = shopper.usable(day, st, birthday_month, day.online | day.payment_online)
    log_odds = params.logit_payment + sum(plan.ben_payment[b] for b in used)
    if uniform(day.payment, shopper.index) >= 1.0 / (1.0 + math.exp(-log_odds)):
        ints[COUNT.balances_forfeited] += 1
        floats[AMOUNT.deposit_forfeited] += params.deposit_share * locked
        return st
    paid = shopper.pay(day, st, used, locked)
    member = st >= ENROLLED
    floats[AMOUNT.presale_gmv_member if member else AMOUNT.presale_gmv_nonmember] += paid
    ints[COUNT.balances_paid] += 1
    shopper.last_purchase = day.d
    return shopper.advance_lifecycle(st)
