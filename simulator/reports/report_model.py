"""What a campaign report is made of: sections of sentences, tables and charts, and its cells.

`promosim report` reads a result folder (`report_folder`), builds a `Report` from it (one
module per kind of folder: `report_run`, `report_compare`, `report_sweep`) and renders it as
HTML and Markdown (`report_html`). Tables are made of already formatted text, so the two
renderings show the same numbers. Rows written by the commands (lists of dicts) become tables
generically (`rows_table`): a field a command adds later appears without a change here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from simulator.analysis.kpi_registry import find
from simulator.analysis.kpi_spec import SHARE
from simulator.formatting import NA, missing, percent, report_number

# a column read as a share (a percentage): budget_use, assumption_share, p_a_beats_b, ...
PERCENT_COLUMN = re.compile(r"(^|_)(share|use|rate|penetration)$|^p_")
LIST_SEPARATOR = ", "
ACRONYMS = {"gmv": "GMV", "roi": "ROI", "arpu": "ARPU", "kpi": "KPI", "sms": "SMS"}


@dataclass
class Table:
    """A table of formatted cells; `note` says what it shows or where the rest is."""

    columns: list[str]
    rows: list[list[str]]
    title: str = ""
    note: str = ""


@dataclass
class Section:
    """A heading with paragraphs, bullet items, tables and charts (paths in the folder)."""

    heading: str
    paragraphs: list[str] = field(default_factory=list)
    bullets: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    images: list[tuple[str, str]] = field(default_factory=list)  # (path in the folder, caption)
    warning: bool = False  # shown as a warning box


@dataclass
class Report:
    """A report: a title, the headline in words, and sections."""

    title: str
    kind: str
    headline: list[str]
    sections: list[Section]
    source: str  # the folder, as given


def is_share(kpi: str | None) -> bool:
    """Whether a KPI is a share or rate (shown as a percentage)."""
    spec = find(kpi) if kpi else None
    return spec is not None and spec.unit == SHARE


def kpi_value(kpi: str | None, x, *, diff: bool = False) -> str:
    """A KPI's value for people: shares as percentages (differences in points), else numbers."""
    if missing(x) or isinstance(x, str):
        return NA if missing(x) else x
    if is_share(kpi):
        return percent(x, points=diff)
    text = report_number(x)
    return f"+{text}" if diff and x > 0 else text


def interval(kpi: str | None, low, high, *, diff: bool = False) -> str:
    """A 95% interval "[low, high]" ("" when it is missing)."""
    if missing(low) or missing(high):
        return ""
    return f"[{kpi_value(kpi, low, diff=diff)}, {kpi_value(kpi, high, diff=diff)}]"


def with_interval(kpi: str | None, value, low, high, *, diff: bool = False) -> str:
    """A KPI's value and its 95% interval: "2.75M [2.64M, 2.87M]" (the value alone without one)."""
    return f"{kpi_value(kpi, value, diff=diff)} {interval(kpi, low, high, diff=diff)}".strip()


def cell(value, column: str = "", kpi: str | None = None) -> str:
    """A value of a row for a table: text as is, lists joined, numbers by column and KPI."""
    if value is None:
        return NA
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return LIST_SEPARATOR.join(cell(v, column, kpi) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k} = {cell(v, k)}" for k, v in value.items())
    if PERCENT_COLUMN.search(column) and not missing(value):
        return percent(value)
    if kpi is not None and column in ("mean", "ci_low", "ci_high", "value", "total_low"):
        return kpi_value(kpi, value)
    if kpi is not None and column.startswith("diff"):
        return kpi_value(kpi, value, diff=True)
    return report_number(value)


def rows_table(
    rows: list[dict], title: str = "", note: str = "", drop: tuple[str, ...] = ()
) -> Table:
    """A table of dict rows: a column per field any row has (first seen first), but `drop`.

    A row with a "kpi" field formats its values as that KPI (shares as percentages).
    """
    columns = [c for c in dict.fromkeys(k for r in rows for k in r) if c not in drop]
    body = [[cell(r.get(c), c, r.get("kpi")) for c in columns] for r in rows]
    return Table([c.replace("_", " ") for c in columns], body, title, note)


def pairs_table(mapping: dict, title: str = "", note: str = "", exact: bool = False) -> Table:
    """A two-column table of a mapping's scalar items (settings, a best plan's parameters).

    exact: values as set (a plan's parameters: 375,000 and 0.25, not 375k or 25.0%), else
    formatted by their names as KPIs are.
    """
    show = exact_value if exact else cell
    rows = [[str(k).replace("_", " "), show(v, str(k))] for k, v in mapping.items()]
    return Table(["setting", "value"], rows, title, note)


def exact_value(value, column: str = "") -> str:
    """A value as it is set in a scenario: whole numbers with separators, decimals in full."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return (
            cell(value, column)
            if not isinstance(value, list | tuple)
            else "+".join(exact_value(v) for v in value)
        )
    return f"{value:,}" if isinstance(value, int) else f"{value:,.10g}"


def words(name: str) -> str:
    """A key for people: "member_gmv_penetration" -> "member GMV penetration"."""
    return " ".join(ACRONYMS.get(w, w) for w in name.replace("_", " ").split(" "))
