"""Shopper state as struct-of-arrays, and its initial draw from the scenario's population.

Each shopper is a slot in ten narrow numpy arrays: 21 bytes, plus one per frequency-capped channel.
Attributes needed only when the shopper buys (dropout p, basket scale) are derived on demand
from their keyed draws rather than stored.
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
    ENROLLED,
    EVER_BOUGHT,
    MEMBER_BUYER,
    OLD_MEMBER,
    PROSPECT,
    SEGMENTS,
    STATE0,
    STATES,
    state_bit,
)
from simulator.engine import rng
from simulator.engine.jit import hot_inline
from simulator.engine.workers import n_workers, on_workers
from simulator.scenario.schema import Population

NEVER = -32000  # "long before the campaign" for int16 day fields
# shoppers per chunk: the unit a worker thread takes and a counter row sums; fixed, so float
# sums never depend on the thread count
CHUNK = 8192


class Shoppers(NamedTuple):
    """Per-shopper state arrays (one slot per shopper)."""

    state: np.ndarray  # int8: lifecycle state (lifecycle.STATES)
    segments: np.ndarray  # uint8: segment bits (lifecycle.SEGMENTS)
    flags: np.ndarray  # uint8: history bits (lifecycle.ALIVE, ...)
    rate: np.ndarray  # float32: purchase rate lambda per day
    last_purchase: np.ndarray  # int16: day of the last purchase (campaign day 0 = first day)
    enrol_day: np.ndarray  # int16: day of enrolment
    held: np.ndarray  # uint32: bits of benefits held (touch-delivered or granted on enrolment)
    fatigue: np.ndarray  # float32: decayed count of contacts, as of the day of the last contact
    last_contact: np.ndarray  # int16: day of the last contact (fatigue decays from it)
    contacts: np.ndarray  # uint8[N, K]: contacts received per frequency-capped channel

    @property
    def n(self) -> int:
        """Number of shoppers."""
        return len(self.state)

    @property
    def nbytes(self) -> int:
        """Bytes held by the arrays."""
        return sum(a.nbytes for a in self)


class PopulationParams(NamedTuple):
    """Numbers of the population section, resolved (params file, per-day rates) for the kernel."""

    mix_cdf: np.ndarray  # float64[7]: cumulative state shares
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
    alive0: np.ndarray  # float64[7]: chance that a shopper of each initial state is active
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
def basket_scale(pp, key, i, segments):
    """1/nu of shopper i (Gamma-Gamma) times its segments' basket multipliers.

    Derived from the keyed draw when the shopper buys instead of stored: purchases are rare, and
    memory per shopper is what limits the population size. key: stream INIT_BASKET, day 0.
    """
    mult = 1.0
    for g in range(len(pp.seg_basket)):
        if (segments >> g) & 1:
            mult *= pp.seg_basket[g]
    return mult / (rng.gamma(key, i, pp.q) / pp.v)


@hot_inline
def dropout_probability(pp, key, i):
    """BG/NBD dropout p ~ Beta(a, b) of shopper i, derived like `basket_scale` (INIT_DROPOUT)."""
    x = rng.gamma(rng.substream(key, 0), i, pp.a)
    y = rng.gamma(rng.substream(key, 1), i, pp.b)
    return x / (x + y)


def allocate(n: int, n_capped: int) -> Shoppers:
    """Empty arrays for n shoppers (allocated once; runs reuse them)."""
    return Shoppers(
        state=np.empty(n, np.int8),
        segments=np.empty(n, np.uint8),
        flags=np.empty(n, np.uint8),
        rate=np.empty(n, np.float32),
        last_purchase=np.empty(n, np.int16),
        enrol_day=np.empty(n, np.int16),
        held=np.empty(n, np.uint32),
        fatigue=np.empty(n, np.float32),
        last_contact=np.empty(n, np.int16),
        contacts=np.empty((n, n_capped), np.uint8),
    )


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


@nb.njit(cache=True)
def n_chunks(n):
    """Number of chunks (and counter rows) for n shoppers; at least one."""
    return max(1, (n + CHUNK - 1) // CHUNK)


def initialise(shoppers: Shoppers, params: PopulationParams, first: int = 0) -> None:
    """Draw every shopper's initial state in place from params.seed; slot k is shopper first+k."""
    on_workers(
        _initialise_chunks,
        n_workers(n_chunks(len(shoppers.state))),
        lambda w: (shoppers, params, np.uint64(params.seed), first),
    )


@nb.njit(cache=True, nogil=True)
def _initialise_chunks(s, pp, seed, first, w, step):
    """Draw the slots of chunks w, w + step, ... (one worker's share, `workers.on_workers`)."""
    k_state = rng.stream_key(seed, rng.INIT_STATE, 0)
    k_seg = rng.stream_key(seed, rng.INIT_SEGMENT, 0)
    k_rate = rng.stream_key(seed, rng.INIT_RATE, 0)
    k_rec = rng.stream_key(seed, rng.INIT_RECENCY, 0)
    k_alive = rng.stream_key(seed, rng.INIT_ALIVE, 0)
    n_seg = len(pp.seg_share)
    n = len(s.state)
    for c in range(w, n_chunks(n), step):
        for j in range(c * CHUNK, min(n, (c + 1) * CHUNK)):
            i = first + j
            u = rng.uniform(k_state, i)
            st = 0
            while st < 6 and u >= pp.mix_cdf[st]:
                st += 1
            seg = 0
            rate_mult = 1.0
            for g in range(n_seg):
                if pp.seg_share[g] > 0.0 and (pp.seg_states[g] >> np.uint32(STATE0 + st)) & 1:
                    if rng.uniform(rng.substream(k_seg, g), i) < pp.seg_share[g]:
                        seg |= 1 << g
                        rate_mult *= pp.seg_rate[g]
            lam = rng.gamma(k_rate, i, pp.r) / pp.alpha_day * rate_mult
            s.state[j] = st
            s.segments[j] = seg
            s.rate[j] = lam
            # recency consistent with the observed label: active < dormant_after <= dormant < churn
            ur = rng.uniform(k_rec, i)
            if st == 5:
                ago = pp.dormant_after + int(ur * (pp.churn_after - pp.dormant_after))
            elif st == 6:
                ago = pp.churn_after + int(ur * pp.churn_after)
            elif st == 1:
                ago = 1 + int(ur * (pp.churn_after - 1))
            else:
                ago = 1 + int(ur * (pp.dormant_after - 1))
            fl = 0
            if rng.uniform(k_alive, i) < pp.alive0[st]:
                fl |= ALIVE
            if st >= ENROLLED:
                fl |= OLD_MEMBER
            if st != PROSPECT and st != ENROLLED:
                fl |= EVER_BOUGHT
            if st > ENROLLED:
                fl |= MEMBER_BUYER
            s.flags[j] = fl
            s.last_purchase[j] = -ago if fl & EVER_BOUGHT else NEVER
            s.enrol_day[j] = -ago if st == ENROLLED else NEVER
            s.held[j] = 0
            s.fatigue[j] = 0.0
            s.last_contact[j] = NEVER
            for k in range(s.contacts.shape[1]):
                s.contacts[j, k] = 0
