"""Parameter sweeps: designs, validated points, resumable parallel execution, gates and analysis.

A sweep runs one scenario at many points, each point a set of dotted-path overrides
(`load_scenario(path, overrides)`), chosen by a full grid, a Latin-hypercube random design or
Saltelli's Sobol design (SALib). Every point runs the same replication seeds
(`rng.replication_seed(seed, k)`) and is measured against the same no-campaign baseline, run once
per replication, so differences between points are policy, not noise. Each finished point is
written atomically to `points/<id>.json` as it completes; a sweep started again with the same
definition resumes and recomputes nothing that finished. Execution is in this process, in local
worker processes, or on a dask.distributed cluster; the results do not depend on which.
"""

from __future__ import annotations

import hashlib
import importlib
import itertools
import json
import math
import operator
import os
import re
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import yaml
from tqdm.auto import tqdm

from simulator import fork_server
from simulator.experiment import mean_ci, replicate
from simulator.kpis import compute_kpis, ratio
from simulator.outputs import atomic_write_text, to_json, write_csv
from simulator.population import draw_population
from simulator.rng import replication_seed
from simulator.run import no_campaign, simulate
from simulator.scenario import Scenario, ScenarioError, _Loader, load_scenario

SWEEP_FORMAT = 1
TRACE_ENV = "PROMOSIM_SWEEP_TRACE"  # file each task appends "<kind> <key> <pid>" to as it starts
GATE_OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt,
            "==": operator.eq}
# KPIs the summary ranks points by, with the better direction
BEST = (("roi", max), ("incremental_gmv", max), ("gmv", max), ("member_gmv_penetration", max),
        ("new_members", max), ("new_member_first_purchase_rate", max), ("cost", min))
_EVAL_LOCK = threading.Lock()  # one evaluation at a time per process (threaded dask workers)


class SweepError(ValueError):
    """Bad sweep input: a design, a value, a gate, a point's scenario or the output folder."""


# ----------------------------------------------------------------------------- values
def parse_value(text: str, as_list: bool = False):
    """A value typed on the command line, read as a YAML scalar; `a+b` is [a, b] for a list."""
    if as_list:
        return [_scalar(t) for t in text.split("+")]
    return _scalar(text)


def _scalar(text: str):
    """One YAML scalar, read as a scenario file reads it."""
    if not text.strip():
        raise SweepError("empty value; expected a YAML scalar such as 20, 0.05 or sms_sensitive")
    try:
        value = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError:
        raise SweepError(f"{text!r} is not a YAML scalar") from None
    if isinstance(value, dict | list):
        raise SweepError(f"{text!r} is not a single value; write list items joined by '+'")
    return value


