"""`promosim population build|show`: a store's own customers as a population file.

`build` reads the transaction log (and a member list, prospects, segment rules), fits BG/NBD and
Gamma-Gamma to the history unless `--params` names a fit, and writes the customer table
(`clv.customer_table`) a scenario's `population.customers` names. `show` prints what a table
holds. User errors exit 2 before anything is written; the table appears whole or not at all.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

from simulator.cli.common import (
    BadInput,
    log_options,
    options,
    positive_int,
    print_table,
    read_transactions,
)
from simulator.files import OutputError, check_output_file

EXIT_NOT_CONVERGED = 1
EXIT_BOUNDARY = 3  # as `calibrate bgnbd`


def _date(text: str) -> dt.date:
    """Parse an ISO date YYYY-MM-DD for argparse."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def _prospects(text: str) -> int | str:
    """A count of prospects (a whole number >= 0) or the path of a prospect list."""
    return int(text) if text.isdigit() else text


def _say(message: str, quiet: bool) -> None:
    """Progress on stderr, so stdout stays the result."""
    if not quiet:
        print(message, file=sys.stderr, flush=True)


def check_target(out: Path, force: bool) -> None:
    """Refuse to replace a file that is not a customer table unless --force."""
    from simulator.clv.customer_table import CustomerFileError, read_customer_table

    check_output_file(out)
    if out.exists() and not force:
        try:
            read_customer_table(out)
        except CustomerFileError:
            raise OutputError(
                f"{out} exists and is not a customer table promosim wrote; name another "
                "--out, or replace it with --force"
            ) from None


def cmd_build(args) -> int:
    """Build the customer table and write it."""
    from simulator.clv.customer_build import build_customers
    from simulator.clv.customer_lists import read_customer_list
    from simulator.clv.customer_table import write_customer_table
    from simulator.clv.params_file import read_params
    from simulator.clv.segment_rules import parse_rule
    from simulator.clv.transactions import date_of_day, day_number
    from simulator.fitting.backtest.calibration import calibrate

    out = Path(args.out or f"results/population/{Path(args.transactions).stem.lower()}.parquet")
    check_target(out, args.force)
    rules = tuple(parse_rule(text) for text in args.segment)
    params = read_params(args.params) if args.params else None
    t0 = time.perf_counter()
    _say(f"reading {args.transactions} ...", args.quiet)
    tx, _ = read_transactions(args)
    members = read_customer_list(args.members, members=True) if args.members else None
    prospects = args.prospects
    if isinstance(prospects, str):
        prospects = read_customer_list(prospects, members=False)
    as_of = int(tx.day.max()) if args.as_of is None else day_number(args.as_of)
    if as_of < int(tx.day.min()):
        raise BadInput(f"--as-of {args.as_of} is before the log's first day")
    t1 = time.perf_counter()
    if params is None:
        _say("fitting BG/NBD and Gamma-Gamma to the history ...", args.quiet)
        fitted = fit_sample(tx, args.fit_sample)
        cal = calibrate(fitted, as_of, args.time_unit_days, source=str(args.transactions))
        if not cal.bgnbd.converged:
            print(
                f"error: the BG/NBD fit did not converge ({cal.bgnbd.message}); nothing written. "
                "Fit it with `promosim calibrate bgnbd` and pass --params",
                file=sys.stderr,
            )
            return EXIT_NOT_CONVERGED
        if cal.warnings:  # a boundary fit (clv.fit_checks): say what it means, write nothing
            for warning in cal.warnings:
                print(f"warning: {warning}", file=sys.stderr)
            print(
                "error: a boundary fit; nothing written. Fit it with `promosim calibrate bgnbd` "
                "(--penalizer, or --allow-boundary if the limit is what you mean) and pass "
                "--params",
                file=sys.stderr,
            )
            return EXIT_BOUNDARY
        params = cal.params
    t2 = time.perf_counter()
    _say("building the customer table ...", args.quiet)
    table = build_customers(
        tx, params, as_of=as_of, members=members, prospects=prospects, rules=rules
    )
    t3 = time.perf_counter()
    write_customer_table(out, table)
    t4 = time.perf_counter()
    times = {"read": t1 - t0, "fit": t2 - t1, "build": t3 - t2, "write": t4 - t3}
    summary = summarise_table(table) | {"file": str(out), "seconds": times}
    if args.json:
        print(json.dumps(summary, indent=2))
    elif not args.quiet:
        print_summary(summary)
        print(f"history to {date_of_day(as_of)}; written to {out}")
    return 0


