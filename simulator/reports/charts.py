"""What every chart shares: saving a figure safely, date axes, numbers read plainly, CI bars.

Charts are `matplotlib.figure.Figure` objects, never pyplot's global figures, so drawing one
changes no state of the caller (its backend, its open figures) and needs no display.
"""

from __future__ import annotations

import io
import math
import textwrap
from pathlib import Path

import matplotlib.dates as mdates
import matplotlib.ticker as mticker
import numpy as np
from matplotlib.figure import Figure

from simulator.files import atomic_write_bytes
from simulator.formatting import axis_number, compact_number, tick_number


def save_png(fig: Figure, path: str | Path, dpi: int, tight: bool = False) -> None:
    """Render the figure to PNG in memory and write it atomically (never a half-written chart).

    tight: crop the image to what is drawn (`bbox_inches="tight"`).
    """
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight" if tight else None)
    atomic_write_bytes(path, buf.getvalue())


def format_dates(ax) -> None:
    """Month-day tick labels on a date axis."""
    ax.xaxis.set_major_locator(mdates.AutoDateLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d"))


def plain_log_ticks(axis) -> None:
    """Plain numbers (30, 100, 10,000) on a log axis instead of 3x10^1.

    Easier to read, and matplotlib's math-text labels were half the time of drawing a chart.
    Minor ticks at 2, 3 and 5 x 10^k are labelled when the axis spans at most two decades.
    """

    def minor(v: float, _pos) -> str:
        lo, hi = axis.get_view_interval()
        if v <= 0 or hi > 100 * max(lo, 1e-300):
            return ""
        mantissa = v / 10 ** math.floor(math.log10(v) + 1e-9)
        return tick_number(v) if round(mantissa) in (2, 3, 5) else ""

    axis.set_major_formatter(mticker.FuncFormatter(lambda v, _pos: tick_number(v)))
    axis.set_minor_formatter(mticker.FuncFormatter(minor))


class ReadableFormatter(mticker.Formatter):
    """Tick labels of a linear axis as people write them: 8.88M, 201k, 0.62 (`axis_number`).

    Unlike matplotlib's default there is never a "1e6" or "+8.8e6" offset text to look up (it
    also collided with titles): every label carries its own unit.
    """

    ticks: tuple[float, ...] = ()

    def set_locs(self, locs) -> None:
        """Remember the axis's tick values: each label is written as its neighbours are."""
        self.ticks = tuple(locs)

    def __call__(self, x, pos=None) -> str:
        """The label of the tick at x, in the unit and decimals the visible ticks share."""
        if self.axis is None:
            return axis_number(x, self.ticks or (x,))
        lo, hi = sorted(self.axis.get_view_interval())
        slack = 1e-9 * (hi - lo)
        shown = [t for t in self.ticks if lo - slack <= t <= hi + slack]
        return axis_number(x, shown or (x,))


def readable_axis(axis) -> None:
    """Label a linear axis (`ax.yaxis`, a colorbar's `cbar.ax.yaxis`) with `ReadableFormatter`."""
    axis.set_major_formatter(ReadableFormatter())


def ci_barh(ax, y, values, low, high, color, notes=None, signed: bool = False) -> None:
    """Horizontal bars from zero with 95% CI whiskers, each labelled beyond its whisker.

    values, low, high: arrays (NaN where missing); notes: what to write instead of a missing
    bar (e.g. why a ratio is no number); signed: labels with their sign (+28.8k), for
    differences.
    """
    v = np.asarray(values, float)
    err = np.nan_to_num(np.vstack([v - np.asarray(low, float), np.asarray(high, float) - v]))
    ax.barh(y, np.nan_to_num(v), xerr=err, capsize=4, color=color)
    ax.axvline(0, color="black", lw=0.8)
    for k in range(len(v)):
        if np.isnan(v[k]):
            note = notes[k] if notes is not None and notes[k] else "n/a"
            ax.text(0, y[k], " " + textwrap.fill(note, 32), va="center", fontsize=7)
            continue
        end = v[k] + err[1, k] if v[k] >= 0 else v[k] - err[0, k]
        text = ("+" if signed and v[k] > 0 else "") + compact_number(v[k])
        ha = "left" if v[k] >= 0 else "right"
        ax.text(end, y[k], f" {text} ", ha=ha, va="center", fontsize=8)
    ax.margins(x=0.2)  # room for the labels
    ends = np.concatenate([v - err[0], v + err[1]])
    if not np.nanmax(np.abs(ends), initial=0.0) > 0:  # all zero (identical scenarios)
        ax.set_xlim(-1, 1)
    readable_axis(ax.xaxis)
