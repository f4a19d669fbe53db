"""Campaign-review plots of one run: lifecycle over time, daily GMV by member type, recruitment.

Every chart shades the calendar's phases so a reader sees what happened when.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from simulator.domain.lifecycle import STATES
from simulator.engine.run import RunResult
from simulator.formatting import grouped
from simulator.reports.charts import format_dates, readable_axis, save_png

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
SEGMENT_LABELS = {"old": "old members", "new": "new members", "non": "non-members"}


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
        counts,
        labels=[STATE_LABELS[s] for s in STATES],
        colors=STATE_COLORS,
        step=None,
    )
    shade_phases(ax, run)
    format_dates(ax)
    readable_axis(ax.yaxis)
    ax.set_ylabel("shoppers")
    ax.set_xlabel("date")
    ax.set_title(f"{run.scenario.name}: shoppers by lifecycle state", pad=40)
    ax.margins(x=0)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
    fig.tight_layout()
    save_png(fig, path, dpi=120)


def plot_daily_gmv(run: RunResult, path: Path, baseline: RunResult | None = None) -> None:
    """Daily GMV stacked by old member / new member / non-member, baseline as a line.

    A linear axis, so each band's height is its GMV (on a log axis the bottom band of a stack
    looks like nothing); below it, each member type's share of the day's GMV, which shows the
    quiet days that the peak days dwarf above.
    """
    fig = Figure(figsize=(10, 6.5))
    ax, share_ax = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1.2]})
    x = _x(run)
    parts = [
        (run.series(f"gmv_{name}"), key, SEGMENT_LABELS[key])
        for name, key in (("old_member", "old"), ("new_member", "new"), ("nonmember", "non"))
    ]
    total = sum(part for part, _, _ in parts)
    # one stepped band per member type (a bar per day would draw 3 x days rectangles)
    edges = np.append(x, x[-1] + np.timedelta64(1, "D")) - np.timedelta64(12, "h")
    bottom = np.zeros(len(x))
    share_bottom = np.zeros(len(x))
    for part, key, label in parts:
        share = np.divide(part, total, out=np.zeros(len(x)), where=total > 0)
        for a, b, v in ((ax, bottom, part), (share_ax, share_bottom, share)):
            a.stairs(b + v, edges, baseline=b, fill=True, color=SEGMENT_COLORS[key], label=label)
        bottom, share_bottom = bottom + part, share_bottom + share
    if baseline is not None:
        base = baseline.daily_gmv()
        ax.step(x, base, where="mid", color="black", lw=1.2, label="no-campaign baseline")
    shade_phases(ax, run)
    format_dates(share_ax)
    readable_axis(ax.yaxis)
    ax.set_ylabel("GMV per day (yuan)")
    ax.set_title(f"{run.scenario.name}: daily GMV by member type", pad=40)
    ax.margins(x=0)
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    share_ax.set_ylim(0, 1)
    share_ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    share_ax.set_ylabel("share of the day")
    share_ax.set_xlabel("date")
    share_ax.margins(x=0)
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
    readable_axis(ax1.xaxis)
    ax1.set_xlabel("new members")
    ax1.set_title("recruitment by channel")
    ax1.margins(x=0.25)
    x = _x(run)
    for name, s in zip(names, series, strict=True):
        if s.sum() > 0:
            ax2.plot(x, np.cumsum(s), label=name, lw=1.5)
    shade_phases(ax2, run)
    format_dates(ax2)
    readable_axis(ax2.yaxis)
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
