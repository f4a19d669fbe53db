"""Running a backtest: fit on the calibration weeks, replay the cohort, measure the holdout."""

from __future__ import annotations

import time

import numpy as np

from simulator.clv.bgnbd import conditional_expected_purchases, expected_cumulative_repeat
from simulator.clv.gamma_gamma import expected_spend
from simulator.clv.summaries import cumulative_repeat_transactions, holdout_totals
from simulator.clv.transactions import Transactions, date_of_day
from simulator.fitting.backtest.calibration import (
    WEEK,
    BacktestError,
    cal_end_of_weeks,
    calibrate,
)
from simulator.fitting.backtest.cohort import X_GROUPS, cohort_scenario, simulate_cohort
from simulator.fitting.backtest.result import BacktestResult
from simulator.scenario.schema import MAX_DAYS


def run_backtest(
    tx: Transactions,
    cal_weeks: int,
    *,
    reps: int = 100,
    seed: int = 0,
    sample: bool = False,
    progress: bool = False,
    threads: int | None = None,
) -> BacktestResult:
    """Fit on ``cal_weeks`` weeks from the first transaction day; replay the cohort in the engine.

    The cohort is the customers whose first purchase falls in the calibration period; the holdout
    runs over the whole weeks left in the log.

    Raises:
        BacktestError: no holdout week, a log too long for the engine, or no usable spend fit.
    """
    start_day = int(tx.day.min())
    n_weeks = (int(tx.day.max()) - start_day + 1) // WEEK
    if n_weeks < 2:
        raise BacktestError(
            f"the log holds {n_weeks} whole week(s) from "
            f"{date_of_day(start_day)}; a backtest needs at least 2 "
            "(calibration and holdout)"
        )
    if not 1 <= cal_weeks < n_weeks:
        raise BacktestError(
            f"--cal-weeks must be between 1 and {n_weeks - 1}: the log holds "
            f"{n_weeks} whole weeks from {date_of_day(start_day)}, and the "
            "holdout needs at least one"
        )
    if n_weeks * WEEK > MAX_DAYS:
        raise BacktestError(
            f"the log spans {n_weeks} weeks; the engine simulates at most {MAX_DAYS} days"
        )
    cal_end_day = cal_end_of_weeks(tx, cal_weeks)
    end_day = start_day + n_weeks * WEEK - 1
    t0 = time.perf_counter()
    cal = calibrate(tx, cal_end_day, WEEK)
    rfm = cal.rfm
    keep = np.zeros(tx.n_customers, dtype=bool)
    keep[rfm.customer] = True
    cohort = tx.subset(keep)
    actual = cumulative_repeat_transactions(cohort, start_day, n_weeks, WEEK)
    first_offset = rfm.first_day - start_day
    week_ends = (np.arange(1, n_weeks + 1) * WEEK - 1) / WEEK
    analytic = expected_cumulative_repeat(first_offset / WEEK, week_ends, *cal.bgnbd.params)
    group = np.minimum(rfm.x, X_GROUPS - 1)
    holdout, holdout_spend = holdout_totals(tx, rfm, end_day)
    expected = conditional_expected_purchases(
        (end_day - cal_end_day) / WEEK, rfm.x, rfm.t_x, rfm.T, *cal.bgnbd.params
    )
    gg = cal.gamma_gamma
    revenue = None
    if gg is not None:  # each customer's expected holdout transactions × expected spend on one
        revenue = float(expected @ expected_spend(rfm.x, rfm.mean_spend, *gg.params))
    t1 = time.perf_counter()
    scenario = cohort_scenario(
        cal.params, rfm.n_customers, date_of_day(start_day), date_of_day(end_day), seed
    )
    engine = simulate_cohort(
        scenario,
        first_offset,
        cal_end_day - start_day,
        cal.bgnbd,
        reps=reps,
        seed=seed,
        progress=progress,
        threads=threads,
    )
    return BacktestResult(
        source=tx.source,
        sample=sample,
        start=date_of_day(start_day),
        cal_end=date_of_day(cal_end_day),
        end=date_of_day(end_day),
        cal_weeks=cal_weeks,
        n_weeks=n_weeks,
        reps=reps,
        seed=seed,
        n_customers=rfm.n_customers,
        calibration=cal,
        actual_cum=actual.astype(np.float64),
        analytic_cum=analytic,
        engine=engine,
        cond_actual_n=np.bincount(group, minlength=X_GROUPS).astype(np.float64),
        cond_actual=np.bincount(group, weights=holdout, minlength=X_GROUPS),
        cond_analytic=np.bincount(group, weights=expected, minlength=X_GROUPS),
        holdout_revenue_actual=float(holdout_spend.sum()),
        holdout_revenue_forecast=revenue,
        timings={
            "summarise": cal.summarise_s,
            "fit": cal.fit_s,
            "actual_and_analytic": t1 - t0 - cal.summarise_s - cal.fit_s,
            "engine": engine.seconds,
        },
    )
