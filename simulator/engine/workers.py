"""Worker threads for the day kernels: one call of a nogil kernel per worker, every T-th chunk.

Why not Numba's prange: its parallel wrapper links the (large) day kernel in and compiles it a
second time, 4.5 s more on a cold start (measured), and its loops lose writes made through a
named tuple's arrays. Plain threads calling one compiled nogil function have neither problem.
Chunk c's counters still land in row c, so results do not depend on the number of workers.
The number of workers follows Numba's thread setting (`numba.set_num_threads`, `--threads`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numba as nb

from simulator.errors import UserError

# shoppers per chunk: the unit a worker thread takes and a counter row sums; fixed, so float
# sums never depend on the thread count
CHUNK = 8192

_pool: ThreadPoolExecutor | None = None
_pool_pid = -1  # the process that started the pool (a forked child must start its own)
_pool_lock = threading.Lock()  # Dask may run tasks on several threads of one process


class ThreadsError(UserError):
    """A thread count the machine cannot give."""


@nb.njit(cache=True)
def n_chunks(n):
    """Number of chunks (and counter rows) for n shoppers; at least one."""
    return max(1, (n + CHUNK - 1) // CHUNK)


def set_threads(threads: int | None) -> None:
    """Set the number of worker threads (Numba's setting); None leaves it as it is.

    Results never depend on it (chunks, not threads, own the counter rows).
    """
    if threads is None:
        return
    top = nb.config.NUMBA_NUM_THREADS
    if not 1 <= threads <= top:
        raise ThreadsError(f"threads must be between 1 and {top} on this machine, got {threads}")
    nb.set_num_threads(int(threads))


def available_threads(threads: int) -> int:
    """At most the threads this machine has: a sweep worker may run where there are fewer."""
    return min(threads, nb.config.NUMBA_NUM_THREADS)


def n_workers(n_chunks: int) -> int:
    """Workers for a kernel over n_chunks chunks: Numba's thread setting, at most one a chunk."""
    return max(1, min(nb.get_num_threads(), n_chunks))


def on_workers(kernel: Callable, workers: int, args: Callable[[int], tuple]) -> None:
    """Run kernel(*args(w), w, workers) for each worker w at once; errors are raised here.

    The kernel takes chunks w, w + workers, w + 2 x workers, ... One worker runs in this thread.
    """
    if workers == 1:
        kernel(*args(0), 0, 1)
        return
    futures = [_threads().submit(kernel, *args(w), w, workers) for w in range(1, workers)]
    kernel(*args(0), 0, workers)
    for f in futures:
        f.result()


def _threads() -> ThreadPoolExecutor:
    """The process's pool of helper threads (started on first use)."""
    global _pool, _pool_pid
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid():
            _pool = ThreadPoolExecutor(
                max(1, nb.config.NUMBA_NUM_THREADS - 1), thread_name_prefix="promosim-worker"
            )
            _pool_pid = os.getpid()
        return _pool
