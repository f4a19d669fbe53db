"""Chart helpers: log axes read as plain numbers."""

from __future__ import annotations

import matplotlib.pyplot as plt

from simulator.reports.run_plots import plain_log_ticks


def labels(lo, hi):
    fig, ax = plt.subplots()
    ax.set_yscale("log")
    ax.set_ylim(lo, hi)
    plain_log_ticks(ax.yaxis)
    fig.canvas.draw()

    def shown(minor):
        ticks = zip(
            ax.yaxis.get_ticklocs(minor=minor), ax.yaxis.get_ticklabels(minor=minor), strict=True
        )
        return [t.get_text() for loc, t in ticks if lo <= loc <= hi and t.get_text()]

    out = shown(False), shown(True)
    plt.close(fig)
    return out


def test_narrow_log_axis_labels_decades_and_2_3_5():
    major, minor = labels(25, 700)
    assert major == ["100"]
    assert minor == ["30", "50", "200", "300", "500"]


def test_wide_log_axis_labels_decades_only_with_separators():
    major, minor = labels(500, 2e6)
    assert major == ["1,000", "10,000", "100,000", "1,000,000"]
    assert minor == []
