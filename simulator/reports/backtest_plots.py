"""Backtest charts: cumulative repeat transactions by week and holdout purchases by frequency.

They redraw Fader, Hardie & Lee's (2005) tracking and conditional-expectation figures with the
engine added next to the analytic BG/NBD curve.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from simulator.fitting.backtest.cohort import X_LABELS
from simulator.fitting.backtest.result import BacktestResult
from simulator.reports.charts import save_png

ACTUAL, BGNBD, ENGINE = "#222222", "#d94801", "#2171b5"


def plot_tracking(res: BacktestResult, path: str | Path) -> None:
    """Cumulative repeat transactions by week: actual, BG/NBD and the engine's 95% band."""
    weeks = np.arange(1, res.n_weeks + 1)
    mean, lo, hi = res.engine_band
    fig = Figure(figsize=(8, 4.8))
    ax = fig.subplots()
    ax.fill_between(
        weeks,
        lo,
        hi,
        color=ENGINE,
        alpha=0.2,
        lw=0,
        label=f"engine 2.5-97.5% ({res.reps} replications)",
    )
    ax.plot(weeks, mean, color=ENGINE, lw=1.5, label="engine mean")
    ax.plot(weeks, res.analytic_cum, color=BGNBD, lw=1.5, ls="--", label="BG/NBD expectation")
    ax.plot(weeks, res.actual_cum, color=ACTUAL, lw=1.8, label="actual")
    ax.axvline(res.cal_weeks + 0.5, color="#555555", lw=1, ls=":")
    ax.text(
        res.cal_weeks + 0.5,
        0.02,
        " end of calibration",
        transform=ax.get_xaxis_transform(),
        fontsize=8,
        color="#555555",
    )
    acc, hold = res.accuracy(), res.holdout()
    ax.set_title(
        f"Cumulative repeat transactions, {res.n_customers:,} customers "
        f"({res.cal_weeks}-week calibration)\nholdout-period error: BG/NBD "
        f"{hold['error_bgnbd_pct']:+.1f}%, engine {hold['error_engine_pct']:+.1f}%; "
        f"cumulative MAPE (incl. calibration counts) {acc['mape_analytic_vs_actual_pct']:.2f}%",
        fontsize=10,
    )
    for p in hold["seasonal_peaks"]:
        ax.axvline(p["week"], color="#b30000", lw=0.8, alpha=0.6)
    ax.set_xlabel(f"week (week 1 starts {res.start})")
    ax.set_ylabel("cumulative repeat transactions")
    ax.set_xlim(1, res.n_weeks)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    fig.tight_layout()
    save_png(fig, path, dpi=120)


def plot_conditional(res: BacktestResult, path: str | Path) -> None:
    """Mean holdout repeat transactions per customer by calibration frequency x = 0..6, 7+."""
    rows = res.conditional_rows()
    x = np.arange(len(X_LABELS))

    def col(name):
        return [r[name] for r in rows]

    fig = Figure(figsize=(7, 4.5))
    ax = fig.subplots()
    ax.plot(x, col("actual"), color=ACTUAL, marker="o", lw=1.8, label="actual")
    ax.plot(
        x,
        col("bgnbd"),
        color=BGNBD,
        marker="s",
        ls="--",
        lw=1.5,
        label="BG/NBD conditional expectation",
    )
    ax.plot(
        x,
        col("engine"),
        color=ENGINE,
        marker="^",
        lw=1.5,
        label="engine (simulated customers by their simulated x)",
    )
    ax.plot(
        x,
        col("engine_bgnbd"),
        color=ENGINE,
        ls=":",
        marker="x",
        lw=1,
        label="BG/NBD conditional expectation of the simulated customers",
    )
    ax.set_xticks(x, X_LABELS)
    ax.set_xlabel(f"repeat transactions in the calibration period ({res.cal_weeks} weeks)")
    ax.set_ylabel(f"mean repeat transactions in weeks {res.cal_weeks + 1}-{res.n_weeks}")
    ax.set_title("Conditional expectations of holdout purchasing", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    fig.tight_layout()
    save_png(fig, path, dpi=120)
