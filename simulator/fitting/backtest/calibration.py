"""A backtest's calibration period: the per-customer summary and the BG/NBD, Gamma-Gamma fits."""

from __future__ import annotations

import time
from dataclasses import dataclass

from simulator.clv.bgnbd import BGNBDFit, fit_bgnbd
from simulator.clv.fit_checks import fit_warnings
from simulator.clv.gamma_gamma import GammaGammaFit, fit_gamma_gamma
from simulator.clv.params_file import FittedParams
from simulator.clv.summaries import RFM, summarise
from simulator.clv.transactions import Transactions, date_of_day
from simulator.errors import UserError

WEEK = 7


class BacktestError(UserError, ValueError):
    """Periods or fits that a backtest cannot use; the message says what to change."""


@dataclass(frozen=True)
class Calibration:
    """A calibration-period summary, its BG/NBD and Gamma-Gamma fits and the params-file view."""

    rfm: RFM
    bgnbd: BGNBDFit
    gamma_gamma: GammaGammaFit | None
    params: FittedParams
    summarise_s: float
    fit_s: float

    @property
    def warnings(self) -> list[str]:
        """The fits' boundary warnings (`clv.fit_checks`), each starting with its model."""
        return fit_warnings({"BG/NBD": self.bgnbd, "Gamma-Gamma": self.gamma_gamma})


def cal_end_of_weeks(tx: Transactions, weeks: int) -> int:
    """Last day of week ``weeks`` from the log's first transaction day (CDNOW 39: 1997-09-30)."""
    return int(tx.day.min()) + WEEK * int(weeks) - 1


def calibrate(
    tx: Transactions,
    cal_end_day: int,
    time_unit_days: float = 7,
    source: str = "",
    *,
    penalizer: float = 0.0,
    profile: bool = False,
) -> Calibration:
    """Summarise days up to ``cal_end_day`` and fit BG/NBD and (if estimable) Gamma-Gamma.

    ``penalizer`` and ``profile`` are passed to both fits (`clv.fit_checks`); each fit's
    ``check`` says whether it is a boundary fit.

    Raises:
        BacktestError: the period starts after ``cal_end_day``, runs past the log's last day
            or holds no repeat transaction.
    """
    first, last = int(tx.day.min()), int(tx.day.max())
    if cal_end_day < first:
        raise BacktestError(
            f"{tx.source}: the calibration period ends on {date_of_day(cal_end_day)}, before "
            f"the first transaction ({date_of_day(first)})"
        )
    if cal_end_day > last:
        raise BacktestError(
            f"{tx.source}: the calibration period ends on {date_of_day(cal_end_day)}, after "
            f"the last transaction ({date_of_day(last)}); the log does not say "
            "whether customers bought in between"
        )
    t0 = time.perf_counter()
    rfm = summarise(tx, cal_end_day, time_unit_days)
    t1 = time.perf_counter()
    if rfm.x.sum() == 0:
        raise BacktestError(
            f"{tx.source}: no repeat transactions up to {date_of_day(cal_end_day)}: BG/NBD "
            "cannot be estimated; expected a calibration period in which "
            "some customers buy again"
        )
    fit = {"penalizer": penalizer, "profile": profile}
    bg = fit_bgnbd(rfm.x, rfm.t_x, rfm.T, **fit)
    spenders = int(((rfm.x > 0) & (rfm.mean_spend > 0)).sum())
    gg = fit_gamma_gamma(rfm.x, rfm.mean_spend, **fit) if spenders >= 3 else None
    t2 = time.perf_counter()
    params = FittedParams.from_fits(
        bg,
        gg,
        source=source or tx.source,
        time_unit_days=time_unit_days,
        calibration_end=date_of_day(cal_end_day),
    )
    return Calibration(rfm, bg, gg, params, t1 - t0, t2 - t1)
