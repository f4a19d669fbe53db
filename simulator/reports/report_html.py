"""A `Report` as one self-contained HTML page and as Markdown (Jinja2 templates in templates/).

The HTML page needs nothing else: its style is inline, its charts are embedded as base64 data
URIs, it has no script and fetches nothing, so it can be mailed or archived as one file. The
Markdown version refers to the charts by their paths relative to the Markdown file. Both begin
with a provenance line (`PROVENANCE`), by which `promosim report` knows a file it may replace.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path

from simulator import __version__
from simulator.reports.report_model import Report, Table

PROVENANCE = "<!-- Written by `promosim report`"  # the first line of every report file
NUMBER = r"[+\-]?[\d.,]+(k|M|B|%| pp)?"
# a cell that is a number, an interval, or a number followed by an interval or a (share)
NUMERIC = re.compile(rf"^({NUMBER}|n/a)?( ?\[.*\])?( \(\d+%\))?$")


@dataclass
class ShownTable:
    """A table as the templates show it: cells, and which columns hold numbers (right-aligned)."""

    title: str
    note: str
    columns: list[str]
    rows: list[list[str]]
    numeric: list[bool]


def render_html(report: Report, folder: Path) -> str:
    """The report as one HTML page with the folder's charts embedded."""
    images = [[(_data_uri(folder / src), alt) for src, alt in s.images] for s in report.sections]
    return _render("report.html.j2", report, images)


def render_markdown(report: Report, folder: Path, written_to: Path) -> str:
    """The report as Markdown whose charts are the folder's files, relative to `written_to`."""
    here = Path(os.path.abspath(written_to)).parent
    images = [
        [
            (Path(os.path.relpath(os.path.abspath(folder / src), here)).as_posix(), alt)
            for src, alt in s.images
        ]
        for s in report.sections
    ]
    return _render("report.md.j2", report, images)


def _render(template: str, report: Report, images: list) -> str:
    """Fill a template with the report, its tables prepared and its charts' sources."""
    env = _environment()
    sections = [{**vars(s), "tables": [_shown(t) for t in s.tables]} for s in report.sections]
    source = report.source.replace("--", "- -")  # a comment may not hold "--"
    return env.get_template(template).render(
        report=report,
        sections=sections,
        images=images,
        version=__version__,
        provenance=f"{PROVENANCE} {__version__} from {source} -->",
        subtitle=(
            f"promosim {report.kind} result {report.source}; report written "
            f"{dt.date.today():%Y-%m-%d}"
        ),
    )


def _environment():
    """Jinja2 with the package's templates, HTML escaped, Markdown cells escaped by `md`."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("simulator.reports", "templates"),
        autoescape=lambda name: bool(name) and name.endswith(".html.j2"),
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["md"] = markdown_cell
    return env


def _shown(table: Table) -> ShownTable:
    """A table with the columns whose every filled cell is a number marked numeric."""
    numeric = [
        all(NUMERIC.match(r[k]) for r in table.rows if r[k]) and any(r[k] for r in table.rows)
        for k in range(len(table.columns))
    ]
    if numeric:
        numeric[0] = False  # the first column names the row
    return ShownTable(table.title, table.note, table.columns, table.rows, numeric)


def markdown_cell(text) -> str:
    """Text safe in a Markdown table cell: pipes escaped, line breaks as spaces."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _data_uri(path: Path) -> str:
    """A PNG file as a data URI."""
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")
