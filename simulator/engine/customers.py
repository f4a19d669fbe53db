"""Shoppers from a store's own customer table: each drawn from the posterior given their history.

A customer with x repeat purchase days, the last t_x days after the first, T days of history
(first purchase to the day before the calendar starts) is, under BG/NBD (Fader, Hardie & Lee
2005, eq. 5 and its derivation), still active with probability

    P(alive) = 1 / (1 + [x > 0] a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x)),

and then has lambda ~ Gamma(r + x, alpha + T) and p ~ Beta(a, b + x); if not, they dropped out
after their last purchase, with lambda ~ Gamma(r + x, alpha + t_x) and p ~ Beta(a + 1, b + x - 1).
Their spend scale is Gamma-Gamma's posterior nu ~ Gamma(q + p x, v + x m), m their mean repeat
spend (Fader, Hardie & Lee 2005b). So a customer who stopped buying long ago is drawn as one who
has likely dropped out, and the table's customers simulated with no campaign buy, on average, the
BG/NBD conditional expectation of their history (tests/test_customer_population.py). Customers
without a purchase (prospects, members who never bought) are drawn from the prior, as active.

Draws are keyed by the customer's row in the table (the same streams as a synthetic shopper's
traits), so a customer is the same shopper in every scenario and every sample that holds them.
The lifecycle label follows the history and the scenario's recency thresholds: a member idle for
`dormant_after_days` is dormant, and so on (`lifecycle.observed_state`).
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import numba as nb
import numpy as np

from simulator.clv.bgnbd import prob_alive
from simulator.clv.customer_table import NO_DAY, CustomerTable
from simulator.clv.transactions import day_number
from simulator.domain.lifecycle import (
    ALIVE,
    ENROLLED,
    EVER_BOUGHT,
    FIRST_PURCHASE,
    MEMBER_BUYER,
    NONMEMBER_BUYER,
    OLD_MEMBER,
    PROSPECT,
    REPEAT,
    observed_state,
)
from simulator.engine import rng
from simulator.engine.shoppers import NEVER, Shoppers
from simulator.engine.workers import CHUNK, n_chunks, n_workers, on_workers
from simulator.errors import UserError


class CustomerRows(NamedTuple):
    """The sampled rows of a customer table, with days counted from the calendar's first day."""

    row: np.ndarray  # int64: the customer's row in the table (the key of their draws)
    purchase_days: np.ndarray  # int32
    first: np.ndarray  # int32: day of the first purchase (negative: before the calendar)
    last: np.ndarray  # int32
    member_purchase_days: np.ndarray  # int32
    join: np.ndarray  # int32; NO_DAY if not a member
    repeat_spend_mean: np.ndarray  # float64
    segments: np.ndarray  # uint8
    alive_chance: np.ndarray  # float64: BG/NBD P(alive) on the calendar's first day


class CustomerSampleError(UserError):
    """A population size or calendar the customer table cannot serve."""


def sample_rows(n_rows: int, n: int, seed: int) -> np.ndarray:
    """The rows of n shoppers out of n_rows customers: all, or a keyed sample in table order.

    The sample keeps the rows with the n smallest keyed uniforms (seed, row), so it is the same
    for every scenario on the same population seed, and a larger sample holds a smaller one.
    """
    if n > n_rows:
        raise CustomerSampleError(
            f"{n:,} shoppers asked of a customer table of {n_rows:,} rows; expected at most "
            f"{n_rows:,} (add prospects when building it for a larger population)"
        )
    if n == n_rows:
        return np.arange(n_rows, dtype=np.int64)
    u = rng.uniforms(seed, rng.INIT_SAMPLE, 0, n_rows)
    return np.sort(np.argpartition(u, n - 1)[:n]).astype(np.int64)


