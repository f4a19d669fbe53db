"""Checks that a maximum-likelihood fit can be trusted, and intervals when its Hessian cannot.

Every CLV model here (BG/NBD, Gamma-Gamma, and the alternatives) is fitted over log-parameters
inside a box (`LOG_BOUNDS`). A fit can stop without an error and still mean nothing: a parameter
runs off to 0 or infinity (the likelihood keeps rising along a ridge towards a limiting model,
such as BG/NBD's a, b -> inf: every customer has the same dropout probability), the observed
information is singular or indefinite, standard errors are NaN. `check_fit` finds these and says
what they mean in words; `profile_interval` gives a 95% interval from the profile likelihood,
which exists where the Hessian does not, and is one-sided when the data cannot bound a parameter.

The rules:

* **Standard errors** come from the inverse observed information in natural parameters
  (`inverse_information`); NaN when the Hessian is not positive definite.
* **When to profile**: always with ``profile=True``, else only when a sign of trouble shows:
  a NaN standard error, a parameter within `EDGE_MARGIN` of the box in log space, an estimate
  beyond `FAR` or below 1/`FAR`, or a standard error of log θ above `SE_LOG_LIMIT` (the Wald
  interval then spans a factor of e^(1.96) ≈ 7 each way: the data do not pin the parameter's
  order of magnitude). These cost nothing; the profile costs a few hundred small fits.
* **Profile interval**: the values of θ_i whose profile log-likelihood (the others
  re-optimised) is within χ²₁(0.95)/2 = 1.92 of the maximum, found by root-finding in log θ_i.
  When the profile has not dropped that far within a factor `FAR` of the estimate (or at the
  box's edge), the interval is open on that side (low 0 or high inf): four orders of magnitude
  is no bound in practice, and a search further out meets the rounding noise of the likelihood
  at extreme parameters (sums of log-gamma terms of 1e9 and more), which fakes a drop.
* **A boundary fit** is one with an open profile interval or a Hessian that is not positive
  definite. A parameter open on both sides (flat around its estimate), or open on one side but
  already a factor `FAR` away from the fit's start, counts as running off the way it went from
  the start (at the box's edge the likelihood's rounding can fake a drop on the far side). Open
  sides that a model's `Limit` names together are explained by it; the others get a generic
  sentence.

A fit that uses a penalizer is checked on its penalised objective, whose curvature keeps it
bounded; that is what the penalizer is for.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize
from scipy.stats import chi2

LOG_BOUNDS = (-30.0, 30.0)
"""Box of every fit in log-parameters: about 1e-13 to 1e13."""
PROFILE_DROP = float(chi2.ppf(0.95, 1)) / 2
"""Drop of the log-likelihood bounding a 95% profile interval: χ²₁(0.95)/2 = 1.92."""
SE_LOG_LIMIT = 1.0
"""Standard error of log θ above which the profile is computed to see whether θ is bounded."""
EDGE_MARGIN = 1.0
"""A log-parameter closer than this to the box's edge has run to it."""
FAR = 1e4
"""A profile interval reaching beyond a factor FAR of the estimate is open on that side; an
estimate beyond FAR or below 1/FAR is profiled (see the module's docstring)."""
LOG_FAR = math.log(FAR)
Z95 = 1.959963984540054

Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]
"""Mean (per customer) objective over log-parameters: value and gradient, as the fits minimise."""


# ----------------------------------------------------------------------------- the Hessian
def hessian_from_gradient(grad, params: np.ndarray, rel_step: float = 1e-5) -> np.ndarray:
    """Hessian by central differences of an analytic gradient ``grad(params)``, symmetrised."""
    params = np.asarray(params, dtype=np.float64)
    cols = []
    for i in range(len(params)):
        step = np.zeros_like(params)
        step[i] = rel_step * params[i]
        cols.append((grad(params + step) - grad(params - step)) / (2 * step[i]))
    H = np.array(cols)
    return (H + H.T) / 2


