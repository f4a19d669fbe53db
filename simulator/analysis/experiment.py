"""Replications and strategy comparison with common random numbers and confidence intervals.

Replication k of every scenario runs on the same seed, `rng.replication_seed(seed, k)`, so the same
shopper meets the same random numbers in every scenario and differences between scenarios are the
policies', not noise. Each scenario's KPIs are averaged over replications with a 95% t-interval;
each alternative is compared with the baseline (the first scenario) by the paired per-replication
difference, with its own 95% t-interval. `independent=True` gives every scenario unrelated seeds
instead, to show what common random numbers buy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from simulator.analysis.increments import increments, paired, ratio_parts
from simulator.analysis.kpi_registry import find
from simulator.analysis.kpi_spec import WINDOW
from simulator.analysis.kpis import compute_kpis
from simulator.analysis.pairs import pair_rows, ratio_estimate, verdicts
from simulator.analysis.stats import estimate
from simulator.analysis.touches import touch_rows, touch_totals, without_each
from simulator.analysis.uncertainty import AssumptionDraws, add_uncertainty
from simulator.domain.lifecycle import JOINED, OLD_MEMBER, REPEAT
from simulator.engine.plan import n_capped
from simulator.engine.population import draw_population
from simulator.engine.rng import replication_seed
from simulator.engine.run import RunResult, no_campaign, simulate
from simulator.errors import UserError
from simulator.scenario.schema import Scenario

FUNNEL = ("non-members at start", "new members", "first purchase", "repeat")


class ExperimentError(UserError, ValueError):
    """Scenarios that cannot be compared (different populations or calendars)."""


def check_comparable(scenarios: list[Scenario], names: list[str]) -> None:
    """Refuse scenarios that do not share a population and a calendar span."""
    first = scenarios[0]
    for sc, name in zip(scenarios[1:], names[1:], strict=True):
        if sc.population != first.population:
            raise ExperimentError(
                f"{name} has a different population section from {names[0]}: common random "
                "numbers compare strategies on the same shoppers, so the population (mix, "
                "segments, rates, size) must be identical"
            )
        if (sc.calendar.start, sc.calendar.end) != (first.calendar.start, first.calendar.end):
            raise ExperimentError(
                f"{name} runs {sc.calendar.start}..{sc.calendar.end} but {names[0]} runs "
                f"{first.calendar.start}..{first.calendar.end}; KPIs over different calendars "
                "are not comparable"
            )
        for w in set(sc.windows) & set(first.windows):
            if sc.window_range(w) != first.window_range(w):
                raise ExperimentError(
                    f"{name} and {names[0]} both name KPI window '{w}' but over different days "
                    f"({sc.window_range(w)} vs {first.window_range(w)}); expected the same days "
                    "or different names"
                )


def funnel_counts(run: RunResult) -> list[int]:
    """Non-members at the start, new members, their first purchases, new members now repeat."""
    joined = (run.final.flags & JOINED) > 0
    members0 = ((run.final.flags & OLD_MEMBER) > 0) & ~joined  # build-up recruits are old too
    non_members0 = int(np.count_nonzero(~members0))
    return [
        non_members0,
        int(run.total("enrolments")),
        int(run.total("new_joined_buyers")),
        int(np.count_nonzero(joined & (run.final.state == REPEAT))),
    ]


@dataclass
class Replicated:
    """Per-replication results of one scenario."""

    name: str
    scenario: Scenario
    kpis: list[dict] = field(default_factory=list)  # one flat KPI dict per replication
    daily_gmv: list[np.ndarray] = field(default_factory=list)  # GMV per day, per replication
    funnel: list[list[int]] = field(default_factory=list)
    first: tuple[RunResult, RunResult | None] | None = None  # replication 0 (run, baseline)
    draws: list[int] = field(default_factory=list)  # each replication's parameter draw
    assumed: list[dict] = field(default_factory=list)  # each replication's assumption values
    touches: list[dict] = field(default_factory=list)  # each replication's `touch_totals`

    def values(self, kpi: str) -> list:
        """The KPI's value in each replication."""
        return [k.get(kpi) for k in self.kpis]


