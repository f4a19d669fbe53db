"""Sweep execution: tasks, worker processes, the resumable output folder and its results.

A plan runs as tasks, one per replication of a point (one per point for a function sweep) and
one per replication of each no-campaign baseline, in this process, in local worker processes
forked from `fork_server` or on a dask.distributed cluster. Each finished point is written
atomically to `points/<id>.json` as it completes, so a sweep started again with the same
definition recomputes nothing that finished; `collect` reads the folder back into a
`SweepResult`. The task functions live here, so workers unpickle them from this module.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from simulator.analysis.kpis import compute_kpis, incremental
from simulator.engine.plan import n_capped
from simulator.engine.population import draw_population
from simulator.engine.rng import replication_seed
from simulator.engine.run import no_campaign, simulate
from simulator.engine.shoppers import Shoppers
from simulator.files import atomic_write_text, to_json
from simulator.scenario.schema import Population, Scenario
from simulator.sweeps import fork_server
from simulator.sweeps.design import SweepError, SweepPlan, _digest, _jsonable
from simulator.sweeps.report import PointResult, SweepResult

TRACE_ENV = "PROMOSIM_SWEEP_TRACE"  # file each task appends "<kind> <key> <pid>" to as it starts
_EVAL_LOCK = threading.Lock()  # one evaluation at a time per process (threaded dask workers)


# ----------------------------------------------------------------------------- tasks
@dataclass(frozen=True)
class Task:
    """One unit of work: a point (all its replications) or one baseline replication."""

    kind: str  # "point" | "baseline"
    key: str  # file stem under points/ or baselines/
    fn: Callable
    arg: tuple


def simulate_point(arg: tuple) -> dict:
    """The KPIs of replication k of one point's scenario (without the baseline).

    One task per replication, so workers share a sweep's runs evenly; the run is replication k
    of `experiment.replicate` exactly (same seeds, same shoppers).
    """
    scenario, seed, k, shoppers, base_dir = arg
    n = shoppers or scenario.population.shoppers
    run = simulate(
        scenario,
        seed=replication_seed(seed, k),
        shoppers=n,
        base_dir=base_dir,
        population=_population(scenario, seed, n, base_dir),
        population_seed=seed,
    )
    return compute_kpis(run)


def _population(scenario: Scenario, seed: int, n: int, base_dir) -> Shoppers:
    """The shoppers of a point's runs and of the baselines, drawn once per worker process.

    Every point and replication of a sweep starts from the same shoppers (the population seed
    is the sweep's), so a worker reuses the last draw; runs copy it, never change it.
    """
    return _draw(scenario.population.model_dump_json(), seed, n, n_capped(scenario), str(base_dir))


@functools.lru_cache(maxsize=1)
def _draw(population_json: str, seed: int, n: int, capped: int, base_dir: str) -> Shoppers:
    """`draw_population` keyed by hashable values (the cache of `_population`)."""
    return draw_population(
        Population.model_validate_json(population_json), seed, n, capped, Path(base_dir)
    )


def simulate_baseline(arg: tuple) -> dict:
    """GMV and member GMV of the no-campaign run of one replication seed (same shoppers)."""
    scenario, seed_k, population_seed, shoppers, base_dir = arg
    n = shoppers or scenario.population.shoppers
    # the points' shoppers (a run uses only the contact counters its channels need)
    run = simulate(
        no_campaign(scenario),
        seed=seed_k,
        shoppers=n,
        base_dir=base_dir,
        population=_population(scenario, population_seed, n, base_dir),
        population_seed=population_seed,
    )
    kpis = compute_kpis(run)
    return {"gmv": kpis["gmv"], "member_gmv": kpis["member_gmv"]}


def evaluate_function(arg: tuple) -> list[dict]:
    """Call a user evaluation function on a point."""
    evaluate, overrides, seeds = arg
    return evaluate(overrides, seeds)


def add_incremental(kpis: dict, base: dict) -> dict:
    """A run's KPIs with baseline_gmv, incremental GMV and ROI (`kpis.incremental`)."""
    return {**kpis, **incremental(kpis, base["gmv"], base["member_gmv"])}


def run_task(kind: str, key: str, fn: Callable, arg: tuple, threads: int | None) -> tuple:
    """Run a task wherever it is: ("ok", value) or ("error", message, traceback)."""
    with _EVAL_LOCK:
        if threads:
            import numba

            numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        trace = os.environ.get(TRACE_ENV)
        if trace:
            with open(trace, "a", encoding="utf-8") as f:
                f.write(f"{kind} {key} {os.getpid()}\n")
        try:
            return "ok", fn(arg)
        except Exception as exc:
            return "error", f"{type(exc).__name__}: {exc}", traceback.format_exc()


def _alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def _init_worker(threads: int, sweep_pid: int) -> None:
    """Worker set-up: Numba threads, and exit once the sweep process is gone (even kill -9)."""
    import numba

    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))

    def watch():
        while _alive(sweep_pid):
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def execute(
    tasks: list[Task],
    on_done: Callable[[Task, tuple], None],
    *,
    workers: int = 1,
    scheduler=None,
    threads: int | None = None,
) -> None:
    """Run tasks here, in `workers` local processes or on a Dask scheduler; report each result.

    `on_done(task, outcome)` runs in this process as each task finishes, in completion order.
    """
    if not tasks:
        return
    if scheduler is not None:
        _execute_dask(tasks, on_done, scheduler, threads)
    elif workers <= 1:
        for t in tasks:
            on_done(t, run_task(t.kind, t.key, t.fn, t.arg, threads))
    else:
        _execute_local(tasks, on_done, min(workers, len(tasks)), threads)


