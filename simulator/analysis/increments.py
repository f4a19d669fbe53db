"""Per-replication increments of one strategy over another: GMV, cost, ROI and profit.

Replication k of every scenario shares its random numbers (and, with assumptions drawn, its
parameter draw), so the differences are paired by replication. Used by the comparison table
(`experiment`), the touch economics (`touches`) and the variance split (`uncertainty`).
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
    (cost from the calendar's start to the window's end). The comparison table states each ROI
    over the replications from its parts (`ratio_parts`, `pairs.ratio_estimate`).
    """
    parts = ratio_parts(res, ref)
    d_gmv, d_cost = parts.pop("roi")
    out = {"incremental_gmv": d_gmv, "incremental_cost": d_cost, "roi": _ratio(d_gmv, d_cost)}
    d_profit = paired(res.values("profit"), ref.values("profit"))
    if any(v is not None for v in d_profit):
        out["incremental_profit"] = d_profit
    for key, (gmv, cost) in parts.items():
        if key.endswith(".roi"):
            out[key.removesuffix("roi") + "incremental_gmv"] = gmv
        out[key] = _ratio(gmv, cost)
    return out


def ratio_parts(res: Replicated, ref: Replicated) -> dict[str, tuple[list, list]]:
    """Each ROI of `increments` as its per-replication GMV and cost differences."""
    out = {"roi": _diffs(res, ref, "", "cost")}
    for w in (w for w in res.scenario.windows if w in ref.scenario.windows):
        key = f"{WINDOW}{w}."
        out[key + "roi"] = _diffs(res, ref, key, "cost")
        out[key + "roi_to_date"] = _diffs(res, ref, key, "cost_to_date")
    return out


def _diffs(res: Replicated, ref: Replicated, prefix: str, cost: str) -> tuple[list, list]:
    """Per replication: GMV and `cost` differences of the prefixed KPIs."""
    d_gmv = paired(res.values(prefix + "gmv"), ref.values(prefix + "gmv"))
    return d_gmv, paired(res.values(prefix + cost), ref.values(prefix + cost))


def _ratio(gmv: list, cost: list) -> list:
    """Per replication GMV / cost, None where either is missing or the cost is zero."""
    return [None if g is None or not c else g / c for g, c in zip(gmv, cost, strict=True)]
