"""What one trial is worth: its scenario run with common random numbers, scored against the budget.

A `Problem` is everything that decides a trial's value: the starting scenario, the decision
variables, the budget, the objective (incremental GMV or profit), the KPI constraints, the seed,
the population size and the replications per trial. `evaluate_trial` runs in a worker: it loads
the scenario with the trial's overrides (an invalid combination is reported, not raised), refuses a
raised channel capacity, runs each replication on the shared shoppers (drawn once per worker
process, as sweeps do) and measures it against the no-campaign baseline, which is run once for
the whole optimisation (again only for a trial that changes the baseline itself, such as the
platform's discount). `score` turns the replications into the trial's objective, cost and
constraint values: Optuna's constraints are <= 0 when satisfied.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass, field

from simulator.engine.rng import replication_seed
from simulator.engine.run import no_campaign
from simulator.optimize.variables import Variable, raised_capacities
from simulator.scenario.load import ScenarioError, load_scenario
from simulator.scenario.schema import Scenario
from simulator.sweeps.design import Gate
from simulator.sweeps.execute import add_incremental, simulate_baseline, simulate_point
from simulator.sweeps.keys import canonical_json, digest, jsonable

OBJECTIVES = {"gmv": "incremental_gmv", "profit": "incremental_profit"}
KEPT = (
    "incremental_gmv",
    "incremental_profit",
    "cost",
    "gmv",
    "profit",
    "roi",
    "member_gmv_penetration",
    "new_members",
)
"""KPIs each trial keeps (with the constraints' KPIs): means over its replications."""
INVALID = 1.0  # each constraint value of a trial whose scenario is invalid (violated)


@dataclass(frozen=True)
class Problem:
    """An optimisation's definition: what a trial's value depends on."""

    scenario_path: str
    base_dir: str  # the folder of the scenario's params_file / customers
    variables: tuple[Variable, ...]
    budget: float
    objective: str  # "gmv" | "profit"
    constraints: tuple[Gate, ...] = ()
    fixed: dict = field(default_factory=dict)  # overrides of every trial (--margin)
    seed: int = 0
    shoppers: int = 1
    population: int = 1  # the scenario's own population size: costs are scaled to it
    reps: int = 1
    scenario_digest: str = ""

    @property
    def kpi(self) -> str:
        """The objective's KPI."""
        return OBJECTIVES[self.objective]

    @property
    def cost_scale(self) -> float:
        """Multiplier of a run's cost to the scenario's population (capacities, budgets scale)."""
        return self.population / self.shoppers

    def settings(self) -> dict:
        """Everything that decides the trials' values; a study resumes only the same settings."""
        return json.loads(
            canonical_json(
                {
                    "scenario": self.scenario_path,
                    "scenario_digest": self.scenario_digest,
                    "variables": [v.spec() for v in self.variables],
                    "budget": self.budget,
                    "objective": self.objective,
                    "constraints": [g.text for g in self.constraints],
                    "fixed": jsonable(self.fixed),
                    "seed": self.seed,
                    "shoppers": self.shoppers,
                    "reps_per_trial": self.reps,
                }
            )
        )

    def overrides(self, trial) -> dict:
        """The overrides an Optuna trial asks for (with the fixed ones)."""
        out = dict(self.fixed)
        for v in self.variables:
            out.update(v.suggest(trial))
        return out

    def scenario(self, overrides: dict | None = None) -> Scenario:
        """The starting scenario with overrides (the fixed ones always); raises ScenarioError."""
        return load_scenario(self.scenario_path, {**self.fixed, **(overrides or {})})


def baseline_key(scenario: Scenario) -> str:
    """What a no-campaign baseline depends on (trials that agree share it)."""
    nc = no_campaign(scenario).model_dump(mode="json")
    nc.pop("name", None)
    return digest(nc)


def run_baseline(problem: Problem, scenario: Scenario) -> list[dict]:
    """The no-campaign run of each replication seed, on the shared shoppers."""
    return [
        simulate_baseline(
            (
                scenario,
                replication_seed(problem.seed, k),
                problem.seed,
                problem.shoppers,
                problem.base_dir,
            )
        )
        for k in range(problem.reps)
    ]


@functools.lru_cache(maxsize=1)
def _start(path: str, fixed_json: str) -> Scenario:
    """The starting scenario, loaded once per worker.

    Loading validates the scenario at every assumption's extremes: 0.3 s for double11_2021.yaml.
    """
    return load_scenario(path, json.loads(fixed_json))


_BASELINES: dict[str, list[dict]] = {}  # baselines a worker ran for trials that change them


def evaluate_trial(arg: tuple) -> dict:
    """Run one trial (in a worker): {"status": "ok", "kpis": [...]} or {"status": "invalid", ...}.

    arg: (problem, overrides, (baseline key, baselines of the starting plan)).
    """
    problem, overrides, (key0, base0) = arg
    try:
        sc = load_scenario(problem.scenario_path, overrides)
    except ScenarioError as exc:
        return {"status": "invalid", "reason": str(exc)}
    start = _start(problem.scenario_path, canonical_json(problem.fixed))
    allowing = [v for v in problem.variables if v.allow_capacity_increase]
    raised = raised_capacities(start, sc, allowing)
    if raised:
        return {"status": "invalid", "reason": "; ".join(raised)}
    key = baseline_key(sc)
    if key == key0:
        bases = base0
    else:
        if key not in _BASELINES:
            _BASELINES.clear()
            _BASELINES[key] = run_baseline(problem, sc)
        bases = _BASELINES[key]
    kept = set(KEPT) | {g.kpi for g in problem.constraints}
    kpis = []
    for k in range(problem.reps):
        run = simulate_point((sc, problem.seed, k, problem.shoppers, problem.base_dir))
        full = add_incremental(run, bases[k])
        kpis.append({name: full.get(name) for name in sorted(kept)})
    return {"status": "ok", "kpis": kpis}


def _mean(values: list) -> float | None:
    """Mean of the defined values (None when none is)."""
    vals = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return sum(vals) / len(vals) if vals else None


def score(problem: Problem, result: dict) -> dict:
    """A trial's record: objective, cost and increments at the scenario's population, constraints.

    Money figures are scaled by population / shoppers, as the budget is stated (`kpis` holds
    the runs' own means, on which the KPI constraints are checked).

    `constraints` are Optuna's (<= 0 when satisfied): the budget's relative excess, then each
    KPI constraint's relative shortfall; `feasible` is every constraint satisfied.
    """
    if result["status"] != "ok":
        n = 1 + len(problem.constraints)
        return {"feasible": False, "reason": result["reason"], "constraints": [INVALID] * n}
    means = {k: _mean([r.get(k) for r in result["kpis"]]) for k in result["kpis"][0]}
    cost = (means.get("cost") or 0.0) * problem.cost_scale
    values = [(cost - problem.budget) / max(problem.budget, 1.0)]
    checks = {}
    for g in problem.constraints:
        v = means.get(g.kpi)
        checks[g.text] = {"value": v, "ok": g.passes(v)}
        raw = _shortfall(g, v)
        values.append(min(raw, 0.0) if g.passes(v) else max(raw, 1e-12))
    objective = _scaled(means.get(problem.kpi), problem.cost_scale)
    return {
        "objective": objective,
        "cost": cost,
        "incremental_gmv": _scaled(means.get("incremental_gmv"), problem.cost_scale),
        "incremental_profit": _scaled(means.get("incremental_profit"), problem.cost_scale),
        "kpis": means,
        "checks": checks,
        "constraints": values,
        "feasible": objective is not None and all(c <= 0 for c in values),
    }


def _scaled(x: float | None, scale: float) -> float | None:
    """A money figure of a run at the scenario's population (None stays None)."""
    return None if x is None else x * scale


def _shortfall(g: Gate, v: float | None) -> float:
    """How far a KPI is from its constraint, relative to the threshold (> 0: violated)."""
    if v is None:
        return INVALID
    scale = max(abs(g.threshold), 1e-9)
    if g.op in (">=", ">"):
        return (g.threshold - v) / scale
    if g.op in ("<=", "<"):
        return (v - g.threshold) / scale
    return abs(v - g.threshold) / scale
