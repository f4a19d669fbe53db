"""What the `promosim` commands share: the bad-input error, options, their bounds, memory, tables.

The commands' modules import this one, never each other or `app`, so the CLI has no cycle.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import resource
import time
from pathlib import Path

from simulator.errors import UserError

EXIT_BAD_INPUT = 2
STATE_COPIES = 2  # a run holds the shoppers' drawn state and the running copy of it
SAMPLE_NEEDS_CDNOW = (
    "--sample selects Fader & Hardie's 1/10th sample of the CDNOW master; "
    "expected a CDNOW-format file (--format cdnow)"
)


class BadInput(UserError):
    """A user error the CLI reports in one message with exit code 2."""


def positive_int(text: str) -> int:
    """Parse a positive integer for argparse, accepting 1e6 and 1_000_000."""
    try:
        value = int(float(text.replace("_", "")))
    except (ValueError, OverflowError):
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1 or value != float(text.replace("_", "")):
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _finite_number(text: str, *, zero_ok: bool) -> float:
    """Parse a finite number > 0 (or >= 0 with ``zero_ok``) for argparse."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and (value > 0 or (zero_ok and value == 0))):
        raise argparse.ArgumentTypeError(
            f"expected a number {'>=' if zero_ok else '>'} 0, got {text!r}"
        )
    return value


def positive_number(text: str) -> float:
    """Parse a finite number > 0 for argparse."""
    return _finite_number(text, zero_ok=False)


def non_negative_number(text: str) -> float:
    """Parse a finite number >= 0 for argparse (a penalizer, say)."""
    return _finite_number(text, zero_ok=True)


def iso_date(text: str) -> dt.date:
    """Parse an ISO date YYYY-MM-DD for argparse."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def population_size(text: str) -> int:
    """Parse --shoppers for argparse: a positive integer within a scenario's own limit."""
    from simulator.scenario.schema import MAX_SHOPPERS

    value = positive_int(text)
    if value > MAX_SHOPPERS:
        raise argparse.ArgumentTypeError(
            f"expected at most {MAX_SHOPPERS:,} shoppers (a scenario's limit), got {text!r}"
        )
    return value


def seed_number(text: str) -> int:
    """Parse --seed for argparse: a whole number in a scenario's seed range (0 to 2**63 - 1)."""
    from simulator.scenario.schema import MAX_SEED

    try:
        value = int(text.replace("_", ""))
    except ValueError:
        value = None
    if value is None or not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(
            f"expected a seed from 0 to {MAX_SEED} (2**63 - 1), got {text!r}"
        )
    return value


def check_memory(shoppers: int, scenarios: list, copies: int = STATE_COPIES) -> None:
    """Refuse, before any work, shoppers whose state would not fit in the memory available.

    The state's size per shopper is that of the engine's arrays for one shopper with the most
    contact counters any of the scenarios needs; `copies` is how many such populations the
    command holds at once (all its processes together).
    """
    from simulator.engine.plan import n_capped
    from simulator.engine.shoppers import bytes_per_shopper

    per_shopper = bytes_per_shopper(max(n_capped(sc) for sc in scenarios))
    need = shoppers * per_shopper * copies
    free = available_memory()
    if free is not None and need > free:
        raise BadInput(
            f"{shoppers:,} shoppers need about {need / 2**30:,.1f} GiB of state ({per_shopper} "
            f"bytes each, {copies} copies) but {max(free, 0) / 2**30:,.1f} GiB is available; "
            "use fewer --shoppers"
        )


def available_memory() -> int | None:
    """Bytes this process may still allocate, or None when unknown.

    The system's available memory, within a container's limit (cgroup v2) and this process's
    address-space limit (`ulimit -v`).
    """
    free = _meminfo_available()
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = Path("/sys/fs/cgroup/memory.current").read_text().strip()
        if limit.isdigit() and used.isdigit():
            free = min(free or int(limit), int(limit) - int(used))
    except OSError:
        pass
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        try:
            mapped = int(Path("/proc/self/statm").read_text().split()[0]) * os.sysconf(
                "SC_PAGE_SIZE"
            )
        except OSError:
            mapped = 0
        free = min(free or soft, soft - mapped)
    return free


