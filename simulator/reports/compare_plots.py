"""Charts of a strategy comparison: KPI bars with CIs, cumulative incremental GMV, funnels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from simulator.analysis.experiment import FUNNEL, Comparison
from simulator.analysis.stats import estimate
from simulator.formatting import grouped
from simulator.reports.charts import format_dates, plain_log_ticks, save_png

BAR_KPIS = (
    ("gmv", "GMV (million yuan)", 1e-6),
    ("member_gmv_penetration", "member GMV penetration", 1),
    ("new_members", "new members (thousands)", 1e-3),
    ("new_member_first_purchase_rate", "new-member first-purchase rate", 1),
    ("old_member_gmv_share", "old-member GMV share", 1),
    ("member_arpu", "member ARPU (yuan)", 1),
    ("old_member_premium", "old-member premium", 1),
    ("cost", "cost (million yuan)", 1e-6),
)
COLORS = ["#7f7f7f", "#d94801", "#2171b5", "#238b45", "#6a51a3", "#cb181d"]


def plot_kpi_bars(cmp: Comparison, path: Path) -> None:
    """One panel per headline KPI: mean per scenario with its 95% CI."""
    names = cmp.meta["scenarios"]
    fig = Figure(figsize=(14, 6.5))
    axes = fig.subplots(2, 4)
    for ax, (kpi, label, scale) in zip(axes.flat, BAR_KPIS, strict=True):
        rows = {r["scenario"]: r for r in cmp.rows if r["kpi"] == kpi}
        means = np.array([rows[n]["mean"] * scale if n in rows else np.nan for n in names])
        lo = np.array([rows[n]["ci_low"] * scale if n in rows else np.nan for n in names])
        hi = np.array([rows[n]["ci_high"] * scale if n in rows else np.nan for n in names])
        err = np.nan_to_num(np.vstack([means - lo, hi - means]))
        x = np.arange(len(names))
        ax.bar(x, means, yerr=err, capsize=4, color=COLORS[: len(names)])
        ax.set_title(label, fontsize=10)
        ax.set_xticks(x, [n.replace("_", " ") for n in names], rotation=20, ha="right", fontsize=8)
    fig.suptitle(
        f"Strategies compared: mean of {cmp.meta['reps']} replications, "
        f"95% CI ({cmp.meta['random_numbers']} random numbers)"
    )
    fig.tight_layout()
    save_png(fig, path, dpi=120)


def plot_incremental_gmv(cmp: Comparison, path: Path) -> None:
    """Cumulative GMV over the baseline, day by day, with a pointwise 95% band."""
    base = np.array(cmp.results[0].daily_gmv)
    dates = np.array(cmp.results[0].scenario.days, dtype="datetime64[D]")
    fig = Figure(figsize=(10, 5))
    ax = fig.subplots()
    for k, res in enumerate(cmp.results[1:], start=1):
        diff = np.cumsum(np.array(res.daily_gmv) - base, axis=1) / 1e6
        m, lo, hi, _, _ = estimate(diff, axis=0)  # every day at once
        ax.plot(dates, m, color=COLORS[k], lw=2, label=res.name.replace("_", " "))
        ax.fill_between(dates, lo, hi, color=COLORS[k], alpha=0.25, lw=0)
    ax.axhline(0, color="black", lw=0.8)
    format_dates(ax)
    ax.set_ylabel("cumulative incremental GMV (million yuan)")
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
    """Write the three comparison charts into folder."""
    paths = [folder / "kpi_bars.png", folder / "incremental_gmv.png", folder / "funnel.png"]
    plot_kpi_bars(cmp, paths[0])
    plot_incremental_gmv(cmp, paths[1])
    plot_funnel(cmp, paths[2])
    return paths
