"""Pareto/NBD model of repeat buying (Schmittlein, Morrison & Colombo 1987).

While alive a customer buys as a Poisson process with rate λ ~ Gamma(r, rate α); their lifetime
is exponential with rate μ ~ Gamma(s, rate β), independent of λ, and unobserved. On the
summaries (x, t_x, T) the likelihood is eq. (18)-(20) of Fader & Hardie (2005), "A Note on
Deriving the Pareto/NBD Model and Related Expressions" (brucehardie.com/notes/009):

  L = Γ(r+x) α^r β^s / Γ(r) · [ (α+T)^−(r+x) (β+T)^−s + s/(r+s+x) · A₀ ]

where A₀ is a difference of two Gauss hypergeometric terms taken with the larger of α and β,
so that the argument of ₂F₁ lies in [0, 1) (the numerically stable form, as in the lifetimes and
BTYD packages). Everything is evaluated in log space; the gradient is by central differences on
the distinct rows (₂F₁ has no cheap parameter derivative), which is exact enough for the
observed-information standard errors.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln, hyp2f1

from simulator.clv.bgnbd import BGNBDSample
from simulator.clv.fit_checks import Limit
from simulator.clv.mle import (
    ModelFit,
    central_gradient,
    distinct_rows,
    fit_log_params,
    homogeneous,
)

PARAM_NAMES = ("r", "alpha", "s", "beta")
LIMITS = (
    homogeneous("s", "beta", "the death rate μ (per time unit)", lambda s, b: s / b),
    homogeneous("r", "alpha", "the purchase rate λ (per time unit)", lambda r, a: r / a),
    Limit(
        {"beta": "inf"},
        lambda e: (
            "beta grows without bound: the mean death rate s/beta runs to 0, i.e. almost no "
            "customer appears to leave, and the data cannot say how few do"
        ),
    ),
)
"""Pareto/NBD's limiting models, for `fit_checks.check_fit`'s warnings."""


def _arrays(*values) -> list[np.ndarray]:
    """The summaries as float64 arrays."""
    return [np.asarray(v, dtype=np.float64) for v in values]


def _log_a0(x, t_x, T, r, alpha, s, beta) -> np.ndarray:
    """The log of A₀ (eq. 19-20): ∫ over death times in (t_x, T], −inf when t_x = T."""
    rsx = r + s + x
    if alpha >= beta:
        big, b_arg = alpha, s + 1
    else:
        big, b_arg = beta, r + x
    gap = abs(alpha - beta)

    def term(y):
        return np.log(hyp2f1(rsx, b_arg, rsx + 1, gap / (big + y))) - rsx * np.log(big + y)

    first, second = term(t_x), term(T)
    with np.errstate(divide="ignore"):
        return first + np.log1p(-np.minimum(np.exp(second - first), 1.0))


def pareto_nbd_loglik(x, t_x, T, r, alpha, s, beta) -> np.ndarray:
    """Each customer's Pareto/NBD log-likelihood (eq. 18 of the note, in log space)."""
    x, t_x, T = _arrays(x, t_x, T)
    front = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    died = np.log(s) - np.log(r + s + x) + _log_a0(x, t_x, T, r, alpha, s, beta)
    return front + np.logaddexp(alive, died)


def fit_pareto_nbd(x, t_x, T, **options) -> ModelFit:
    """Fit Pareto/NBD by maximum likelihood to per-customer (x, t_x, T) summaries.

    Starts from unit shapes and both scales at the mean customer age (the scales carry the time
    unit); standard errors from the observed information, NaN when it is singular.
    ``options`` go to `fit_checks.fit_ml` (``penalizer``, ``profile``).
    """
    x, t_x, T = _arrays(x, t_x, T)
    if not (x.shape == t_x.shape == T.shape) or x.ndim != 1 or len(x) == 0:
        raise ValueError("x, t_x and T must be 1-D arrays of the same, non-zero length")
    if np.any(x < 0) or np.any(t_x < 0) or np.any(t_x > T + 1e-9):
        raise ValueError("need x >= 0 and 0 <= t_x <= T for every customer")
    (x, t_x, T), w = distinct_rows(x, t_x, T)

    def negll(params):
        return -float(w @ pareto_nbd_loglik(x, t_x, T, *params))

    def negll_grad(params):
        return negll(params), central_gradient(negll, params)

    mean_T = float(w @ T / w.sum())
    start = np.array([1.0, max(mean_T, 1e-3), 1.0, max(mean_T, 1e-3)])
    return fit_log_params(negll_grad, start, PARAM_NAMES, w.sum(), len(x), limits=LIMITS, **options)


def prob_alive(x, t_x, T, r, alpha, s, beta) -> np.ndarray:
    """P(still alive at T | x, t_x, T) (eq. 36-37 of the note)."""
    x, t_x, T = _arrays(x, t_x, T)
    log_ratio = (
        np.log(s)
        - np.log(r + s + x)
        + (r + x) * np.log(alpha + T)
        + s * np.log(beta + T)
        + _log_a0(x, t_x, T, r, alpha, s, beta)
    )
    return 1.0 / (1.0 + np.exp(log_ratio))


def _s_away_from_one(s):
    """Nudge s = 1 (a removable singularity of the (s−1) expressions) by 1e-9."""
    s = np.asarray(s, dtype=np.float64)
    return np.where(np.abs(s - 1) < 1e-9, 1 + 1e-9, s)


def expected_purchases(t, r, alpha, s, beta) -> np.ndarray:
    """E[X(t)]: expected purchases in (0, t] of a customer who started at 0 (eq. 27)."""
    t = np.asarray(t, dtype=np.float64)
    s = _s_away_from_one(s)
    return r * beta / (alpha * (s - 1)) * (1 - (beta / (beta + t)) ** (s - 1))


def conditional_expected_purchases(t, x, t_x, T, r, alpha, s, beta) -> np.ndarray:
    """E[Y(t) | x, t_x, T]: expected purchases in (T, T+t] given the history (eq. 41).

    P(alive) times the expectation of a customer alive at T: rate (r+x)/(α+T), lifetime
    remaining Pareto with shape s and scale β+T.
    """
    t, x, t_x, T = _arrays(t, x, t_x, T)
    s1 = _s_away_from_one(s)
    per_alive = (r + x) * (beta + T) / ((alpha + T) * (s1 - 1))
    per_alive = per_alive * (1 - ((beta + T) / (beta + T + t)) ** (s1 - 1))
    return prob_alive(x, t_x, T, r, alpha, s, beta) * per_alive


def simulate_pareto_nbd(n: int, T, r, alpha, s, beta, rng: np.random.Generator) -> BGNBDSample:
    """Draw (x, t_x, T) for n customers from Pareto/NBD with known parameters.

    Each customer starts with a purchase at 0, buys at rate λ until an exponential death time
    with rate μ, and is observed until T (scalar or per customer).
    """
    T = np.broadcast_to(np.asarray(T, dtype=np.float64), (n,)).copy()
    lam = rng.gamma(r, 1.0 / alpha, size=n)
    mu = rng.gamma(s, 1.0 / beta, size=n)
    alive_for = np.minimum(rng.exponential(1.0 / np.maximum(mu, 1e-300)), T)
    x = rng.poisson(lam * alive_for)
    t_x = np.zeros(n)
    bought = x > 0
    t_x[bought] = alive_for[bought] * rng.beta(x[bought], 1.0)  # the last of x uniform times
    return BGNBDSample(x.astype(np.int64), t_x, T)
