"""Running a sweep: the resumable output folder, saved as each point finishes, and read back.

`run_sweep` checks the folder holds the same sweep (`sweep.json`), queues every point and
baseline replication that has not finished, runs them (`execute`) and writes each finished point
atomically to `points/<id>.json` (baselines to `baselines/`), so a sweep started again with the
same definition recomputes nothing that finished. `collect` reads the folder back into a
`SweepResult`, with each point's incremental KPIs against its baselines.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from tqdm.auto import tqdm

from simulator.engine.run import no_campaign
from simulator.files import MARKER, atomic_write_text, process_alive, temporary_files, to_json
from simulator.scenario.schema import Scenario
from simulator.sweeps.design import SweepError, SweepPlan
from simulator.sweeps.execute import (
    Task,
    add_incremental,
    evaluate_function,
    execute,
    simulate_baseline,
    simulate_point,
)
from simulator.sweeps.keys import digest, jsonable
from simulator.sweeps.report import PointResult, SweepResult

SWEEP_FOLDERS = (".", "points", "baselines", "plots")  # where a sweep writes files


def check_folder(out: Path) -> None:
    """Refuse (SweepError) a file, or a folder holding anything but a sweep (no `sweep.json`).

    Cheap and independent of the plan, so a caller checks before planning.
    """
    if os.path.lexists(out) and not out.is_dir():
        raise SweepError(f"--out {out} is a file, not a folder; name a new folder")
    if not (out / "sweep.json").exists() and out.exists() and any(out.iterdir()):
        raise SweepError(
            f"{out} exists and is not a sweep folder (no sweep.json); use another --out"
        )


def prepare_folder(plan: SweepPlan, out: Path) -> None:
    """Create the output folder with the sweep's definition, or check it is the same sweep.

    Also removes the temporary files killed writers left (points, baselines, outputs, charts)
    and the mark of a finished sweep (`files.MARKER`, written once every output is), which a
    resumed sweep earns again. Raises SweepError before anything runs when the folder is
    another sweep's, is not a sweep's (`check_folder`), or cannot be written.
    """
    check_folder(out)
    definition = plan.definition()
    meta_path = out / "sweep.json"
    if meta_path.exists():
        try:
            stored = json.loads(meta_path.read_text(encoding="utf-8"))["definition"]
        except (OSError, ValueError, KeyError, TypeError):
            raise SweepError(f"{meta_path} is not a sweep definition; use another --out") from None
        if stored != definition:
            diff = sorted(
                k for k in set(stored) | set(definition) if stored.get(k) != definition.get(k)
            )
            raise SweepError(
                f"{out} holds a different sweep (differs in: {', '.join(diff)}); "
                "it resumes only the same definition. Use another --out or "
                "delete the folder"
            )
    try:
        (out / "points").mkdir(parents=True, exist_ok=True)
        if plan.baseline:
            (out / "baselines").mkdir(exist_ok=True)
        for folder in SWEEP_FOLDERS:
            for tmp, pid in temporary_files(out / folder):
                if not process_alive(pid):  # left by a killed sweep
                    tmp.unlink(missing_ok=True)
        (out / MARKER).unlink(missing_ok=True)
        if not meta_path.exists():
            atomic_write_text(
                meta_path, to_json({"definition": definition, "scenario_path": plan.scenario_path})
            )
    except OSError as exc:
        raise SweepError(f"cannot write {out}/: {exc.strerror or exc}") from None


def _save(path: Path, record: dict) -> None:
    """Write a point's or a baseline's record atomically.

    Not flushed to disk (a large sweep writes thousands): a record a power cut leaves empty
    reads as not run, and runs again.
    """
    atomic_write_text(path, to_json(record), durable=False)


def _read_json(path: Path) -> dict | None:
    """A finished result file, or None when absent or unreadable."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _baseline_key(scenario: Scenario, shoppers: int | None) -> str:
    """Key of a point's baseline: points whose no-campaign scenarios agree share it."""
    nc = no_campaign(scenario).model_dump(mode="json")
    nc.pop("name", None)
    return digest({"scenario": nc, "shoppers": shoppers})


