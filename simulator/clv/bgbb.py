"""BG/BB model of repeat buying at discrete opportunities (Fader, Hardie & Shang 2010).

"Customer-Base Analysis in a Discrete-Time Noncontractual Setting", Marketing Science 29(6). A
customer has one chance to buy per opportunity (a yearly Double 11, a yearly donation drive).
While alive they buy at each opportunity with probability p ~ Beta(α, β); at the start of each
opportunity after the first purchase they die with probability θ ~ Beta(γ, δ). The data are per
customer (x, t_x, n): purchases in the n opportunities after the first one, the opportunity of
the last purchase (0 for none) and n. The likelihood (eq. 5) is a sum of Beta-function ratios:
"alive through n" plus "died just after opportunity t_x + i" for i = 0 .. n − t_x − 1. It is
fitted on distinct rows with weights and an analytic gradient (digamma), like BG/NBD.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.special import betaln, gammaln, logsumexp

from simulator.clv.fit_checks import Limit
from simulator.clv.mle import ModelFit, betaln_grad, distinct_rows, fit_log_params, homogeneous

PARAM_NAMES = ("alpha", "beta", "gamma", "delta")
LIMITS = (
    homogeneous("alpha", "beta", "the purchase probability p", lambda a, b: a / (a + b)),
    homogeneous("gamma", "delta", "the dropout probability θ", lambda g, d: g / (g + d)),
    Limit(
        {"delta": "inf"},
        lambda e: (
            "delta grows without bound: the dropout probability θ ~ Beta(gamma, delta) piles up "
            "at 0, i.e. almost no customer appears to drop out, and the data cannot say how few do"
        ),
    ),
)
"""BG/BB's limiting models, for `fit_checks.check_fit`'s warnings."""


class BGBBSample(NamedTuple):
    """Simulated (x, t_x, n) summaries: purchases, opportunity of the last one, opportunities."""

    x: np.ndarray
    t_x: np.ndarray
    n: np.ndarray


def _check(x: np.ndarray, t_x: np.ndarray, n: np.ndarray) -> None:
    """Reject summaries the model cannot describe, with a readable message."""
    if not (x.shape == t_x.shape == n.shape) or x.ndim != 1 or len(x) == 0:
        raise ValueError("x, t_x and n must be 1-D arrays of the same, non-zero length")
    whole = all(np.all(v == np.round(v)) for v in (x, t_x, n))
    if not whole or np.any(x < 0) or np.any(t_x > n) or np.any(n > 10_000):
        raise ValueError("x, t_x and n must be whole numbers with 0 <= x <= t_x <= n <= 10,000")
    if np.any((x == 0) != (t_x == 0)) or np.any(x > t_x):
        raise ValueError("t_x must be 0 exactly when x is 0, and x <= t_x otherwise")


def _terms(params, x, t_x, n, with_grad: bool):
    """Log of each term of eq. (5) per row (−inf where absent) and, optionally, its gradient."""
    al, be, ga, de = params
    k = int((n - t_x).max())
    alive_through = np.concatenate([n[:, None], t_x[:, None] + np.arange(k)[None, :]], axis=1)
    present = alive_through < n[:, None]
    present[:, 0] = True
    died = np.ones_like(alive_through)
    died[:, 0] = 0  # column 0: alive through all n opportunities
    m = np.minimum(alive_through, n[:, None])
    xs = x[:, None]
    lp, dpa, dpb = betaln_grad(al + xs, be + m - xs)
    lt, dtg, dtd = betaln_grad(ga + died, de + m)
    l0, da0, db0 = betaln_grad(al, be)
    g0, dg0, dd0 = betaln_grad(ga, de)
    log_terms = np.where(present, lp + lt - l0 - g0, -np.inf)
    if not with_grad:
        return log_terms, None
    grads = np.stack([dpa - da0, dpb - db0, dtg - dg0, dtd - dd0])
    return log_terms, grads


def bgbb_loglik(x, t_x, n, alpha, beta, gamma, delta) -> np.ndarray:
    """Each customer's BG/BB log-likelihood (eq. 5 of the paper, in log space)."""
    x, t_x, n = (np.asarray(v, dtype=np.float64) for v in (x, t_x, n))
    _check(x, t_x, n)
    log_terms, _ = _terms((alpha, beta, gamma, delta), x, t_x, n, with_grad=False)
    return logsumexp(log_terms, axis=1)


def negll_grad(params, x, t_x, n, w) -> tuple[float, np.ndarray]:
    """Weighted negative log-likelihood of distinct rows and its gradient in natural parameters."""
    log_terms, grads = _terms(params, x, t_x, n, with_grad=True)
    ll = logsumexp(log_terms, axis=1)
    share = np.exp(log_terms - ll[:, None])  # each term's share of the row's likelihood
    grad = np.einsum("prk,rk,r->p", grads, share, w)
    return -float(w @ ll), -grad


