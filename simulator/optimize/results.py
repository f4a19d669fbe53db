"""The optimisation's folder: refused unless it is new, empty or an optimisation's; final outputs.

The folder holds the study (`study.db`) while it runs; `write_results` adds optimize.json,
trials.csv, pareto.csv, best.yaml, comparison.json and the charts, each written atomically, and
last the folder's marker (`files.write_marker`): a folder holding it is a finished optimisation.
A rerun removes the marker first and earns it again.
"""

from __future__ import annotations

import os
from pathlib import Path

from simulator.files import (
    MARKER,
    atomic_write_text,
    process_alive,
    temporary_files,
    to_json,
    write_csv,
    write_marker,
)
from simulator.optimize.objective import Problem
from simulator.optimize.output import (
    CONFIRM_SEED_OFFSET,
    best_row,
    best_yaml,
    csv_rows,
    front,
    overrides_of,
    trial_rows,
    verdict,
)
from simulator.optimize.study import DB, OptimizeError
from simulator.sweeps.keys import jsonable

COMMAND = "optimize"


def check_folder(out: Path) -> None:
    """Refuse a file, or a non-empty folder that holds no optimisation (no study.db)."""
    if os.path.lexists(out) and not out.is_dir():
        raise OptimizeError(f"--out {out} is a file, not a folder; name a new folder")
    if out.exists() and any(out.iterdir()) and not (out / DB).is_file():
        raise OptimizeError(
            f"{out} exists and is not an optimisation folder (no {DB}); use another --out"
        )


def unmark(out: Path) -> None:
    """Remove the finished mark (the folder is being worked on again) and what killed runs left.

    A killed run may leave temporary files of its outputs (`files.temporary_files`); those of
    dead processes are removed.
    """
    (out / MARKER).unlink(missing_ok=True)
    for tmp, pid in temporary_files(out):
        if not process_alive(pid):
            tmp.unlink(missing_ok=True)


def confirm(problem: Problem, best_overrides: dict, reps: int, progress: bool):
    """Fresh replications of no campaign, the starting plan and the best plan (`run_comparison`).

    On seeds (and so shoppers) other than the optimisation's: seed + CONFIRM_SEED_OFFSET.
    """
    from simulator.analysis.experiment import run_comparison
    from simulator.engine.run import no_campaign

    start = problem.scenario()
    best = problem.scenario(best_overrides)
    names = ["no_campaign", Path(problem.scenario_path).stem, "best"]
    cmp = run_comparison(
        [no_campaign(start), start, best],
        names,
        reps=reps,
        seed=problem.seed + CONFIRM_SEED_OFFSET,
        shoppers=problem.shoppers,
        base_dirs=[Path(problem.base_dir)] * 3,
        progress=progress,
    )
    return cmp, verdict(cmp, problem, names)


def write_results(
    study,
    problem: Problem,
    out: Path,
    meta: dict,
    *,
    confirm_reps: int,
    plots: bool,
    progress: bool,
) -> dict:
    """Write every output of a finished study; returns optimize.json's content."""
    rows = trial_rows(study, problem)
    best = best_row(rows)
    pareto = front(rows)
    start = study.user_attrs["start"]
    doc = {
        "meta": {**meta, "settings": study.user_attrs["settings"]},
        "start": start,
        "best": None,
        "trials": rows,
        "pareto": [
            {k: r[k] for k in ("number", "incremental_gmv", "cost", "objective", "params")}
            for r in pareto
        ],
    }
    if best is not None:
        overrides = overrides_of(problem, best["params"])
        doc["best"] = {**best, "overrides": jsonable(overrides)}
        header = (
            f"# Written by `promosim optimize` from {problem.scenario_path}: trial "
            f"{best['number']} of {len(rows)}, the best feasible {problem.kpi}.\n"
        )
        atomic_write_text(out / "best.yaml", best_yaml(problem, overrides, out, header))
        cmp, doc["confirmation"] = confirm(problem, overrides, confirm_reps, progress)
        atomic_write_text(out / "comparison.json", to_json(cmp.document()))
    atomic_write_text(out / "optimize.json", to_json(doc))
    write_csv(out / "trials.csv", csv_rows(rows, problem))
    write_csv(out / "pareto.csv", csv_rows(pareto, problem))
    if plots:
        from simulator.reports.optimize_plots import plot_history, plot_pareto

        plot_history(rows, start, problem.kpi, out / "history.png")
        plot_pareto(rows, pareto, start, best, problem.budget, out / "pareto.png")
    write_marker(out, COMMAND)
    return doc
