"""`promosim` command line: thin wrappers that parse, call the API, print and write files.

Each command is a module with `add_parser(subparsers)` and its `cmd_*` function; this one only
assembles them and runs the chosen one. Exit codes: 0 success, 1 an internal failure (or a result
that failed its checks: a command says which), 2 bad input (scenario, data file, arguments or
output folder), 130 interrupted by Ctrl-C, 143 terminated by SIGTERM; an interrupted command says
so in one line and leaves no partial result.
"""

from __future__ import annotations

import argparse
import sys

from simulator import __version__
from simulator.cli import (
    backtest,
    bench,
    calibrate_bgnbd,
    calibrate_clv,
    calibrate_redemption,
    calibrate_response,
    calibrate_sbg,
    calibrate_targets,
    compare,
    dashboard,
    optimize,
    population,
    report,
    run,
    sensitivity,
    sweep,
    validate,
)
from simulator.cli.common import EXIT_BAD_INPUT
from simulator.cli.interrupts import (
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    Terminated,
    raised_as_exceptions,
)
from simulator.errors import UserError

EXIT_FAILED = 1


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    p = argparse.ArgumentParser(prog="promosim", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"promosim {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    validate.add_parser(sub)
    run.add_parser(sub)
    compare.add_parser(sub)
    sweep.add_parser(sub)  # docs/sweeps.md
    optimize.add_parser(sub)  # docs/optimize.md
    sensitivity.add_parser(sub)  # docs/scenario.md, assumptions
    report.add_parser(sub)  # docs/report.md
    cal = sub.add_parser("calibrate", help="fit model parameters to data")
    calsub = cal.add_subparsers(dest="what", required=True)
    calibrate_bgnbd.add_parser(calsub)
    calibrate_clv.add_parser(calsub)  # docs/calibration.md
    calibrate_sbg.add_parser(calsub)
    calibrate_targets.add_parser(calsub)  # docs/calibration.md
    calibrate_redemption.add_parser(calsub)  # docs/completejourney.md
    calibrate_response.add_parser(calsub)  # docs/calibration.md, From a randomised test
    backtest.add_parser(sub)
    population.add_parser(sub)  # docs/calibration.md
    bench.add_parser(sub)
    dashboard.add_parser(sub)  # simulator/dashboard
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `promosim` command."""
    try:
        with raised_as_exceptions():
            args = build_parser().parse_args(argv)
            return args.func(args)
    except UserError as exc:  # any bad input, from any command (simulator.errors)
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM: the outputs have cleaned up
        terminated = isinstance(exc, Terminated)
        print("terminated" if terminated else "interrupted", file=sys.stderr)
        return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED
    except MemoryError:
        print("error: out of memory; use fewer --shoppers, --reps or points", file=sys.stderr)
        return EXIT_FAILED
