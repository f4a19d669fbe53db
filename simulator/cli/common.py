"""What the `promosim` commands share: the bad-input error, options, threads, loading, tables.

The commands' modules import this one, never each other or `app`, so the CLI has no cycle.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from simulator.errors import UserError

EXIT_BAD_INPUT = 2


class BadInput(UserError):
    """A user error the CLI reports in one message with exit code 2."""


def positive_int(text: str) -> int:
    """Parse a positive integer for argparse, accepting 1e6 and 1_000_000."""
    try:
        value = int(float(text.replace("_", "")))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1 or value != float(text.replace("_", "")):
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


# name -> (flag, settings); `options` makes parent parsers of them
SHARED_OPTIONS: dict[str, tuple[str, dict]] = {
    "transactions": ("transactions", {"help": "transaction file (CDNOW layout or CSV)"}),
    "format": (
        "--format",
        {
            "choices": ("cdnow", "csv"),
            "help": "file format (default: csv for a .csv file, else cdnow)",
        },
    ),
    "shoppers": (
        "--shoppers",
        {
            "type": positive_int,
            "help": "population size (rescales the mix, capacities and budgets)",
        },
    ),
    "seed": ("--seed", {"type": int, "help": "base seed (default: the scenario's)"}),
    "out": ("--out", {"help": "output folder"}),
    "threads": (
        "--threads",
        {"type": positive_int, "help": "Numba threads (results do not change)"},
    ),
    "no_plots": ("--no-plots", {"action": "store_true", "help": "skip the PNG charts"}),
    "quiet": ("--quiet", {"action": "store_true", "help": "no progress bar or summary"}),
}


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


def set_threads(threads: int | None) -> None:
    """Check and set the Numba thread count."""
    if threads is None:
        return
    import numba

    top = numba.config.NUMBA_NUM_THREADS
    if not 1 <= threads <= top:
        raise BadInput(f"--threads must be between 1 and {top} on this machine, got {threads}")
    numba.set_num_threads(threads)


def load(path: str, overrides: dict | None = None):
    """Load and validate a scenario (a ScenarioError is reported by `main`)."""
    from simulator.scenario.load import load_scenario

    return load_scenario(path, overrides)


def read_transactions(path: str, fmt: str | None, sample: bool = False):
    """A transaction log (optionally CDNOW's 1/10th sample of it) and the seconds reading took.

    The format is `fmt`, else "csv" for a .csv file and "cdnow" otherwise.
    """
    from simulator.clv.summaries import cdnow_sample
    from simulator.clv.transactions import load_transactions

    if fmt is None:
        fmt = "csv" if Path(path).suffix.lower() == ".csv" else "cdnow"
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
