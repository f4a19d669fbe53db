"""Chart of touch economics: spend against budget, contacts, and what each touch adds.

One horizontal bar per touch (per scenario and touch in a comparison). Without marginal runs:
spend against budget and contacts. With them (--touch-roi): spend against budget, marginal
incremental GMV and marginal ROI, each with its 95% CI; a ROI that is no number
(`pairs.ratio_estimate`) is written as why instead of a bar.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from simulator.formatting import compact_number
from simulator.reports.charts import ci_barh, readable_axis, save_png

SPEND, BUDGET, GAIN, ROI = "#2171b5", "#c6dbef", "#238b45", "#d94801"


def _labels(rows: list[dict]) -> list[str]:
    """Touch names, prefixed by their scenario when there are several scenarios."""
    several = len({r["scenario"] for r in rows}) > 1
    return [f"{r['scenario']}: {r['touch']}" if several else r["touch"] for r in rows]


def _field(rows: list[dict], key: str) -> np.ndarray:
    """A field of the rows as floats, NaN where missing."""
    return np.array([np.nan if r.get(key) is None else r[key] for r in rows], float)


def bar_panel(ax, rows: list[dict], y: np.ndarray, key: str, title: str, color: str) -> None:
    """Bars of a field with its 95% CI whiskers; a missing ROI is written as its note."""
    low, high = _field(rows, key + "_ci_low"), _field(rows, key + "_ci_high")
    notes = [r.get("roi_note") for r in rows]
    ci_barh(ax, y, _field(rows, key), low, high, color, notes)
    ax.set_title(title, fontsize=10)


def spend_panel(ax, rows: list[dict], y: np.ndarray) -> None:
    """Spend over budget (scaled to the run's shoppers), the share used written at the bar."""
    budget = np.array([r["budget_scaled"] or 0.0 for r in rows])
    spend = np.array([r["spend"] for r in rows])
    ax.barh(y, budget, color=BUDGET, label="budget")
    ax.barh(y, spend, height=0.5, color=SPEND, label="spend")
    for k, r in enumerate(rows):
        use = f" ({r['budget_use']:.0%} of budget)" if r["budget_use"] is not None else ""
        ax.text(max(spend[k], budget[k]), y[k], f" {compact_number(spend[k])}{use}", va="center")
    ax.set_title("spend (contact cost) and budget", fontsize=10)
    ax.set_xlim(0, max(budget.max(), spend.max(), 1) * 1.6)  # room for the labels
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    readable_axis(ax.xaxis)


def plot_touches(rows: list[dict], path: Path) -> None:
    """Write the touch economics chart of touch rows (`touches.touch_rows`) to path."""
    marginal = any(r["incremental_gmv"] is not None for r in rows)
    labels = _labels(rows)
    y = np.arange(len(rows))[::-1]
    panels = 3 if marginal else 2
    fig = Figure(figsize=(5.5 * panels, 1.2 + 0.55 * len(rows)))
    axes = fig.subplots(1, panels, sharey=True)
    spend_panel(axes[0], rows, y)
    if marginal:
        title = "marginal incremental GMV (with vs without, 95% CI)"
        bar_panel(axes[1], rows, y, "incremental_gmv", title, GAIN)
        bar_panel(axes[2], rows, y, "roi", "marginal ROI (incr. GMV / incr. cost, 95% CI)", ROI)
    else:
        bar_panel(axes[1], rows, y, "contacts", "contacts", GAIN)
    axes[0].set_yticks(y, labels, fontsize=8)
    fig.suptitle("Touch economics: what each touch spent and, with --touch-roi, added")
    fig.tight_layout()
    save_png(fig, path, dpi=110)
