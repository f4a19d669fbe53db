"""Maximum likelihood shared by the alternative CLV models (BG/BB, Pareto/NBD, sBG).

Each model supplies its negative log-likelihood and gradient in natural parameters; the fit
runs L-BFGS-B over log-parameters (so every parameter stays positive) on the mean per customer,
and the standard errors come from the inverse observed information at the optimum, as for
BG/NBD (`bgnbd.hessian_from_gradient`, `bgnbd.inverse_information`). Summaries are compressed
to distinct rows with weights first, so the cost grows with the distinct histories, not the
customers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize
from scipy.special import betaln, digamma

from simulator.clv.bgnbd import hessian_from_gradient, inverse_information

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
    tol: float = 1e-12,
    max_iter: int = 1000,
) -> ModelFit:
    """Minimise ``negll_grad`` over log-parameters from ``start`` (natural parameters).

    The objective is the mean negative log-likelihood per customer, so the tolerances mean the
    same for 1,000 or 10^7 customers; the bounds e^±30 only keep the optimiser finite.
    """

    def objective(theta):
        params = np.exp(theta)
        f, g = negll_grad(params)
        return f / n_customers, g * params / n_customers

    res = optimize.minimize(
        objective,
        np.log(np.asarray(start, dtype=np.float64)),
        jac=True,
        method="L-BFGS-B",
        bounds=[(-30.0, 30.0)] * len(names),
        options={"maxiter": max_iter, "ftol": tol, "gtol": 1e-9},
    )
    params = np.exp(res.x)
    cov = inverse_information(hessian_from_gradient(lambda p: negll_grad(p)[1], params))
    return ModelFit(
        names=tuple(names),
        values=tuple(map(float, params)),
        log_likelihood=float(-negll_grad(params)[0]),
        se=dict(zip(names, map(float, np.sqrt(np.diag(cov))), strict=True)),
        n_customers=int(n_customers),
        n_unique_rows=int(n_rows),
        converged=bool(res.success),
        iterations=int(res.nit),
        message=str(res.message),
        covariance=cov,
    )
