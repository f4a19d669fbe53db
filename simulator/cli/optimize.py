"""`promosim optimize`: the best plan within a budget over declared decision variables.

Exit codes: 0 finished with a feasible best plan; 1 no feasible trial, or a trial's simulation
failed (the study is saved: the same command resumes); 2 bad input (the scenario, a variable, a
constraint, the objective's margin, an output folder that is not this optimisation's); 130 (143)
interrupted by Ctrl-C (SIGTERM), finished trials saved. docs/optimize.md.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from simulator.cli.common import BadInput, check_memory, options, positive_int, positive_number
from simulator.cli.interrupts import EXIT_INTERRUPTED, EXIT_TERMINATED, Terminated
from simulator.formatting import table_number

EXIT_FAILED = 1


def cmd_optimize(args) -> int:
    """Run (or resume) the study, then write and print the results."""
    try:
        return _optimize(args)
    except KeyboardInterrupt as exc:
        how = "terminated" if isinstance(exc, Terminated) else "interrupted"
        print(f"{how}: finished trials are saved; run the same command to resume", file=sys.stderr)
        return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED


def build_problem(args):
    """The optimisation the options describe, every input checked before anything is written."""
    from simulator.analysis.kpis import kpi_names
    from simulator.optimize.objective import Problem
    from simulator.optimize.variables import check_variables, parse_var, read_variables
    from simulator.scenario.load import load_scenario, params_base_dir
    from simulator.sweeps.design import SweepError, parse_gate
    from simulator.sweeps.plan import scenario_digest

    base = load_scenario(args.scenario)
    variables = read_variables(args.vars) if args.vars else []
    variables += [parse_var(v) for v in args.var]
    if not variables:
        raise BadInput("give decision variables: --vars FILE and/or --var PATH=LOW:HIGH / A,B,C")
    fixed = {}
    if args.margin is not None:
        fixed["margin"] = args.margin
    elif args.objective == "profit" and base.margin is None:
        raise BadInput(
            f"--objective profit needs a margin: the scenario has none ({args.scenario}); "
            "give --margin M (gross margin at list price, e.g. 0.5)"
        )
    try:
        gates = tuple(parse_gate(c) for c in args.constraint)
    except SweepError as exc:
        raise BadInput(str(exc).replace("--gate", "--constraint")) from None
    names = set(kpi_names(base))
    unknown = [g.kpi for g in gates if g.kpi not in names]
    if unknown:
        raise BadInput(f"--constraint: unknown KPI {', '.join(unknown)}; see docs/kpis.md")
    variables = check_variables(args.scenario, variables)
    shoppers = args.shoppers or base.population.shoppers
    return Problem(
        scenario_path=args.scenario,
        base_dir=str(params_base_dir(args.scenario)),
        variables=tuple(variables),
        budget=args.budget,
        objective=args.objective,
        constraints=gates,
        fixed=fixed,
        seed=base.seed if args.seed is None else args.seed,
        shoppers=shoppers,
        population=base.population.shoppers,
        reps=args.reps_per_trial,
        scenario_digest=scenario_digest(base, params_base_dir(args.scenario)),
    )


def _optimize(args) -> int:
    """The command's body; bad input raises a UserError (exit 2) before anything is written."""
    from simulator.engine.workers import set_threads
    from simulator.optimize.pool import Pool
    from simulator.optimize.results import check_folder, unmark, write_results
    from simulator.optimize.study import TrialFailed, finished, open_study, release, run_trials

    if args.scheduler and args.workers:
        raise BadInput("--workers runs local processes; with --scheduler the cluster's run trials")
    if (args.workers or 1) > 1 and not args.scheduler:
        from simulator.sweeps import fork_server

        fork_server.start()  # the workers' server loads the engine while this process checks
    out = Path(args.out or f"results/optimize/{Path(args.scenario).stem}")
    check_folder(out)
    problem = build_problem(args)
    check_memory(problem.shoppers, [problem.scenario()], copies=2 * (1 + (args.workers or 1)))
    set_threads(args.threads)
    t0 = time.perf_counter()
    study = open_study(problem, out, args.sampler)
    resumed = finished(study)
    unmark(out)
    pool = Pool(args.workers or 1, args.scheduler, args.threads)
    try:
        run_trials(study, problem, pool, args.trials, progress=not args.quiet)
    except TrialFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        pool.close()
        release(out)
    wall = time.perf_counter() - t0
    meta = {
        "scenario": args.scenario,
        "trials": args.trials,
        "resumed_trials": resumed,
        "workers": args.workers or 1,
        "scheduler": args.scheduler,
        "confirm_reps": args.confirm_reps,
        "optimize_wall_s": round(wall, 3),
    }
    doc = write_results(
        study,
        problem,
        out,
        meta,
        confirm_reps=args.confirm_reps,
        plots=not args.no_plots,
        progress=not args.quiet,
    )
    if not args.quiet:
        _print_summary(doc, problem, out, wall, time.perf_counter() - t0)
    if doc["best"] is None:
        print(
            "no feasible trial: every plan tried broke the budget or a constraint", file=sys.stderr
        )
        return EXIT_FAILED
    return 0


