"""Counter-based random numbers: every draw is a pure function of (seed, decision, day, shopper).

There is no generator state. A draw is the splitmix64 finaliser applied to a key built from the
run seed, a named decision, the day and the shopper, so results do not depend on thread count or
evaluation order, and two scenarios on the same seed see the same numbers for the same decision
(common random numbers). Each decision has its own constant, so adding a decision never shifts
another decision's numbers (the Starsim design).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

# One constant per decision. Never renumber: a change shifts that decision's draws in every run.
CONTACT = 1  # priority of a shopper for a touch (capacity); one substream per touch
VISIT = 2
ENROL = 3
BUY = 4
BASKET = 5  # substreams for the rejection-sampling attempts
DROPOUT = 6
REACTIVATE = 7  # one substream per touch
BIRTHDAY = 8
AWARE = 9  # a delivered offer is noticed; one substream per touch
AHEAD = 10  # an order added by offers or contacts is bought ahead of need; substream per order
WAIT = 11  # a need waits for a held offer usable soon; substream per order
PRESALE = 12  # an order on a pre-sale day is a deposit on pre-sale goods; substream per order
PAYMENT = 13  # a pre-sale balance is paid on its final-payment day
HOUR_SUBSTREAM = 1 << 32
"""On an hourly day, the slot from hour h > 0 draws visits, enrolments, orders, baskets,
dropouts, buying ahead and waiting from substream HOUR_SUBSTREAM + h of the day's streams
(`slot_key`): far above the substreams those streams have already (orders, rejection attempts)."""
# Population set-up (day is unused, 0)
INIT_STATE = 20
INIT_SEGMENT = 21  # one substream per segment
INIT_RATE = 22
INIT_DROPOUT = 23
INIT_BASKET = 24
INIT_RECENCY = 25
INIT_ALIVE = 26
INIT_SENSITIVITY = 27  # price sensitivity level (log-logistic), derived when needed
INIT_SAMPLE = 28  # a customer table's row is in a smaller population's sample

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53
PRIORITY_BITS = 12
PRIORITY_BINS = 1 << PRIORITY_BITS  # contact-priority bins (capacity thresholds are bin numbers)
_PRIORITY_SHIFT = np.uint64(64 - PRIORITY_BITS)


@nb.njit(cache=True)
def mix64(z):
    """Splitmix64 finaliser: a bijective avalanche of a 64-bit integer."""
    z = np.uint64(z)  # a key that came back through Python arrives typed int64
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@nb.njit(cache=True)
def stream_key(seed, decision, day):
    """Key of one (seed, decision, day) stream; computed once per day, outside the shopper loop."""
    k = mix64(np.uint64(seed) ^ (np.uint64(decision) * _GOLDEN))
    return mix64(k + np.uint64(day) * _GOLDEN)


@nb.njit(cache=True)
def substream(key, sub):
    """Key of sub-stream `sub` of a stream (a touch, a segment, a rejection attempt)."""
    return mix64(np.uint64(key) ^ ((np.uint64(sub) + np.uint64(1)) * _M2))


@nb.njit(cache=True)
def slot_key(key, hour):
    """Key of a day's stream in the slot of an hourly day that starts at `hour`.

    The slot from 00:00 keeps the day's key, so a normal day (one slot) draws as it always did,
    and each later slot has keys of its own whatever the other slots are.
    """
    return key if hour == 0 else substream(key, HOUR_SUBSTREAM + hour)


@nb.njit(cache=True)
def uniform(key, shopper):
    """Uniform in [0, 1) for one shopper in the stream `key`."""
    # the top 53 bits fit int64: a signed conversion is one instruction, an unsigned one is not
    return float(np.int64(_hash(key, shopper) >> _S11)) * _INV53


@nb.njit(cache=True)
def priority_bin(key, shopper):
    """The top PRIORITY_BITS of the shopper's hash in `key`: int(uniform x PRIORITY_BINS).

    Integer shifts give exactly the bin of the uniform, without a float conversion: the priority
    test runs for every shopper and every capacity-limited touch.
    """
    return np.int64(_hash(key, shopper) >> _PRIORITY_SHIFT)


@nb.njit(cache=True)
def _hash(key, shopper):
    """The 64 random bits of one shopper in the stream `key`."""
    return mix64(np.uint64(key) + (np.uint64(shopper) + np.uint64(1)) * _GOLDEN)


@nb.njit(cache=True)
def normal(key, shopper, sub):
    """Standard normal by Box-Muller from two keyed uniforms (sub-streams 2*sub, 2*sub+1)."""
    k1 = substream(key, 3 * sub)
    k2 = substream(key, 3 * sub + 1)
    u1 = 1.0 - uniform(k1, shopper)  # (0, 1]
    u2 = uniform(k2, shopper)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@nb.njit(cache=True)
def gamma(key, shopper, shape):
    """Gamma(shape, 1) by Marsaglia-Tsang; each rejection attempt uses its own sub-stream."""
    boost = 1.0
    a = shape
    if a < 1.0:
        ku = substream(key, 1 << 20)
        boost = (1.0 - uniform(ku, shopper)) ** (1.0 / a)
        a += 1.0
    d = a - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    for attempt in range(1000):
        x = normal(key, shopper, attempt)
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        ku = substream(key, 3 * attempt + 2)
        u = 1.0 - uniform(ku, shopper)
        if math.log(u) < 0.5 * x * x + d - d * v + d * math.log(v):
            return d * v * boost
    return d * boost  # unreachable in practice: acceptance probability is above 0.95 per attempt


@nb.njit(cache=True)
def touch_keys(seed, day, touches):
    """Contact-priority stream keys of the given touches on a day (one substream per touch)."""
    base = stream_key(seed, CONTACT, day)
    out = np.empty(len(touches), np.uint64)
    for k in range(len(touches)):
        out[k] = substream(base, touches[k])
    return out


def uniforms(seed: int, decision: int, day: int, n: int) -> np.ndarray:
    """Vector of the stream's uniforms for shoppers 0..n-1 (a vectorised view, for tests)."""
    return _uniforms(np.uint64(seed), decision, day, n)


@nb.njit(cache=True)
def _uniforms(seed, decision, day, n):
    key = stream_key(seed, decision, day)
    out = np.empty(n)
    for i in range(n):
        out[i] = uniform(key, i)
    return out


def replication_seed(seed: int, rep: int) -> int:
    """Seed of replication `rep` of a run with base `seed` (rep 0 is the seed itself)."""
    if rep == 0:
        return int(seed) & 0xFFFFFFFFFFFFFFFF
    return int(_mix_py((int(seed) + rep * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF))


def _mix_py(z: int) -> int:
    """Pure-Python splitmix64 finaliser (same as `mix64`), for seeds."""
    mask = 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    return z ^ (z >> 31)
