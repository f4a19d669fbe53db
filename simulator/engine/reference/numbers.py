"""The reference model's numbers: keyed draws and float rounding exactly as the engine's."""

from __future__ import annotations

import math

import numpy as np

from simulator.engine import rng

_MASK64 = (1 << 64) - 1


def f32(x: float) -> float:
    """Round to the nearest float32, as storing into the engine's float32 arrays does."""
    return float(np.float32(x))


def stream_key(seed: int, decision: int, day: int) -> np.uint64:
    """Key of the (seed, decision, day) stream (rng.stream_key, typed as the kernel types it)."""
    return np.uint64(rng.stream_key(np.uint64(seed), decision, day))


def substream(key: np.uint64, sub: int) -> np.uint64:
    """Key of sub-stream `sub` of a stream (a touch, a segment)."""
    return np.uint64(rng.substream(key, sub))


def slot_key(key: np.uint64, hour: int) -> np.uint64:
    """Key of a day's stream in the slot of an hourly day from `hour` (the day's own at 0)."""
    return np.uint64(rng.slot_key(key, hour))


def uniform(key: np.uint64, shopper: int) -> float:
    """The shopper's uniform in [0, 1) in stream `key`."""
    return rng.uniform(key, shopper)


def gamma(key: np.uint64, shopper: int, shape: float) -> float:
    """The shopper's Gamma(shape, 1) draw in stream `key`."""
    return rng.gamma(key, shopper, shape)


def order_count(u: float, mean: float, most: int) -> int:
    """The Poisson(mean) count at uniform u by the inverse distribution function, up to `most`.

    0 without an exponential when u < 1 - mean <= exp(-mean).
    """
    if u < 1.0 - mean:
        return 0
    term = math.exp(-mean)
    cdf, n = term, 0
    while u >= cdf and n < most:
        n += 1
        term *= mean / n
        cdf += term
    return n


def priority_bin(key: np.uint64, shopper: int) -> int:
    """The shopper's contact-priority bin for a touch: lower bins are served first."""
    return int(uniform(key, shopper) * rng.PRIORITY_BINS)


def birthday_of(seed: int, shopper: int) -> int:
    """Day of the year (0..364) of the shopper's birthday, a keyed draw fixed for the whole run."""
    key = (int(stream_key(seed, rng.BIRTHDAY, 0)) + shopper) & _MASK64
    return int(rng.mix64(np.uint64(key))) % 365


def decay_factor(decay: float, days: int) -> float:
    """The share of fatigue left after `days` days without a contact: decay ** days."""
    return math.pow(decay, float(days))


def lift(benefits: list[int], effect: list[float]) -> float:
    """Product of (1 + effect[b]) over the benefits, in benefit order."""
    x = 1.0
    for b in benefits:
        x *= 1.0 + effect[b]
    return x
