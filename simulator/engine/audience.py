"""Who a touch may reach and which benefits a shopper may use: tests the day step shares.

A shopper is matched by their tag word (`lifecycle.tags`), benefits by the state bits and
segment bits the plan compiled for them. Inlined into the kernels (`jit.hot_inline`).
"""

from __future__ import annotations

import numpy as np

from simulator.domain.benefits import STORE
from simulator.domain.lifecycle import STATE0
from simulator.engine.jit import hot_inline


@hot_inline
def targets(plan, benefit, state, segments):
    """The benefit may be used by a shopper in this state with these segment bits."""
    if ((plan.ben_states[benefit] >> np.uint32(STATE0 + state)) & np.uint32(1)) == np.uint32(0):
        return False
    wanted = plan.ben_segments[benefit]
    return wanted == 0 or (np.uint32(segments) & wanted) != 0


@hot_inline
def reachable(plan, shoppers, i, touch, state, segments, tag_word):
    """The touch may contact shopper i today: audience, channel reach, benefit target, cap."""
    channel = plan.t_channel[touch]
    if (tag_word & plan.t_audience[touch]) == 0 or (tag_word & plan.t_exclude[touch]) != 0:
        return False
    if (tag_word & plan.ch_reach[channel]) == 0 or (tag_word & plan.ch_kind_reach[channel]) == 0:
        return False
    benefit = plan.t_benefit[touch]
    if benefit >= 0 and not targets(plan, benefit, state, segments):
        return False
    slot = plan.ch_cap_slot[channel]
    return slot < 0 or shoppers.contacts[i, slot] < plan.ch_freq_cap[channel]


@hot_inline
def usable(plan, online, held, state, segments, birthday_month, since_enrol):
    """Bits of the benefits the shopper can use today.

    A benefit is usable when online and either held (delivered by a touch or on enrolment: the
    target decided who got it, the holder keeps it whatever their state now) or a store benefit
    whose target includes the shopper and, if used once only, not used yet (its held bit); a
    birthday benefit only in the shopper's birthday month; an on-enrolment offer with
    `valid_days` only until that many days after enrolment (since_enrol: days since).
    """
    bits = np.uint32(0)
    for benefit in range(len(plan.ben_states)):
        bit = np.uint32(1) << np.uint32(benefit)
        if (online & bit) == 0:
            continue
        if plan.ben_birthday_month[benefit] and not birthday_month:
            continue
        if plan.ben_delivery[benefit] != STORE:
            if held & bit and since_enrol <= plan.ben_valid_days[benefit]:
                bits |= bit
        elif targets(plan, benefit, state, segments):
            if not (plan.ben_once[benefit] and held & bit):
                bits |= bit
    return bits