def inverse_information(H: np.ndarray) -> np.ndarray:
    """Covariance = inverse of the observed information; NaN when it is not positive definite."""
    try:
        np.linalg.cholesky(H)
    except np.linalg.LinAlgError:
        return np.full(H.shape, np.nan)
    return np.linalg.inv(H)


def penalty(theta: np.ndarray, centre: np.ndarray, coef: float) -> tuple[float, np.ndarray]:
    """L2 penalty on log-parameters, coef · Σ(θ − centre)², and its gradient.

    Added to the mean negative log-likelihood per customer (as lifetimes' ``penalizer_coef``),
    so a coefficient means the same for any number of customers. On log-parameters, not on the
    parameters as lifetimes does: it then holds a parameter back from 0 as well as from
    infinity, and centred on the fit's data-scaled start it does not depend on the units of
    time or money (an α in days or a v in yen is not penalised more than in weeks or dollars).
    """
    d = theta - centre
    return coef * float(d @ d), 2 * coef * d


# ----------------------------------------------------------------------------- the fit
@dataclass(frozen=True)
class MLFit:
    """A checked maximum-likelihood fit: estimates, standard errors, covariance, the check."""

    params: np.ndarray
    se: dict[str, float]
    covariance: np.ndarray
    check: FitCheck
    converged: bool
    iterations: int
    message: str
    penalizer: float

    def fields(self) -> dict:
        """The fields a model's fit dataclass shares (all but the estimates)."""
        return {
            "se": self.se,
            "covariance": self.covariance,
            "check": self.check,
            "converged": self.converged,
            "iterations": self.iterations,
            "message": self.message,
            "penalizer": self.penalizer,
        }


def fit_ml(
    names: tuple[str, ...],
    negll: Callable[[np.ndarray], tuple[float, np.ndarray]],
    n: float,
    start: np.ndarray,
    *,
    penalizer: float = 0.0,
    profile: bool = False,
    limits: tuple[Limit, ...] = (),
    tol: float = 1e-10,
    gtol: float = 1e-9,
    max_iter: int = 500,
) -> MLFit:
    """Maximise a likelihood over log-parameters in `LOG_BOUNDS`, then check the fit.

    ``negll(params)`` is the total negative log-likelihood of ``n`` customers and its gradient
    in natural parameters. The optimiser (L-BFGS-B from log-parameters ``start``) minimises the
    mean per customer plus `penalty` centred on ``start``; standard errors are the inverse
    Hessian of n × that objective in natural parameters; `check_fit` judges the result.
    """

    def objective(theta):
        params = np.exp(theta)
        f, g = negll(params)
        pf, pg = penalty(theta, start, penalizer)
        return f / n + pf, g * params / n + pg

    def grad(params):
        return negll(params)[1] + n * penalty(np.log(params), start, penalizer)[1] / params

    res = optimize.minimize(
        objective,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=[LOG_BOUNDS] * len(names),
        options={"maxiter": max_iter, "ftol": tol, "gtol": gtol},
    )
    params = np.exp(res.x)
    cov = inverse_information(hessian_from_gradient(grad, params))
    se = dict(zip(names, map(float, np.sqrt(np.diag(cov))), strict=True))
    check = check_fit(names, res.x, se, objective, n, centre=start, limits=limits, profile=profile)
    return MLFit(
        params, se, cov, check, bool(res.success), int(res.nit), str(res.message), float(penalizer)
    )


# ----------------------------------------------------------------------------- intervals
@dataclass(frozen=True)
class Interval:
    """A 95% interval of a positive parameter; ``low`` 0 or ``high`` inf when open there."""

    low: float
    high: float
    method: str  # "wald" (on log θ, from the standard error) or "profile"

    @property
    def open_low(self) -> bool:
        """The data cannot bound the parameter away from 0."""
        return self.low == 0.0

    @property
    def open_high(self) -> bool:
        """The data cannot bound the parameter from above."""
        return math.isinf(self.high)

    def as_list(self) -> list[float | None]:
        """[low, high] with None for an open end (for JSON and YAML)."""
        return [None if self.open_low else self.low, None if self.open_high else self.high]


