"""Compile a validated Scenario into the flat per-day arrays the kernel reads.

The kernel never sees YAML, names or Python objects: only the `Plan` named tuple of numpy arrays
built here (traffic and phase per day, benefit/channel/touch parameters, which benefits are online
and which touches are sent on each day).
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

import numpy as np

from simulator.domain.benefits import BENEFIT_TYPES, DELIVERY, OFFER_CLASS
from simulator.domain.channels import CHANNEL_KINDS
from simulator.domain.lifecycle import SEGMENT_BITS, SEGMENTS, audience_mask, state_bit
from simulator.scenario.schema import Scenario
from simulator.scenario.windows import window_days

NO_CAPACITY = -1  # channel without a daily capacity
NO_CAP = 256  # frequency cap that the uint8 contact counters never reach
ALWAYS = 1 << 40  # valid_days of an offer without a limit


class Plan(NamedTuple):
    """Everything the day kernel needs to know about the campaign, as arrays."""

    # per day
    traffic: np.ndarray  # float64[D]
    phase: np.ndarray  # int16[D], -1 outside every phase
    presale: np.ndarray  # bool[D]: orders may be pre-sale deposits
    payment_day: np.ndarray  # bool[D]: the balances of deposits are paid or forfeited
    month: np.ndarray  # int8[D], 0..11
    month_of_day: np.ndarray  # int8[365]: month of each day of the year (birthday months)
    online: np.ndarray  # uint32[D]: bit b set when benefit b is online (on a visit)
    payment_online: np.ndarray  # uint32[D]: the online benefits that act at payment only
    priced_online: np.ndarray  # uint32[D]: the online benefits whose terms need shopper traits
    birthday_online: np.ndarray  # bool[D]: a birthday-month benefit is online
    awaited: np.ndarray  # uint32[D]: held offers that make a shopper wait (`awaited_offers`)
    touch_on: np.ndarray  # bool[D, T]
    window_of_day: np.ndarray  # uint8[D]: bit w set when KPI window w contains the day
    window_start: np.ndarray  # int64[W]: first day of KPI window w
    old_member_cutoff: int  # day whose members (at its start) are old members from then on
    # benefits
    ben_states: np.ndarray  # uint32[B]: tag bits of the states that may use it
    ben_segments: np.ndarray  # uint32[B]: segment bits (any of); 0 = every shopper
    ben_delivery: np.ndarray  # int8[B]: benefits.DELIVERY code
    ben_enrol: np.ndarray  # float64[B]: relative lift of the enrolment probability
    ben_purchase: np.ndarray  # float64[B]: log-odds added to buying (mind-share effect)
    ben_react: np.ndarray  # float64[B]: reactivation probability of an inactive shopper
    ben_payment: np.ndarray  # float64[B]: log-odds added to paying a pre-sale balance
    ben_offer: np.ndarray  # int8[B]: benefits.OFFER_CLASS code
    ben_priced: np.ndarray  # bool[B]: price family: the terms move purchase (`offers`)
    ben_amount: np.ndarray  # float64[B]: yuan off
    ben_percent: np.ndarray  # float64[B]: share off the list price
    ben_min_spend: np.ndarray  # float64[B]: spend threshold (coupon, gift)
    ben_per_spend: np.ndarray  # float64[B]: platform discount step (inf: none)
    ben_gift: np.ndarray  # float64[B]: gift value per order that gets it
    ben_point_cost: np.ndarray  # float64[B]: points cost per yuan paid
    ben_grant_cost: np.ndarray  # float64[B]: cost per delivery or grant
    ben_birthday_month: np.ndarray  # bool[B]: usable only in the shopper's birthday month
    ben_once: np.ndarray  # bool[B]: a store benefit each shopper uses at most once
    ben_valid_days: np.ndarray  # int64[B]: days after enrolment an on-enrol offer is usable
    ben_ahead: np.ndarray  # float64[B]: share of added orders bought ahead (-1: the population's)
    # channels
    ch_reach: np.ndarray  # uint32[C]: scenario reach (any of)
    ch_kind_reach: np.ndarray  # uint32[C]: what the channel kind can reach (any of)
    ch_cost: np.ndarray  # float64[C]
    ch_capacity: np.ndarray  # int64[C], NO_CAPACITY = unlimited
    ch_freq_cap: np.ndarray  # int64[C], NO_CAP = unlimited
    ch_cap_slot: np.ndarray  # int64[C]: column of the shopper's contact counter, -1 = no cap
    ch_fatigue: np.ndarray  # float64[C]
    ch_lift: np.ndarray  # float64[C]
    ch_segment_response: np.ndarray  # float64[C, 256]: response multiplier by segment bits
    ch_awareness: np.ndarray  # float64[C]: chance a delivered offer is noticed
    # touches
    t_channel: np.ndarray  # int64[T]
    t_benefit: np.ndarray  # int64[T], -1 = a reminder without a benefit
    t_audience: np.ndarray  # uint32[T]
    t_exclude: np.ndarray  # uint32[T]
    t_segments: np.ndarray  # uint32[T]: segment bits a shopper needs one of (0 = no such rule)
    t_budget: np.ndarray  # float64[T], inf = none
    t_hour: np.ndarray  # int64[T]: hour sent on an hourly day (0 on every other day)
    # hours of the day
    hour_cum: np.ndarray  # float64[25]: share of an hourly day's traffic before each hour


class Slots(NamedTuple):
    """A day split at the hours of its touches: slot s runs from hour[s] to the next slot's."""

    order: np.ndarray  # int64[k]: positions of the day's touches (plan order) in slot order
    bounds: np.ndarray  # int64[S + 1]: slot s sends the touches order[bounds[s]:bounds[s + 1]]
    share: np.ndarray  # float64[S]: the slot's share of the day's traffic
    hour: np.ndarray  # int64[S]: the slot's first hour (the first slot's is 0)


