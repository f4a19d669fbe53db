"""`promosim calibrate clv LOG --model M`: fit BG/NBD, Pareto/NBD or BG/BB and write a params file.

The file has the format of `calibrate bgnbd` with a ``model:`` key (`clv.params_file`); only a
BG/NBD file drives a simulation. `--compare-models` fits BG/NBD and Pareto/NBD on the
calibration period and ranks them by the holdout log-likelihood (`clv.holdout`), writing nothing.
Exit codes and the --out rule are those of `calibrate bgnbd`: 1 a fit that did not converge (not
written unless --allow-unconverged), 2 bad input or an existing --out without --force, 3 a
boundary fit (`clv.fit_checks`; not written unless --allow-boundary).
"""

from __future__ import annotations

import argparse
import datetime as dt
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
    print_table,
    read_transactions,
)
from simulator.cli.fit_report import fit_status, print_fit

EXIT_NOT_CONVERGED = 1
EXIT_BOUNDARY = 3
WRITTEN_BY = "# Fitted by `promosim calibrate "  # a params file's first line (params_file)
MODELS = ("bgnbd", "paretonbd", "bgbb")


def yearly_window(text: str) -> tuple[str, str]:
    """Parse MM-DD..MM-DD (or a single MM-DD) for --window: days of every year (no 02-29)."""
    start, _, end = text.partition("..")
    end = end or start
    try:
        first, last = (dt.date.fromisoformat(f"2001-{md}") for md in (start, end))
    except ValueError:
        first = last = None
    if first is None or last < first:
        raise argparse.ArgumentTypeError(
            f"expected MM-DD..MM-DD within one year (such as 11-01..11-11), got {text!r}"
        )
    return start, end


def _cal_end(tx, args) -> int:
    """The calibration period's last day from --cal-weeks or --cal-end (default: the log's)."""
    from simulator.clv.transactions import day_number
    from simulator.fitting.backtest.calibration import cal_end_of_weeks

    if args.cal_weeks is not None:
        return cal_end_of_weeks(tx, args.cal_weeks)
    if args.cal_end is not None:
        return day_number(args.cal_end)
    return int(tx.day.max())


def _print_estimates(label: str, fit, unit: str) -> None:
    """The fit's headline and its table of estimates, standard errors and intervals."""
    print(f"{label} ({unit}): log-likelihood {fit.log_likelihood:,.4f}, {fit_status(fit)}")
    print_fit(fit, tuple(fit.as_dict()))


def _fit_options(args) -> dict:
    """The penalizer and profile options of every fit (`fit_checks.fit_ml`)."""
    return {"penalizer": args.penalizer, "profile": args.profile}


def _fit_continuous(tx, cal_end: int, args):
    """BG/NBD or Pareto/NBD on the calibration summary: (fit, file, warnings)."""
    from simulator.clv.fit_checks import fit_warnings
    from simulator.clv.params_file import model_file, unit_name
    from simulator.clv.pareto_nbd import fit_pareto_nbd
    from simulator.clv.transactions import date_of_day
    from simulator.fitting.backtest.calibration import calibrate

    source = str(args.transactions)
    cal = calibrate(tx, cal_end, args.time_unit_days, source=source, **_fit_options(args))
    rfm = cal.rfm
    print(
        f"calibration ..{date_of_day(cal_end)}: {rfm.n_customers:,} customers, "
        f"{int(rfm.x.sum()):,} repeat transactions"
    )
    unit = f"rates per {unit_name(args.time_unit_days)}"
    if args.model == "bgnbd":
        _print_estimates("BG/NBD", cal.bgnbd, unit)
        return cal.bgnbd, cal.params, cal.warnings
    fit = fit_pareto_nbd(rfm.x, rfm.t_x, rfm.T, **_fit_options(args))
    _print_estimates("Pareto/NBD", fit, unit)
    params = model_file(
        "paretonbd",
        fit,
        cal.gamma_gamma,
        source=str(args.transactions),
        time_unit_days=args.time_unit_days,
        calibration_end=date_of_day(cal_end),
    )
    return fit, params, fit_warnings({"Pareto/NBD": fit, "Gamma-Gamma": cal.gamma_gamma})


