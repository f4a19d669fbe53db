"""Sensitivity over assumptions: which one decides between two strategies (Sobol indices).

The factors of the design are the scenarios' assumptions (`scenario.assumptions`), each sampled
as its quantile u in (0, 1) and mapped through its distribution (`Assumption.at`): Sobol indices
of f(F^-1(U)) over U are those of f over the assumptions as distributed. Posterior draws from one
file are one factor (one row for all their columns). At each point every strategy and the
baseline run with the same seeds (common random numbers) and the evaluated KPIs are each
strategy's incremental GMV, profit and ROI over the baseline and, for every pair, their
differences `A-B.incremental_gmv`, ...: their total indices say which assumption the choice
between A and B hangs on. The sweep machinery (`run_sweep`: workers, Dask, resume) runs it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from simulator.analysis.experiment import replicate
from simulator.analysis.increments import increments
from simulator.scenario.load import assumptions_of, load_scenario, with_values
from simulator.sweeps.design import Design, Factor, SweepError
from simulator.sweeps.plan import plan_function_sweep

EDGE = 1e-6  # quantiles are kept inside (EDGE, 1 - EDGE): an unbounded tail has no 0 or 1
KPIS = ("incremental_gmv", "incremental_profit", "roi")


@functools.lru_cache(maxsize=4)
def _loaded(paths: tuple[str, ...]) -> tuple:
    """The scenarios and their resolved assumptions (once per worker process)."""
    scenarios = [load_scenario(p) for p in paths]
    found = [assumptions_of(sc, Path(p).parent) for sc, p in zip(scenarios, paths, strict=True)]
    return scenarios, found


def factors_of(paths: tuple[str, ...]) -> tuple[Factor, ...]:
    """One factor per distinct assumption key (a path, or a file of joint draws) of the files."""
    _, found = _loaded(paths)
    keys = sorted({a.key for f in found for a in f})
    if not keys:
        raise SweepError("no scenario states an assumption; nothing to analyse")
    return tuple(Factor(key, low=0.0, high=1.0) for key in keys)


@dataclass(frozen=True)
class StrategiesAt:
    """Evaluate a baseline and strategies at one point of assumption quantiles (picklable)."""

    paths: tuple[str, ...]  # baseline first
    shoppers: int | None = None

    def __call__(self, quantiles: dict[str, float], seeds: list[int]) -> list[dict]:
        """One KPI dict per seed: each strategy's increments and every pair's differences."""
        scenarios, found = _loaded(self.paths)
        drawn = [
            with_values(sc, _values(f, quantiles), Path(p).parent)
            for sc, f, p in zip(scenarios, found, self.paths, strict=True)
        ]
        names = [Path(p).stem for p in self.paths]
        out = []
        for s in seeds:
            res = replicate(
                drawn,
                names,
                reps=1,
                seed=s,
                shoppers=self.shoppers,
                base_dirs=[Path(p).parent for p in self.paths],
            )
            gains = {r.name: increments(r, res[0]) for r in res[1:]}
            kpis = {}
            for a in names[1:]:
                kpis |= {f"{a}.{k}": gains[a][k][0] for k in KPIS if k in gains[a]}
                for b in names[names.index(a) + 1 :]:
                    kpis |= {
                        f"{a}-{b}.{k}": _minus(gains[a][k][0], gains[b][k][0])
                        for k in KPIS
                        if k in gains[a] and k in gains[b]
                    }
            out.append(kpis)
        return out


def _values(found: tuple, quantiles: dict[str, float]) -> dict[str, float]:
    """An assumption's value at its factor's quantile (kept off the edges)."""
    return {a.path: a.at(min(max(quantiles[a.key], EDGE), 1 - EDGE)) for a in found}


def _minus(a: float | None, b: float | None) -> float | None:
    """A - b, None when either is undefined (a ROI without incremental cost)."""
    return None if a is None or b is None else a - b


def plan_assumption_sweep(
    paths: list[str], n: int, *, reps: int = 1, seed: int = 0, shoppers: int | None = None
):
    """A Sobol sweep (Saltelli, N x (factors + 2) points) over the scenarios' assumptions."""
    key = tuple(str(p) for p in paths)
    design = Design("sobol", factors_of(key), n=n, seed=seed)
    return plan_function_sweep(design, StrategiesAt(key, shoppers), reps=reps, seed=seed)
