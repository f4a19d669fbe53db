"""The Optuna study: its SQLite storage in the output folder, resuming, samplers and the trial loop.

The study lives in `<out>/study.db` (Optuna's RDB storage, one transaction per change), with
the optimisation's settings, the no-campaign baseline and the starting plan's record as study
attributes. Run again, the same command continues the same study: settings that differ are
refused (naming them); trials a killed run left RUNNING are marked failed and their parameters
enqueued again, so no evaluation is lost and the run ends with exactly `trials` finished trials
(complete, or pruned when a combination is invalid). Up to `pool.slots` trials are in flight
(ask/tell; TPE's constant liar keeps parallel asks apart). Feasibility reaches the sampler as
each trial's constraint values (`Trial.set_constraint`: the budget's relative excess, each
KPI constraint's relative shortfall; TPE prefers feasible trials and, among infeasible ones,
the least violation); CMA-ES, which takes no constraints, is told the objective minus a
penalty for infeasible trials.
"""

from __future__ import annotations

import importlib.util
import os
import warnings
from pathlib import Path

from tqdm.auto import tqdm

from simulator.errors import UserError
from simulator.files import process_alive
from simulator.optimize.objective import Problem, baseline_key, evaluate_trial, run_baseline, score
from simulator.optimize.pool import Pool

STUDY = "promosim"
DB = "study.db"
LOCK = ".optimize.pid"  # the pid of the process running the study
SAMPLERS = ("auto", "tpe", "cmaes")
STARTUP = 10  # random trials before the model-based sampler takes over (Optuna's default)


class OptimizeError(UserError):
    """Bad optimisation input: a folder holding another study, settings that differ, a sampler."""


class TrialFailed(RuntimeError):
    """A trial's simulation failed (not an invalid scenario): the run stops, resumable."""


def sampler_kind(name: str, problem: Problem) -> str:
    """The sampler to use: `auto` is CMA-ES for continuous problems, else TPE.

    CMA-ES when every variable is continuous (ranges of floats, splits) and there are two
    parameters or more; TPE for categorical and integer variables and for one dimension.
    """
    if name != "auto":
        if name == "cmaes" and any(v.kind not in ("float", "split") for v in problem.variables):
            kinds = sorted({v.kind for v in problem.variables} - {"float", "split"})
            raise OptimizeError(
                f"--sampler cmaes takes continuous variables only; these are {', '.join(kinds)}: "
                "use --sampler tpe"
            )
        return _available(name)
    params = sum(len(v.paths) if v.kind == "split" else 1 for v in problem.variables)
    continuous = all(v.kind in ("float", "split") for v in problem.variables)
    return _available("cmaes") if continuous and params >= 2 else "tpe"


def _available(kind: str) -> str:
    """The sampler, if its package is installed (Optuna's CMA-ES needs `cmaes`), else refuse."""
    if kind == "cmaes" and importlib.util.find_spec("cmaes") is None:
        raise OptimizeError(
            "CMA-ES needs the `cmaes` package, a dependency of promosim (pip install -e .); "
            "or give --sampler tpe"
        )
    return kind


def make_sampler(kind: str, seed: int):
    """The Optuna sampler, seeded from --seed."""
    import optuna

    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    if kind == "cmaes":
        return optuna.samplers.CmaEsSampler(
            seed=seed, n_startup_trials=STARTUP, warn_independent_sampling=False
        )
    return optuna.samplers.TPESampler(
        seed=seed,
        n_startup_trials=STARTUP,
        multivariate=True,
        constant_liar=True,
    )


def open_study(problem: Problem, out: Path, sampler: str):
    """Create the study in `out`, or load it and check it is the same optimisation."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    kind = sampler_kind(sampler, problem)
    out.mkdir(parents=True, exist_ok=True)
    _lock(out)
    try:
        return _load(problem, out, kind)
    except BaseException:
        release(out)
        raise


def _load(problem: Problem, out: Path, kind: str):
    """The study in `out` (created if new), checked to be this optimisation's."""
    import optuna

    study = optuna.create_study(
        study_name=STUDY,
        storage=f"sqlite:///{out / DB}",
        direction="maximize",
        sampler=make_sampler(kind, problem.seed),
        load_if_exists=True,
    )
    settings = {**problem.settings(), "sampler": kind}
    stored = study.user_attrs.get("settings")
    if stored is None:
        study.set_user_attr("settings", settings)
    elif stored != settings:
        diff = sorted(k for k in set(stored) | set(settings) if stored.get(k) != settings.get(k))
        raise OptimizeError(
            f"{out} holds an optimisation with other settings (differs in: {', '.join(diff)}); "
            "the same command resumes it. Use another --out"
        )
    _retry_running(study)
    return study


