"""`promosim sweep`: a scenario over a grid, random or Sobol design of overrides (docs/sweeps.md).

Exit codes: 0 every point ran and every gate passed; 1 a point failed or a gate failed; 2 bad input
(a value, a path, a point's scenario, a gate, a design too large, or an output folder that is not
this sweep's or cannot be written); 130 (143) interrupted by Ctrl-C (SIGTERM).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

from simulator.cli.common import (
    STATE_COPIES,
    BadInput,
    available_memory,
    check_memory,
    options,
    positive_int,
    print_table,
)
from simulator.cli.interrupts import EXIT_INTERRUPTED, EXIT_TERMINATED, Terminated
from simulator.formatting import table_number

SHOWN = ("roi", "incremental_gmv", "cost", "member_gmv_penetration", "new_members")
EXIT_FAILED = 1
MAX_POINTS = 100_000  # the most points a sweep takes (docs/sweeps.md)
BYTES_PER_POINT = 100_000  # memory of a planned point (its validated scenario), rounded up


def build_design(args, seed: int):
    """The design the options describe."""
    from simulator.sweeps import Design, parse_grid, parse_range

    if args.grid and args.range:
        raise BadInput("use --grid for a grid, or --range with --random/--sobol, not both")
    if args.grid:
        if args.random or args.sobol:
            raise BadInput("--random and --sobol sample --range factors, not --grid values")
        return Design("grid", tuple(parse_grid(g) for g in args.grid))
    if not args.range:
        raise BadInput(
            "give --grid PATH=V1,V2,... or --range PATH=LOW:HIGH with --random N or --sobol N"
        )
    if not (args.random or args.sobol):
        raise BadInput("--range needs --random N or --sobol N")
    kind, n = ("sobol", args.sobol) if args.sobol else ("random", args.random)
    return Design(kind, tuple(parse_range(r) for r in args.range), n=n, seed=seed)


def check_design_size(design) -> None:
    """Refuse, before planning, a design with more points than a sweep takes or memory holds."""
    if design.kind == "grid":
        points = math.prod(len(f.texts) for f in design.factors)
        what = "the grid"
    elif design.kind == "sobol":
        points = design.n * (len(design.factors) + 2)
        what = f"--sobol {design.n} with {len(design.factors)} factor(s)"
    else:
        points = design.n
        what = f"--random {design.n}"
    free = available_memory()
    if points > MAX_POINTS:
        raise BadInput(f"{what} makes {points:,} points; a sweep takes at most {MAX_POINTS:,}")
    if free is not None and points * BYTES_PER_POINT > free:
        raise BadInput(
            f"{what} makes {points:,} points, about {points * BYTES_PER_POINT / 2**30:,.1f} GiB "
            f"to plan, but {max(free, 0) / 2**30:,.1f} GiB is available; use fewer points"
        )


def cmd_sweep(args) -> int:
    """Validate every point, run what is unfinished, write the table, summary and plots."""
    try:
        return _sweep(args)
    except KeyboardInterrupt as exc:
        how = "terminated" if isinstance(exc, Terminated) else "interrupted"
        print(f"{how}: finished points are saved; run the same command to resume", file=sys.stderr)
        return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED


def _sweep(args) -> int:
    """The sweep command's body; bad input raises BadInput."""
    from simulator.engine.workers import set_threads
    from simulator.scenario.load import load_scenario

    if (args.workers or 1) > 1 and not args.scheduler:
        from simulator.sweeps import fork_server

        fork_server.start()  # the workers' server loads the engine while this process plans
    from simulator.analysis.kpis import kpi_names
    from simulator.sweeps import (
        SweepError,
        parse_gate,
        parse_set,
        plan_scenario_sweep,
        run_sweep,
        write_outputs,
    )
    from simulator.sweeps.run import check_folder

    if args.scheduler and args.workers:
        raise BadInput(
            "--workers runs local processes; with --scheduler the cluster's workers run the points"
        )
    out = Path(args.out or f"results/sweep_{Path(args.scenario).stem}")
    check_folder(out)
    base = load_scenario(args.scenario)
    seed = base.seed if args.seed is None else args.seed
    design = build_design(args, seed)
    check_design_size(design)
    gates = [parse_gate(g) for g in args.gate]
    names = set(kpi_names(base))
    unknown = [g.kpi for g in gates if g.kpi not in names]
    if unknown:
        raise SweepError(
            f"--gate: unknown KPI {', '.join(unknown)}; KPIs are listed in docs/kpis.md"
        )
    fixed = dict(parse_set(x) for x in args.set)
    plan = plan_scenario_sweep(
        args.scenario,
        design,
        reps=args.reps,
        seed=seed,
        shoppers=args.shoppers,
        fixed=fixed,
        progress=not args.quiet,
    )
    workers = args.workers or 1
    if workers == 1 and not args.scheduler:
        set_threads(args.threads)
    if not args.scheduler:  # each worker process holds its own shoppers
        shoppers = plan.shoppers or max(sc.population.shoppers for sc in plan.scenarios)
        check_memory(shoppers, plan.scenarios, copies=STATE_COPIES * workers)
    result = run_sweep(
        plan,
        out,
        workers=workers,
        scheduler=args.scheduler,
        threads=args.threads if (workers > 1 or args.scheduler) else None,
        progress=not args.quiet,
    )
    try:
        write_outputs(result, out, gates, plots=not args.no_plots)  # marks the sweep finished
    except OSError as exc:
        raise BadInput(f"cannot write {out}/: {exc.strerror or exc}") from None
    failures = result.failures()
    gate_fails = result.gate_failures(gates)
    if not args.quiet:
        _print_report(result, out)
    for p in failures:
        print(f"FAILED point {p.index} ({p.label()}): {(p.error or '').splitlines()[0]}")
    for g, p, v in gate_fails:
        print(
            f"GATE FAILED '{g.text}' at point {p.index} ({p.label()}): {g.kpi} = {table_number(v)}"
        )
    if gates and not gate_fails and not args.quiet:
        print(f"all {len(gates)} gate(s) pass at every point")
    return EXIT_FAILED if failures or gate_fails else 0