def _windows(tx, cal_end: int, args):
    """The opportunity windows up to the calibration end: yearly --window or --period-days."""
    from simulator.clv.discrete import period_windows, yearly_windows
    from simulator.clv.transactions import date_of_day

    first = int(tx.day.min())
    if args.window is None:
        windows = period_windows(first, cal_end, args.period_days)
    else:
        years = date_of_day(first).year, date_of_day(cal_end).year
        windows = yearly_windows(*years, *args.window)
        windows = windows[(windows[:, 1] >= first) & (windows[:, 1] <= cal_end)]
    if len(windows) < 2:
        raise BadInput(
            f"{args.transactions}: {len(windows)} opportunity window(s) end by "
            f"{date_of_day(cal_end)}; BG/BB needs at least 2 (a first purchase and a chance to "
            "buy again): use a longer calibration period, a shorter --period-days or --window"
        )
    return windows


def _fit_bgbb(tx, cal_end: int, args):
    """BG/BB on the discrete-opportunity summary: (fit, file, warnings)."""
    from simulator.clv.bgbb import conditional_expected_purchases, fit_bgbb, prob_alive
    from simulator.clv.discrete import describe_windows, discrete_summary
    from simulator.clv.fit_checks import fit_warnings
    from simulator.clv.params_file import model_file
    from simulator.clv.transactions import date_of_day

    windows = _windows(tx, cal_end, args)
    summary = discrete_summary(tx, windows)
    what = describe_windows(windows)
    print(f"opportunities: {what}; {summary.n_customers:,} customers")
    if summary.x.sum() == 0:
        raise BadInput(
            f"{args.transactions}: no customer bought in a window after their first: BG/BB "
            "cannot be estimated; expected windows in which some customers buy again"
        )
    fit = fit_bgbb(summary.x, summary.t_x, summary.n, **_fit_options(args))
    _print_estimates("BG/BB", fit, "probabilities per opportunity")
    history = summary.x, summary.t_x, summary.n
    alive = prob_alive(*history, *fit.params).mean()
    buyers = conditional_expected_purchases(1, *history, *fit.params).sum()
    print(
        f"next opportunity: {buyers:,.1f} expected buyers among these customers; "
        f"mean P(alive) {alive:.3f}"
    )
    params = model_file(
        "bgbb",
        fit,
        source=str(args.transactions),
        opportunities=what,
        calibration_end=date_of_day(cal_end),
    )
    return fit, params, fit_warnings({"BG/BB": fit})


def _compare(tx, cal_end: int, args) -> int:
    """Rank BG/NBD and Pareto/NBD by holdout log-likelihood; print and return 0."""
    from simulator.clv.holdout import compare_models
    from simulator.clv.transactions import date_of_day

    first, last = int(tx.day.min()), int(tx.day.max())
    if not first <= cal_end < last:
        raise BadInput(
            "--compare-models needs a calibration period and a holdout: give --cal-weeks or "
            f"--cal-end from {date_of_day(first)} to before the log's last day "
            f"({date_of_day(last)})"
        )
    c = compare_models(tx, cal_end, last, args.time_unit_days, **_fit_options(args))
    print_comparison(c, cal_end, last)
    print(f"fit it with --model {c.best.model}")
    return 0


def _out_path(args) -> tuple[Path, str | None]:
    """The params file to write and, for the default path only, the mark of a file we wrote."""
    if args.out:
        return Path(args.out), None
    stem = Path(args.transactions).stem.lower()
    return Path("results/calibrate") / f"{stem}_{args.model}.yaml", WRITTEN_BY


def print_comparison(c, cal_end: int, last: int) -> None:
    """The holdout comparison of the models (`clv.holdout`): a table and the winner in words."""
    from simulator.clv.transactions import date_of_day

    print(
        f"calibration ..{date_of_day(cal_end)}, holdout {date_of_day(cal_end + 1)}.."
        f"{date_of_day(last)}: {c.n_customers:,} customers, {c.holdout_actual:,} holdout "
        "transactions"
    )
    rows = [
        (
            s.label,
            f"{s.fit.log_likelihood:,.2f}",
            f"{s.holdout_loglik:,.2f}",
            f"{s.forecast:,.1f}",
            f"{100 * (s.forecast / c.holdout_actual - 1):+.1f}%" if c.holdout_actual else "-",
        )
        for s in c.scores
    ]
    print_table(rows, ("model", "LL calibration", "LL holdout", "forecast", "error"))
    for s in c.scores:
        for text in s.fit.check.problems:
            print(f"warning: {s.label}: {text}", file=sys.stderr)
    best, other = c.scores[0], c.scores[1]
    print(
        f"best by holdout log-likelihood: {best.label} "
        f"(+{best.holdout_loglik - other.holdout_loglik:.2f} nats over {other.label})"
    )


