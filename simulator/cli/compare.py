"""`promosim compare`: a baseline and alternatives over replications, with common random numbers."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from simulator.cli.assumption_options import add_assumptions_option, assumption_mode
from simulator.cli.common import (
    BadInput,
    check_memory,
    options,
    out_help,
    positive_int,
    print_table,
)
from simulator.cli.touch_table import add_touch_roi_option, print_touches
from simulator.formatting import table_number

# KPIs of the terminal table (comparison.csv has them all); incremental ones against the first
SHOWN = (
    "gmv",
    "discounts",
    "member_gmv_penetration",
    "new_members",
    "old_member_gmv_share",
    "member_arpu",
    "cost",
    "profit",
    "incremental_gmv",
    "incremental_cost",
    "roi",
    "incremental_profit",
)
WINDOW_SHOWN = ("incremental_gmv", "roi", "roi_to_date")  # of each KPI window, vs the baseline


def cmd_compare(args) -> int:
    """Compare a baseline with alternatives over replications (common random numbers)."""
    from simulator.analysis.experiment import run_comparison
    from simulator.analysis.kpis import ceiling_warning
    from simulator.analysis.run_warnings import run_warnings
    from simulator.analysis.scenario_run import summarise
    from simulator.engine.workers import set_threads
    from simulator.files import atomic_dir, check_output_dir, to_json, write_csv
    from simulator.scenario.load import load_scenario
    from simulator.scenario.plan_warnings import undefined_segments

    paths = [args.baseline, *args.alternatives]
    scenarios = [load_scenario(p) for p in paths]
    names = [Path(p).stem for p in paths]
    if len(set(names)) != len(names):
        raise BadInput("scenario file names must differ (they name the rows of the table)")
    set_threads(args.threads)
    check_memory(args.shoppers or scenarios[0].population.shoppers, scenarios)
    out = Path(args.out or "results/compare")
    check_output_dir(out, "compare")
    mode = assumption_mode(args.assumptions, scenarios, args.reps)
    t0 = time.perf_counter()
    cmp = run_comparison(
        scenarios,
        names,
        reps=args.reps,
        seed=args.seed,
        shoppers=args.shoppers,
        independent=args.independent,
        touch_roi=args.touch_roi,
        base_dirs=[Path(p).parent for p in paths],
        progress=not args.quiet,
        assumptions=mode,
    )
    cmp.meta["wall_s"] = round(time.perf_counter() - t0, 3)
    cmp.meta["scenario_files"] = [str(p) for p in paths]  # the report reads their assumptions
    for res, sc in zip(cmp.results, scenarios, strict=True):
        warnings = [ceiling_warning({k: m for k, (m, _, _) in summarise(res).items()})]
        warnings += [f"warning: {w}" for w in undefined_segments(sc)]
        if res.first is not None:  # what the plan did, in replication 0
            warnings += [f"warning: {w}" for w in run_warnings(res.first[0])]
        for warning in filter(None, warnings):
            print(f"{res.name}: {warning}", file=sys.stderr)
        cmp.meta.setdefault("warnings", {})[res.name] = list(filter(None, warnings))
    with atomic_dir(out, "compare") as tmp:
        (tmp / "comparison.json").write_text(to_json(cmp.document()))
        write_csv(tmp / "comparison.csv", cmp.rows)
        write_csv(tmp / "pairs.csv", cmp.pairs)
        write_csv(tmp / "verdicts.csv", cmp.verdicts)
        if cmp.touches:
            write_csv(tmp / "touches.csv", [_flat(r) for r in cmp.touches])
        if not args.no_plots:
            from simulator.reports.compare_plots import plot_comparison
            from simulator.reports.touch_plots import plot_touches

            plot_comparison(cmp, tmp)
            if cmp.touches:
                plot_touches(cmp.touches, tmp / "touches.png")
    if not args.quiet:
        print(
            f"{len(names)} scenarios x {args.reps} replications x {cmp.meta['shoppers']:,} "
            f"shoppers ({cmp.meta['random_numbers']} random numbers), "
            f"{cmp.meta['wall_s']:.1f} s; baseline: {names[0]}"
        )
        _print_table(cmp.rows, names[0], drawn=mode == "drawn")
        print()
        _print_verdicts(cmp.verdicts)
        if cmp.touches:
            print()
            print_touches(cmp.touches, with_scenario=True)
        print(f"written to {out}/")
    return 0


def _print_table(rows: list[dict], baseline: str, drawn: bool = False) -> None:
    """The alternatives' `SHOWN` KPIs: mean, difference from the baseline and its 95% CI.

    drawn: assumptions drawn; also the 95% interval of one outcome under them (assumptions and
    noise together) and the share of its variance the assumptions make.
    """
    table = []
    for r in rows:
        if not _shown(r["kpi"]) or r["scenario"] == baseline:
            continue
        if r["mean"] is None:  # a ratio that is no number (`pairs.ratio_estimate`)
            table.append((r["scenario"], r["kpi"], "n/a", r["note"], "") + ("", "") * drawn)
            continue
        diff = r["diff"] if r["diff"] is not None else r["mean"]
        lo = r["diff_ci_low"] if r["diff"] is not None else r["ci_low"]
        hi = r["diff_ci_high"] if r["diff"] is not None else r["ci_high"]
        line = (
            r["scenario"],
            r["kpi"],
            table_number(r["mean"]),
            table_number(diff),
            f"[{table_number(lo)}, {table_number(hi)}]",
        )
        if drawn:
            pre = "diff_" if r["diff"] is not None else ""
            low, high = r.get(pre + "total_low"), r.get(pre + "total_high")
            share = r.get(pre + "assumption_share")
            line += (
                f"[{table_number(low)}, {table_number(high)}]" if low is not None else "",
                f"{share:.0%}" if share is not None and share == share else "",
            )
        table.append(line)
    header = ("scenario", "kpi", "mean", "vs baseline", "95% CI")
    if drawn:
        header += ("95% under assumptions", "from assumptions")
    print_table(table, header)


def _print_verdicts(verdicts: list[dict]) -> None:
    """Each pair of strategies: value and cost differences, incremental ROI; then in words."""
    table = []
    for v in verdicts:
        value = v["value_kpi"]
        roi = v["roi"]
        table.append(
            (
                f"{v['a']} - {v['b']}",
                _with_ci(v, value),
                _with_ci(v, "cost"),
                f"{roi:.2f}" if roi is not None else (v["roi_note"] or "n/a"),
                v["dominance"],
            )
        )
    value = verdicts[0]["value_kpi"] if verdicts else "gmv"
    head = ("pair (a - b)", f"{value} diff [95% CI]", "cost diff [95% CI]", "incr. ROI", "verdict")
    print_table(table, head)
    for v in verdicts:
        print(v["text"])


def _with_ci(v: dict, kpi: str) -> str:
    """A verdict's difference on a KPI with its CI."""
    low, high = v[f"{kpi}_ci_low"], v[f"{kpi}_ci_high"]
    return f"{table_number(v[kpi + '_diff'])} [{table_number(low)}, {table_number(high)}]"


