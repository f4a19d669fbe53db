"""Backtest: fit BG/NBD on a calibration period, then replay the same cohort through the engine.

The fitted rates drive a `PromotionModel` with no campaign (flat traffic, no benefits, channels
or touches; every visit a purchase), so the engine is the BG/NBD process in daily steps. A driver
here, not the kernel, makes each customer enter on their actual first-purchase day: everyone
starts latently inactive (inactive shoppers never visit), and after the model's step for day d the
customers who first bought on day d become active buyers with a trial purchase on d. The engine's
weekly cumulative repeat transactions are compared with the actual ones and with the analytic
BG/NBD expectation (Fader, Hardie & Lee 2005, Figure 3), and holdout purchases by calibration
frequency with the conditional expectation (their Figure 4).

Time conventions (shared with `transactions.summarise`): day numbers are integers, a customer who
first bought on day f can repeat on days f+1.., and "the end of week k" is the last day of that
week, so a customer's age there is (last day - f) days, as T is at the end of calibration.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from dataclasses import dataclass, field

import numba as nb
import numpy as np
from tqdm.auto import tqdm

from simulator.clv.bgnbd import (
    BGNBDFit,
    conditional_expected_purchases,
    expected_cumulative_repeat,
    fit_bgnbd,
)
from simulator.clv.gamma_gamma import GammaGammaFit, fit_gamma_gamma
from simulator.clv.params_file import FittedParams
from simulator.clv.transactions import (
    RFM,
    Transactions,
    cumulative_repeat_transactions,
    date_of_day,
    holdout_repeat_counts,
    summarise,
)
from simulator.domain.lifecycle import ALIVE, EVER_BOUGHT, NONMEMBER_BUYER
from simulator.engine.model import PromotionModel
from simulator.engine.rng import replication_seed
from simulator.errors import UserError
from simulator.scenario.load import validate_data
from simulator.scenario.schema import MAX_DAYS, Scenario

WEEK = 7
SERIAL_BELOW = 100_000
"""Cohorts smaller than this run on one Numba thread: a day of a few chunks costs less than a
parallel launch, and on a busy machine the threads' barrier costs ten times more (measured)."""
X_GROUPS = 8  # calibration frequency groups 0, 1, ..., 6 and 7+
X_LABELS = [str(k) for k in range(X_GROUPS - 1)] + [f"{X_GROUPS - 1}+"]


class BacktestError(UserError, ValueError):
    """Periods or fits that a backtest cannot use; the message says what to change."""


# ---------------------------------------------------------------------------------------------
# Calibration


@dataclass(frozen=True)
class Calibration:
    """A calibration-period summary, its BG/NBD and Gamma-Gamma fits and the params-file view."""

    rfm: RFM
    bgnbd: BGNBDFit
    gamma_gamma: GammaGammaFit | None
    params: FittedParams
    summarise_s: float
    fit_s: float


def cal_end_of_weeks(tx: Transactions, weeks: int) -> int:
    """Last day of week ``weeks`` from the log's first transaction day (CDNOW 39: 1997-09-30)."""
    return int(tx.day.min()) + WEEK * int(weeks) - 1


def calibrate(
    tx: Transactions, cal_end_day: int, time_unit_days: float = 7, source: str = ""
) -> Calibration:
    """Summarise days up to ``cal_end_day`` and fit BG/NBD and (if estimable) Gamma-Gamma.

    Raises:
        BacktestError: the period starts after ``cal_end_day``, runs past the log's last day
            or holds no repeat transaction.
    """
    first, last = int(tx.day.min()), int(tx.day.max())
    if cal_end_day < first:
        raise BacktestError(
            f"the calibration period ends on {date_of_day(cal_end_day)}, before "
            f"the first transaction ({date_of_day(first)})"
        )
    if cal_end_day > last:
        raise BacktestError(
            f"the calibration period ends on {date_of_day(cal_end_day)}, after "
            f"the last transaction ({date_of_day(last)}); the log does not say "
            "whether customers bought in between"
        )
    t0 = time.perf_counter()
    rfm = summarise(tx, cal_end_day, time_unit_days)
    t1 = time.perf_counter()
    if rfm.x.sum() == 0:
        raise BacktestError(
            f"no repeat transactions up to {date_of_day(cal_end_day)}: BG/NBD "
            "cannot be estimated; expected a calibration period in which "
            "some customers buy again"
        )
    bg = fit_bgnbd(rfm.x, rfm.t_x, rfm.T)
    spenders = int(((rfm.x > 0) & (rfm.mean_spend > 0)).sum())
    gg = fit_gamma_gamma(rfm.x, rfm.mean_spend) if spenders >= 3 else None
    t2 = time.perf_counter()
    params = FittedParams.from_fits(
        bg,
        gg,
        source=source or tx.source,
        time_unit_days=time_unit_days,
        calibration_end=date_of_day(cal_end_day),
    )
    return Calibration(rfm, bg, gg, params, t1 - t0, t2 - t1)


