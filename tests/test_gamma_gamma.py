"""Tests for the Gamma-Gamma spend model (simulator.clv.gamma_gamma)."""

from pathlib import Path

import numpy as np
import pytest
from scipy import integrate

from simulator.clv.gamma_gamma import (
    expected_spend,
    fit_gamma_gamma,
    gamma_gamma_loglik,
    negll_grad,
    population_mean_spend,
    simulate_gamma_gamma,
)
from simulator.clv.summaries import cdnow_sample
from simulator.clv.summaries import summarise as summarise_log
from simulator.clv.transactions import CDNOW_CAL_END, day_number, load_transactions

MASTER = Path(__file__).resolve().parents[1] / "calibration" / "data" / "CDNOW_master.txt"
TRUE = (6.0, 3.5, 15.0)
NAMES = ("p", "q", "v")


def test_density_of_mean_spend_integrates_to_one():
    """The likelihood is a proper density of the mean spend for each number of transactions."""
    for x in (1, 3, 10):
        total, _ = integrate.quad(lambda m, x=x: np.exp(gamma_gamma_loglik(x, m, *TRUE)), 0, np.inf)
        assert total == pytest.approx(1.0, abs=1e-7)


def test_gradient_matches_finite_differences():
    """The analytic gradient agrees with central differences of the log-likelihood."""
    rng = np.random.default_rng(5)
    x = rng.integers(1, 8, size=500).astype(float)
    m = simulate_gamma_gamma(x, *TRUE, rng=rng)
    w = np.ones_like(x)
    params = np.array([4.0, 2.5, 10.0])
    _, g = negll_grad(params, x, m, w)
    for i in range(3):
        h = np.zeros(3)
        h[i] = 1e-6 * params[i]
        numeric = negll_grad(params + h, x, m, w)[0] - negll_grad(params - h, x, m, w)[0]
        assert g[i] == pytest.approx(numeric / (2 * h[i]), rel=1e-5)


def test_recovers_known_parameters_within_three_standard_errors():
    """5,000 simulated repeat buyers: every estimate within 3 reported SEs of the truth."""
    rng = np.random.default_rng(99)
    x = 1 + rng.poisson(2.0, size=5000)
    m = simulate_gamma_gamma(x, *TRUE, rng=rng)
    fit = fit_gamma_gamma(x, m)
    assert fit.converged and fit.n_customers == 5000
    for name, true in zip(NAMES, TRUE, strict=True):
        assert abs(fit.as_dict()[name] - true) < 3 * fit.se[name], name


def test_cdnow_sample_reproduces_published_estimates():
    """Fader, Hardie & Lee (2005, RFM/CLV note): p=6.25, q=3.74, v=15.44 on 946 customers."""
    master = load_transactions(MASTER)
    rfm = summarise_log(cdnow_sample(master), day_number(CDNOW_CAL_END))
    fit = fit_gamma_gamma(rfm.x, rfm.mean_spend)
    assert fit.n_customers == 946
    for name, value in {"p": 6.25, "q": 3.74, "v": 15.44}.items():  # to the published rounding
        assert fit.as_dict()[name] == pytest.approx(value, abs=0.005)
    p, q, v = (fit.as_dict()[name] for name in "pqv")
    assert fit.mean_spend == pytest.approx(p * v / (q - 1), rel=1e-9)
    assert fit.mean_spend == pytest.approx(35.17, abs=0.01)


def test_customers_without_repeat_or_spend_are_ignored():
    """Rows with x = 0 or zero mean spend do not enter the fit."""
    rng = np.random.default_rng(2)
    x = 1 + rng.poisson(2.0, size=400)
    m = simulate_gamma_gamma(x, *TRUE, rng=rng)
    base = fit_gamma_gamma(x, m)
    padded = fit_gamma_gamma(np.r_[x, 0, 0, 3], np.r_[m, 0.0, 0.0, 0.0])
    np.testing.assert_allclose(padded.params, base.params, rtol=1e-6)
    with pytest.raises(ValueError, match="at least 3 customers"):
        fit_gamma_gamma([0, 0, 1], [0.0, 0.0, 5.0])


def test_expected_spend_shrinks_towards_the_population_mean():
    """No repeat gives p*v/(q-1); more transactions pull the estimate to the customer's mean."""
    p, q, v = TRUE
    population = population_mean_spend(p, q, v)
    assert population == pytest.approx(p * v / (q - 1))
    assert expected_spend(0, 50.0, p, q, v) == pytest.approx(population)
    spends = expected_spend(np.array([1, 5, 50, 5000]), 50.0, p, q, v)
    assert np.all(np.diff(spends) > 0) and population < spends[0] and spends[-1] < 50.0
    assert spends[-1] == pytest.approx(50.0, rel=1e-3)
    assert population_mean_spend(p, 0.5, v) == float("inf")
