"""Parameter sweeps: designs, validated points, resumable parallel execution, gates and analysis.

A sweep runs one scenario at many points, each point a set of dotted-path overrides
(`load_scenario(path, overrides)`), chosen by a full grid, a Latin-hypercube random design or
Saltelli's Sobol design (SALib). Every point runs the same replication seeds
(`rng.replication_seed(seed, k)`) and is measured against the same no-campaign baseline, run once
per replication, so differences between points are policy, not noise. Each finished point is
written atomically to `points/<id>.json` as it completes; a sweep started again with the same
definition resumes and recomputes nothing that finished. Execution is in this process, in local
worker processes, or on a dask.distributed cluster; the results do not depend on which.

The code is in parts, each importing only the ones before it; this module gives the names a
user of sweeps needs (the CLI and `simulator`'s public API take them from here):

* `keys`: canonical JSON and digests, which name points and baselines.
* `design`: what runs. Values, grids, ranges, `--set` overrides and gates parsed from text; the
  `Design` that gives every point's overrides, and the `SweepPlan` with its definition.
* `plan`: the plans, validated before anything runs: a scenario at every point
  (`plan_scenario_sweep`) or a Python function (`plan_function_sweep`).
* `report`: what came out. `SweepResult` with its rows, gate checks and Sobol indices, the best
  points, `summary.md` and every output file (`write_outputs`).
* `execute`: where it runs. The tasks workers run, in this process, in local worker processes
  (`fork_server`, `warm_workers`) or on a Dask cluster.
* `run`: the resumable output folder: `run_sweep` saves each point as it finishes, `collect`
  reads the folder back into a `SweepResult`.
"""

from simulator.sweeps.design import (
    Design,
    Evaluate,
    Factor,
    Gate,
    SweepError,
    SweepPlan,
    parse_gate,
    parse_grid,
    parse_range,
    parse_set,
    parse_value,
)
from simulator.sweeps.execute import TRACE_ENV
from simulator.sweeps.plan import plan_function_sweep, plan_scenario_sweep
from simulator.sweeps.report import SweepResult, write_outputs
from simulator.sweeps.run import collect, run_sweep

__all__ = [
    "TRACE_ENV",
    "Design",
    "Evaluate",
    "Factor",
    "Gate",
    "SweepError",
    "SweepPlan",
    "SweepResult",
    "collect",
    "parse_gate",
    "parse_grid",
    "parse_range",
    "parse_set",
    "parse_value",
    "plan_function_sweep",
    "plan_scenario_sweep",
    "run_sweep",
    "write_outputs",
]
