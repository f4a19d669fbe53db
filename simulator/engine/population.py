"""The initial draw of the shoppers (`shoppers.Shoppers`) from the scenario's population section.

Initial attributes are counter-based draws keyed by (seed, shopper), so shopper i is the same
shopper in every scenario run on the same seed, whatever the population size or thread count.
Heterogeneity follows BG/NBD (purchase rate lambda ~ Gamma(r, alpha) per day, dropout
p ~ Beta(a, b)) and Gamma-Gamma (spend per order ~ Gamma(p, nu), nu ~ Gamma(q, v)).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from pathlib import Path
from typing import NamedTuple

import numba as nb
import numpy as np

from simulator.clv.customer_table import customer_table
from simulator.clv.params_file import FittedParams, read_params
from simulator.domain.lifecycle import (
    ALIVE,
    CHURNED,
    DORMANT,
    ENROLLED,
    EVER_BOUGHT,
    MEMBER_BUYER,
    NONMEMBER_BUYER,
    OLD_MEMBER,
    PROSPECT,
    SEGMENTS,
    STATE0,
    STATES,
    state_bit,
)
from simulator.engine import rng
from simulator.engine.customers import (
    CustomerRows,
    customer_rows,
    initialise_customers,
    sample_rows,
)
from simulator.engine.shoppers import NEVER, Shoppers, allocate, set_start_values
from simulator.engine.workers import CHUNK, n_chunks, n_workers, on_workers
from simulator.scenario.schema import Population

LAST_STATE = len(STATES) - 1
BY_RATE, BY_SPEND = 1, 2  # segment selected as the top share by purchase rate, by spend rate


def segment_cut(by: str | None, share: float, r: float, q: float) -> float:
    """Threshold on the shopper's raw draws above which the top `share` lies.

    Purchase rate is Gamma(r) / alpha: the cut is on the Gamma(r, 1) draw. Spend rate is
    rate x expected basket = Gamma(r) / alpha x p v / Gamma(q): the ratio Gamma(r) / Gamma(q)
    is beta-prime(r, q), exactly, whatever alpha, p and v.
    """
    from scipy import stats

    if by is None or share <= 0.0:
        return math.inf
    if by == "purchase_rate":
        return float(stats.gamma.isf(share, r))
    return float(stats.betaprime.isf(share, r, q))


class PopulationParams(NamedTuple):
    """Numbers of the population section, resolved (params file, per-day rates) for the kernel."""

    mix_cdf: np.ndarray  # float64[len(STATES)]: cumulative state shares
    seg_share: np.ndarray  # float64[S]
    seg_states: np.ndarray  # uint32[S]: tag bits of the states a segment can hold
    seg_rate: np.ndarray  # float64[S]: purchase-rate multiplier
    seg_basket: np.ndarray  # float64[S]: basket multiplier
    sensitivity_by_segments: np.ndarray  # float64[256]: product of the segments' multipliers
    seg_by: np.ndarray  # int8[S]: 0 keyed draw, BY_RATE or BY_SPEND (top share by behaviour)
    seg_cut: np.ndarray  # float64[S]: for BY_*: the draw's (1 - share) quantile
    r: float
    alpha_day: float  # Gamma rate in days
    a: float
    b: float
    p: float
    q: float
    v: float
    alive0: np.ndarray  # float64[len(STATES)]: chance a shopper of each initial state is active
    dormant_after: int
    churn_after: int
    recent_days: int
    prospect_scale: float
    conversion: float
    enrol_rate: float
    logit_conversion: float  # log-odds of conversion_per_visit (offers add to it)
    sensitivity_levels: np.ndarray  # float64[SENSITIVITY_LEVELS]: price sensitivity quantiles
    depth_scale: float  # relative offer depth giving 63% of the largest response
    max_log_odds: float  # cap of what all benefits add to the purchase log-odds
    topup: float  # yuan a shopper adds to reach a threshold per yuan saved (x sensitivity)
    dropout_after_first: bool  # a shopper may drop out after their first purchase (MBG/NBD)
    pull_forward: float  # share of the orders offers and contacts add that are bought ahead
    wait_share: float  # chance a need waits for a held offer usable soon but not today
    fatigue_decay: float  # daily multiplier of the fatigue load
    decay_after: np.ndarray  # float64[2**16]: fatigue_decay ** k for k days since a contact
    goods_share: float  # share of pre-sale-day orders that are deposits on pre-sale goods
    deposit_share: float  # deposit / list value of a pre-sale order
    logit_payment: float  # log-odds of paying a balance without a reminder
    seed: np.uint64 = np.uint64(0)  # population seed: keys every per-shopper trait


def fitted_params(pop: Population, base_dir: Path = Path(".")) -> FittedParams | None:
    """The fitted model of the population: its customer table's, its params file's, or None."""
    if pop.customers is not None:
        return customer_table(base_dir / pop.customers).params
    if pop.params_file is not None:
        return read_params(base_dir / pop.params_file)
    return None


def resolve_params(pop: Population, base_dir: Path = Path(".")) -> PopulationParams:
    """Resolve the population section (reading a fitted params file or customer table if named).

    With a customer table, segments and states are the table's: only the segments' price
    sensitivity applies here.
    """
    fitted = fitted_params(pop, base_dir)
    if fitted is not None:
        day = fitted.per_day()
        r, alpha_day, a, b = day.r, day.alpha, day.a, day.b
        p, q, v = fitted.gamma_gamma.p, fitted.gamma_gamma.q, fitted.gamma_gamma.v
    else:
        r = pop.purchase_rate.r
        alpha_day = pop.purchase_rate.alpha * pop.purchase_rate.time_unit_days
        a, b = pop.dropout.a, pop.dropout.b
        p, q, v = pop.basket.p, pop.basket.q, pop.basket.v
    segs = [(SEGMENTS.index(name), spec) for name, spec in pop.segments.items()]
    share = np.zeros(len(SEGMENTS))
    states = np.zeros(len(SEGMENTS), np.uint32)
    mult_rate = np.ones(len(SEGMENTS))
    mult_basket = np.ones(len(SEGMENTS))
    mult_sens = np.ones(len(SEGMENTS))
    by = np.zeros(len(SEGMENTS), np.int8)
    cut = np.full(len(SEGMENTS), math.inf)
    for k, spec in segs:
        mult_sens[k] = spec.price_sensitivity
        if pop.customers is not None:
            continue  # who is in the segment, and their rates, are the table's
        share[k] = spec.share
        states[k] = sum(state_bit(s) for s in spec.states)
        mult_rate[k] = spec.rate_multiplier
        mult_basket[k] = spec.basket_multiplier
        by[k] = {None: 0, "purchase_rate": BY_RATE, "spend_rate": BY_SPEND}[spec.by]
        cut[k] = segment_cut(spec.by, spec.share, r, q)
    alive0 = np.ones(len(STATES))
    for st, prob in pop.initial_alive.items():
        alive0[STATES.index(st)] = prob
    shares = np.array([pop.mix.get(s, 0.0) for s in STATES] if pop.mix else [1.0] * len(STATES))
    decay = 0.5 ** (1.0 / pop.fatigue_half_life_days)
    return PopulationParams(
        mix_cdf=np.cumsum(shares) / shares.sum(),
        seg_share=share,
        seg_states=states,
        seg_rate=mult_rate,
        seg_basket=mult_basket,
        sensitivity_by_segments=np.array([math.prod(mult_sens[bits_of(s)]) for s in range(256)]),
        seg_by=by,
        seg_cut=cut,
        r=float(r),
        alpha_day=float(alpha_day),
        a=float(a),
        b=float(b),
        p=float(p),
        q=float(q),
        v=float(v),
        alive0=alive0,
        dormant_after=pop.dormant_after_days,
        churn_after=pop.churn_after_days,
        recent_days=pop.recent_buyer_days,
        prospect_scale=pop.prospect_rate_scale,
        conversion=pop.conversion_per_visit,
        enrol_rate=pop.enrol_per_visit,
        logit_conversion=logit(pop.conversion_per_visit),
        sensitivity_levels=sensitivity_levels(pop.offer_response.sensitivity_sigma),
        depth_scale=pop.offer_response.depth_scale,
        max_log_odds=pop.offer_response.max_log_odds,
        topup=pop.offer_response.topup_per_yuan_saved,
        dropout_after_first=bool(pop.dropout is not None and pop.dropout.after_first_purchase),
        pull_forward=pop.demand_timing.pull_forward_share,
        wait_share=pop.demand_timing.wait_share,
        fatigue_decay=decay,
        decay_after=decay_powers(decay),
        goods_share=pop.presale.goods_share,
        deposit_share=pop.presale.deposit_share,
        logit_payment=logit(pop.presale.payment_rate),
    )


SENSITIVITY_LEVELS = 256


def sensitivity_levels(sigma: float) -> np.ndarray:
    """Price sensitivity at the midpoints of SENSITIVITY_LEVELS equal-probability bins.

    log sensitivity is logistic, median 0, standard deviation sigma (scale sigma sqrt(3) / pi):
    a shopper's sensitivity is the level of their keyed bin, so deriving it at a visit is a
    table lookup, and 256 levels are far finer than anything the response can tell apart.
    """
    u = (np.arange(SENSITIVITY_LEVELS) + 0.5) / SENSITIVITY_LEVELS
    return np.exp(sigma * math.sqrt(3.0) / math.pi * np.log(u / (1.0 - u)))


def bits_of(byte: int) -> list[int]:
    """Positions of the set bits of a segment byte (the shopper's segments)."""
    return [g for g in range(len(SEGMENTS)) if byte >> g & 1]


def logit(p: float) -> float:
    """log(p / (1 - p)); +inf for p = 1 (every visit buys: offers cannot add)."""
    return math.inf if p >= 1.0 else math.log(p / (1.0 - p))


@functools.lru_cache(maxsize=8)
def decay_powers(decay: float) -> np.ndarray:
    """Powers decay ** k for every k an int16 day difference can take (0..65535), by math.pow.

    The day step looks the fatigue decay up here instead of calling pow for each contacted
    shopper (a third of a contact's cost). math.pow, not NumPy's vectorised power, so each
    value is the one the reference model computes. Read-only: shared by every run.
    """
    table = np.empty(1 << 16)
    for k in range(len(table)):  # filled in place: no list of 65,536 floats to hold at once
        table[k] = math.pow(decay, float(k))
    table.flags.writeable = False
    return table


@nb.njit(cache=True)
def state_counts(state):
    """Shoppers per lifecycle state (no temporary array: populations can be 10^8)."""
    out = np.zeros(len(STATES), np.int64)
    for i in range(len(state)):
        out[state[i]] += 1
    return out


def draw_population(
    pop: Population,
    seed: int,
    n: int,
    n_capped: int,
    base_dir: Path = Path("."),
    start: dt.date | None = None,
) -> Shoppers:
    """Allocate and draw the initial arrays of n shoppers, to share between scenarios.

    n_capped: the most frequency-capped channels any of those scenarios has. start: the
    calendar's first day (a customer table's histories are counted back from it).
    """
    s = allocate(n, n_capped)
    params = resolve_params(pop, base_dir)._replace(seed=np.uint64(seed))
    initialise(s, params, customers_of(pop, base_dir, start, n, params))
    return s


def customers_of(
    pop: Population, base_dir: Path, start: dt.date | None, n: int, params: PopulationParams
) -> CustomerRows | None:
    """The n customers of a customer-table population (a keyed sample), or None."""
    if pop.customers is None:
        return None
    if start is None:
        raise ValueError("a customer table needs the calendar's first day")
    table = customer_table(base_dir / pop.customers)
    return customer_rows(table, start, sample_rows(table.n, n, int(params.seed)), params)


def initialise(
    shoppers: Shoppers, params: PopulationParams, customers: CustomerRows | None = None
) -> None:
    """Set every shopper's initial state in place from params.seed.

    Fields with a start value (`shoppers.FIELDS`) are filled with it; the others are drawn:
    from the population's shares and fitted model, or from each customer's row.
    """
    set_start_values(shoppers)
    if customers is not None:
        initialise_customers(shoppers, params, customers)
        return
    on_workers(
        draw_chunks,
        n_workers(n_chunks(len(shoppers.state))),
        lambda w: (shoppers, params, np.uint64(params.seed)),
    )


@nb.njit(cache=True, nogil=True)
def draw_chunks(shoppers, params, seed, w, step):
    """Draw the fields without a start value for chunks w, w + step, ... (`workers.on_workers`)."""
    k_state = rng.stream_key(seed, rng.INIT_STATE, 0)
    k_seg = rng.stream_key(seed, rng.INIT_SEGMENT, 0)
    k_rate = rng.stream_key(seed, rng.INIT_RATE, 0)
    k_rec = rng.stream_key(seed, rng.INIT_RECENCY, 0)
    k_alive = rng.stream_key(seed, rng.INIT_ALIVE, 0)
    k_basket = rng.stream_key(seed, rng.INIT_BASKET, 0)
    k_drop = rng.stream_key(seed, rng.INIT_DROPOUT, 0)
    n = len(shoppers.state)
    for c in range(w, n_chunks(n), step):
        for i in range(c * CHUNK, min(n, (c + 1) * CHUNK)):
            u = rng.uniform(k_state, i)
            state = PROSPECT
            while state < LAST_STATE and u >= params.mix_cdf[state]:
                state += 1
            # segments, each for the states it may hold: a keyed draw, or the top share by the
            # shopper's own purchase or spend rate; multipliers compound
            # (by spend rate: the purchase-rate draw over the Gamma(q) draw of nu)
            g_rate = rng.gamma(k_rate, i, params.r)
            g_nu = rng.gamma(k_basket, i, params.q)  # nu = g_nu / v
            segments = 0
            rate_mult = 1.0
            basket_mult = 1.0
            for g in range(len(params.seg_share)):
                share = params.seg_share[g]
                if share > 0.0 and (params.seg_states[g] >> np.uint32(STATE0 + state)) & 1:
                    by = params.seg_by[g]
                    if by == BY_RATE:
                        inside = g_rate >= params.seg_cut[g]
                    elif by == BY_SPEND:
                        inside = g_rate / g_nu >= params.seg_cut[g]
                    else:
                        inside = rng.uniform(rng.substream(k_seg, g), i) < share
                    if inside:
                        segments |= 1 << g
                        rate_mult *= params.seg_rate[g]
                        basket_mult *= params.seg_basket[g]
            shoppers.state[i] = state
            shoppers.segments[i] = segments
            shoppers.rate[i] = g_rate / params.alpha_day * rate_mult
            shoppers.basket_scale[i] = basket_mult / (g_nu / params.v)
            x = rng.gamma(rng.substream(k_drop, 0), i, params.a)  # p ~ Beta(a, b)
            shoppers.dropout[i] = x / (x + rng.gamma(rng.substream(k_drop, 1), i, params.b))
            # recency consistent with the observed label: active < dormant_after <= dormant < churn
            ur = rng.uniform(k_rec, i)
            if state == DORMANT:
                ago = params.dormant_after + int(ur * (params.churn_after - params.dormant_after))
            elif state == CHURNED:
                ago = params.churn_after + int(ur * params.churn_after)
            elif state == NONMEMBER_BUYER:
                ago = 1 + int(ur * (params.churn_after - 1))
            else:
                ago = 1 + int(ur * (params.dormant_after - 1))
            flags = 0
            if rng.uniform(k_alive, i) < params.alive0[state]:
                flags |= ALIVE
            if state >= ENROLLED:
                flags |= OLD_MEMBER
            if state != PROSPECT and state != ENROLLED:
                flags |= EVER_BOUGHT
            if state > ENROLLED:  # dormant and churned members had bought as members
                flags |= MEMBER_BUYER
            shoppers.flags[i] = flags
            shoppers.last_purchase[i] = -ago if flags & EVER_BOUGHT else NEVER
            shoppers.enrol_day[i] = -ago if state == ENROLLED else NEVER
