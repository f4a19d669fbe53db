"""The report of a finished `promosim sweep` folder: the design, best points, gates, Sobol indices.

Reads `sweep.json` (the definition), `summary.json` (points, failures, gates), `sweep.csv` (one
row per point x KPI) and `sobol.csv` when the design is Sobol's.
"""

from __future__ import annotations

import csv
import io

from simulator.analysis.kpi_registry import find
from simulator.formatting import missing
from simulator.reports.report_folder import ReportError, ResultFolder
from simulator.reports.report_model import (
    Report,
    Section,
    Table,
    cell,
    kpi_value,
    pairs_table,
    rows_table,
    with_interval,
    words,
)
from simulator.reports.report_sections import (
    assumptions_section,
    charts_section,
    settings_section,
)

POINT_KPIS = ("incremental_gmv", "cost", "roi", "member_gmv_penetration", "new_members")
RANKED = ("roi", "incremental_gmv", "incremental_profit", "member_gmv_penetration", "cost")
POINTS_SHOWN = 50  # points listed in the table of points (sweep.csv has them all)
DESIGNS = {"grid": "full grid", "random": "random design", "sobol": "Sobol design"}


def sweep_report(folder: ResultFolder) -> Report:
    """The review of a sweep: what was varied, which points did best, what passed its gates."""
    sweep, summary = folder.json("sweep.json"), folder.json("summary.json", required=False) or {}
    definition = sweep["definition"]
    factors = [f["path"] for f in definition.get("factors", [])]
    rows = _csv_rows(folder, "sweep.csv", tuple(factors))
    by = {}
    for r in rows:
        by.setdefault(r["point"], {"labels": {f: r.get(f, "") for f in factors}})[r["kpi"]] = r
    name = definition.get("source", {}).get("scenario", "the scenario")
    headline = [_design_line(definition, summary, name)] + _best_lines(by, factors)
    sections = [_points_section(by, factors)]
    gates = summary.get("gates") or []
    if gates:
        sections.append(Section("KPI gates", tables=[rows_table(gates)]))
    failed = summary.get("failed") or []
    if failed:
        items = [cell(f) for f in failed]
        sections.append(Section("Failed points", bullets=items, warning=True))
    if (folder.path / "sobol.csv").is_file():
        sobol = rows_table(_csv_rows(folder, "sobol.csv"), note="First-order S1 and total ST.")
        sections.append(Section("Sensitivity (Sobol indices)", tables=[sobol]))
    settings = {k: v for k, v in definition.items() if not isinstance(v, dict | list)}
    settings["scenario"] = sweep.get("scenario_path")
    path = sweep.get("scenario_path")
    sections += [
        charts_section(folder),
        assumptions_section([path] if path else []),
        settings_section(settings),
    ]
    sections[-1].tables.append(
        pairs_table(
            {
                f["path"]: ", ".join(f.get("values", [])) or _range(f)
                for f in definition.get("factors", [])
            },
            title="Factors",
        )
    )
    return Report(f"Sweep: {name}", "sweep", headline, sections, "")


def _csv_rows(folder: ResultFolder, name: str, text: tuple[str, ...] = ()) -> list[dict]:
    """A CSV file's rows, numbers as numbers (empty cells as None) but in the `text` columns."""
    path = folder.path / name
    try:
        content = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportError(f"cannot read {path}: {exc}") from None
    return [
        {k: v if k in text else _number(v) for k, v in r.items()}
        for r in csv.DictReader(io.StringIO(content))
    ]


def _number(text: str | None):
    """A CSV cell as a number when it is one, None when empty, else the text."""
    if text is None or text == "":
        return None
    try:
        return float(text)
    except ValueError:
        return text


def _range(factor: dict) -> str:
    """A sampled factor's range in words."""
    return f"{factor.get('low')} to {factor.get('high')}" if "low" in factor else ""


def _design_line(definition: dict, summary: dict, name: str) -> str:
    """What the sweep varied, over how many points and replications."""
    failed = len(summary.get("failed") or [])
    return (
        f"{name}: {DESIGNS.get(definition.get('kind'), definition.get('kind'))} over "
        f"{len(definition.get('factors', []))} factor(s), {summary.get('points', '?')} points x "
        f"{definition.get('reps')} replications of {_shoppers(definition.get('shoppers'))} on "
        f"common random numbers; {failed} failed."
    )


def _shoppers(n) -> str:
    """A population size in words (the scenario's own when a command did not set one)."""
    return f"{n:,} shoppers" if isinstance(n, int) else "the scenario's shoppers"


def _point_label(point: dict, factors: list[str]) -> str:
    """A point's factor values, "amount_off = 20, audience = sms_sensitive"."""
    return ", ".join(f"{f.rsplit('.', 1)[-1]} = {point['labels'][f]}" for f in factors)


def _best_lines(by: dict, factors: list[str]) -> list[str]:
    """The best point on each ranked KPI, in words."""
    lines = []
    for kpi in RANKED:
        points = [p for p in by.values() if kpi in p and not missing(p[kpi]["mean"])]
        spec = find(kpi)
        if not points or spec is None or spec.better is None:
            continue
        pick = max if spec.better == "max" else min
        best = pick(points, key=lambda p: p[kpi]["mean"])
        r = best[kpi]
        lines.append(
            f"Best {words(kpi)}: {with_interval(kpi, r['mean'], r['ci_low'], r['ci_high'])} at "
            f"{_point_label(best, factors)}."
        )
    return lines


def _points_section(by: dict, factors: list[str]) -> Section:
    """Every point's key KPIs (mean [95% CI]), up to `POINTS_SHOWN` of them."""
    kpis = [k for k in POINT_KPIS if any(k in p for p in by.values())]
    rows = []
    for index, point in list(by.items())[:POINTS_SHOWN]:
        row = [kpi_value(None, index)] + [str(point["labels"][f]) for f in factors]
        for k in kpis:
            r = point.get(k)
            row.append("" if r is None else with_interval(k, r["mean"], r["ci_low"], r["ci_high"]))
        rows.append(row)
    note = "Means over replications with 95% CIs; every KPI of every point is in sweep.csv."
    if len(by) > POINTS_SHOWN:
        note = f"The first {POINTS_SHOWN} of {len(by)} points. " + note
    columns = ["point"] + [f.rsplit(".", 1)[-1] for f in factors] + [words(k) for k in kpis]
    return Section("Key figures", tables=[Table(columns, rows, title="Points", note=note)])
