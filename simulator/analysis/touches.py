"""Touch economics: what each touch of a plan did and, asked, what it added (with vs without).

Per touch, averaged over replications: contacts, spend (its contact cost, the cost its budget is
checked against), budget use = spend / budget, the budget scaled like `run_warnings` when the run
has another number of shoppers than the scenario states, and the redemptions of its benefit.
Redemptions are counted per benefit, not per touch (an order using a benefit does not say which
touch delivered it): a benefit delivered by several touches (or granted on enrolment too) shows
its total on each of them, with the touches that share it named in `benefit_touches`. What one
touch adds is marginal: the scenario with vs without it on the same random numbers, giving its
incremental GMV, cost, profit, redemptions of its benefit and ROI (`pairs.ratio_estimate`: no
number when the incremental cost's CI includes zero).
"""

from __future__ import annotations

import math

from simulator.analysis.increments import increments, paired
from simulator.analysis.pairs import ratio_estimate
from simulator.analysis.run_warnings import LOW_BUDGET_USE
from simulator.analysis.stats import estimate
from simulator.scenario.schema import Scenario

MARGINAL = ("incremental_gmv", "incremental_cost", "incremental_profit", "marginal_redemptions")


def touch_totals(run) -> dict[str, tuple[int, float]]:
    """Contacts and spend of each touch of a run (`engine.run.RunResult`) over its calendar."""
    return {
        name: (int(run.total(f"contacts_touch_{name}")), float(run.total(f"cost_touch_{name}")))
        for name in run.scenario.plan
    }


def without_each(scenario: Scenario) -> list[Scenario]:
    """The scenario without each of its touches in turn, in plan order."""
    return [
        scenario.model_copy(update={"plan": {k: v for k, v in scenario.plan.items() if k != t}})
        for t in scenario.plan
    ]


def touch_rows(res, shoppers: int, marginal: list | None = None) -> list[dict]:
    """One row per touch of `res` (`experiment.Replicated`, with `touches` recorded).

    shoppers: the runs' number (the budget is scaled by shoppers / the scenario's);
    marginal: [with, without touch 1, without touch 2, ...] replications, for the marginal
    fields (None: they are null).
    """
    sc = res.scenario
    scale = shoppers / sc.population.shoppers
    rows = []
    for k, (name, touch) in enumerate(sc.plan.items()):
        contacts = estimate([t[name][0] for t in res.touches]).mean
        spend = estimate([t[name][1] for t in res.touches]).mean
        budget = touch.budget
        use = spend / (budget * scale) if budget else None  # a budget of 0: no share
        sharing = [t for t, x in sc.plan.items() if touch.benefit and x.benefit == touch.benefit]
        redeemed = f"redemptions_benefit_{touch.benefit}"
        row = {
            "scenario": res.name,
            "touch": name,
            "channel": touch.channel,
            "benefit": touch.benefit,
            "contacts": contacts,
            "spend": spend,
            "budget": budget,
            "budget_scaled": None if budget is None else budget * scale,
            "budget_use": use,
            "budget_low": use is not None and use < LOW_BUDGET_USE,
            "redemptions": estimate(res.values(redeemed)).mean if touch.benefit else None,
            "benefit_touches": sharing,
        }
        if marginal is not None:
            row |= marginal_fields(marginal[0], marginal[k + 1], redeemed)
        else:
            row |= {f: None for m in MARGINAL for f in (m, m + "_ci_low", m + "_ci_high")}
            row |= {"roi": None, "roi_ci_low": None, "roi_ci_high": None, "roi_note": ""}
        rows.append(row)
    return rows


def marginal_fields(with_it, without, redeemed: str) -> dict:
    """What a touch adds: the scenario with it over without it, paired by replication."""
    gains = increments(with_it, without)
    if redeemed in with_it.kpis[0]:
        gains["marginal_redemptions"] = paired(with_it.values(redeemed), without.values(redeemed))
    out = {}
    for m in MARGINAL:
        est = estimate(gains[m]) if m in gains else None
        for suffix, i in (("", 0), ("_ci_low", 1), ("_ci_high", 2)):
            value = None if est is None else est[i]
            out[m + suffix] = None if value is None or math.isnan(value) else value
    roi = ratio_estimate(gains["incremental_gmv"], gains["incremental_cost"])
    out |= {"roi": roi["value"], "roi_ci_low": roi["ci_low"], "roi_ci_high": roi["ci_high"]}
    return out | {"roi_note": roi["note"]}


def by_touch(rows: list[dict]) -> dict[str, dict]:
    """Touch rows of one scenario as kpis.json has them: {touch: {channel, benefit, ...}}."""
    drop = ("scenario", "touch")
    return {r["touch"]: {k: v for k, v in r.items() if k not in drop} for r in rows}
