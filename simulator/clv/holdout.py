"""Choosing between BG/NBD and Pareto/NBD by the holdout log-likelihood.

Both models are fitted on the calibration period only. For a model with calibration estimates
θ, the holdout log-likelihood of the calibration customers is

  LL_holdout = LL(θ; summary over calibration + holdout) − LL(θ; calibration summary).

The summary likelihood of (x, t_x, T) is the density of the customer's exact purchase times
(up to a factor free of the parameters, the same for both models), so the difference is the log
predictive density of the holdout purchases given the calibration history: a proper score that
rewards a model for predicting *who* buys again *when*, not only the total. The model with the
larger value predicts the holdout better; a difference of a few nats is noise, tens are not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from simulator.clv import bgnbd, pareto_nbd
from simulator.clv.mle import ModelFit
from simulator.clv.params_file import MODEL_LABELS
from simulator.clv.summaries import RFM, summarise
from simulator.clv.transactions import Transactions
from simulator.errors import UserError


class HoldoutError(UserError, ValueError):
    """A calibration period the comparison cannot use; the message names the log."""


@dataclass(frozen=True)
class _Model:
    """What the comparison needs of a model: its fit, row log-likelihood and forecast."""

    fit: Callable
    loglik: Callable
    conditional_expected: Callable


MODELS = {
    "bgnbd": _Model(bgnbd.fit_bgnbd, bgnbd.bgnbd_loglik, bgnbd.conditional_expected_purchases),
    "paretonbd": _Model(
        pareto_nbd.fit_pareto_nbd,
        pareto_nbd.pareto_nbd_loglik,
        pareto_nbd.conditional_expected_purchases,
    ),
}


@dataclass(frozen=True)
class HoldoutScore:
    """One model's calibration fit and how well it predicted the holdout."""

    model: str
    fit: ModelFit  # BG/NBD, Pareto/NBD or BG/BB: as_dict(), se, log_likelihood, converged
    holdout_loglik: float
    forecast: float  # expected holdout transactions of the calibration customers

    @property
    def label(self) -> str:
        """The model's printed name."""
        return MODEL_LABELS[self.model]


@dataclass(frozen=True)
class ModelComparison:
    """The scores of every model on one calibration/holdout split, best first."""

    scores: list[HoldoutScore]
    n_customers: int
    holdout_actual: int  # holdout transactions (customer-days) of the calibration customers
    holdout_length: float  # in time units

    @property
    def best(self) -> HoldoutScore:
        """The model with the largest holdout log-likelihood."""
        return self.scores[0]

    def to_dict(self) -> dict:
        """The comparison for a JSON file: each model's estimates and scores, best first."""
        return {
            "best": self.best.model,
            "holdout_actual": self.holdout_actual,
            "customers": self.n_customers,
            "scores": [
                {
                    "model": s.model,
                    "params": s.fit.as_dict(),
                    "log_likelihood": s.fit.log_likelihood,
                    "holdout_loglik": s.holdout_loglik,
                    "forecast": s.forecast,
                    "warnings": list(s.fit.check.problems),
                }
                for s in self.scores
            ],
        }


def calibration_and_full(
    tx: Transactions, cal_end_day: int, end_day: int, time_unit_days: float
) -> tuple[RFM, RFM]:
    """The calibration summary and the summary of the same customers through ``end_day``."""
    cal = summarise(tx, cal_end_day, time_unit_days)
    full = summarise(tx, end_day, time_unit_days)
    keep = np.isin(full.customer, cal.customer)
    return cal, RFM(
        customer=full.customer[keep],
        customer_ids=full.customer_ids[keep],
        x=full.x[keep],
        t_x=full.t_x[keep],
        T=full.T[keep],
        first_day=full.first_day[keep],
        mean_spend=full.mean_spend[keep],
        cal_end_day=full.cal_end_day,
        time_unit_days=full.time_unit_days,
    )


def compare_models(
    tx: Transactions,
    cal_end_day: int,
    end_day: int | None = None,
    time_unit_days: float = 7,
    models: tuple[str, ...] = ("bgnbd", "paretonbd"),
    **options,
) -> ModelComparison:
    """Fit each model on days up to ``cal_end_day`` and score it on (cal_end_day, end_day].

    ``end_day`` defaults to the log's last day; ``options`` go to every fit (``penalizer``,
    ``profile``). Scores are sorted best first; each fit's ``check`` says if it is at a boundary.

    Raises:
        HoldoutError: no repeat transaction in the calibration period.
    """
    end_day = int(tx.day.max()) if end_day is None else int(end_day)
    cal, full = calibration_and_full(tx, cal_end_day, end_day, time_unit_days)
    if cal.x.sum() == 0:
        raise HoldoutError(
            f"{tx.source}: no repeat transactions in the calibration period: the models "
            "cannot be estimated; expected a period in which some customers buy again"
        )
    horizon = (end_day - cal_end_day) / time_unit_days
    scores = []
    for name in models:
        m = MODELS[name]
        fit = m.fit(cal.x, cal.t_x, cal.T, **options)
        params = fit.params
        gain = m.loglik(full.x, full.t_x, full.T, *params)
        gain -= m.loglik(cal.x, cal.t_x, cal.T, *params)
        forecast = m.conditional_expected(horizon, cal.x, cal.t_x, cal.T, *params)
        scores.append(HoldoutScore(name, fit, float(gain.sum()), float(forecast.sum())))
    scores.sort(key=lambda s: -s.holdout_loglik)
    return ModelComparison(scores, cal.n_customers, int((full.x - cal.x).sum()), horizon)