def day_slots(touch_hours: np.ndarray, hour_cum: np.ndarray) -> Slots:
    """The slots of a day whose touches (in plan order) are sent at `touch_hours`.

    Slots start at 0 and at each distinct later hour of a touch; touches of one hour keep plan
    order. A day whose touches are all at 00:00 (every day not split into hours) is one slot
    with share 1.
    """
    hours = np.asarray(touch_hours, np.int64)
    firsts = np.unique(np.concatenate([np.zeros(1, np.int64), hours]))
    order = np.argsort(hours, kind="stable").astype(np.int64)
    bounds = np.append(np.searchsorted(hours[order], firsts), len(hours)).astype(np.int64)
    ends = np.append(firsts[1:], len(hour_cum) - 1)
    return Slots(order, bounds, hour_cum[ends] - hour_cum[firsts], firsts)


def hour_cumulative(sc: Scenario) -> np.ndarray:
    """Share of an hourly day's traffic before each hour 0..24 (exactly 0 and 1 at the ends)."""
    profile = np.array(sc.calendar.hours.profile if sc.calendar.hours else [1.0] * 24)
    cum = np.concatenate([[0.0], np.cumsum(profile) / profile.sum()])
    cum[-1] = 1.0
    return cum


MONTH_OF_DAY = np.array(
    [date.fromordinal(date(2001, 1, 1).toordinal() + k).month - 1 for k in range(365)], np.int8
)
"""Month (0..11) of each day of a 365-day year: a shopper's birthday is a keyed day of such a
year, and a birthday gift is usable in its month (2001: not a leap year)."""