def run_sweep(
    plan: SweepPlan,
    out: str | Path,
    *,
    workers: int = 1,
    scheduler=None,
    threads: int | None = None,
    progress: bool = False,
) -> SweepResult:
    """Run every unfinished point (and baseline replication), saving each as it completes."""
    t0 = time.perf_counter()
    out = Path(out)
    prepare_folder(plan, out)
    first: dict[str, int] = {}  # point id -> index of its first occurrence in the design
    for i, pid in enumerate(plan.ids):
        first.setdefault(pid, i)
    done = {pid for pid in first if _ok(out / "points" / f"{pid}.json")}
    base_keys = (
        [_baseline_key(sc, plan.shoppers) for sc in plan.scenarios]
        if plan.baseline
        else [None] * len(plan.points)
    )
    seeds = plan.seeds()
    tasks = _baseline_tasks(plan, out, base_keys, seeds) + _point_tasks(
        plan, [first[pid] for pid in first if pid not in done], seeds
    )
    bar = tqdm(
        total=len(first),
        initial=len(done),
        unit="point",
        desc="sweep",
        disable=not progress,
        dynamic_ncols=True,
    )
    computed = 0
    parts: dict[str, dict[int, tuple]] = {}  # point -> replication -> outcome, until complete

    def on_done(task: Task, outcome: tuple) -> None:
        nonlocal computed
        if task.kind == "baseline":
            _save(out / "baselines" / f"{task.key}.json", _baseline_record(task, outcome))
            return
        pid = task.key
        if plan.baseline:  # one task per replication: the point is saved when all are in
            pid, k = task.key.rsplit("-", 1)
            parts.setdefault(pid, {})[int(k)] = outcome
            if len(parts[pid]) < plan.reps:
                return
            by_rep = parts.pop(pid)
            outcomes = [by_rep[k] for k in range(plan.reps)]
            failed = next((o for o in outcomes if o[0] != "ok"), None)
            outcome = failed or ("ok", [o[1] for o in outcomes])
        i = first[pid]
        record = {
            "point": pid,
            "overrides": jsonable(plan.points[i]),
            "labels": plan.labels(i),
            "status": "ok" if outcome[0] == "ok" else "failed",
            "seeds": seeds,
            "baseline": base_keys[i],
            **({"kpis": outcome[1]} if outcome[0] == "ok" else _error(outcome)),
        }
        _save(out / "points" / f"{pid}.json", record)
        computed += 1
        bar.update(1)

    try:
        execute(tasks, on_done, workers=workers, scheduler=scheduler, threads=threads)
    finally:
        bar.close()
    result = collect(plan, out)
    result.resumed = len(done)
    result.computed = computed
    result.wall_s = time.perf_counter() - t0
    return result


def _baseline_tasks(
    plan: SweepPlan, out: Path, base_keys: list[str | None], seeds: list[int]
) -> list[Task]:
    """A task per baseline replication not saved yet (points with the same key share them)."""
    tasks: list[Task] = []
    queued: set[str] = set()
    for i, key in enumerate(base_keys):
        if key is None:
            continue
        for k, s_k in enumerate(seeds):
            stem = f"{key}-{k}"
            if stem in queued or _ok(out / "baselines" / f"{stem}.json"):
                continue
            queued.add(stem)
            arg = (plan.scenarios[i], s_k, plan.seed, plan.shoppers, str(plan.base_dir))
            tasks.append(Task("baseline", stem, simulate_baseline, arg))
    return tasks


def _point_tasks(plan: SweepPlan, pending: list[int], seeds: list[int]) -> list[Task]:
    """The tasks of the points at these indices: one per replication, one per function point."""
    tasks: list[Task] = []
    for i in pending:
        pid = plan.ids[i]
        if plan.baseline:
            for k in range(plan.reps):
                arg = (plan.scenarios[i], plan.seed, k, plan.shoppers, str(plan.base_dir))
                tasks.append(Task("point", f"{pid}-{k}", simulate_point, arg))
        else:
            arg = (plan.evaluate, plan.points[i], seeds)
            tasks.append(Task("point", pid, evaluate_function, arg))
    return tasks


def _baseline_record(task: Task, outcome: tuple) -> dict:
    """A baseline replication's record: its GMV figures or its error."""
    key, k = task.key.rsplit("-", 1)
    ok = outcome[0] == "ok"
    return {
        "baseline": key,
        "rep": int(k),
        "seed": task.arg[1],
        "status": "ok" if ok else "failed",
        **(outcome[1] if ok else _error(outcome)),
    }


def _error(outcome: tuple) -> dict:
    """The fields of a failed task's record."""
    return {"error": outcome[1], "traceback": outcome[2]}


def _ok(path: Path) -> bool:
    """Whether a result file exists and records a success."""
    rec = _read_json(path)
    return rec is not None and rec.get("status") == "ok"


def collect(plan: SweepPlan, out: str | Path) -> SweepResult:
    """Read every point's result (and its baselines) from the folder, in design order."""
    out = Path(out)
    points = []
    for i, pid in enumerate(plan.ids):
        labels = plan.labels(i)
        rec = _read_json(out / "points" / f"{pid}.json")
        if rec is None:
            points.append(PointResult(i, pid, labels, "failed", error="not run"))
            continue
        if rec.get("status") != "ok":
            points.append(PointResult(i, pid, labels, "failed", error=rec.get("error")))
            continue
        kpis = rec["kpis"]
        if plan.baseline:
            bases = [
                _read_json(out / "baselines" / f"{rec['baseline']}-{k}.json")
                for k in range(plan.reps)
            ]
            bad = next((b for b in bases if b is None or b.get("status") != "ok"), False)
            if bad is not False:
                why = "not run" if bad is None else bad.get("error")
                points.append(
                    PointResult(i, pid, labels, "failed", error=f"baseline failed: {why}")
                )
                continue
            kpis = [add_incremental(k, b) for k, b in zip(kpis, bases, strict=True)]
        points.append(PointResult(i, pid, labels, "ok", kpis))
    return SweepResult(plan, points)
