"""Tests for the BG/NBD likelihood, fit, expectations and simulator (simulator.clv.bgnbd)."""

from pathlib import Path

import numpy as np
import pytest
from scipy.special import beta, gamma

from simulator.clv.bgnbd import (
    bgnbd_loglik,
    compress,
    conditional_expected_purchases,
    expected_cumulative_repeat,
    expected_purchases,
    fit_bgnbd,
    negll_grad,
    prob_alive,
    simulate_bgnbd,
)
from simulator.clv.summaries import cdnow_sample
from simulator.clv.summaries import summarise as summarise_log
from simulator.clv.transactions import CDNOW_CAL_END, day_number, load_transactions

MASTER = Path(__file__).resolve().parents[1] / "calibration" / "data" / "CDNOW_master.txt"
TRUE = (0.25, 4.0, 0.8, 2.5)
NAMES = ("r", "alpha", "a", "b")


@pytest.fixture(scope="module")
def cdnow():
    """RFM summaries (weeks) of the CDNOW 1/10th sample and of the master, 39-week calibration."""
    master = load_transactions(MASTER)
    cal_end = day_number(CDNOW_CAL_END)
    return summarise_log(cdnow_sample(master), cal_end), summarise_log(master, cal_end)


def toy_summary(n=3000, seed=1):
    """A small simulated summary with customers of different ages."""
    rng = np.random.default_rng(seed)
    return simulate_bgnbd(n, rng.uniform(5, 40, size=n), *TRUE, rng=rng)


def test_loglik_matches_the_papers_product_form():
    """The log-space likelihood equals eq. (6) written with Beta and Gamma functions."""
    r, alpha, a, b = 0.6, 3.0, 1.3, 2.2
    x = np.array([0, 1, 2, 5])
    t_x = np.array([0.0, 1.5, 7.0, 9.0])
    T = np.array([4.0, 6.0, 9.0, 12.0])
    front = gamma(r + x) * alpha**r / gamma(r)
    alive = beta(a, b + x) / beta(a, b) * front / (alpha + T) ** (r + x)
    dead = beta(a + 1, b + x - 1) / beta(a, b) * front / (alpha + t_x) ** (r + x)
    direct = np.log(alive + np.where(x > 0, dead, 0.0))
    np.testing.assert_allclose(bgnbd_loglik(x, t_x, T, r, alpha, a, b), direct, rtol=1e-12)


def test_compressed_likelihood_and_gradient():
    """The weighted likelihood equals the per-row sum; its gradient matches finite differences."""
    x, t_x, T = toy_summary()
    t_x = np.round(t_x)  # create duplicate rows
    T = np.round(T)
    params = np.array([0.4, 3.0, 0.9, 2.0])
    d = compress(x, t_x, T)
    assert d.n_rows < len(x)
    f, g = negll_grad(params, d)
    assert -f == pytest.approx(bgnbd_loglik(x, t_x, T, *params).sum(), rel=1e-12)
    for i in range(4):
        h = np.zeros(4)
        h[i] = 1e-6 * params[i]
        numeric = (negll_grad(params + h, d)[0] - negll_grad(params - h, d)[0]) / (2 * h[i])
        assert g[i] == pytest.approx(numeric, rel=1e-5, abs=1e-4)


def test_cdnow_sample_reproduces_published_estimates(cdnow):
    """Fader, Hardie & Lee (2005): r=0.243, alpha=4.414, a=0.793, b=2.426, LL=-9582.4."""
    rfm, _ = cdnow
    fit = fit_bgnbd(rfm.x, rfm.t_x, rfm.T)
    assert fit.converged and fit.n_customers == 2357
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for name, value in published.items():
        assert fit.as_dict()[name] == pytest.approx(value, rel=0.005)
    assert fit.log_likelihood == pytest.approx(-9582.4, rel=0.005)
    assert abs(fit.log_likelihood + 9582.4) < 0.1
    assert all(0 < fit.se[name] < fit.as_dict()[name] for name in NAMES)


def test_cdnow_master_fit(cdnow):
    """The full master (23,570 customers) fits close to the sample, with ~sqrt(10) smaller SEs."""
    sample, master = cdnow
    fit_sample = fit_bgnbd(sample.x, sample.t_x, sample.T)
    fit = fit_bgnbd(master.x, master.t_x, master.T)
    assert fit.converged and fit.n_customers == 23570
    assert fit.log_likelihood == pytest.approx(-95368.44, abs=0.1)
    for name in NAMES:
        gap = abs(fit.as_dict()[name] - fit_sample.as_dict()[name])
        assert gap < 3 * fit_sample.se[name]
        assert fit.se[name] == pytest.approx(fit_sample.se[name] / np.sqrt(10), rel=0.35)


def test_recovers_known_parameters_within_three_standard_errors():
    """20,000 simulated customers: every estimate lies within 3 reported SEs of the truth."""
    rng = np.random.default_rng(20240607)
    n = 20_000
    T = (272 - rng.integers(0, 84, size=n)) / 7
    fit = fit_bgnbd(*simulate_bgnbd(n, T, *TRUE, rng=rng))
    assert fit.converged
    for name, true in zip(NAMES, TRUE, strict=True):
        assert abs(fit.as_dict()[name] - true) < 3 * fit.se[name], name


