"""The --assumptions option of `run` and `compare` (docs/scenario.md, "assumptions")."""

from __future__ import annotations

import argparse


def add_assumptions_option(parser: argparse.ArgumentParser) -> None:
    """--assumptions auto|drawn|fixed (docs/scenario.md "assumptions")."""
    parser.add_argument(
        "--assumptions",
        choices=("auto", "drawn", "fixed"),
        default="auto",
        help="scenario assumptions: drawn per replication pair (the intervals include them), "
        "or fixed at their point values; auto: drawn when a scenario states any and --reps is "
        "an even number of at least 4",
    )


def assumption_mode(asked: str, scenarios: list, reps: int) -> str:
    """The mode a run uses: `asked`, or for auto drawn when assumptions exist and reps allow."""
    if asked != "auto":
        return asked
    stated = any(sc.assumptions or sc.assumption_files for sc in scenarios)
    return "drawn" if stated and reps >= 4 and reps % 2 == 0 else "fixed"
