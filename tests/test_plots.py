"""Chart helpers: log axes read as plain numbers; charts written atomically with normal modes."""

from __future__ import annotations

import os
import stat

import pytest
from matplotlib.figure import Figure

from simulator.reports.charts import plain_log_ticks, save_png


def labels(lo, hi):
    fig = Figure()
    ax = fig.subplots()
    ax.set_yscale("log")
    ax.set_ylim(lo, hi)
    plain_log_ticks(ax.yaxis)
    fig.draw_without_rendering()

    def shown(minor):
        ticks = zip(
            ax.yaxis.get_ticklocs(minor=minor), ax.yaxis.get_ticklabels(minor=minor), strict=True
        )
        return [t.get_text() for loc, t in ticks if lo <= loc <= hi and t.get_text()]

    return shown(False), shown(True)


def test_narrow_log_axis_labels_decades_and_2_3_5():
    major, minor = labels(25, 700)
    assert major == ["100"]
    assert minor == ["30", "50", "200", "300", "500"]


def test_wide_log_axis_labels_decades_only_with_separators():
    major, minor = labels(500, 2e6)
    assert major == ["1,000", "10,000", "100,000", "1,000,000"]
    assert minor == []


def test_save_png_writes_a_whole_chart_with_normal_mode(tmp_path):
    fig = Figure(figsize=(2, 2))
    fig.subplots().plot([1, 2, 3])
    old = os.umask(0o022)
    try:
        save_png(fig, tmp_path / "chart.png", dpi=50)
    finally:
        os.umask(old)
    data = (tmp_path / "chart.png").read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 100
    assert stat.S_IMODE((tmp_path / "chart.png").stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["chart.png"]  # no temporary file left


def test_a_failed_chart_leaves_the_previous_file(tmp_path, monkeypatch):
    (tmp_path / "chart.png").write_bytes(b"previous")
    fig = Figure(figsize=(2, 2))

    def broken(*args, **kwargs):
        raise RuntimeError("killed while drawing")

    monkeypatch.setattr(fig, "savefig", broken)
    with pytest.raises(RuntimeError):
        save_png(fig, tmp_path / "chart.png", dpi=50)
    assert (tmp_path / "chart.png").read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["chart.png"]
