"""Decision variables: declared in a small YAML file (`--vars`) or on the command line (`--var`).

A variable names scenario fields by dotted path (as overrides and sweeps do) and the values the
optimiser may give them:

* a numeric range `low`..`high` (integer ends give integers; an optional `step`), such as an
  offer's depth or threshold;
* a date range `low`..`high` (ISO dates; a whole number of days from `low`, optional `step`),
  such as a touch's `when.start`;
* `choices`: a list of values, any YAML (a list of segment names for an audience, a list of phase
  names for `when.phases`, a whole `when` mapping);
* a `split` of a `total` between several fields (touch budgets, channel capacities): each field
  gets total x w_i / sum(w), with one independent weight w_i in [0, 1] per field sampled by the
  optimiser (equal shares when every weight is 0), so the shares always sum to 1.

Every value a variable can take is checked alone against the scenario before anything runs
(`check_variables`): a bad one is an error naming the file, line and field (exit 2). A
combination of valid values may still be invalid; its trial is infeasible, not a crash.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from simulator.errors import UserError
from simulator.scenario import paths
from simulator.scenario.load import ScenarioError, load_scenario, read_merged
from simulator.sweeps.design import SweepError, parse_grid, parse_range, parse_value, value_label
from simulator.sweeps.keys import jsonable
from simulator.yamlfiles import YamlFileError, locate, read_yaml

SPEC_KEYS = ("path", "low", "high", "step", "choices", "split", "total", "allow_capacity_increase")
NOT_DECISIONS = ("population", "seed", "margin", "schema_version", "calendar")
"""Top-level sections no variable may change: the shoppers, the random numbers, the economics
and the calendar stay those of the starting plan (common random numbers, comparable KPIs)."""


class VariablesError(YamlFileError):
    """A bad decision-variable file: one line per problem, FILE:LINE: field: what was expected."""


class VarOptionError(SweepError):
    """A bad `--var` option."""


@dataclass(frozen=True)
class Variable:
    """One decision variable: its kind, the fields it sets and the values it may take."""

    name: str
    kind: str  # "float" | "int" | "date" | "choice" | "split"
    paths: tuple[str, ...]
    low: Any = None
    high: Any = None
    step: float | None = None
    choices: tuple = ()
    total: float | None = None
    allow_capacity_increase: bool = False
    where: str = ""  # FILE:LINE: variables.<name> or --var '...', for messages
    typed: bool = False  # choices typed on the command line, read against the scenario

    def spec(self) -> dict:
        """The variable as JSON (in optimize.json and the study's settings)."""
        out = {"name": self.name, "kind": self.kind, "paths": list(self.paths)}
        if self.kind == "choice":
            out["choices"] = jsonable(list(self.choices))
        elif self.kind == "split":
            out["total"] = self.total
        else:
            out.update(low=jsonable(self.low), high=jsonable(self.high), step=self.step)
        if self.allow_capacity_increase:
            out["allow_capacity_increase"] = True
        return out

    def labels(self) -> list[str]:
        """The choices as text (Optuna's categorical values)."""
        return [value_label(c) if not isinstance(c, dict) else _dict_label(c) for c in self.choices]

    def suggest(self, trial) -> dict:
        """Ask an Optuna trial for this variable's value: the overrides it gives."""
        if self.kind == "float":
            return {
                self.paths[0]: trial.suggest_float(self.name, self.low, self.high, step=self.step)
            }
        if self.kind == "int":
            step = int(self.step or 1)
            return {self.paths[0]: trial.suggest_int(self.name, self.low, self.high, step=step)}
        if self.kind == "date":
            span = (self.high - self.low).days
            days = trial.suggest_int(self.name, 0, span, step=int(self.step or 1))
            return {self.paths[0]: self.low + timedelta(days=days)}
        if self.kind == "choice":
            label = trial.suggest_categorical(self.name, self.labels())
            return {self.paths[0]: self.choices[self.labels().index(label)]}
        weights = [
            trial.suggest_float(f"{self.name}.w{i}", 0.0, 1.0) for i in range(len(self.paths))
        ]
        return dict(zip(self.paths, split_values(self.total, weights), strict=True))

    def values_alone(self) -> list[dict]:
        """Overrides that try every extreme value alone (checked before anything runs)."""
        if self.kind == "choice":
            return [{self.paths[0]: c} for c in self.choices]
        if self.kind == "split":
            n = len(self.paths)
            return [dict(zip(self.paths, split_values(self.total, [1.0] * n), strict=True))]
        return [{self.paths[0]: self.low}, {self.paths[0]: self.high}]


def split_values(total: float, weights: list[float]) -> list[float]:
    """Each field's amount, total x w_i / sum(w), summing to the total (equal if every w is 0)."""
    s = sum(weights)
    if s <= 0:
        return [total / len(weights)] * len(weights)
    return [total * w / s for w in weights]


def _dict_label(value: dict) -> str:
    """A mapping choice as compact text (`{phases: [presale]}`)."""
    inner = ", ".join(
        f"{k}: {_dict_label(v) if isinstance(v, dict) else _list_label(v)}"
        for k, v in value.items()
    )
    return "{" + inner + "}"


def _list_label(value) -> str:
    """A value inside a mapping label: lists in brackets."""
    if isinstance(value, list | tuple):
        return "[" + ", ".join(value_label(v) for v in value) + "]"
    return value_label(value)


# ----------------------------------------------------------------------------- declaring
def read_variables(path: str | Path) -> list[Variable]:
    """The variables of a `--vars` file: `variables: {NAME: {path, low, high | choices | ...}}`."""
    name = str(path)
    expected = "a mapping with 'variables: {NAME: {path: ..., low: ..., high: ...}, ...}'"
    data, root = read_yaml(Path(path), VariablesError, expected)
    unknown = [k for k in data if k != "variables"]
    if unknown:
        raise VariablesError(
            name, [((unknown[0],), "unknown key; expected only 'variables'")], root
        )
    specs = data.get("variables")
    if not isinstance(specs, dict) or not specs:
        raise VariablesError(
            name, [(("variables",), "expected a non-empty mapping of variable names")], root
        )
    out, problems = [], []
    for vname, spec in specs.items():
        try:
            out.append(_from_spec(str(vname), spec))
        except _SpecProblem as exc:
            problems.append((("variables", vname, *exc.field), exc.why))
    if problems:
        raise VariablesError(name, problems, root)
    return [
        _placed(v, f"{name}:{locate(root, ('variables', v.name))[1]}: variables.{v.name}")
        for v in out
    ]


class _SpecProblem(Exception):
    """A problem of one variable's mapping: the field under it and why."""

    def __init__(self, field: tuple, why: str):
        super().__init__(why)
        self.field = field
        self.why = why


def _placed(v: Variable, where: str) -> Variable:
    """The variable with where it was declared (for later messages)."""
    return Variable(**{**v.__dict__, "where": where})


def _from_spec(name: str, spec: Any) -> Variable:
    """One variable from its YAML mapping; raises _SpecProblem naming the bad field."""
    if not isinstance(spec, dict):
        raise _SpecProblem((), "expected a mapping with path and low/high, choices, or split/total")
    for key in spec:
        if key not in SPEC_KEYS:
            raise _SpecProblem((key,), f"unknown key; expected one of: {', '.join(SPEC_KEYS)}")
    allow = spec.get("allow_capacity_increase", False)
    if not isinstance(allow, bool):
        raise _SpecProblem(("allow_capacity_increase",), "expected true or false")
    kinds = [k for k in ("low", "choices", "split") if k in spec]
    if len(kinds) != 1:
        raise _SpecProblem((), "expected exactly one of: low/high (a range), choices, split/total")
    if kinds == ["split"]:
        return _split_spec(name, spec, allow)
    p = spec.get("path")
    if not isinstance(p, str) or not p:
        raise _SpecProblem(("path",), "expected a dotted scenario path such as plan.x.budget")
    _check_path(p, ("path",))
    if kinds == ["choices"]:
        ch = spec["choices"]
        if not isinstance(ch, list) or len(ch) < 2:
            raise _SpecProblem(("choices",), "expected a list of at least two values")
        v = Variable(name, "choice", (p,), choices=tuple(ch), allow_capacity_increase=allow)
        if len(set(v.labels())) != len(ch):
            raise _SpecProblem(("choices",), "a value is listed twice")
        return v
    return _range(name, p, spec.get("low"), spec.get("high"), spec.get("step"), allow)


def _range(name: str, p: str, low, high, step, allow: bool) -> Variable:
    """A numeric or date range variable."""
    if high is None:
        raise _SpecProblem(("high",), "a range needs low and high")
    if isinstance(low, date) and isinstance(high, date):
        kind = "date"
    elif all(isinstance(x, int | float) and not isinstance(x, bool) for x in (low, high)):
        if not all(math.isfinite(x) for x in (low, high)):
            raise _SpecProblem(("low",), "expected finite numbers")
        kind = "int" if isinstance(low, int) and isinstance(high, int) else "float"
    else:
        raise _SpecProblem(("low",), "expected two numbers or two dates YYYY-MM-DD")
    if not low < high:
        raise _SpecProblem(("high",), f"expected high above low ({value_label(low)})")
    if step is not None:
        if isinstance(step, bool) or not isinstance(step, int | float) or not step > 0:
            raise _SpecProblem(("step",), "expected a positive number")
        if kind in ("int", "date") and int(step) != step:
            raise _SpecProblem(("step",), "expected a whole number for integer or date ranges")
        span = (high - low).days if kind == "date" else high - low
        if abs(span / step - round(span / step)) > 1e-9:
            raise _SpecProblem(("step",), "expected high - low to be a multiple of step")
    if kind == "float":
        low, high = float(low), float(high)
    return Variable(name, kind, (p,), low, high, step, allow_capacity_increase=allow)


def _split_spec(name: str, spec: dict, allow: bool) -> Variable:
    """A split of a total between fields."""
    fields = spec["split"]
    if (
        not isinstance(fields, list)
        or len(fields) < 2
        or not all(isinstance(f, str) and f for f in fields)
    ):
        raise _SpecProblem(("split",), "expected a list of at least two dotted paths")
    if len(set(fields)) != len(fields):
        raise _SpecProblem(("split",), "a path is listed twice")
    for i, f in enumerate(fields):
        _check_path(f, ("split", i))
    total = spec.get("total")
    if isinstance(total, bool) or not isinstance(total, int | float) or not total > 0:
        raise _SpecProblem(("total",), "expected a positive number, the amount split")
    return Variable(name, "split", tuple(fields), total=float(total), allow_capacity_increase=allow)


def _check_path(p: str, where: tuple) -> None:
    """Refuse a path outside the campaign's decisions (population, seed, calendar, margin)."""
    if p.split(".")[0] in NOT_DECISIONS:
        raise _SpecProblem(
            where,
            f"{p} is not a campaign decision: the population, seed, calendar and margin stay the "
            "starting plan's (common random numbers, comparable KPIs)",
        )


def parse_var(text: str) -> Variable:
    """`--var PATH=LOW:HIGH[:STEP]` (a range) or `--var PATH=A,B,C` (choices; lists as a+b)."""
    where = f"--var {text!r}"
    p, _, rest = text.partition("=")
    try:
        if ":" in rest and "," not in rest:
            parts = rest.split(":")
            if len(parts) > 3:
                raise VarOptionError(f"{where}: expected PATH=LOW:HIGH or PATH=LOW:HIGH:STEP")
            f = parse_range(f"{p}={parts[0]}:{parts[1]}")
            step = parse_value(parts[2]) if len(parts) == 3 else None
            v = _range(f.path, f.path, f.low, f.high, step, False)
        else:
            f = parse_grid(text.replace("--grid", ""))
            if len(f.texts) < 2:
                raise VarOptionError(f"{where}: expected at least two values A,B,...")
            v = Variable(f.path, "choice", (f.path,), choices=tuple(f.texts), typed=True)
        _check_path(v.paths[0], ())
    except _SpecProblem as exc:
        raise VarOptionError(f"{where}: {exc.why}") from None
    except SweepError as exc:
        raise VarOptionError(
            str(exc).replace("--grid", "--var").replace("--range", "--var")
        ) from None
    return _placed(v, where)


# ----------------------------------------------------------------------------- checking
class VariableValueError(UserError):
    """A declared value that is invalid for the scenario on its own (exit 2)."""


def check_variables(scenario_path: str | Path, variables: list[Variable]) -> list[Variable]:
    """Resolve command-line choices against the scenario and check every value alone.

    Each extreme value (a range's ends, every choice, a split's equal shares) is loaded into
    the scenario alone; any problem, or a capacity raised above the scenario's without
    `allow_capacity_increase`, raises VariableValueError naming where the variable was declared.
    """
    start = load_scenario(scenario_path)
    raw = read_merged(Path(scenario_path))[0]
    seen: dict[str, str] = {}
    out = []
    for v in variables:
        for p in v.paths:
            if p in seen:
                raise VariableValueError(f"{v.where}: {p} is also set by {seen[p]}")
            seen[p] = v.where
        if v.typed:
            as_list = paths.is_list(raw, v.paths[0])
            choices = tuple(parse_value(c, as_list=as_list) for c in v.choices)
            v = Variable(**{**v.__dict__, "choices": choices, "typed": False})
        for overrides in v.values_alone():
            try:
                sc = load_scenario(scenario_path, overrides)
            except ScenarioError as exc:
                why = "; ".join(line.split(": ", 1)[-1] for line in str(exc).splitlines())
                shown = ", ".join(f"{k}={value_label(x)}" for k, x in overrides.items())
                raise VariableValueError(f"{v.where}: {shown} is invalid: {why}") from None
            raised = raised_capacities(start, sc, [v] if v.allow_capacity_increase else [])
            if raised:
                raise VariableValueError(f"{v.where}: {raised[0]}")
        if v.kind == "split" and not v.allow_capacity_increase:
            for p in v.paths:
                cap = paths.get(raw, p) if p.endswith("daily_capacity") else None
                if cap is not None and v.total > cap:
                    raise VariableValueError(
                        f"{v.where}: a share of total {v.total:g} can reach {p} = {v.total:g}, "
                        f"above the scenario's {cap}; declare allow_capacity_increase: true"
                    )
        out.append(v)
    return out


def raised_capacities(start, scenario, allowing: list[Variable]) -> list[str]:
    """Channels whose daily capacity a scenario raises above the starting one's, unless allowed.

    `allowing`: variables declared with allow_capacity_increase (their channels may be raised).
    """
    allowed = {p.split(".")[1] for v in allowing for p in v.paths if p.startswith("channels.")}
    out = []
    for name, ch in scenario.channels.items():
        before = start.channels.get(name)
        cap0 = None if before is None else before.daily_capacity
        if name in allowed or cap0 is None:
            continue
        if ch.daily_capacity is None or ch.daily_capacity > cap0:
            out.append(
                f"channels.{name}.daily_capacity would be {ch.daily_capacity or 'unlimited'}, "
                f"above the scenario's {cap0}; a variable may raise it only when declared with "
                "allow_capacity_increase: true"
            )
    return out
