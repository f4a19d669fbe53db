"""Where trials run while others are asked for: here, in local worker processes, or on Dask.

The optimiser keeps up to `slots` trials in flight (ask/tell): it submits a trial as soon as a
slot frees, and takes each result as it finishes. Local workers are the sweeps' (forked from the
fork server with the engine's kernels loaded, one Numba thread each, exiting when this process
dies, even by kill -9); on Dask every worker thread is a slot. Tasks go through
`execute.run_task`, so a task's failure comes back as ("error", message, traceback).
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import time
from collections.abc import Callable

from simulator.sweeps.execute import dask_client, local_pool, run_task


class Pool:
    """Submit tasks and wait for any one of them: inline, local processes or Dask."""

    def __init__(self, workers: int = 1, scheduler=None, threads: int | None = None):
        self.threads = threads
        self._client = self._own = self._pool = None
        self._done: dict[int, tuple] = {}  # inline results by handle
        if scheduler is not None:
            self._client, self._own = dask_client(scheduler)
            info = self._client.scheduler_info()
            self.slots = max(1, sum(w.get("nthreads", 1) for w in info["workers"].values()))
        elif workers > 1:
            self._pool = local_pool(workers, threads)
            self.slots = workers
        else:
            self.slots = 1

    def submit(self, fn: Callable, arg, key: str):
        """Start a task; returns its handle (inline: run now)."""
        if self._client is not None:
            return self._client.submit(
                run_task,
                "trial",
                key,
                fn,
                arg,
                self.threads,
                pure=False,
                key=f"promosim-trial-{key}-{os.getpid()}-{time.time_ns()}",
            )
        if self._pool is not None:
            return self._pool.submit(run_task, "trial", key, fn, arg, None)
        handle = len(self._done) + 1
        while handle in self._done:
            handle += 1
        self._done[handle] = run_task("trial", key, fn, arg, self.threads)
        return handle

    def wait_any(self, handles) -> tuple:
        """(handle, outcome) of one finished task among `handles`."""
        handles = list(handles)
        if self._client is None and self._pool is None:
            h = handles[0]
            return h, self._done.pop(h)
        if self._client is not None:
            from dask.distributed import wait

            done = wait(handles, return_when="FIRST_COMPLETED").done
        else:
            done = cf.wait(handles, return_when=cf.FIRST_COMPLETED).done
        h = next(iter(done))
        try:
            return h, h.result()
        except Exception as exc:  # the worker process died or the task was lost
            return h, ("error", f"worker failed: {type(exc).__name__}: {exc}", "")

    def close(self) -> None:
        """Stop the workers (at once, on an interrupt too)."""
        if self._pool is not None:
            for proc in list(getattr(self._pool, "_processes", {}).values()):
                proc.terminate()
            self._pool.shutdown(wait=False, cancel_futures=True)
        if self._client is not None and self._own:
            self._client.close()
