"""Maximum likelihood shared by the alternative CLV models (BG/BB, Pareto/NBD, sBG).

Each model supplies its negative log-likelihood and gradient in natural parameters and its
limiting models; the fit is BG/NBD's (`fit_checks.fit_ml`): L-BFGS-B over log-parameters (so
every parameter stays positive) on the mean per customer, an optional penalizer, standard
errors from the inverse observed information at the optimum and the boundary check with
profile-likelihood intervals (`fit_checks.check_fit`). Summaries are compressed to distinct rows
with weights first, so the cost grows with the distinct histories, not the customers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.special import betaln, digamma

from simulator.clv.fit_checks import FitCheck, Limit, fit_ml

NegLLGrad = Callable[[np.ndarray], tuple[float, np.ndarray]]


@dataclass(frozen=True)
class ModelFit:
    """Maximum-likelihood estimates of named parameters, SEs from the observed information."""

    names: tuple[str, ...]
    values: tuple[float, ...]
    log_likelihood: float
    se: dict[str, float]
    n_customers: int
    n_unique_rows: int
    converged: bool
    iterations: int
    message: str = ""
    covariance: np.ndarray = field(default_factory=lambda: np.full((1, 1), np.nan), repr=False)
    check: FitCheck = field(default_factory=FitCheck)
    penalizer: float = 0.0

    @property
    def params(self) -> tuple[float, ...]:
        """The estimates in the model's parameter order."""
        return self.values

    def as_dict(self) -> dict[str, float]:
        """The estimates keyed by parameter name."""
        return dict(zip(self.names, self.values, strict=True))


def distinct_rows(*columns) -> tuple[list[np.ndarray], np.ndarray]:
    """The distinct rows of equally long columns (as float64) and how many times each occurs."""
    stacked = np.column_stack([np.asarray(c, dtype=np.float64) for c in columns])
    rows, counts = np.unique(stacked, axis=0, return_counts=True)
    return [rows[:, k] for k in range(rows.shape[1])], counts.astype(np.float64)


def homogeneous(shape: str, other: str, what: str, value: Callable[[float, float], float]):
    """The limit of a Gamma or Beta mixing distribution whose two parameters grow together.

    The distribution of ``what`` then collapses to the single value ``value(shape, other)`` (its
    mean): every customer is alike in it, which the data did not show but could not rule out.
    """

    def meaning(e: dict[str, float]) -> str:
        v = value(e[shape], e[other])
        return (
            f"{shape} and {other} grow without bound: the data cannot tell heterogeneity in "
            f"{what} apart; it is a single value {v:.4g} for every customer"
        )

    return Limit({shape: "inf", other: "inf"}, meaning)


def betaln_grad(a, b):
    """The log-Beta function ln B(a, b) and its derivatives in a and b."""
    psi_ab = digamma(a + b)
    return betaln(a, b), digamma(a) - psi_ab, digamma(b) - psi_ab


def central_gradient(f: Callable[[np.ndarray], float], params: np.ndarray, rel_step=1e-6):
    """Gradient of ``f`` at ``params`` by central differences with a relative step."""
    params = np.asarray(params, dtype=np.float64)
    grad = np.empty_like(params)
    for i in range(len(params)):
        step = np.zeros_like(params)
        step[i] = rel_step * params[i]
        grad[i] = (f(params + step) - f(params - step)) / (2 * step[i])
    return grad


def fit_log_params(
    negll_grad: NegLLGrad,
    start: np.ndarray,
    names: tuple[str, ...],
    n_customers: float,
    n_rows: int,
    *,
    limits: tuple[Limit, ...] = (),
    **options,
) -> ModelFit:
    """Maximise the likelihood over log-parameters from ``start`` (natural parameters).

    ``options`` go to `fit_checks.fit_ml` (``penalizer``, ``profile``, ``tol``, ``max_iter``);
    ``limits`` are the model's limiting models, named in the check's warnings.
    """
    start = np.log(np.asarray(start, dtype=np.float64))
    fit = fit_ml(tuple(names), negll_grad, n_customers, start, limits=limits, **options)
    return ModelFit(
        names=tuple(names),
        values=tuple(map(float, fit.params)),
        log_likelihood=float(-negll_grad(fit.params)[0]),
        n_customers=int(n_customers),
        n_unique_rows=int(n_rows),
        **fit.fields(),
    )
