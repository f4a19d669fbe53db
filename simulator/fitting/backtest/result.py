"""What a backtest measured: the holdout's totals, weekly tracking, conditional expectations.

The headline is the holdout period's error: total repeat transactions of the cohort in the
holdout weeks, forecast (the analytic BG/NBD expectation, and the engine's mean) against actual,
in percent of the actual, and the revenue of the same weeks: each customer's BG/NBD conditional
expected transactions times their Gamma-Gamma conditional expected spend, summed, against the
actual amounts. The mean absolute % errors of the cumulative curve come second: they are taken
over the holdout weeks, but the cumulative counts include every calibration-week transaction,
which the model was fitted to, so they are several times smaller than the holdout error.

Seasonal peaks (`seasonal_peaks`): a holdout week is a peak the model cannot know when its
actual count is at least `PEAK_RATIO` times its typical count, the forecast scaled by the
holdout's median actual/forecast ratio, and the excess is more than `PEAK_Z` noise standard
deviations. Scaling by the median ratio takes out the model's overall bias (a forecast 10% low
in every week is not a peak). The noise is Poisson's, sqrt(typical), times the holdout weeks' own
robust scatter around it when that is larger (1.4826 × the median absolute deviation of the
standardised residuals): real weekly counts vary more than Poisson (holidays, releases, mailings
move many customers at once; CDNOW's holdout weeks scatter 1.5 times Poisson's sd on the
2,357-customer sample and 3.6 times on the master), and without it the sample's two busiest weeks
(1.6 and 1.8 times typical) would be called peaks. The ratio keeps large logs, whose noise is
small, from flagging ordinary wobble (the master's busiest week is 1.49 times typical); 4 sd keep
small logs from flagging noise.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np

from simulator.fitting.backtest.calibration import WEEK, Calibration
from simulator.fitting.backtest.cohort import X_GROUPS, X_LABELS, EngineRuns

PEAK_RATIO = 1.5
PEAK_Z = 4.0


def seasonal_peaks(actual: np.ndarray, forecast: np.ndarray) -> list[int]:
    """Indices of the weeks whose actual count is a peak beyond the forecast (module docstring).

    ``actual`` and ``forecast`` are the weekly counts of the holdout weeks.
    """
    actual, forecast = np.asarray(actual, float), np.asarray(forecast, float)
    usable = forecast > 0
    if not usable.any():
        return []
    typical = np.median(actual[usable] / forecast[usable]) * forecast
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (actual - typical) / np.sqrt(typical)
    scatter = 1.4826 * np.median(np.abs(z[usable] - np.median(z[usable])))
    peak = usable & (actual >= PEAK_RATIO * typical) & (z >= PEAK_Z * max(1.0, scatter))
    return np.flatnonzero(peak).tolist()


def pct_error(forecast: float, actual: float) -> float:
    """(forecast − actual) / actual in percent; NaN when nothing actually happened."""
    return float((forecast - actual) / actual * 100) if actual else math.nan


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
    holdout_revenue_actual: float = math.nan
    holdout_revenue_forecast: float | None = None
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

    def holdout(self) -> dict:
        """The headline: holdout totals and revenue, forecast against actual, and peak weeks."""
        at_cal = self.cal_weeks - 1
        per_rep = self.engine_cum[:, -1] - self.engine_cum[:, at_cal]
        lo, hi = np.percentile(per_rep, [2.5, 97.5])
        actual = float(self.actual_cum[-1] - self.actual_cum[at_cal])
        bgnbd = float(self.analytic_cum[-1] - self.analytic_cum[at_cal])
        engine = float(per_rep.mean())
        rev, fc = self.holdout_revenue_actual, self.holdout_revenue_forecast
        engine_rev = float(self.engine.holdout_revenue.mean())
        peaks = self.peak_weeks()
        act_w, fc_w = self._holdout_weekly()
        calm = np.ones(len(act_w), dtype=bool)
        calm[[w - self.cal_weeks - 1 for w in (p["week"] for p in peaks)]] = False
        return {
            "weeks": [self.cal_weeks + 1, self.n_weeks],
            "actual": actual,
            "bgnbd": bgnbd,
            "engine": engine,
            "engine_low": float(lo),
            "engine_high": float(hi),
            "error_bgnbd_pct": pct_error(bgnbd, actual),
            "error_engine_pct": pct_error(engine, actual),
            "revenue_actual": rev,
            "revenue_forecast": fc,
            "revenue_error_pct": None if fc is None else pct_error(fc, rev),
            "revenue_engine": engine_rev,
            "revenue_engine_error_pct": pct_error(engine_rev, rev),
            "seasonal_peaks": peaks,
            "error_bgnbd_without_peaks_pct": (
                pct_error(fc_w[calm].sum(), act_w[calm].sum()) if peaks else None
            ),
        }

    def _holdout_weekly(self) -> tuple[np.ndarray, np.ndarray]:
        """Actual and BG/NBD weekly repeat transactions of the holdout weeks."""
        at_cal = self.cal_weeks - 1
        return np.diff(self.actual_cum[at_cal:]), np.diff(self.analytic_cum[at_cal:])

    def peak_weeks(self) -> list[dict]:
        """The holdout's seasonal peaks (`seasonal_peaks`), one dict per week."""
        act_w, fc_w = self._holdout_weekly()
        return [
            {
                "week": self.cal_weeks + 1 + k,
                "week_end": (
                    self.start + dt.timedelta(days=WEEK * (self.cal_weeks + 1 + k) - 1)
                ).isoformat(),
                "actual": int(act_w[k]),
                "bgnbd": round(float(fc_w[k]), 2),
            }
            for k in seasonal_peaks(act_w, fc_w)
        ]

    def accuracy(self) -> dict[str, float]:
        """Errors of the cumulative curve over the holdout weeks and the end-of-holdout totals.

        The cumulative counts include the calibration weeks' transactions (see the module's
        docstring); the holdout's own error is `holdout`.
        """
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
                "warnings": cal.warnings,
                "gamma_gamma": cal.gamma_gamma.as_dict() if cal.gamma_gamma else None,
                "gamma_gamma_se": cal.gamma_gamma.se if cal.gamma_gamma else None,
            },
            "holdout": self.holdout(),
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
