"""One scenario run as `promosim run` reports it: replications, baseline, the kpis.json document.

`promosim run` and the dashboard both call `run_scenario`, so the numbers a planner sees on the
page are those `kpis.json` holds for the same scenario, seed, shoppers and replications.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from simulator.analysis.experiment import Replicated, replicate, touch_economics
from simulator.analysis.kpis import nested
from simulator.analysis.stats import mean_ci
from simulator.analysis.touches import by_touch
from simulator.analysis.uncertainty import split_variance
from simulator.scenario.schema import Scenario


@dataclass
class ScenarioRun:
    """A scenario's replications and what `promosim run` writes of them."""

    rep: Replicated
    kpis: dict  # the kpis.json document
    summary: dict  # flat KPI -> (mean, ci low, ci high) over replications
    split: dict | None  # assumptions drawn: flat KPI -> `uncertainty.split_variance`
    touches: list[dict]  # touch economics, a row per touch (`analysis.touches`)


def summarise(rep: Replicated) -> dict:
    """Mean and 95% CI of each numeric KPI over replications."""
    return {kpi: mean_ci(rep.values(kpi)) for kpi in rep.kpis[0]}


def kpis_document(
    rep: Replicated, mode: str = "fixed", touches: list[dict] | None = None
) -> tuple[dict, dict, dict | None, list[dict]]:
    """kpis.json of the replications done so far: (document, summary, variance split, touches).

    One replication gives its KPIs; more give means, 95% CIs and each replication's value;
    with assumptions drawn the CIs are the noise's and the intervals under assumptions follow.
    touches: the touch economics when computed already (with marginal runs), else each touch's
    contacts, spend and budget use from these replications.
    """
    reps = len(rep.kpis)
    summary = summarise(rep)
    if touches is None:
        touches = touch_economics(rep, rep.first[0].shoppers, False)
    split = None
    if reps == 1:
        kpis = nested(rep.kpis[0])
    else:
        kpis = nested({k: m for k, (m, _, _) in summary.items()})
        kpis["reps"] = reps
        kpis["ci95"] = nested({k: [lo, hi] for k, (_, lo, hi) in summary.items()})
        kpis["replications"] = nested({k: rep.values(k) for k in summary})
    if mode == "drawn":  # the variance split of each KPI (analysis.uncertainty)
        split = {k: split_variance(rep.values(k), rep.draws) for k in summary}
        kpis["ci95"] = nested({k: [v["ci_low"], v["ci_high"]] for k, v in split.items()})
        kpis["assumptions"] = {"draws": reps // 2, "values": rep.assumed[::2]}
        kpis["under_assumptions95"] = nested(
            {k: [v["total_low"], v["total_high"]] for k, v in split.items()}
        )
        kpis["assumption_share"] = nested({k: v["assumption_share"] for k, v in split.items()})
    kpis["touches"] = by_touch(touches)  # {} for a plan with no touches
    return kpis, summary, split, touches


def run_scenario(
    sc: Scenario,
    base_dir: Path,
    *,
    reps: int = 1,
    seed: int | None = None,
    shoppers: int | None = None,
    with_baseline: bool = True,
    progress=False,
    assumptions: str = "fixed",
    touch_roi: bool = False,
    on_replication=None,
) -> ScenarioRun:
    """Run a scenario `reps` times, each with its no-campaign baseline on the same numbers.

    progress: as `replicate` takes it (True for a bar, or a tqdm bar to advance);
    touch_roi: also run the scenario without each touch, for what each adds
    (`experiment.touch_economics`); on_replication: called with the `Replicated` after each
    replication (a live view).
    """
    (rep,) = replicate(
        [sc],
        [sc.name],
        reps=reps,
        seed=seed,
        shoppers=shoppers,
        with_baseline=with_baseline,
        base_dirs=[base_dir],
        progress=progress,
        assumptions=assumptions,
        on_replication=None if on_replication is None else lambda out: on_replication(out[0]),
    )
    touches = touch_economics(
        rep,
        rep.first[0].shoppers,
        touch_roi,
        reps=reps,
        seed=seed,
        shoppers=shoppers,
        base_dir=base_dir,
        progress=progress is True,
    )
    return ScenarioRun(rep, *kpis_document(rep, assumptions, touches))