def fit_sample(tx, n: int):
    """The log of at most n of its customers (a seeded random sample), for the fit.

    The fit's cost grows with the distinct histories (14 s for 3 x 10^5 customers with
    two years of day-resolution histories, `benchmarks/bench_population_build.py`); that many
    already pin every parameter to a few percent, so a larger log is fitted on a sample, and
    its customers are all still in the table.
    """
    import numpy as np

    if tx.n_customers <= n:
        return tx
    keep = np.zeros(tx.n_customers, dtype=bool)
    keep[np.random.default_rng(0).choice(tx.n_customers, n, replace=False)] = True
    return tx.subset(keep)


def summarise_table(table) -> dict:
    """Counts of a customer table: customers, buyers, members, prospects, segments, P(alive)."""
    from simulator.clv.bgnbd import prob_alive
    from simulator.domain.lifecycle import SEGMENTS

    bought = table.purchase_days > 0
    first, last = table.first_day[bought], table.last_day[bought]
    bg = table.params.bgnbd
    unit = table.params.time_unit_days
    x = table.purchase_days[bought] - 1
    alive = prob_alive(x, (last - first) / unit, (table.as_of - first) / unit, *bg_tuple(bg))
    return {
        "rows": table.n,
        "as_of": table.as_of_date.isoformat(),
        "buyers": int(bought.sum()),
        "repeat_buyers": int((table.purchase_days > 1).sum()),
        "members": int(table.member.sum()),
        "member_buyers": int((table.member_purchase_days > 0).sum()),
        "members_never_bought": int((table.member & ~bought).sum()),
        "non_buyers_not_members": int((~table.member & ~bought).sum()),
        "mean_p_alive_of_buyers": float(alive.mean()) if len(alive) else None,
        "segments": {
            name: int(((table.segments >> g) & 1).sum()) for g, name in enumerate(SEGMENTS)
        },
        "built": table.built,
        "params": table.params.model_dump(mode="json"),
    }


def bg_tuple(bg) -> tuple[float, float, float, float]:
    """BG/NBD (r, alpha, a, b) of a params section."""
    return (bg.r, bg.alpha, bg.a, bg.b)


def print_summary(summary: dict) -> None:
    """Print a table's counts as rows."""
    rows = [
        (key.replace("_", " "), f"{value:,}" if isinstance(value, int) else f"{value:.3f}")
        for key, value in summary.items()
        if isinstance(value, int | float)
    ]
    rows += [(f"segment {k}", f"{v:,}") for k, v in summary["segments"].items() if v]
    print_table(rows, ("customers", "count"))
    bg = summary["params"]["bgnbd"]
    print(
        "BG/NBD (per {} days): r {r:.4g}, alpha {alpha:.4g}, a {a:.4g}, b {b:.4g}".format(
            summary["params"]["time_unit_days"], **bg
        )
    )


def cmd_show(args) -> int:
    """Print the counts of a customer table."""
    from simulator.clv.customer_table import read_customer_table

    summary = summarise_table(read_customer_table(args.table))
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print_summary(summary)
    return 0


def add_parser(subparsers) -> None:
    """Add `population` with `build` and `show`."""
    pop = subparsers.add_parser("population", help="a store's own customers as a population")
    sub = pop.add_subparsers(dest="what", required=True)
    b = sub.add_parser(
        "build",
        help="build a customer table from a transaction log (docs/calibration.md)",
        parents=[
            log_options(),
            options(out="customer table to write (default: results/population/<log stem>.parquet)"),
        ],
    )
    b.add_argument("--members", metavar="FILE", help="member list: customer_id,join_date,...")
    b.add_argument(
        "--prospects",
        type=_prospects,
        default=0,
        metavar="N|FILE",
        help="prospects to add: a count, or a list with customer_id (and segment columns)",
    )
    b.add_argument(
        "--segment",
        action="append",
        default=[],
        metavar="NAME=RULE",
        help="segment rule, repeatable: top_spend:0.2, top_frequency:0.2, bought:2:365, "
        "recent:360 or column:NAME",
    )
    b.add_argument("--params", metavar="FILE", help="fitted params file (default: fit the log)")
    b.add_argument(
        "--as-of",
        type=_date,
        metavar="DATE",
        help="last day of the history (default: the log's last day; later rows are ignored)",
    )
    b.add_argument(
        "--time-unit-days",
        type=float,
        default=7.0,
        help="days per time unit of the fitted rates (default 7)",
    )
    b.add_argument(
        "--fit-sample",
        type=positive_int,
        default=300_000,
        metavar="N",
        help="fit on at most N customers, a seeded random sample (default 300,000)",
    )
    b.add_argument("--force", action="store_true", help="replace a file that is not a table")
    b.add_argument("--json", action="store_true", help="print the summary as JSON")
    b.add_argument("--quiet", action="store_true", help="no progress or summary")
    b.set_defaults(func=cmd_build)
    s = sub.add_parser("show", help="print what a customer table holds")
    s.add_argument("table", help="customer table (.parquet)")
    s.add_argument("--json", action="store_true", help="print as JSON")
    s.set_defaults(func=cmd_show)
