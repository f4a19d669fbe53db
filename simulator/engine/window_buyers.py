"""Distinct buyers of the KPI windows: a shopper's first member and non-member order in each.

Called by `kernel.day_chunk` for a shopper who ordered on a day some KPI window contains (a day
in no window costs the test of a zero). Two bits per window of the shopper's `window_buys` mark
what they have bought in it, so a union of windows has at most the sum of its parts' buyers.
"""

from __future__ import annotations

import numpy as np

from simulator.domain.lifecycle import ENROLLED, JOINED, OLD_MEMBER
from simulator.engine.counters import WINDOW_BUYER, WINDOW_BUYERS
from simulator.engine.jit import hot_inline


@hot_inline
def count_window_buyer(shoppers, plan, counters, i, windows, state, flags, enrol_day):
    """Shopper i's order in each KPI window containing today: counted if their first of a kind.

    Bits 2w and 2w + 1 of `window_buys` mark a member and a non-member purchase in window w. The
    first member purchase of the window counts a member buyer, an old-member buyer if the shopper
    is an old member now, a joined buyer if they enrolled in the window; the first non-member
    purchase a non-member buyer; the first of either a buyer (`counters.WINDOW_BUYERS`).
    """
    bought = np.uint32(shoppers.window_buys[i])
    seen = bought
    member = state >= ENROLLED
    for w in range(len(plan.window_start)):
        if (windows >> np.uint8(w)) & np.uint8(1) == 0:
            continue
        pair = (bought >> np.uint32(2 * w)) & np.uint32(3)
        slot = counters.blocks.buyers_by_window + len(WINDOW_BUYERS) * w
        if pair == 0:
            counters.counts[slot + WINDOW_BUYER.buyers] += 1
        if member and (pair & np.uint32(1)) == 0:
            counters.counts[slot + WINDOW_BUYER.member_buyers] += 1
            if flags & OLD_MEMBER:
                counters.counts[slot + WINDOW_BUYER.old_member_buyers] += 1
            if flags & JOINED and enrol_day >= plan.window_start[w]:
                counters.counts[slot + WINDOW_BUYER.joined_buyers] += 1
            bought |= np.uint32(1) << np.uint32(2 * w)
        elif not member and (pair & np.uint32(2)) == 0:
            counters.counts[slot + WINDOW_BUYER.non_member_buyers] += 1
            bought |= np.uint32(2) << np.uint32(2 * w)
    if bought != seen:
        shoppers.window_buys[i] = np.uint16(bought)