def wald_interval(estimate: float, se: float) -> Interval:
    """The 95% Wald interval on log θ: θ · exp(±1.96 · se/θ) (positive, as θ is)."""
    spread = math.exp(Z95 * se / estimate)
    return Interval(estimate / spread, estimate * spread, "wald")


class _Profile:
    """The profile of a mean objective along one log-parameter, re-optimising the others."""

    def __init__(self, objective: Objective, theta_hat: np.ndarray, n: float, i: int):
        self.objective, self.n, self.i = objective, n, i
        self.free = np.arange(len(theta_hat)) != i
        self.f_hat = objective(theta_hat)[0]
        self.others = theta_hat[self.free].copy()

    def drop(self, t: float) -> float:
        """Total log-likelihood drop from the maximum with θ_i = t (warm-started, never < 0)."""
        full = np.empty(len(self.free))
        full[self.i] = t

        def sub(others):
            full[self.free] = others
            f, g = self.objective(full)
            return f, g[self.free]

        res = optimize.minimize(
            sub,
            self.others,
            jac=True,
            method="L-BFGS-B",
            bounds=[LOG_BOUNDS] * int(self.free.sum()),
            options={"maxiter": 100, "ftol": 1e-10, "gtol": 1e-7},
        )
        self.others = res.x
        return max(0.0, (float(res.fun) - self.f_hat) * self.n)


def profile_interval(
    objective: Objective, theta_hat: np.ndarray, n: float, i: int, step: float = 0.5
) -> Interval:
    """95% profile-likelihood interval of parameter ``i`` (natural scale).

    ``objective`` is the fit's mean objective over log-parameters and ``n`` the customers it
    averages over, so n × the objective's rise is the log-likelihood drop. Each side steps out
    from the estimate by ``step``, doubling, until the drop exceeds `PROFILE_DROP` (then the end
    is the root, to 1e-3 in log θ) or a factor `FAR` or the box's edge is reached (then that
    side is open).
    """
    theta_hat = np.asarray(theta_hat, dtype=np.float64)
    ends = []
    for side in (-1.0, 1.0):
        prof = _Profile(objective, theta_hat, n, i)
        far = theta_hat[i] + side * LOG_FAR
        edge = max(LOG_BOUNDS[0], far) if side < 0 else min(LOG_BOUNDS[1], far)
        inner, k = theta_hat[i], 0
        end = None
        while end is None:
            outer = theta_hat[i] + side * step * 2**k
            outer = max(outer, edge) if side < 0 else min(outer, edge)
            if prof.drop(outer) >= PROFILE_DROP:
                end = _root(prof, inner, outer)
            elif outer == edge:
                end = -math.inf if side < 0 else math.inf
            inner, k = outer, k + 1
        ends.append(math.exp(end))
    return Interval(ends[0], ends[1], "profile")


def _root(prof: _Profile, inner: float, outer: float) -> float:
    """Where the profile's drop crosses `PROFILE_DROP` between inner (below) and outer (above)."""
    try:
        return optimize.brentq(lambda t: prof.drop(t) - PROFILE_DROP, inner, outer, xtol=1e-3)
    except ValueError:  # re-optimised from elsewhere, the inner end rose above the drop too
        return outer


# ----------------------------------------------------------------------------- the check
@dataclass(frozen=True)
class Limit:
    """A limiting model that some parameters running to their ends together stand for.

    ``ends`` maps each parameter to "0" or "inf"; ``meaning(estimates)`` says in words what the
    fit then claims about customers (estimates by name, for the figures).
    """

    ends: dict[str, str]
    meaning: Callable[[dict[str, float]], str]


