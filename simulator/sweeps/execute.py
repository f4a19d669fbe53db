"""Sweep execution: the tasks a sweep runs and where they run.

A plan runs as tasks, one per replication of a point (one per point for a function sweep) and
one per replication of each no-campaign baseline, in this process, in local worker processes
forked from `fork_server` or on a dask.distributed cluster (`execute`); each outcome goes back to
the caller as the task finishes. The task functions live here, so workers unpickle them from this
module; `simulator.sweeps.run` saves the outcomes in the resumable output folder.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib
import os
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from simulator.analysis.kpis import compute_kpis, with_incremental
from simulator.engine.plan import n_capped
from simulator.engine.population import draw_population
from simulator.engine.rng import replication_seed
from simulator.engine.run import no_campaign, simulate
from simulator.engine.shoppers import Shoppers
from simulator.engine.workers import available_threads, set_threads
from simulator.files import process_alive
from simulator.scenario.schema import Population, Scenario
from simulator.sweeps import fork_server
from simulator.sweeps.design import SweepError

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
    pop = scenario.population.model_dump_json()
    return _draw(pop, seed, n, n_capped(scenario), str(base_dir), scenario.calendar.start)


@functools.lru_cache(maxsize=1)
def _draw(
    population_json: str, seed: int, n: int, capped: int, base_dir: str, start: dt.date
) -> Shoppers:
    """`draw_population` keyed by hashable values (the cache of `_population`)."""
    pop = Population.model_validate_json(population_json)
    return draw_population(pop, seed, n, capped, Path(base_dir), start)


def simulate_baseline(arg: tuple) -> dict:
    """GMV, member GMV and profit of the no-campaign run of one replication seed (same shoppers).

    Over the whole calendar and each KPI window (window.<name>.gmv, ...).
    """
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
    kpis = compute_kpis(run)  # of the whole calendar and of each KPI window
    return {
        k: v for k, v in kpis.items() if k.rsplit(".", 1)[-1] in ("gmv", "member_gmv", "profit")
    }


def evaluate_function(arg: tuple) -> list[dict]:
    """Call a user evaluation function on a point."""
    evaluate, overrides, seeds = arg
    return evaluate(overrides, seeds)


def add_incremental(kpis: dict, base: dict) -> dict:
    """A run's KPIs with the baseline's GMV and profit, increments and ROI (`kpis.incremental`).

    Over the whole calendar and each KPI window (`kpis.with_incremental`).
    """
    return with_incremental(kpis, base)


def run_task(kind: str, key: str, fn: Callable, arg: tuple, threads: int | None) -> tuple:
    """Run a task wherever it is: ("ok", value) or ("error", message, traceback)."""
    with _EVAL_LOCK:
        if threads:
            set_threads(available_threads(threads))
        trace = os.environ.get(TRACE_ENV)
        if trace:
            with open(trace, "a", encoding="utf-8") as f:
                f.write(f"{kind} {key} {os.getpid()}\n")
        try:
            return "ok", fn(arg)
        except Exception as exc:
            return "error", f"{type(exc).__name__}: {exc}", traceback.format_exc()


# ----------------------------------------------------------------------------- where tasks run
def _init_worker(threads: int, sweep_pid: int) -> None:
    """Worker set-up: Numba threads, and exit once the sweep process is gone (even kill -9)."""
    set_threads(available_threads(threads))

    def watch():
        while process_alive(sweep_pid):
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


def local_pool(workers: int, threads: int | None) -> ProcessPoolExecutor:
    """`workers` processes forked from the fork server, each exiting when this process is gone.

    Each uses one Numba thread unless told otherwise (no oversubscription of the cores).
    """
    fork_server.start()
    return ProcessPoolExecutor(
        workers,
        mp_context=fork_server.context(),
        initializer=_init_worker,
        initargs=(threads or 1, os.getpid()),
    )


def _execute_local(tasks, on_done, workers, threads):
    """Worker processes forked from a clean fork server that has imported promosim once."""
    pool = local_pool(workers, threads)
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


def dask_client(scheduler) -> tuple:
    """(client, whether this call made it) of a dask.distributed scheduler or Client."""
    from dask.distributed import Client

    own = not isinstance(scheduler, Client)
    try:
        return (Client(scheduler, timeout=30) if own else scheduler), own
    except (OSError, TimeoutError, ValueError) as exc:
        raise SweepError(f"cannot connect to the Dask scheduler at {scheduler}: {exc}") from None


def _execute_dask(tasks, on_done, scheduler, threads):
    """Submit every task to a dask.distributed scheduler (an address or a Client)."""
    from dask.distributed import as_completed as dask_completed

    client, own = dask_client(scheduler)
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
