"""The report of a `promosim run` folder: headline KPIs in words, KPI tables with CIs, windows."""

from __future__ import annotations

from simulator.analysis.kpis import HEADLINE
from simulator.formatting import missing
from simulator.reports.report_folder import ResultFolder
from simulator.reports.report_model import Report, Section, Table, interval, kpi_value, words
from simulator.reports.report_sections import (
    assumptions_section,
    charts_section,
    settings_section,
    touches_section,
    warnings_section,
)

# the KPIs of a window's row, as `promosim run` prints them
WINDOW_KPIS = (
    "gmv",
    "incremental_gmv",
    "cost",
    "roi",
    "member_gmv_penetration",
    "old_member_gmv_share",
    "new_members",
)


def run_report(folder: ResultFolder) -> Report:
    """The review of one scenario's run: what it gave, with what certainty, under what."""
    meta, kpis = folder.json("run.json"), folder.json("kpis.json")
    name = meta.get("name") or meta.get("scenario", "the scenario")
    sections = [_kpi_section(kpis)]
    windows = _windows_section(kpis)
    if windows is not None:
        sections.append(windows)
    touches = touches_section(kpis.get("touches"))
    if touches is not None:
        sections.append(touches)
    sections += [
        charts_section(folder),
        warnings_section(meta.get("warnings", [])),
        assumptions_section(
            [meta["scenario"]] if meta.get("scenario") else [],
            (kpis.get("assumptions") or {}).get("values"),
        ),
        settings_section(meta),
    ]
    return Report(f"Campaign review: {name}", "run", run_headline(meta, kpis), sections, "")


def _with_ci(kpis: dict, key: str) -> str:
    """A KPI's value and, with replications, its 95% CI in words."""
    text = kpi_value(key, kpis.get(key))
    ci = (kpis.get("ci95") or {}).get(key)
    if ci and not missing(ci[0]):
        text += f" (95% CI {kpi_value(key, ci[0])} to {kpi_value(key, ci[1])})"
    return text


def run_headline(meta: dict, kpis: dict) -> list[str]:
    """The run in three sentences: its scale, what the campaign added, the member KPIs."""
    reps = meta.get("reps", 1)
    scale = (
        f"{meta.get('name', 'The scenario')}: {meta.get('shoppers', 0):,} shoppers "
        f"over {meta.get('days', '?')} days"
        + (f", mean of {reps} replications" if reps > 1 else ", one replication")
        + f"; GMV {_with_ci(kpis, 'gmv')} for a cost of {_with_ci(kpis, 'cost')}."
    )
    lines = [scale]
    if "incremental_gmv" in kpis:
        line = (
            f"Against the no-campaign baseline on the same random numbers, the campaign added "
            f"{_with_ci(kpis, 'incremental_gmv')} of GMV: ROI {_with_ci(kpis, 'roi')}"
        )
        if not missing(kpis.get("incremental_profit")):
            line += f", incremental profit {_with_ci(kpis, 'incremental_profit')}"
        lines.append(line + ".")
    else:
        lines.append("Run without its no-campaign baseline: no incremental GMV or ROI.")
    members = [
        f"{words(k)} {kpi_value(k, kpis[k])}"
        for k in ("member_gmv_penetration", "new_members", "old_member_gmv_share")
        if not missing(kpis.get(k))
    ]
    if members:
        lines.append("Members: " + ", ".join(members) + ".")
    share = (kpis.get("assumption_share") or {}).get("incremental_gmv")
    spread = (kpis.get("under_assumptions95") or {}).get("incremental_gmv")
    if spread and not missing(share):
        lines.append(
            f"Under the stated assumptions one outcome of incremental GMV lies within "
            f"{interval('incremental_gmv', *spread)} (95%); the assumptions make "
            f"{share:.0%} of its variance."
        )
    return lines


def _kpi_section(kpis: dict) -> Section:
    """The headline KPIs: value, 95% CI with replications, and the assumptions' part if drawn."""
    ci = kpis.get("ci95") or {}
    spread = kpis.get("under_assumptions95") or {}
    share = kpis.get("assumption_share") or {}
    columns = ["KPI", "value"]
    if ci:
        columns.append("95% CI")
    if spread:
        columns += ["95% under assumptions", "from assumptions"]
    rows = []
    for key in (k for k in HEADLINE if k in kpis):
        row = [words(key), kpi_value(key, kpis[key])]
        if ci:
            row.append(interval(key, *(ci.get(key) or (None, None))))
        if spread:
            s = share.get(key)
            row += [
                interval(key, *(spread.get(key) or (None, None))),
                "" if missing(s) else f"{s:.0%}",
            ]
        rows.append(row)
    note = "Every KPI is in kpis.json; docs/kpis.md defines each."
    if ci:
        note = f"Means over {kpis.get('reps', 'the')} replications. " + note
    return Section("Key figures", tables=[Table(columns, rows, note=note)])


def _windows_section(kpis: dict) -> Section | None:
    """One row per KPI window of the scenario (first wave, peak day, the sale, ...)."""
    windows = kpis.get("windows") or {}
    if not windows:
        return None
    rows = [
        [words(name)] + [kpi_value(k, values.get(k)) for k in WINDOW_KPIS]
        for name, values in windows.items()
    ]
    table = Table(["window"] + [words(k) for k in WINDOW_KPIS], rows)
    return Section("KPI windows", tables=[table])