@dataclass(frozen=True)
class FitCheck:
    """The verdict on a fit: what is wrong in words (empty when nothing is), and 95% intervals.

    ``se_note`` says why the standard errors are missing (None when they are all finite).
    """

    problems: tuple[str, ...] = ()
    intervals: dict[str, Interval] = field(default_factory=dict)
    se_note: str | None = None

    @property
    def boundary(self) -> bool:
        """A degenerate or boundary fit: its estimates or errors should not be used as they are."""
        return bool(self.problems)


def fit_warnings(fits: dict[str, object]) -> list[str]:
    """The problems of several fits, each starting with its model's name.

    ``fits`` maps a model's name to its fit (anything with a ``check``) or None (not fitted).
    """
    return [f"{m}: {w}" for m, f in fits.items() if f is not None for w in f.check.problems]


SE_NOTE = (
    "the observed information matrix is not positive definite at the estimate (the "
    "likelihood is flat or curves upward along some direction), so standard errors do not exist; "
    "the 95% intervals come from the profile likelihood"
)


def check_fit(
    names: tuple[str, ...],
    theta_hat: np.ndarray,
    se: dict[str, float],
    objective: Objective,
    n: float,
    *,
    centre: np.ndarray,
    limits: tuple[Limit, ...] = (),
    profile: bool = False,
) -> FitCheck:
    """Check a fit at log-parameters ``theta_hat`` with standard errors ``se`` (natural scale).

    ``objective`` and ``n`` are as for `profile_interval`; ``centre`` is the fit's start (log
    scale): a parameter whose profile is flat both ways has run off the way it went from there.
    ``limits`` are the model's limiting models, in order of preference. See the module's
    docstring for the rules.
    """
    theta_hat = np.asarray(theta_hat, dtype=np.float64)
    est = dict(zip(names, np.exp(theta_hat).tolist(), strict=True))
    se_ok = all(math.isfinite(se[k]) for k in names)
    se_log = [se[k] / est[k] for k in names]
    at_edge = np.any(np.minimum(theta_hat - LOG_BOUNDS[0], LOG_BOUNDS[1] - theta_hat) < EDGE_MARGIN)
    extreme = np.any(np.abs(theta_hat) > LOG_FAR)
    if not (profile or not se_ok or at_edge or extreme or max(se_log) > SE_LOG_LIMIT):
        return FitCheck(intervals={k: wald_interval(est[k], se[k]) for k in names})
    intervals = {}
    for i, k in enumerate(names):
        step = 0.5 if not math.isfinite(se_log[i]) else min(max(2 * se_log[i], 0.05), 0.5)
        intervals[k] = profile_interval(objective, theta_hat, n, i, step)
    open_ends = set()
    for i, (k, v) in enumerate(intervals.items()):
        drift = theta_hat[i] - centre[i]
        if (v.open_low and v.open_high) or (v.open_low != v.open_high and abs(drift) > LOG_FAR):
            open_ends.add((k, "0" if drift < 0 else "inf"))  # ran off the way it went
        elif v.open_low or v.open_high:
            open_ends.add((k, "0" if v.open_low else "inf"))
    problems = _explain(open_ends, est, limits)
    if not se_ok:
        problems.append(
            "the information matrix is not positive definite: standard errors cannot be "
            "computed" + ("" if open_ends else " (every profile interval is bounded, though)")
        )
    return FitCheck(tuple(problems), intervals, None if se_ok else SE_NOTE)


def _explain(open_ends: set[tuple[str, str]], est: dict[str, float], limits) -> list[str]:
    """Sentences for the open interval ends: the model's limits first, then one per end left."""
    problems, left = [], set(open_ends)
    for lim in limits:
        ends = set(lim.ends.items())
        if ends <= left:
            problems.append(lim.meaning(est))
            left -= ends
    for k, end in sorted(left):
        where = "runs to 0" if end == "0" else "grows without bound"
        problems.append(
            f"{k} {where} ({k} = {est[k]:.4g}): the likelihood keeps rising towards that "
            f"limit, so the data cannot bound {k} {'below' if end == '0' else 'above'}"
        )
    return problems
