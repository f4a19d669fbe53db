"""`promosim sensitivity`: which assumption decides between strategies (Sobol over assumptions).

A Sobol sweep (`sweeps.assumptions`) over the distributions the scenarios state: at each point
the baseline and every strategy run with common random numbers; Sobol indices of each strategy's
increments and of every pair's difference rank the assumptions. The output folder is a sweep's
(sweep.csv, sobol.csv, summary.md, plots; resumable). Exit 0 ok, 1 a point failed, 2 bad input.
"""

from __future__ import annotations

import sys
from pathlib import Path

from simulator.cli.common import BadInput, options, positive_int, print_table
from simulator.cli.interrupts import EXIT_INTERRUPTED, EXIT_TERMINATED, Terminated

EXIT_FAILED = 1


def cmd_sensitivity(args) -> int:
    """Plan, run and report the Sobol sweep over the scenarios' assumptions."""
    from simulator.scenario.load import load_scenario
    from simulator.sweeps import run_sweep, write_outputs
    from simulator.sweeps.assumptions import plan_assumption_sweep
    from simulator.sweeps.run import check_folder

    paths = [args.baseline, *args.strategies]
    names = [Path(p).stem for p in paths]
    if len(set(names)) != len(names):
        raise BadInput("scenario file names must differ (they name the KPIs)")
    out = Path(args.out or "results/sensitivity")
    check_folder(out)
    seed = load_scenario(paths[0]).seed if args.seed is None else args.seed
    try:
        plan = plan_assumption_sweep(
            paths, args.sobol, reps=args.reps, seed=seed, shoppers=args.shoppers
        )
        result = run_sweep(plan, out, workers=args.workers or 1, progress=not args.quiet)
        write_outputs(result, out, plots=not args.no_plots)
    except KeyboardInterrupt as exc:
        how = "terminated" if isinstance(exc, Terminated) else "interrupted"
        print(f"{how}: finished points are saved; run the same command to resume", file=sys.stderr)
        return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED
    if not args.quiet:
        print_ranking(result.sobol(), names)
        print(f"written to {out}/ (sobol.csv, summary.md)")
    for p in result.failures():
        print(f"FAILED point {p.index}: {(p.error or '').splitlines()[0]}")
    return EXIT_FAILED if result.failures() else 0


def print_ranking(rows: list[dict], names: list[str]) -> None:
    """For each pair's difference and each strategy's gain: the assumptions ranked by total ST."""
    table = [
        (
            r["kpi"],
            str(r["rank"]),
            r["factor"].split(":", 1)[-1],
            f"{r['ST']:.2f}",
            f"{r['S1']:.2f}",
        )
        for r in sorted(rows, key=lambda r: (r["kpi"].count("-") == 0, r["kpi"], r["rank"]))
        if r["rank"] <= 3
    ]
    print_table(table, ("kpi", "rank", "assumption", "total ST", "first-order S1"))
    for r in rows:
        if r["rank"] == 1 and "-" in r["kpi"].split(".")[0]:
            pair, kpi = r["kpi"].split(".", 1)
            print(
                f"{kpi} of {pair.replace('-', ' vs ')} depends most on "
                f"{_name(r['factor'])} (ST {r['ST']:.2f})"
            )


def _name(factor: str) -> str:
    """An assumption factor's name: its path, or the file of joint draws."""
    kind, _, name = factor.partition(":")
    return name if kind == "path" else f"draws of {name}"


def add_parser(subparsers) -> None:
    """Add `sensitivity` to the top-level subparsers."""
    s = subparsers.add_parser(
        "sensitivity",
        help="which assumption decides between strategies (Sobol indices over assumptions)",
        parents=[
            options(
                "shoppers",
                "no_plots",
                "quiet",
                seed="design and replication seed",
                out="output folder (default: results/sensitivity); a sweep's, resumable",
            )
        ],  # fmt: skip
    )
    s.add_argument("baseline", help="baseline scenario (e.g. scenarios/no_campaign.yaml)")
    s.add_argument("strategies", nargs="+", help="strategies to analyse against the baseline")
    s.add_argument(
        "--sobol", type=positive_int, default=64, help="base samples N, a power of 2 (64)"
    )
    s.add_argument("--reps", type=positive_int, default=1, help="replications per point (1)")
    s.add_argument("--workers", type=positive_int, help="local worker processes")
    s.set_defaults(func=cmd_sensitivity)
