"""Ctrl-C and SIGTERM: a command ends in one line, with no traceback and no partial result.

While a command runs, SIGINT raises KeyboardInterrupt and SIGTERM `Terminated` in the main
thread, so every `with` and `finally` on the way out cleans up (a result folder being written is
removed) and `app.main` reports it. Python runs a handler between two bytecodes of whatever runs
at that moment, and some moments must not be cut short: a callback of Numba's compiler (llvmlite)
loading a kernel swallows the exception, and LLVM then crashes the process; a thread or process
pool starting a worker leaves it running unknown to the pool, so that the interpreter never exits
or the worker prints a traceback. While such code is on the stack (`HELD_IN`) the signal is held,
and raised as soon as it is not (looked at every `RETRY_S` seconds).
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

EXIT_INTERRUPTED = 130  # Ctrl-C (SIGINT), as a shell reports it
EXIT_TERMINATED = 143  # SIGTERM
RETRY_S = 0.05
HELD_IN = tuple(  # code a signal must not cut short: Numba, and pools starting workers
    p.replace("/", os.sep)
    for p in (
        "/numba/",
        "/llvmlite/",
        "/concurrent/futures/thread.py",
        "/concurrent/futures/process.py",
    )
)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so that it unwinds (and cleans up) like Ctrl-C."""


@contextmanager
def raised_as_exceptions() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into exceptions for the block (in the main thread; else as is)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []

    def on_signal(signum, frame) -> None:
        if not pending:
            pending.append(signum)
        raise_when_safe(signum, frame)

    def raise_when_safe(signum, frame) -> None:
        if not pending:  # a retry after the exception was raised
            return
        if _in_held_code(frame):
            signal.setitimer(signal.ITIMER_REAL, RETRY_S)
            return
        signal.setitimer(signal.ITIMER_REAL, 0)
        raise Terminated if pending.pop() == signal.SIGTERM else KeyboardInterrupt

    handlers = {
        signal.SIGINT: on_signal,
        signal.SIGTERM: on_signal,
        signal.SIGALRM: raise_when_safe,
    }
    previous = {s: signal.signal(s, h) for s, h in handlers.items()}
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        for s, handler in previous.items():
            signal.signal(s, handler)


def _in_held_code(frame) -> bool:
    """Whether code in `HELD_IN` is on the stack from `frame` up."""
    while frame is not None:
        if any(part in frame.f_code.co_filename for part in HELD_IN):
            return True
        frame = frame.f_back
    return False