def _meminfo_available() -> int | None:
    """MemAvailable of /proc/meminfo (Linux), else the free physical pages, else None."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return None


# name -> (flag, settings); `options` makes parent parsers of them
SHARED_OPTIONS: dict[str, tuple[str, dict]] = {
    "shoppers": (
        "--shoppers",
        {
            "type": population_size,
            "help": "population size (rescales the mix, capacities and budgets)",
        },
    ),
    "seed": (
        "--seed",
        {"type": seed_number, "help": "base seed, 0 to 2**63 - 1 (default: the scenario's)"},
    ),
    "out": ("--out", {"help": "output folder"}),
    "threads": (
        "--threads",
        {"type": positive_int, "help": "Numba threads (results do not change)"},
    ),
    "no_plots": ("--no-plots", {"action": "store_true", "help": "skip the PNG charts"}),
    "quiet": ("--quiet", {"action": "store_true", "help": "no progress bar or summary"}),
}


def out_help(default: str) -> str:
    """The help of a result folder's --out: its default and which folders it may name."""
    return (
        f"output folder (default: {default}); a new or empty folder, or a previous result of "
        "this command, which is replaced whole. Any other folder is refused: promosim never "
        "deletes or moves files it did not write"
    )


def options(*names: str, **helps: str) -> argparse.ArgumentParser:
    """A parent parser with the named shared options, in `SHARED_OPTIONS` order.

    An option named by keyword takes that help text instead of the shared one (a command's own
    default, say). Each call makes a new parser, so a command may change its defaults.
    """
    unknown = (set(names) | set(helps)) - set(SHARED_OPTIONS)
    if unknown:
        raise ValueError(f"no shared option {', '.join(sorted(unknown))}")
    parser = argparse.ArgumentParser(add_help=False)
    for name, (flag, settings) in SHARED_OPTIONS.items():
        if name in names or name in helps:
            parser.add_argument(flag, **{**settings, "help": helps.get(name, settings["help"])})
    return parser


