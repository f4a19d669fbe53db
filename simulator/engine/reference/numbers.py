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


def uniform(key: np.uint64, shopper: int) -> float:
    """The shopper's uniform in [0, 1) in stream `key`."""
    return rng.uniform(key, shopper)


def gamma(key: np.uint64, shopper: int, shape: float) -> float:
    """The shopper's Gamma(shape, 1) draw in stream `key`."""
    return rng.gamma(key, shopper, shape)


def normal(key: np.uint64, shopper: int) -> float:
    """The shopper's standard normal draw in stream `key` (the engine's Box-Muller)."""
    return rng.normal(key, shopper, 0)


def poisson_count(u: float, mean: float, most: int) -> int:
    """The Poisson(mean) count at uniform u: 0 if u >= P(N >= 1), else the inverse CDF of N given
    N >= 1 at u / P(N >= 1), at most `most`."""
    some = -math.expm1(-mean)
    if u >= some:
        return 0
    w = u / some
    term = mean * math.exp(-mean) / some
    cdf, n = term, 1
    while w >= cdf and n < most:
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