def replicate(
    scenarios: list[Scenario],
    names: list[str],
    *,
    reps: int,
    seed: int | None = None,
    shoppers: int | None = None,
    independent: bool = False,
    with_baseline: bool = False,
    base_dirs: list[Path] | None = None,
    progress=False,
    population_seed: int | None = None,
    assumptions: str = "fixed",
    on_replication=None,
) -> list[Replicated]:
    """Run every scenario `reps` times; replication k shares its seed across scenarios (CRN).

    The shoppers (their traits: state, segments, rates, spend, dropout) are drawn once from
    `population_seed` (default: the base seed) and shared by every scenario and replication:
    the store is one store, and a replication varies what its shoppers do. `independent=True`
    gives every scenario and replication its own population and behaviour seeds instead.
    with_baseline: also run each scenario's no-campaign counterfactual on the same seed, so the
    per-replication KPIs include incremental GMV and ROI (as `promosim run` reports them).
    assumptions: "fixed" runs the scenarios as given (their assumptions at their point values);
    "drawn" gives replications 2d and 2d + 1 parameter draw d of every scenario's assumptions
    (`uncertainty.AssumptionDraws`; the shoppers are redrawn per draw when the population's
    parameters are uncertain).
    progress: True for a bar, or a tqdm bar to reset and advance by days; on_replication:
    called with the results after each replication (a view of the replications done so far).
    """
    base_dirs = base_dirs or [Path(".")] * len(scenarios)
    seed = scenarios[0].seed if seed is None else seed
    n = shoppers or scenarios[0].population.shoppers
    out = [Replicated(nm, sc) for nm, sc in zip(names, scenarios, strict=True)]
    capped = max(n_capped(sc) for sc in scenarios)
    days = len(scenarios[0].days) * (2 if with_baseline else 1)
    fixed_seed = seed if population_seed is None else population_seed
    first = scenarios[0]
    shared = (
        None
        if independent
        else draw_population(
            first.population, fixed_seed, n, capped, base_dirs[0], first.calendar.start
        )
    )
    drawn = AssumptionDraws.of(scenarios, base_dirs, seed, reps) if assumptions == "drawn" else None
    redraw = drawn is not None and any(a.path.startswith("population.") for a in drawn.found[0])
    desc = f"{reps} x {len(scenarios)} scenario(s)"
    own = not isinstance(progress, tqdm)  # else the caller's bar (the dashboard's indicator)
    bar = tqdm(unit="day", unit_scale=True, desc=desc, disable=not progress) if own else progress
    bar.reset(total=reps * len(scenarios) * days)
    with bar:
        for k in range(reps):
            if redraw and k % 2 == 0:  # the shoppers of this parameter draw
                pop_sc = drawn.scenario(0, k)
                shared = draw_population(
                    pop_sc.population, fixed_seed, n, capped, base_dirs[0], first.calendar.start
                )
            for j, (sc, res) in enumerate(zip(scenarios, out, strict=True)):
                if drawn is not None:
                    sc = drawn.scenario(j, k)
                    res.draws.append(drawn.draw_of(k))
                    res.assumed.append(drawn.values(j, k))
                s_k = replication_seed(seed + (7919 * j if independent else 0), k)
                pop_seed = s_k if independent else fixed_seed
                population = (
                    shared
                    if not independent
                    else draw_population(
                        sc.population, pop_seed, n, capped, base_dirs[j], sc.calendar.start
                    )
                )
                kw = dict(
                    seed=s_k,
                    shoppers=n,
                    base_dir=base_dirs[j],
                    population=population,
                    population_seed=pop_seed,
                    progress=bar,
                )
                run = simulate(sc, keep_final=True, **kw)
                base = simulate(no_campaign(sc), **kw) if with_baseline else None
                res.kpis.append(compute_kpis(run, base))
                if k == 0:
                    res.first = (run, base)
                res.daily_gmv.append(run.daily_gmv())
                res.funnel.append(funnel_counts(run))
                res.touches.append(touch_totals(run))
            if on_replication is not None:
                on_replication(out)
    return out


def _row(scenario: str, kpi: str, values: list, diffs: list | None) -> dict:
    """A table row: the KPI's mean, CI, sd and replications, and the paired difference's."""
    row = {
        "scenario": scenario,
        "kpi": kpi,
        **estimate(values).as_row(),
        "diff": None,
        "diff_ci_low": None,
        "diff_ci_high": None,
        "diff_sd": None,
        "diff_excludes_zero": None,
        "ratio": False,
        "note": "",
    }
    if diffs is not None:
        d = estimate(diffs)
        row.update(
            diff=d.mean,
            diff_ci_low=d.ci_low,
            diff_ci_high=d.ci_high,
            diff_sd=d.sd,
            diff_excludes_zero=bool(d.ci_low > 0 or d.ci_high < 0)
            if not math.isnan(d.ci_low)
            else None,
        )
    return row


def comparison_rows(results: list[Replicated]) -> list[dict]:
    """Tidy rows: one per scenario x compared KPI, with the paired difference to the first scenario.

    The compared KPIs are the registry's (`Kpi.compared`), in `compute_kpis` order, but for those
    undefined in every replication (profit without a margin). Alternatives
    also get incremental_gmv, incremental_cost (their differences in gmv and cost),
    roi = incremental GMV / incremental cost and incremental_profit (with a margin), from the
    per-replication increments (`increments`); each ROI is the ratio of the mean increments,
    null with a `note` when the cost difference's CI includes zero or the cost falls
    (`pairs.ratio_estimate`).
    """
    base = results[0]
    rows = []
    for j, res in enumerate(results):
        for kpi in (k for k in res.kpis[0] if find(k).compared and not k.startswith(WINDOW)):
            values = res.values(kpi)
            if all(v is None for v in values):
                continue
            if kpi in base.kpis[0]:
                ref = base.values(kpi)
            else:  # a benefit or channel the baseline does not have costs it nothing
                ref = [0.0] * len(values)
            rows.append(_row(res.name, kpi, values, paired(values, ref)))
        if j == 0:
            continue
        parts = ratio_parts(res, base)
        for kpi, v in increments(res, base).items():
            row = _row(res.name, kpi, v, None)
            if kpi in parts:  # a ratio: stated from its parts, when it exists
                ratio = ratio_estimate(*parts[kpi], res.draws)
                row.update(mean=ratio["value"], ci_low=ratio["ci_low"], ci_high=ratio["ci_high"])
                row.update(sd=None, ratio=True, note=ratio["note"])
            rows.append(row)
    return rows