# ---------------------------------------------------------------------------------------------
# The cohort in the engine


def cohort_scenario(
    params: FittedParams, n: int, start: dt.date, end: dt.date, seed: int = 0
) -> Scenario:
    """A no-campaign scenario of n repeat-buying customers with the fitted rates, per day.

    Raises:
        BacktestError: no Gamma-Gamma fit with q > 1 (the engine needs a finite mean basket).
    """
    gg = params.gamma_gamma
    if gg is None or gg.q <= 1:
        why = "no Gamma-Gamma fit" if gg is None else f"Gamma-Gamma q = {gg.q:.4g} <= 1"
        raise BacktestError(
            f"{why}: the engine draws each order's value from it and needs a "
            "finite mean spend; expected a log with positive amounts on repeat "
            "purchases"
        )
    day = params.per_day()
    data = {
        "name": "backtest cohort",
        "seed": int(seed),
        "population": {
            "shoppers": int(n),
            "mix": {"nonmember_buyer": 1.0},
            "purchase_rate": {"r": day.r, "alpha": day.alpha, "time_unit_days": 1.0},
            "dropout": {"a": day.a, "b": day.b},
            "basket": {"p": gg.p, "q": gg.q, "v": gg.v},
            "conversion_per_visit": 1.0,
            "enrol_per_visit": 0.0,
            "initial_alive": {},
        },
        "calendar": {"start": start, "end": end},
    }
    return validate_data(data, "backtest cohort")


@dataclass
class EngineRuns:
    """Per-replication results of the cohort in the engine.

    ``weekly[k, w]`` = repeat transactions in week w of replication k; ``cond_*[k, g]`` =
    simulated customers with calibration frequency group g, their holdout repeat transactions,
    and the BG/NBD conditional expectation of those from each one's own simulated (x, t_x, T).
    """

    seeds: list[int]
    weekly: np.ndarray
    cond_n: np.ndarray
    cond_holdout: np.ndarray
    cond_expected: np.ndarray
    seconds: float
    threads: int = 1


def auto_threads(n: int) -> int:
    """Numba threads for a cohort of n customers: one below `SERIAL_BELOW`, else all cores."""
    return 1 if n < SERIAL_BELOW else nb.config.NUMBA_NUM_THREADS


def simulate_cohort(
    scenario: Scenario,
    first_offset: np.ndarray,
    cal_end_offset: int,
    bg: BGNBDFit,
    *,
    reps: int,
    seed: int,
    progress: bool = False,
    threads: int | None = None,
) -> EngineRuns:
    """Run the cohort ``reps`` times; customer (slot) i enters on day ``first_offset[i]``.

    Each shopper's purchases are read from ``last_purchase``: the kernel sets it to d exactly
    when the shopper buys on day d (at most once a day), so ``last_purchase == d`` right after the
    step, before the day's entrants are written, marks that day's purchases. Their sum is checked
    against the day's order counter. ``threads`` (default `auto_threads`) is restored afterwards.
    """
    before = nb.get_num_threads()
    try:
        return _simulate_cohort(
            scenario,
            first_offset,
            cal_end_offset,
            bg,
            reps,
            seed,
            progress,
            threads or auto_threads(len(first_offset)),
        )
    finally:
        nb.set_num_threads(before)


