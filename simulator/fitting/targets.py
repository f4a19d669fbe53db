"""Fitting a scenario to campaign targets: the method of simulated moments.

A targets file (docs/calibration.md) names KPI targets, each with a value, a tolerance, a weight,
the days it is measured over and optionally a comparison with the no-campaign baseline, and the
free parameters: dotted scenario paths with bounds. The distance of a parameter vector is
Σ weight × ((achieved − target) / tolerance)², where "achieved" is the KPI's mean over R
replications. Every evaluation runs the same replication seeds (common random numbers), so two
nearby parameter vectors meet the same shoppers and the same draws and the distance changes only
where the parameters act: it is a deterministic, nearly smooth function of the parameters and a
derivative-free simplex search can follow it.

The search is Nelder-Mead (adaptive for three or more parameters) in the unit box: each parameter
is mapped linearly onto [0, 1] by its bounds and scipy clips the simplex to the box, so a
parameter can end exactly on a bound, where the report says so. Nelder-Mead suits this problem:
it needs no gradients (the KPIs are counts, flat at the scale of one shopper), it moves several
parameters at once (targets here depend on several parameters each), and it converges in a few
dozen evaluations per parameter, where differential evolution would need hundreds.

Counts and money (new members, GMV, contacts, ...) grow with the number of shoppers; shares,
rates and ratios do not. The fit runs at `shoppers` and reports extensive KPIs multiplied by
population / shoppers, where population is the targets file's `population` (the store size its
counts describe) or else the scenario's `population.shoppers`.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from simulator.analysis.kpis import compute_kpis, kpi_names, ratio
from simulator.analysis.stats import mean_ci
from simulator.engine.counters import Layout
from simulator.engine.plan import n_capped
from simulator.engine.population import draw_population
from simulator.engine.rng import replication_seed
from simulator.engine.run import RunResult, no_campaign, simulate
from simulator.scenario.schema import (
    Scenario,
    ScenarioError,
    _read_with_parents,
    apply_override,
    load_scenario,
    params_base_dir,
    read_yaml,
)

# KPIs that need the no-campaign run itself (never compared with it again)
NEEDS_BASELINE = frozenset({"baseline_gmv", "incremental_gmv", "incremental_member_gmv", "roi"})
# KPIs that do not grow with the number of shoppers; every other KPI is a count or money
INTENSIVE = frozenset(
    {
        "member_gmv_penetration",
        "new_member_first_purchase_rate",
        "old_member_gmv_share",
        "member_arpu",
        "old_member_arpu",
        "non_member_arpu",
        "old_member_premium",
        "presale_member_gmv_share",
        "roi",
        "old_customer_share",
        "old_member_order_share",
    }
)
# KPIs computed here from the daily counters, with what they mean
DERIVED = {
    "new_customers": "first purchases ever (shoppers who had never bought from the store)",
    "old_customers": "purchases by shoppers who had bought before (orders − new_customers)",
    "old_customer_share": "old_customers / orders: on one day, the share of that day's buyers "
    "who had bought before",
    "old_member_order_share": "orders by old members / orders: on one day, the share of that "
    "day's buyers who were members before the campaign",
}
REACH = "reach_touch_"  # reach_touch_<touch>: most shoppers the touch contacted on one day
MISSING_PENALTY = 1e6  # distance term of a target whose KPI is undefined in every replication
AT_BOUND = 1e-3  # a parameter within this share of its range from a bound is "at the bound"


class TargetsError(ScenarioError):
    """Bad targets file: one line per problem, FILE:LINE: field: what is wrong."""


# ----------------------------------------------------------------------------- file schema
class _Strict(BaseModel):
    """Closed mapping: unknown keys and type coercions are errors."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


Finite = Annotated[float, Field(allow_inf_nan=False)]


class TargetSpec(_Strict):
    """One KPI target: its value, tolerance and weight, where it is measured, against what."""

    kpi: str
    value: Finite
    tolerance: Annotated[float, Field(gt=0.0)]
    phases: Annotated[list[str], Field(min_length=1)] | None = None
    relative_to_baseline: bool | Literal["ratio", "difference"] = False
    weight: Annotated[float, Field(ge=0.0)] = 1.0
    note: str = ""

    @property
    def compare(self) -> str | None:
        """None, "ratio" (run / baseline) or "difference" (run − baseline)."""
        if self.relative_to_baseline is True:
            return "ratio"
        return self.relative_to_baseline or None


