"""The backtest cohort in the engine: a no-campaign scenario replayed with the actual entry days."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

import numba as nb
import numpy as np
from tqdm.auto import tqdm

from simulator.clv.bgnbd import BGNBDFit, conditional_expected_purchases
from simulator.clv.params_file import FittedParams
from simulator.domain.lifecycle import ALIVE, EVER_BOUGHT, NONMEMBER_BUYER
from simulator.engine.counters import AMOUNT
from simulator.engine.model import PromotionModel
from simulator.engine.rng import replication_seed
from simulator.engine.workers import set_threads
from simulator.fitting.backtest.calibration import WEEK, BacktestError
from simulator.scenario.load import validate_data
from simulator.scenario.schema import Scenario

SERIAL_BELOW = 100_000
"""Cohorts smaller than this run on one Numba thread: a day of a few chunks costs less than a
parallel launch, and on a busy machine the threads' barrier costs ten times more (measured)."""
X_GROUPS = 8  # calibration frequency groups 0, 1, ..., 6 and 7+
X_LABELS = [str(k) for k in range(X_GROUPS - 1)] + [f"{X_GROUPS - 1}+"]


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
        "schema_version": 2,
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

    ``weekly[k, w]`` = repeat transactions (purchase days, as the data are summarised) in week w
    of replication k; ``cond_*[k, g]`` = simulated customers with calibration frequency group g,
    their holdout repeat transactions, and the BG/NBD conditional expectation of those from
    each one's own simulated (x, t_x, T); ``holdout_revenue[k]`` = the GMV of the holdout days.
    """

    seeds: list[int]
    weekly: np.ndarray
    cond_n: np.ndarray
    cond_holdout: np.ndarray
    cond_expected: np.ndarray
    seconds: float
    threads: int = 1
    holdout_revenue: np.ndarray = field(default_factory=lambda: np.zeros(0))


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
        set_threads(before)


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
        np.zeros(reps),
    )
    gmv = [AMOUNT.gmv_old_member, AMOUNT.gmv_new_member, AMOUNT.gmv_nonmember]
    t0 = time.perf_counter()
    for k in tqdm(
        range(reps), desc="engine replications", unit="rep", disable=not progress, leave=False
    ):
        rep_seed = replication_seed(seed, k)
        runs.seeds.append(rep_seed)
        model = PromotionModel(scenario, seed=rep_seed, threads=threads)
        s = model.shoppers
        s.flags[:] &= ~ALIVE
        buyer_days = model.layout.int_names().index("buyer_days")
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
            if np.count_nonzero(bought) != model.daily_int[d, buyer_days]:
                raise RuntimeError(
                    f"day {d}: per-shopper purchase days disagree with the buyer-day "
                    "counter; the driver's reading of last_purchase is stale"
                )
            idx = entrants[d]
            s.flags[idx] = ALIVE | EVER_BOUGHT
            s.state[idx] = NONMEMBER_BUYER
            s.last_purchase[idx] = d
            if d == cal_end_offset:
                lp_cal = s.last_purchase.astype(np.int64)
        runs.holdout_revenue[k] = model.daily_float[cal_end_offset + 1 :, gmv].sum()
        runs.weekly[k] = model.daily_int[: n_weeks * WEEK, buyer_days].reshape(n_weeks, WEEK).sum(1)
        t_x = (lp_cal - first_offset) / WEEK
        expected = conditional_expected_purchases(t_hold, x_cal, t_x, T, *bg.params)
        group = np.minimum(x_cal, X_GROUPS - 1)
        runs.cond_n[k] = np.bincount(group, minlength=X_GROUPS)
        runs.cond_holdout[k] = np.bincount(group, weights=y_hold, minlength=X_GROUPS)
        runs.cond_expected[k] = np.bincount(group, weights=expected, minlength=X_GROUPS)
    runs.seconds = time.perf_counter() - t0
    return runs
