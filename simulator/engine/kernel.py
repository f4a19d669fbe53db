"""The day step: one Numba kernel over the shopper arrays, parallel over fixed chunks of shoppers.

Order of a shopper's day (docs/model.md explains each step):
1. observed label: a member idle for `dormant_after` days is dormant, for `churn_after` churned
2. contacts: each of the day's touches, in plan order, reaches the shopper if the audience,
   the channel's reach, the benefit's target and the frequency cap allow, and the shopper's keyed
   priority is under the touch's threshold (capacity and budget); cost, fatigue, response lift,
   benefit delivery and reactivation of a latent-inactive shopper
3. visit: P = min(1, rate x traffic x contact lift / conversion) for latent-active shoppers
4. enrolment of a visiting non-member: enrol_per_visit x product of (1 + enrol lift)
5. purchase: conversion x product of (1 + purchase lift); basket Gamma(p) x scale x
   product of (1 + basket lift); benefits used are redeemed and costed
6. after a repeat purchase: BG/NBD dropout with the shopper's p
7. benefits granted on enrolment (usable from the next day), then the day's counters

Each chunk first picks its busy shoppers with branch-free SIMD loops (`busy_shoppers`); the
steps above run for them only, since a quiet shopper's day changes and counts nothing.
Counters go to one row per chunk (no atomics); the caller sums the rows in chunk order, so results
are identical for any thread count. Nothing is allocated inside the loops.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from simulator.domain.lifecycle import (
    ALIVE,
    BOUGHT_AS_MEMBER,
    BOUGHT_AS_NONMEMBER,
    ENROLLED,
    EVER_BOUGHT,
    FIRST_PURCHASE,
    JOINED,
    MEMBER_BUYER,
    NONMEMBER_BUYER,
    OLD_MEMBER,
    PROSPECT,
    REPEAT,
    STATE0,
    observed_state,
    relabelled,
    tags,
)
from simulator.engine import rng
from simulator.engine.counters import (
    F_GMV_NEW,
    F_GMV_NON,
    F_GMV_OLD,
    I_B,
    I_CONTACTS,
    I_DROP,
    I_ENROL,
    I_FIRST,
    I_JB,
    I_MB,
    I_NMB,
    I_OMB,
    I_ORD_NEW,
    I_ORD_NON,
    I_ORD_OLD,
    I_REACT,
    I_VISITS,
)
from simulator.engine.jit import hot, hot_inline
from simulator.engine.plan import C_PER_GRANT, C_PER_REDEMPTION, C_SHARE, D_ON_ENROL, D_STORE
from simulator.engine.population import CHUNK, basket_scale, dropout_probability, n_chunks

NBINS = 1 << rng.PRIORITY_BITS  # priority bins for capacity thresholds

# offsets of the variable counter blocks, in the `off` array passed to the kernel
O_ENROL_CH, O_CONTACT_CH, O_CONTACT_T, O_REDEEM, O_COST_B, O_COST_CH, O_COST_T = range(7)


@hot_inline
def targets(P, b, st, seg):
    """Benefit b may be used by a shopper in state st with segment bits seg."""
    if ((P.ben_states[b] >> np.uint32(STATE0 + st)) & np.uint32(1)) == np.uint32(0):
        return False
    return P.ben_segments[b] == 0 or (np.uint32(seg) & P.ben_segments[b]) != 0


@hot_inline
def reachable(P, s, i, t, st, seg, tg):
    """Touch t may contact shopper i today (audience, channel reach, benefit target, cap)."""
    ch = P.t_channel[t]
    if (tg & P.t_audience[t]) == 0 or (tg & P.t_exclude[t]) != 0:
        return False
    if (tg & P.ch_reach[ch]) == 0 or (tg & P.ch_kind_reach[ch]) == 0:
        return False
    b = P.t_benefit[t]
    if b >= 0 and not targets(P, b, st, seg):
        return False
    slot = P.ch_cap_slot[ch]
    return slot < 0 or s.contacts[i, slot] < P.ch_freq_cap[ch]


@hot_inline
def usable(P, online, held, st, seg, birthday):
    """Bits of the benefits the shopper can use today.

    A benefit is usable when online and either held (delivered by a touch or on enrolment: the
    target decided who got it, the holder keeps it whatever their state now) or a store benefit
    whose target includes the shopper.
    """
    m = np.uint32(0)
    for b in range(len(P.ben_states)):
        bit = np.uint32(1) << np.uint32(b)
        if (online & bit) == 0:
            continue
        if P.ben_birthday[b] and not birthday:
            continue
        if P.ben_delivery[b] != D_STORE:
            if held & bit:
                m |= bit
        elif targets(P, b, st, seg):
            m |= bit
    return m


@hot_inline
def lift(mask, effect):
    """Product of (1 + effect[b]) over the benefits in mask."""
    x = 1.0
    for b in range(len(effect)):
        if (mask >> np.uint32(b)) & np.uint32(1):
            x *= 1.0 + effect[b]
    return x


@hot
def count_eligible(s, P, pp, d, touches, keys, bounds, h, first, step):
    """Histogram h[k, bin] of the keyed priority bins of the shoppers touch k may reach on day d.

    Only bins below bounds[k] are counted (NBINS: all). One worker's share: chunks first,
    first + step, ... (`workers.on_workers`); integer counts add up exactly, so each worker has
    its own histogram. Needed on a touch's first day: the day step counts tomorrow's eligible
    shoppers as it goes.
    """
    n = len(s.state)
    for c in range(first, n_chunks(n), step):
        for i in range(c * CHUNK, min(n, (c + 1) * CHUNK)):
            add_eligible(
                P,
                s,
                pp,
                i,
                s.state[i],
                s.segments[i],
                s.flags[i],
                s.last_purchase[i],
                s.enrol_day[i],
                d,
                touches,
                keys,
                bounds,
                h,
            )


@hot_inline
def add_eligible(P, s, pp, i, state, seg, fl, lp, ed, d, touches, keys, bounds, h):
    """Count shopper i, as they stand at the start of day d, in each touch's priority histogram.

    The priority bin is drawn first: a shopper in a bin at or above the touch's bound cannot be
    chosen, so the (dearer) eligibility test is skipped for them.
    """
    st = -1
    tg = np.uint32(0)
    for k in range(len(touches)):
        need = P.t_segments[touches[k]]
        if need != 0 and (np.uint32(seg) & need) == 0:
            continue  # none of the segments the touch requires
        b = rng.priority_bin(keys[k], i)
        if b >= bounds[k]:
            continue
        if st < 0:
            st = observed_state(state, max(lp, ed), d, pp.dormant_after, pp.churn_after)
            tg = tags(st, seg, fl, lp, d, pp.recent_days)
        if reachable(P, s, i, touches[k], st, seg, tg):
            h[k, b] += 1


@nb.njit(cache=True)
def visit_or_relabel(
    state,
    rate,
    last_purchase,
    enrol_day,
    flags,
    lo,
    d,
    dormant_after,
    churn_after,
    prospect_scale,
    k_visit,
    visit_scale,
    flag,
):
    """flag[j] = shopper lo + j visits without a contact or changes recency label on day d.

    The arrays are the chunk's slices: indices from 0 let LLVM emit SIMD loads (an offset index
    made it gather, 6x slower).
    """
    for j in range(len(state)):
        st = state[j]  # a prospect keeps its label, so the rate is the day step's
        r = rate[j] * (prospect_scale if st == PROSPECT else 1.0)
        busy = relabelled(st, max(last_purchase[j], enrol_day[j]), d, dormant_after, churn_after)
        flag[j] = busy | (
            ((flags[j] & ALIVE) != 0) & (rng.uniform(k_visit, lo + j) < r * visit_scale)
        )


@nb.njit(cache=True)
def may_contact(segments, lo, need, key, limit, flag):
    """flag[j] |= shopper lo + j passes a touch's cheap tests.

    The tests: one of the segments the touch requires (need; 0: none required) and a priority
    bin under limit. Chunk slices, as in `visit_or_relabel`.
    """
    for j in range(len(segments)):
        seg_ok = (need == 0) | ((np.uint32(segments[j]) & need) != 0)
        flag[j] |= seg_ok & (rng.priority_bin(key, lo + j) < limit)


@hot_inline
def busy_shoppers(
    s, P, pp, d, lo, hi, k_visit, visit_scale, today, thr, keys, nxt, nkeys, nbounds, flag, work
):
    """Put in work[:m] the shoppers of lo..hi-1 with anything to do on day d; return m.

    A shopper is quiet when their recency label does not change, they do not visit without a
    contact, and neither today's touches nor tomorrow's counted ones pass their cheap tests
    (`may_contact`): the day step would then change and count nothing for them. Most shoppers
    are quiet on most days. The tests are branch-free loops that LLVM turns into SIMD code;
    measured 7x faster than the same tests in the day step's shopper-by-shopper loop.
    """
    n = hi - lo
    visit_or_relabel(
        s.state[lo:hi],
        s.rate[lo:hi],
        s.last_purchase[lo:hi],
        s.enrol_day[lo:hi],
        s.flags[lo:hi],
        lo,
        d,
        pp.dormant_after,
        pp.churn_after,
        pp.prospect_scale,
        k_visit,
        visit_scale,
        flag[:n],
    )
    for k in range(len(today)):
        may_contact(s.segments[lo:hi], lo, P.t_segments[today[k]], keys[k], thr[k], flag[:n])
    for k in range(len(nxt)):
        may_contact(s.segments[lo:hi], lo, P.t_segments[nxt[k]], nkeys[k], nbounds[k], flag[:n])
    m = 0
    for j in range(n):
        work[m] = lo + j
        m += np.int64(flag[j])
    return m


@hot
def step_day(
    s,
    P,
    pp,
    d,
    seed,
    today,
    thr,
    keys,
    ints,
    floats,
    off,
    nxt,
    nkeys,
    nbounds,
    h,
    flag,
    work,
    first,
    step,
):
    """Advance one worker's chunks (first, first + step, ...) by day d.

    today: indices of the touches sent today, in plan order; thr: their priority-bin thresholds
    (NBINS = no limit); keys: their contact-priority stream keys. Chunk c's counters are added
    into ints[c]/floats[c]. nxt/nkeys: tomorrow's limited touches, keys and bin bounds, whose
    eligible shoppers are counted into this worker's histogram h on the way (this saves a
    second pass over the population before tomorrow's capacity thresholds). flag, work:
    CHUNK-long buffers of this worker for `busy_shoppers`.
    """
    for c in range(first, n_chunks(len(s.state)), step):
        day_chunk(
            s,
            P,
            pp,
            d,
            seed,
            today,
            thr,
            keys,
            ints[c],
            floats[c],
            off,
            c,
            nxt,
            nkeys,
            nbounds,
            h,
            flag,
            work,
        )


@hot_inline
def day_chunk(
    s,
    P,
    pp,
    d,
    seed,
    today,
    thr,
    keys,
    I,  # noqa: E741
    F,
    off,
    c,
    nxt,
    nkeys,
    nbounds,  # noqa: E741
    h,
    flag,
    work,
):
    """One chunk of shoppers through day d: `busy_shoppers` picks who has anything to do."""
    n = len(s.state)
    k_visit = rng.stream_key(seed, rng.VISIT, d)
    k_enrol = rng.stream_key(seed, rng.ENROL, d)
    k_buy = rng.stream_key(seed, rng.BUY, d)
    k_basket = rng.stream_key(seed, rng.BASKET, d)
    k_drop = rng.stream_key(seed, rng.DROPOUT, d)
    k_react = rng.stream_key(seed, rng.REACTIVATE, d)
    # traits of the shopper, keyed by the population seed (fixed across replications)
    k_bday = rng.stream_key(np.uint64(pp.seed), rng.BIRTHDAY, 0)
    k_nu = rng.stream_key(np.uint64(pp.seed), rng.INIT_BASKET, 0)
    k_p = rng.stream_key(np.uint64(pp.seed), rng.INIT_DROPOUT, 0)
    traffic = P.traffic[d]
    online = P.online[d]
    doy = P.day_of_year[d]
    visit_scale = traffic / pp.conversion  # visit chance per unit of purchase rate
    n_busy = busy_shoppers(
        s,
        P,
        pp,
        d,
        c * CHUNK,
        min(n, (c + 1) * CHUNK),
        k_visit,
        visit_scale,
        today,
        thr,
        keys,
        nxt,
        nkeys,
        nbounds,
        flag,
        work,
    )
    for j in range(n_busy):
        i = work[j]
        lp0 = s.last_purchase[i]
        ed0 = s.enrol_day[i]
        st0 = s.state[i]
        fl0 = s.flags[i]
        held0 = s.held[i]
        lp, ed, fl, held = lp0, ed0, fl0, held0
        st = observed_state(st0, max(lp, ed), d, pp.dormant_after, pp.churn_after)
        seg = s.segments[i]
        # 2. contacts
        contact_lift = 1.0
        first_channel = -1
        if len(today) > 0:
            load = -1.0  # fatigue load, computed at the first contact of the day
            tg = np.uint32(0)  # tag word, computed when first needed
            for k in range(len(today)):
                t = today[k]
                need = P.t_segments[t]
                if need != 0 and (np.uint32(seg) & need) == 0:
                    continue  # none of the segments the touch requires
                # the priority test first: it is cheaper and rejects most under a tight cap
                if thr[k] < NBINS and rng.priority_bin(keys[k], i) >= thr[k]:
                    continue
                if tg == 0:
                    tg = tags(st, seg, fl, lp, d, pp.recent_days)  # never 0: TAG_ALL is set
                if not reachable(P, s, i, t, st, seg, tg):
                    continue
                ch = P.t_channel[t]
                slot = P.ch_cap_slot[ch]
                if slot >= 0:  # counted only where a frequency cap needs it (cap <= 255)
                    s.contacts[i, slot] += 1
                if load < 0.0:
                    load = s.fatigue[i] * pp.decay_after[d - s.last_contact[i]]
                response = math.exp(-P.ch_fatigue[ch] * load)
                contact_lift *= 1.0 + P.ch_lift[ch] * response
                load += 1.0
                if first_channel < 0:
                    first_channel = ch
                I[I_CONTACTS] += 1
                I[off[O_CONTACT_CH] + ch] += 1
                I[off[O_CONTACT_T] + t] += 1
                F[off[O_COST_CH] + ch] += P.ch_cost[ch]
                F[off[O_COST_T] + t] += P.ch_cost[ch]
                b = P.t_benefit[t]
                if b < 0:
                    continue
                bit = np.uint32(1) << np.uint32(b)
                if P.ben_delivery[b] != D_STORE and (held & bit) == 0:
                    held |= bit  # a benefit already held is not granted (or costed) twice
                    if P.ben_cost_kind[b] == C_PER_GRANT:
                        F[off[O_COST_B] + b] += P.ben_cost[b]
                if (fl & ALIVE) == 0 and P.ben_react[b] > 0.0:
                    if rng.uniform(rng.substream(k_react, t), i) < P.ben_react[b] * response:
                        fl |= ALIVE
                        I[I_REACT] += 1
            if load >= 0.0:
                s.fatigue[i] = load
                s.last_contact[i] = d
        # 3. visit
        if fl & ALIVE:
            rate = s.rate[i] * (pp.prospect_scale if st == PROSPECT else 1.0)
            if rng.uniform(k_visit, i) < rate * visit_scale * contact_lift:
                I[I_VISITS] += 1
                birthday = np.int64(rng.mix64(k_bday + np.uint64(i)) % np.uint64(365)) == doy
                m = usable(P, online, held, st, seg, birthday)  # benefits usable today
                # 4. enrolment
                joined_today = False
                if st < ENROLLED:
                    # what the shopper could use now or as a member draws them in
                    m_member = usable(P, online, held, ENROLLED, seg, birthday)
                    p_enrol = pp.enrol_rate * lift(m | m_member, P.ben_enrol)
                    if rng.uniform(k_enrol, i) < p_enrol:
                        st = ENROLLED
                        m = m_member
                        ed = d
                        fl |= JOINED
                        joined_today = True
                        I[I_ENROL] += 1
                        I[off[O_ENROL_CH] + first_channel + 1] += 1
                # 5. purchase
                p_buy = pp.conversion * lift(m, P.ben_purchase)
                if rng.uniform(k_buy, i) < p_buy:
                    basket = (
                        rng.gamma(k_basket, i, pp.p)
                        * basket_scale(pp, k_nu, i, seg)
                        * lift(m, P.ben_basket)
                    )
                    member = st >= ENROLLED
                    if not (fl & (BOUGHT_AS_MEMBER | BOUGHT_AS_NONMEMBER)):
                        I[I_B] += 1
                    if not member:
                        F[F_GMV_NON] += basket
                        I[I_ORD_NON] += 1
                        if not (fl & BOUGHT_AS_NONMEMBER):
                            I[I_NMB] += 1
                        fl |= BOUGHT_AS_NONMEMBER
                    else:
                        if fl & OLD_MEMBER:
                            F[F_GMV_OLD] += basket
                            I[I_ORD_OLD] += 1
                        else:
                            F[F_GMV_NEW] += basket
                            I[I_ORD_NEW] += 1
                        if not (fl & BOUGHT_AS_MEMBER):
                            I[I_MB] += 1
                            if fl & OLD_MEMBER:
                                I[I_OMB] += 1
                            if fl & JOINED:
                                I[I_JB] += 1
                        fl |= BOUGHT_AS_MEMBER
                    for b in range(len(P.ben_states)):
                        bit = np.uint32(1) << np.uint32(b)
                        if (m & bit) == 0:
                            continue
                        I[off[O_REDEEM] + b] += 1
                        if P.ben_cost_kind[b] == C_PER_REDEMPTION:
                            F[off[O_COST_B] + b] += P.ben_cost[b]
                        elif P.ben_cost_kind[b] == C_SHARE:
                            F[off[O_COST_B] + b] += P.ben_cost[b] * basket
                        if P.ben_delivery[b] != D_STORE:
                            held &= ~bit  # single use
                    # 6. lifecycle after the purchase; BG/NBD dropout after a repeat purchase
                    if st == PROSPECT:
                        st = NONMEMBER_BUYER
                    elif st >= ENROLLED:
                        st = REPEAT if fl & MEMBER_BUYER else FIRST_PURCHASE
                        fl |= MEMBER_BUYER
                    if fl & EVER_BOUGHT:
                        if rng.uniform(k_drop, i) < dropout_probability(pp, k_p, i):
                            fl &= ~ALIVE
                            I[I_DROP] += 1
                    else:
                        I[I_FIRST] += 1
                    fl |= EVER_BOUGHT
                    lp = d
                # 7. benefits granted on enrolment, usable from tomorrow
                if joined_today:
                    for b in range(len(P.ben_states)):
                        if P.ben_delivery[b] == D_ON_ENROL and targets(P, b, ENROLLED, seg):
                            held |= np.uint32(1) << np.uint32(b)
                            if P.ben_cost_kind[b] == C_PER_GRANT:
                                F[off[O_COST_B] + b] += P.ben_cost[b]
        # write back only what changed: most shoppers do nothing on most days. State counters
        # hold the day's changes; the model adds them to yesterday's counts.
        if st != st0:
            s.state[i] = st
            I[st0] -= 1
            I[st] += 1
        if fl != fl0:
            s.flags[i] = fl
        if held != held0:
            s.held[i] = held
        if lp != lp0:
            s.last_purchase[i] = lp
        if ed != ed0:
            s.enrol_day[i] = ed
        if len(nxt) > 0:
            add_eligible(P, s, pp, i, st, seg, fl, lp, ed, d + 1, nxt, nkeys, nbounds, h)
