"""`promosim validate`: check scenario files and summarise them, without simulating."""

from __future__ import annotations

from simulator.cli.common import load


def cmd_validate(args) -> int:
    """Check a scenario and summarise it."""
    for path in args.scenario:
        sc = load(path)
        print(
            f"OK {path}: '{sc.name}' - {sc.population.shoppers:,} shoppers, "
            f"{len(sc.days)} days, {len(sc.calendar.phases)} phases, {len(sc.benefits)} "
            f"benefits, {len(sc.channels)} channels, {len(sc.plan)} touches"
        )
    return 0


def add_parser(subparsers) -> None:
    """Add `validate` to the top-level subparsers."""
    v = subparsers.add_parser("validate", help="check scenario files without simulating")
    v.add_argument("scenario", nargs="+")
    v.set_defaults(func=cmd_validate)
