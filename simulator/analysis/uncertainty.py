"""Uncertainty about assumptions: parameter draws per replication and the split of the variance.

With assumptions drawn, replications come in pairs: replications 2d and 2d + 1 share parameter
draw d (`scenario.assumptions.values_at`) and differ in their seeds. A KPI's spread then splits
into the part from the assumptions and the part from simulation noise by the one-way analysis
of variance of draws with two runs each:

    noise = mean over draws of (y_2d - y_2d+1)^2 / 2          (within a draw)
    assumptions = max(0, var(draw means) - noise / 2)          (between draws, less their noise)
    total = assumptions + noise                                (the spread of one run's outcome)

`total` is the variance of a single replication's outcome when the assumptions are as uncertain
as stated: the interval mean +- 1.96 sqrt(total) says what the strategy may give; the confidence
interval of the mean (`stats.estimate`) only says how precisely the simulation knows the average.
Every scenario of a comparison uses the same draw in the same replication, so the probability
that one strategy beats another is the share of draws in which the pair's mean difference favours
it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from simulator.analysis.increments import increments, paired
from simulator.analysis.stats import estimate
from simulator.errors import UserError
from simulator.scenario.assumptions import values_at
from simulator.scenario.load import assumptions_of, with_values
from simulator.scenario.schema import Scenario

RUNS_PER_DRAW = 2
ROBUST = 0.9
"""A ranking is called robust when one strategy wins in at least this share of the draws."""
Z95 = 1.959963984540054


class AssumptionError(UserError, ValueError):
    """Assumptions that cannot be drawn as asked (odd replications, population disagreement)."""


@dataclass
class AssumptionDraws:
    """The scenarios of a comparison, each with its resolved assumptions, ready to draw."""

    scenarios: list[Scenario]
    base_dirs: list[Path]
    found: list[tuple]
    seed: int
    drawn: dict = field(default_factory=dict)  # (scenario, draw) -> the drawn scenario

    @classmethod
    def of(cls, scenarios, base_dirs, seed: int, reps: int) -> AssumptionDraws:
        """Resolve every scenario's assumptions; check they can be drawn over `reps`."""
        found = [assumptions_of(sc, bd) for sc, bd in zip(scenarios, base_dirs, strict=True)]
        if reps < 2 * RUNS_PER_DRAW or reps % RUNS_PER_DRAW:
            raise AssumptionError(
                f"--reps {reps} with assumptions drawn: expected an even number of at least 4 "
                "(two runs per parameter draw split the variance into assumptions and noise)"
            )
        pop = [{a.path: a.dist for a in f if a.path.startswith("population.")} for f in found]
        if any(p != pop[0] for p in pop[1:]):
            raise AssumptionError(
                "the scenarios state different assumptions about the population; expected the "
                "same shoppers in every scenario (the same population.* distributions)"
            )
        return cls(list(scenarios), list(base_dirs), found, seed)

    @property
    def any(self) -> bool:
        """Whether any scenario has an assumption to draw."""
        return any(self.found)

    def draw_of(self, rep: int) -> int:
        """The parameter draw replication `rep` uses."""
        return rep // RUNS_PER_DRAW

    def values(self, j: int, rep: int) -> dict[str, float]:
        """Scenario j's assumption values in replication `rep`."""
        return values_at(self.found[j], self.seed, self.draw_of(rep))

    def scenario(self, j: int, rep: int) -> Scenario:
        """Scenario j as drawn for replication `rep` (checked once per draw: a pair shares it)."""
        key = (j, self.draw_of(rep))
        if key not in self.drawn:
            values = self.values(j, rep)
            self.drawn[key] = (
                with_values(self.scenarios[j], values, self.base_dirs[j])
                if values
                else self.scenarios[j]
            )
        return self.drawn[key]


def split_variance(values: list, draws: list[int]) -> dict:
    """Mean, total variance and its parts (assumptions, noise) of per-replication values.

    values: a KPI per replication (None where undefined); draws: each replication's parameter
    draw. Draws missing one of their two runs are left out.
    """
    pairs: dict[int, list[float]] = {}
    for v, d in zip(values, draws, strict=True):
        if v is not None and not (isinstance(v, float) and math.isnan(v)):
            pairs.setdefault(d, []).append(float(v))
    full = np.array([p for p in pairs.values() if len(p) == RUNS_PER_DRAW])
    if len(full) < 2:
        keys = ("mean", "var_total", "var_assumptions", "var_noise", "assumption_share")
        keys += ("total_low", "total_high", "ci_low", "ci_high")
        return dict.fromkeys(keys, math.nan) | {"draws": len(full)}
    mean = float(full.mean())
    of_draws = estimate(full.mean(axis=1))  # the draws are independent; their two runs are not
    noise = float(((full[:, 0] - full[:, 1]) ** 2).mean() / 2)
    between = float(full.mean(axis=1).var(ddof=1))
    assumptions = max(0.0, between - noise / RUNS_PER_DRAW)
    total = assumptions + noise
    half = Z95 * math.sqrt(total)
    return {
        "mean": mean,
        "var_total": total,
        "var_assumptions": assumptions,
        "var_noise": noise,
        "assumption_share": assumptions / total if total > 0 else math.nan,
        "draws": len(full),
        "total_low": mean - half,
        "total_high": mean + half,
        "ci_low": of_draws.ci_low,
        "ci_high": of_draws.ci_high,
    }


def beat_probability(diffs: list, draws: list[int]) -> tuple[float, int]:
    """Share of parameter draws whose mean difference is above zero, and the number of draws."""
    by_draw: dict[int, list[float]] = {}
    for v, d in zip(diffs, draws, strict=True):
        if v is not None:
            by_draw.setdefault(d, []).append(float(v))
    means = [np.mean(v) for v in by_draw.values()]
    if not means:
        return math.nan, 0
    return float(np.mean([m > 0 for m in means])), len(means)


def add_uncertainty(rows: list[dict], results: list) -> None:
    """Give each comparison row the variance split of its values and of its difference.

    Adds total_low/total_high/assumption_share (and diff_total_low/... for the difference with
    the baseline) computed by `split_variance` over the replications' parameter draws.
    """
    base = results[0]
    by_name = {res.name: res for res in results}
    gains = {res.name: increments(res, base) for res in results[1:]}
    for row in rows:
        res = by_name[row["scenario"]]
        kpi = row["kpi"]
        if row["ratio"]:  # a ratio of mean increments (`pairs.ratio_estimate`), not a mean
            continue
        values = gains.get(res.name, {}).get(kpi) if kpi not in res.kpis[0] else res.values(kpi)
        if values is None:
            continue
        _put(row, "", split_variance(values, res.draws))
        if row["diff"] is not None:
            ref = base.values(kpi) if kpi in base.kpis[0] else [0.0] * len(values)
            _put(row, "diff_", split_variance(paired(values, ref), res.draws))


def _put(row: dict, prefix: str, split: dict) -> None:
    """Copy a variance split into a row under prefixed names.

    The confidence interval of the mean is replaced by the one over the draws' means: the two
    runs of a draw share its parameters, so the replications are not independent.
    """
    keys = ("total_low", "total_high", "assumption_share", "var_assumptions", "var_noise")
    for key in (*keys, "ci_low", "ci_high"):
        row[prefix + key] = split[key]
