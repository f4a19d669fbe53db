"""The touch economics table of `run` and `compare`, and the --touch-roi option they share."""

from __future__ import annotations

import argparse

from simulator.cli.common import print_table
from simulator.formatting import short_number as table_number


def add_touch_roi_option(parser: argparse.ArgumentParser) -> None:
    """--touch-roi: each touch's marginal effect (one more set of runs per touch)."""
    parser.add_argument(
        "--touch-roi",
        action="store_true",
        help="also each touch's marginal incremental GMV, cost and ROI: the scenario with vs "
        "without it on the same random numbers (one more run per touch and replication)",
    )


def ci(row: dict, key: str) -> str:
    """A marginal field with its 95% CI: "12,345 [10,000, 14,000]" ("n/a" when missing)."""
    low, high = row.get(key + "_ci_low"), row.get(key + "_ci_high")
    text = table_number(row[key])
    return text + (f" [{table_number(low)}, {table_number(high)}]" if low is not None else "")


def roi_text(row: dict) -> str:
    """The touch's ROI with its CI, or why it has none (the cost difference's CI includes 0)."""
    if row["roi"] is None:
        return row["roi_note"] or "n/a"
    low, high = row["roi_ci_low"], row["roi_ci_high"]
    text = f"{row['roi']:.2f}" + (f" [{low:.2f}, {high:.2f}]" if low is not None else "")
    return text + (f" ({row['roi_note']})" if row["roi_note"] else "")


def budget_use(row: dict) -> str:
    """Spend / budget as a percentage, marked LOW under 10%; empty without a budget."""
    if row["budget_use"] is None:
        return ""
    return f"{row['budget_use']:.1%}" + (" LOW" if row["budget_low"] else "")


def print_touches(rows: list[dict], with_scenario: bool) -> None:
    """Print one line per touch, then a line per budget far from used."""
    if not rows:
        return
    marginal = any(r["incremental_gmv"] is not None for r in rows)
    table = []
    for r in rows:
        line = (r["scenario"],) if with_scenario else ()
        line += (
            r["touch"],
            r["channel"],
            table_number(r["contacts"]),
            table_number(r["spend"]),
            table_number(r["budget_scaled"]) if r["budget"] is not None else "",
            budget_use(r),
            table_number(r["redemptions"]) if r["benefit"] else "",
        )
        if marginal:
            line += (ci(r, "incremental_gmv"), ci(r, "incremental_cost"), roi_text(r))
        table.append(line)
    head = ("scenario",) if with_scenario else ()
    head += ("touch", "channel", "contacts", "spend", "budget", "budget use", "redemptions")
    if marginal:
        head += ("marginal incr. GMV [95% CI]", "marginal cost [95% CI]", "marginal ROI")
    print_table(table, head)
    for r in (r for r in rows if r["budget_low"]):
        who = f"{r['scenario']}: " if with_scenario else ""
        print(
            f"{who}{r['touch']} spent {table_number(r['spend'])} of its budget of "
            f"{table_number(r['budget_scaled'])} ({r['budget_use']:.1%}): its audience, channel "
            "capacity or frequency cap binds first"
        )
    if any(len(r["benefit_touches"]) > 1 for r in rows):
        print("redemptions are per benefit: a benefit several touches deliver shows its total")
