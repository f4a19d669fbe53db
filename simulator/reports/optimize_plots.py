"""Charts of `promosim optimize`: the optimisation's history and the Pareto front.

`history.png`: each trial's objective (feasible trials filled, infeasible hollow) and the best
feasible value so far, with the starting plan's value for reference. `pareto.png`: incremental GMV
against cost of every feasible trial, the Pareto front, the budget, the starting plan and the best
plan marked. Rows are `optimize.json`'s trials.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from simulator.reports.charts import readable_axis, save_png

DPI = 110


def _plain(ax) -> None:
    """Readable numbers (28.0M, 3.5M; ticks in one unit) on both axes."""
    for axis in (ax.xaxis, ax.yaxis):
        readable_axis(axis)


def plot_history(rows: list[dict], start: dict, label: str, path: Path) -> None:
    """Objective by trial number and the best feasible value so far."""
    fig = Figure(figsize=(8, 4.5))
    ax = fig.add_subplot()
    ok = [r for r in rows if r.get("objective") is not None]
    feas = [r for r in ok if r["feasible"]]
    infeas = [r for r in ok if not r["feasible"]]
    ax.scatter(
        [r["number"] for r in feas],
        [r["objective"] for r in feas],
        s=14,
        color="tab:blue",
        label="feasible trial",
    )
    ax.scatter(
        [r["number"] for r in infeas],
        [r["objective"] for r in infeas],
        s=14,
        facecolors="none",
        edgecolors="tab:red",
        label="infeasible (budget or constraint)",
    )
    best, xs, ys = float("-inf"), [], []
    for r in sorted(feas, key=lambda r: r["number"]):
        best = max(best, r["objective"])
        xs.append(r["number"])
        ys.append(best)
    if xs:
        ax.step(xs, ys, where="post", color="black", label="best feasible so far")
    if start.get("objective") is not None:
        ax.axhline(start["objective"], color="gray", ls="--", label="starting plan")
    ax.set_xlabel("trial")
    ax.set_ylabel(label)
    ax.set_title(f"Optimisation history: {label}")
    _plain(ax)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    save_png(fig, path, DPI)


def plot_pareto(
    rows: list[dict], front: list[dict], start: dict, best: dict | None, budget: float, path: Path
) -> None:
    """Incremental GMV against cost: feasible trials, the front, the budget, start and best."""
    fig = Figure(figsize=(8, 5))
    ax = fig.add_subplot()
    pts = [r for r in rows if r.get("incremental_gmv") is not None and r.get("cost") is not None]
    ax.scatter(
        [r["cost"] for r in pts],
        [r["incremental_gmv"] for r in pts],
        s=12,
        color="tab:blue",
        alpha=0.5,
        label="trial",
    )
    if front:
        ax.plot(
            [r["cost"] for r in front],
            [r["incremental_gmv"] for r in front],
            "-o",
            color="tab:orange",
            ms=4,
            label="Pareto front (feasible)",
        )
    ax.axvline(budget, color="gray", ls=":", label="budget")
    _mark(ax, start, "starting plan", marker="s", s=70, color="black", zorder=5)
    if best is not None:
        label = f"best (trial {best['number']})"
        _mark(ax, best, label, marker="*", s=180, color="tab:green", zorder=6)
    ax.set_xlabel("cost (at the scenario's population)")
    ax.set_ylabel("incremental GMV")
    ax.set_title("Incremental GMV against cost")
    _plain(ax)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    save_png(fig, path, DPI)


def _mark(ax, row: dict, label: str, **style) -> None:
    """One plan's point (cost, incremental GMV), when it has both."""
    if row.get("cost") is not None and row.get("incremental_gmv") is not None:
        ax.scatter([row["cost"]], [row["incremental_gmv"]], label=label, **style)