def test_duplicated_data_gives_same_estimates_and_double_likelihood():
    """Weights are exact: stacking the data twice keeps the estimates and doubles the LL."""
    x, t_x, T = toy_summary()
    once = fit_bgnbd(x, t_x, T)
    twice = fit_bgnbd(np.r_[x, x], np.r_[t_x, t_x], np.r_[T, T])
    np.testing.assert_allclose(twice.params, once.params, rtol=1e-4)
    assert twice.log_likelihood == pytest.approx(2 * once.log_likelihood, rel=1e-8)
    assert twice.se["r"] == pytest.approx(once.se["r"] / np.sqrt(2), rel=1e-3)


def test_bad_summaries_are_rejected():
    """Negative counts or recency beyond the customer's age are errors."""
    with pytest.raises(ValueError, match="whole numbers"):
        fit_bgnbd([1, -1], [1.0, 0.0], [2.0, 2.0])
    with pytest.raises(ValueError, match="t_x <= T"):
        fit_bgnbd([1, 1], [3.0, 0.5], [2.0, 2.0])


def test_expected_purchases_matches_monte_carlo():
    """E[X(t)] (eq. 7) agrees with the mean of simulated repeat counts within 4 standard errors."""
    rng = np.random.default_rng(7)
    for t in (5.0, 39.0):
        x = simulate_bgnbd(100_000, t, *TRUE, rng=rng).x
        stderr = x.std() / np.sqrt(len(x))
        assert abs(expected_purchases(t, *TRUE) - x.mean()) < 4 * stderr


def test_expected_purchases_small_t_and_a_equal_one():
    """E[X(t)] starts at 0 with slope r/alpha, and is continuous through a = 1."""
    assert expected_purchases(0.0, *TRUE) == 0.0
    assert expected_purchases(1e-6, *TRUE) / 1e-6 == pytest.approx(TRUE[0] / TRUE[1], rel=1e-4)
    r, alpha, _, b = TRUE
    near = [expected_purchases(10.0, r, alpha, a, b) for a in (1 - 1e-4, 1.0, 1 + 1e-4)]
    assert near[1] == pytest.approx(near[0], rel=1e-3)
    assert near[1] == pytest.approx(near[2], rel=1e-3)


def test_conditional_expectation_limit_cases():
    """Zero horizon gives 0; a brand-new customer gives E[X(t)]; more horizon never gives less."""
    assert conditional_expected_purchases(0.0, 3, 5.0, 10.0, *TRUE) == 0.0
    new = conditional_expected_purchases(20.0, 0, 0.0, 0.0, *TRUE)
    assert new == pytest.approx(expected_purchases(20.0, *TRUE), rel=1e-10)
    horizon = np.linspace(0, 50, 11)
    assert np.all(np.diff(conditional_expected_purchases(horizon, 4, 9.0, 10.0, *TRUE)) > 0)
    recent = conditional_expected_purchases(10.0, 4, 9.9, 10.0, *TRUE)
    lapsed = conditional_expected_purchases(10.0, 4, 1.0, 10.0, *TRUE)
    assert recent > lapsed


def test_conditional_expectation_averages_to_the_unconditional_increment():
    """Law of total expectation: mean of E[Y(t)|history at T] = E[X(T+t)] - E[X(T)]."""
    rng = np.random.default_rng(11)
    T, t = 20.0, 15.0
    x, t_x, TT = simulate_bgnbd(100_000, T, *TRUE, rng=rng)
    conditional = conditional_expected_purchases(t, x, t_x, TT, *TRUE)
    increment = expected_purchases(T + t, *TRUE) - expected_purchases(T, *TRUE)
    stderr = conditional.std() / np.sqrt(len(x))
    assert abs(conditional.mean() - increment) < 4 * stderr


def test_prob_alive():
    """No repeat purchase means alive; a long silence after the last purchase lowers P(alive)."""
    assert prob_alive(0, 0.0, 30.0, *TRUE) == 1.0
    ages = np.array([10.0, 20.0, 40.0])
    alive = prob_alive(3, 10.0, ages, *TRUE)
    assert alive[0] > alive[1] > alive[2] > 0
    assert prob_alive(1, 0.5, 30.0, *TRUE) > prob_alive(10, 0.5, 30.0, *TRUE)


def test_expected_cumulative_repeat_sums_over_cohort():
    """The cohort curve is the sum of E[X(t - s_i)] over customers who have started."""
    starts = np.array([0.0, 0.0, 2.0, 5.0])
    times = np.array([1.0, 4.0, 10.0])
    curve = expected_cumulative_repeat(starts, times, *TRUE)
    manual = [sum(expected_purchases(max(t - s, 0.0), *TRUE) for s in starts) for t in times]
    np.testing.assert_allclose(curve, manual, rtol=1e-12)


def test_simulation_respects_the_observation_window():
    """Simulated recency never exceeds the customer's age and is 0 exactly when x is 0."""
    rng = np.random.default_rng(3)
    T = rng.uniform(1, 30, size=5000)
    x, t_x, TT = simulate_bgnbd(5000, T, *TRUE, rng=rng)
    np.testing.assert_array_equal(TT, T)
    assert np.all((t_x >= 0) & (t_x <= T))
    assert np.all((t_x == 0) == (x == 0))