def _print_report(result, out: Path) -> None:
    """Status line and a table of the points (the best 20 by ROI for a large sweep)."""
    from simulator.formatting import short_label

    plan = result.plan
    n = plan.shoppers or plan.scenarios[0].population.shoppers
    print(
        f"{plan.source['scenario']}: {plan.design.kind} of {len(plan.points)} points x "
        f"{plan.reps} replications x {n:,} shoppers, seed {plan.seed}; {result.resumed} "
        f"resumed, {result.computed} run, {len(result.failures())} failed; "
        f"{result.wall_s:.1f} s"
    )
    ok = [p for p in result.points if p.status == "ok"]
    if len(ok) > 20:
        ok = sorted(ok, key=lambda p: -(p.mean("roi") or float("-inf")))[:20]
        print("best 20 points by roi:")
    factors = [f.path for f in plan.design.factors]
    rows = [
        (
            str(p.index),
            *(short_label(p.labels[f]) for f in factors),
            *(table_number(p.mean(k)) for k in SHOWN),
        )
        for p in ok
    ]
    if rows:
        print_table(rows, ("point", *factors, *SHOWN))
    print(f"written to {out}/ (sweep.csv, summary.md)")


def add_parser(subparsers) -> None:
    """Add `sweep` to the top-level subparsers."""
    s = subparsers.add_parser(
        "sweep",
        help="run a scenario over a grid, random or Sobol design of field overrides",
        description="Run a scenario at many points (dotted-path overrides) with common random "
        "numbers and one shared no-campaign baseline per replication. Finished points are saved "
        "as they complete; the same command resumes. Exit 0 ok, 1 a point or a gate failed, "
        "2 bad input.",
        parents=[
            options(
                "shoppers",
                "no_plots",
                "quiet",
                seed="base seed of the replications and of the design (default: the scenario's)",
                out="output folder (default: results/sweep_<scenario>); a new or empty folder, "
                "or the folder of the same sweep, which resumes it. Any other folder is refused",
                threads="Numba threads per worker (default: all with one worker, else 1)",
            )
        ],
    )
    s.add_argument("scenario")
    s.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="PATH=V1,V2,...",
        help="grid values of a field (YAML scalars; 'a+b' is the list [a, b] for a "
        "list field such as a touch's audience); several --grid make a full grid",
    )
    s.add_argument(
        "--range",
        action="append",
        default=[],
        metavar="PATH=LOW:HIGH",
        help="range of a numeric field for --random or --sobol (integer ends give integers)",
    )
    design = s.add_mutually_exclusive_group()
    design.add_argument(
        "--random",
        type=positive_int,
        metavar="N",
        help="N points by Latin hypercube sampling of the --range factors",
    )
    design.add_argument(
        "--sobol",
        type=positive_int,
        metavar="N",
        help="Saltelli design with N base samples (a power of 2): N x (factors "
        "+ 2) points; first-order and total Sobol indices",
    )
    s.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="an override applied at every point",
    )
    s.add_argument(
        "--reps", type=positive_int, default=5, help="replications per point (default 5; 95%% CIs)"
    )
    s.add_argument(
        "--workers", type=positive_int, help="local worker processes (default 1: in this process)"
    )
    s.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run the points on a dask.distributed scheduler (tcp://host:8786)",
    )
    s.add_argument(
        "--gate",
        action="append",
        default=[],
        metavar="'KPI OP NUMBER'",
        help="check every point's mean, e.g. 'roi >= 3' (OP: >=, <=, >, <, ==); exit "
        "1 if a point fails",
    )
    s.set_defaults(func=cmd_sweep)