def fit_bgbb(x, t_x, n, weights=None, **options) -> ModelFit:
    """Fit BG/BB by maximum likelihood to (x, t_x, n) summaries (optionally with row counts).

    ``options`` go to `fit_checks.fit_ml` (``penalizer``, ``profile``).
    """
    x, t_x, n = (np.asarray(v, dtype=np.float64) for v in (x, t_x, n))
    _check(x, t_x, n)
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=np.float64)
    (x, t_x, n, w_rows), counts = distinct_rows(x, t_x, n, w)
    w = w_rows * counts
    return fit_log_params(
        lambda p: negll_grad(p, x, t_x, n, w),
        np.ones(4),
        PARAM_NAMES,
        w.sum(),
        len(x),
        limits=LIMITS,
        **options,
    )


def _near_one(g):
    """Nudge γ = 1 (a removable singularity of the δ/(γ−1) expressions) by 1e-9."""
    g = np.asarray(g, dtype=np.float64)
    return np.where(np.abs(g - 1) < 1e-9, 1 + 1e-9, g)


def _alive_ratio(n, n_star, gamma, delta):
    """Expected opportunities alive in (n, n+n*], times B(γ,δ+n)/B(γ,δ) (eq. 13's last factor).

    δ/(γ−1)·Γ(γ+δ)/Γ(1+δ)·[Γ(1+δ+n)/Γ(γ+δ+n) − Γ(1+δ+n+n*)/Γ(γ+δ+n+n*)].
    """
    gamma = _near_one(gamma)
    front = delta / (gamma - 1) * np.exp(gammaln(gamma + delta) - gammaln(1 + delta))

    def tail(k):
        return np.exp(gammaln(1 + delta + k) - gammaln(gamma + delta + k))

    return front * (tail(n) - tail(n + n_star))


def expected_purchases(n, alpha, beta, gamma, delta) -> np.ndarray:
    """E[X(n)]: expected purchases in the n opportunities after the first purchase (eq. 9)."""
    n = np.asarray(n, dtype=np.float64)
    return alpha / (alpha + beta) * _alive_ratio(0.0, n, gamma, delta)


def prob_alive(x, t_x, n, alpha, beta, gamma, delta) -> np.ndarray:
    """P(alive at opportunity n + 1 | x, t_x, n) (eq. 11)."""
    x, t_x, n = (np.asarray(v, dtype=np.float64) for v in (x, t_x, n))
    log_alive = (
        betaln(alpha + x, beta + n - x)
        - betaln(alpha, beta)
        + betaln(gamma, delta + n + 1)
        - betaln(gamma, delta)
    )
    return np.exp(log_alive - bgbb_loglik(x, t_x, n, alpha, beta, gamma, delta))


def conditional_expected_purchases(n_star, x, t_x, n, alpha, beta, gamma, delta) -> np.ndarray:
    """E[X(n, n + n*) | x, t_x, n]: expected purchases in the next n* opportunities (eq. 13)."""
    x, t_x, n = (np.asarray(v, dtype=np.float64) for v in (x, t_x, n))
    log_p = betaln(alpha + x + 1, beta + n - x) - betaln(alpha, beta)
    log_l = bgbb_loglik(x, t_x, n, alpha, beta, gamma, delta)
    return np.exp(log_p - log_l) * _alive_ratio(n, n_star, gamma, delta)


def simulate_bgbb(n_customers: int, n, alpha, beta, gamma, delta, rng) -> BGBBSample:
    """Draw (x, t_x, n) from BG/BB: n opportunities (scalar or per customer) after the first.

    A customer dies at the start of opportunity k ~ Geometric(θ) and buys with probability p at
    each opportunity 1 .. k−1 (within n).
    """
    n = np.broadcast_to(np.asarray(n, dtype=np.int64), (n_customers,)).copy()
    p = rng.beta(alpha, beta, size=n_customers)
    theta = np.maximum(rng.beta(gamma, delta, size=n_customers), np.finfo(np.float64).tiny)
    alive_for = np.minimum(rng.geometric(theta) - 1, n)
    k = np.arange(1, int(n.max()) + 1)
    buys = (rng.random((n_customers, len(k))) < p[:, None]) & (k[None, :] <= alive_for[:, None])
    x = buys.sum(axis=1)
    t_x = np.where(x > 0, np.max(np.where(buys, k[None, :], 0), axis=1), 0)
    return BGBBSample(x.astype(np.int64), t_x.astype(np.int64), n)
