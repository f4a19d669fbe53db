"""Worker threads for the kernels: each worker runs once with its index; errors reach us."""

from __future__ import annotations

import threading

import numba
import pytest

from simulator.engine.workers import n_workers, on_workers


def test_each_worker_runs_once_with_its_share():
    seen, lock = [], threading.Lock()

    def kernel(tag, w, step):
        with lock:
            seen.append((tag, w, step, threading.get_ident()))

    on_workers(kernel, 2, lambda w: (f"args{w}",))
    assert sorted(s[:3] for s in seen) == [("args0", 0, 2), ("args1", 1, 2)]
    assert len({s[3] for s in seen}) == 2  # really on two threads
    seen.clear()
    on_workers(kernel, 1, lambda w: ("only",))
    assert [s[:3] for s in seen] == [("only", 0, 1)]


def test_a_failing_worker_raises_in_the_caller():
    def kernel(w, step):
        if w == 1:
            raise ValueError("worker 1 failed")

    with pytest.raises(ValueError, match="worker 1 failed"):
        on_workers(kernel, 2, lambda w: ())


def test_workers_follow_numba_threads_and_chunks():
    top = numba.config.NUMBA_NUM_THREADS
    try:
        numba.set_num_threads(1)
        assert n_workers(50) == 1
        numba.set_num_threads(top)
        assert n_workers(50) == min(top, 50)
        assert n_workers(1) == 1
    finally:
        numba.set_num_threads(top)
