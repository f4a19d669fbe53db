"""sBG model of contractual renewal (Fader & Hardie 2007, "How to Project Customer Retention").

Members of a cohort renew at the end of each period; each member cancels at every renewal with
probability θ ~ Beta(α, β), the same for them at every renewal. So the period T of
cancellation is shifted-beta-geometric:

  P(T = t) = B(α+1, β+t−1) / B(α, β),   S(t) = P(T > t) = B(α, β+t) / B(α, β),

and the retention rate r_t = S(t)/S(t−1) = (β+t−1)/(α+β+t−1) rises with t because the members
likely to cancel leave first. The data are the members still active at each period,
n_0 ≥ n_1 ≥ … ≥ n_K (period 0 = the cohort); the log-likelihood (the paper's appendix) is

  LL = Σ_{t=1..K} (n_{t−1} − n_t) ln P(T = t) + n_K ln S(K).

`read_counts` reads them from a CSV with the header ``period,active``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from simulator.clv.mle import ModelFit, betaln_grad, fit_log_params, homogeneous
from simulator.errors import UserError
from simulator.yamlfiles.inputs import UnreadableInput, read_input_bytes

PARAM_NAMES = ("alpha", "beta")
LIMITS = (
    homogeneous(
        "alpha",
        "beta",
        "the cancellation probability θ (retention is then constant)",
        lambda a, b: a / (a + b),
    ),
)
"""sBG's limiting model: no heterogeneity, a plain geometric lifetime."""
MAX_COUNTS_BYTES = 1_000_000


class CountsFileError(UserError, ValueError):
    """A membership-counts file that cannot be used; the message names the file and line."""


def negll_grad(params, active: np.ndarray) -> tuple[float, np.ndarray]:
    """Negative sBG log-likelihood of the active counts and its gradient in (α, β)."""
    alpha, beta = params
    t = np.arange(1, len(active), dtype=np.float64)
    lost = active[:-1] - active[1:]
    lp, dpa, dpb = betaln_grad(alpha + 1, beta + t - 1)
    ls, dsa, dsb = betaln_grad(alpha, beta + t[-1])
    l0, da0, db0 = betaln_grad(alpha, beta)
    ll = lost @ (lp - l0) + active[-1] * (ls - l0)
    g_a = lost @ (dpa - da0) + active[-1] * (dsa - da0)
    g_b = lost @ (dpb - db0) + active[-1] * (dsb - db0)
    return -float(ll), -np.array([g_a, g_b])


def _check(active: np.ndarray) -> None:
    """Counts must be whole, start positive and never rise."""
    if active.ndim != 1 or len(active) < 2:
        raise ValueError("need the active count of period 0 and of at least one renewal")
    if np.any(active != np.round(active)) or active[0] <= 0 or np.any(active < 0):
        raise ValueError("active counts must be whole numbers >= 0, with period 0 above 0")
    if np.any(np.diff(active) > 0):
        raise ValueError("active counts must not rise from one period to the next")


def fit_sbg(active, **options) -> ModelFit:
    """Fit (α, β) to active counts n_0..n_K by maximum likelihood (SEs: observed information).

    ``options`` go to `fit_checks.fit_ml` (``penalizer``, ``profile``).
    """
    active = np.asarray(active, dtype=np.float64)
    _check(active)
    if active[-1] == active[0]:
        raise ValueError("no member cancelled: the cancellation rate cannot be estimated")
    return fit_log_params(
        lambda p: negll_grad(p, active),
        np.ones(2),
        PARAM_NAMES,
        active[0],
        len(active),
        limits=LIMITS,
        **options,
    )


def survival(t, alpha, beta) -> np.ndarray:
    """S(t): share of the cohort still active after t renewals (S(0) = 1)."""
    t = np.asarray(t, dtype=np.float64)
    return np.exp(betaln_grad(alpha, beta + t)[0] - betaln_grad(alpha, beta)[0])


def retention(t, alpha, beta) -> np.ndarray:
    """r_t = S(t)/S(t−1) = (β+t−1)/(α+β+t−1): share of period t−1's members who renew at t."""
    t = np.asarray(t, dtype=np.float64)
    return (beta + t - 1) / (alpha + beta + t - 1)


def read_counts(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read ``period,active`` rows (periods 0, 1, 2, ... in order) as (periods, active).

    Raises:
        CountsFileError: unreadable file, a wrong header, a bad number, a period out of order or
            a count that rises; the message names the file and the line.
    """
    name = str(path)
    try:
        text = read_input_bytes(Path(path), MAX_COUNTS_BYTES, "a counts file").decode("utf-8")
    except (UnreadableInput, UnicodeDecodeError) as exc:
        raise CountsFileError(f"{name}: {exc}") from None
    rows = [(k, row) for k, row in enumerate(csv.reader(io.StringIO(text)), 1) if row]
    if not rows or [c.strip() for c in rows[0][1]] != ["period", "active"]:
        raise CountsFileError(f"{name}:1: expected the header `period,active`")
    active: list[int] = []
    for line, row in rows[1:]:
        active.append(_count(name, line, row, expected_period=len(active), previous=active))
    if len(active) < 2:
        raise CountsFileError(f"{name}: expected rows for period 0 and at least period 1")
    return np.arange(len(active)), np.array(active, dtype=np.float64)


def _count(name: str, line: int, row: list[str], expected_period: int, previous: list[int]):
    """One row's active count, checked against its period and the row before."""
    where = f"{name}:{line}"
    try:
        period, count = (int(c.strip()) for c in row)
    except ValueError:
        raise CountsFileError(
            f"{where}: expected two whole numbers `period,active`, got {','.join(row)!r}"
        ) from None
    if period != expected_period:
        raise CountsFileError(f"{where}: expected period {expected_period}, got {period}")
    if count < 0 or (expected_period == 0 and count == 0):
        raise CountsFileError(f"{where}: expected an active count above 0, got {count}")
    if previous and count > previous[-1]:
        raise CountsFileError(
            f"{where}: {count} active is more than the {previous[-1]} of the period before; "
            "expected the members of one cohort, who can only leave"
        )
    return count
