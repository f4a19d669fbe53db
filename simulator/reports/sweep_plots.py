"""Sweep charts: KPI response curves or heatmaps (grids), scatters (random designs), Sobol bars."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from simulator.analysis.stats import mean_ci
from simulator.formatting import compact_number
from simulator.reports.charts import readable_axis, save_png

PLOT_KPIS = ("roi", "incremental_gmv", "member_gmv_penetration", "cost")
DPI = 110
LABEL_WIDTH = 22  # a factor's dotted path is broken into lines of about this many characters


def _as_numbers(labels: list[str]) -> list[float] | None:
    """Labels as numbers when they all are."""
    try:
        return [float(v) for v in labels]
    except ValueError:
        return None


def wrapped_path(path: str, width: int = LABEL_WIDTH) -> str:
    """A dotted path broken at its dots into lines of about `width` characters (axis labels)."""
    lines = [""]
    for part in path.split("."):
        piece = part if not lines[-1] else "." + part
        if lines[-1] and len(lines[-1]) + len(piece) > width:
            lines.append(piece)
        else:
            lines[-1] += piece
    return "\n".join(lines)


def _stats(point, kpi):
    """(mean, half-width of the 95% CI) of a point's KPI (NaN when n/a)."""
    m, lo, hi = mean_ci([k.get(kpi) for k in point.kpis])
    return m, (hi - lo) / 2 if np.isfinite(lo) else 0.0


def plot_sweep(result, folder: Path, sobol_rows: list[dict] | None = None) -> list[Path]:
    """Write the charts of a sweep into `folder`; return their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = result.kpi_names()
    kpis = [k for k in PLOT_KPIS if k in names] or names[:6]
    ok = [p for p in result.points if p.status == "ok"]
    design = result.plan.design
    written = []
    if ok:
        for kpi in kpis:
            path = folder / f"{kpi}.png"
            if design.kind == "grid" and len(design.factors) == 2:
                _heatmap(result, ok, kpi, path)
            else:
                _curves(result, ok, kpi, path)
            written.append(path)
    if sobol_rows:
        shown = (
            list(dict.fromkeys(r["kpi"] for r in sobol_rows if r["kpi"] in kpis))
            or list(dict.fromkeys(r["kpi"] for r in sobol_rows))[:6]
        )
        for kpi in shown:
            path = folder / f"sobol_{kpi}.png"
            _sobol_bars([r for r in sobol_rows if r["kpi"] == kpi], kpi, path)
            written.append(path)
    return written


def _heatmap(result, ok, kpi, path):
    """Mean KPI over a two-factor grid, annotated."""
    f0, f1 = result.plan.design.factors
    rows = [p.labels[f0.path] for p in result.points]
    cols = [p.labels[f1.path] for p in result.points]
    r_vals, c_vals = list(dict.fromkeys(rows)), list(dict.fromkeys(cols))
    grid = np.full((len(r_vals), len(c_vals)), np.nan)
    for p in ok:
        grid[r_vals.index(p.labels[f0.path]), c_vals.index(p.labels[f1.path])] = _stats(p, kpi)[0]
    fig = Figure(figsize=(2.4 + 1.3 * len(c_vals), max(3.2, 1.4 + 0.7 * len(r_vals))))
    ax = fig.subplots()
    im = ax.imshow(grid, cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(c_vals)), c_vals, rotation=30, ha="right")
    ax.set_yticks(range(len(r_vals)), r_vals)
    ax.set_xlabel(wrapped_path(f1.path))
    ax.set_ylabel(wrapped_path(f0.path))
    finite = grid[np.isfinite(grid)]
    mid = (finite.min() + finite.max()) / 2 if finite.size else 0.0
    for (i, j), v in np.ndenumerate(grid):
        if np.isfinite(v):
            ax.text(
                j,
                i,
                compact_number(v, 4),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if v < mid else "black",
            )
    readable_axis(fig.colorbar(im, ax=ax, label=kpi).ax.yaxis)
    ax.set_title(f"{kpi} (mean over replications)", pad=10)
    save_png(fig, path, dpi=DPI, tight=True)


def _curves(result, ok, kpi, path):
    """KPI response to each factor: means with 95% CIs (grid: averaged over the other factors)."""
    factors = result.plan.design.factors
    fig = Figure(figsize=(4.2 * len(factors), 3.4))
    axes = fig.subplots(1, len(factors), squeeze=False)
    for ax, f in zip(axes[0], factors, strict=True):
        if result.plan.design.kind == "grid":
            labels = list(dict.fromkeys(p.labels[f.path] for p in result.points))
            means, halves = [], []
            for lab in labels:
                at = [_stats(p, kpi) for p in ok if p.labels[f.path] == lab]
                ms = [m for m, _ in at if np.isfinite(m)]
                means.append(np.mean(ms) if ms else np.nan)
                halves.append(np.mean([h for _, h in at]) if len(at) == 1 else 0.0)
            xs = _as_numbers(labels) or list(range(len(labels)))
            ax.errorbar(xs, means, yerr=halves, marker="o", capsize=3)
            if _as_numbers(labels) is None:
                ax.set_xticks(xs, labels, rotation=30, ha="right")
            else:
                readable_axis(ax.xaxis)
            if len(factors) > 1:
                ax.set_title("averaged over the other factors", fontsize=8)
        else:
            xs = [float(p.labels[f.path]) for p in ok]
            st = [_stats(p, kpi) for p in ok]
            bars = [h for _, h in st] if len(ok) <= 30 else None  # many points: dots only
            ax.errorbar(xs, [m for m, _ in st], yerr=bars, fmt="o", ms=3, alpha=0.7, capsize=2)
            readable_axis(ax.xaxis)
        ax.set_xlabel(wrapped_path(f.path, 40))
        ax.set_ylabel(kpi)
        readable_axis(ax.yaxis)
        ax.grid(alpha=0.3)
    fig.suptitle(f"{kpi}: mean over replications (95% CI bars up to 30 points)")
    fig.tight_layout()
    save_png(fig, path, dpi=DPI, tight=True)


def _sobol_bars(rows, kpi, path):
    """First-order and total Sobol indices with their 95% CIs, factors ranked by total index."""
    rows = sorted(rows, key=lambda r: r["rank"])
    x = np.arange(len(rows))
    fig = Figure(figsize=(1.5 + 1.6 * len(rows), 3.6))
    ax = fig.subplots()
    for off, key, label in ((-0.2, "S1", "first order S1"), (0.2, "ST", "total ST")):
        v = np.array([r[key] for r in rows])
        err = np.array(
            [
                [r[key] - r[f"{key}_ci_low"] for r in rows],
                [r[f"{key}_ci_high"] - r[key] for r in rows],
            ]
        )
        ax.bar(x + off, v, width=0.4, yerr=err, capsize=3, label=label)
    ax.set_xticks(x, [r["factor"] for r in rows], rotation=20, ha="right")
    ax.axhline(0, color="black", lw=0.6)
    ax.set_ylabel("Sobol index")
    ax.set_title(f"Sensitivity of {kpi} (95% bootstrap CIs)")
    ax.legend()
    save_png(fig, path, dpi=DPI, tight=True)