def column_map(text: str) -> dict[str, str]:
    """Parse --columns for argparse: ``customer=买家ID,date=付款时间,amount=实付金额``."""
    from simulator.clv.exports import parse_column_map

    try:
        return parse_column_map(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def separator(text: str) -> str:
    """Parse --sep for argparse: one character, or ``tab`` (or a backslash and t) for a tab."""
    sep = "\t" if text in ("tab", "\\t") else text
    if len(sep) != 1 or sep in '"\r\n':
        raise argparse.ArgumentTypeError(f"expected one character (or tab), got {text!r}")
    return sep


def text_list(text: str) -> tuple[str, ...]:
    """Parse a comma-separated list for argparse (--drop-status 交易关闭,退款成功)."""
    items = tuple(item.strip() for item in text.split(",") if item.strip())
    if not items:
        raise argparse.ArgumentTypeError(
            f"expected one or more comma-separated values, got {text!r}"
        )
    return items


def log_options() -> argparse.ArgumentParser:
    """A parent parser with a transaction file and how to read it, for `read_transactions`.

    Every command that reads a log takes it as a parent, so the options are the same
    everywhere (docs/calibration.md, "Your own export").
    """
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument(
        "transactions",
        help="transaction file: the CDNOW layout, a CSV or a Parquet export (a CSV may be .gz)",
    )
    g = parser.add_argument_group("reading the transaction file")
    g.add_argument(
        "--format",
        choices=("cdnow", "csv", "parquet"),
        help="file format (default: parquet for a Parquet file, csv for .csv/.tsv or with "
        "--columns, else cdnow)",
    )
    g.add_argument(
        "--columns",
        type=column_map,
        metavar="ROLE=NAME,...",
        help="header names of the customer, date, amount (and status) columns, e.g. "
        "customer=买家ID,date=付款时间,amount=实付金额 (default customer_id, date, amount)",
    )
    g.add_argument(
        "--sep",
        type=separator,
        help="CSV delimiter (default: the most frequent of , ; tab | in the header line)",
    )
    g.add_argument(
        "--date-format",
        metavar="FMT",
        help="strftime layout of the dates, e.g. %%d/%%m/%%Y (default: inferred from the first "
        "row; day/month order from a number above 12)",
    )
    g.add_argument(
        "--decimal",
        choices=(".", ","),
        help="decimal mark of the amounts (default: inferred; '.' in a comma-separated file)",
    )
    g.add_argument("--encoding", default="utf-8", help="text encoding (default utf-8; e.g. gbk)")
    g.add_argument(
        "--drop-status",
        type=text_list,
        metavar="S1,S2",
        help="drop rows whose status column (status= in --columns) is one of these, e.g. 交易关闭",
    )
    return parser


def read_transactions(args, sample: bool = False):
    """The log named by `log_options`'s arguments and the seconds reading took.

    With `sample`, CDNOW's 1/10th sample of it. Unless ``args.quiet``, a line says which rows
    the status filter dropped and how refunds were netted.
    """
    from simulator.clv.summaries import cdnow_sample
    from simulator.clv.transactions import LogLayout, infer_format, load_transactions

    try:
        layout = LogLayout(
            columns=args.columns or {},
            sep=args.sep,
            date_format=args.date_format,
            decimal=args.decimal,
            encoding=args.encoding,
            drop_status=args.drop_status or (),
        )
    except ValueError:
        raise BadInput(
            "--drop-status needs the status column: add status=<header name> to --columns"
        ) from None
    named = args.format or infer_format(Path(args.transactions), b"", layout)  # by name
    if sample and named != "cdnow":
        raise BadInput(SAMPLE_NEEDS_CDNOW)
    t0 = time.perf_counter()
    tx = load_transactions(args.transactions, args.format, layout)
    if sample:
        if tx.customer_ids.dtype.kind != "i":  # a Parquet file by its content
            raise BadInput(SAMPLE_NEEDS_CDNOW)
        tx = cdnow_sample(tx)
    seconds = time.perf_counter() - t0
    note = load_notes(tx)
    if note and not getattr(args, "quiet", False):
        print(f"{args.transactions}: {note}")
    return tx, seconds


def load_notes(tx) -> str:
    """What loading dropped or netted, in one line ("" when it read every row as a purchase)."""
    n, r = tx.notes, tx.notes.refunds
    parts = []
    if n.status_dropped:
        parts.append(f"{n.status_dropped:,} of {n.rows:,} rows dropped by their status")
    if r.refund_rows:
        parts.append(
            f"{r.refund_rows:,} refund rows netted per customer-day: "
            f"{_days(r.fully_refunded_days)} fully refunded (no transaction), "
            f"{r.partly_refunded_days:,} partly (the net kept), {_days(r.unmatched_refund_days)} "
            f"with refunds but no purchase (ignored, {r.unmatched_refund_amount:,.2f} in total)"
        )
    return "; ".join(parts)


def _days(n: int) -> str:
    """A count of customer-days in words ("1 day", "3 days")."""
    return f"{n:,} day{'' if n == 1 else 's'}"


def print_table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> None:
    """Print aligned columns."""
    widths = [max(len(str(r[k])) for r in [header, *rows]) for k in range(len(header))]
    line = "  ".join(
        h.ljust(w) if k == 0 else h.rjust(w)
        for k, (h, w) in enumerate(zip(header, widths, strict=True))
    )
    print(line)
    print("-" * len(line))
    for r in rows:
        print(
            "  ".join(
                str(c).ljust(w) if k == 0 else str(c).rjust(w)
                for k, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )
