"""`promosim validate`: check scenario files and summarise them, without simulating."""

from __future__ import annotations

import sys

from simulator.cli.common import EXIT_BAD_INPUT
from simulator.errors import UserError


def cmd_validate(args) -> int:
    """Check every scenario given: a summary of each good one, the errors of each bad one.

    Exit 0 when all are good, else 2; every file is checked either way.
    """
    from simulator.scenario.load import load_scenario
    from simulator.scenario.plan_warnings import undefined_segments

    bad = 0
    for path in args.scenario:
        try:
            sc = load_scenario(path)
        except UserError as exc:  # the message names the file
            print(f"error: {exc}", file=sys.stderr)
            bad += 1
            continue
        print(
            f"OK {path}: '{sc.name}' - {sc.population.shoppers:,} shoppers, "
            f"{len(sc.days)} days, {len(sc.calendar.phases)} phases, {len(sc.benefits)} "
            f"benefits, {len(sc.channels)} channels, {len(sc.plan)} touches"
        )
        for warning in undefined_segments(sc):
            print(f"warning: {path}: {warning}", file=sys.stderr)
    if bad and len(args.scenario) > 1:
        print(f"{bad} of {len(args.scenario)} files have errors", file=sys.stderr)
    return EXIT_BAD_INPUT if bad else 0


def add_parser(subparsers) -> None:
    """Add `validate` to the top-level subparsers."""
    v = subparsers.add_parser(
        "validate",
        help="check scenario files without simulating (every file given; exit 2 if any is bad)",
    )
    v.add_argument("scenario", nargs="+")
    v.set_defaults(func=cmd_validate)
