"""`promosim calibrate targets`: fit a scenario's free parameters to campaign targets.

Exit codes: 0 every target met, 1 some target not met (the report says which and why), 2 bad
input (scenario, targets file or arguments), reported by `simulator.cli.app.main`.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from simulator.cli.common import (
    check_memory,
    options,
    out_help,
    positive_int,
    print_table,
)
from simulator.formatting import table_number

EXIT_NOT_MET = 1
COMMAND = "calibrate targets"  # the command a result folder's marker names


def cmd_calibrate_targets(args) -> int:
    """Fit the targets file's free parameters; print, write fit.json, fitted YAML and chart."""
    from simulator.engine.workers import set_threads
    from simulator.files import (
        atomic_dir,
        atomic_write_text,
        check_output_dir,
        check_output_file,
        to_json,
    )
    from simulator.fitting.targets.fitted_yaml import fitted_yaml
    from simulator.fitting.targets.problem import load_problem
    from simulator.fitting.targets.search import fit
    from simulator.reports.targets_plots import plot_targets

    problem = load_problem(
        args.scenario, args.targets, shoppers=args.shoppers, reps=args.reps, seed=args.seed
    )
    set_threads(args.threads)
    # the search keeps up to 3 sets of every replication's shoppers, draws one, runs one copy
    check_memory(problem.shoppers, [problem.scenario], copies=4 * problem.reps + 1)
    out = Path(args.out or f"results/calibrate_{Path(args.scenario).stem}")
    check_output_dir(out, COMMAND)
    if args.save_fitted:
        check_output_file(args.save_fitted)
        check_output_file(Path(args.save_fitted).with_suffix(".fit.json"))
    stem = Path(args.scenario).stem
    if not args.quiet:
        print(
            f"fitting {len(problem.names)} parameters of {args.scenario} to "
            f"{len(problem.spec.targets)} targets: {problem.reps} replications x "
            f"{problem.shoppers:,} shoppers (counts x {problem.scale:g} for a store of "
            f"{problem.population:,}), seed {problem.seed}, at most {args.max_evals} "
            "evaluations"
        )
    t0 = time.perf_counter()
    result = fit(problem, max_evals=args.max_evals, progress=not args.quiet)
    report = result.report()
    report["command"] = " ".join(["promosim", *sys.argv[1:]]) if sys.argv[1:] else None
    with atomic_dir(out, COMMAND) as tmp:
        (tmp / "fit.json").write_text(to_json(report))
        (tmp / f"{stem}.yaml").write_text(fitted_yaml(result, out / f"{stem}.yaml"))
        if not args.no_plots:
            plot_targets(result, tmp / "targets.png")
    if args.save_fitted:
        dest = Path(args.save_fitted)
        atomic_write_text(dest, fitted_yaml(result, dest))
        atomic_write_text(dest.with_suffix(".fit.json"), to_json(report))
    wall = time.perf_counter() - t0
    if not args.quiet:
        _print_report(result, report, wall)
        print(f"written to {out}/" + (f" and {args.save_fitted}" if args.save_fitted else ""))
    return 0 if result.all_met else EXIT_NOT_MET


def _print_report(result, report: dict, wall: float) -> None:
    """Parameters (start → fitted) and targets (achieved vs target) as tables."""
    rows = [
        (
            name,
            table_number(p["start"]),
            table_number(p["fitted"]),
            f"[{p['bounds'][0]:g}, {p['bounds'][1]:g}]",
            p["at_bound"] or "",
        )
        for name, p in report["params"].items()
    ]
    print_table(rows, ("parameter", "start", "fitted", "bounds", "at bound"))
    print()
    rows = [
        (
            t["name"],
            table_number(t["target"]),
            table_number(t["tolerance"]),
            table_number(t["start_mean"]),
            table_number(t["achieved_mean"]),
            f"[{table_number(t['ci95'][0])}, {table_number(t['ci95'][1])}]",
            "yes" if t["met"] else "NO",
        )
        for t in report["targets"]
    ]
    print_table(rows, ("target", "value", "± tol", "start", "achieved", "95% CI", "met"))
    print(
        f"\ndistance {result.best.distance:.4g} (start {result.start.distance:.4g}), "
        f"{result.evaluations} evaluations, {'converged' if result.converged else 'stopped'}: "
        f"{result.stop_reason}; {wall:.1f} s"
    )
    for t in report["targets"]:
        if not t["met"]:
            print(f"NOT MET {t['name']}: {t['why_not_met']}")
    if result.all_met:
        print("all targets met")


def add_parser(subparsers) -> None:
    """Add `targets` to the subparsers of `calibrate`."""
    t = subparsers.add_parser(
        "targets",
        help="fit scenario parameters to KPI targets (method of simulated moments)",
        description="Fit the free parameters named in TARGETS to its KPI targets. Exit code 0 "
        "if every target is met, 1 if some is not, 2 on bad input.",
        parents=[
            options(
                "seed",
                "threads",
                "no_plots",
                "quiet",
                shoppers="shoppers per run (default: 100,000 or the scenario's if fewer)",
                out=out_help("results/calibrate_<scenario stem>"),
            )
        ],
    )
    t.add_argument("scenario", help="scenario file")
    t.add_argument("targets", help="targets file (docs/calibration.md)")
    t.add_argument(
        "--reps",
        type=positive_int,
        default=4,
        help="replications per evaluation, fixed seeds (default 4)",
    )
    t.add_argument(
        "--max-evals",
        type=positive_int,
        default=150,
        help="most evaluations of the search (default 150; the report adds one per "
        "parameter and one at the rounded optimum)",
    )
    t.add_argument(
        "--save-fitted",
        metavar="PATH",
        help="also write the fitted scenario to PATH and its report to "
        "PATH with suffix .fit.json (e.g. calibration/fitted/x.yaml)",
    )
    t.set_defaults(func=cmd_calibrate_targets)
