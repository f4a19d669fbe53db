"""The fit: a bounded Nelder-Mead search of the parameters closest to the targets.

`FitResult` holds the start and the fitted point, the sensitivities of each target to each
parameter there, and says why a target is not met.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from simulator.fitting.targets.measure import extensive
from simulator.fitting.targets.problem import Evaluation, Problem
from simulator.formatting import round_sig

AT_BOUND = 1e-3  # a parameter within this share of its range from a bound is "at the bound"


class _Budget(Exception):
    """The evaluation budget is spent."""


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
