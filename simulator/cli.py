"""`promosim` command line: thin wrappers that parse, call the API, print and write files.

Exit codes: 0 success, 1 an internal failure, 2 bad input (scenario, data file or arguments).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from simulator import __version__

EXIT_BAD_INPUT = 2


class BadInput(Exception):
    """A user error the CLI reports in one message with exit code 2."""


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1, accepting 1e6 and 1_000_000."""
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
    """Load a scenario, turning ScenarioError into BadInput."""
    from simulator.scenario import ScenarioError, load_scenario

    try:
        return load_scenario(path, overrides)
    except ScenarioError as exc:
        raise BadInput(str(exc)) from None


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
    line = "  ".join(h.ljust(w) if k == 0 else h.rjust(w) for k, (h, w) in
                     enumerate(zip(header, widths, strict=True)))
    print(line)
    print("-" * len(line))
    for r in rows:
        print("  ".join(str(c).ljust(w) if k == 0 else str(c).rjust(w) for k, (c, w) in
                        enumerate(zip(r, widths, strict=True))))


# ----------------------------------------------------------------------------- commands
def cmd_validate(args) -> int:
    """Check a scenario and summarise it."""
    for path in args.scenario:
        sc = load(path)
        print(f"OK {path}: '{sc.name}' - {sc.population.shoppers:,} shoppers, "
              f"{len(sc.days)} days, {len(sc.calendar.phases)} phases, {len(sc.benefits)} "
              f"benefits, {len(sc.channels)} channels, {len(sc.plan)} touches")
    return 0


def cmd_run(args) -> int:
    """Run a scenario and its no-campaign baseline; print and write KPIs, daily series, plots."""
    from tqdm.auto import tqdm

    from simulator.kpis import HEADLINE, compute_kpis
    from simulator.outputs import atomic_dir, daily_rows, to_json, write_csv
    from simulator.run import no_campaign, simulate

    sc = load(args.scenario)
    set_threads(args.threads)
    out = Path(args.out or f"results/{Path(args.scenario).stem}")
    base_dir = Path(args.scenario).parent
    t0 = time.perf_counter()
    n_runs = 1 if args.no_baseline else 2
    with tqdm(total=n_runs * len(sc.days), unit="day", desc="simulating",
              disable=args.quiet) as bar:
        kw = dict(seed=args.seed, shoppers=args.shoppers, base_dir=base_dir, progress=bar)
        run = simulate(sc, **kw)
        baseline = None if args.no_baseline else simulate(no_campaign(sc), **kw)
    wall = time.perf_counter() - t0
    kpis = compute_kpis(run, baseline)
    with atomic_dir(out) as tmp:
        (tmp / "kpis.json").write_text(to_json(kpis))
        write_csv(tmp / "daily.csv", daily_rows(run, baseline))
        meta = {"scenario": str(args.scenario), "name": sc.name, "seed": run.seed,
                "shoppers": run.shoppers, "days": len(run.dates), "baseline": baseline is not None,
                "wall_s": round(wall, 3), "promosim_version": __version__}
        (tmp / "run.json").write_text(to_json(meta))
        if not args.no_plots:
            from simulator.plots import plot_run

            plot_run(run, tmp, baseline)
    if not args.quiet:
        print(f"{sc.name}: {run.shoppers:,} shoppers x {len(run.dates)} days, seed {run.seed}, "
              f"{wall:.1f} s")
        print_table([(k, format_value(kpis.get(k))) for k in HEADLINE if k in kpis],
                    ("kpi", "value"))
        print(f"written to {out}/")
    return 0


# ----------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    p = argparse.ArgumentParser(prog="promosim", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"promosim {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    v = sub.add_parser("validate", help="check scenario files without simulating")
    v.add_argument("scenario", nargs="+")
    v.set_defaults(func=cmd_validate)

    r = sub.add_parser("run", help="simulate a scenario and write KPIs, daily series and plots")
    r.add_argument("scenario")
    r.add_argument("--shoppers", type=positive_int, help="population size (rescales the mix, "
                   "capacities and budgets)")
    r.add_argument("--seed", type=int, help="run seed (default: the scenario's)")
    r.add_argument("--out", help="output folder (default: results/<scenario name>)")
    r.add_argument("--threads", type=positive_int, help="Numba threads (results do not change)")
    r.add_argument("--no-plots", action="store_true", help="skip the PNG charts")
    r.add_argument("--no-baseline", action="store_true",
                   help="skip the no-campaign run (no incremental GMV or ROI)")
    r.add_argument("--quiet", action="store_true", help="no progress bar or table")
    r.set_defaults(func=cmd_run)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `promosim` command."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except BadInput as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
