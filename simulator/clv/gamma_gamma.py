"""Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005; Colombo & Jiang 1999).

A customer's transactions are Gamma(p, rate ν) amounts with ν ~ Gamma(q, rate v) across
customers, independent of the purchase process. It is fitted by maximum likelihood on the mean
spend ``m`` over ``x`` repeat transactions of customers with x > 0; the population mean spend
per transaction is p·v/(q−1).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import digamma, gammaln

from simulator.clv.fit_checks import (
    FitCheck,
    Limit,
    fit_ml,
)

PARAM_NAMES = ("p", "q", "v")
LIMITS = (
    Limit(
        {"q": "inf", "v": "inf"},
        lambda e: (
            "q and v grow without bound: the data cannot tell customers' spend levels "
            "apart; every customer's mean spend per transaction is the same, p·v/q = "
            f"{e['p'] * e['v'] / e['q']:.4g}"
        ),
    ),
    Limit(
        {"p": "inf", "v": "0"},
        lambda e: (
            "p grows without bound (and v runs to 0): each customer spends the same "
            "amount on every transaction, and spend varies only between customers"
        ),
    ),
)
"""Gamma-Gamma's limiting models, for `fit_checks.check_fit`'s warnings."""


@dataclass(frozen=True)
class GammaGammaFit:
    """Maximum-likelihood Gamma-Gamma estimates with standard errors (observed information).

    ``check`` and ``penalizer`` are as for `bgnbd.BGNBDFit`.
    """

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
    check: FitCheck = field(default_factory=FitCheck)
    penalizer: float = 0.0

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


def fit_gamma_gamma(x, mean_spend, **options) -> GammaGammaFit:
    """Fit Gamma-Gamma by maximum likelihood on customers with x > 0 and positive mean spend.

    Identical (x, mean spend) rows are weighted together; standard errors come from the inverse
    Hessian of the negative log-likelihood (plus penalty) in the natural parameters.
    ``options`` are as for `bgnbd.fit_bgnbd` (defaults here: ``tol`` 1e-12, ``max_iter`` 1000).
    """
    x, m = _usable(x, mean_spend)
    rows, w = np.unique(np.column_stack([x, m]), axis=0, return_counts=True)
    data = (rows[:, 0], rows[:, 1], w.astype(np.float64))
    fit = fit_ml(
        PARAM_NAMES,
        lambda p: negll_grad(p, *data),
        float(len(x)),
        np.log([1.0, 2.0, float(np.mean(m))]),
        limits=LIMITS,
        **{"tol": 1e-12, "gtol": 1e-10, "max_iter": 1000, **options},
    )
    return GammaGammaFit(
        *map(float, fit.params),
        log_likelihood=float(-negll_grad(fit.params, *data)[0]),
        n_customers=len(x),
        **fit.fields(),
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
