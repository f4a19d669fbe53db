"""Per-replication increments of one strategy over another: GMV, cost, ROI and profit.

Replication k of every scenario shares its random numbers (and, with assumptions drawn, its
parameter draw), so the differences are paired by replication. Used by the comparison table
(`experiment`), the touch economics and the pairwise probabilities (`uncertainty`).
"""

from __future__ import annotations

from typing import Protocol

from simulator.analysis.kpi_spec import WINDOW
from simulator.scenario.schema import Scenario


class Replicated(Protocol):
    """Per-replication KPIs of one scenario (`experiment.Replicated`)."""

    scenario: Scenario

    def values(self, kpi: str) -> list:
        """The KPI's value in each replication."""


def paired(a: list, b: list) -> list[float | None]:
    """Per-replication differences a - b; None where either is missing.

    Kept in place, so the list stays aligned with the replications and their parameter draws.
    """
    return [None if x is None or y is None else x - y for x, y in zip(a, b, strict=True)]


def increments(res: Replicated, ref: Replicated) -> dict[str, list[float]]:
    """Per replication: incremental GMV, cost, ROI and profit of `res` over `ref`.

    ROI is incremental GMV / incremental cost; replications whose incremental cost is zero have
    none (None, as any value undefined in a replication). Incremental profit is there when both
    scenarios state a margin. Then, for each KPI window both have,
    window.<name>.incremental_gmv and .roi (cost booked on the window's days) and .roi_to_date
    (cost from the calendar's start to the window's end).
    """
    d_gmv, d_cost, roi = _gain(res, ref, "", "cost")
    out = {"incremental_gmv": d_gmv, "incremental_cost": d_cost, "roi": roi}
    d_profit = paired(res.values("profit"), ref.values("profit"))
    if any(v is not None for v in d_profit):
        out["incremental_profit"] = d_profit
    for w in (w for w in res.scenario.windows if w in ref.scenario.windows):
        key = f"{WINDOW}{w}."
        out[key + "incremental_gmv"], _, out[key + "roi"] = _gain(res, ref, key, "cost")
        out[key + "roi_to_date"] = _gain(res, ref, key, "cost_to_date")[2]
    return out


def _gain(res: Replicated, ref: Replicated, prefix: str, cost: str) -> tuple[list, list, list]:
    """Per replication: GMV and `cost` differences of the prefixed KPIs, and their ratio."""
    d_gmv = paired(res.values(prefix + "gmv"), ref.values(prefix + "gmv"))
    d_cost = paired(res.values(prefix + cost), ref.values(prefix + cost))
    roi = [None if g is None or not c else g / c for g, c in zip(d_gmv, d_cost, strict=True)]
    return d_gmv, d_cost, roi
