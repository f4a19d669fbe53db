"""Measuring a target in a run: the KPI over the target's days, against the baseline if asked.

A target's KPI is a `compute_kpis` key, one of `DERIVED` here, `reach_touch_<touch>` or a daily
counter. What the fit must know about each KPI is kept here: which need the no-campaign run
(`NEEDS_BASELINE`) and which do not grow with the number of shoppers (`INTENSIVE`).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from simulator.analysis.kpis import compute_kpis, kpi_names, ratio
from simulator.engine.counters import Layout
from simulator.engine.run import RunResult
from simulator.fitting.targets.spec import TargetSpec
from simulator.scenario.schema import Scenario

# KPIs that need the no-campaign run itself (never compared with it again)
NEEDS_BASELINE = frozenset({"baseline_gmv", "incremental_gmv", "incremental_member_gmv", "roi"})
# KPIs that do not grow with the number of shoppers; every other KPI is a count or money
INTENSIVE = frozenset(
    {
        "member_gmv_penetration",
        "new_member_first_purchase_rate",
        "old_member_gmv_share",
        "member_arpu",
        "old_member_arpu",
        "non_member_arpu",
        "old_member_premium",
        "presale_member_gmv_share",
        "roi",
        "old_customer_share",
        "old_member_order_share",
    }
)
# KPIs computed here from the daily counters, with what they mean
DERIVED = {
    "new_customers": "first purchases ever (shoppers who had never bought from the store)",
    "old_customers": "purchases by shoppers who had bought before (orders − new_customers)",
    "old_customer_share": "old_customers / orders: on one day, the share of that day's buyers "
    "who had bought before",
    "old_member_order_share": "orders by old members / orders: on one day, the share of that "
    "day's buyers who were members before the campaign",
}
REACH = "reach_touch_"  # reach_touch_<touch>: most shoppers the touch contacted on one day


def _slice(run: RunResult, mask: np.ndarray) -> RunResult:
    """The run restricted to the selected days (KPIs of the slice are over those days)."""
    keep = np.flatnonzero(mask)
    return dataclasses.replace(
        run,
        dates=[run.dates[d] for d in keep],
        phases=[run.phases[d] for d in keep],
        presale=run.presale[mask],
        daily_int=run.daily_int[mask],
        daily_float=run.daily_float[mask],
        final=None,
    )


def measure(run: RunResult, kpi: str, baseline: RunResult | None = None) -> float | None:
    """A KPI of a (sliced) run: compute_kpis key, DERIVED one, reach_touch_<t> or counter."""
    if kpi in DERIVED:
        first = float(run.total("first_purchases"))
        orders = float(
            sum(run.total(f"orders_{k}") for k in ("old_member", "new_member", "nonmember"))
        )
        return {
            "new_customers": first,
            "old_customers": orders - first,
            "old_customer_share": ratio(orders - first, orders),
            "old_member_order_share": ratio(run.total("orders_old_member"), orders),
        }[kpi]
    if kpi.startswith(REACH):
        daily = run.series("contacts_touch_" + kpi.removeprefix(REACH))
        return float(daily.max()) if len(daily) else 0.0
    value = compute_kpis(run, baseline).get(kpi, ...)
    if value is not ...:
        return value
    return float(run.total(kpi))


def target_value(t: TargetSpec, run: RunResult, baseline: RunResult | None) -> float | None:
    """A target's KPI in one replication: over its phases, and against the baseline if asked."""
    mask = np.isin(run.phases, t.phases) if t.phases else np.ones(len(run.dates), bool)
    r = _slice(run, mask)
    b = _slice(baseline, mask) if baseline is not None else None
    x = measure(r, t.kpi, b if t.kpi in NEEDS_BASELINE else None)
    if t.compare is None or x is None:
        return x
    y = measure(b, t.kpi)
    if y is None:
        return None
    return ratio(x, y) if t.compare == "ratio" else x - y


def extensive(t: TargetSpec) -> bool:
    """Whether the target grows with the number of shoppers (counts and money)."""
    return t.compare != "ratio" and t.kpi not in INTENSIVE


def known_kpis(sc: Scenario) -> list[str]:
    """Every KPI name a target may use with this scenario."""
    lay = Layout(tuple(sc.benefits), tuple(sc.channels), tuple(sc.plan))
    names = kpi_names(sc) + list(DERIVED) + [REACH + t for t in sc.plan]
    return names + [n for n in lay.int_names() + lay.float_names() if n not in names]
