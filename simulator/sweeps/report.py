"""Sweep results and reports: per-point KPIs, tidy rows, gates, Sobol indices and summaries.

`SweepResult` holds every point's per-replication KPIs in design order; from it come the tidy
rows of `sweep.csv`, the gate checks, first-order and total Sobol indices (SALib, Sobol designs
only), the best points per KPI and the human-readable `summary.md`, all written by
`write_outputs` (with the charts of `sweep_plots`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from simulator.analysis.kpi_registry import find
from simulator.analysis.stats import estimate, mean_ci
from simulator.files import atomic_write_text, to_json, write_csv, write_marker
from simulator.formatting import csv_number, short_label, short_number
from simulator.sweeps.design import Gate, SweepPlan, value_label

# KPIs the summary ranks points by, in this order; the registry says which direction is better
BEST = (
    "roi",
    "incremental_gmv",
    "gmv",
    "member_gmv_penetration",
    "new_members",
    "new_member_first_purchase_rate",
    "cost",
)


# ----------------------------------------------------------------------------- results
@dataclass
class PointResult:
    """One point's outcome: per-replication KPIs (incremental ones included) or its error."""

    index: int
    id: str
    labels: dict[str, str]
    status: str  # "ok" | "failed"
    kpis: list[dict] = field(default_factory=list)
    error: str | None = None

    def mean(self, kpi: str) -> float | None:
        """Mean of a KPI over replications (None when n/a in every one)."""
        m = mean_ci([k.get(kpi) for k in self.kpis])[0]
        return None if math.isnan(m) else m

    def label(self) -> str:
        """The point's factor values as one line."""
        return ", ".join(f"{k}={short_label(v)}" for k, v in self.labels.items())


@dataclass
class SweepResult:
    """A finished sweep: every point's result, in design order."""

    plan: SweepPlan
    points: list[PointResult]
    resumed: int = 0
    computed: int = 0
    wall_s: float = 0.0

    def failures(self) -> list[PointResult]:
        """Points that failed."""
        return [p for p in self.points if p.status != "ok"]

    def kpi_names(self) -> list[str]:
        """Every KPI any point reports, in first-seen order."""
        names: dict[str, None] = {}
        for p in self.points:
            for k in p.kpis:
                names.update(dict.fromkeys(k))
        return list(names)

    def rows(self) -> list[dict]:
        """Tidy rows: one per point x KPI with mean, 95% CI, sd and replications."""
        rows = []
        kpis = self.kpi_names()
        for p in self.points:
            if p.status != "ok":
                continue
            for kpi in kpis:
                stats = estimate([k.get(kpi) for k in p.kpis]).as_row()
                rows.append({"point": p.index, "point_id": p.id, **p.labels, "kpi": kpi, **stats})
        return rows

    def gate_failures(self, gates: Iterable[Gate]) -> list[tuple[Gate, PointResult, float | None]]:
        """(gate, point, mean) for every successful point a gate fails on."""
        return [
            (g, p, p.mean(g.kpi))
            for g in gates
            for p in self.points
            if p.status == "ok" and not g.passes(p.mean(g.kpi))
        ]

    def sobol(self) -> list[dict]:
        """First-order and total Sobol indices with 95% CIs, per KPI (Sobol designs only).

        A KPI is analysed when every point succeeded and its mean varies and is finite.
        """
        if self.plan.design.kind != "sobol" or self.failures():
            return []
        from SALib.analyze import sobol

        problem = self.plan.design.problem()
        rows = []
        for kpi in self.kpi_names():
            y = np.array([np.nan if (m := p.mean(kpi)) is None else m for p in self.points])
            if not np.isfinite(y).all() or np.ptp(y) <= 1e-12 * max(1.0, np.abs(y).max()):
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                si = sobol.analyze(
                    problem,
                    y,
                    calc_second_order=False,
                    conf_level=0.95,
                    seed=self.plan.seed % 2**32,
                    print_to_console=False,
                )
            order = np.argsort(-np.asarray(si["ST"]), kind="stable")
            rank = {int(j): r + 1 for r, j in enumerate(order)}
            for j, name in enumerate(problem["names"]):
                s1, s1c, st, stc = (float(si[k][j]) for k in ("S1", "S1_conf", "ST", "ST_conf"))
                rows.append(
                    {
                        "kpi": kpi,
                        "factor": name,
                        "rank": rank[j],
                        "S1": s1,
                        "S1_ci_low": s1 - s1c,
                        "S1_ci_high": s1 + s1c,
                        "ST": st,
                        "ST_ci_low": st - stc,
                        "ST_ci_high": st + stc,
                    }
                )
        return rows


