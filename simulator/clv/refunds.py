"""Refunds in a transaction log: negative amounts netted per customer-day.

The rule: a row with a negative amount is a refund. The refunds of a customer on a day are added
to that customer's purchases (rows with amount >= 0) *on the same calendar day*, and that day
becomes one row with the net amount. A day whose net is <= 0 (within rounding: `NET_TOLERANCE`)
is no transaction (fully refunded: its rows are dropped); a day with a net above 0 is one
transaction of the net amount (partly refunded). A refund on a day without a purchase of the
same customer (a return days after the order, or a refund-only export row) cannot be matched to
its order without order ids: it is ignored, and the earlier purchase stays a purchase — the
customer did buy, so the purchase counts for frequency and recency; only its spend is
overstated. Days without a refund are left exactly as read (a 0.00 purchase, a free gift, stays
a purchase).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NET_TOLERANCE = 1e-9
"""A day's net at most this share of its purchases is 0: 19.90 + 0.10 - 20.00 is 5.5e-15."""


@dataclass(frozen=True)
class RefundCounts:
    """What netting did: rows, days by outcome, and the refunds it could not match."""

    refund_rows: int = 0
    fully_refunded_days: int = 0
    partly_refunded_days: int = 0
    unmatched_refund_days: int = 0
    unmatched_refund_amount: float = 0.0


def net_refunds(customer: np.ndarray, day: np.ndarray, amount: np.ndarray):
    """Net negative amounts against the same customer's purchases on the same day.

    Returns ``(keep, amount, counts)``: a mask of the rows that stay, the amounts with each
    partly refunded day's net on its first purchase row, and the `RefundCounts`. Rows stay in
    file order; a log without refunds comes back unchanged.
    """
    refund = amount < 0
    if not refund.any():
        return np.ones(len(amount), dtype=bool), amount, RefundCounts()
    day0 = int(day.min())
    key = customer.astype(np.int64) * (int(day.max()) - day0 + 1) + (day.astype(np.int64) - day0)
    refund_keys = np.unique(key[refund])
    at = np.minimum(np.searchsorted(refund_keys, key), len(refund_keys) - 1)
    touched = np.flatnonzero(refund_keys[at] == key)  # rows on a day with a refund
    group = at[touched]
    n = len(refund_keys)
    net = np.bincount(group, weights=amount[touched], minlength=n)
    purchases = np.bincount(group, weights=~refund[touched], minlength=n)
    bought = np.bincount(group, weights=np.where(refund[touched], 0, amount[touched]), minlength=n)
    refunded = np.bincount(
        group, weights=np.where(refund[touched], amount[touched], 0), minlength=n
    )
    matched = purchases > 0
    first = np.full(n, len(amount), dtype=np.int64)  # first purchase row of each day
    buys = touched[~refund[touched]]
    np.minimum.at(first, group[~refund[touched]], buys)
    keep = np.ones(len(amount), dtype=bool)
    keep[touched] = False
    partly = matched & (net > NET_TOLERANCE * bought)
    amount = amount.copy()
    amount[first[partly]] = net[partly]
    keep[first[partly]] = True
    counts = RefundCounts(
        refund_rows=int(refund.sum()),
        fully_refunded_days=int((matched & ~partly).sum()),
        partly_refunded_days=int(partly.sum()),
        unmatched_refund_days=int((~matched).sum()),
        unmatched_refund_amount=float(-refunded[~matched].sum()),
    )
    return keep, amount, counts
