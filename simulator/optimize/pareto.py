"""The Pareto front of incremental GMV against cost over the feasible trials.

A trial is on the front when no other feasible trial has at least its incremental GMV at no
more cost, and strictly more GMV or strictly less cost: what a planner chooses from when the
budget is not fixed (each point is the most GMV its cost buys among the plans tried).
"""

from __future__ import annotations


def pareto_front(rows: list[dict], gain: str = "incremental_gmv", cost: str = "cost") -> list[dict]:
    """The non-dominated rows (higher `gain`, lower `cost`), by increasing cost.

    Rows lacking either value are left out; of equal points the first is kept.
    """
    pts = [r for r in rows if r.get(gain) is not None and r.get(cost) is not None]
    pts.sort(key=lambda r: (r[cost], -r[gain]))
    front, best = [], float("-inf")
    for r in pts:
        if r[gain] > best:
            front.append(r)
            best = r[gain]
    return front