def kpi_windows(sc: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """Per day, the bits of the KPI windows containing it; per window, its first day."""
    by_day = np.zeros(len(sc.days), np.uint8)
    starts = np.zeros(len(sc.windows), np.int64)
    for w, name in enumerate(sc.windows):
        first, last = sc.window_range(name)
        starts[w] = (first - sc.calendar.start).days
        by_day[starts[w] : (last - sc.calendar.start).days + 1] |= np.uint8(1 << w)
    return by_day, starts


def phase_of_days(sc: Scenario) -> np.ndarray:
    """Phase index of each day (-1 outside every phase)."""
    out = np.full(len(sc.days), -1, dtype=np.int16)
    for k, ph in enumerate(sc.calendar.phases):
        for j, d in enumerate(sc.days):
            if ph.start <= d <= ph.end:
                out[j] = k
    return out


def payment_days(sc: Scenario) -> np.ndarray:
    """Days on which pre-sale balances are due (a pre-sale phase's final payment day)."""
    out = np.zeros(len(sc.days), dtype=bool)
    for ph in sc.calendar.phases:
        if ph.presale:
            out[(ph.payment_day - sc.calendar.start).days] = True
    return out


def cap_slots(channels: list) -> np.ndarray:
    """Per channel, its column in the per-shopper contact counters (-1: none).

    Only channels with a frequency cap need a counter, which keeps memory per shopper small.
    """
    slots, k = [], 0
    for c in channels:
        slots.append(k if c.frequency_cap else -1)
        k += bool(c.frequency_cap)
    return np.array(slots, np.int64)


def n_capped(sc: Scenario) -> int:
    """Frequency-capped channels of a scenario: the columns of its shoppers' contact counters."""
    return int((cap_slots(list(sc.channels.values())) >= 0).sum())


def segment_filter(touch, sc: Scenario) -> int:
    """Segment bits a shopper must have one of to be reachable by a touch, or 0.

    When the audience, or the channel's reach, names segments only, a shopper with none of them
    cannot be reached: the kernel then skips the shopper before drawing a priority. A pure
    shortcut of a test the kernel makes anyway, so results do not change.
    """
    channel = sc.channels[touch.channel]
    for names in (touch.audience, channel.reach or list(CHANNEL_KINDS[channel.kind])):
        mask = audience_mask(names)
        if mask and mask & SEGMENT_BITS == mask:
            return mask
    return 0


def bits(flags: list[bool]) -> np.uint32:
    """The bit word of the benefits (in plan order) whose flag is set."""
    return np.uint32(sum(1 << b for b, flag in enumerate(flags) if flag))


def segment_response(channel) -> np.ndarray:
    """Response multiplier for each value of a shopper's segment byte (0..255).

    The largest `response_by_segment` multiplier among the shopper's segments that have one;
    1 for a shopper with none of them.
    """
    out = np.ones(256)
    listed = {SEGMENTS.index(name): m for name, m in channel.response_by_segment.items()}
    for bits in range(256):
        found = [m for g, m in listed.items() if bits >> g & 1]
        if found:
            out[bits] = max(found)
    return out


def worth_waiting(benefit) -> bool:
    """A benefit a holder may wait for: held (not a store benefit) and worth something.

    Worth something: yuan or a share off, a gift or points; a 0-yuan coupon or a bare
    mind-share benefit makes nobody wait.
    """
    offer = benefit.offer
    worth = offer.amount_off + offer.percent_off + offer.gift_value + offer.points_per_yuan
    return benefit.how_delivered != "store" and worth > 0.0


def awaited_offers(online: np.ndarray, worth: np.uint32, wait_days: int) -> np.ndarray:
    """Per day, the offers a holder waits for: online within wait_days after it, not on it.

    worth: the bits of the benefits worth waiting for (`worth_waiting`).
    """
    coming = np.zeros(len(online), np.uint32)
    for ahead in range(1, wait_days + 1):
        coming[:-ahead] |= online[ahead:]
    return coming & ~online & worth


def compile_plan(sc: Scenario, scale: float = 1.0) -> Plan:
    """Build the Plan; `scale` multiplies capacities and budgets (population rescaling)."""
    days = sc.days
    phase = phase_of_days(sc)
    traffic = np.array([sc.calendar.phases[k].traffic if k >= 0 else 1.0 for k in phase])
    presale = np.array([k >= 0 and sc.calendar.phases[k].presale for k in phase], dtype=bool)
    for d, mult in sc.calendar.traffic_days.items():
        traffic[(d - sc.calendar.start).days] = mult

    benefits = list(sc.benefits.values())
    online = np.zeros(len(days), dtype=np.uint32)
    for b, ben in enumerate(benefits):
        online |= window_days(ben.online, sc).astype(np.uint32) << np.uint32(b)
    at_payment = bits([BENEFIT_TYPES[b.type].at_payment for b in benefits])

    wait_days = sc.population.demand_timing.wait_days
    channels = list(sc.channels.values())
    names_c = list(sc.channels)
    names_b = list(sc.benefits)
    touches = list(sc.plan.values())
    touch_on = np.zeros((len(days), len(touches)), dtype=bool)
    for t, touch in enumerate(touches):
        touch_on[:, t] = window_days(touch.when, sc)

    window_of_day, window_start = kpi_windows(sc)

    def cap(c):
        return NO_CAPACITY if c.daily_capacity is None else int(round(c.daily_capacity * scale))

    return Plan(
        traffic=traffic.astype(np.float64),
        phase=phase,
        presale=presale,
        payment_day=payment_days(sc),
        month=np.array([d.month - 1 for d in days], dtype=np.int8),
        month_of_day=MONTH_OF_DAY,
        online=online & ~at_payment,
        payment_online=online & at_payment,
        priced_online=online & bits([BENEFIT_TYPES[b.type].family == "price" for b in benefits]),
        birthday_online=(online & bits([BENEFIT_TYPES[b.type].birthday_month for b in benefits]))
        != 0,
        awaited=awaited_offers(online, bits([worth_waiting(b) for b in benefits]), wait_days),
        touch_on=touch_on,
        window_of_day=window_of_day,
        window_start=window_start,
        old_member_cutoff=(sc.cutoff - sc.calendar.start).days,
        ben_states=np.array([sum(state_bit(s) for s in b.states) for b in benefits], np.uint32),
        ben_segments=np.array([audience_mask(b.target.segments) for b in benefits], np.uint32),
        ben_delivery=np.array([DELIVERY[b.how_delivered] for b in benefits], np.int8),
        ben_enrol=np.array([b.effects.enrol for b in benefits], np.float64),
        ben_purchase=np.array([b.effects.purchase for b in benefits], np.float64),
        ben_react=np.array([b.effects.reactivation for b in benefits], np.float64),
        ben_payment=np.array([b.effects.payment for b in benefits], np.float64),
        ben_offer=np.array([OFFER_CLASS[BENEFIT_TYPES[b.type].offer] for b in benefits], np.int8),
        ben_priced=np.array([BENEFIT_TYPES[b.type].family == "price" for b in benefits], bool),
        ben_amount=np.array([b.offer.amount_off for b in benefits], np.float64),
        ben_percent=np.array([b.offer.percent_off for b in benefits], np.float64),
        ben_min_spend=np.array([b.offer.min_spend for b in benefits], np.float64),
        ben_per_spend=np.array([b.offer.per_spend or np.inf for b in benefits], np.float64),
        ben_gift=np.array([b.offer.gift_value for b in benefits], np.float64),
        ben_point_cost=np.array(
            [b.offer.points_per_yuan * b.offer.point_value for b in benefits], np.float64
        ),
        ben_grant_cost=np.array([b.grant_cost for b in benefits], np.float64),
        ben_birthday_month=np.array(
            [BENEFIT_TYPES[b.type].birthday_month for b in benefits], dtype=bool
        ),
        ben_once=np.array([BENEFIT_TYPES[b.type].once for b in benefits], dtype=bool),
        ben_valid_days=np.array([b.valid_days or ALWAYS for b in benefits], np.int64),
        ben_ahead=np.array(
            [-1.0 if b.effects.pull_forward is None else b.effects.pull_forward for b in benefits]
        ),
        ch_reach=np.array(
            [audience_mask(c.reach or list(CHANNEL_KINDS[c.kind])) for c in channels], np.uint32
        ),
        ch_kind_reach=np.array(
            [audience_mask(list(CHANNEL_KINDS[c.kind])) for c in channels], np.uint32
        ),
        ch_cost=np.array([c.cost_per_contact for c in channels], np.float64),
        ch_capacity=np.array([cap(c) for c in channels], np.int64),
        ch_freq_cap=np.array([c.frequency_cap or NO_CAP for c in channels], np.int64),
        ch_cap_slot=cap_slots(channels),
        ch_fatigue=np.array([c.fatigue for c in channels], np.float64),
        ch_lift=np.array([c.response_lift for c in channels], np.float64),
        ch_segment_response=np.array([segment_response(c) for c in channels]).reshape(-1, 256),
        ch_awareness=np.array([c.awareness for c in channels], np.float64),
        t_channel=np.array([names_c.index(t.channel) for t in touches], np.int64),
        t_benefit=np.array(
            [names_b.index(t.benefit) if t.benefit else -1 for t in touches], np.int64
        ),
        t_audience=np.array([audience_mask(t.audience) for t in touches], np.uint32),
        t_exclude=np.array([audience_mask(t.exclude) for t in touches], np.uint32),
        t_segments=np.array([segment_filter(t, sc) for t in touches], np.uint32),
        t_budget=np.array(
            [np.inf if t.budget is None else t.budget * scale for t in touches], np.float64
        ),
        t_hour=np.array([t.when.hour for t in touches], np.int64),
        hour_cum=hour_cumulative(sc),
    )
