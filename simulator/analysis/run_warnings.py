"""Warnings about a plan that did not do what it says, read from a run's daily counters.

Printed by `promosim run` and `compare` and listed in run.json (`plan_warnings` has those found
before simulating):

- a touch sent on some day that contacted nobody over the whole run;
- a touch budget less than 10% used (its cost per contact, audience or capacity binds first);
- a touch that made no contact on days its channel's daily capacity was already used (95% or
  more: touches take whole priority bins) by earlier touches in plan order (capacity is shared
  in plan order).
"""

from __future__ import annotations

import numpy as np

from simulator.engine.plan import window_days
from simulator.engine.run import RunResult

LOW_BUDGET_USE = 0.10  # a budget used less than this is worth a warning
FULL = 0.95  # a channel with this share of its daily capacity used has none left for a touch


def run_warnings(run: RunResult) -> list[str]:
    """Every warning the run's counters show, touch by touch in plan order."""
    sc = run.scenario
    scale = run.shoppers / sc.population.shoppers
    out = []
    for name, touch in sc.plan.items():
        days = window_days(touch.when, sc)
        contacts = run.series(f"contacts_touch_{name}")
        taken = capacity_taken(run, name, days, contacts, scale)
        if days.any() and contacts.sum() == 0 and not taken:
            out.append(f"plan.{name}: contacted nobody on its {int(days.sum())} day(s)")
        out += taken
        if touch.budget and contacts.sum() > 0:
            used = run.series(f"cost_touch_{name}").sum() / (touch.budget * scale)
            if used < LOW_BUDGET_USE:
                out.append(
                    f"plan.{name}: used {used:.1%} of its budget of {touch.budget:,.0f}; "
                    "its audience, channel capacity or frequency cap binds first"
                )
    return out


def capacity_taken(run: RunResult, name: str, days, contacts, scale: float) -> list[str]:
    """The touch's days with no contact because earlier touches used its channel's capacity."""
    sc = run.scenario
    touch = sc.plan[name]
    capacity = sc.channels[touch.channel].daily_capacity
    if capacity is None:
        return []
    # touches take whole priority bins of shoppers, so a used-up capacity is met to within a bin
    full = run.series(f"contacts_channel_{touch.channel}") >= FULL * round(capacity * scale)
    order = list(sc.plan)
    earlier = [t for t in order[: order.index(name)] if sc.plan[t].channel == touch.channel]
    if not earlier:
        return []
    starved = np.flatnonzero(days & full & (contacts == 0))
    if len(starved) == 0:
        return []
    first = run.dates[starved[0]]
    return [
        f"plan.{name}: on {len(starved)} day(s) (first {first}) channel '{touch.channel}' had "
        f"used its daily capacity of {capacity:,} on earlier touches ({', '.join(earlier)}); "
        f"{name} made no contact those days"
    ]
