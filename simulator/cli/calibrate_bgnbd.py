"""`promosim calibrate bgnbd`: fit BG/NBD and Gamma-Gamma to a transaction log, write a params file.

Exit codes: 0 written; 1 the BG/NBD fit did not converge (printed, not written, unless
--allow-unconverged); 2 a user error (bad transaction file, period outside the log, an existing
--out without --force), printed as "error: ..." like the rest of the CLI (`simulator.errors`);
3 a boundary or degenerate fit (`clv.fit_checks`: a parameter running off to 0 or infinity, an
information matrix that is not positive definite): the estimates, profile intervals and a
warning saying what the fit means are printed, nothing is written unless --allow-boundary.

The params file goes to `results/calibrate/<file stem>.yaml` by default, replacing only a params
file written there before; an existing file named with --out is replaced only with --force, so a
tracked file such as `calibration/params/cdnow_master.yaml` is never overwritten by accident.
"""

from __future__ import annotations

import sys
from pathlib import Path

from simulator.cli.common import (
    BadInput,
    iso_date,
    log_options,
    non_negative_number,
    options,
    positive_int,
    positive_number,
    read_transactions,
)
from simulator.cli.fit_report import fit_status, print_fit

EXIT_NOT_CONVERGED = 1
EXIT_BOUNDARY = 3
WRITTEN_BY = "# Fitted by `promosim calibrate bgnbd`"  # first line of a params file (params_file)


def _out_path(args) -> tuple[Path, str | None]:
    """The params file to write and, for the default path only, the mark of a file we wrote."""
    if args.out:
        return Path(args.out), None
    return Path("results/calibrate") / f"{Path(args.transactions).stem.lower()}.yaml", WRITTEN_BY


def cmd_calibrate_bgnbd(args) -> int:
    """Fit BG/NBD and Gamma-Gamma to a log's calibration period and write the params file."""
    from simulator.clv.bgnbd import PARAM_NAMES as BG
    from simulator.clv.gamma_gamma import PARAM_NAMES as GG
    from simulator.clv.params_file import unit_name, write_params
    from simulator.clv.transactions import date_of_day, day_number
    from simulator.files import check_output_file, check_replace_file
    from simulator.fitting.backtest.calibration import cal_end_of_weeks, calibrate

    out, ours = _out_path(args)
    check_output_file(out)
    check_replace_file(out, force=args.force, written_by=ours)
    tx, load_s = read_transactions(args)
    if args.cal_weeks is not None:
        cal_end = cal_end_of_weeks(tx, args.cal_weeks)
    elif args.cal_end is not None:
        cal_end = day_number(args.cal_end)
    else:
        cal_end = int(tx.day.max())
    cal = calibrate(
        tx,
        cal_end,
        args.time_unit_days,
        source=str(args.transactions),
        penalizer=args.penalizer,
        profile=args.profile,
    )
    bg, gg, rfm = cal.bgnbd, cal.gamma_gamma, cal.rfm
    warnings = cal.warnings
    converged_ok = bg.converged or args.allow_unconverged
    write = converged_ok and (not warnings or args.allow_boundary)
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
    if args.penalizer:
        print(f"L2 penalizer {args.penalizer:g} on the log-parameters (both fits)")
    print(f"BG/NBD (rates per {unit}): log-likelihood {bg.log_likelihood:,.4f}, {fit_status(bg)}")
    print_fit(bg, BG)
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
        print_fit(gg, GG)
    total = load_s + cal.summarise_s + cal.fit_s
    print(
        f"time: load {load_s:.3f} s, summarise {cal.summarise_s:.3f} s, fit "
        f"{cal.fit_s:.3f} s (total {total:.3f} s)"
    )
    for text in warnings:
        print(f"warning: {text}", file=sys.stderr)
    if not converged_ok:
        print(
            f"error: the BG/NBD fit did not converge, so {out} was not written; check the log "
            "and the calibration period, or write it anyway with --allow-unconverged",
            file=sys.stderr,
        )
        return EXIT_NOT_CONVERGED
    if not write:
        print(
            f"error: a boundary fit (warnings above), so {out} was not written: a scenario "
            "would simulate the limiting model as if the data had shown it. Keep the "
            "parameters finite with --penalizer (e.g. 0.001), or write it anyway, with the "
            "warnings in the file, with --allow-boundary",
            file=sys.stderr,
        )
        return EXIT_BOUNDARY
    print(f"written to {out}")
    return 0


def add_parser(subparsers) -> None:
    """Add `bgnbd` to the subparsers of `calibrate`."""
    b = subparsers.add_parser(
        "bgnbd",
        help="fit BG/NBD and Gamma-Gamma to a transaction log",
        parents=[
            log_options(),
            options(
                out="params file (default: results/calibrate/<file stem>.yaml, replacing only "
                "a params file written there before); an existing file is replaced only with "
                "--force",
            ),
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
        type=iso_date,
        metavar="DATE",
        help="last day of the calibration period (default: the whole log)",
    )
    b.add_argument(
        "--time-unit-days",
        type=positive_number,
        default=7.0,
        help="days per time unit of the BG/NBD rates (default 7: weeks)",
    )
    b.add_argument(
        "--allow-unconverged",
        action="store_true",
        help="write the params file even when the BG/NBD fit did not converge (otherwise "
        "nothing is written and the exit code is 1)",
    )
    b.add_argument(
        "--allow-boundary",
        action="store_true",
        help="write the params file even for a boundary or degenerate fit, with its warnings "
        f"in the file (otherwise nothing is written and the exit code is {EXIT_BOUNDARY})",
    )
    b.add_argument(
        "--penalizer",
        type=non_negative_number,
        default=0.0,
        metavar="L",
        help="L2 penalty L·Σ(log θ − log θ₀)² on the mean log-likelihood per customer, θ₀ the "
        "fit's start (shapes 1, scales from the data): keeps a boundary fit finite "
        "(default 0: plain maximum likelihood)",
    )
    b.add_argument(
        "--profile",
        action="store_true",
        help="95%% intervals from the profile likelihood for every parameter (they are "
        "computed anyway when the standard errors fail or a parameter is poorly determined)",
    )
    b.add_argument(
        "--force",
        action="store_true",
        help="replace an existing --out file",
    )
    b.set_defaults(func=cmd_calibrate_bgnbd)
