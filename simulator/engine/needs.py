"""Need and anticipation: purchases moved in time (docs/model.md, "Need and anticipation").

A shopper's own need makes the orders of a no-campaign day (`steps.orders_today`); offers and
contacts add orders on top. An added order may be bought ahead of a later need, which is then met
from stock without an order (stock-up, pull-forward); a need arising while the shopper holds an
offer usable soon but not today may wait for it, and is bought when the wait is over. Needs are
BG/NBD transactions: their dropout is drawn whether they are bought, met or deferred; an added
order bought for its own sake is a transaction too, one bought ahead is not (the need it meets
draws the dropout when it comes), so moving a purchase in time changes nothing else.
"""

from __future__ import annotations

import numpy as np

from simulator.engine import rng
from simulator.engine.counters import COUNT
from simulator.engine.jit import hot_inline


@hot_inline
def waits(plan, day, held):
    """The shopper holds an offer usable within the wait horizon but not today (`plan.awaited`)."""
    return (held & plan.awaited[day]) != 0


@hot_inline
def ahead_share(plan, params, usable_today):
    """Share of today's added orders bought ahead of need.

    The largest share a usable benefit states (`effects.pull_forward`), or the population's
    when none states one.
    """
    share = -1.0
    for b in range(len(plan.ben_ahead)):
        if (usable_today >> np.uint32(b)) & np.uint32(1):
            share = max(share, plan.ben_ahead[b])
    return params.pull_forward if share < 0.0 else share


@hot_inline
def meet_need(params, keys, counters, i, order, stock, waiting, waiting_now):
    """A need (order `order` of the day's need orders) met from stock or deferred, if it is.

    Met from stock when the shopper bought ahead; deferred (with chance wait_share) while they
    wait for a held offer. Returns (met without an order, stock, waiting).
    """
    if stock > 0:
        counters.counts[COUNT.needs_from_stock] += 1
        return True, stock - np.uint8(1), waiting
    if waiting_now and waiting < 255:
        if rng.uniform(rng.substream(keys.wait, order), i) < params.wait_share:
            counters.counts[COUNT.needs_deferred] += 1
            return True, stock, waiting + np.uint8(1)
    return False, stock, waiting


@hot_inline
def buy_ahead(keys, counters, i, order, share, stock):
    """An added order is bought ahead of a later need with chance `share`.

    Returns (bought ahead, stock).
    """
    counters.counts[COUNT.added_orders] += 1
    if stock < 255 and rng.uniform(rng.substream(keys.ahead, order), i) < share:
        counters.counts[COUNT.bought_ahead] += 1
        return True, stock + np.uint8(1)
    return False, stock
