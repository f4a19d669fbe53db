"""`promosim run`: simulate a scenario and its no-campaign baseline; write KPIs, series, plots."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from simulator.cli.assumption_options import add_assumptions_option, assumption_mode
from simulator.cli.common import (
    check_memory,
    options,
    out_help,
    positive_int,
    print_table,
)
from simulator.cli.touch_table import add_touch_roi_option, print_touches
from simulator.formatting import table_number

# the per-window table of `promosim run`: KPI keys and their short column headers
WINDOW_COLUMNS = (
    "gmv",
    "incremental_gmv",
    "cost",
    "roi",
    "roi_to_date",
    "member_gmv_penetration",
    "old_member_gmv_share",
    "new_members",
)
WINDOW_HEADERS = (
    "gmv",
    "incr. gmv",
    "cost",
    "roi",
    "roi to date",
    "member pen.",
    "old share",
    "new members",
)


def cmd_run(args) -> int:
    """Run a scenario and its no-campaign baseline; print and write KPIs, daily series, plots."""
    from simulator.analysis.kpis import HEADLINE, ceiling_warning
    from simulator.analysis.scenario_run import run_scenario
    from simulator.engine.workers import set_threads
    from simulator.files import check_output_dir
    from simulator.reports.run_folder import write_run_folder
    from simulator.scenario.load import load_scenario

    sc = load_scenario(args.scenario)
    set_threads(args.threads)
    check_memory(args.shoppers or sc.population.shoppers, [sc])
    out = Path(args.out or f"results/{Path(args.scenario).stem}")
    check_output_dir(out, "run")
    mode = assumption_mode(args.assumptions, [sc], args.reps)
    t0 = time.perf_counter()
    result = run_scenario(
        sc,
        Path(args.scenario).parent,
        reps=args.reps,
        seed=args.seed,
        shoppers=args.shoppers,
        with_baseline=not args.no_baseline,
        progress=not args.quiet,
        assumptions=mode,
        touch_roi=args.touch_roi,
    )
    wall = time.perf_counter() - t0
    rep, kpis, summary, split = result.rep, result.kpis, result.summary, result.split
    touches = result.touches
    run = rep.first[0]
    means = {k: m for k, (m, _, _) in summary.items()}
    meta = write_run_folder(out, result, str(args.scenario), mode, wall, plots=not args.no_plots)
    warnings = meta["warnings"]
    for warning in [ceiling_warning(kpis)] + [f"warning: {w}" for w in warnings]:
        if warning:
            print(warning, file=sys.stderr)
    if not args.quiet:
        reps = f", {args.reps} replications" if args.reps > 1 else ""
        print(
            f"{sc.name}: {run.shoppers:,} shoppers x {len(run.dates)} days, seed {run.seed}"
            f"{reps}, {wall:.1f} s"
        )
        if args.reps == 1:
            rows = [(k, table_number(kpis.get(k))) for k in HEADLINE if k in kpis]
            print_table(rows, ("kpi", "value"))
        elif mode == "drawn":
            rows = [
                (
                    k,
                    table_number(split[k]["mean"]),
                    f"[{table_number(split[k]['ci_low'])}, {table_number(split[k]['ci_high'])}]",
                    f"[{table_number(split[k]['total_low'])}, "
                    f"{table_number(split[k]['total_high'])}]",
                    f"{split[k]['assumption_share']:.0%}",
                )
                for k in HEADLINE
                if k in split and split[k]["draws"] >= 2
            ]
            head = ("kpi", "mean", "95% CI", "95% under assumptions", "from assumptions")
            print_table(rows, head)
        else:
            rows = [
                (
                    k,
                    table_number(summary[k][0]),
                    table_number(summary[k][1]),
                    table_number(summary[k][2]),
                )
                for k in HEADLINE
                if k in summary
            ]
            print_table(rows, ("kpi", "mean", "95% CI low", "95% CI high"))
        if sc.windows:
            _print_windows(rep.kpis[0] if args.reps == 1 else means, sc)
        if touches:
            print()
            print_touches(touches, with_scenario=False)
        print(f"written to {out}/")
    return 0


def _print_windows(kpis: dict, sc) -> None:
    """The headline KPIs of each KPI window (flat keys window.<name>.<kpi>), one row a window."""
    rows = [
        (name, f"{first:%m-%d}..{last:%m-%d}")
        + tuple(table_number(kpis.get(f"window.{name}.{k}")) for k in WINDOW_COLUMNS)
        for name, (first, last) in ((w, sc.window_range(w)) for w in sc.windows)
    ]
    print_table(rows, ("window", "days", *WINDOW_HEADERS))


def add_parser(subparsers) -> None:
    """Add `run` to the top-level subparsers."""
    r = subparsers.add_parser(
        "run",
        help="simulate a scenario and write KPIs, daily series and plots",
        parents=[
            options(
                "shoppers",
                "threads",
                "no_plots",
                "quiet",
                seed="run seed (default: the scenario's)",
                out=out_help("results/<scenario file stem>"),
            )
        ],
    )
    r.add_argument("scenario")
    r.add_argument(
        "--no-baseline",
        action="store_true",
        help="skip the no-campaign run (no incremental GMV or ROI)",
    )
    r.add_argument(
        "--reps", type=positive_int, default=1, help="replications (KPI means with 95%% CIs)"
    )
    add_assumptions_option(r)
    add_touch_roi_option(r)
    r.set_defaults(func=cmd_run)
