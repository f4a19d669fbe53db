"""The reports of `compare` and `optimize` folders: verdicts, KPI tables with CIs, pairs, plans.

Both hold a `comparison.json` (`meta`, `rows`, and `pairs`, `verdicts`, `touches` when the
comparison has them; older folders have `pairwise` and `touch_roi`); an optimize folder adds
`optimize.json` (`meta`, `best`, `trials`, `pareto`).
"""

from __future__ import annotations

from simulator.analysis.kpi_registry import find
from simulator.formatting import missing
from simulator.reports.report_folder import ResultFolder
from simulator.reports.report_model import (
    Report,
    Section,
    Table,
    exact_value,
    interval,
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
    touches_section,
    warnings_section,
)

HEADLINE_KPIS = ("incremental_gmv", "cost", "roi", "incremental_profit")  # of each strategy
TOUCH_ROI_KPIS = ("incremental_gmv", "incremental_cost", "roi")  # of an older touch_roi table
TRIALS_SHOWN = 20  # the best trials an optimize report lists (optimize.json has them all)


def compare_report(folder: ResultFolder) -> Report:
    """The review of strategies against a baseline and each other."""
    cmp = folder.json("comparison.json")
    meta = cmp.get("meta", {})
    headline = [_scale(meta)] + _verdict_lines(cmp)
    sections = comparison_sections(cmp) + _closing_sections(folder, meta, {})
    title = f"Strategy comparison: {', '.join(meta.get('scenarios', []))}"
    return Report(title, "compare", headline, sections, "")


def optimize_report(folder: ResultFolder) -> Report:
    """The review of an optimisation: the best plan against the starting plan, and the search."""
    opt, cmp = folder.json("optimize.json"), folder.json("comparison.json")
    meta, best = opt.get("meta", {}), opt.get("best") or {}
    headline = [_optimize_line(opt)] + _verdict_lines(cmp)
    params = best.get("params") or {}
    if params:
        headline.append("Best plan: " + _settings_text(params) + ".")
    plan = Section("Best plan", paragraphs=["best.yaml is the best plan as a runnable scenario."])
    plan.tables.append(pairs_table(params, title="Decision variables", exact=True))
    scalars = {k: v for k, v in best.items() if k != "params" and not isinstance(v, dict | list)}
    if scalars:
        plan.tables.append(pairs_table(scalars, title="Its evaluation during the search"))
    sections = [plan] + comparison_sections(cmp)
    if opt.get("pareto"):
        front = [{**t, "params": _settings_text(t.get("params") or {})} for t in opt["pareto"]]
        sections.append(Section("Pareto front", tables=[rows_table(front)]))
    if opt.get("trials"):
        sections.append(_trials_section(opt["trials"]))
    sections += _closing_sections(folder, cmp.get("meta", {}), meta)
    return Report("Budget optimisation", "optimize", headline, sections, "")


def _scale(meta: dict) -> str:
    """What was compared, how often and on which random numbers."""
    others = [s for s in meta.get("scenarios", []) if s != meta.get("baseline")]
    return (
        f"{len(others)} strateg{'y' if len(others) == 1 else 'ies'} ({', '.join(others)}) against "
        f"the baseline {meta.get('baseline')}: {meta.get('reps')} replications of "
        f"{meta.get('shoppers', 0):,} shoppers on "
        f"{meta.get('random_numbers', 'common')} random numbers, assumptions "
        f"{meta.get('assumptions', 'fixed')}."
    )


def _verdict_lines(cmp: dict) -> list[str]:
    """The comparison's verdicts in words, or each strategy's figures against the baseline."""
    if cmp.get("verdicts"):
        return [v["text"] for v in cmp["verdicts"] if v.get("text")]
    meta = cmp.get("meta", {})
    by = {(r["scenario"], r["kpi"]): r for r in cmp.get("rows", [])}
    lines = []
    for name in (s for s in meta.get("scenarios", []) if s != meta.get("baseline")):
        parts = [
            f"{words(k)} "
            + with_interval(k, by[name, k]["mean"], by[name, k]["ci_low"], by[name, k]["ci_high"])
            for k in HEADLINE_KPIS
            if (name, k) in by and not missing(by[name, k]["mean"])
        ]
        if parts:
            lines.append(f"{name}: " + ", ".join(parts) + " (95% CIs).")
    return lines + [r["verdict"] for r in cmp.get("pairwise", []) if r.get("verdict")]


def _optimize_line(opt: dict) -> str:
    """How many plans were tried and the best objective against the starting plan's."""
    meta, best = opt.get("meta", {}), opt.get("best") or {}
    objective = (opt.get("confirmation") or {}).get("kpi") or meta.get("objective", "objective")
    start = opt.get("start") or meta.get("start") or {}
    start_value = start.get("objective") if isinstance(start, dict) else start
    line = (
        f"{len(opt.get('trials', []))} plans evaluated; the best reaches {words(str(objective))} "
        f"{kpi_value(None, best.get('objective'))}"
    )
    if not missing(start_value):
        line += f" against the starting plan's {kpi_value(None, start_value)}"
    line += " (search estimates; the side-by-side below replicates them afresh)."
    confirmation = (opt.get("confirmation") or {}).get("text")
    return line + (f" {confirmation}." if confirmation else "")


