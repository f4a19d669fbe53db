"""Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005; Colombo & Jiang 1999).

A customer's transactions are Gamma(p, rate ν) amounts with ν ~ Gamma(q, rate v) across
customers, independent of the purchase process. It is fitted by maximum likelihood on the mean
spend ``m`` over ``x`` repeat transactions of customers with x > 0; the population mean spend
per transaction is p·v/(q−1).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import optimize
from scipy.special import digamma, gammaln

from simulator.clv.bgnbd import hessian_from_gradient, inverse_information

PARAM_NAMES = ("p", "q", "v")


@dataclass(frozen=True)
class GammaGammaFit:
    """Maximum-likelihood Gamma-Gamma estimates with standard errors (observed information)."""

    p: float
    q: float
    v: float
    log_likelihood: float
    se: dict[str, float]
    n_customers: int
    converged: bool
    iterations: int
    message: str = ""
    covariance: np.ndarray = field(default_factory=lambda: np.full((3, 3), np.nan), repr=False)

    @property
    def params(self) -> tuple[float, float, float]:
        """The estimates as (p, q, v)."""
        return (self.p, self.q, self.v)

    def as_dict(self) -> dict[str, float]:
        """The estimates keyed by parameter name."""
        return dict(zip(PARAM_NAMES, self.params, strict=True))

    @property
    def mean_spend(self) -> float:
        """Population mean spend per transaction, p·v/(q−1)."""
        return population_mean_spend(*self.params)


def population_mean_spend(p, q, v) -> float:
    """Mean spend per transaction across customers, p·v/(q−1) (infinite when q <= 1)."""
    return float(p * v / (q - 1)) if q > 1 else float("inf")


def gamma_gamma_loglik(x, mean_spend, p, q, v) -> np.ndarray:
    """Return each customer's log-density of mean spend ``m`` over ``x`` transactions."""
    x = np.asarray(x, dtype=np.float64)
    m = np.asarray(mean_spend, dtype=np.float64)
    px = p * x
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(v)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(v + x * m)
    )


def negll_grad(params: np.ndarray, x: np.ndarray, m: np.ndarray, w: np.ndarray):
    """Total negative log-likelihood and gradient in natural parameters (weighted rows)."""
    p, q, v = params
    px = p * x
    log_vxm = np.log(v + x * m)
    ll = w @ gamma_gamma_loglik(x, m, p, q, v)
    psi = digamma(px + q)
    g_p = w @ (x * (psi - digamma(px) + np.log(m) + np.log(x) - log_vxm))
    g_q = w @ (psi - digamma(q) + np.log(v) - log_vxm)
    g_v = w @ (q / v - (px + q) / (v + x * m))
    return -ll, -np.array([g_p, g_q, g_v])


def _usable(x, mean_spend) -> tuple[np.ndarray, np.ndarray]:
    """Keep customers with at least one repeat transaction and a positive mean spend."""
    x = np.asarray(x, dtype=np.float64)
    m = np.asarray(mean_spend, dtype=np.float64)
    if x.shape != m.shape or x.ndim != 1:
        raise ValueError("x and mean_spend must be 1-D arrays of the same length")
    keep = (x > 0) & (m > 0) & np.isfinite(m)
    if keep.sum() < 3:
        raise ValueError("need at least 3 customers with x > 0 and a positive mean spend")
    return x[keep], m[keep]


def fit_gamma_gamma(x, mean_spend, *, tol: float = 1e-12, max_iter: int = 1000) -> GammaGammaFit:
    """Fit Gamma-Gamma by maximum likelihood on customers with x > 0 and positive mean spend.

    Identical (x, mean spend) rows are weighted together; standard errors come from the inverse
    Hessian of the negative log-likelihood in the natural parameters.
    """
    x, m = _usable(x, mean_spend)
    rows, w = np.unique(np.column_stack([x, m]), axis=0, return_counts=True)
    data = (rows[:, 0], rows[:, 1], w.astype(np.float64))
    n = float(len(x))

    def objective(theta):
        params = np.exp(theta)
        f, g = negll_grad(params, *data)
        return f / n, g * params / n

    start = np.log([1.0, 2.0, float(np.mean(m))])
    res = optimize.minimize(
        objective,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=[(-30.0, 30.0)] * 3,
        options={"maxiter": max_iter, "ftol": tol, "gtol": 1e-10},
    )
    params = np.exp(res.x)
    cov = inverse_information(hessian_from_gradient(lambda p: negll_grad(p, *data)[1], params))
    return GammaGammaFit(
        *map(float, params),
        log_likelihood=float(-negll_grad(params, *data)[0]),
        se=dict(zip(PARAM_NAMES, map(float, np.sqrt(np.diag(cov))), strict=True)),
        n_customers=len(x),
        converged=bool(res.success),
        iterations=int(res.nit),
        message=str(res.message),
        covariance=cov,
    )


def expected_spend(x, mean_spend, p, q, v) -> np.ndarray:
    """E[spend per transaction | x, m]: a weighted mean of the population mean and the customer's.

    Equals (p·v + p·x·m)/(p·x + q − 1); for x = 0 it is the population mean p·v/(q−1).
    """
    x = np.asarray(x, dtype=np.float64)
    m = np.asarray(mean_spend, dtype=np.float64)
    return (p * v + p * x * m) / (p * x + q - 1)


def simulate_gamma_gamma(x, p, q, v, rng: np.random.Generator) -> np.ndarray:
    """Draw each customer's mean spend over x transactions (x >= 1) from known parameters."""
    x = np.asarray(x, dtype=np.float64)
    nu = rng.gamma(q, 1.0 / v, size=x.shape)
    total = rng.gamma(p * x, 1.0 / nu)
    return total / x
