"""Runs of the dashboard: one worker thread, results cached by the scenario's digest.

A run is `scenario_run.run_scenario`, the function `promosim run` calls, so the page shows the
numbers `kpis.json` would hold. The kernel releases the GIL, so the page stays usable while a
run computes; the job holds a progress bar (days simulated) and the replications done so far.
The charts are drawn by the worker when the run is done, not by the page (drawing them beside a
running worker slowed both). The cache key is the digest of the validated scenario with the
run's size, seed and replications: the same scenario asked again is shown at once.
"""

from __future__ import annotations

import io
import os
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from simulator.analysis.experiment import Replicated
from simulator.analysis.scenario_run import ScenarioRun, kpis_document, run_scenario
from simulator.dashboard.views import daily_figure, funnel_figure
from simulator.errors import UserError
from simulator.scenario.schema import Scenario
from simulator.sweeps.keys import digest

MAX_JOBS = 12
"""Runs kept: a run holds its shoppers' final state (tens of MB at 1,000,000 shoppers)."""


def png(fig) -> bytes:
    """A matplotlib figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


class Progress(tqdm):
    """A tqdm bar that prints nothing: the page reads `n` and `total`."""

    def __init__(self):
        super().__init__(total=1, file=open(os.devnull, "w"), mininterval=3600)  # noqa: SIM115

    def share(self) -> float:
        """Share of the days simulated, 0 to 1."""
        return min(self.n / self.total, 1.0) if self.total else 0.0


def run_key(sc: Scenario, shoppers: int, reps: int, seed: int) -> str:
    """The cache key of a run: the validated scenario, shoppers, replications and seed."""
    return digest({"scenario": sc.model_dump(mode="json"), "n": shoppers, "r": reps, "s": seed})


@dataclass
class Job:
    """One run: its settings, progress and (so far, then final) results."""

    key: str
    scenario: Scenario
    shoppers: int
    reps: int
    seed: int
    progress: Progress = field(default_factory=Progress)
    result: ScenarioRun | None = None  # the replications done so far and their kpis.json
    error: str = ""
    done: bool = False
    started: float = field(default_factory=time.perf_counter)
    first_s: float | None = None  # seconds to the first replication's results
    wall_s: float | None = None
    charts: tuple[bytes, ...] = ()  # PNGs of the finished run: funnel, daily GMV

    @property
    def label(self) -> str:
        """What the run was: scenario, shoppers, replications, seed."""
        size = f"{self.shoppers:,} shoppers, {self.reps} replications"
        return f"{self.scenario.name}: {size}, seed {self.seed}"

    @property
    def rep(self) -> Replicated | None:
        """The replications done so far."""
        return None if self.result is None else self.result.rep

    @property
    def kpis(self) -> dict | None:
        """kpis.json of the replications done so far."""
        return None if self.result is None else self.result.kpis

    def partial(self, rep: Replicated) -> None:
        """Record the replications done so far (called by the worker after each)."""
        self.result = ScenarioRun(rep, *kpis_document(rep))
        if self.first_s is None:
            self.first_s = time.perf_counter() - self.started


class Runner:
    """Runs scenarios one at a time in a worker thread; finished runs are kept by key."""

    def __init__(self):
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="promosim-run")
        self.jobs: dict[str, Job] = {}
        self.lock = threading.Lock()

    def submit(self, sc: Scenario, base_dir: Path, shoppers: int, reps: int, seed: int) -> Job:
        """The job of this run: the cached one, else a new one queued on the worker."""
        key = run_key(sc, shoppers, reps, seed)
        with self.lock:
            job = self.jobs.get(key)
            if job is not None and not job.error:
                return job
            job = self.jobs[key] = Job(key, sc, shoppers, reps, seed)
            finished = [k for k, j in self.jobs.items() if j.done]
            for k in finished[: max(len(self.jobs) - MAX_JOBS, 0)]:  # the oldest go first
                del self.jobs[k]
        self.pool.submit(self._run, job, base_dir)
        return job

    def _run(self, job: Job, base_dir: Path) -> None:
        """Run a job; its results, or the error a user can act on, end up in the job."""
        job.started = time.perf_counter()
        try:
            result = run_scenario(
                job.scenario,
                base_dir,
                reps=job.reps,
                seed=job.seed,
                shoppers=job.shoppers,
                progress=job.progress,
                on_replication=job.partial,
            )
            job.result = result
            job.charts = tuple(png(fig(result.rep)) for fig in (funnel_figure, daily_figure))
        except UserError as exc:
            job.error = f"error: {exc}"
        except Exception:  # shown on the page: the server must not die with a run
            job.error = traceback.format_exc(limit=5)
        job.wall_s = time.perf_counter() - job.started
        job.done = True


RUNNER = Runner()
"""The server's runner: every page shares its worker and its cache."""
