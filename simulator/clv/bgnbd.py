"""BG/NBD model of repeat buying (Fader, Hardie & Lee 2005, "Counting your customers the easy way").

While active, a customer buys as a Poisson process with rate λ ~ Gamma(shape r, rate α); after
each repeat purchase they drop out for good with probability p ~ Beta(a, b). The fit maximises
the closed-form likelihood of the summaries (x, t_x, T) over log-parameters with an analytic
gradient, after compressing identical rows into weights, so a million customers fit in about a
second. Time is in whatever unit t_x and T are given in (weeks for CDNOW); α scales with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy.special import digamma, gammaln, hyp2f1

from simulator.clv.fit_checks import (
    Limit,
    fit_ml,
)
from simulator.clv.mle import ModelFit

PARAM_NAMES = ("r", "alpha", "a", "b")
LIMITS = (
    Limit(
        {"a": "inf", "b": "inf"},
        lambda e: (
            "a and b grow without bound: the data cannot tell dropout heterogeneity "
            "apart; the dropout probability p ~ Beta(a, b) is a single value a/(a+b) = "
            f"{e['a'] / (e['a'] + e['b']):.4g} for every customer"
        ),
    ),
    Limit(
        {"r": "inf", "alpha": "inf"},
        lambda e: (
            "r and alpha grow without bound: the data cannot tell purchase-rate "
            "heterogeneity apart; the rate λ ~ Gamma(r, alpha) is a single value r/alpha = "
            f"{e['r'] / e['alpha']:.4g} per time unit for every customer"
        ),
    ),
    Limit(
        {"a": "0", "b": "inf"},
        lambda e: (
            "a runs to 0 and b grows without bound: the dropout probability p ~ Beta(a, b) "
            "piles up at 0, i.e. almost no customer appears to drop out, and the data cannot "
            f"say how few do (mean p = a/(a+b) = {e['a'] / (e['a'] + e['b']):.3g}); forecasts then "
            "assume nearly everyone keeps buying"
        ),
    ),
    Limit(
        {"a": "0"},
        lambda e: (
            "a runs to 0: the dropout probability p ~ Beta(a, b) piles up at 0, i.e. "
            "almost no customer appears to drop out, and the data cannot say how few do (mean p "
            f"a/(a+b) = {e['a'] / (e['a'] + e['b']):.3g}); forecasts then assume nearly everyone "
            "keeps buying"
        ),
    ),
    Limit(
        {"b": "inf"},
        lambda e: (
            "b grows without bound: the mean dropout probability a/(a+b) = "
            f"{e['a'] / (e['a'] + e['b']):.3g} runs to 0, i.e. almost no customer appears to drop "
            "out, and the data cannot say how few do"
        ),
    ),
    Limit(
        {"b": "0"},
        lambda e: (
            "b runs to 0: the dropout probability p piles up at 1, i.e. customers drop "
            "out right after their first repeat purchase"
        ),
    ),
)
"""BG/NBD's limiting models, for `fit_checks.check_fit`'s warnings."""


@dataclass(frozen=True)
class BGNBDFit(ModelFit):
    """Maximum-likelihood BG/NBD estimates (`mle.ModelFit`, names `PARAM_NAMES`).

    ``check`` says whether the fit is degenerate or at a boundary (`fit_checks`) and holds the
    95% intervals; ``penalizer`` is the L2 coefficient on log-parameters it was fitted with.
    """

    @classmethod
    def of(cls, r: float, alpha: float, a: float, b: float, **fields) -> BGNBDFit:
        """A fit from its four estimates and the other `ModelFit` fields."""
        return cls(PARAM_NAMES, (float(r), float(alpha), float(a), float(b)), **fields)

    r = property(lambda self: self.values[0], doc="Shape of the purchase-rate Gamma.")
    alpha = property(lambda self: self.values[1], doc="Scale of the purchase-rate Gamma.")
    a = property(lambda self: self.values[2], doc="Dropout Beta's first shape.")
    b = property(lambda self: self.values[3], doc="Dropout Beta's second shape.")


class BGNBDSample(NamedTuple):
    """Simulated calibration summaries: repeat count, recency and age per customer."""

    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray


# ---------------------------------------------------------------------------------------------
# Likelihood


def bgnbd_loglik(x, t_x, T, r, alpha, a, b) -> np.ndarray:
    """Return each customer's BG/NBD log-likelihood (eq. 6 of the paper, in log space)."""
    x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
    common = (
        gammaln(r + x)
        - gammaln(r)
        + r * np.log(alpha)
        + gammaln(a + b)
        - gammaln(b)
        + gammaln(b + x)
        - gammaln(a + b + x)
    )
    d1 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        d2 = np.log(a) - np.log(b + x - 1) - (r + x) * np.log(alpha + t_x)
    return common + np.where(x > 0, np.logaddexp(d1, d2), d1)