def cmd_calibrate_clv(args) -> int:
    """Fit the chosen model (or compare models) and write the params file."""
    from simulator.clv.params_file import write_params
    from simulator.files import check_output_file, check_replace_file

    out, ours = _out_path(args)
    if not args.compare_models:
        check_output_file(out)
        check_replace_file(out, force=args.force, written_by=ours)
    tx, _ = read_transactions(args)
    cal_end = _cal_end(tx, args)
    print(f"{args.transactions}: {tx.n_transactions:,} rows, {tx.n_customers:,} customers")
    if args.compare_models:
        return _compare(tx, cal_end, args)
    fitter = _fit_bgbb if args.model == "bgbb" else _fit_continuous
    fit, params, warnings = fitter(tx, cal_end, args)
    for text in warnings:
        print(f"warning: {text}", file=sys.stderr)
    if not (fit.converged or args.allow_unconverged):
        print(
            f"error: the fit did not converge, so {out} was not written; check the log and "
            "the calibration period, or write it anyway with --allow-unconverged",
            file=sys.stderr,
        )
        return EXIT_NOT_CONVERGED
    if warnings and not args.allow_boundary:
        print(
            f"error: a boundary fit (warnings above), so {out} was not written; keep the "
            "parameters finite with --penalizer (e.g. 0.001), or write it anyway, with the "
            "warnings in the file, with --allow-boundary",
            file=sys.stderr,
        )
        return EXIT_BOUNDARY
    try:
        write_params(out, params)
    except OSError as exc:
        raise BadInput(f"cannot write {out}: {exc.strerror or exc}") from None
    print(f"written to {out}")
    return 0


def add_parser(subparsers) -> None:
    """Add `clv` to the subparsers of `calibrate`."""
    c = subparsers.add_parser(
        "clv",
        help="fit BG/NBD, Pareto/NBD or BG/BB to a transaction log (or compare them)",
        parents=[
            log_options(),
            options(
                out="params file (default: results/calibrate/<file stem>_<model>.yaml, "
                "replacing only a params file written there before); an existing file is "
                "replaced only with --force",
            ),
        ],
    )
    c.add_argument("--model", choices=MODELS, default="bgnbd", help="the model (default bgnbd)")
    period = c.add_mutually_exclusive_group()
    period.add_argument(
        "--cal-weeks", type=positive_int, metavar="W", help="calibrate on W weeks from day one"
    )
    period.add_argument(
        "--cal-end", type=iso_date, metavar="DATE", help="last day of the calibration period"
    )
    c.add_argument(
        "--time-unit-days",
        type=positive_number,
        default=7.0,
        help="days per time unit of the BG/NBD and Pareto/NBD rates (default 7: weeks)",
    )
    opportunity = c.add_mutually_exclusive_group()
    opportunity.add_argument(
        "--window",
        type=yearly_window,
        metavar="MM-DD..MM-DD",
        help="BG/BB: one opportunity per year, these days of it (11-11 or 11-01..11-11)",
    )
    opportunity.add_argument(
        "--period-days",
        type=positive_int,
        default=365,
        help="BG/BB: consecutive opportunities of this many days from day one (default 365)",
    )
    c.add_argument(
        "--compare-models",
        action="store_true",
        help="fit BG/NBD and Pareto/NBD on the calibration period, rank them by holdout "
        "log-likelihood and write nothing",
    )
    c.add_argument(
        "--allow-unconverged", action="store_true", help="write the file even if not converged"
    )
    c.add_argument(
        "--allow-boundary",
        action="store_true",
        help="write the file even for a boundary fit, with its warnings in it (otherwise "
        f"nothing is written and the exit code is {EXIT_BOUNDARY})",
    )
    c.add_argument(
        "--penalizer",
        type=non_negative_number,
        default=0.0,
        metavar="L",
        help="L2 penalty on the log-parameters, as for `calibrate bgnbd` (default 0)",
    )
    c.add_argument(
        "--profile",
        action="store_true",
        help="95%% intervals from the profile likelihood for every parameter",
    )
    c.add_argument("--force", action="store_true", help="replace an existing --out file")
    c.set_defaults(func=cmd_calibrate_clv)