class ParamSpec(_Strict):
    """A free parameter's bounds and optional starting value (default: the scenario's)."""

    bounds: Annotated[list[Finite], Field(min_length=2, max_length=2)]
    start: Finite | None = None

    @model_validator(mode="after")
    def _ordered(self) -> ParamSpec:
        lo, hi = self.bounds
        if not lo < hi:
            raise ValueError(f"bounds [{lo}, {hi}]: expected lower < upper")
        if self.start is not None and not lo <= self.start <= hi:
            raise ValueError(f"start {self.start} is outside the bounds [{lo}, {hi}]")
        return self


class TargetsFile(_Strict):
    """A targets file: what to reach, and which scenario values may move to reach it."""

    description: str = ""
    population: Annotated[int, Field(ge=1)] | None = None
    targets: Annotated[dict[str, TargetSpec], Field(min_length=1)]
    params: Annotated[dict[str, ParamSpec], Field(min_length=1)]

    @field_validator("params", mode="before")
    @classmethod
    def _bounds_shorthand(cls, value: Any) -> Any:
        """`path: [lo, hi]` is short for `path: {bounds: [lo, hi]}`."""
        if isinstance(value, dict):
            return {k: {"bounds": v} if isinstance(v, list) else v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _some_weight(self) -> TargetsFile:
        if not any(t.weight > 0 for t in self.targets.values()):
            raise ValueError("every target has weight 0; expected at least one positive weight")
        return self


_FIELDS = {(): TargetsFile, ("targets",): TargetSpec, ("params",): ParamSpec}


def _problem(err: dict) -> tuple[tuple, str]:
    """One pydantic error as (path, message)."""
    loc = tuple(err["loc"])
    kind = err["type"]
    if len(loc) > 3 and loc[0] == "targets" and loc[2] == "relative_to_baseline":
        return loc[:3], (f"expected true, false, ratio or difference (got {err.get('input')!r})")
    if kind == "extra_forbidden":
        model = _FIELDS.get(loc[:1] if len(loc) == 3 else (), TargetsFile)
        return loc, f"unknown key '{loc[-1]}'; expected one of: {', '.join(model.model_fields)}"
    if kind == "missing":
        return loc, "required field is missing"
    msg = err["msg"].removeprefix("Value error, ")
    if "input" in err and not isinstance(err["input"], dict | list):
        msg = f"{msg} (got {err['input']!r})"
    return loc, msg


def read_targets(path: str | Path) -> tuple[TargetsFile, Any]:
    """Read and validate a targets file's own fields; TargetsError names file, line and field."""
    name = str(path)
    data, root = read_yaml(Path(path), TargetsError, "a mapping with targets and params")
    try:
        spec = TargetsFile.model_validate(data)
    except ValidationError as exc:
        problems = list(dict.fromkeys(_problem(e) for e in exc.errors()))
        raise TargetsError(name, problems, root) from None
    return spec, root


# ----------------------------------------------------------------------------- measuring
def _slice(run: RunResult, mask: np.ndarray) -> RunResult:
    """The run restricted to the selected days (KPIs of the slice are over those days)."""
    keep = np.flatnonzero(mask)
    return dataclasses.replace(
        run,
        dates=[run.dates[d] for d in keep],
        phases=[run.phases[d] for d in keep],
        presale=run.presale[mask],
        daily_int=run.daily_int[mask],
        daily_float=run.daily_float[mask],
        final=None,
    )


def measure(run: RunResult, kpi: str, baseline: RunResult | None = None) -> float | None:
    """A KPI of a (sliced) run: compute_kpis key, DERIVED one, reach_touch_<t> or counter."""
    if kpi in DERIVED:
        first = float(run.total("first_purchases"))
        orders = float(
            sum(run.total(f"orders_{k}") for k in ("old_member", "new_member", "nonmember"))
        )
        return {
            "new_customers": first,
            "old_customers": orders - first,
            "old_customer_share": ratio(orders - first, orders),
            "old_member_order_share": ratio(run.total("orders_old_member"), orders),
        }[kpi]
    if kpi.startswith(REACH):
        daily = run.series("contacts_touch_" + kpi.removeprefix(REACH))
        return float(daily.max()) if len(daily) else 0.0
    value = compute_kpis(run, baseline).get(kpi, ...)
    if value is not ...:
        return value
    return float(run.total(kpi))


def target_value(t: TargetSpec, run: RunResult, baseline: RunResult | None) -> float | None:
    """A target's KPI in one replication: over its phases, and against the baseline if asked."""
    mask = np.isin(run.phases, t.phases) if t.phases else np.ones(len(run.dates), bool)
    r = _slice(run, mask)
    b = _slice(baseline, mask) if baseline is not None else None
    x = measure(r, t.kpi, b if t.kpi in NEEDS_BASELINE else None)
    if t.compare is None or x is None:
        return x
    y = measure(b, t.kpi)
    if y is None:
        return None
    return ratio(x, y) if t.compare == "ratio" else x - y


def extensive(t: TargetSpec) -> bool:
    """Whether the target grows with the number of shoppers (counts and money)."""
    return t.compare != "ratio" and t.kpi not in INTENSIVE


def known_kpis(sc: Scenario) -> list[str]:
    """Every KPI name a target may use with this scenario."""
    lay = Layout(tuple(sc.benefits), tuple(sc.channels), tuple(sc.plan))
    names = kpi_names(sc) + list(DERIVED) + [REACH + t for t in sc.plan]
    return names + [n for n in lay.int_names() + lay.float_names() if n not in names]


def _get(obj: Any, keys: list[str]) -> Any:
    """The value at a dotted path in a dumped scenario (None where absent)."""
    for key in keys:
        if isinstance(obj, dict):
            obj = next((v for k, v in obj.items() if str(k) == key), None)
        elif isinstance(obj, list) and key.isdigit() and int(key) < len(obj):
            obj = obj[int(key)]
        else:
            return None
    return obj


def check_targets(
    spec: TargetsFile, root: Any, name: str, scenario_path: str | Path, sc: Scenario
) -> dict[str, float]:
    """Check the targets file against the scenario; return each parameter's start value."""
    problems: list[tuple[tuple, str]] = []
    kpis = known_kpis(sc)
    phases = [ph.name for ph in sc.calendar.phases]
    for tname, t in spec.targets.items():
        where = ("targets", tname)
        if t.kpi not in kpis:
            close = difflib.get_close_matches(t.kpi, kpis, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            problems.append(
                (
                    where + ("kpi",),
                    f"unknown KPI '{t.kpi}' for this scenario{hint} "
                    "(compute_kpis keys in docs/kpis.md, "
                    f"{', '.join(DERIVED)}, reach_touch_<touch> or a daily counter)",
                )
            )
        if t.compare and t.kpi in NEEDS_BASELINE:
            problems.append(
                (
                    where + ("relative_to_baseline",),
                    f"'{t.kpi}' already compares "
                    "with the baseline; expected relative_to_baseline: false",
                )
            )
        for k, ph in enumerate(t.phases or []):
            if ph not in phases:
                problems.append(
                    (
                        where + ("phases", k),
                        f"unknown phase '{ph}'; the scenario "
                        f"defines: {', '.join(phases) or 'none'}",
                    )
                )
    dumped = sc.model_dump()
    starts = {}
    for path, p in spec.params.items():
        for bound in p.bounds:
            try:
                load_scenario(scenario_path, {path: float(bound)})
            except ScenarioError as exc:
                why = "; ".join(f"{'.'.join(map(str, q))}: {m}" for q, m in exc.problems)
                problems.append((("params", path), f"the scenario rejects {bound}: {why}"))
                break
        else:
            current = _get(dumped, path.split("."))
            if p.start is not None:
                starts[path] = p.start
            elif isinstance(current, int | float) and not isinstance(current, bool):
                starts[path] = min(max(float(current), p.bounds[0]), p.bounds[1])
            else:
                starts[path] = 0.5 * (p.bounds[0] + p.bounds[1])
    if problems:
        raise TargetsError(name, problems, root)
    return starts


# ----------------------------------------------------------------------------- evaluating
@dataclass
class Evaluation:
    """Achieved targets at one parameter vector (target units: extensive KPIs rescaled)."""

    theta: np.ndarray
    values: list[list[float]]  # [target][replication], undefined ones left out
    mean: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    distance: float


@dataclass
class Problem:
    """A scenario, its targets and the fixed replication seeds the distance is measured on."""

    scenario_path: Path
    targets_path: Path
    spec: TargetsFile
    scenario: Scenario
    starts: dict[str, float]
    shoppers: int
    reps: int
    seed: int
    _draws: OrderedDict = field(default_factory=OrderedDict, repr=False)
    _baselines: OrderedDict = field(default_factory=OrderedDict, repr=False)

    @property
    def names(self) -> list[str]:
        """Free parameters, in file order."""
        return list(self.spec.params)

    @property
    def bounds(self) -> np.ndarray:
        """[parameter, (lower, upper)]."""
        return np.array([p.bounds for p in self.spec.params.values()], float)

    @property
    def population(self) -> int:
        """The store size the count targets describe."""
        return self.spec.population or self.scenario.population.shoppers

    @property
    def scale(self) -> float:
        """Multiplier from simulated counts to target units."""
        return self.population / self.shoppers

    @property
    def needs_baseline(self) -> bool:
        """Whether some target needs the no-campaign run."""
        return any(t.compare or t.kpi in NEEDS_BASELINE for t in self.spec.targets.values())

    @property
    def base_dir(self) -> Path:
        """Folder a params_file is relative to (that of the file naming it)."""
        return params_base_dir(self.scenario_path)

    def scenario_at(self, theta) -> Scenario:
        """The scenario with the parameters set to theta, validated like any override."""
        return load_scenario(
            self.scenario_path, dict(zip(self.names, map(float, theta), strict=True))
        )

    def _cached(self, cache: OrderedDict, key: str, make):
        """A small LRU: populations and baselines only change with population parameters."""
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
        value = make()
        cache[key] = value
        while len(cache) > 3:
            cache.popitem(last=False)
        return value

    def evaluate(self, theta) -> Evaluation:
        """Run R replications at theta (fixed seeds) and measure every target."""
        sc = self.scenario_at(theta)
        base_dir = self.base_dir
        pop_key = sc.population.model_dump_json() + f"|{n_capped(sc)}"
        seeds = [replication_seed(self.seed, k) for k in range(self.reps)]
        draws = self._cached(
            self._draws,
            pop_key,
            lambda: [
                draw_population(sc.population, s, self.shoppers, n_capped(sc), base_dir)
                for s in seeds
            ],
        )
        specs = list(self.spec.targets.values())
        values: list[list[float]] = [[] for _ in specs]
        bases = None
        if self.needs_baseline:
            bases = self._cached(
                self._baselines,
                pop_key + sc.calendar.model_dump_json(),
                lambda: [
                    simulate(
                        no_campaign(sc),
                        seed=s,
                        shoppers=self.shoppers,
                        base_dir=base_dir,
                        population=d,
                    )
                    for s, d in zip(seeds, draws, strict=True)
                ],
            )
        for k, (s, d) in enumerate(zip(seeds, draws, strict=True)):
            run = simulate(sc, seed=s, shoppers=self.shoppers, base_dir=base_dir, population=d)
            for j, t in enumerate(specs):
                v = target_value(t, run, bases[k] if bases else None)
                if v is not None and math.isfinite(v):
                    values[j].append(v * self.scale if extensive(t) else v)
        stats = np.array([mean_ci(v) for v in values]).reshape(len(specs), 3)
        distance = 0.0
        for t, m in zip(specs, stats[:, 0], strict=True):
            z2 = ((m - t.value) / t.tolerance) ** 2 if math.isfinite(m) else MISSING_PENALTY
            distance += t.weight * z2
        return Evaluation(
            np.asarray(theta, float), values, stats[:, 0], stats[:, 1], stats[:, 2], float(distance)
        )


def load_problem(
    scenario_path: str | Path,
    targets_path: str | Path,
    *,
    shoppers: int | None = None,
    reps: int = 4,
    seed: int | None = None,
) -> Problem:
    """Read the scenario and targets, check them together; ScenarioError/TargetsError if bad."""
    sc = load_scenario(scenario_path)
    spec, root = read_targets(targets_path)
    starts = check_targets(spec, root, str(targets_path), scenario_path, sc)
    n = int(shoppers or min(100_000, sc.population.shoppers))
    return Problem(
        Path(scenario_path),
        Path(targets_path),
        spec,
        sc,
        starts,
        n,
        int(reps),
        int(sc.seed if seed is None else seed),
    )


# ----------------------------------------------------------------------------- fitting
class _Budget(Exception):
    """The evaluation budget is spent."""


def round_sig(x: float, digits: int = 4) -> float:
    """The value rounded to `digits` significant digits (as fitted values are written)."""
    return float(f"{x:.{digits}g}") if x else 0.0


@dataclass
class FitResult:
    """Everything the fit reports."""

    problem: Problem
    start: Evaluation
    best: Evaluation
    evaluations: int
    converged: bool
    stop_reason: str
    wall_s: float
    sensitivity: np.ndarray  # [parameter, target]: change of the achieved mean for `steps`
    steps: np.ndarray  # [parameter]: the step taken (signed, in parameter units)
    trace: list[tuple[list[float], float]] = field(default_factory=list)

    @property
    def met(self) -> np.ndarray:
        """Per target: achieved mean within tolerance of the target."""
        specs = list(self.problem.spec.targets.values())
        return np.array(
            [
                math.isfinite(m) and abs(m - t.value) <= t.tolerance
                for t, m in zip(specs, self.best.mean, strict=True)
            ]
        )

    @property
    def all_met(self) -> bool:
        """Whether every target is met."""
        return bool(self.met.all())

    def at_bound(self) -> list[str | None]:
        """Per parameter: "lower", "upper" or None."""
        out = []
        for x, (lo, hi) in zip(self.best.theta, self.problem.bounds, strict=True):
            tol = AT_BOUND * (hi - lo)
            out.append("lower" if x <= lo + tol else "upper" if x >= hi - tol else None)
        return out

    def diagnosis(self, j: int) -> str:
        """Why target j is not met, from the sensitivities at the fitted point."""
        t = list(self.problem.spec.targets.values())[j]
        m = self.best.mean[j]
        if not math.isfinite(m):
            return "the KPI is undefined (a zero denominator) in every replication"
        need = 1.0 if t.value > m else -1.0
        bounds = self.at_bound()
        blocked, free = [], []
        order = np.argsort(-np.abs(self.sensitivity[:, j]))
        for i in order:  # parameters that move it by a twentieth of its tolerance or more
            d = self.sensitivity[i, j]
            if not abs(d) >= 0.05 * t.tolerance:
                continue
            name = self.problem.names[i]
            up = need * d * np.sign(self.steps[i]) > 0  # the parameter should go up
            side = "upper" if up else "lower"
            text = f"{name} {'higher' if up else 'lower'}"
            if bounds[i] == side:
                lo, hi = self.problem.bounds[i]
                blocked.append(f"{text}, but it is at its {side} bound {hi if up else lo:g}")
            else:
                free.append(text)
        word = "higher" if need > 0 else "lower"
        if not blocked and not free:
            return (
                f"needs to be {word}, but no free parameter moves it at the fitted point: "
                "add a parameter that acts on this KPI"
            )
        if not free:
            return f"unreachable within the bounds: needs {'; '.join(blocked)}"
        return (
            f"needs to be {word}; {', '.join(free[:3])} would move it there but costs more "
            "on other targets (a trade-off between targets: check that they are "
            "consistent, or reweight)"
            + ("" if self.converged else f"; the search also stopped early ({self.stop_reason})")
        )

    def report(self) -> dict:
        """The fit as a JSON-ready dict (fit.json)."""
        p = self.problem
        specs = p.spec.targets
        targets = []
        for j, (name, t) in enumerate(specs.items()):
            m = self.best.mean[j]
            targets.append(
                {
                    "name": name,
                    "kpi": t.kpi,
                    "phases": t.phases,
                    "compare_with_baseline": t.compare,
                    "extensive": extensive(t),
                    "target": t.value,
                    "tolerance": t.tolerance,
                    "weight": t.weight,
                    "achieved_mean": m,
                    "ci95": [self.best.ci_low[j], self.best.ci_high[j]],
                    "achieved_per_replication": self.best.values[j],
                    "start_mean": self.start.mean[j],
                    "z": (m - t.value) / t.tolerance if math.isfinite(m) else None,
                    "met": bool(self.met[j]),
                    "why_not_met": None if self.met[j] else self.diagnosis(j),
                    "note": t.note,
                }
            )
        bounds = self.at_bound()
        params = {
            name: {
                "start": float(s),
                "fitted": float(x),
                "bounds": list(map(float, b)),
                "at_bound": ab,
                "sensitivity_step": float(st),
                "sensitivity": {tn: float(v) for tn, v in zip(specs, row, strict=True)},
            }
            for name, s, x, b, ab, st, row in zip(
                p.names,
                self.start.theta,
                self.best.theta,
                p.bounds,
                bounds,
                self.steps,
                self.sensitivity,
                strict=True,
            )
        }
        return {
            "scenario": str(p.scenario_path),
            "targets_file": str(p.targets_path),
            "shoppers": p.shoppers,
            "population": p.population,
            "count_scale": p.scale,
            "reps": p.reps,
            "seed": p.seed,
            "method": "Nelder-Mead in the unit box (bounded), "
            "common random numbers, distance = sum weight*((achieved-target)/tolerance)^2",
            "evaluations": self.evaluations,
            "converged": self.converged,
            "stop_reason": self.stop_reason,
            "wall_s": round(self.wall_s, 3),
            "distance": self.best.distance,
            "start_distance": self.start.distance,
            "all_met": self.all_met,
            "params": params,
            "targets": targets,
            "trace": [{"params": th, "distance": dist} for th, dist in self.trace],
        }


def fit(problem: Problem, *, max_evals: int = 150, progress: bool = False) -> FitResult:
    """Search the bounds for the parameters closest to the targets (Nelder-Mead, CRN)."""
    from scipy.optimize import minimize
    from tqdm.auto import tqdm

    t0 = time.perf_counter()
    lo, hi = problem.bounds.T
    span = hi - lo
    u0 = (np.array([problem.starts[n] for n in problem.names]) - lo) / span
    cache: dict[tuple, Evaluation] = {}
    trace: list[tuple[list[float], float]] = []
    best: list[Evaluation] = []
    d = len(u0)
    bar = tqdm(total=max_evals + 1 + d, desc="fit", unit="eval", disable=not progress)

    def run(theta: np.ndarray, count: bool = True) -> Evaluation:
        key = tuple(np.round(theta, 12))
        if key not in cache:
            if count and len(trace) >= max_evals:
                raise _Budget
            ev = problem.evaluate(theta)
            cache[key] = ev
            trace.append(([float(x) for x in theta], ev.distance))
            if not best or ev.distance < best[0].distance:
                best[:] = [ev]
            bar.update(1)
            bar.set_postfix(best=f"{best[0].distance:.4g}", last=f"{ev.distance:.4g}")
        return cache[key]

    def objective(u: np.ndarray) -> float:
        return run(lo + np.clip(u, 0.0, 1.0) * span).distance

    start = run(lo + u0 * span)
    simplex = [u0] + [u0 + np.eye(d)[i] * (0.2 if u0[i] <= 0.8 else -0.2) for i in range(d)]
    try:
        res = minimize(
            objective,
            u0,
            method="Nelder-Mead",
            bounds=[(0.0, 1.0)] * d,
            options={
                "initial_simplex": np.array(simplex),
                "xatol": 2e-3,
                "fatol": 1e-3,
                "maxfev": 10 * max_evals,
                "adaptive": d >= 3,
            },
        )
        converged, reason = bool(res.success), str(res.message)
    except _Budget:
        converged, reason = False, f"evaluation budget of {max_evals} spent (--max-evals)"
    # the reported point is written with 4 significant digits: evaluate exactly that
    theta = np.clip([round_sig(x) for x in best[0].theta], lo, hi)
    final = run(theta, count=False)
    steps = np.where(theta + 0.05 * span <= hi, 0.05 * span, -0.05 * span)
    sens = np.zeros((d, len(problem.spec.targets)))
    for i in range(d):
        moved = run(theta + np.eye(d)[i] * steps[i], count=False)
        sens[i] = np.nan_to_num(moved.mean - final.mean)
    bar.close()
    return FitResult(
        problem,
        start,
        final,
        len(trace),
        converged,
        reason,
        time.perf_counter() - t0,
        sens,
        steps,
        trace,
    )


# ----------------------------------------------------------------------------- outputs
def fitted_yaml(result: FitResult, dest: str | Path) -> str:
    """A scenario file that extends the original and sets only the fitted values."""
    p = result.problem
    dest = Path(dest)
    values = dict(zip(p.names, map(float, result.best.theta), strict=True))
    data, _ = _read_with_parents(p.scenario_path)
    for path, v in values.items():
        apply_override(data, path, v)
    patch: dict = {}
    for path in p.names:  # a value inside a list is written as the whole list (lists replace)
        keys = path.split(".")
        node: Any = data
        for depth, key in enumerate(keys):
            if isinstance(node, list):
                keys = keys[:depth]
                break
            node = next(v for k, v in node.items() if str(k) == key)
        cur = patch
        for key in keys[:-1]:
            cur = cur.setdefault(key, {})
        cur[keys[-1]] = _get(data, keys)
    rel = Path(_relpath(p.scenario_path, dest.parent))
    status = (
        "all targets met"
        if result.all_met
        else (f"{int((~result.met).sum())} of {len(result.met)} targets NOT met")
    )
    head = [
        f"# {p.scenario.name} fitted to {p.targets_path} by `promosim calibrate targets`",
        f"# ({p.reps} replications x {p.shoppers:,} shoppers, seed {p.seed}; distance "
        f"{result.best.distance:.4g}, {status}; details in fit.json).",
        "# Only the fitted values differ from the scenario this file extends:",
    ]
    head += [f"#   {k}: {result.start.theta[i]:g} -> {values[k]:g}" for i, k in enumerate(p.names)]
    body = {"extends": rel.as_posix(), "name": f"{p.scenario.name} (fitted)", **patch}
    return "\n".join(head) + "\n" + yaml.safe_dump(body, sort_keys=False, allow_unicode=True)


def _relpath(target: Path, start: Path) -> str:
    """The path of target relative to start (both made absolute)."""
    import os

    return os.path.relpath(target.resolve(), start.resolve())


def plot_targets(result: FitResult, path: str | Path) -> None:
    """Achieved (mean, 95% CI) vs target with its tolerance band, one row per target."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    specs = list(result.problem.spec.targets.items())
    fig, axes = plt.subplots(
        len(specs), 1, figsize=(8, 1.15 * len(specs) + 0.9), squeeze=False, layout="constrained"
    )
    for j, (name, t) in enumerate(specs):
        ax = axes[j, 0]
        m, lo, hi = result.best.mean[j], result.best.ci_low[j], result.best.ci_high[j]
        ok = result.met[j]
        ax.axvspan(
            t.value - t.tolerance,
            t.value + t.tolerance,
            color="#2ca02c",
            alpha=0.18,
            lw=0,
            label="target ± tolerance",
        )
        ax.axvline(t.value, color="#2ca02c", lw=1.5, label="target")
        s = result.start.mean[j]
        if math.isfinite(s):
            ax.plot([s], [0], "o", mfc="none", mec="#777777", label="start")
        if math.isfinite(m):
            err = [[m - lo], [hi - m]] if math.isfinite(lo) else None
            ax.errorbar(
                [m],
                [0],
                xerr=err,
                fmt="o",
                color="#1f77b4" if ok else "#d62728",
                capsize=4,
                label="fitted (mean, 95% CI)",
            )
        pts = [
            x
            for x in (t.value - 1.6 * t.tolerance, t.value + 1.6 * t.tolerance, m, lo, hi, s)
            if math.isfinite(x)
        ]
        pad = 0.05 * (max(pts) - min(pts))
        ax.set_xlim(min(pts) - pad, max(pts) + pad)
        ax.set_yticks([])
        ax.set_ylim(-1, 1)
        where = f" [{'+'.join(t.phases)}]" if t.phases else ""
        vs = {"ratio": " / baseline", "difference": " − baseline"}.get(t.compare or "", "")
        ax.set_title(
            f"{name}: {t.kpi}{where}{vs} — {'met' if ok else 'NOT met'}",
            fontsize=9,
            loc="left",
            color="black" if ok else "#d62728",
        )
        ax.tick_params(labelsize=8)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    for ax in axes[1:, 0]:  # a later row may show a marker the first lacks (undefined start)
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(
        handles,
        labels,
        fontsize=7,
        loc="outside upper center",
        ncol=4,
        frameon=False,
        title=f"{result.problem.scenario.name}: achieved vs targets (distance "
        f"{result.best.distance:.3g})",
        title_fontsize=10,
    )
    fig.savefig(path, dpi=110)
    plt.close(fig)
