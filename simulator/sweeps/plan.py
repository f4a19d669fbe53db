"""Sweep planning: a design checked at every point before anything runs.

`plan_scenario_sweep` loads the scenario with every point's overrides (every problem reported
together, nothing run) into a `SweepPlan`; `plan_function_sweep` plans a sweep of a Python
function instead.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from tqdm.auto import tqdm

from simulator.scenario import paths
from simulator.scenario.load import ScenarioError, load_scenario
from simulator.scenario.schema import Scenario
from simulator.sweeps.design import (
    Design,
    Evaluate,
    SweepError,
    SweepPlan,
    parse_value,
    value_label,
)
from simulator.sweeps.keys import jsonable


def is_list_field(scenario: Scenario, path: str) -> bool:
    """Whether the scenario's field at a dotted path holds a list (such as a touch's audience)."""
    return paths.is_list(scenario.model_dump(mode="python"), path)


def scenario_digest(scenario: Scenario, base_dir: Path) -> str:
    """Digest of a scenario's effective content (after extends) and of its parameter file."""
    parts = [scenario.model_dump_json()]
    pf = scenario.population.params_file
    if pf and (base_dir / pf).is_file():
        parts.append(hashlib.sha256((base_dir / pf).read_bytes()).hexdigest())
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def plan_scenario_sweep(
    path: str | Path,
    design: Design,
    *,
    reps: int,
    seed: int | None = None,
    shoppers: int | None = None,
    fixed: dict[str, str] | None = None,
    progress: bool = False,
) -> SweepPlan:
    """Validate the scenario at every point of the design (all problems reported together)."""
    path = str(path)
    try:
        base = load_scenario(path)
    except ScenarioError as exc:
        raise SweepError(str(exc)) from None
    fixed_values = {
        p: parse_value(t, as_list=is_list_field(base, p)) for p, t in (fixed or {}).items()
    }
    clash = [f.path for f in design.factors if f.path in fixed_values]
    if clash:
        raise SweepError(f"{', '.join(clash)} is both swept and set with --set")
    points = design.points(lambda p: is_list_field(base, p))
    scenarios, problems = [], {}
    for i, ov in enumerate(
        tqdm(
            points,
            desc="validating",
            unit="point",
            leave=False,
            disable=not progress or len(points) < 200,
        )
    ):
        try:
            scenarios.append(load_scenario(path, {**fixed_values, **ov}))
        except ScenarioError as exc:
            for line in str(exc).splitlines():
                problems.setdefault(line, []).append(i)
    if problems:
        bad = sorted({i for where in problems.values() for i in where})
        lines = []
        for line, where in list(problems.items())[:20]:
            if len(where) == 1:
                at = (
                    "point "
                    + str(where[0])
                    + " ("
                    + ", ".join(f"{k}={value_label(v)}" for k, v in points[where[0]].items())
                    + ")"
                )
            else:
                shown = ", ".join(map(str, where[:10])) + (", ..." if len(where) > 10 else "")
                at = f"points {shown}"
            lines.append(f"{line}  [{at}]")
        if len(problems) > 20:
            lines.append(f"... and {len(problems) - 20} more problems")
        raise SweepError(
            f"{len(bad)} of {len(points)} points have an invalid scenario; nothing "
            "was run:\n" + "\n".join(lines)
        )
    base_dir = Path(path).parent
    source = {"scenario": base.name, "digest": scenario_digest(base, base_dir)}
    return SweepPlan(
        design,
        points,
        reps,
        base.seed if seed is None else seed,
        source,
        scenarios=scenarios,
        fixed=jsonable(fixed_values),
        shoppers=shoppers,
        base_dir=base_dir,
        scenario_path=path,
    )


def plan_function_sweep(
    design: Design, evaluate: Evaluate, *, reps: int = 1, seed: int = 0
) -> SweepPlan:
    """A sweep of a Python function `evaluate(overrides, seeds) -> [KPI dict per seed]`."""
    name = f"{getattr(evaluate, '__module__', '?')}.{getattr(evaluate, '__qualname__', '?')}"
    return SweepPlan(design, design.points(), reps, seed, {"function": name}, evaluate=evaluate)
