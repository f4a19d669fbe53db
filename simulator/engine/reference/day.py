"""A reference day: what every shopper needs to know about it, and its slots (hours of the day)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Day:
    """One campaign day: calendar, touches and the day's keys (a slot's are in `Slot.draws`)."""

    d: int
    traffic: float
    online: int  # bits of the benefits online today (on a visit)
    payment_online: int  # bits of the benefits online today that act at payment only
    presale: bool  # an order may be a pre-sale deposit
    payment_day: bool  # pre-sale balances are paid or forfeited
    month: int  # 0..11
    touches: list[int]  # the touches sent today, by slot, in plan order within a slot
    threshold: list[int]  # their priority-bin thresholds (PRIORITY_BINS = no limit)
    priority_keys: list[np.uint64]  # their contact-priority stream keys
    react_keys: list[np.uint64]  # their reactivation stream keys
    aware_keys: list[np.uint64]  # their awareness stream keys
    visit: np.uint64
    enrol: np.uint64
    buy: np.uint64
    basket: np.uint64
    dropout: np.uint64
    ahead: np.uint64
    wait: np.uint64
    deposit: np.uint64  # an order is a pre-sale deposit: substream per order
    payment: np.uint64  # a pre-sale balance is paid
    slots: list[Slot] = field(default_factory=list)  # in order of their first hour


@dataclass(frozen=True)
class Slot:
    """A slot of the day (a normal day is one): its touches, traffic share and draw keys."""

    hour: int  # the slot's first hour (0 for the first)
    touches: range  # positions in Day.touches of the touches sent at that hour
    share: float  # the slot's share of the day's traffic (1 for a normal day)
    draws: Day  # the day with the slot's draw keys (`rng.slot_key`): the day itself from 00:00
