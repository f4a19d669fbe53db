"""Chart helpers: axes read as plain numbers; charts written atomically with normal modes."""

from __future__ import annotations

import os
import stat
from types import SimpleNamespace

import pytest
from matplotlib.figure import Figure

from simulator.reports.charts import plain_log_ticks, readable_axis, save_png


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


def test_linear_axis_reads_as_millions_without_an_offset():
    fig = Figure()
    ax = fig.subplots()
    ax.plot([0, 1], [8.88e6, 8.91e6])
    readable_axis(ax.yaxis)
    fig.draw_without_rendering()
    lo, hi = ax.get_ylim()
    ticks = zip(ax.get_yticklabels(), ax.get_yticks(), strict=True)
    texts = [t.get_text() for t, v in ticks if lo <= v <= hi]
    assert texts and all(t.endswith("M") and t.startswith("8.") for t in texts)
    assert len(set(texts)) == len(texts)  # neighbouring ticks are told apart
    assert ax.yaxis.get_offset_text().get_text() == ""


def drawn_figures(monkeypatch, module):
    """Figures a chart module saves, drawn but not written (the module's `save_png` replaced)."""
    figures = []

    def keep(fig, path, dpi, tight=False):
        fig.draw_without_rendering()
        figures.append(fig)

    monkeypatch.setattr(module, "save_png", keep)
    return figures


def test_daily_gmv_is_stacked_on_a_linear_axis_with_readable_ticks(monkeypatch, tmp_path):
    from simulator.engine.run import simulate
    from simulator.reports import run_plots
    from simulator.scenario.load import load_scenario

    sc = load_scenario("scenarios/double11_2021.yaml")
    base = load_scenario("scenarios/no_campaign.yaml")
    run, baseline = simulate(sc, shoppers=3000), simulate(base, seed=sc.seed, shoppers=3000)
    figures = drawn_figures(monkeypatch, run_plots)
    run_plots.plot_daily_gmv(run, tmp_path / "daily_gmv.png", baseline)
    gmv_ax, share_ax = figures[0].axes
    assert gmv_ax.get_yscale() == share_ax.get_yscale() == "linear"
    # the stack's top is the day's GMV; the old members' band starts at zero
    bands = {p.get_label(): p for p in gmv_ax.patches}
    old, non = bands["old members"], bands["non-members"]
    assert old.get_data().baseline == pytest.approx(0)
    assert non.get_data().values == pytest.approx(run.daily_gmv())
    assert gmv_ax.get_ylim()[0] == 0
    labels = [t.get_text() for t in gmv_ax.get_yticklabels() if t.get_text()]
    assert labels and not any("e" in t for t in labels) and any(t.endswith("k") for t in labels)
    assert gmv_ax.yaxis.get_offset_text().get_text() == ""
    assert "no-campaign baseline" in [line.get_label() for line in gmv_ax.lines]


def test_sweep_heatmap_cells_and_colorbar_read_as_numbers(monkeypatch, tmp_path):
    from simulator.reports import sweep_plots

    factors = (
        SimpleNamespace(path="benefits.member_coupon.offer.amount_off"),
        SimpleNamespace(path="plan.coupon_sms.audience"),
    )
    values = {("10", "a"): 7.995e6, ("10", "b"): 8.01e6, ("20", "a"): 8.2e6, ("20", "b"): 8.31e6}
    points = [
        SimpleNamespace(
            labels={factors[0].path: r, factors[1].path: c},
            kpis=[{"gmv": v}, {"gmv": v * 1.001}],
            status="ok",
        )
        for (r, c), v in values.items()
    ]
    design = SimpleNamespace(kind="grid", factors=factors)
    result = SimpleNamespace(plan=SimpleNamespace(design=design), points=points)
    figures = drawn_figures(monkeypatch, sweep_plots)
    sweep_plots._heatmap(result, points, "gmv", tmp_path / "gmv.png")
    ax, bar = figures[0].axes
    cells = sorted(t.get_text() for t in ax.texts)
    assert cells == ["7.999M", "8.014M", "8.204M", "8.314M"]
    ticks = [t.get_text() for t in bar.get_yticklabels() if t.get_text()]
    assert ticks and all(t.endswith("M") for t in ticks)
    assert bar.yaxis.get_offset_text().get_text() == ""
    # the long factor path is wrapped so the rotated label fits beside the axes, under the title
    assert "\n" in ax.get_ylabel()
