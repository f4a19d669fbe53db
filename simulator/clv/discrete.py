"""Discrete-opportunity summaries (x, t_x, n) of a transaction log, for BG/BB.

An *opportunity* is a window of days in which a customer either buys or not: one calendar
year, or one named yearly window such as Double 11 (11-01..11-11 every year). The rule, per
customer, over an ordered list of non-overlapping windows:

* purchases outside every window are ignored (they are not opportunities of this model);
* the first window in which the customer buys is their opportunity 0 (it makes them a
  customer, like the first purchase of BG/NBD), and is not counted;
* ``n`` = windows after that one up to the last window given; ``x`` = those of them with at
  least one purchase (several purchases in one window count once); ``t_x`` = the position
  (1..n) of the last window with a purchase, 0 when ``x`` is 0.

So a customer who first bought in the last window has n = 0 and carries no information.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from simulator.clv.transactions import Transactions, date_of_day, day_number


@dataclass(frozen=True)
class DiscreteSummary:
    """Per-customer (x, t_x, n) over opportunity windows; ``first_window`` indexes ``windows``."""

    customer: np.ndarray
    customer_ids: np.ndarray
    x: np.ndarray
    t_x: np.ndarray
    n: np.ndarray
    first_window: np.ndarray
    windows: np.ndarray  # (k, 2) first and last day (inclusive) of each window

    @property
    def n_customers(self) -> int:
        """Number of customers summarised."""
        return len(self.x)


def yearly_windows(first_year: int, last_year: int, start: str = "01-01", end: str = "12-31"):
    """One window per year from ``start`` to ``end`` (MM-DD, inclusive) as (first, last) days.

    ``yearly_windows(2015, 2020, "11-11", "11-11")`` is the Double 11 day of each year;
    ``"11-01", "11-11"`` its whole sale period. A window may not run into the next year.
    """
    rows = []
    for year in range(first_year, last_year + 1):
        first, last = (dt.date.fromisoformat(f"{year}-{md}") for md in (start, end))
        if last < first:
            raise ValueError(f"window {start}..{end}: the end must not come before the start")
        rows.append((day_number(first), day_number(last)))
    return np.array(rows, dtype=np.int64).reshape(-1, 2)


def period_windows(first_day: int, last_day: int, period_days: int):
    """Consecutive windows of ``period_days`` days from ``first_day``, all ending by ``last_day``.

    A partial period at the end is left out (it is not a full opportunity).
    """
    starts = np.arange(first_day, last_day - period_days + 2, period_days, dtype=np.int64)
    return np.column_stack([starts, starts + period_days - 1])


def window_of_day(day: np.ndarray, windows: np.ndarray) -> np.ndarray:
    """Index of the window holding each day, −1 for days outside every window."""
    windows = np.asarray(windows, dtype=np.int64)
    if len(windows) and (
        np.any(windows[:, 1] < windows[:, 0]) or np.any(windows[1:, 0] <= windows[:-1, 1])
    ):
        raise ValueError("windows must be ordered, non-empty and must not overlap")
    k = np.searchsorted(windows[:, 0], day, side="right") - 1
    inside = (k >= 0) & (day <= windows[np.maximum(k, 0), 1])
    return np.where(inside, k, -1)


def discrete_summary(tx: Transactions, windows) -> DiscreteSummary:
    """Summarise a log over opportunity windows by the rule of the module docstring.

    Raises:
        ValueError: no windows, or windows out of order or overlapping.
    """
    windows = np.asarray(windows, dtype=np.int64).reshape(-1, 2)
    if len(windows) == 0:
        raise ValueError("no opportunity windows: give at least one")
    k = window_of_day(tx.day.astype(np.int64), windows)
    inside = k >= 0
    n_windows = len(windows)
    pair = np.unique(tx.customer[inside] * n_windows + k[inside])  # (customer, window) bought
    cust, win = pair // n_windows, pair % n_windows
    first = np.full(tx.n_customers, n_windows, dtype=np.int64)
    np.minimum.at(first, cust, win)
    last = np.full(tx.n_customers, -1, dtype=np.int64)
    np.maximum.at(last, cust, win)
    count = np.bincount(cust, minlength=tx.n_customers)
    members = np.flatnonzero(count > 0)
    x = count[members] - 1
    return DiscreteSummary(
        customer=members.astype(np.int64),
        customer_ids=tx.customer_ids[members],
        x=x.astype(np.int64),
        t_x=np.where(x > 0, last[members] - first[members], 0).astype(np.int64),
        n=(n_windows - 1 - first[members]).astype(np.int64),
        first_window=first[members],
        windows=windows,
    )


def describe_windows(windows: np.ndarray) -> str:
    """A one-line description of the windows for reports and params files."""
    first, last = windows[0], windows[-1]
    span = f"{date_of_day(int(first[0]))}..{date_of_day(int(first[1]))}"
    return f"{len(windows)} windows, the first {span}, the last ending {date_of_day(int(last[1]))}"