# ----------------------------------------------------------------------------- outputs
def best_points(result: SweepResult, top: int = 3) -> list[tuple[str, str, list[PointResult]]]:
    """For each ranked KPI: (kpi, 'max'|'min', best points).

    The KPIs of `BEST` the points report, or every KPI (higher is better) when none is.
    """
    names = result.kpi_names()
    ranked = [(k, find(k).better) for k in BEST if k in names] or [(k, "max") for k in names]
    out = []
    for kpi, better in ranked:
        ok = [p for p in result.points if p.status == "ok" and p.mean(kpi) is not None]
        ok.sort(key=lambda p: (-p.mean(kpi) if better == "max" else p.mean(kpi), p.index))
        out.append((kpi, better, ok[:top]))
    return out


def summary_markdown(result: SweepResult, gates: list[Gate] = (), sobol_rows=None) -> str:
    """The human-readable summary: design, status, gates, best points, Sobol ranking, failures."""
    plan = result.plan
    d = plan.design
    failures = result.failures()
    lines = [f"# Sweep: {plan.source.get('scenario') or plan.source.get('function')}", ""]
    what = {
        "grid": "full grid",
        "random": f"Latin hypercube of {d.n} points",
        "sobol": f"Sobol (Saltelli) design, N = {d.n}, {d.n * (len(d.factors) + 2)} points",
    }
    lines.append(
        f"* design: {what[d.kind]}; {len(plan.points)} points x {plan.reps} "
        f"replication(s), seed {plan.seed}"
        + (f", {plan.shoppers:,} shoppers" if plan.shoppers else "")
    )
    for f in d.factors:
        rng = (
            ", ".join(f.texts)
            if f.texts
            else f"{f.low} .. {f.high}" + (" (integers)" if f.integer else "")
        )
        lines.append(f"* `{f.path}`: {rng}")
    for path, value in plan.fixed.items():
        lines.append(f"* `{path}` = {value_label(value)} at every point")
    if plan.baseline:
        lines.append(
            "* every point runs the same replication seeds (common random numbers) "
            "against one no-campaign baseline per replication"
        )
    lines.append(f"* points: {len(plan.points) - len(failures)} ok, {len(failures)} failed")
    lines.append("")
    if gates:
        lines += ["## Gates", ""]
        fails = result.gate_failures(gates)
        for g in gates:
            bad = [(p, v) for gg, p, v in fails if gg is g]
            verdict = "pass" if not bad else f"FAIL at {len(bad)} point(s)"
            lines.append(f"* `{g.text}`: {verdict}")
            for p, v in bad:
                lines.append(f"  * point {p.index} ({p.label()}): {g.kpi} = {short_number(v)}")
        lines.append("")
    cols = [f.path for f in d.factors]
    lines += [
        "## Best points per KPI",
        "",
        "| KPI | best | point | " + " | ".join(f"`{c}`" for c in cols) + " | mean | 95% CI |",
        "|---|---|---|" + "---|" * len(cols) + "---|---|",
    ]
    for kpi, direction, pts in best_points(result):
        for p in pts:
            m, lo, hi = mean_ci([k.get(kpi) for k in p.kpis])
            lines.append(
                f"| {kpi} | {direction} | {p.index} | "
                + " | ".join(short_label(p.labels[c]) for c in cols)
                + f" | {short_number(m)} | [{short_number(lo)}, {short_number(hi)}] |"
            )
    lines.append("")
    if d.kind == "sobol":
        rows = result.sobol() if sobol_rows is None else sobol_rows
        lines += ["## Sobol indices (ranked by total index)", ""]
        if not rows:
            lines += [
                "Not computed: "
                + ("some points failed." if failures else "no KPI varies across the points."),
                "",
            ]
        shown = [k for k in BEST if any(r["kpi"] == k for r in rows)] or list(
            dict.fromkeys(r["kpi"] for r in rows)
        )
        for kpi in shown:
            lines += [
                f"### {kpi}",
                "",
                "| rank | factor | S1 | S1 95% CI | ST | ST 95% CI |",
                "|---|---|---|---|---|---|",
            ]
            for r in sorted((r for r in rows if r["kpi"] == kpi), key=lambda r: r["rank"]):
                lines.append(
                    f"| {r['rank']} | `{r['factor']}` | {r['S1']:.3f} | "
                    f"[{r['S1_ci_low']:.3f}, {r['S1_ci_high']:.3f}] | {r['ST']:.3f} | "
                    f"[{r['ST_ci_low']:.3f}, {r['ST_ci_high']:.3f}] |"
                )
            lines.append("")
        if rows:
            lines += ["All analysed KPIs are in `sobol.csv`.", ""]
    lines += ["## Failures", ""]
    if not failures:
        lines += ["None.", ""]
    for p in failures:
        first_line = (p.error or "unknown error").splitlines()[0]
        lines.append(f"* point {p.index} ({p.label()}), `points/{p.id}.json`: {first_line}")
    if failures:
        lines += [
            "",
            "Run the same command again to retry failed points; finished points are kept.",
            "",
        ]
    lines += [
        "## Files",
        "",
        "`sweep.csv` one row per point x KPI (mean, 95% CI, sd, replications); "
        "`points/<id>.json` each point's overrides and per-replication KPIs"
        + ("; `baselines/` the no-campaign GMV per replication" if plan.baseline else "")
        + ("; `sobol.csv` Sobol indices" if d.kind == "sobol" else "")
        + "; `plots/` charts; `sweep.json` the sweep's definition.",
        "",
    ]
    return "\n".join(lines)