def _lock(out: Path) -> None:
    """Refuse a study another live process is running; record this process as its runner."""
    lock = out / LOCK
    try:
        pid = int(lock.read_text().strip())
    except (OSError, ValueError):
        pid = None
    if pid is not None and pid != os.getpid() and process_alive(pid):
        raise OptimizeError(f"{out} is being optimised by process {pid}; wait for it to finish")
    lock.write_text(str(os.getpid()))


def release(out: Path) -> None:
    """Remove this process's lock."""
    (out / LOCK).unlink(missing_ok=True)


def _retry_running(study) -> None:
    """Trials a killed run left RUNNING: failed, and their parameters asked again first."""
    from optuna.trial import TrialState

    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        study._storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
        study.enqueue_trial(t.params, user_attrs={"retry_of": t.number}, skip_if_exists=False)


def finished(study) -> int:
    """Trials that count towards --trials: complete, or pruned (an invalid combination)."""
    from optuna.trial import TrialState

    return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)))


def prepare(study, problem: Problem, pool: Pool) -> tuple:
    """The baseline (key, per replication) and the starting plan's record, computed once."""
    attrs = study.user_attrs
    if "baseline" not in attrs:
        start = problem.scenario()
        study.set_user_attr("baseline", [baseline_key(start), run_baseline(problem, start)])
    base = tuple(study.user_attrs["baseline"])
    if "start" not in attrs:
        h = pool.submit(evaluate_trial, (problem, dict(problem.fixed), base), "start")
        outcome = pool.wait_any([h])[1]
        if outcome[0] != "ok":
            raise TrialFailed(f"the starting plan failed: {outcome[1]}")
        study.set_user_attr("start", score(problem, outcome[1]))
    return base


def run_trials(study, problem: Problem, pool: Pool, trials: int, progress: bool) -> None:
    """Ask, run and tell until `trials` trials are finished, keeping the pool's slots busy."""
    base = prepare(study, problem, pool)
    cmaes = study.user_attrs["settings"]["sampler"] == "cmaes"
    done = finished(study)
    flight: dict = {}
    bar = tqdm(
        total=trials,
        initial=min(done, trials),
        unit="trial",
        desc="optimize",
        disable=not progress,
        dynamic_ncols=True,
    )
    try:
        while done + len(flight) < trials or flight:
            while len(flight) < pool.slots and done + len(flight) < trials:
                trial = study.ask()
                overrides = problem.overrides(trial)
                h = pool.submit(evaluate_trial, (problem, overrides, base), str(trial.number))
                flight[h] = trial
            h, outcome = pool.wait_any(flight)
            trial = flight.pop(h)
            _tell(study, trial, problem, outcome, cmaes)
            done += 1
            bar.update(1)
    finally:
        bar.close()


def _tell(study, trial, problem: Problem, outcome: tuple, cmaes: bool) -> None:
    """Record a finished trial: complete with its objective, pruned when invalid, else fail."""
    from optuna.trial import TrialState

    if outcome[0] != "ok":
        trial.set_user_attr("reason", outcome[1])
        study.tell(trial, state=TrialState.FAIL)
        raise TrialFailed(f"trial {trial.number} failed: {outcome[1]}\n{outcome[2]}")
    record = score(problem, outcome[1])
    for k, v in record.items():
        trial.set_user_attr(k, v)
    if not cmaes:  # TPE reads them (Trial.set_constraint); CMA-ES would only warn
        names = ["budget", *(g.text for g in problem.constraints)]
        for name, value in zip(names, record["constraints"], strict=True):
            trial.set_constraint(name, value)
    if "reason" in record:
        study.tell(trial, state=TrialState.PRUNED)
        return
    value = record["objective"]
    if value is None:
        value = float("-inf") if not cmaes else -1e18
    if cmaes and not record["feasible"]:
        start = abs(study.user_attrs["start"].get("objective") or 0.0) + 1.0
        value -= start * sum(max(c, 0.0) for c in record["constraints"])
    study.tell(trial, value)