def _simulate_cohort(
    scenario, first_offset, cal_end_offset, bg, reps, seed, progress, threads
) -> EngineRuns:
    """The replication loop of `simulate_cohort`."""
    n = len(first_offset)
    n_days = len(scenario.days)
    n_weeks = n_days // WEEK
    order = np.argsort(first_offset, kind="stable")
    bounds = np.searchsorted(first_offset[order], np.arange(n_days + 1))
    entrants = [order[bounds[d] : bounds[d + 1]] for d in range(n_days)]
    t_hold = (n_days - 1 - cal_end_offset) / WEEK
    T = (cal_end_offset - first_offset) / WEEK
    runs = EngineRuns(
        [],
        np.zeros((reps, n_weeks)),
        np.zeros((reps, X_GROUPS)),
        np.zeros((reps, X_GROUPS)),
        np.zeros((reps, X_GROUPS)),
        0.0,
        threads,
    )
    t0 = time.perf_counter()
    for k in tqdm(
        range(reps), desc="engine replications", unit="rep", disable=not progress, leave=False
    ):
        rep_seed = replication_seed(seed, k)
        runs.seeds.append(rep_seed)
        model = PromotionModel(scenario, seed=rep_seed, threads=threads)
        s = model.shoppers
        s.flags[:] &= ~ALIVE
        orders = model.layout.int_names().index("orders_nonmember")
        x_cal = np.zeros(n, np.int64)
        y_hold = np.zeros(n, np.int64)
        lp_cal = None
        for d in range(n_days):
            model.step()
            bought = s.last_purchase == d
            if d <= cal_end_offset:
                x_cal += bought
            else:
                y_hold += bought
            if np.count_nonzero(bought) != model.daily_int[d, orders]:
                raise RuntimeError(
                    f"day {d}: per-shopper purchases disagree with the order "
                    "counter; the driver's reading of last_purchase is stale"
                )
            idx = entrants[d]
            s.flags[idx] = ALIVE | EVER_BOUGHT
            s.state[idx] = NONMEMBER_BUYER
            s.last_purchase[idx] = d
            if d == cal_end_offset:
                lp_cal = s.last_purchase.astype(np.int64)
        runs.weekly[k] = model.daily_int[: n_weeks * WEEK, orders].reshape(n_weeks, WEEK).sum(1)
        t_x = (lp_cal - first_offset) / WEEK
        expected = conditional_expected_purchases(t_hold, x_cal, t_x, T, *bg.params)
        group = np.minimum(x_cal, X_GROUPS - 1)
        runs.cond_n[k] = np.bincount(group, minlength=X_GROUPS)
        runs.cond_holdout[k] = np.bincount(group, weights=y_hold, minlength=X_GROUPS)
        runs.cond_expected[k] = np.bincount(group, weights=expected, minlength=X_GROUPS)
    runs.seconds = time.perf_counter() - t0
    return runs


# ---------------------------------------------------------------------------------------------
# The backtest


