"""Tests for the Pareto/NBD likelihood, fit, expectations and simulator (clv.pareto_nbd)."""

from pathlib import Path

import numpy as np
import pytest
from scipy import integrate
from scipy.special import gammaln

from simulator.clv.pareto_nbd import (
    conditional_expected_purchases,
    expected_purchases,
    fit_pareto_nbd,
    pareto_nbd_loglik,
    prob_alive,
    simulate_pareto_nbd,
)
from simulator.clv.summaries import cdnow_sample, summarise
from simulator.clv.transactions import CDNOW_CAL_END, day_number, load_transactions

MASTER = Path(__file__).resolve().parents[1] / "calibration" / "data" / "CDNOW_master.txt"
TRUE = (0.55, 10.5, 0.6, 12.0)
NAMES = ("r", "alpha", "s", "beta")


def direct_loglik(x, t_x, T, r, alpha, s, beta) -> float:
    """The likelihood as alive-at-T plus an integral over the death time in (t_x, T]."""
    front = np.exp(gammaln(r + x) - gammaln(r)) * alpha**r * beta**s

    def died_at(y):
        return s * (alpha + y) ** -(r + x) * (beta + y) ** -(s + 1)

    died = integrate.quad(died_at, t_x, T, epsabs=0, epsrel=1e-12)[0]
    return float(np.log(front * ((alpha + T) ** -(r + x) * (beta + T) ** -s + died)))


@pytest.mark.parametrize("params", [TRUE, (0.8, 3.0, 1.4, 20.0), (2.0, 9.0, 0.7, 9.0)])
def test_loglik_equals_the_integral_form(params):
    """Both branches of A₀ (α ≥ β and α < β, and α = β) against numerical integration."""
    for x, t_x, T in [(0, 0.0, 30.0), (1, 5.0, 30.0), (7, 20.5, 39.0), (3, 39.0, 39.0)]:
        got = pareto_nbd_loglik([x], [t_x], [T], *params)[0]
        assert got == pytest.approx(direct_loglik(x, t_x, T, *params), rel=1e-9, abs=1e-9)


def test_cdnow_sample_reproduces_published_estimates():
    """Fader, Hardie & Lee (2005): r 0.55, α 10.58, s 0.61, β 11.67, LL −9,595.0 (CDNOW 1/10)."""
    rfm = summarise(cdnow_sample(load_transactions(MASTER)), day_number(CDNOW_CAL_END))
    fit = fit_pareto_nbd(rfm.x, rfm.t_x, rfm.T)
    assert fit.converged and fit.n_customers == 2357
    published = {"r": 0.55, "alpha": 10.58, "s": 0.61, "beta": 11.67}
    for name, value in published.items():  # published to 2 decimals: within half a unit
        assert abs(fit.as_dict()[name] - value) <= 0.005 + 1e-9, name
    assert fit.log_likelihood == pytest.approx(-9595.0, abs=0.05)
    assert all(0 < fit.se[k] for k in NAMES)


def test_recovers_known_parameters_within_three_standard_errors():
    """6,000 simulated customers, times in whole days: every estimate within 3 SEs."""
    rng = np.random.default_rng(20240612)
    n = 6000
    T = rng.integers(20, 40, size=n).astype(float)
    x, t_x, T = simulate_pareto_nbd(n, T, *TRUE, rng=rng)
    fit = fit_pareto_nbd(x, np.floor(t_x * 7) / 7, T)
    assert fit.converged
    for name, true in zip(NAMES, TRUE, strict=True):
        assert abs(fit.as_dict()[name] - true) < 3 * fit.se[name], name


def test_expected_purchases_matches_simulation():
    """E[X(t)] against the mean of 100,000 simulated customers (4 standard errors)."""
    rng = np.random.default_rng(3)
    sample = simulate_pareto_nbd(100_000, 30.0, *TRUE, rng=rng)
    se = sample.x.std() / np.sqrt(len(sample.x))
    assert abs(sample.x.mean() - expected_purchases(30.0, *TRUE)) < 4 * se


def test_conditional_expectation_averages_to_the_unconditional_increment():
    """Over simulated histories at T, E[Y(t)|history] averages to E[X(T+t)] − E[X(T)]."""
    rng = np.random.default_rng(4)
    x, t_x, T = simulate_pareto_nbd(40_000, 26.0, *TRUE, rng=rng)
    cond = conditional_expected_purchases(13.0, x, t_x, T, *TRUE)
    target = expected_purchases(39.0, *TRUE) - expected_purchases(26.0, *TRUE)
    assert abs(cond.mean() - target) < 4 * cond.std() / np.sqrt(len(cond))


def test_prob_alive_limits():
    """A purchase at T means alive; P(alive) falls with the time since the last purchase."""
    assert prob_alive([3], [30.0], [30.0], *TRUE)[0] == pytest.approx(1.0)
    p = prob_alive([3, 3, 3], [29.0, 15.0, 1.0], [30.0] * 3, *TRUE)
    assert 1 > p[0] > p[1] > p[2] > 0
    assert conditional_expected_purchases(0.0, [2], [5.0], [30.0], *TRUE)[0] == 0.0


def test_bad_summaries_are_rejected():
    """t_x beyond T or negative counts are errors."""
    with pytest.raises(ValueError):
        fit_pareto_nbd([1], [5.0], [4.0])
    with pytest.raises(ValueError):
        fit_pareto_nbd([-1], [0.0], [4.0])