def _flat(row: dict) -> dict:
    """A touch row for CSV: the list of touches sharing its benefit joined with spaces."""
    return {**row, "benefit_touches": " ".join(row["benefit_touches"])}


def _shown(kpi: str) -> bool:
    """A KPI of the terminal table: one of SHOWN, or a KPI window's of WINDOW_SHOWN."""
    window, _, name = kpi.rpartition(".")
    return kpi in SHOWN or (window.startswith("window.") and name in WINDOW_SHOWN)


def add_parser(subparsers) -> None:
    """Add `compare` to the top-level subparsers."""
    c = subparsers.add_parser(
        "compare",
        help="compare strategies with a baseline over replications",
        parents=[
            options(
                "shoppers",
                "threads",
                "no_plots",
                "quiet",
                seed="base seed (default: the baseline's)",
                out=out_help("results/compare"),
            )
        ],
    )
    c.add_argument("baseline", help="baseline scenario (e.g. scenarios/no_campaign.yaml)")
    c.add_argument("alternatives", nargs="+", help="scenarios to compare with the baseline")
    c.add_argument("--reps", type=positive_int, default=30, help="replications (default 30)")
    c.add_argument(
        "--independent",
        action="store_true",
        help="unrelated seeds per scenario instead of common random numbers",
    )
    add_touch_roi_option(c)
    add_assumptions_option(c)
    c.set_defaults(func=cmd_compare)
