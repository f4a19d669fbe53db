"""The fork server that `promosim sweep`'s local worker processes start from.

The server imports the sweep and loads the engine's compiled kernels once (`warm_workers`); each
worker is forked from it ready to run. `start` launches it early, so that it loads while the
sweep process still validates and plans: the workers are up sooner.
"""

from __future__ import annotations

import multiprocessing
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
    forkserver.ensure_running()
