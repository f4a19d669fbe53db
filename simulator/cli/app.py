"""`promosim` command line: thin wrappers that parse, call the API, print and write files.

Exit codes: 0 success, 1 an internal failure, 2 bad input (scenario, data file or arguments).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from simulator import __version__
from simulator.cli import bench
from simulator.cli import calibrate as calibration_cli
from simulator.cli import sweep as sweep_cli
from simulator.cli import targets as targets_cli
from simulator.cli.common import (
    EXIT_BAD_INPUT,
    BadInput,
    format_value,
    load,
    positive_int,
    print_table,
    set_threads,
)
from simulator.errors import UserError


# ----------------------------------------------------------------------------- commands
def cmd_validate(args) -> int:
    """Check a scenario and summarise it."""
    for path in args.scenario:
        sc = load(path)
        print(
            f"OK {path}: '{sc.name}' - {sc.population.shoppers:,} shoppers, "
            f"{len(sc.days)} days, {len(sc.calendar.phases)} phases, {len(sc.benefits)} "
            f"benefits, {len(sc.channels)} channels, {len(sc.plan)} touches"
        )
    return 0


def cmd_run(args) -> int:
    """Run a scenario and its no-campaign baseline; print and write KPIs, daily series, plots."""
    from simulator.analysis.experiment import replicate, summarise
    from simulator.analysis.kpis import HEADLINE
    from simulator.files import atomic_dir, to_json, write_csv
    from simulator.reports.outputs import daily_rows

    sc = load(args.scenario)
    set_threads(args.threads)
    out = Path(args.out or f"results/{Path(args.scenario).stem}")
    t0 = time.perf_counter()
    (rep,) = replicate(
        [sc],
        [sc.name],
        reps=args.reps,
        seed=args.seed,
        shoppers=args.shoppers,
        with_baseline=not args.no_baseline,
        base_dirs=[Path(args.scenario).parent],
        progress=not args.quiet,
    )
    wall = time.perf_counter() - t0
    run, baseline = rep.first
    summary = summarise(rep)
    if args.reps == 1:
        kpis = rep.kpis[0]
    else:
        kpis = {k: m for k, (m, _, _) in summary.items()}
        kpis["reps"] = args.reps
        kpis["ci95"] = {k: [lo, hi] for k, (_, lo, hi) in summary.items()}
        kpis["replications"] = {k: rep.values(k) for k in summary}
    with atomic_dir(out) as tmp:
        (tmp / "kpis.json").write_text(to_json(kpis))
        write_csv(tmp / "daily.csv", daily_rows(run, baseline))
        meta = {
            "scenario": str(args.scenario),
            "name": sc.name,
            "seed": run.seed,
            "shoppers": run.shoppers,
            "days": len(run.dates),
            "reps": args.reps,
            "baseline": baseline is not None,
            "wall_s": round(wall, 3),
            "promosim_version": __version__,
            "note": "daily.csv and the charts show replication 0",
        }
        (tmp / "run.json").write_text(to_json(meta))
        if not args.no_plots:
            from simulator.reports.run_plots import plot_run

            plot_run(run, tmp, baseline)
    if not args.quiet:
        reps = f", {args.reps} replications" if args.reps > 1 else ""
        print(
            f"{sc.name}: {run.shoppers:,} shoppers x {len(run.dates)} days, seed {run.seed}"
            f"{reps}, {wall:.1f} s"
        )
        if args.reps == 1:
            rows = [(k, format_value(kpis.get(k))) for k in HEADLINE if k in kpis]
            print_table(rows, ("kpi", "value"))
        else:
            rows = [
                (
                    k,
                    format_value(summary[k][0]),
                    format_value(summary[k][1]),
                    format_value(summary[k][2]),
                )
                for k in HEADLINE
                if k in summary
            ]
            print_table(rows, ("kpi", "mean", "95% CI low", "95% CI high"))
        print(f"written to {out}/")
    return 0


def cmd_compare(args) -> int:
    """Compare a baseline with alternatives over replications (common random numbers)."""
    from simulator.analysis.experiment import run_comparison
    from simulator.files import atomic_dir, to_json, write_csv

    paths = [args.baseline, *args.alternatives]
    scenarios = [load(p) for p in paths]
    names = [Path(p).stem for p in paths]
    if len(set(names)) != len(names):
        raise BadInput("scenario file names must differ (they name the rows of the table)")
    set_threads(args.threads)
    out = Path(args.out or "results/compare")
    t0 = time.perf_counter()
    cmp = run_comparison(
        scenarios,
        names,
        reps=args.reps,
        seed=args.seed,
        shoppers=args.shoppers,
        independent=args.independent,
        touch_roi=args.touch_roi,
        base_dirs=[Path(p).parent for p in paths],
        progress=not args.quiet,
    )
    cmp.meta["wall_s"] = round(time.perf_counter() - t0, 3)
    with atomic_dir(out) as tmp:
        (tmp / "comparison.json").write_text(
            to_json({"meta": cmp.meta, "rows": cmp.rows, "touch_roi": cmp.touch_rows})
        )
        write_csv(tmp / "comparison.csv", cmp.rows)
        if cmp.touch_rows:
            write_csv(tmp / "touch_roi.csv", cmp.touch_rows)
        if not args.no_plots:
            from simulator.reports.compare_plots import plot_comparison

            plot_comparison(cmp, tmp)
    if not args.quiet:
        print(
            f"{len(names)} scenarios x {args.reps} replications x {cmp.meta['shoppers']:,} "
            f"shoppers ({cmp.meta['random_numbers']} random numbers), "
            f"{cmp.meta['wall_s']:.1f} s; baseline: {names[0]}"
        )
        shown = (
            "gmv",
            "member_gmv_penetration",
            "new_members",
            "old_member_gmv_share",
            "member_arpu",
            "cost",
            "incremental_gmv",
            "incremental_cost",
            "roi",
        )
        table = []
        for r in cmp.rows:
            if r["kpi"] not in shown or r["scenario"] == names[0]:
                continue
            diff = r["diff"] if r["diff"] is not None else r["mean"]
            lo = r["diff_ci_low"] if r["diff"] is not None else r["ci_low"]
            hi = r["diff_ci_high"] if r["diff"] is not None else r["ci_high"]
            table.append(
                (
                    r["scenario"],
                    r["kpi"],
                    format_value(r["mean"]),
                    format_value(diff),
                    f"[{format_value(lo)}, {format_value(hi)}]",
                )
            )
        print_table(table, ("scenario", "kpi", "mean", "vs baseline", "95% CI"))
        print(f"written to {out}/")
    return 0


# ----------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    p = argparse.ArgumentParser(prog="promosim", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"promosim {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    v = sub.add_parser("validate", help="check scenario files without simulating")
    v.add_argument("scenario", nargs="+")
    v.set_defaults(func=cmd_validate)

    r = sub.add_parser("run", help="simulate a scenario and write KPIs, daily series and plots")
    r.add_argument("scenario")
    r.add_argument(
        "--shoppers",
        type=positive_int,
        help="population size (rescales the mix, capacities and budgets)",
    )
    r.add_argument("--seed", type=int, help="run seed (default: the scenario's)")
    r.add_argument("--out", help="output folder (default: results/<scenario name>)")
    r.add_argument("--threads", type=positive_int, help="Numba threads (results do not change)")
    r.add_argument("--no-plots", action="store_true", help="skip the PNG charts")
    r.add_argument(
        "--no-baseline",
        action="store_true",
        help="skip the no-campaign run (no incremental GMV or ROI)",
    )
    r.add_argument(
        "--reps", type=positive_int, default=1, help="replications (KPI means with 95%% CIs)"
    )
    r.add_argument("--quiet", action="store_true", help="no progress bar or table")
    r.set_defaults(func=cmd_run)

    c = sub.add_parser("compare", help="compare strategies with a baseline over replications")
    c.add_argument("baseline", help="baseline scenario (e.g. scenarios/no_campaign.yaml)")
    c.add_argument("alternatives", nargs="+", help="scenarios to compare with the baseline")
    c.add_argument("--reps", type=positive_int, default=30, help="replications (default 30)")
    c.add_argument("--shoppers", type=positive_int, help="population size")
    c.add_argument("--seed", type=int, help="base seed (default: the baseline's)")
    c.add_argument("--out", help="output folder (default: results/compare)")
    c.add_argument("--threads", type=positive_int, help="Numba threads")
    c.add_argument(
        "--independent",
        action="store_true",
        help="unrelated seeds per scenario instead of common random numbers",
    )
    c.add_argument(
        "--touch-roi",
        action="store_true",
        help="also the marginal ROI of each touch (one more run per touch)",
    )
    c.add_argument("--no-plots", action="store_true", help="skip the PNG charts")
    c.add_argument("--quiet", action="store_true", help="no progress bar or table")
    c.set_defaults(func=cmd_compare)

    sweep_cli.add_sweep(sub)  # docs/sweeps.md
    cal = sub.add_parser("calibrate", help="fit model parameters to data")
    calsub = cal.add_subparsers(dest="what", required=True)
    calibration_cli.add_bgnbd(calsub)
    targets_cli.add_targets(calsub)  # docs/calibration.md
    calibration_cli.add_backtest(sub)
    bench.add_bench(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `promosim` command."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except UserError as exc:  # any bad input, from any command (simulator.errors)
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
