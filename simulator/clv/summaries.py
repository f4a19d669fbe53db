"""Per-customer summaries of a transaction log, for fitting BG/NBD and Gamma-Gamma.

The summary (:class:`RFM`) follows Fader, Hardie & Lee (2005): purchases on the same
customer-day count as one transaction, the first purchase starts the customer's clock and the
frequency ``x`` counts the *repeat* transactions in the calibration period. The counts of repeat
transactions after calibration and per week are what a backtest compares, and the published
CDNOW 1/10th sample is chosen by first-purchase week and repeat spend.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.clv.transactions import CDNOW_CAL_END, CDNOW_START, Transactions, day_number


@dataclass(frozen=True)
class RFM:
    """Per-customer calibration summary in a time unit of ``time_unit_days`` days.

    ``x`` = repeat transactions (customer-days after the first), ``t_x`` = time of the last
    transaction minus the first, ``T`` = calibration end minus the first purchase,
    ``mean_spend`` = mean spend per repeat customer-day (0 when ``x`` is 0). ``customer`` holds
    the codes of the summarised customers in the source :class:`Transactions`.
    """

    customer: np.ndarray
    customer_ids: np.ndarray
    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    first_day: np.ndarray
    mean_spend: np.ndarray
    cal_end_day: int
    time_unit_days: float

    @property
    def n_customers(self) -> int:
        """Number of customers summarised."""
        return len(self.x)


@dataclass(frozen=True)
class CustomerDays:
    """Purchases collapsed to one entry per (customer, day), sorted by customer then day."""

    customer: np.ndarray
    day: np.ndarray
    spend: np.ndarray
    first_day: np.ndarray  # per customer code


def customer_days(tx: Transactions) -> CustomerDays:
    """Collapse purchases on the same customer-day into one transaction (spend summed)."""
    day0 = int(tx.day.min())
    span = int(tx.day.max()) - day0 + 1
    key = tx.customer * span + (tx.day.astype(np.int64) - day0)
    keys, inverse = np.unique(key, return_inverse=True)
    spend = np.bincount(inverse, weights=tx.amount, minlength=len(keys))
    customer = keys // span
    day = (keys % span + day0).astype(np.int64)
    first_day = np.zeros(tx.n_customers, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, customer[1:] != customer[:-1]])
    first_day[customer[starts]] = day[starts]
    return CustomerDays(customer, day, spend, first_day)


def summarise(tx: Transactions, cal_end_day: int, time_unit_days: float = 7) -> RFM:
    """Summarise the calibration period (days up to and including ``cal_end_day``) per customer.

    Customers whose first purchase falls after ``cal_end_day`` are left out. Times are in units
    of ``time_unit_days`` days (weeks for CDNOW).
    """
    cd = customer_days(tx)
    n = tx.n_customers
    in_cal = cd.day <= cal_end_day
    cust, day, spend = cd.customer[in_cal], cd.day[in_cal], cd.spend[in_cal]
    count = np.bincount(cust, minlength=n)
    total = np.bincount(cust, weights=spend, minlength=n)
    last_day = np.zeros(n, dtype=np.int64)
    ends = np.flatnonzero(np.r_[cust[1:] != cust[:-1], True])  # rows sorted by customer, day
    last_day[cust[ends]] = day[ends]
    is_first = day == cd.first_day[cust]
    first_spend = np.bincount(cust[is_first], weights=spend[is_first], minlength=n)
    members = np.flatnonzero(count > 0)
    x = count[members] - 1
    repeat_spend = total[members] - first_spend[members]
    mean_spend = np.divide(repeat_spend, x, out=np.zeros(len(x)), where=x > 0)
    first = cd.first_day[members]
    return RFM(
        customer=members.astype(np.int64),
        customer_ids=tx.customer_ids[members],
        x=x.astype(np.int64),
        t_x=(last_day[members] - first) / time_unit_days,
        T=(cal_end_day - first) / time_unit_days,
        first_day=first,
        mean_spend=mean_spend,
        cal_end_day=int(cal_end_day),
        time_unit_days=float(time_unit_days),
    )


def holdout_repeat_counts(tx: Transactions, rfm: RFM, end_day: int) -> np.ndarray:
    """Count each summarised customer's transactions (customer-days) after calibration.

    Counts days in ``rfm.cal_end_day < day <= end_day``, aligned with ``rfm``'s customers.
    """
    return holdout_totals(tx, rfm, end_day)[0]


def holdout_totals(tx: Transactions, rfm: RFM, end_day: int) -> tuple[np.ndarray, np.ndarray]:
    """Each summarised customer's transactions (customer-days) and spend after calibration.

    Over days ``rfm.cal_end_day < day <= end_day``, aligned with ``rfm``'s customers; spend is
    the sum of the amounts on those days (the holdout revenue of a backtest).
    """
    cd = customer_days(tx)
    holdout = (cd.day > rfm.cal_end_day) & (cd.day <= end_day)
    who = cd.customer[holdout]
    counts = np.bincount(who, minlength=tx.n_customers)
    spend = np.bincount(who, weights=cd.spend[holdout], minlength=tx.n_customers)
    return counts[rfm.customer], spend[rfm.customer]


def cumulative_repeat_transactions(
    tx: Transactions, start_day: int, n_periods: int, period_days: int = 7
) -> np.ndarray:
    """Return the cumulative count of repeat transactions at the end of each period.

    Element ``k`` counts repeat customer-days with ``start_day <= day < start_day +
    (k+1)*period_days`` (for CDNOW: weekly, 78 periods from 1997-01-01).
    """
    cd = customer_days(tx)
    repeat = cd.day > cd.first_day[cd.customer]
    offset = cd.day[repeat] - start_day
    offset = offset[(offset >= 0) & (offset < n_periods * period_days)]
    per_period = np.bincount(offset // period_days, minlength=n_periods)
    return np.cumsum(per_period)


# ---------------------------------------------------------------------------------------------
# The published CDNOW 1/10th sample


def cdnow_sample(tx: Transactions) -> Transactions:
    """Select Fader & Hardie's 1/10th systematic sample (2,357 customers) from the CDNOW master.

    Customers are ordered by week of first purchase (weeks from 1997-01-01), then by 39-week
    repeat spend (spend in 1997-01-01..1997-09-30 minus first-day spend) descending, then by
    master id; every 10th customer (the 10th, 20th, ...) is kept. Spend totals are accumulated
    row by row in file order, because the published ordering breaks ties between equal repeat
    spends by the rounding of exactly that sum.
    """
    start = day_number(CDNOW_START)
    day = tx.day.astype(np.int64) - start
    n = tx.n_customers
    first = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(first, tx.customer, day)
    cal = day <= day_number(CDNOW_CAL_END) - start
    on_first = day == first[tx.customer]
    cal_spend = np.bincount(tx.customer[cal], weights=tx.amount[cal], minlength=n)
    first_spend = np.bincount(tx.customer[on_first], weights=tx.amount[on_first], minlength=n)
    repeat_spend = cal_spend - first_spend
    order = np.lexsort((tx.customer_ids.astype(np.int64), -repeat_spend, first // 7))
    keep = np.zeros(n, dtype=bool)
    keep[order[9::10]] = True
    return tx.subset(keep)
