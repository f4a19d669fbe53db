"""A fitting problem: a scenario with its targets, checked together, and its distance.

`Problem.evaluate` runs the replications at a parameter vector (the same seeds every time:
common random numbers) and measures the distance to the targets.
"""

from __future__ import annotations

import difflib
import math
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from simulator.analysis.stats import mean_ci
from simulator.engine.plan import n_capped
from simulator.engine.population import draw_population
from simulator.engine.rng import replication_seed
from simulator.engine.run import no_campaign, simulate
from simulator.fitting.targets.measure import (
    TARGET_ONLY,
    extensive,
    known_kpis,
    needs_baseline,
    target_value,
)
from simulator.fitting.targets.spec import TargetsError, TargetsFile, read_targets
from simulator.scenario import paths
from simulator.scenario.load import ScenarioError, load_scenario, params_base_dir
from simulator.scenario.schema import Scenario

MISSING_PENALTY = 1e6  # distance term of a target whose KPI is undefined in every replication


def check_targets(
    spec: TargetsFile, root: Any, name: str, scenario_path: str | Path, sc: Scenario
) -> dict[str, float]:
    """Check the targets file against the scenario; return each parameter's start value."""
    problems: list[tuple[tuple, str]] = []
    kpis = known_kpis(sc)
    phases = [ph.name for ph in sc.calendar.phases]
    for tname, t in spec.targets.items():
        where = ("targets", tname)
        if t.kpi not in kpis:
            close = difflib.get_close_matches(t.kpi, kpis, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            problems.append(
                (
                    where + ("kpi",),
                    f"unknown KPI '{t.kpi}' for this scenario{hint} "
                    "(compute_kpis keys in docs/kpis.md, "
                    f"{', '.join(TARGET_ONLY)}, reach_touch_<touch> or a daily counter)",
                )
            )
        if t.compare and needs_baseline(t.kpi):
            problems.append(
                (
                    where + ("relative_to_baseline",),
                    f"'{t.kpi}' already compares "
                    "with the baseline; expected relative_to_baseline: false",
                )
            )
        for k, ph in enumerate(t.phases or []):
            if ph not in phases:
                problems.append(
                    (
                        where + ("phases", k),
                        f"unknown phase '{ph}'; the scenario "
                        f"defines: {', '.join(phases) or 'none'}",
                    )
                )
    dumped = sc.model_dump()
    starts = {}
    for path, p in spec.params.items():
        for bound in p.bounds:
            try:
                load_scenario(scenario_path, {path: float(bound)})
            except ScenarioError as exc:
                why = "; ".join(f"{'.'.join(map(str, q))}: {m}" for q, m in exc.problems)
                problems.append((("params", path), f"the scenario rejects {bound}: {why}"))
                break
        else:
            current = paths.get(dumped, path)
            if p.start is not None:
                starts[path] = p.start
            elif isinstance(current, int | float) and not isinstance(current, bool):
                starts[path] = min(max(float(current), p.bounds[0]), p.bounds[1])
            else:
                starts[path] = 0.5 * (p.bounds[0] + p.bounds[1])
    if problems:
        raise TargetsError(name, problems, root)
    return starts


@dataclass
class Evaluation:
    """Achieved targets at one parameter vector (target units: extensive KPIs rescaled)."""

    theta: np.ndarray
    values: list[list[float]]  # [target][replication], undefined ones left out
    mean: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    distance: float


@dataclass
class Problem:
    """A scenario, its targets and the fixed replication seeds the distance is measured on."""

    scenario_path: Path
    targets_path: Path
    spec: TargetsFile
    scenario: Scenario
    starts: dict[str, float]
    shoppers: int
    reps: int
    seed: int
    _draws: OrderedDict = field(default_factory=OrderedDict, repr=False)
    _baselines: OrderedDict = field(default_factory=OrderedDict, repr=False)

    @property
    def names(self) -> list[str]:
        """Free parameters, in file order."""
        return list(self.spec.params)

    @property
    def bounds(self) -> np.ndarray:
        """[parameter, (lower, upper)]."""
        return np.array([p.bounds for p in self.spec.params.values()], float)

    @property
    def population(self) -> int:
        """The store size the count targets describe."""
        return self.spec.population or self.scenario.population.shoppers

    @property
    def scale(self) -> float:
        """Multiplier from simulated counts to target units."""
        return self.population / self.shoppers

    @property
    def needs_baseline(self) -> bool:
        """Whether some target needs the no-campaign run."""
        return any(t.compare or needs_baseline(t.kpi) for t in self.spec.targets.values())

    @property
    def base_dir(self) -> Path:
        """Folder a params_file is relative to (that of the file naming it)."""
        return params_base_dir(self.scenario_path)

    def scenario_at(self, theta) -> Scenario:
        """The scenario with the parameters set to theta, validated like any override."""
        return load_scenario(
            self.scenario_path, dict(zip(self.names, map(float, theta), strict=True))
        )

    def _cached(self, cache: OrderedDict, key: str, make):
        """A small LRU: populations and baselines only change with population parameters."""
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
        value = make()
        cache[key] = value
        while len(cache) > 3:
            cache.popitem(last=False)
        return value

    def evaluate(self, theta) -> Evaluation:
        """Run R replications at theta (fixed seeds) and measure every target."""
        sc = self.scenario_at(theta)
        base_dir = self.base_dir
        pop_key = sc.population.model_dump_json() + f"|{n_capped(sc)}|{sc.calendar.start}"
        seeds = [replication_seed(self.seed, k) for k in range(self.reps)]
        draws = self._cached(
            self._draws,
            pop_key,
            lambda: [
                draw_population(
                    sc.population, s, self.shoppers, n_capped(sc), base_dir, sc.calendar.start
                )
                for s in seeds
            ],
        )
        specs = list(self.spec.targets.values())
        values: list[list[float]] = [[] for _ in specs]
        bases = None
        if self.needs_baseline:
            bases = self._cached(
                self._baselines,
                pop_key + sc.calendar.model_dump_json(),
                lambda: [
                    simulate(
                        no_campaign(sc),
                        seed=s,
                        shoppers=self.shoppers,
                        base_dir=base_dir,
                        population=d,
                    )
                    for s, d in zip(seeds, draws, strict=True)
                ],
            )
        for k, (s, d) in enumerate(zip(seeds, draws, strict=True)):
            run = simulate(sc, seed=s, shoppers=self.shoppers, base_dir=base_dir, population=d)
            for j, t in enumerate(specs):
                v = target_value(t, run, bases[k] if bases else None)
                if v is not None and math.isfinite(v):
                    values[j].append(v * self.scale if extensive(t) else v)
        stats = np.array([mean_ci(v) for v in values]).reshape(len(specs), 3)
        distance = 0.0
        for t, m in zip(specs, stats[:, 0], strict=True):
            z2 = ((m - t.value) / t.tolerance) ** 2 if math.isfinite(m) else MISSING_PENALTY
            distance += t.weight * z2
        return Evaluation(
            np.asarray(theta, float), values, stats[:, 0], stats[:, 1], stats[:, 2], float(distance)
        )


def load_problem(
    scenario_path: str | Path,
    targets_path: str | Path,
    *,
    shoppers: int | None = None,
    reps: int = 4,
    seed: int | None = None,
) -> Problem:
    """Read the scenario and targets, check them together; ScenarioError/TargetsError if bad."""
    sc = load_scenario(scenario_path)
    spec, root = read_targets(targets_path)
    starts = check_targets(spec, root, str(targets_path), scenario_path, sc)
    n = int(shoppers or min(100_000, sc.population.shoppers))
    return Problem(
        Path(scenario_path),
        Path(targets_path),
        spec,
        sc,
        starts,
        n,
        int(reps),
        int(sc.seed if seed is None else seed),
    )
