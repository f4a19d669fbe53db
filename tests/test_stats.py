"""One mean and t-interval for lists with missing values and for arrays along an axis."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from simulator.analysis.stats import estimate, mean_ci


def scipy_interval(x):
    x = np.asarray(x, dtype=float)
    return stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))


def test_mean_ci_is_the_t_interval():
    m, lo, hi = mean_ci([1.0, 2.0, 3.0, 4.0])
    half = stats.t.ppf(0.975, 3) * np.std([1, 2, 3, 4], ddof=1) / 2
    assert (m, lo, hi) == pytest.approx((2.5, 2.5 - half, 2.5 + half))
    assert math.isnan(mean_ci([1.0])[1])


def test_missing_values_are_left_out():
    e = estimate([3.0, None, 5.0, 10.0, None])
    assert (e.ci_low, e.ci_high) == pytest.approx(scipy_interval([3.0, 5.0, 10.0]))
    assert e.mean == 6.0 and e.reps == 3 and e.sd == pytest.approx(np.std([3, 5, 10], ddof=1))
    assert isinstance(e.mean, float) and isinstance(e.reps, int)
    assert estimate([None, 2]).as_row() == pytest.approx(
        {"mean": 2.0, "ci_low": math.nan, "ci_high": math.nan, "sd": math.nan, "reps": 1},
        nan_ok=True,
    )
    none = estimate([])
    assert none.reps == 0 and all(math.isnan(v) for v in none[:4])


@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
def test_along_an_axis_equals_each_slice(level):
    rng = np.random.default_rng(3)
    x = rng.normal(100.0, 15.0, size=(6, 40))  # 6 replications x 40 days
    x[2, 5] = np.nan  # missing in one replication on one day
    e = estimate(x, level=level, axis=0)
    for day in range(x.shape[1]):
        col = x[:, day][~np.isnan(x[:, day])]
        lo, hi = stats.t.interval(level, len(col) - 1, loc=col.mean(), scale=stats.sem(col))
        assert (e.mean[day], e.ci_low[day], e.ci_high[day]) == pytest.approx((col.mean(), lo, hi))
        assert e.sd[day] == pytest.approx(np.std(col, ddof=1)) and e.reps[day] == len(col)
    rows = estimate(x.T, level=level, axis=1)  # the same along the other axis
    assert np.allclose(rows.ci_low, e.ci_low) and np.array_equal(rows.reps, e.reps)


def test_a_list_is_computed_as_before():
    """Bit for bit the arithmetic the tables used: x.mean(), x.std(ddof=1), t x sd / sqrt(n)."""
    x = np.random.default_rng(5).lognormal(10, 2, 37)
    e = estimate(list(x))
    half = stats.t.ppf(0.975, 36) * x.std(ddof=1) / math.sqrt(37)
    assert e.mean == x.mean() and e.sd == x.std(ddof=1)
    assert e.ci_low == pytest.approx(x.mean() - half, rel=1e-15)
