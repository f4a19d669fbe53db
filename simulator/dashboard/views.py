"""What the page shows of a run: KPIs, funnel, daily GMV, touches, two strategies compared.

The KPI table has CIs against the no-campaign baseline, the daily GMV is drawn against the
baseline's, and two strategies are shown side by side with their pairwise comparison.

Tables are lists of rows of text (the page renders them as HTML tables; tests read them);
numbers are formatted as the CLI prints them (`formatting.table_number`). Charts are matplotlib
figures.
"""

from __future__ import annotations

import html
import math
from dataclasses import replace

import numpy as np
from matplotlib.figure import Figure

from simulator.analysis.experiment import FUNNEL, Replicated, check_comparable
from simulator.analysis.kpis import HEADLINE
from simulator.analysis.pairs import PAIR_KPIS, pair_rows, verdicts
from simulator.errors import UserError
from simulator.formatting import table_number
from simulator.reports.charts import plain_log_ticks, readable_axis

TOUCH_COLUMNS = ("touch", "channel", "benefit", "contacts", "spend", "budget", "budget_use")
"""Touch economics shown per touch (`analysis.touches`; the rest is in the HTML report)."""


def ci_text(ci) -> str:
    """A 95% CI as "[low, high]", or empty without one (a single replication)."""
    if not ci or any(x is None or (isinstance(x, float) and math.isnan(x)) for x in ci):
        return ""
    return f"[{table_number(ci[0])}, {table_number(ci[1])}]"


def kpi_rows(kpis: dict) -> list[tuple[str, str, str]]:
    """(KPI, value, 95% CI) of the headline KPIs, as kpis.json holds them.

    The incremental KPIs and ROI are against the no-campaign baseline on the same numbers.
    """
    ci95 = kpis.get("ci95", {})
    return [(k, table_number(kpis.get(k)), ci_text(ci95.get(k))) for k in HEADLINE if k in kpis]


def funnel_figure(rep: Replicated) -> Figure:
    """The recruitment funnel, mean over replications: non-members, new members, ..."""
    counts = np.mean(np.array(rep.funnel, dtype=float), axis=0)
    fig = Figure(figsize=(5.5, 2.6))
    ax = fig.add_subplot()
    y = np.arange(len(FUNNEL))[::-1]
    ax.barh(y, counts, color="#fd8d3c")
    ax.set_yticks(y, FUNNEL)
    for yi, c in zip(y, counts, strict=True):
        ax.text(c, yi, f" {c:,.0f}", va="center", fontsize=8)
    ax.set_xlim(0, counts.max() * 1.25 or 1)
    readable_axis(ax.xaxis)
    ax.set_title("funnel (mean over replications)", fontsize=10)
    fig.tight_layout()
    return fig


def daily_figure(rep: Replicated) -> Figure:
    """Daily GMV of the campaign against its no-campaign baseline (replication 0)."""
    run, base = rep.first
    x = np.array(run.dates, dtype="datetime64[D]")
    fig = Figure(figsize=(7.5, 2.8))
    ax = fig.add_subplot()
    ax.plot(x, run.daily_gmv(), color="#d94801", lw=1.2, label="campaign")
    if base is not None:
        ax.plot(x, base.daily_gmv(), color="#6baed6", lw=1.2, label="no campaign")
    ax.set_yscale("log")
    plain_log_ticks(ax.yaxis)
    ax.set_ylabel("GMV per day (yuan)")
    ax.legend(fontsize=8, frameon=False)
    ax.set_title("daily GMV against the baseline (replication 0, log axis)", fontsize=10)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def touch_cell(column: str, value) -> str:
    """One cell of the touch table: a share as a percentage, a number as the CLI prints it."""
    if value is None:
        return ""
    if column == "budget_use":
        return f"{value:.0%}"
    return table_number(value) if isinstance(value, int | float) else str(value)


def touch_table(rows: list[dict]) -> list[tuple[str, ...]]:
    """Touch economics (`analysis.touches` rows): channel, benefit, contacts, spend, budget use."""
    return [tuple(touch_cell(c, r[c]) for c in TOUCH_COLUMNS) for r in rows]


def side_by_side(a: dict, b: dict) -> list[tuple[str, ...]]:
    """Headline KPIs of two strategies' kpis.json: (KPI, A, A's CI, B, B's CI)."""
    ra = {k: (v, ci) for k, v, ci in kpi_rows(a)}
    return [(k, *ra.get(k, ("", "")), v, ci) for k, v, ci in kpi_rows(b)]


def pairwise(a: Replicated, b: Replicated) -> tuple[list[tuple[str, ...]], str]:
    """B against A: (KPI, B - A, 95% CI, clear?) rows and the verdict sentence.

    The two must have run on the same shoppers, seed and replications (common random numbers).
    """
    a, b = replace(a, name="A"), replace(b, name="B")
    try:
        check_comparable([a.scenario, b.scenario], ["A", "B"])
    except UserError as exc:
        return [], f"not comparable: {exc}"
    rows = pair_rows([a, b])
    mine = [r for r in rows if (r["a"], r["b"]) == ("B", "A") and r["kpi"] in PAIR_KPIS]
    table = [
        (
            r["kpi"],
            table_number(r["diff"]),
            ci_text([r["ci_low"], r["ci_high"]]),
            "yes" if r["excludes_zero"] else "no",
        )
        for r in mine
    ]
    (verdict,) = verdicts([a, b], rows)
    return table, verdict["text"]


def html_table(head: tuple[str, ...], rows: list[tuple], cls: str = "") -> str:
    """Rows as an HTML table (text escaped); numbers right-aligned."""
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    head = f'<table class="promosim {cls}"><thead><tr>{th}</tr></thead>'
    return f"{head}<tbody>{body}</tbody></table>"