def _print_summary(doc: dict, problem, out: Path, wall: float, total: float) -> None:
    """Trials, the starting plan against the best, its parameters and the confirmation."""
    from simulator.cli.common import print_table

    rows = doc["trials"]
    feasible = sum(1 for r in rows if r["feasible"])
    print(
        f"{problem.scenario_path}: {len(rows)} trials ({feasible} feasible) x {problem.reps} "
        f"replication(s) x {problem.shoppers:,} shoppers, sampler "
        f"{doc['meta']['settings']['sampler']}, seed {problem.seed}; {wall:.1f} s "
        f"optimising, {total:.1f} s in all; money at the scenario's "
        f"{problem.population:,} shoppers"
    )
    start, best = doc["start"], doc["best"]
    table = [("starting plan", table_number(start.get("objective")), table_number(start["cost"]))]
    if best:
        table.append(
            (
                f"best (trial {best['number']})",
                table_number(best["objective"]),
                table_number(best["cost"]),
            )
        )
    print_table(table, ("plan", problem.kpi, f"cost (budget {table_number(problem.budget)})"))
    if best:
        for path, value in best["overrides"].items():
            print(f"  {path} = {value}")
        print(doc["confirmation"]["text"])
    print(f"written to {out}/ (optimize.json, trials.csv, pareto.csv, best.yaml, comparison.json)")


def add_parser(subparsers) -> None:
    """Add `optimize` to the top-level subparsers."""
    s = subparsers.add_parser(
        "optimize",
        help="find the best plan within a budget over decision variables (Optuna)",
        description="Search decision variables (offer terms, audiences, budget splits, dates) "
        "for the plan with the most incremental GMV (or profit) whose cost is within the budget "
        "and whose KPIs meet the constraints; common random numbers; resumable. Exit 0 ok, 1 "
        "no feasible plan or a failed trial, 2 bad input. docs/optimize.md.",
        parents=[
            options(
                "shoppers",
                "no_plots",
                "quiet",
                seed="seed of the trials' replications and of the sampler (default: the "
                "scenario's)",
                out="output folder (default: results/optimize/<scenario>); a new or empty "
                "folder, or this optimisation's, which resumes it",
                threads="Numba threads per worker (default: all with one worker, else 1)",
            )
        ],
    )
    s.add_argument("scenario")
    s.add_argument(
        "--budget",
        type=positive_number,
        required=True,
        help="most total cost (the `cost` KPI at the scenario's population)",
    )
    s.add_argument("--vars", metavar="FILE", help="decision variables (YAML; docs/optimize.md)")
    s.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="PATH=LOW:HIGH[:STEP]|A,B,...",
        help="a decision variable: a numeric range or choices (a+b is a list)",
    )
    s.add_argument(
        "--objective",
        choices=("gmv", "profit"),
        default="gmv",
        help="maximise incremental GMV (default) or incremental profit",
    )
    s.add_argument(
        "--margin",
        type=positive_number,
        help="gross margin at list price for profit (default: the scenario's)",
    )
    s.add_argument(
        "--constraint",
        action="append",
        default=[],
        metavar="'KPI OP NUMBER'",
        help="a KPI target every plan must meet, e.g. 'member_gmv_penetration >= 0.6'",
    )
    s.add_argument(
        "--trials",
        type=positive_int,
        default=100,
        help="finished trials (complete or invalid) to reach (default 100)",
    )
    s.add_argument(
        "--sampler",
        choices=("auto", "tpe", "cmaes"),
        default="auto",
        help="TPE, CMA-ES (continuous variables only) or auto (default)",
    )
    s.add_argument(
        "--reps-per-trial", type=positive_int, default=1, help="replications per trial (default 1)"
    )
    s.add_argument(
        "--confirm-reps",
        type=positive_int,
        default=20,
        help="fresh replications of the side-by-side check (default 20)",
    )
    s.add_argument(
        "--workers", type=positive_int, help="local worker processes (default 1: in this process)"
    )
    s.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run trials on a dask.distributed scheduler (tcp://host:8786)",
    )
    s.set_defaults(func=cmd_optimize)
