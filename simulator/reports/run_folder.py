"""The folder `promosim run` writes: kpis.json, daily.csv, run.json and the charts.

Written by `promosim run` and by the dashboard (its HTML report is `promosim report` of such a
folder), so both hold the same files for the same run.
"""

from __future__ import annotations

from pathlib import Path

from simulator import __version__
from simulator.analysis.run_warnings import run_warnings
from simulator.analysis.scenario_run import ScenarioRun
from simulator.files import atomic_dir, to_json, write_csv
from simulator.reports.daily_table import daily_rows
from simulator.scenario.plan_warnings import undefined_segments


def folder_warnings(result: ScenarioRun) -> list[str]:
    """What the plan did not do as it says (replication 0), and segments nobody is in."""
    return undefined_segments(result.rep.scenario) + run_warnings(result.rep.first[0])


def write_run_folder(
    out: Path, result: ScenarioRun, scenario: str, mode: str, wall: float, plots: bool = True
) -> dict:
    """Write the run's folder atomically (`files.atomic_dir`); returns run.json's contents.

    scenario: the file as the user named it; mode: "fixed" or "drawn" assumptions.
    """
    run, baseline = result.rep.first
    meta = {
        "scenario": scenario,
        "name": result.rep.scenario.name,
        "seed": run.seed,
        "shoppers": run.shoppers,
        "days": len(run.dates),
        "reps": len(result.rep.kpis),
        "assumptions": mode,
        "baseline": baseline is not None,
        "wall_s": round(wall, 3),
        "promosim_version": __version__,
        "note": "daily.csv and the charts show replication 0",
        "warnings": folder_warnings(result),
    }
    with atomic_dir(out, "run") as tmp:
        (tmp / "kpis.json").write_text(to_json(result.kpis))
        write_csv(tmp / "daily.csv", daily_rows(run, baseline))
        (tmp / "run.json").write_text(to_json(meta))
        if plots:
            from simulator.reports.run_plots import plot_run

            plot_run(run, tmp, baseline)
            if result.touches:
                from simulator.reports.touch_plots import plot_touches

                plot_touches(result.touches, tmp / "touches.png")
    return meta