def customer_rows(table: CustomerTable, start: dt.date, rows: np.ndarray, params) -> CustomerRows:
    """The rows' histories in days from the calendar's first day `start`, and P(alive) then.

    params: the population's (`population.PopulationParams`: BG/NBD per day).

    Raises:
        CustomerSampleError: the calendar starts on or before the history's last day.
    """
    day0 = day_number(start)
    if day0 <= table.as_of:
        raise CustomerSampleError(
            f"the calendar starts on {start}, but the customers' history runs to "
            f"{table.as_of_date}; expected a calendar starting after the history (build the "
            "table with an earlier --as-of)"
        )

    def rel(days: np.ndarray) -> np.ndarray:
        picked = days[rows]
        return np.where(picked == NO_DAY, NO_DAY, picked - day0).astype(np.int32)

    first, last = rel(table.first_day), rel(table.last_day)
    x = np.maximum(table.purchase_days[rows] - 1, 0)
    # T runs to the day before the calendar, as the fit's T runs to its last day
    chance = prob_alive(
        x, last - first, -1.0 - first, params.r, params.alpha_day, params.a, params.b
    )
    return CustomerRows(
        row=rows,
        purchase_days=table.purchase_days[rows],
        first=first,
        last=last,
        member_purchase_days=table.member_purchase_days[rows],
        join=rel(table.join_day),
        repeat_spend_mean=table.repeat_spend_mean[rows],
        segments=table.segments[rows],
        alive_chance=chance,
    )


def initialise_customers(shoppers: Shoppers, params, customers: CustomerRows) -> None:
    """Set every shopper's initial state from their customer row (see the module docstring)."""
    on_workers(
        draw_customer_chunks,
        n_workers(n_chunks(len(shoppers.state))),
        lambda w: (shoppers, params, customers, np.uint64(params.seed)),
    )


@nb.njit(cache=True)
def label(c, j, dormant_after, churn_after):
    """Lifecycle state and flags (without ALIVE) of customer row j on the calendar's first day."""
    bought = c.purchase_days[j] > 0
    flags = EVER_BOUGHT if bought else np.uint8(0)
    if c.join[j] == NO_DAY:
        return (NONMEMBER_BUYER if bought else PROSPECT), flags
    flags |= OLD_MEMBER
    n_member = c.member_purchase_days[j]
    if n_member > 0:
        flags |= MEMBER_BUYER
    state = ENROLLED if n_member == 0 else FIRST_PURCHASE if n_member == 1 else REPEAT
    last_active = max(c.last[j], c.join[j]) if bought else c.join[j]
    return observed_state(state, last_active, 0, dormant_after, churn_after), flags


@nb.njit(cache=True, nogil=True)
def draw_customer_chunks(shoppers, params, c, seed, w, step):
    """Draw the fields without a start value for chunks w, w + step, ... (`workers.on_workers`)."""
    k_rate = rng.stream_key(seed, rng.INIT_RATE, 0)
    k_drop = rng.stream_key(seed, rng.INIT_DROPOUT, 0)
    k_basket = rng.stream_key(seed, rng.INIT_BASKET, 0)
    k_alive = rng.stream_key(seed, rng.INIT_ALIVE, 0)
    r, alpha, a, b = params.r, params.alpha_day, params.a, params.b
    n = len(shoppers.state)
    for ch in range(w, n_chunks(n), step):
        for j in range(ch * CHUNK, min(n, (ch + 1) * CHUNK)):
            i = c.row[j]
            state, flags = label(c, j, params.dormant_after, params.churn_after)
            x = max(c.purchase_days[j] - 1, 0)
            alive = True
            age = alpha  # alpha + exposure: the Gamma rate of lambda's posterior
            a_post, b_post = a, b
            if c.purchase_days[j] > 0:
                alive = rng.uniform(k_alive, i) < c.alive_chance[j]
                t_x = float(c.last[j] - c.first[j])
                age = alpha + (float(-1 - c.first[j]) if alive else t_x)  # T: as in customer_rows
                a_post, b_post = (a, b + x) if alive else (a + 1.0, b + x - 1.0)
            g = rng.gamma(rng.substream(k_drop, 0), i, a_post)
            shoppers.dropout[j] = g / (g + rng.gamma(rng.substream(k_drop, 1), i, b_post))
            shoppers.rate[j] = rng.gamma(k_rate, i, r + x) / age
            spent = x * c.repeat_spend_mean[j]
            nu = rng.gamma(k_basket, i, params.q + params.p * x) / (params.v + spent)
            shoppers.basket_scale[j] = 1.0 / nu
            shoppers.state[j] = state
            shoppers.segments[j] = c.segments[j]
            shoppers.flags[j] = flags | ALIVE if alive else flags
            bought = c.purchase_days[j] > 0
            shoppers.last_purchase[j] = max(c.last[j], NEVER) if bought else NEVER
            shoppers.enrol_day[j] = max(c.join[j], NEVER) if c.join[j] != NO_DAY else NEVER
