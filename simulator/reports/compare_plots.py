"""Charts of a strategy comparison: differences with CIs, increments, cumulative GMV, funnels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from simulator.analysis.experiment import FUNNEL, Comparison
from simulator.analysis.stats import estimate
from simulator.formatting import compact_number, grouped
from simulator.reports.charts import (
    ci_barh,
    format_dates,
    plain_log_ticks,
    readable_axis,
    save_png,
)

BAR_KPIS = (
    ("gmv", "GMV"),
    ("member_gmv_penetration", "member GMV penetration"),
    ("new_members", "new members"),
    ("new_member_first_purchase_rate", "new-member first-purchase rate"),
    ("old_member_gmv_share", "old-member GMV share"),
    ("member_arpu", "member ARPU (yuan)"),
    ("old_member_premium", "old-member premium"),
    ("cost", "cost (yuan)"),
)
INCREMENTAL = (
    ("incremental_gmv", "incremental GMV (yuan)"),
    ("incremental_cost", "incremental cost (yuan)"),
    ("roi", "ROI (incr. GMV / incr. cost)"),
    ("incremental_profit", "incremental profit (yuan)"),
)
COLORS = ["#7f7f7f", "#d94801", "#2171b5", "#238b45", "#6a51a3", "#cb181d"]


def _of(cmp: Comparison, kpi: str, keys: tuple[str, str, str]) -> tuple[np.ndarray, ...]:
    """The alternatives' `keys` (value, low, high) of a KPI's rows, NaN where missing."""
    rows = {r["scenario"]: r for r in cmp.rows if r["kpi"] == kpi}
    alts = cmp.meta["scenarios"][1:]
    return tuple(
        np.array([np.nan if rows.get(n, {}).get(k) is None else rows[n][k] for n in alts])
        for k in keys
    )


def _labels(cmp: Comparison) -> list[str]:
    """The alternatives' names as axis labels."""
    return [n.replace("_", " ") for n in cmp.meta["scenarios"][1:]]


def plot_kpi_bars(cmp: Comparison, path: Path) -> None:
    """One panel per headline KPI: each alternative's difference from the baseline, 95% CI.

    Differences, not levels from zero: 8.88M and 8.91M GMV cannot be told apart as bars from
    zero, their paired difference of +28.8k with its CI can.
    """
    base = cmp.meta["baseline"]
    y = np.arange(len(cmp.meta["scenarios"]) - 1)[::-1]
    fig = Figure(figsize=(16, 3 + 1.2 * len(y)))
    axes = fig.subplots(2, 4, sharey=True)
    colors = COLORS[1 : len(y) + 1]
    for ax, (kpi, label) in zip(axes.flat, BAR_KPIS, strict=True):
        diff, low, high = _of(cmp, kpi, ("diff", "diff_ci_low", "diff_ci_high"))
        ci_barh(ax, y, diff, low, high, colors, signed=True)
        level = next((r["mean"] for r in cmp.rows if (r["scenario"], r["kpi"]) == (base, kpi)), 0)
        ax.set_title(f"{label}\n(baseline {compact_number(level)})", fontsize=9)
    for ax in axes[:, 0]:
        ax.set_yticks(y, _labels(cmp), fontsize=8)
    fig.suptitle(
        f"Difference from {base.replace('_', ' ')}: mean of {cmp.meta['reps']} paired "
        f"replications with 95% CI ({cmp.meta['random_numbers']} random numbers)"
    )
    fig.tight_layout()
    save_png(fig, path, dpi=110)


