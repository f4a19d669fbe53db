"""`promosim calibrate bgnbd`: fit BG/NBD and Gamma-Gamma to a transaction log, write a params file.

User errors (bad transaction files, periods outside the log) print "error: ..." and exit 2, like
the rest of the CLI (`simulator.errors`). A BG/NBD fit that did not converge is printed but not
written, exit 1, unless --allow-unconverged.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
from pathlib import Path

from simulator.cli.common import BadInput, options, positive_int, print_table, read_transactions

EXIT_NOT_CONVERGED = 1


def _date(text: str) -> dt.date:
    """Parse an ISO date YYYY-MM-DD for argparse."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def _positive_float(text: str) -> float:
    """Parse a finite number > 0 for argparse."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def _estimates(names, values, errors) -> list[tuple[str, str, str]]:
    """Rows of parameter, estimate and standard error for print_table."""
    return [(k, f"{values[k]:.4f}", f"{errors[k]:.4f}") for k in names]


def cmd_calibrate_bgnbd(args) -> int:
    """Fit BG/NBD and Gamma-Gamma to a log's calibration period and write the params file."""
    from simulator.clv.bgnbd import PARAM_NAMES as BG
    from simulator.clv.gamma_gamma import PARAM_NAMES as GG
    from simulator.clv.params_file import unit_name, write_params
    from simulator.clv.transactions import date_of_day, day_number
    from simulator.files import check_output_file
    from simulator.fitting.backtest.calibration import cal_end_of_weeks, calibrate

    out = Path(args.out or f"calibration/params/{Path(args.transactions).stem.lower()}.yaml")
    check_output_file(out)
    tx, load_s = read_transactions(args.transactions, args.format)
    if args.cal_weeks is not None:
        cal_end = cal_end_of_weeks(tx, args.cal_weeks)
    elif args.cal_end is not None:
        cal_end = day_number(args.cal_end)
    else:
        cal_end = int(tx.day.max())
    cal = calibrate(tx, cal_end, args.time_unit_days, source=str(args.transactions))
    bg, gg, rfm = cal.bgnbd, cal.gamma_gamma, cal.rfm
    write = bg.converged or args.allow_unconverged
    if write:
        try:
            write_params(out, cal.params)
        except OSError as exc:
            raise BadInput(f"cannot write {out}: {exc.strerror or exc}") from None
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
    if not write:
        print(
            f"error: the BG/NBD fit did not converge, so {out} was not written; check the log "
            "and the calibration period, or write it anyway with --allow-unconverged",
            file=sys.stderr,
        )
        return EXIT_NOT_CONVERGED
    print(f"written to {out}")
    return 0


def add_parser(subparsers) -> None:
    """Add `bgnbd` to the subparsers of `calibrate`."""
    b = subparsers.add_parser(
        "bgnbd",
        help="fit BG/NBD and Gamma-Gamma to a transaction log",
        parents=[
            options(
                "transactions",
                "format",
                out="params file (default: calibration/params/<file stem>.yaml)",
            )
        ],
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
    b.add_argument(
        "--allow-unconverged",
        action="store_true",
        help="write the params file even when the BG/NBD fit did not converge (otherwise "
        "nothing is written and the exit code is 1)",
    )
    b.set_defaults(func=cmd_calibrate_bgnbd)
