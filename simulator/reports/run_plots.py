"""Campaign-review plots of one run: lifecycle over time, daily GMV by member type, recruitment.

Every chart shades the calendar's phases so a reader sees what happened when.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from simulator.domain.lifecycle import STATES
from simulator.engine.run import RunResult
from simulator.formatting import grouped
from simulator.reports.charts import format_dates, plain_log_ticks, save_png

STATE_LABELS = {
    "prospect": "prospect",
    "nonmember_buyer": "purchased non-member",
    "enrolled": "enrolled, zero purchase",
    "first_purchase": "first purchase as member",
    "repeat": "repeat buyer",
    "dormant": "dormant",
    "churned": "churned",
}
STATE_COLORS = ["#c7c7c7", "#9ecae1", "#fdd0a2", "#fd8d3c", "#d94801", "#8c6bb1", "#54278f"]
SEGMENT_COLORS = {"old": "#d94801", "new": "#fd8d3c", "non": "#6baed6"}


def shade_phases(ax, run: RunResult) -> None:
    """Shade alternate phases and label each at the top of the axes."""
    dates = np.array(run.dates, dtype="datetime64[D]")
    k = 0
    start = 0
    for d in range(1, len(dates) + 1):
        if d == len(dates) or run.phases[d] != run.phases[start]:
            if run.phases[start]:
                lo, hi = dates[start], dates[d - 1] + np.timedelta64(1, "D")
                ax.axvspan(lo, hi, color="#000000", alpha=0.07 if k % 2 == 0 else 0.02, lw=0)
                ax.axvline(lo, color="#555555", lw=0.5, ls=":")
                mid = lo + (hi - lo) / 2
                ax.text(
                    mid,
                    1.01,
                    run.phases[start].replace("_", " "),
                    rotation=30,
                    transform=ax.get_xaxis_transform(),
                    ha="left",
                    va="bottom",
                    fontsize=7,
                )
                k += 1
            start = d


def _x(run: RunResult) -> np.ndarray:
    """The run's days as datetime64 x values."""
    return np.array(run.dates, dtype="datetime64[D]")


def plot_lifecycle(run: RunResult, path: Path) -> None:
    """Stacked area of shoppers per lifecycle state at the end of each day."""
    fig = Figure(figsize=(10, 5))
    ax = fig.subplots()
    counts = np.array([run.series(s) for s in STATES], dtype=float)
    ax.stackplot(
        _x(run),
        counts / 1e3,
        labels=[STATE_LABELS[s] for s in STATES],
        colors=STATE_COLORS,
        step=None,
    )
    shade_phases(ax, run)
    format_dates(ax)
    ax.set_ylabel("shoppers (thousands)")
    ax.set_xlabel("date")
    ax.set_title(f"{run.scenario.name}: shoppers by lifecycle state", pad=40)
    ax.margins(x=0)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
    fig.tight_layout()
    save_png(fig, path, dpi=120)


def plot_daily_gmv(run: RunResult, path: Path, baseline: RunResult | None = None) -> None:
    """Daily GMV stacked by old member / new member / non-member, baseline as a line."""
    fig = Figure(figsize=(10, 5))
    ax = fig.subplots()
    x = _x(run)
    old, new, non = (
        run.series(n) / 1e4 for n in ("gmv_old_member", "gmv_new_member", "gmv_nonmember")
    )
    # one stepped band per member type (a bar per day would draw 3 x days rectangles)
    edges = np.append(x, x[-1] + np.timedelta64(1, "D")) - np.timedelta64(12, "h")
    bottom = np.zeros(len(x))
    for part, key, label in (
        (old, "old", "old members"),
        (new, "new", "new members"),
        (non, "non", "non-members"),
    ):
        ax.stairs(
            bottom + part, edges, baseline=bottom, fill=True, color=SEGMENT_COLORS[key], label=label
        )
        bottom = bottom + part
    if baseline is not None:
        base = baseline.daily_gmv() / 1e4
        ax.step(x, base, where="mid", color="black", lw=1.2, label="no-campaign baseline")
    shade_phases(ax, run)
    format_dates(ax)
    ax.set_yscale("log")
    plain_log_ticks(ax.yaxis)
    ax.set_ylabel("GMV per day (10k yuan, log scale)")
    ax.set_xlabel("date")
    ax.set_title(f"{run.scenario.name}: daily GMV by member type", pad=40)
    ax.margins(x=0)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    fig.tight_layout()
    save_png(fig, path, dpi=120)


def plot_recruitment(run: RunResult, path: Path) -> None:
    """New members by channel: total per channel and cumulative over the calendar."""
    names = ["organic"] + list(run.layout.channels)
    series = [run.series("enrolments_organic")] + [
        run.series(f"enrolments_channel_{c}") for c in run.layout.channels
    ]
    totals = np.array([s.sum() for s in series])
    fig = Figure(figsize=(12, 4.5))
    ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 2]})
    order = np.argsort(totals)
    ax1.barh([names[k] for k in order], totals[order], color="#fd8d3c")
    for y, k in enumerate(order):
        ax1.text(totals[k], y, f" {grouped(totals[k])}", va="center", fontsize=8)
    ax1.set_xlabel("new members")
    ax1.set_title("recruitment by channel")
    ax1.margins(x=0.25)
    x = _x(run)
    for name, s in zip(names, series, strict=True):
        if s.sum() > 0:
            ax2.plot(x, np.cumsum(s), label=name, lw=1.5)
    shade_phases(ax2, run)
    format_dates(ax2)
    ax2.set_ylabel("cumulative new members")
    ax2.set_xlabel("date")
    ax2.set_title("cumulative recruitment", pad=40)
    ax2.margins(x=0)
    ax2.legend(fontsize=8, frameon=False)
    fig.suptitle(run.scenario.name)
    fig.tight_layout()
    save_png(fig, path, dpi=120)


def plot_run(run: RunResult, folder: Path, baseline: RunResult | None = None) -> list[Path]:
    """Write the three review charts into folder; return their paths."""
    paths = [folder / "lifecycle.png", folder / "daily_gmv.png", folder / "recruitment.png"]
    plot_lifecycle(run, paths[0])
    plot_daily_gmv(run, paths[1], baseline)
    plot_recruitment(run, paths[2])
    return paths