def mean_abs_pct(a: np.ndarray, b: np.ndarray) -> float:
    """Mean of |a - b| / b over the entries, in percent."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.mean(np.abs(a - b) / b) * 100)


@dataclass
class BacktestResult:
    """Everything a backtest measured: fit, weekly tracking, conditional expectations, errors."""

    source: str
    sample: bool
    start: dt.date
    cal_end: dt.date
    end: dt.date
    cal_weeks: int
    n_weeks: int
    reps: int
    seed: int
    n_customers: int
    calibration: Calibration
    actual_cum: np.ndarray
    analytic_cum: np.ndarray
    engine: EngineRuns
    cond_actual_n: np.ndarray
    cond_actual: np.ndarray
    cond_analytic: np.ndarray
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def engine_cum(self) -> np.ndarray:
        """Cumulative repeat transactions per replication and week."""
        return np.cumsum(self.engine.weekly, axis=1)

    @property
    def engine_band(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Mean, 2.5% and 97.5% points of the engine's cumulative curve over replications."""
        cum = self.engine_cum
        lo, hi = np.percentile(cum, [2.5, 97.5], axis=0)
        return cum.mean(axis=0), lo, hi

    def accuracy(self) -> dict[str, float]:
        """Errors over the holdout weeks and the end-of-holdout totals."""
        hold = slice(self.cal_weeks, self.n_weeks)
        mean, lo, hi = self.engine_band
        at_cal = self.cal_weeks - 1
        return {
            "mape_engine_vs_actual_pct": mean_abs_pct(mean[hold], self.actual_cum[hold]),
            "mape_analytic_vs_actual_pct": mean_abs_pct(
                self.analytic_cum[hold], self.actual_cum[hold]
            ),
            "mapd_engine_vs_analytic_pct": mean_abs_pct(mean[hold], self.analytic_cum[hold]),
            "max_abs_pct_engine_vs_analytic": float(
                np.max(np.abs(mean[hold] - self.analytic_cum[hold]) / self.analytic_cum[hold]) * 100
            ),
            "actual_cum_at_end": float(self.actual_cum[-1]),
            "analytic_cum_at_end": float(self.analytic_cum[-1]),
            "engine_cum_at_end": float(mean[-1]),
            "engine_cum_at_end_low": float(lo[-1]),
            "engine_cum_at_end_high": float(hi[-1]),
            "actual_holdout": float(self.actual_cum[-1] - self.actual_cum[at_cal]),
            "analytic_holdout": float(self.analytic_cum[-1] - self.analytic_cum[at_cal]),
            "engine_holdout": float(mean[-1] - mean[at_cal]),
        }

    def weekly_rows(self) -> list[dict]:
        """One row per week: actual, analytic and engine, weekly and cumulative."""
        mean, lo, hi = self.engine_band
        weekly_mean = self.engine.weekly.mean(axis=0)
        prev = np.r_[0.0, self.actual_cum[:-1]], np.r_[0.0, self.analytic_cum[:-1]]
        rows = []
        for w in range(self.n_weeks):
            rows.append(
                {
                    "week": w + 1,
                    "week_end": (self.start + dt.timedelta(days=WEEK * (w + 1) - 1)).isoformat(),
                    "period": "calibration" if w < self.cal_weeks else "holdout",
                    "actual": int(self.actual_cum[w] - prev[0][w]),
                    "bgnbd": round(float(self.analytic_cum[w] - prev[1][w]), 4),
                    "engine_mean": round(float(weekly_mean[w]), 4),
                    "actual_cumulative": int(self.actual_cum[w]),
                    "bgnbd_cumulative": round(float(self.analytic_cum[w]), 4),
                    "engine_cumulative_mean": round(float(mean[w]), 4),
                    "engine_cumulative_low": round(float(lo[w]), 4),
                    "engine_cumulative_high": round(float(hi[w]), 4),
                }
            )
        return rows

    def conditional_rows(self) -> list[dict]:
        """Mean holdout repeat transactions per customer by calibration frequency x = 0..6, 7+."""
        e = self.engine
        sim_n = e.cond_n.sum(axis=0)
        rows = []
        for g in range(X_GROUPS):
            n_act, n_sim = self.cond_actual_n[g], sim_n[g]
            rows.append(
                {
                    "x": X_LABELS[g],
                    "customers": int(n_act),
                    "actual": _ratio(self.cond_actual[g], n_act),
                    "bgnbd": _ratio(self.cond_analytic[g], n_act),
                    "engine_customers": round(float(n_sim / self.reps), 2),
                    "engine": _ratio(e.cond_holdout[:, g].sum(), n_sim),
                    "engine_bgnbd": _ratio(e.cond_expected[:, g].sum(), n_sim),
                }
            )
        return rows

    def to_dict(self) -> dict:
        """The figures for backtest.json."""
        cal = self.calibration
        mean, lo, hi = self.engine_band
        return {
            "meta": {
                "source": self.source,
                "sample": self.sample,
                "customers": self.n_customers,
                "first_day": self.start.isoformat(),
                "calibration_end": self.cal_end.isoformat(),
                "holdout_end": self.end.isoformat(),
                "calibration_weeks": self.cal_weeks,
                "weeks": self.n_weeks,
                "reps": self.reps,
                "seed": self.seed,
                "threads": self.engine.threads,
                "replication_seeds": self.engine.seeds,
                "timings_s": {k: round(v, 3) for k, v in self.timings.items()},
            },
            "fit": {
                "time_unit_days": cal.rfm.time_unit_days,
                "bgnbd": cal.bgnbd.as_dict(),
                "bgnbd_se": cal.bgnbd.se,
                "log_likelihood": cal.bgnbd.log_likelihood,
                "converged": cal.bgnbd.converged,
                "gamma_gamma": cal.gamma_gamma.as_dict() if cal.gamma_gamma else None,
                "gamma_gamma_se": cal.gamma_gamma.se if cal.gamma_gamma else None,
            },
            "accuracy": self.accuracy(),
            "weekly": {
                "actual_cumulative": self.actual_cum.astype(int).tolist(),
                "bgnbd_cumulative": self.analytic_cum.round(4).tolist(),
                "engine_cumulative_mean": mean.round(4).tolist(),
                "engine_cumulative_low": lo.round(4).tolist(),
                "engine_cumulative_high": hi.round(4).tolist(),
            },
            "conditional": self.conditional_rows(),
        }


def _ratio(total: float, n: float) -> float:
    """The ratio total / n rounded for output; NaN for an empty group."""
    return round(float(total / n), 6) if n > 0 else math.nan


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
    holdout = holdout_repeat_counts(tx, rfm, end_day)
    expected = conditional_expected_purchases(
        (end_day - cal_end_day) / WEEK, rfm.x, rfm.t_x, rfm.T, *cal.bgnbd.params
    )
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
        timings={
            "summarise": cal.summarise_s,
            "fit": cal.fit_s,
            "actual_and_analytic": t1 - t0 - cal.summarise_s - cal.fit_s,
            "engine": engine.seconds,
        },
    )
