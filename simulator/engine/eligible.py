"""Counting, by keyed priority bin, the shoppers each capacity-limited touch may reach.

The model turns these histograms into each touch's priority-bin threshold (`model._thresholds`):
a touch takes whole bins from the lowest up while they fit its channel's capacity and its budget.
A touch's first day needs a pass of its own (`count_eligible`); after that the day step counts
tomorrow's touches on its way through the shoppers (`add_eligible`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from simulator.domain.lifecycle import observed_state, tags
from simulator.engine import rng
from simulator.engine.audience import reachable
from simulator.engine.jit import hot, hot_inline
from simulator.engine.workers import CHUNK, n_chunks


class CountedTouches(NamedTuple):
    """Touches whose reachable shoppers are counted, with their keys and the bins worth counting."""

    touches: np.ndarray  # int64[k]: touch indices
    keys: np.ndarray  # uint64[k]: their contact-priority stream keys on the day counted
    bounds: np.ndarray  # int64[k]: only bins below the bound are counted (PRIORITY_BINS: all)


@hot
def count_eligible(shoppers, plan, params, day, counted, histogram, first, step):
    """histogram[k, bin]: shoppers counted.touches[k] may reach on the day, by priority bin.

    One worker's share: chunks first, first + step, ... (`workers.on_workers`); integer counts
    add up exactly, so each worker has its own histogram.
    """
    n = len(shoppers.state)
    for c in range(first, n_chunks(n), step):
        for i in range(c * CHUNK, min(n, (c + 1) * CHUNK)):
            add_eligible(shoppers, plan, params, i, day, counted, histogram)


@hot_inline
def add_eligible(shoppers, plan, params, i, day, counted, histogram):
    """Count shopper i, as their arrays stand at the start of the day, in each touch's histogram.

    The priority bin is drawn first: a shopper in a bin at or above the touch's bound cannot be
    chosen, so the (dearer) eligibility test is skipped for them.
    """
    segments = shoppers.segments[i]
    label = -1  # the observed state, computed when first needed
    tag_word = np.uint32(0)
    for k in range(len(counted.touches)):
        touch = counted.touches[k]
        required = plan.t_segments[touch]
        if required != 0 and (np.uint32(segments) & required) == 0:
            continue  # none of the segments the touch requires
        priority = rng.priority_bin(counted.keys[k], i)
        if priority >= counted.bounds[k]:
            continue
        if label < 0:
            last_purchase = shoppers.last_purchase[i]
            last_active = max(last_purchase, shoppers.enrol_day[i])
            label = observed_state(
                shoppers.state[i], last_active, day, params.dormant_after, params.churn_after
            )
            tag_word = tags(
                label,
                segments,
                shoppers.flags[i],
                last_purchase,
                day,
                params.recent_days,
                shoppers.deposit[i],
            )
        if reachable(plan, shoppers, i, touch, label, segments, tag_word):
            histogram[k, priority] += 1
