"""What an optimisation writes: optimize.json, trials.csv, pareto.csv, best.yaml, the confirmation.

`trial_rows` reads every trial back from the study; the best is the feasible complete trial with
the highest objective. `best_yaml` is the starting scenario (its `extends` chain merged) with the
best parameters applied and its relative paths (params_file, customers, assumption_files)
rewritten for the output folder, so `promosim validate`/`run` take it from there. `confirm` runs
fresh replications, on seeds other than the optimisation's, of the no-campaign baseline, the
starting plan and the best plan (`run_comparison`), and says whether the best plan's increment's
95% CI lies above the starting plan's (the winner's curse: the best of many noisy trials is
flattered by its own noise).
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from simulator.formatting import csv_number, table_number
from simulator.optimize.objective import Problem
from simulator.optimize.pareto import pareto_front
from simulator.scenario.load import apply_override, read_merged
from simulator.sweeps.keys import jsonable

CONFIRM_SEED_OFFSET = 1_000_003  # confirmation seeds: the optimisation's seed + this
ROW_KEYS = ("objective", "cost", "incremental_gmv", "incremental_profit", "feasible")


def trial_rows(study, problem: Problem) -> list[dict]:
    """One row per trial: number, state, params, the overrides' labels and its record."""
    rows = []
    for t in study.get_trials(deepcopy=False):
        a = t.user_attrs
        rows.append(
            {
                "number": t.number,
                "state": t.state.name.lower(),
                "params": dict(t.params),
                **{k: a.get(k) for k in ROW_KEYS},
                "feasible": bool(a.get("feasible", False)),
                "constraints": a.get("constraints"),
                "checks": a.get("checks", {}),
                "kpis": a.get("kpis", {}),
                "reason": a.get("reason"),
                "retry_of": a.get("retry_of"),
            }
        )
    return rows


def best_row(rows: list[dict]) -> dict | None:
    """The feasible complete trial with the highest objective (the first of equals)."""
    ok = [r for r in rows if r["state"] == "complete" and r["feasible"]]
    return max(ok, key=lambda r: (r["objective"], -r["number"])) if ok else None


def overrides_of(problem: Problem, params: dict) -> dict:
    """The overrides a trial's parameters give (with the fixed ones)."""
    from optuna.trial import FixedTrial

    return problem.overrides(FixedTrial(params))


def best_yaml(problem: Problem, overrides: dict, out: Path, header: str) -> str:
    """The starting scenario with the overrides, as YAML runnable from `out`."""
    from simulator.scenario.load import load_scenario

    data, _ = read_merged(Path(problem.scenario_path))
    for path, value in overrides.items():
        apply_override(data, path, jsonable(value), problem.scenario_path)
    loaded = load_scenario(problem.scenario_path, overrides)
    data["name"] = f"{loaded.name} (optimised)"
    if loaded.assumption_files:
        data["assumption_files"] = [os.path.relpath(f, out) for f in loaded.assumption_files]
    pop = data.get("population") or {}
    for key in ("params_file", "customers"):
        if pop.get(key):
            pop[key] = os.path.relpath(Path(problem.base_dir) / pop[key], out)
    body = yaml.safe_dump(jsonable(data), sort_keys=False, allow_unicode=True, width=100)
    return header + body


def csv_rows(rows: list[dict], problem: Problem) -> list[dict]:
    """trials.csv: a row per trial, its parameters and KPI means as columns."""
    names = sorted({k for r in rows for k in r["params"]})
    kpis = sorted({k for r in rows for k in (r["kpis"] or {})})
    out = []
    for r in rows:
        row = {"trial": r["number"], "state": r["state"], "feasible": r["feasible"]}
        row.update({f"param.{n}": r["params"].get(n) for n in names})
        row.update({k: csv_number(r[k]) for k in ROW_KEYS if k != "feasible"})
        row.update({f"kpi.{k}": csv_number((r["kpis"] or {}).get(k)) for k in kpis})
        row["reason"] = (r["reason"] or "").splitlines()[0] if r["reason"] else ""
        out.append(row)
    return out


def front(rows: list[dict]) -> list[dict]:
    """The Pareto front of incremental GMV against cost over feasible complete trials."""
    feas = [r for r in rows if r["state"] == "complete" and r["feasible"]]
    return pareto_front(feas)


def verdict(cmp, problem: Problem, names: list[str]) -> dict:
    """Whether the best plan's increment is above the starting plan's on fresh replications.

    Both increments are against the no-campaign baseline; "above" needs the best plan's 95% CI
    to lie wholly above the starting plan's. The paired difference (same seeds) is the
    comparison's own pair row (`analysis.pairs`).
    """
    kpi = problem.kpi
    found = {r["scenario"]: r for r in cmp.rows if r["kpi"] == kpi and r["scenario"] in names[1:]}
    start, best = found.get(names[1]), found.get(names[2])
    raw = "gmv" if problem.objective == "gmv" else "profit"
    pair = next(r for r in cmp.pairs if (r["a"], r["b"], r["kpi"]) == (names[2], names[1], raw))
    diff = {"mean": pair["diff"], "ci_low": pair["ci_low"], "ci_high": pair["ci_high"]}
    diff |= {"sd": pair["sd"], "reps": pair["units"]}
    above = bool(start and best and best["ci_low"] > start["ci_high"])
    text = (
        f"{kpi} on {cmp.meta['reps']} fresh replications at {cmp.meta['shoppers']:,} "
        f"shoppers: best plan {_interval(best)}, "
        f"starting plan {_interval(start)}; "
        + (
            "the best plan's 95% CI is above the starting plan's (no overlap)"
            if above
            else "the two intervals overlap"
        )
        + f"; paired difference on the same seeds {_interval(diff)}: "
        + _paired_words(diff)
    )
    cost = next(r for r in cmp.rows if r["kpi"] == "cost" and r["scenario"] == names[2])
    spend = {k: cost[k] * problem.cost_scale for k in ("mean", "ci_low", "ci_high")}
    text += (
        f". The best plan's cost on them, at the scenario's population: {_interval(spend)} "
        f"against the budget {table_number(problem.budget)}"
    )
    return {
        "kpi": kpi,
        "best_cost": spend,
        "best_cost_within_budget": spend["mean"] <= problem.budget,
        "start": start and {k: start[k] for k in ("mean", "ci_low", "ci_high")},
        "best": best and {k: best[k] for k in ("mean", "ci_low", "ci_high")},
        "best_ci_above_start": above,
        "paired_difference": diff,
        "text": text,
    }


def _paired_words(diff: dict) -> str:
    """What the paired difference (best - start, common random numbers) says in words."""
    if diff["ci_low"] > 0:
        return "the best plan is better"
    if diff["ci_high"] < 0:
        return "the best plan is worse (the search's estimate did not hold up)"
    return "no clear difference (the search's gain may be the winner's curse)"


def _interval(row: dict | None) -> str:
    """`mean [low, high]` of a comparison row."""
    if row is None:
        return "n/a"
    return (
        f"{table_number(row['mean'])} [{table_number(row['ci_low'])}, "
        f"{table_number(row['ci_high'])}]"
    )
