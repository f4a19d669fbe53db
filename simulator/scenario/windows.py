"""Which calendar days a window (a benefit's `online`, a touch's `when`) covers."""

from __future__ import annotations

import numpy as np

from simulator.scenario.schema import WEEKDAYS, Scenario, Window


def window_days(w: Window, sc: Scenario) -> np.ndarray:
    """Boolean mask over the calendar's days of a Window."""
    days = sc.days
    phases = {ph.name: ph for ph in sc.calendar.phases}
    chosen = not (w.phases or w.dates or w.start)
    mask = np.full(len(days), chosen)
    for name in w.phases:
        mask |= [phases[name].start <= d <= phases[name].end for d in days]
    dates = set(w.dates)
    mask |= [d in dates for d in days]
    if w.start is not None and w.end is not None:
        mask |= [w.start <= d <= w.end for d in days]
    if w.weekdays:
        allowed = {WEEKDAYS.index(x) for x in w.weekdays}
        mask &= [d.weekday() in allowed for d in days]
    return mask
