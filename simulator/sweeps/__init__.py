"""Parameter sweeps: designs, validated points, resumable parallel execution, gates and analysis.

A sweep runs one scenario at many points, each point a set of dotted-path overrides
(`load_scenario(path, overrides)`), chosen by a full grid, a Latin-hypercube random design or
Saltelli's Sobol design (SALib). Every point runs the same replication seeds
(`rng.replication_seed(seed, k)`) and is measured against the same no-campaign baseline, run once
per replication, so differences between points are policy, not noise. Each finished point is
written atomically to `points/<id>.json` as it completes; a sweep started again with the same
definition resumes and recomputes nothing that finished. Execution is in this process, in local
worker processes, or on a dask.distributed cluster; the results do not depend on which.

The code is in three parts, and this module re-exports their public names:

* `sweep_design`: what runs. Values, grids, ranges, `--set` overrides and gates parsed from
  text; `Design`, `SweepPlan` and the validated plans of `plan_scenario_sweep` and
  `plan_function_sweep`.
* `sweep_exec`: how it runs. Tasks and the functions workers run, local and Dask execution,
  the resumable output folder (`run_sweep`) and reading it back (`collect`).
* `sweep_report`: what came out. `SweepResult` with its rows, gate checks and Sobol indices,
  the best points, `summary.md` and every output file (`write_outputs`).

`sweep_design` imports neither of the others; `sweep_report` imports `sweep_design`; `sweep_exec`
imports both (`collect` reads the folder back into a `SweepResult`).
"""

from simulator.analysis.kpis import kpi_names as known_kpis  # the KPIs a sweep point reports
from simulator.sweeps.design import (
    GATE_OPS,
    SWEEP_FORMAT,
    Design,
    Evaluate,
    Factor,
    Gate,
    SweepError,
    SweepPlan,
    is_list_field,
    parse_gate,
    parse_grid,
    parse_range,
    parse_set,
    parse_value,
    plan_function_sweep,
    plan_scenario_sweep,
    value_label,
)
from simulator.sweeps.execute import (
    TRACE_ENV,
    Task,
    add_incremental,
    collect,
    evaluate_function,
    execute,
    prepare_folder,
    run_sweep,
    run_task,
    simulate_baseline,
    simulate_point,
)
from simulator.sweeps.report import (
    BEST,
    PointResult,
    SweepResult,
    best_points,
    short_label,
    summary_markdown,
    write_outputs,
)

__all__ = [
    # sweep_design
    "GATE_OPS",
    "SWEEP_FORMAT",
    "Design",
    "Evaluate",
    "Factor",
    "Gate",
    "SweepError",
    "SweepPlan",
    "is_list_field",
    "known_kpis",
    "parse_gate",
    "parse_grid",
    "parse_range",
    "parse_set",
    "parse_value",
    "plan_function_sweep",
    "plan_scenario_sweep",
    "value_label",
    # sweep_exec
    "TRACE_ENV",
    "Task",
    "add_incremental",
    "collect",
    "evaluate_function",
    "execute",
    "prepare_folder",
    "run_sweep",
    "run_task",
    "simulate_baseline",
    "simulate_point",
    # sweep_report
    "BEST",
    "PointResult",
    "SweepResult",
    "best_points",
    "short_label",
    "summary_markdown",
    "write_outputs",
]