def _execute_local(tasks, on_done, workers, threads):
    """Worker processes forked from a clean fork server that has imported promosim once.

    Each uses one Numba thread unless told otherwise (no oversubscription of the cores).
    """
    pool = ProcessPoolExecutor(
        workers,
        mp_context=fork_server.context(),
        initializer=_init_worker,
        initargs=(threads or 1, os.getpid()),
    )
    try:
        futures = {pool.submit(run_task, t.kind, t.key, t.fn, t.arg, None): t for t in tasks}
        # this process only waits from here: import the plotting code (matplotlib, about
        # 0.5 s) meanwhile, instead of after the last point
        threading.Thread(
            target=importlib.import_module, args=("simulator.reports.sweep_plots",), daemon=True
        ).start()
        for fut in as_completed(futures):
            try:
                outcome = fut.result()
            except Exception as exc:  # the worker process died
                outcome = ("error", f"worker process failed: {type(exc).__name__}: {exc}", "")
            on_done(futures[fut], outcome)
    except BaseException:
        for proc in list(getattr(pool, "_processes", {}).values()):
            proc.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def _execute_dask(tasks, on_done, scheduler, threads):
    """Submit every task to a dask.distributed scheduler (an address or a Client)."""
    from dask.distributed import Client
    from dask.distributed import as_completed as dask_completed

    own = not isinstance(scheduler, Client)
    try:
        client = Client(scheduler, timeout=30) if own else scheduler
    except (OSError, TimeoutError, ValueError) as exc:
        raise SweepError(f"cannot connect to the Dask scheduler at {scheduler}: {exc}") from None
    try:
        futures = {
            client.submit(
                run_task,
                t.kind,
                t.key,
                t.fn,
                t.arg,
                threads,
                pure=False,
                key=f"promosim-{t.kind}-{t.key}-{os.getpid()}-{time.time_ns()}",
            ): t
            for t in tasks
        }
        for fut in dask_completed(list(futures)):
            try:
                outcome = fut.result()
            except Exception as exc:  # the worker died or the task was lost
                outcome = ("error", f"dask task failed: {type(exc).__name__}: {exc}", "")
            on_done(futures[fut], outcome)
    finally:
        if own:
            client.close()


