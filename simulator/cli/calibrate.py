"""`promosim calibrate bgnbd` and `promosim backtest`: fit transaction logs and check the engine.

User errors (bad transaction files, periods outside the log) print "error: ..." and exit 2, like
the rest of the CLI (`simulator.errors`).
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from simulator.cli.common import BadInput, positive_int, print_table, set_threads


def _date(text: str) -> dt.date:
    """Parse an ISO date YYYY-MM-DD for argparse."""
    import argparse

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def _positive_float(text: str) -> float:
    """Parse a finite number > 0 for argparse."""
    import argparse
    import math

    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def _format_of(path: str, fmt: str | None) -> str:
    """The file format: as given, else "csv" for a .csv file and "cdnow" otherwise."""
    if fmt is not None:
        return fmt
    return "csv" if Path(path).suffix.lower() == ".csv" else "cdnow"


def _load(path: str, fmt: str | None, sample: bool = False):
    """Load a transaction log (optionally the CDNOW 1/10th sample of it) and time it."""
    from simulator.clv.summaries import cdnow_sample
    from simulator.clv.transactions import load_transactions

    fmt = _format_of(path, fmt)
    if sample and fmt != "cdnow":
        raise BadInput(
            "--sample selects Fader & Hardie's 1/10th sample of the CDNOW master; "
            "expected a CDNOW-format file (--format cdnow)"
        )
    t0 = time.perf_counter()
    tx = load_transactions(path, fmt)
    if sample:
        tx = cdnow_sample(tx)
    return tx, time.perf_counter() - t0


def _estimates(names, values, errors) -> list[tuple[str, str, str]]:
    """Rows of parameter, estimate and standard error for print_table."""
    return [(k, f"{values[k]:.4f}", f"{errors[k]:.4f}") for k in names]


# ----------------------------------------------------------------------------- calibrate bgnbd
def cmd_calibrate_bgnbd(args) -> int:
    """Fit BG/NBD and Gamma-Gamma to a log's calibration period and write the params file."""
    from simulator.clv.bgnbd import PARAM_NAMES as BG
    from simulator.clv.gamma_gamma import PARAM_NAMES as GG
    from simulator.clv.params_file import unit_name, write_params
    from simulator.clv.transactions import date_of_day, day_number
    from simulator.fitting.backtest.calibration import cal_end_of_weeks, calibrate

    tx, load_s = _load(args.transactions, args.format)
    if args.cal_weeks is not None:
        cal_end = cal_end_of_weeks(tx, args.cal_weeks)
    elif args.cal_end is not None:
        cal_end = day_number(args.cal_end)
    else:
        cal_end = int(tx.day.max())
    cal = calibrate(tx, cal_end, args.time_unit_days, source=str(args.transactions))
    out = Path(args.out or f"calibration/params/{Path(args.transactions).stem.lower()}.yaml")
    try:
        write_params(out, cal.params)
    except OSError as exc:
        raise BadInput(f"cannot write {out}: {exc.strerror or exc}") from None
    bg, gg, rfm = cal.bgnbd, cal.gamma_gamma, cal.rfm
    unit = unit_name(args.time_unit_days)
    print(
        f"{args.transactions}: {tx.n_transactions:,} rows, {tx.n_customers:,} customers; "
        f"calibration {date_of_day(int(tx.day.min()))}..{date_of_day(cal_end)}: "
        f"{rfm.n_customers:,} customers, {int(rfm.x.sum()):,} repeat transactions"
    )
    print(
        f"BG/NBD (rates per {unit}): log-likelihood {bg.log_likelihood:,.4f}, "
        f"{'converged' if bg.converged else 'NOT converged'} in {bg.iterations} iterations"
    )
    print_table(_estimates(BG, bg.as_dict(), bg.se), ("parameter", "estimate", "std. error"))
    if gg is None:
        print(
            "Gamma-Gamma: not fitted (fewer than 3 customers with a repeat purchase and a "
            "positive spend)"
        )
    else:
        print(
            f"Gamma-Gamma ({gg.n_customers:,} repeat customers): log-likelihood "
            f"{gg.log_likelihood:,.4f}, mean spend per transaction {gg.mean_spend:,.2f}"
        )
        print_table(_estimates(GG, gg.as_dict(), gg.se), ("parameter", "estimate", "std. error"))
    total = load_s + cal.summarise_s + cal.fit_s
    print(
        f"time: load {load_s:.3f} s, summarise {cal.summarise_s:.3f} s, fit "
        f"{cal.fit_s:.3f} s (total {total:.3f} s)"
    )
    print(f"written to {out}")
    return 0


