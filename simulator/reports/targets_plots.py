"""The chart of a targets fit: achieved (mean, 95% CI) against each target and its tolerance."""

from __future__ import annotations

import math
from pathlib import Path

from matplotlib.figure import Figure

from simulator.fitting.targets.search import FitResult
from simulator.reports.charts import save_png


def plot_targets(result: FitResult, path: str | Path) -> None:
    """Achieved (mean, 95% CI) vs target with its tolerance band, one row per target."""
    specs = list(result.problem.spec.targets.items())
    fig = Figure(figsize=(8, 1.15 * len(specs) + 0.9), layout="constrained")
    axes = fig.subplots(len(specs), 1, squeeze=False)
    for j, (name, t) in enumerate(specs):
        ax = axes[j, 0]
        m, lo, hi = result.best.mean[j], result.best.ci_low[j], result.best.ci_high[j]
        ok = result.met[j]
        ax.axvspan(
            t.value - t.tolerance,
            t.value + t.tolerance,
            color="#2ca02c",
            alpha=0.18,
            lw=0,
            label="target ± tolerance",
        )
        ax.axvline(t.value, color="#2ca02c", lw=1.5, label="target")
        s = result.start.mean[j]
        if math.isfinite(s):
            ax.plot([s], [0], "o", mfc="none", mec="#777777", label="start")
        if math.isfinite(m):
            err = [[m - lo], [hi - m]] if math.isfinite(lo) else None
            ax.errorbar(
                [m],
                [0],
                xerr=err,
                fmt="o",
                color="#1f77b4" if ok else "#d62728",
                capsize=4,
                label="fitted (mean, 95% CI)",
            )
        pts = [
            x
            for x in (t.value - 1.6 * t.tolerance, t.value + 1.6 * t.tolerance, m, lo, hi, s)
            if math.isfinite(x)
        ]
        pad = 0.05 * (max(pts) - min(pts))
        ax.set_xlim(min(pts) - pad, max(pts) + pad)
        ax.set_yticks([])
        ax.set_ylim(-1, 1)
        where = f" [{'+'.join(t.phases)}]" if t.phases else ""
        vs = {"ratio": " / baseline", "difference": " − baseline"}.get(t.compare or "", "")
        ax.set_title(
            f"{name}: {t.kpi}{where}{vs} — {'met' if ok else 'NOT met'}",
            fontsize=9,
            loc="left",
            color="black" if ok else "#d62728",
        )
        ax.tick_params(labelsize=8)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    for ax in axes[1:, 0]:  # a later row may show a marker the first lacks (undefined start)
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(
        handles,
        labels,
        fontsize=7,
        loc="outside upper center",
        ncol=4,
        frameon=False,
        title=f"{result.problem.scenario.name}: achieved vs targets (distance "
        f"{result.best.distance:.3g})",
        title_fontsize=10,
    )
    save_png(fig, path, dpi=110)