def value_label(value) -> str:
    """A value as text in tables and labels (lists joined by '+')."""
    if isinstance(value, list | tuple):
        return "+".join(value_label(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _jsonable(value):
    """Overrides as JSON values (dates as ISO text)."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def _canon(obj) -> str:
    """Canonical JSON text (sorted keys) for hashing and comparing definitions."""
    return json.dumps(_jsonable(obj), sort_keys=True, separators=(",", ":"), allow_nan=True)


def _digest(obj, n: int = 16) -> str:
    """Short SHA-256 of an object's canonical JSON."""
    return hashlib.sha256(_canon(obj).encode()).hexdigest()[:n]


def is_list_field(scenario: Scenario, path: str) -> bool:
    """Whether the scenario's field at a dotted path holds a list (such as a touch's audience)."""
    node = scenario.model_dump(mode="python")
    for key in path.split("."):
        if isinstance(node, dict):
            node = next((v for k, v in node.items() if str(k) == key), None)
        elif isinstance(node, list | tuple) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            return False
    return isinstance(node, list | tuple)


# ----------------------------------------------------------------------------- factors and designs
@dataclass(frozen=True)
class Factor:
    """One swept field: grid values (as typed) or a numeric range."""

    path: str
    texts: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    integer: bool = False

    def spec(self) -> dict:
        """The factor as JSON."""
        if self.texts:
            return {"path": self.path, "values": list(self.texts)}
        return {"path": self.path, "low": self.low, "high": self.high, "integer": self.integer}


def _split_spec(spec: str, option: str, example: str) -> tuple[str, str]:
    """PATH and the text after '=' of a command-line factor."""
    path, eq, rest = spec.partition("=")
    path = path.strip()
    if not eq or not path or not rest.strip():
        raise SweepError(f"{option} {spec!r}: expected {example}")
    if path == "seed":
        raise SweepError(f"{option} {spec!r}: the seed is the sweep's (--seed); every point runs "
                         "the same replication seeds")
    return path, rest


def parse_grid(spec: str) -> Factor:
    """`PATH=V1,V2,...` (a list-valued field takes `a+b` for the list [a, b])."""
    path, rest = _split_spec(spec, "--grid", "PATH=V1,V2,... such as "
                             "benefits.member_coupon.cost.value=5,10,20")
    texts = tuple(t.strip() for t in rest.split(","))
    for t in texts:
        parse_value(t, as_list=True)
    if len(set(texts)) != len(texts):
        raise SweepError(f"--grid {spec!r}: a value is given twice")
    return Factor(path, texts=texts)


def parse_range(spec: str) -> Factor:
    """`PATH=LOW:HIGH`; integer ends give integer values."""
    path, rest = _split_spec(spec, "--range", "PATH=LOW:HIGH such as "
                             "channels.sms.cost_per_contact=0.03:0.1")
    lo_text, colon, hi_text = rest.partition(":")
    try:
        lo, hi = _scalar(lo_text), _scalar(hi_text)
    except SweepError:
        lo = hi = None
    ok = colon and all(isinstance(v, int | float) and not isinstance(v, bool)
                       and math.isfinite(v) for v in (lo, hi))
    if not ok:
        raise SweepError(f"--range {spec!r}: expected PATH=LOW:HIGH with two numbers")
    if not lo < hi:
        raise SweepError(f"--range {spec!r}: LOW must be below HIGH")
    integer = isinstance(lo, int) and isinstance(hi, int)
    return Factor(path, low=lo if integer else float(lo), high=hi if integer else float(hi),
                  integer=integer)


def parse_set(spec: str) -> tuple[str, str]:
    """`PATH=VALUE`: an override applied at every point (returned as path and text)."""
    path, rest = _split_spec(spec, "--set", "PATH=VALUE")
    parse_value(rest.strip(), as_list=True)
    return path, rest.strip()


@dataclass(frozen=True)
class Design:
    """Which points to run: kind `grid`, `random` (Latin hypercube) or `sobol` (Saltelli)."""

    kind: str
    factors: tuple[Factor, ...]
    n: int = 0  # random: points; sobol: base samples N (N x (factors + 2) points)
    seed: int = 0

    def __post_init__(self):
        paths = [f.path for f in self.factors]
        if not self.factors:
            raise SweepError("a sweep needs at least one --grid or --range")
        if len(set(paths)) != len(paths):
            twice = sorted({p for p in paths if paths.count(p) > 1})
            raise SweepError(f"a field is swept twice: {', '.join(twice)}")
        if self.kind == "grid":
            if any(not f.texts for f in self.factors):
                raise SweepError("a grid takes --grid PATH=V1,V2,... (--range needs --random "
                                 "or --sobol)")
        elif self.kind in ("random", "sobol"):
            if any(f.texts for f in self.factors):
                raise SweepError(f"--{self.kind} samples --range factors; --grid values cannot "
                                 "be mixed in")
            if self.kind == "sobol" and (self.n < 2 or self.n & (self.n - 1)):
                raise SweepError(f"--sobol N must be a power of 2 (Sobol sequence), got {self.n}")
            if self.kind == "random" and self.n < 1:
                raise SweepError(f"--random N must be at least 1, got {self.n}")
        else:
            raise SweepError(f"unknown design kind {self.kind!r}")

    def problem(self) -> dict:
        """The SALib problem (integer factors sampled over [low - 0.5, high + 0.5])."""
        pad = [0.5 if f.integer else 0.0 for f in self.factors]
        return {"num_vars": len(self.factors), "names": [f.path for f in self.factors],
                "bounds": [[f.low - p, f.high + p] for f, p in zip(self.factors, pad,
                                                                    strict=True)]}

    def points(self, is_list: Callable[[str], bool] = lambda path: False) -> list[dict]:
        """Overrides of every point, in design order (a grid varies its last factor fastest)."""
        if self.kind == "grid":
            values = [[parse_value(t, as_list=is_list(f.path)) for t in f.texts]
                      for f in self.factors]
            return [dict(zip((f.path for f in self.factors), combo, strict=True))
                    for combo in itertools.product(*values)]
        if self.kind == "sobol":
            from SALib.sample import sobol

            x = sobol.sample(self.problem(), self.n, calc_second_order=False, seed=self.seed)
        else:
            from SALib.sample import latin

            x = latin.sample(self.problem(), self.n, seed=self.seed)
        return [{f.path: (min(f.high, max(f.low, int(round(v)))) if f.integer else float(v))
                 for f, v in zip(self.factors, row, strict=True)} for row in x]

    def spec(self) -> dict:
        """The design as JSON."""
        return {"kind": self.kind, "factors": [f.spec() for f in self.factors], "n": self.n,
                "design_seed": self.seed}


# ----------------------------------------------------------------------------- gates
@dataclass(frozen=True)
class Gate:
    """`KPI OP NUMBER`, checked on every point's mean."""

    kpi: str
    op: str
    threshold: float
    text: str

    def passes(self, value) -> bool:
        """Whether a KPI mean passes (a missing or n/a value fails)."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return False
        return GATE_OPS[self.op](value, self.threshold)


_GATE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|==|>|<)\s*"
                   r"([-+]?(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*$")


def parse_gate(text: str) -> Gate:
    """Parse `KPI OP NUMBER` (OP one of >=, <=, >, <, ==); nothing else is accepted."""
    m = _GATE.match(text)
    if not m:
        raise SweepError(f"--gate {text!r}: expected KPI OP NUMBER such as 'roi >= 3' with OP "
                         "one of >=, <=, >, <, ==")
    return Gate(m.group(1), m.group(2), float(m.group(3).replace("_", "")),
                f"{m.group(1)} {m.group(2)} {m.group(3)}")


def known_kpis(scenario: Scenario) -> list[str]:
    """Every KPI name a run of the scenario with its baseline reports (from `compute_kpis`)."""
    from simulator.counters import Layout
    from simulator.run import RunResult

    lay = Layout(tuple(scenario.benefits), tuple(scenario.channels), tuple(scenario.plan))
    days = len(scenario.days)
    run = RunResult(scenario=scenario, seed=0, shoppers=1, layout=lay, dates=scenario.days,
                    phases=[""] * days, presale=np.zeros(days, bool),
                    daily_int=np.zeros((days, lay.n_int), np.int64),
                    daily_float=np.zeros((days, lay.n_float)))
    return list(compute_kpis(run, run))


# ----------------------------------------------------------------------------- plans
Evaluate = Callable[[dict, list[int]], list[dict]]


@dataclass
class SweepPlan:
    """A validated sweep: its design, every point's overrides and scenario, and run settings."""

    design: Design
    points: list[dict]
    reps: int
    seed: int
    source: dict  # what is evaluated: {"scenario": name, "digest": ...} or {"function": name}
    scenarios: list[Scenario] | None = None
    fixed: dict = field(default_factory=dict)
    shoppers: int | None = None
    base_dir: Path = Path(".")
    evaluate: Evaluate | None = None
    scenario_path: str = ""
    ids: list[str] = field(init=False)

    def __post_init__(self):
        self.ids = [_digest(p, 12) for p in self.points]

    @property
    def baseline(self) -> bool:
        """Whether points are measured against the no-campaign baseline (scenario sweeps)."""
        return self.evaluate is None

    def definition(self) -> dict:
        """Everything that decides the results; a folder only resumes the same definition."""
        return json.loads(_canon({
            "format": SWEEP_FORMAT, **self.design.spec(), "source": self.source,
            "fixed": self.fixed, "reps": self.reps, "seed": self.seed, "shoppers": self.shoppers,
            "baseline": self.baseline, "points": self.points}))

    def seeds(self) -> list[int]:
        """The replication seeds every point runs (common random numbers)."""
        return [replication_seed(self.seed, k) for k in range(self.reps)]

    def labels(self, i: int) -> dict[str, str]:
        """Point i's factor values as text, by factor path."""
        return {f.path: value_label(self.points[i][f.path]) for f in self.design.factors}


def _scenario_digest(scenario: Scenario, base_dir: Path) -> str:
    """Digest of a scenario's effective content (after extends) and of its parameter file."""
    parts = [scenario.model_dump_json()]
    pf = scenario.population.params_file
    if pf and (base_dir / pf).is_file():
        parts.append(hashlib.sha256((base_dir / pf).read_bytes()).hexdigest())
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def plan_scenario_sweep(path: str | Path, design: Design, *, reps: int, seed: int | None = None,
                        shoppers: int | None = None, fixed: dict[str, str] | None = None,
                        progress: bool = False) -> SweepPlan:
    """Validate the scenario at every point of the design (all problems reported together)."""
    path = str(path)
    try:
        base = load_scenario(path)
    except ScenarioError as exc:
        raise SweepError(str(exc)) from None
    fixed_values = {p: parse_value(t, as_list=is_list_field(base, p))
                    for p, t in (fixed or {}).items()}
    clash = [f.path for f in design.factors if f.path in fixed_values]
    if clash:
        raise SweepError(f"{', '.join(clash)} is both swept and set with --set")
    points = design.points(lambda p: is_list_field(base, p))
    scenarios, problems = [], {}
    for i, ov in enumerate(tqdm(points, desc="validating", unit="point", leave=False,
                                disable=not progress or len(points) < 200)):
        try:
            scenarios.append(load_scenario(path, {**fixed_values, **ov}))
        except ScenarioError as exc:
            for line in str(exc).splitlines():
                problems.setdefault(line, []).append(i)
    if problems:
        bad = sorted({i for where in problems.values() for i in where})
        lines = []
        for line, where in list(problems.items())[:20]:
            if len(where) == 1:
                at = "point " + str(where[0]) + " (" + ", ".join(
                    f"{k}={value_label(v)}" for k, v in points[where[0]].items()) + ")"
            else:
                shown = ", ".join(map(str, where[:10])) + (", ..." if len(where) > 10 else "")
                at = f"points {shown}"
            lines.append(f"{line}  [{at}]")
        if len(problems) > 20:
            lines.append(f"... and {len(problems) - 20} more problems")
        raise SweepError(f"{len(bad)} of {len(points)} points have an invalid scenario; nothing "
                         "was run:\n" + "\n".join(lines))
    base_dir = Path(path).parent
    source = {"scenario": base.name, "digest": _scenario_digest(base, base_dir)}
    return SweepPlan(design, points, reps, base.seed if seed is None else seed, source,
                     scenarios=scenarios, fixed=_jsonable(fixed_values), shoppers=shoppers,
                     base_dir=base_dir, scenario_path=path)


def plan_function_sweep(design: Design, evaluate: Evaluate, *, reps: int = 1,
                        seed: int = 0) -> SweepPlan:
    """A sweep of a Python function `evaluate(overrides, seeds) -> [KPI dict per seed]`."""
    name = f"{getattr(evaluate, '__module__', '?')}.{getattr(evaluate, '__qualname__', '?')}"
    return SweepPlan(design, design.points(), reps, seed, {"function": name}, evaluate=evaluate)


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
    capped = sum(bool(c.frequency_cap) for c in scenario.channels.values())
    shared = draw_population(scenario.population, seed, n, capped, Path(base_dir))
    run = simulate(scenario, seed=replication_seed(seed, k), shoppers=n, base_dir=base_dir,
                   population=shared, population_seed=seed)
    return compute_kpis(run)


def simulate_baseline(arg: tuple) -> dict:
    """GMV and member GMV of the no-campaign run of one replication seed (same shoppers)."""
    scenario, seed_k, population_seed, shoppers, base_dir = arg
    (rep,) = replicate([no_campaign(scenario)], ["baseline"], reps=1, seed=seed_k,
                       shoppers=shoppers, base_dirs=[Path(base_dir)],
                       population_seed=population_seed)
    return {"gmv": rep.kpis[0]["gmv"], "member_gmv": rep.kpis[0]["member_gmv"]}


def evaluate_function(arg: tuple) -> list[dict]:
    """Call a user evaluation function on a point."""
    evaluate, overrides, seeds = arg
    return evaluate(overrides, seeds)


def add_incremental(kpis: dict, base: dict) -> dict:
    """A run's KPIs with baseline_gmv, incremental GMV and ROI, as `compute_kpis` defines them."""
    out = dict(kpis)
    out["baseline_gmv"] = base["gmv"]
    out["incremental_gmv"] = kpis["gmv"] - base["gmv"]
    out["incremental_member_gmv"] = kpis["member_gmv"] - base["member_gmv"]
    out["roi"] = ratio(kpis["gmv"] - base["gmv"], kpis["cost"])
    return out


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


def execute(tasks: list[Task], on_done: Callable[[Task, tuple], None], *, workers: int = 1,
            scheduler=None, threads: int | None = None) -> None:
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
    pool = ProcessPoolExecutor(workers, mp_context=fork_server.context(),
                               initializer=_init_worker,
                               initargs=(threads or 1, os.getpid()))
    try:
        futures = {pool.submit(run_task, t.kind, t.key, t.fn, t.arg, None): t for t in tasks}
        # this process only waits from here: import the plotting code (matplotlib, about
        # 0.5 s) meanwhile, instead of after the last point
        threading.Thread(target=importlib.import_module, args=("simulator.sweep_plots",),
                         daemon=True).start()
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
        futures = {client.submit(run_task, t.kind, t.key, t.fn, t.arg, threads, pure=False,
                                 key=f"promosim-{t.kind}-{t.key}-{os.getpid()}-{time.time_ns()}"):
                   t for t in tasks}
        for fut in dask_completed(list(futures)):
            try:
                outcome = fut.result()
            except Exception as exc:  # the worker died or the task was lost
                outcome = ("error", f"dask task failed: {type(exc).__name__}: {exc}", "")
            on_done(futures[fut], outcome)
    finally:
        if own:
            client.close()


# ----------------------------------------------------------------------------- results
@dataclass
class PointResult:
    """One point's outcome: per-replication KPIs (incremental ones included) or its error."""

    index: int
    id: str
    labels: dict[str, str]
    status: str  # "ok" | "failed"
    kpis: list[dict] = field(default_factory=list)
    error: str | None = None

    def mean(self, kpi: str) -> float | None:
        """Mean of a KPI over replications (None when n/a in every one)."""
        m = mean_ci([k.get(kpi) for k in self.kpis])[0]
        return None if math.isnan(m) else m

    def label(self) -> str:
        """The point's factor values as one line."""
        return ", ".join(f"{k}={short_label(v)}" for k, v in self.labels.items())


@dataclass
class SweepResult:
    """A finished sweep: every point's result, in design order."""

    plan: SweepPlan
    points: list[PointResult]
    resumed: int = 0
    computed: int = 0
    wall_s: float = 0.0

    def failures(self) -> list[PointResult]:
        """Points that failed."""
        return [p for p in self.points if p.status != "ok"]

    def kpi_names(self) -> list[str]:
        """Every KPI any point reports, in first-seen order."""
        names: dict[str, None] = {}
        for p in self.points:
            for k in p.kpis:
                names.update(dict.fromkeys(k))
        return list(names)

    def rows(self) -> list[dict]:
        """Tidy rows: one per point x KPI with mean, 95% CI, sd and replications."""
        rows = []
        kpis = self.kpi_names()
        for p in self.points:
            if p.status != "ok":
                continue
            for kpi in kpis:
                values = [k.get(kpi) for k in p.kpis]
                vals = [v for v in values if v is not None]
                m, lo, hi = mean_ci(vals)
                sd = float(np.std(vals, ddof=1)) if len(vals) > 1 else math.nan
                rows.append({"point": p.index, "point_id": p.id, **p.labels, "kpi": kpi,
                             "mean": m, "ci_low": lo, "ci_high": hi, "sd": sd,
                             "reps": len(vals)})
        return rows

    def gate_failures(self, gates: Iterable[Gate]) -> list[tuple[Gate, PointResult, float | None]]:
        """(gate, point, mean) for every successful point a gate fails on."""
        return [(g, p, p.mean(g.kpi)) for g in gates for p in self.points
                if p.status == "ok" and not g.passes(p.mean(g.kpi))]

    def sobol(self) -> list[dict]:
        """First-order and total Sobol indices with 95% CIs, per KPI (Sobol designs only).

        A KPI is analysed when every point succeeded and its mean varies and is finite.
        """
        if self.plan.design.kind != "sobol" or self.failures():
            return []
        from SALib.analyze import sobol

        problem = self.plan.design.problem()
        rows = []
        for kpi in self.kpi_names():
            y = np.array([np.nan if (m := p.mean(kpi)) is None else m for p in self.points])
            if not np.isfinite(y).all() or np.ptp(y) <= 1e-12 * max(1.0, np.abs(y).max()):
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                si = sobol.analyze(problem, y, calc_second_order=False, conf_level=0.95,
                                   seed=self.plan.seed % 2**32, print_to_console=False)
            order = np.argsort(-np.asarray(si["ST"]), kind="stable")
            rank = {int(j): r + 1 for r, j in enumerate(order)}
            for j, name in enumerate(problem["names"]):
                s1, s1c, st, stc = (float(si[k][j]) for k in ("S1", "S1_conf", "ST", "ST_conf"))
                rows.append({"kpi": kpi, "factor": name, "rank": rank[j], "S1": s1,
                             "S1_ci_low": s1 - s1c, "S1_ci_high": s1 + s1c, "ST": st,
                             "ST_ci_low": st - stc, "ST_ci_high": st + stc})
        return rows


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
            diff = sorted(k for k in set(stored) | set(definition)
                          if stored.get(k) != definition.get(k))
            raise SweepError(f"{out} holds a different sweep (differs in: {', '.join(diff)}); "
                             "it resumes only the same definition. Use another --out or "
                             "delete the folder")
    elif out.exists() and any(out.iterdir()):
        raise SweepError(f"{out} exists and is not a sweep folder (no sweep.json); use another "
                         "--out")
    (out / "points").mkdir(parents=True, exist_ok=True)
    if plan.baseline:
        (out / "baselines").mkdir(exist_ok=True)
    for tmp in [*out.glob("points/.*.tmp"), *out.glob("baselines/.*.tmp")]:
        pid = tmp.name.rsplit(".", 2)[-2]  # left by a killed sweep
        if not (pid.isdigit() and _alive(int(pid))):
            tmp.unlink(missing_ok=True)
    if not meta_path.exists():
        atomic_write_text(meta_path, to_json({"definition": definition,
                                              "scenario_path": plan.scenario_path}))


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


def run_sweep(plan: SweepPlan, out: str | Path, *, workers: int = 1, scheduler=None,
              threads: int | None = None, progress: bool = False) -> SweepResult:
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
                tasks.append(Task("baseline", stem, simulate_baseline,
                                  (sc, s_k, plan.seed, plan.shoppers, str(plan.base_dir))))
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
            tasks.append(Task("point", pid, evaluate_function,
                              (plan.evaluate, plan.points[i], seeds)))
    bar = tqdm(total=len(unique), initial=len(done), unit="point", desc="sweep",
               disable=not progress, dynamic_ncols=True)
    computed = 0

    parts: dict[str, dict[int, tuple]] = {}  # point -> replication -> outcome, until complete

    def on_done(task: Task, outcome: tuple) -> None:
        nonlocal computed
        ok = outcome[0] == "ok"
        if task.kind == "baseline":
            key, k = task.key.rsplit("-", 1)
            record = {"baseline": key, "rep": int(k), "seed": task.arg[1],
                      "status": "ok" if ok else "failed"}
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
        record = {"point": pid, "overrides": _jsonable(plan.points[i]),
                  "labels": plan.labels(i), "status": "ok" if ok else "failed",
                  "seeds": seeds, "baseline": base_keys[i]}
        record.update({"kpis": outcome[1]} if ok else {"error": outcome[1],
                                                       "traceback": outcome[2]})
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
            bases = [_read_json(out / "baselines" / f"{rec['baseline']}-{k}.json")
                     for k in range(plan.reps)]
            bad = next((b for b in bases if b is None or b.get("status") != "ok"), False)
            if bad is not False:
                why = "not run" if bad is None else bad.get("error")
                points.append(PointResult(i, pid, labels, "failed",
                                          error=f"baseline failed: {why}"))
                continue
            kpis = [add_incremental(k, b) for k, b in zip(kpis, bases, strict=True)]
        points.append(PointResult(i, pid, labels, "ok", kpis))
    return SweepResult(plan, points)


# ----------------------------------------------------------------------------- outputs
def _num(x) -> str:
    """A number for CSV: 12 significant digits, empty when missing (deterministic text)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    if isinstance(x, bool):
        return str(int(x))
    if isinstance(x, int):
        return str(x)
    return format(float(x), ".12g")


def short_label(text: str) -> str:
    """A factor value for people: long decimals cut to four significant digits."""
    try:
        x = float(text)
    except ValueError:
        return text
    return f"{x:.4g}" if "." in text and len(text) > 8 else text


def _short(x) -> str:
    """A number for people: thousands grouped, four significant digits below 1000."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.4g}"


def best_points(result: SweepResult, top: int = 3) -> list[tuple[str, str, list[PointResult]]]:
    """For each ranked KPI: (kpi, 'max'|'min', best points)."""
    names = result.kpi_names()
    ranked = [(k, d) for k, d in BEST if k in names] or [(k, max) for k in names]
    out = []
    for kpi, direction in ranked:
        ok = [p for p in result.points if p.status == "ok" and p.mean(kpi) is not None]
        ok.sort(key=lambda p: (-p.mean(kpi) if direction is max else p.mean(kpi), p.index))
        out.append((kpi, direction.__name__, ok[:top]))
    return out


def summary_markdown(result: SweepResult, gates: list[Gate] = (), sobol_rows=None) -> str:
    """The human-readable summary: design, status, gates, best points, Sobol ranking, failures."""
    plan = result.plan
    d = plan.design
    failures = result.failures()
    lines = [f"# Sweep: {plan.source.get('scenario') or plan.source.get('function')}", ""]
    what = {"grid": "full grid", "random": f"Latin hypercube of {d.n} points",
            "sobol": f"Sobol (Saltelli) design, N = {d.n}, {d.n * (len(d.factors) + 2)} points"}
    lines.append(f"* design: {what[d.kind]}; {len(plan.points)} points x {plan.reps} "
                 f"replication(s), seed {plan.seed}"
                 + (f", {plan.shoppers:,} shoppers" if plan.shoppers else ""))
    for f in d.factors:
        rng = ", ".join(f.texts) if f.texts else f"{f.low} .. {f.high}" + (
            " (integers)" if f.integer else "")
        lines.append(f"* `{f.path}`: {rng}")
    for path, value in plan.fixed.items():
        lines.append(f"* `{path}` = {value_label(value)} at every point")
    if plan.baseline:
        lines.append("* every point runs the same replication seeds (common random numbers) "
                     "against one no-campaign baseline per replication")
    lines.append(f"* points: {len(plan.points) - len(failures)} ok, {len(failures)} failed")
    lines.append("")
    if gates:
        lines += ["## Gates", ""]
        fails = result.gate_failures(gates)
        for g in gates:
            bad = [(p, v) for gg, p, v in fails if gg is g]
            verdict = "pass" if not bad else f"FAIL at {len(bad)} point(s)"
            lines.append(f"* `{g.text}`: {verdict}")
            for p, v in bad:
                lines.append(f"  * point {p.index} ({p.label()}): {g.kpi} = {_short(v)}")
        lines.append("")
    cols = [f.path for f in d.factors]
    lines += ["## Best points per KPI", "",
              "| KPI | best | point | " + " | ".join(f"`{c}`" for c in cols)
              + " | mean | 95% CI |",
              "|---|---|---|" + "---|" * len(cols) + "---|---|"]
    for kpi, direction, pts in best_points(result):
        for p in pts:
            m, lo, hi = mean_ci([k.get(kpi) for k in p.kpis])
            lines.append(f"| {kpi} | {direction} | {p.index} | "
                         + " | ".join(short_label(p.labels[c]) for c in cols)
                         + f" | {_short(m)} | [{_short(lo)}, {_short(hi)}] |")
    lines.append("")
    if d.kind == "sobol":
        rows = result.sobol() if sobol_rows is None else sobol_rows
        lines += ["## Sobol indices (ranked by total index)", ""]
        if not rows:
            lines += ["Not computed: " + ("some points failed." if failures else
                                          "no KPI varies across the points."), ""]
        shown = [k for k, _ in BEST if any(r["kpi"] == k for r in rows)] or list(
            dict.fromkeys(r["kpi"] for r in rows))
        for kpi in shown:
            lines += [f"### {kpi}", "", "| rank | factor | S1 | S1 95% CI | ST | ST 95% CI |",
                      "|---|---|---|---|---|---|"]
            for r in sorted((r for r in rows if r["kpi"] == kpi), key=lambda r: r["rank"]):
                lines.append(f"| {r['rank']} | `{r['factor']}` | {r['S1']:.3f} | "
                             f"[{r['S1_ci_low']:.3f}, {r['S1_ci_high']:.3f}] | {r['ST']:.3f} | "
                             f"[{r['ST_ci_low']:.3f}, {r['ST_ci_high']:.3f}] |")
            lines.append("")
        if rows:
            lines += ["All analysed KPIs are in `sobol.csv`.", ""]
    lines += ["## Failures", ""]
    if not failures:
        lines += ["None.", ""]
    for p in failures:
        first_line = (p.error or "unknown error").splitlines()[0]
        lines.append(f"* point {p.index} ({p.label()}), `points/{p.id}.json`: {first_line}")
    if failures:
        lines += ["", "Run the same command again to retry failed points; finished points are "
                  "kept.", ""]
    lines += ["## Files", "",
              "`sweep.csv` one row per point x KPI (mean, 95% CI, sd, replications); "
              "`points/<id>.json` each point's overrides and per-replication KPIs"
              + ("; `baselines/` the no-campaign GMV per replication" if plan.baseline else "")
              + ("; `sobol.csv` Sobol indices" if d.kind == "sobol" else "")
              + "; `plots/` charts; `sweep.json` the sweep's definition.", ""]
    return "\n".join(lines)


_FLOAT_COLS = ("mean", "ci_low", "ci_high", "sd")


def _write_rows(path: Path, rows: list[dict], columns: list[str]) -> None:
    """CSV with the given columns (the header alone when there are no rows), atomically."""
    if rows:
        write_csv(path, rows)
    else:
        atomic_write_text(path, ",".join(columns) + "\n")


def write_outputs(result: SweepResult, out: str | Path, gates: list[Gate] = (),
                  plots: bool = True) -> None:
    """Write sweep.csv, summary.md, summary.json, sobol.csv (Sobol designs) and plots."""
    out = Path(out)
    factor_cols = [f.path for f in result.plan.design.factors]
    _write_rows(out / "sweep.csv", [{k: (_num(v) if k in _FLOAT_COLS else v) for k, v in r.items()}
                                    for r in result.rows()],
                ["point", "point_id", *factor_cols, "kpi", "mean", "ci_low", "ci_high", "sd",
                 "reps"])
    sobol_rows = result.sobol()
    if result.plan.design.kind == "sobol":
        _write_rows(out / "sobol.csv", [{k: (_num(v) if isinstance(v, float) else v)
                                         for k, v in r.items()} for r in sobol_rows],
                    ["kpi", "factor", "rank", "S1", "S1_ci_low", "S1_ci_high", "ST", "ST_ci_low",
                     "ST_ci_high"])
    fails = result.gate_failures(gates)
    summary = {
        "points": len(result.points), "failed": [
            {"point": p.index, "id": p.id, "labels": p.labels, "error": p.error}
            for p in result.failures()],
        "gates": [{"gate": g.text, "failing_points": [
            {"point": p.index, "id": p.id, "labels": p.labels, "value": v}
            for gg, p, v in fails if gg is g]} for g in gates],
    }
    atomic_write_text(out / "summary.json", to_json(summary))
    atomic_write_text(out / "summary.md", summary_markdown(result, list(gates), sobol_rows))
    if plots:
        from simulator.sweep_plots import plot_sweep

        plot_sweep(result, out / "plots", sobol_rows)