_FLOAT_COLS = ("mean", "ci_low", "ci_high", "sd")


def _write_rows(path: Path, rows: list[dict], columns: list[str]) -> None:
    """CSV with the given columns (the header alone when there are no rows), atomically."""
    if rows:
        write_csv(path, rows)
    else:
        atomic_write_text(path, ",".join(columns) + "\n")


def write_outputs(
    result: SweepResult, out: str | Path, gates: list[Gate] = (), plots: bool = True
) -> None:
    """Write sweep.csv, summary.md, summary.json, sobol.csv (Sobol designs) and plots.

    Last, the folder's marker (`files.write_marker`): a sweep folder holding it is finished.
    """
    out = Path(out)
    factor_cols = [f.path for f in result.plan.design.factors]
    _write_rows(
        out / "sweep.csv",
        [
            {k: (csv_number(v) if k in _FLOAT_COLS else v) for k, v in r.items()}
            for r in result.rows()
        ],
        ["point", "point_id", *factor_cols, "kpi", "mean", "ci_low", "ci_high", "sd", "reps"],
    )
    sobol_rows = result.sobol()
    if result.plan.design.kind == "sobol":
        _write_rows(
            out / "sobol.csv",
            [
                {k: (csv_number(v) if isinstance(v, float) else v) for k, v in r.items()}
                for r in sobol_rows
            ],
            [
                "kpi",
                "factor",
                "rank",
                "S1",
                "S1_ci_low",
                "S1_ci_high",
                "ST",
                "ST_ci_low",
                "ST_ci_high",
            ],
        )
    fails = result.gate_failures(gates)
    summary = {
        "points": len(result.points),
        "failed": [
            {"point": p.index, "id": p.id, "labels": p.labels, "error": p.error}
            for p in result.failures()
        ],
        "gates": [
            {
                "gate": g.text,
                "failing_points": [
                    {"point": p.index, "id": p.id, "labels": p.labels, "value": v}
                    for gg, p, v in fails
                    if gg is g
                ],
            }
            for g in gates
        ],
    }
    atomic_write_text(out / "summary.json", to_json(summary))
    atomic_write_text(out / "summary.md", summary_markdown(result, list(gates), sobol_rows))
    if plots:
        from simulator.reports.sweep_plots import plot_sweep

        plot_sweep(result, out / "plots", sobol_rows)
    write_marker(out, "sweep")