# ----------------------------------------------------------------------------- running
def prepare_folder(plan: SweepPlan, out: Path) -> None:
    """Create the output folder with the sweep's definition, or check it is the same sweep."""
    definition = plan.definition()
    meta_path = out / "sweep.json"
    if meta_path.exists():
        try:
            stored = json.loads(meta_path.read_text(encoding="utf-8"))["definition"]
        except (ValueError, KeyError, TypeError):
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
    elif out.exists() and any(out.iterdir()):
        raise SweepError(
            f"{out} exists and is not a sweep folder (no sweep.json); use another --out"
        )
    (out / "points").mkdir(parents=True, exist_ok=True)
    if plan.baseline:
        (out / "baselines").mkdir(exist_ok=True)
    for tmp in [*out.glob("points/.*.tmp"), *out.glob("baselines/.*.tmp")]:
        pid = tmp.name.rsplit(".", 2)[-2]  # left by a killed sweep
        if not (pid.isdigit() and _alive(int(pid))):
            tmp.unlink(missing_ok=True)
    if not meta_path.exists():
        atomic_write_text(
            meta_path, to_json({"definition": definition, "scenario_path": plan.scenario_path})
        )


def _save(path: Path, obj) -> None:
    """Write a result file atomically (temporary sibling named by pid, then a rename).

    Cheaper than mkstemp for the thousands of small files of a large sweep.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        f.write(to_json(obj))
    os.replace(tmp, path)


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
    return _digest({"scenario": nc, "shoppers": shoppers})


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
    seeds = plan.seeds()
    tasks: list[Task] = []
    queued: set[str] = set()
    base_keys: list[str | None] = [None] * len(plan.points)
    if plan.baseline:
        for i, sc in enumerate(plan.scenarios):
            key = base_keys[i] = _baseline_key(sc, plan.shoppers)
            for k, s_k in enumerate(seeds):
                stem = f"{key}-{k}"
                if stem in queued or _ok(out / "baselines" / f"{stem}.json"):
                    continue
                queued.add(stem)
                tasks.append(
                    Task(
                        "baseline",
                        stem,
                        simulate_baseline,
                        (sc, s_k, plan.seed, plan.shoppers, str(plan.base_dir)),
                    )
                )
    unique = list(dict.fromkeys(plan.ids))
    done = {pid for pid in unique if _ok(out / "points" / f"{pid}.json")}
    first = {pid: plan.ids.index(pid) for pid in unique}
    for pid in unique:
        if pid in done:
            continue
        i = first[pid]
        if plan.baseline:
            for k in range(plan.reps):
                arg = (plan.scenarios[i], plan.seed, k, plan.shoppers, str(plan.base_dir))
                tasks.append(Task("point", f"{pid}-{k}", simulate_point, arg))
        else:
            tasks.append(
                Task("point", pid, evaluate_function, (plan.evaluate, plan.points[i], seeds))
            )
    bar = tqdm(
        total=len(unique),
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
        ok = outcome[0] == "ok"
        if task.kind == "baseline":
            key, k = task.key.rsplit("-", 1)
            record = {
                "baseline": key,
                "rep": int(k),
                "seed": task.arg[1],
                "status": "ok" if ok else "failed",
            }
            record.update(outcome[1] if ok else {"error": outcome[1], "traceback": outcome[2]})
            _save(out / "baselines" / f"{task.key}.json", record)
            return
        pid = task.key
        if plan.baseline:  # one task per replication: the point is saved when all are in
            pid, k = task.key.rsplit("-", 1)
            parts.setdefault(pid, {})[int(k)] = outcome
            if len(parts[pid]) < plan.reps:
                return
            done_reps = parts.pop(pid)
            outcomes = [done_reps[k] for k in range(plan.reps)]
            failed = next((o for o in outcomes if o[0] != "ok"), None)
            outcome = failed or ("ok", [o[1] for o in outcomes])
            ok = failed is None
        i = first[pid]
        record = {
            "point": pid,
            "overrides": _jsonable(plan.points[i]),
            "labels": plan.labels(i),
            "status": "ok" if ok else "failed",
            "seeds": seeds,
            "baseline": base_keys[i],
        }
        record.update(
            {"kpis": outcome[1]} if ok else {"error": outcome[1], "traceback": outcome[2]}
        )
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