def add_bgnbd(calsub) -> None:
    """Add `calibrate bgnbd` to the `calibrate` subparsers."""
    b = calsub.add_parser("bgnbd", help="fit BG/NBD and Gamma-Gamma to a transaction log")
    b.add_argument("transactions", help="transaction file (CDNOW layout or CSV)")
    b.add_argument(
        "--format",
        choices=("cdnow", "csv"),
        help="file format (default: csv for a .csv file, else cdnow)",
    )
    period = b.add_mutually_exclusive_group()
    period.add_argument(
        "--cal-weeks",
        type=positive_int,
        metavar="W",
        help="calibrate on W weeks from the first transaction day (39 on CDNOW ends 1997-09-30)",
    )
    period.add_argument(
        "--cal-end",
        type=_date,
        metavar="DATE",
        help="last day of the calibration period (default: the whole log)",
    )
    b.add_argument(
        "--time-unit-days",
        type=_positive_float,
        default=7.0,
        help="days per time unit of the BG/NBD rates (default 7: weeks)",
    )
    b.add_argument("--out", help="params file (default: calibration/params/<file stem>.yaml)")
    b.set_defaults(func=cmd_calibrate_bgnbd)


# ----------------------------------------------------------------------------- backtest
def cmd_backtest(args) -> int:
    """Fit on the calibration weeks, replay the cohort in the engine, write figures and charts."""
    from simulator.files import atomic_dir, to_json, write_csv
    from simulator.fitting.backtest.run import run_backtest

    set_threads(args.threads)
    t0 = time.perf_counter()
    tx, load_s = _load(args.transactions, args.format, args.sample)
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
    stem = Path(args.transactions).stem.lower() + ("_sample" if args.sample else "")
    out = Path(args.out or f"results/backtest_{stem}_{args.cal_weeks}w")
    from simulator.reports.backtest_plots import plot_conditional, plot_tracking

    try:
        with atomic_dir(out) as tmp:
            write_csv(tmp / "weekly.csv", res.weekly_rows())
            write_csv(tmp / "conditional.csv", res.conditional_rows())
            plot_tracking(res, tmp / "tracking.png")
            plot_conditional(res, tmp / "conditional.png")
            res.timings["total"] = time.perf_counter() - t0
            (tmp / "backtest.json").write_text(to_json(res.to_dict()))
    except OSError as exc:
        raise BadInput(f"cannot write {out}/: {exc.strerror or exc}") from None
    if not args.quiet:
        _print_backtest(res, out)
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
    print(
        f"engine: {res.reps} replications (seed {res.seed}) in {res.engine.seconds:.1f} s on "
        f"{res.engine.threads} thread{'s' if res.engine.threads > 1 else ''}"
    )
    print(
        f"cumulative repeat transactions at week {res.n_weeks}: actual "
        f"{acc['actual_cum_at_end']:,.0f}; BG/NBD {acc['analytic_cum_at_end']:,.0f}; engine "
        f"{acc['engine_cum_at_end']:,.0f} [{acc['engine_cum_at_end_low']:,.0f}, "
        f"{acc['engine_cum_at_end_high']:,.0f}]"
    )
    print(
        f"holdout weeks {res.cal_weeks + 1}-{res.n_weeks}, cumulative: MAPE engine vs actual "
        f"{acc['mape_engine_vs_actual_pct']:.2f}%, BG/NBD vs actual "
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


def add_backtest(subparsers) -> None:
    """Add `backtest` to the top-level subparsers."""
    b = subparsers.add_parser(
        "backtest", help="fit BG/NBD on calibration weeks and track the holdout with the engine"
    )
    b.add_argument("transactions", help="transaction file (CDNOW layout or CSV)")
    b.add_argument(
        "--cal-weeks",
        type=positive_int,
        required=True,
        metavar="W",
        help="calibration weeks from the first transaction day; the rest is holdout",
    )
    b.add_argument(
        "--format",
        choices=("cdnow", "csv"),
        help="file format (default: csv for a .csv file, else cdnow)",
    )
    b.add_argument(
        "--reps", type=positive_int, default=100, help="engine replications (default 100)"
    )
    b.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
    b.add_argument("--out", help="output folder (default: results/backtest_<file>_<W>w)")
    b.add_argument(
        "--sample",
        action="store_true",
        help="use Fader & Hardie's 2,357-customer 1/10th sample of the CDNOW master",
    )
    b.add_argument(
        "--threads",
        type=positive_int,
        help="Numba threads (default: 1 below 100,000 customers, else all cores; "
        "results do not change)",
    )
    b.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    b.set_defaults(func=cmd_backtest)