def plot_increments(cmp: Comparison, path: Path) -> None:
    """Incremental GMV, cost, ROI (and profit) of each alternative over the baseline, 95% CI.

    A ROI that is no number (`pairs.ratio_estimate`) is written as why, not drawn.
    """
    shown = [(k, t) for k, t in INCREMENTAL if any(r["kpi"] == k for r in cmp.rows)]
    y = np.arange(len(cmp.meta["scenarios"]) - 1)[::-1]
    fig = Figure(figsize=(4.5 * len(shown), 1.8 + 0.7 * len(y)))
    axes = fig.subplots(1, len(shown), sharey=True)
    colors = COLORS[1 : len(y) + 1]
    for ax, (kpi, title) in zip(axes, shown, strict=True):
        mean, low, high = _of(cmp, kpi, ("mean", "ci_low", "ci_high"))
        notes = [
            next((r["note"] for r in cmp.rows if (r["scenario"], r["kpi"]) == (n, kpi)), "")
            for n in cmp.meta["scenarios"][1:]
        ]
        ci_barh(ax, y, mean, low, high, colors, notes, signed=kpi != "roi")
        ax.set_title(title, fontsize=10)
    axes[0].set_yticks(y, _labels(cmp), fontsize=9)
    fig.suptitle(f"Against {cmp.meta['baseline'].replace('_', ' ')} (mean and 95% CI)")
    fig.tight_layout()
    save_png(fig, path, dpi=110)


def plot_incremental_gmv(cmp: Comparison, path: Path) -> None:
    """Cumulative GMV over the baseline, day by day, with a pointwise 95% band."""
    base = np.array(cmp.results[0].daily_gmv)
    dates = np.array(cmp.results[0].scenario.days, dtype="datetime64[D]")
    fig = Figure(figsize=(10, 5))
    ax = fig.subplots()
    for k, res in enumerate(cmp.results[1:], start=1):
        diff = np.cumsum(np.array(res.daily_gmv) - base, axis=1)
        m, lo, hi, _, _ = estimate(diff, axis=0)  # every day at once
        ax.plot(dates, m, color=COLORS[k], lw=2, label=res.name.replace("_", " "))
        ax.fill_between(dates, lo, hi, color=COLORS[k], alpha=0.25, lw=0)
    ax.axhline(0, color="black", lw=0.8)
    format_dates(ax)
    ax.set_ylabel("cumulative incremental GMV (yuan)")
    readable_axis(ax.yaxis)
    ax.set_xlabel("date")
    ax.set_title(
        f"Incremental GMV over {cmp.meta['baseline'].replace('_', ' ')} (mean and 95% band)"
    )
    ax.margins(x=0)
    ax.legend(frameon=False)
    fig.tight_layout()
    save_png(fig, path, dpi=120)


def plot_funnel(cmp: Comparison, path: Path) -> None:
    """Recruitment funnel per scenario: non-members → new members → first purchase → repeat."""
    fig = Figure(figsize=(10, 5))
    ax = fig.subplots()
    n = len(cmp.results)
    width = 0.8 / n
    x = np.arange(len(FUNNEL))
    for k, res in enumerate(cmp.results):
        counts = np.array(res.funnel, dtype=float).mean(axis=0)
        bars = ax.bar(
            x + (k - (n - 1) / 2) * width,
            counts,
            width,
            color=COLORS[k],
            label=res.name.replace("_", " "),
        )
        for b, c in zip(bars, counts, strict=True):
            ax.text(
                b.get_x() + b.get_width() / 2,
                c,
                grouped(c),
                ha="center",
                va="bottom",
                fontsize=7,
                rotation=90,
            )
    ax.set_yscale("log")
    plain_log_ticks(ax.yaxis)
    ax.set_ylim(top=ax.get_ylim()[1] * 3)  # room for the labels
    ax.set_xticks(x, FUNNEL)
    ax.set_ylabel("shoppers (mean over replications, log scale)")
    ax.set_title(
        "Membership funnel: non-members at the start → new members → first purchase "
        "as member → repeat"
    )
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    save_png(fig, path, dpi=120)


def plot_comparison(cmp: Comparison, folder: Path) -> list[Path]:
    """Write the comparison charts into folder."""
    names = ("kpi_bars.png", "increments.png", "incremental_gmv.png", "funnel.png")
    paths = [folder / n for n in names]
    plot_kpi_bars(cmp, paths[0])
    plot_increments(cmp, paths[1])
    plot_incremental_gmv(cmp, paths[2])
    plot_funnel(cmp, paths[3])
    return paths
