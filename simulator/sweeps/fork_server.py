"""The fork server that `promosim sweep`'s local worker processes start from.

The server imports the sweep and loads the engine's compiled kernels once (`warm_workers`); each
worker is forked from it ready to run. `start` launches it early, so that it loads while the
sweep process still validates and plans: the workers are up sooner. The server and its workers
ignore Ctrl-C, which a terminal sends to every process of the group: the sweep process stops
them and reports it once.
"""

from __future__ import annotations

import multiprocessing
import signal
from multiprocessing import forkserver

PRELOAD = ["simulator.sweeps", "simulator.sweeps.warm_workers"]


def context():
    """The forkserver start method, with its server preloading `PRELOAD`."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def start() -> None:
    """Launch the server now if it is not running (returns at once; it loads in the background)."""
    context()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # inherited by the server
    try:
        forkserver.ensure_running()
    finally:
        signal.signal(signal.SIGINT, previous)