def touch_marginal_runs(
    scenario: Scenario,
    name: str,
    *,
    reps: int,
    seed: int | None,
    shoppers: int | None,
    base_dir: Path,
    progress: bool,
) -> list[Replicated]:
    """The scenario, then the scenario without each touch, on the same random numbers."""
    variants = [scenario, *without_each(scenario)]
    return replicate(
        variants,
        [name] + [f"{name} without {t}" for t in scenario.plan],
        reps=reps,
        seed=seed,
        shoppers=shoppers,
        base_dirs=[base_dir] * len(variants),
        progress=progress,
    )


def touch_economics(res: Replicated, size: int, touch_roi: bool, **kw) -> list[dict]:
    """`touches.touch_rows` of one scenario run on `size` shoppers.

    touch_roi: with the marginal runs (`touch_marginal_runs`, `kw` its options).
    """
    if not res.scenario.plan:
        return []
    marginal = touch_marginal_runs(res.scenario, res.name, **kw) if touch_roi else None
    return touch_rows(res, size, marginal)


@dataclass
class Comparison:
    """Everything `promosim compare` reports."""

    results: list[Replicated]
    rows: list[dict]
    meta: dict
    touches: list[dict] = field(default_factory=list)  # touch economics (`touches`)
    pairs: list[dict] = field(default_factory=list)  # every ordered pair on each KPI (`pairs`)
    verdicts: list[dict] = field(default_factory=list)  # one per pair of scenarios, in words

    def document(self) -> dict:
        """comparison.json: every field but the per-replication results (`compare`, `optimize`)."""
        return {k: getattr(self, k) for k in ("meta", "rows", "pairs", "verdicts", "touches")}

    def table(self):
        """The rows as a pandas DataFrame (one row per scenario x KPI)."""
        import pandas as pd

        return pd.DataFrame(self.rows)


def run_comparison(
    scenarios: list[Scenario],
    names: list[str],
    *,
    reps: int = 30,
    seed: int | None = None,
    shoppers: int | None = None,
    independent: bool = False,
    touch_roi: bool = False,
    base_dirs: list[Path] | None = None,
    progress: bool = False,
    assumptions: str = "fixed",
) -> Comparison:
    """Compare a baseline (first) with alternatives over `reps` replications.

    assumptions: "fixed" or "drawn" (`replicate`); drawn, the rows also split each KPI's
    variance into assumptions and noise, and the pairs say who beats whom how often.
    Every pair of scenarios is compared (`pairs`); each scenario's touches are costed
    (`touches`), with their marginal effect when `touch_roi`.
    """
    check_comparable(scenarios, names)
    base_dirs = base_dirs or [Path(".")] * len(scenarios)
    results = replicate(
        scenarios,
        names,
        reps=reps,
        seed=seed,
        shoppers=shoppers,
        independent=independent,
        base_dirs=base_dirs,
        progress=progress,
        assumptions=assumptions,
    )
    rows = comparison_rows(results)
    if assumptions == "drawn":
        add_uncertainty(rows, results)
    pairs = pair_rows(results)
    n = shoppers or scenarios[0].population.shoppers
    touches = []
    for res, bd in zip(results, base_dirs, strict=True):
        kw = dict(reps=reps, seed=seed, shoppers=shoppers, base_dir=bd, progress=progress)
        touches += touch_economics(res, n, touch_roi, **kw)
    meta = {
        "baseline": names[0],
        "scenarios": names,
        "reps": reps,
        "seed": scenarios[0].seed if seed is None else seed,
        "shoppers": n,
        "random_numbers": "independent" if independent else "common",
        "ci_level": 0.95,
        "assumptions": assumptions,
    }
    return Comparison(results, rows, meta, touches, pairs, verdicts(results, pairs))


def compare(
    baseline: str | Path | Scenario,
    *alternatives: str | Path | Scenario,
    reps: int = 30,
    seed: int | None = None,
    shoppers: int | None = None,
    independent: bool = False,
):
    """Python API of `promosim compare`: the tidy comparison table as a pandas DataFrame."""
    from simulator.scenario.load import load_scenario

    items = [baseline, *alternatives]
    scenarios = [x if isinstance(x, Scenario) else load_scenario(x) for x in items]
    names = [x.name if isinstance(x, Scenario) else Path(x).stem for x in items]
    dirs = [Path(".") if isinstance(x, Scenario) else Path(x).parent for x in items]
    return run_comparison(
        scenarios,
        names,
        reps=reps,
        seed=seed,
        shoppers=shoppers,
        independent=independent,
        base_dirs=dirs,
    ).table()
