"""What every `promosim` command shares: the bad-input error, argument types, loading, tables."""

from __future__ import annotations

import argparse

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


def format_value(value) -> str:
    """A KPI value for the terminal table."""
    if value is None:
        return "n/a"
    if isinstance(value, int):
        return f"{value:,}"
    if abs(value) < 10:
        return f"{value:.4f}"
    return f"{value:,.0f}"


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
