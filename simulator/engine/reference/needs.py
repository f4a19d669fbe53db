"""Need and anticipation in the reference model, one shopper at a time.

The engine's rules are in `engine/needs.py` and `steps.orders_at`. `shopper` is a
`shopper.ShopperAgent`, `day` its `day.Day`.
"""

from __future__ import annotations

from simulator.engine.counters import COUNT
from simulator.engine.reference.day import Day
from simulator.engine.reference.numbers import order_count, substream, uniform
from simulator.engine.steps import MAX_ORDERS


def orders_at(shopper, day: Day, visit_u: float, chance: float, mean: float) -> tuple[int, bool]:
    """Orders at this chance and expected visits (none unless visit_u < mean).

    Also whether the Poisson part reached MAX_ORDERS - 1.
    """
    if visit_u >= mean:
        return 0, False
    n = 1 if uniform(day.buy, shopper.index) < chance else 0
    extra = 0
    if mean > 1.0:  # more visits than one: a Poisson number of further orders
        u = uniform(substream(day.buy, 1), shopper.index)
        extra = order_count(u, chance * (mean - 1), MAX_ORDERS - 1)
    return n + extra, extra == MAX_ORDERS - 1


def ahead_share(shopper, used: list[int]) -> float:
    """Share of added orders bought ahead.

    The largest a usable benefit states, or else the population's.
    """
    stated = [shopper.model.plan.ben_ahead[b] for b in used if shopper.model.plan.ben_ahead[b] >= 0]
    return max(stated) if stated else shopper.model.params.pull_forward


def meet_need(shopper, day: Day, order: int, waiting_now: bool) -> bool:
    """A need met from stock, or deferred while waiting for a held offer: no order now."""
    ints = shopper.model.ints
    if shopper.stock > 0:
        shopper.stock -= 1
        ints[COUNT.needs_from_stock] += 1
        return True
    if waiting_now and shopper.waiting < 255:
        if uniform(substream(day.wait, order), shopper.index) < shopper.model.params.wait_share:
            shopper.waiting += 1
            ints[COUNT.needs_deferred] += 1
            return True
    return False
