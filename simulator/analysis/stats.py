"""Statistics of replications: the mean, its confidence interval, the standard deviation.

One implementation for every table and chart: `estimate` takes per-replication values, either a
list in which a KPI that is undefined in a replication is None, or an array with replications
along an axis (every day of every replication at once). Missing values (None or NaN) are left
out: a KPI's mean is over the replications where it is defined.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.special import stdtrit


class Estimate(NamedTuple):
    """Mean, two-sided t-interval of the mean, standard deviation and number of values.

    Python numbers for a list of values, arrays for an array reduced along an axis. The interval
    and the sd are NaN below two values, the mean with none.
    """

    mean: float | np.ndarray
    ci_low: float | np.ndarray
    ci_high: float | np.ndarray
    sd: float | np.ndarray
    reps: int | np.ndarray

    def as_row(self) -> dict:
        """The columns of a tidy table: mean, ci_low, ci_high, sd, reps."""
        return dict(zip(self._fields, self, strict=True))


def estimate(values, level: float = 0.95, axis: int = -1) -> Estimate:
    """The mean of per-replication values with its t-interval at `level`, sd and count.

    values: a 1-D sequence (None or NaN where undefined), or an array whose `axis` holds the
    replications.
    """
    if not isinstance(values, np.ndarray):
        values = [np.nan if v is None else v for v in values]
    x = np.asarray(values, dtype=float)
    ok = ~np.isnan(x)
    if x.ndim == 1:
        x, ok = x[ok], ok[ok]  # leave missing values out, not as zeros in the sums
    n = ok.sum(axis)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(ok, x, 0.0).sum(axis) / n
        dev = np.where(ok, x - np.expand_dims(mean, axis), 0.0)
        sd = np.where(n > 1, np.sqrt((dev * dev).sum(axis) / (n - 1)), np.nan)
        # the Student t quantile from scipy.special (already loaded by Numba), not scipy.stats,
        # whose import alone takes 0.3-0.6 s
        half = stdtrit(np.maximum(n - 1, 1), 0.5 + level / 2) * sd / np.sqrt(n)
    if x.ndim == 1:
        mean, half, sd, n = float(mean), float(half), float(sd), int(n)
    return Estimate(mean, mean - half, mean + half, sd, n)


def mean_ci(values, level: float = 0.95, axis: int = -1) -> tuple:
    """Mean and two-sided t-interval of the mean: (mean, low, high); see `estimate`."""
    return estimate(values, level, axis)[:3]