def comparison_sections(cmp: dict) -> list[Section]:
    """KPI tables, verdicts, pairs and touch economics of a comparison."""
    meta, rows = cmp.get("meta", {}), cmp.get("rows", [])
    sections = [_kpi_tables(meta, rows)]
    if cmp.get("verdicts"):
        table = rows_table(cmp["verdicts"], drop=("text",))
        sections.append(Section("Strategy against strategy", tables=[table]))
    pairs = cmp.get("pairs") or cmp.get("pairwise")
    if pairs:
        note = "Paired differences a − b on the same random numbers, with 95% CIs."
        sections.append(Section("Pairs", tables=[rows_table(pairs, note=note)]))
    touches = touches_section(cmp.get("touches"))
    if touches is None and cmp.get("touch_roi"):
        shown = [r for r in cmp["touch_roi"] if r.get("kpi") in TOUCH_ROI_KPIS]
        touches = Section("Touch economics", tables=[rows_table(shown, drop=("sd",))])
    if touches is not None:
        sections.append(touches)
    return sections


def _compared(rows: list[dict]) -> list[str]:
    """The whole calendar's compared KPIs (and the incremental ones) the rows have, in order."""
    names = dict.fromkeys(r["kpi"] for r in rows)
    return [
        k
        for k in names
        if (spec := find(k)) is not None
        and not k.startswith("window.")
        and spec.per is None
        and (spec.compared or spec.needs_baseline)
    ]


def _kpi_tables(meta: dict, rows: list[dict]) -> Section:
    """Each compared KPI per strategy (mean [95% CI]), then the difference from the baseline."""
    scenarios, baseline = meta.get("scenarios", []), meta.get("baseline")
    by = {(r["scenario"], r["kpi"]): r for r in rows}
    kpis = _compared(rows)

    def cells(kpi, name, diff):
        r = by.get((name, kpi))
        if r is None or missing(r.get("diff" if diff else "mean")):
            return (r or {}).get("note") or ""
        if diff:
            return with_interval(kpi, r["diff"], r["diff_ci_low"], r["diff_ci_high"], diff=True)
        return with_interval(kpi, r["mean"], r["ci_low"], r["ci_high"])

    means = Table(
        ["KPI"] + scenarios,
        [[words(k)] + [cells(k, s, False) for s in scenarios] for k in kpis],
        title="Means with 95% CIs",
    )
    others = [s for s in scenarios if s != baseline]
    plain = [k for k in kpis if not find(k).needs_baseline]
    diffs = Table(
        ["KPI"] + others,
        [[words(k)] + [cells(k, s, True) for s in others] for k in plain],
        title=f"Difference from the baseline {baseline} (paired, 95% CI)",
        note="Every KPI and window is in comparison.csv; docs/kpis.md defines each.",
    )
    section = Section("Key figures", tables=[means, diffs])
    spread = [r for r in rows if r["kpi"] in kpis and r.get("total_low") is not None]
    if spread and meta.get("assumptions") == "drawn":
        section.tables.append(_assumption_table(spread, baseline))
    return section


def _assumption_table(rows: list[dict], baseline: str) -> Table:
    """Each strategy's KPIs under the stated assumptions: one outcome's 95% range, their share."""
    by = {(r["scenario"], r["kpi"]): r for r in rows if r["scenario"] != baseline}
    scenarios = list(dict.fromkeys(name for name, _ in by))
    kpis = list(dict.fromkeys(kpi for _, kpi in by))

    def text(r) -> str:
        share = r.get("assumption_share")
        part = "" if missing(share) else f" ({share:.0%})"
        return interval(r["kpi"], r["total_low"], r["total_high"]) + part

    body = [[words(k)] + [text(by[s, k]) if (s, k) in by else "" for s in scenarios] for k in kpis]
    note = (
        "The 95% range of one outcome when the assumptions are as uncertain as stated (noise "
        "included), and in brackets the share of its variance the assumptions make."
    )
    return Table(["KPI"] + scenarios, body, title="Under the stated assumptions", note=note)


def _trials_section(trials: list[dict]) -> Section:
    """The best trials of the search (by objective), and how many there were."""
    ranked = sorted(
        trials,
        key=lambda t: (
            t.get("feasible") is False,
            -t["objective"] if isinstance(t.get("objective"), int | float) else 0.0,
        ),
    )
    shown = min(TRIALS_SHOWN, len(trials))
    note = (
        f"The best {shown} of {len(trials)} trials, feasible ones first; all are in optimize.json."
    )
    rows = [{**t, "params": _settings_text(t.get("params") or {})} for t in ranked[:shown]]
    return Section("Trials", tables=[rows_table(rows, note=note)])


def _settings_text(params: dict) -> str:
    """A plan's parameters as set: "name = value; ..."."""
    return "; ".join(f"{k} = {exact_value(v)}" for k, v in params.items())


def _closing_sections(folder: ResultFolder, cmp_meta: dict, meta: dict) -> list[Section]:
    """Charts, warnings, assumptions and settings of a comparison (and an optimisation's meta)."""
    files = cmp_meta.get("scenario_files") or meta.get("scenario_files") or []
    if not files and meta.get("scenario"):
        files = [meta["scenario"]]
    return [
        charts_section(folder),
        warnings_section(cmp_meta.get("warnings", {})),
        assumptions_section(files),
        settings_section({**cmp_meta, **meta}),
    ]
