"""`promosim backtest`: fit BG/NBD on calibration weeks and track the holdout with the engine.

User errors (bad transaction files, periods outside the log) print "error: ..." and exit 2, like
the rest of the CLI (`simulator.errors`).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from simulator.cli.common import (
    log_options,
    options,
    out_help,
    positive_int,
    print_table,
    read_transactions,
)


def cmd_backtest(args) -> int:
    """Fit on the calibration weeks, replay the cohort in the engine, write figures and charts."""
    from simulator.cli.calibrate_clv import print_comparison
    from simulator.clv.holdout import compare_models
    from simulator.engine.workers import set_threads
    from simulator.files import atomic_dir, check_output_dir, to_json, write_csv
    from simulator.fitting.backtest.run import run_backtest

    set_threads(args.threads)
    t0 = time.perf_counter()
    tx, load_s = read_transactions(args, args.sample)
    stem = Path(args.transactions).stem.lower() + ("_sample" if args.sample else "")
    out = Path(args.out or f"results/backtest_{stem}_{args.cal_weeks}w")
    check_output_dir(out, "backtest")
    res = run_backtest(
        tx,
        args.cal_weeks,
        reps=args.reps,
        seed=args.seed,
        sample=args.sample,
        progress=not args.quiet,
        threads=args.threads,
    )
    res.timings = {"load": load_s, **res.timings}
    cal_end, last = res.calibration.rfm.cal_end_day, int(tx.day.max())
    models = compare_models(tx, cal_end, last, res.calibration.rfm.time_unit_days)
    from simulator.reports.backtest_plots import plot_conditional, plot_tracking

    with atomic_dir(out, "backtest") as tmp:
        write_csv(tmp / "weekly.csv", res.weekly_rows())
        write_csv(tmp / "conditional.csv", res.conditional_rows())
        plot_tracking(res, tmp / "tracking.png")
        plot_conditional(res, tmp / "conditional.png")
        res.timings["total"] = time.perf_counter() - t0
        (tmp / "backtest.json").write_text(to_json({**res.to_dict(), "models": models.to_dict()}))
    if not args.quiet:
        _print_backtest(res, out)
        print_comparison(models, cal_end, last)
    return 0


def _print_backtest(res, out: Path) -> None:
    """Summarise a backtest on the terminal."""
    bg = res.calibration.bgnbd
    acc = res.accuracy()
    print(
        f"{res.source}{' (1/10th sample)' if res.sample else ''}: {res.n_customers:,} "
        f"customers; calibration {res.start}..{res.cal_end} ({res.cal_weeks} weeks), holdout "
        f"to {res.end} (weeks {res.cal_weeks + 1}-{res.n_weeks})"
    )
    print(
        "BG/NBD per week: "
        + ", ".join(f"{k} {v:.4f}" for k, v in bg.as_dict().items())
        + f"; log-likelihood {bg.log_likelihood:,.2f}"
    )
    for text in res.calibration.warnings:
        print(f"warning: {text}", file=sys.stderr)
    print(
        f"engine: {res.reps} replications (seed {res.seed}) in {res.engine.seconds:.1f} s on "
        f"{res.engine.threads} thread{'s' if res.engine.threads > 1 else ''}"
    )
    hold = res.holdout()
    _print_holdout(res, hold)
    print(
        f"cumulative repeat transactions at week {res.n_weeks}: actual "
        f"{acc['actual_cum_at_end']:,.0f}; BG/NBD {acc['analytic_cum_at_end']:,.0f}; engine "
        f"{acc['engine_cum_at_end']:,.0f} [{acc['engine_cum_at_end_low']:,.0f}, "
        f"{acc['engine_cum_at_end_high']:,.0f}]"
    )
    print(
        f"cumulative curve over weeks {res.cal_weeks + 1}-{res.n_weeks} (its counts include the "
        f"{res.cal_weeks} calibration weeks, so it hides most of the holdout error): MAPE engine "
        f"vs actual {acc['mape_engine_vs_actual_pct']:.2f}%, BG/NBD vs actual "
        f"{acc['mape_analytic_vs_actual_pct']:.2f}%; engine vs BG/NBD "
        f"{acc['mapd_engine_vs_analytic_pct']:.2f}% (max "
        f"{acc['max_abs_pct_engine_vs_analytic']:.2f}%)"
    )
    rows = [
        (
            r["x"],
            f"{r['customers']:,}",
            f"{r['actual']:.3f}",
            f"{r['bgnbd']:.3f}",
            f"{r['engine']:.3f}",
            f"{r['engine_bgnbd']:.3f}",
        )
        for r in res.conditional_rows()
    ]
    print("mean holdout repeat transactions by calibration frequency x:")
    print_table(rows, ("x", "customers", "actual", "BG/NBD", "engine", "engine's BG/NBD"))
    print(f"total {res.timings['total']:.1f} s; written to {out}/")


def _print_holdout(res, hold: dict) -> None:
    """The headline: holdout transactions and revenue, forecast against actual; peak warnings."""
    print(
        f"holdout weeks {res.cal_weeks + 1}-{res.n_weeks}, repeat transactions: actual "
        f"{hold['actual']:,.0f}; BG/NBD {hold['bgnbd']:,.0f} ({hold['error_bgnbd_pct']:+.1f}%); "
        f"engine {hold['engine']:,.0f} ({hold['error_engine_pct']:+.1f}%) "
        f"[{hold['engine_low']:,.0f}, {hold['engine_high']:,.0f}]"
    )
    if hold["revenue_forecast"] is not None:
        print(
            f"holdout revenue: actual {hold['revenue_actual']:,.2f}; BG/NBD × Gamma-Gamma "
            f"{hold['revenue_forecast']:,.2f} ({hold['revenue_error_pct']:+.1f}%); engine "
            f"{hold['revenue_engine']:,.2f} ({hold['revenue_engine_error_pct']:+.1f}%)"
        )
    for p in hold["seasonal_peaks"]:
        print(
            f"warning: week {p['week']} (to {p['week_end']}) is a peak the model cannot know: "
            f"{p['actual']:,} repeat transactions against {p['bgnbd']:,.0f} forecast, beyond "
            "the holdout's typical ratio and Poisson noise; the holdout error includes it",
            file=sys.stderr,
        )
    if hold["seasonal_peaks"]:
        print(
            "holdout error of BG/NBD without the peak weeks: "
            f"{hold['error_bgnbd_without_peaks_pct']:+.1f}%"
        )


def add_parser(subparsers) -> None:
    """Add `backtest` to the top-level subparsers."""
    b = subparsers.add_parser(
        "backtest",
        help="fit BG/NBD on calibration weeks and track the holdout with the engine",
        parents=[
            log_options(),
            options(
                "quiet",
                seed="base seed (default 0)",
                out=out_help("results/backtest_<file>_<W>w"),
                threads="Numba threads (default: 1 below 100,000 customers, else all cores; "
                "results do not change)",
            ),
        ],
    )
    b.add_argument(
        "--cal-weeks",
        type=positive_int,
        required=True,
        metavar="W",
        help="calibration weeks from the first transaction day; the rest is holdout",
    )
    b.add_argument(
        "--reps", type=positive_int, default=100, help="engine replications (default 100)"
    )
    b.add_argument(
        "--sample",
        action="store_true",
        help="use Fader & Hardie's 2,357-customer 1/10th sample of the CDNOW master",
    )
    b.set_defaults(func=cmd_backtest, seed=0)
