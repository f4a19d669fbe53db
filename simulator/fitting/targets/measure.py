"""Measuring a target in a run: the KPI over the target's days, against the baseline if asked.

A target's KPI is a `compute_kpis` key, a targets-only KPI of the registry (`TARGET_ONLY`),
`reach_touch_<touch>` or a daily counter. What the fit must know about each KPI (whether it
needs the no-campaign run, whether it grows with the number of shoppers) is read from the KPI
registry (`simulator.analysis.kpi_registry`).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from simulator.analysis.kpi_registry import REGISTRY, find
from simulator.analysis.kpis import compute_kpis, compute_target_kpis, kpi_names, ratio
from simulator.engine.counters import Layout
from simulator.engine.run import RunResult
from simulator.fitting.targets.spec import TargetSpec
from simulator.scenario.schema import Scenario

# KPIs only a targets fit measures (in the KPI registry with reported=False)
TARGET_ONLY = tuple(k.name for k in REGISTRY if not k.reported)
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
    """A KPI of a (sliced) run: compute_kpis key, targets-only KPI, reach_touch_<t> or counter."""
    if kpi in TARGET_ONLY:
        return compute_target_kpis(run)[kpi]
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
    x = measure(r, t.kpi, b if needs_baseline(t.kpi) else None)
    if t.compare is None or x is None:
        return x
    y = measure(b, t.kpi)
    if y is None:
        return None
    return ratio(x, y) if t.compare == "ratio" else x - y


def needs_baseline(kpi: str) -> bool:
    """Whether the KPI is measured against the no-campaign run itself (ROI, incremental GMV)."""
    k = find(kpi)
    return k is not None and k.needs_baseline


def extensive(t: TargetSpec) -> bool:
    """Whether the target grows with the number of shoppers (counts and money)."""
    k = find(t.kpi)
    return t.compare != "ratio" and not (k is not None and k.intensive)


def known_kpis(sc: Scenario) -> list[str]:
    """Every KPI name a target may use with this scenario."""
    lay = Layout.of(sc)
    names = kpi_names(sc) + list(TARGET_ONLY) + [REACH + t for t in sc.plan]
    return names + [n for n in lay.int_names() + lay.float_names() if n not in names]
