"""Statistics of replications: the mean and its confidence interval."""

from __future__ import annotations

import math

import numpy as np
from scipy.special import stdtrit


def mean_ci(values, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and two-sided t-interval of the mean of per-replication values (NaN-free)."""
    x = np.asarray([v for v in values if v is not None], dtype=float)
    if len(x) == 0:
        return math.nan, math.nan, math.nan
    m = float(x.mean())
    if len(x) < 2:
        return m, math.nan, math.nan
    # the Student t quantile from scipy.special (already loaded by Numba), not scipy.stats,
    # whose import alone takes 0.3-0.6 s
    half = stdtrit(len(x) - 1, 0.5 + level / 2) * x.std(ddof=1) / math.sqrt(len(x))
    return m, m - half, m + half