@dataclass(frozen=True)
class _Data:
    """Summaries compressed for the likelihood: per-x counts, x=0 rows by T, x>0 rows."""

    n: float
    x_values: np.ndarray  # distinct x
    x_weights: np.ndarray  # customers per distinct x
    zero_T: np.ndarray  # distinct T among x = 0
    zero_w: np.ndarray
    x: np.ndarray  # distinct (x, t_x, T) with x > 0
    t_x: np.ndarray
    T: np.ndarray
    w: np.ndarray

    @property
    def n_rows(self) -> int:
        """Number of distinct (x, t_x, T) rows."""
        return len(self.zero_T) + len(self.x)


def _group(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Return the distinct rows of the given columns and how many times each occurs."""
    if len(columns[0]) == 0:
        return [c[:0] for c in columns], np.zeros(0)
    order = np.lexsort(columns[::-1])
    sorted_cols = [c[order] for c in columns]
    change = np.zeros(len(order), dtype=bool)
    change[0] = True
    for c in sorted_cols:
        change[1:] |= c[1:] != c[:-1]
    starts = np.flatnonzero(change)
    counts = np.diff(np.r_[starts, len(order)]).astype(np.float64)
    return [c[starts] for c in sorted_cols], counts


def compress(x, t_x, T) -> _Data:
    """Collapse identical (x, t_x, T) rows into weights for a fast likelihood."""
    x = np.asarray(x, dtype=np.float64)
    t_x = np.asarray(t_x, dtype=np.float64)
    T = np.asarray(T, dtype=np.float64)
    _check_summary(x, t_x, T)
    (x_values,), x_weights = _group(x)
    zero = x == 0
    (zero_T,), zero_w = _group(T[zero])
    (xs, txs, Ts), w = _group(x[~zero], t_x[~zero], T[~zero])
    return _Data(float(len(x)), x_values, x_weights, zero_T, zero_w, xs, txs, Ts, w)


def _check_summary(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> None:
    """Reject summaries the model cannot describe, with a readable message."""
    if not (x.shape == t_x.shape == T.shape) or x.ndim != 1 or len(x) == 0:
        raise ValueError("x, t_x and T must be 1-D arrays of the same, non-zero length")
    if np.any(x < 0) or np.any(x != np.round(x)):
        raise ValueError("x (repeat transactions) must be whole numbers >= 0")
    if np.any(t_x < 0) or np.any(t_x > T + 1e-9) or not np.all(np.isfinite(T)):
        raise ValueError("need 0 <= t_x <= T with finite T for every customer")


def negll_grad(params: np.ndarray, d: _Data) -> tuple[float, np.ndarray]:
    """Return the total negative log-likelihood and its gradient in natural parameters."""
    r, alpha, a, b = params
    X, W = d.x_values, d.x_weights
    ll = W @ (gammaln(r + X) + gammaln(b + X) - gammaln(a + b + X)) + d.n * (
        r * np.log(alpha) - gammaln(r) + gammaln(a + b) - gammaln(b)
    )
    psi_abx = digamma(a + b + X)
    g_r = W @ digamma(r + X) + d.n * (np.log(alpha) - digamma(r))
    g_alpha = d.n * r / alpha
    g_a = d.n * digamma(a + b) - W @ psi_abx
    g_b = W @ (digamma(b + X) - psi_abx) + d.n * (digamma(a + b) - digamma(b))

    log_T0 = np.log(alpha + d.zero_T)
    ll -= r * (d.zero_w @ log_T0)
    g_r -= d.zero_w @ log_T0
    g_alpha -= r * (d.zero_w @ (1.0 / (alpha + d.zero_T)))

    s = r + d.x
    log_T = np.log(alpha + d.T)
    log_t = np.log(alpha + d.t_x)
    d1 = -s * log_T
    d2 = np.log(a / (b + d.x - 1)) - s * log_t
    top = np.maximum(d1, d2)
    e1 = np.exp(d1 - top)
    e2 = np.exp(d2 - top)
    total = e1 + e2
    w1 = d.w * e1 / total
    w2 = d.w * e2 / total
    ll += d.w @ (top + np.log(total))
    g_r -= w1 @ log_T + w2 @ log_t
    g_alpha -= (w1 / (alpha + d.T) + w2 / (alpha + d.t_x)) @ s
    g_a += w2.sum() / a
    g_b -= w2 @ (1.0 / (b + d.x - 1))
    return -ll, -np.array([g_r, g_alpha, g_a, g_b])


def _start(d: _Data) -> np.ndarray:
    """Starting log-parameters: unit shapes and α set to the mean customer age."""
    mean_T = (d.zero_w @ d.zero_T + d.w @ d.T) / d.n
    return np.log([1.0, max(mean_T, 1e-3), 1.0, 1.0])


def fit_bgnbd(x, t_x, T, **options) -> BGNBDFit:
    """Fit BG/NBD by maximum likelihood to per-customer (x, t_x, T) summaries.

    Standard errors come from the inverse Hessian of the negative log-likelihood (plus penalty)
    in the natural parameters at the optimum (NaN when the information matrix is singular).
    ``options`` go to `fit_checks.fit_ml`: ``penalizer`` > 0 adds `fit_checks.penalty` centred
    on the start, ``profile`` computes profile intervals always (`fit_checks.check_fit`), and
    ``tol``, ``max_iter``.
    """
    d = compress(x, t_x, T)
    fit = fit_ml(PARAM_NAMES, lambda p: negll_grad(p, d), d.n, _start(d), limits=LIMITS, **options)
    return BGNBDFit.of(
        *fit.params,
        log_likelihood=float(-negll_grad(fit.params, d)[0]),
        n_customers=int(d.n),
        n_unique_rows=d.n_rows,
        **fit.fields(),
    )


# ---------------------------------------------------------------------------------------------
# Expectations


def _away_from_one(a):
    """Nudge a = 1 (a removable singularity of the 2F1 expressions) by 1e-9."""
    a = np.asarray(a, dtype=np.float64)
    return np.where(np.abs(a - 1) < 1e-9, 1 + 1e-9, a)


def expected_purchases(t, r, alpha, a, b) -> np.ndarray:
    """E[X(t)]: expected repeat purchases in (0, t] of a customer who first bought at 0 (eq. 7)."""
    t = np.asarray(t, dtype=np.float64)
    a = _away_from_one(a)
    z = t / (alpha + t)
    bracket = 1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, z)
    return (a + b - 1) / (a - 1) * bracket


def prob_alive(x, t_x, T, r, alpha, a, b) -> np.ndarray:
    """P(still active at T | x, t_x, T); 1 for customers without a repeat purchase."""
    x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
    with np.errstate(divide="ignore", over="ignore"):
        log_odds = np.log(a) - np.log(b + x - 1) + (r + x) * np.log((alpha + T) / (alpha + t_x))
        ratio = np.where(x > 0, np.exp(log_odds), 0.0)
    return 1.0 / (1.0 + ratio)


def conditional_expected_purchases(t, x, t_x, T, r, alpha, a, b) -> np.ndarray:
    """E[Y(t) | x, t_x, T]: expected purchases in (T, T+t] given the history (eq. 10)."""
    t, x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (t, x, t_x, T))
    a = _away_from_one(a)
    z = t / (alpha + T + t)
    decay = np.exp((r + x) * np.log((alpha + T) / (alpha + T + t)))
    bracket = 1 - decay * hyp2f1(r + x, b + x, a + b + x - 1, z)
    return (a + b + x - 1) / (a - 1) * bracket * prob_alive(x, t_x, T, r, alpha, a, b)


def expected_cumulative_repeat(first_times, times, r, alpha, a, b) -> np.ndarray:
    """Expected cumulative repeat purchases of a cohort at each of ``times``.

    ``first_times`` are the customers' first-purchase times on the same clock as ``times``;
    the result is sum_i E[X(t - s_i)] over customers who have started by t.
    """
    (starts,), counts = _group(np.asarray(first_times, dtype=np.float64))
    times = np.asarray(times, dtype=np.float64)
    age = np.clip(times[:, None] - starts[None, :], 0.0, None)
    return expected_purchases(age, r, alpha, a, b) @ counts


# ---------------------------------------------------------------------------------------------
# Simulation


def simulate_bgnbd(n: int, T, r, alpha, a, b, rng: np.random.Generator) -> BGNBDSample:
    """Draw (x, t_x, T) for n customers from BG/NBD with known parameters (continuous time).

    Each customer starts with a purchase at 0 and is observed until T (scalar or per customer).
    """
    T = np.broadcast_to(np.asarray(T, dtype=np.float64), (n,)).copy()
    lam = rng.gamma(r, 1.0 / alpha, size=n)
    p = np.maximum(rng.beta(a, b, size=n), np.finfo(np.float64).tiny)
    last_allowed = rng.geometric(p)  # repeat purchase after which the customer drops out
    arrivals = rng.poisson(lam * T)
    x = np.minimum(arrivals, last_allowed)
    t_x = np.zeros(n)
    bought = x > 0
    # the x-th of `arrivals` uniform times on (0, T) is T times a Beta(x, arrivals - x + 1)
    k, m = x[bought], arrivals[bought]
    t_x[bought] = T[bought] * rng.beta(k, m - k + 1)
    return BGNBDSample(x.astype(np.int64), t_x, T)
