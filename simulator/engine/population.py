"""The initial draw of the shoppers (`shoppers.Shoppers`) from the scenario's population section.

Initial attributes are counter-based draws keyed by (seed, shopper), so shopper i is the same
shopper in every scenario run on the same seed, whatever the population size or thread count.
Heterogeneity follows BG/NBD (purchase rate lambda ~ Gamma(r, alpha) per day, dropout
p ~ Beta(a, b)) and Gamma-Gamma (spend per order ~ Gamma(p, nu), nu ~ Gamma(q, v)).
"""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import NamedTuple

import numba as nb
import numpy as np

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
from simulator.engine.jit import hot_inline
from simulator.engine.shoppers import NEVER, Shoppers, allocate, set_start_values
from simulator.engine.workers import CHUNK, n_chunks, n_workers, on_workers
from simulator.scenario.schema import Population

LAST_STATE = len(STATES) - 1


class PopulationParams(NamedTuple):
    """Numbers of the population section, resolved (params file, per-day rates) for the kernel."""

    mix_cdf: np.ndarray  # float64[len(STATES)]: cumulative state shares
    seg_share: np.ndarray  # float64[S]
    seg_states: np.ndarray  # uint32[S]: tag bits of the states a segment can hold
    seg_rate: np.ndarray  # float64[S]: purchase-rate multiplier
    seg_basket: np.ndarray  # float64[S]: basket multiplier
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
    fatigue_decay: float  # daily multiplier of the fatigue load
    decay_after: np.ndarray  # float64[2**16]: fatigue_decay ** k for k days since a contact
    seed: np.uint64 = np.uint64(0)  # population seed: keys every per-shopper trait


def resolve_params(pop: Population, base_dir: Path = Path(".")) -> PopulationParams:
    """Resolve the population section (reading a fitted params file if named)."""
    if pop.params_file is not None:
        from simulator.clv.params_file import read_params

        fitted = read_params(base_dir / pop.params_file)
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
    for k, spec in segs:
        share[k] = spec.share
        states[k] = sum(state_bit(s) for s in spec.states)
        mult_rate[k] = spec.rate_multiplier
        mult_basket[k] = spec.basket_multiplier
    alive0 = np.ones(len(STATES))
    for st, prob in pop.initial_alive.items():
        alive0[STATES.index(st)] = prob
    shares = np.array([pop.mix.get(s, 0.0) for s in STATES])
    decay = 0.5 ** (1.0 / pop.fatigue_half_life_days)
    return PopulationParams(
        mix_cdf=np.cumsum(shares) / shares.sum(),
        seg_share=share,
        seg_states=states,
        seg_rate=mult_rate,
        seg_basket=mult_basket,
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
        fatigue_decay=decay,
        decay_after=decay_powers(decay),
    )


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


@hot_inline
def basket_scale(params, key, i, segments):
    """1/nu of shopper i (Gamma-Gamma) times its segments' basket multipliers.

    Derived from the keyed draw when the shopper buys instead of stored: purchases are rare, and
    memory per shopper is what limits the population size. key: stream INIT_BASKET, day 0.
    """
    mult = 1.0
    for g in range(len(params.seg_basket)):
        if (segments >> g) & 1:
            mult *= params.seg_basket[g]
    return mult / (rng.gamma(key, i, params.q) / params.v)


@hot_inline
def dropout_probability(params, key, i):
    """BG/NBD dropout p ~ Beta(a, b) of shopper i, derived like `basket_scale` (INIT_DROPOUT)."""
    x = rng.gamma(rng.substream(key, 0), i, params.a)
    y = rng.gamma(rng.substream(key, 1), i, params.b)
    return x / (x + y)


@nb.njit(cache=True)
def state_counts(state):
    """Shoppers per lifecycle state (no temporary array: populations can be 10^8)."""
    out = np.zeros(len(STATES), np.int64)
    for i in range(len(state)):
        out[state[i]] += 1
    return out


def draw_population(
    pop: Population, seed: int, n: int, n_capped: int, base_dir: Path = Path(".")
) -> Shoppers:
    """Allocate and draw the initial arrays of n shoppers, to share between scenarios.

    n_capped: the most frequency-capped channels any of those scenarios has.
    """
    s = allocate(n, n_capped)
    initialise(s, resolve_params(pop, base_dir)._replace(seed=np.uint64(seed)))
    return s


def initialise(shoppers: Shoppers, params: PopulationParams, first: int = 0) -> None:
    """Set every shopper's initial state in place from params.seed; slot k is shopper first+k.

    Fields with a start value (`shoppers.FIELDS`) are filled with it; the others are drawn.
    """
    set_start_values(shoppers)
    on_workers(
        draw_chunks,
        n_workers(n_chunks(len(shoppers.state))),
        lambda w: (shoppers, params, np.uint64(params.seed), first),
    )


@nb.njit(cache=True, nogil=True)
def draw_chunks(shoppers, params, seed, first, w, step):
    """Draw the fields without a start value for chunks w, w + step, ... (`workers.on_workers`)."""
    k_state = rng.stream_key(seed, rng.INIT_STATE, 0)
    k_seg = rng.stream_key(seed, rng.INIT_SEGMENT, 0)
    k_rate = rng.stream_key(seed, rng.INIT_RATE, 0)
    k_rec = rng.stream_key(seed, rng.INIT_RECENCY, 0)
    k_alive = rng.stream_key(seed, rng.INIT_ALIVE, 0)
    n = len(shoppers.state)
    for c in range(w, n_chunks(n), step):
        for j in range(c * CHUNK, min(n, (c + 1) * CHUNK)):
            i = first + j
            u = rng.uniform(k_state, i)
            state = PROSPECT
            while state < LAST_STATE and u >= params.mix_cdf[state]:
                state += 1
            # segments, each drawn only for the states it may hold; multipliers compound
            segments = 0
            rate_mult = 1.0
            for g in range(len(params.seg_share)):
                share = params.seg_share[g]
                if share > 0.0 and (params.seg_states[g] >> np.uint32(STATE0 + state)) & 1:
                    if rng.uniform(rng.substream(k_seg, g), i) < share:
                        segments |= 1 << g
                        rate_mult *= params.seg_rate[g]
            shoppers.state[j] = state
            shoppers.segments[j] = segments
            shoppers.rate[j] = rng.gamma(k_rate, i, params.r) / params.alpha_day * rate_mult
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
            shoppers.flags[j] = flags
            shoppers.last_purchase[j] = -ago if flags & EVER_BOUGHT else NEVER
            shoppers.enrol_day[j] = -ago if state == ENROLLED else NEVER
