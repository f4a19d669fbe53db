"""Sweep designs: which points a sweep runs, the gates its results must pass, and its plan.

Values typed on the command line are read as YAML scalars (`parse_value`); grids, ranges and fixed
overrides (`--set`) are parsed into `Factor`s, and a `Design` (full grid, Latin hypercube or
Saltelli's Sobol design) gives every point's dotted-path overrides. Gates (`KPI OP NUMBER`) are
checked on the results and are not part of a sweep's definition. A `SweepPlan` is a design made
concrete (every point's overrides, and scenario) with its run settings; its definition decides
whether an output folder resumes the same sweep. `simulator.sweeps.plan` makes plans.
"""

from __future__ import annotations

import itertools
import json
import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

from simulator.engine.rng import replication_seed
from simulator.errors import UserError
from simulator.scenario.schema import Scenario
from simulator.sweeps.keys import canonical_json, digest
from simulator.yamlfiles import YamlLoader

SWEEP_FORMAT = 1
GATE_OPS = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
}


class SweepError(UserError, ValueError):
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
        value = yaml.load(text, Loader=YamlLoader)
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
        raise SweepError(
            f"{option} {spec!r}: the seed is the sweep's (--seed); every point runs "
            "the same replication seeds"
        )
    return path, rest


def parse_grid(spec: str) -> Factor:
    """`PATH=V1,V2,...` (a list-valued field takes `a+b` for the list [a, b])."""
    path, rest = _split_spec(
        spec, "--grid", "PATH=V1,V2,... such as benefits.member_coupon.offer.amount_off=5,10,20"
    )
    texts = tuple(t.strip() for t in rest.split(","))
    for t in texts:
        parse_value(t, as_list=True)
    if len(set(texts)) != len(texts):
        raise SweepError(f"--grid {spec!r}: a value is given twice")
    return Factor(path, texts=texts)


def parse_range(spec: str) -> Factor:
    """`PATH=LOW:HIGH`; integer ends give integer values."""
    path, rest = _split_spec(
        spec, "--range", "PATH=LOW:HIGH such as channels.sms.cost_per_contact=0.03:0.1"
    )
    lo_text, colon, hi_text = rest.partition(":")
    try:
        lo, hi = _scalar(lo_text), _scalar(hi_text)
    except SweepError:
        lo = hi = None
    ok = colon and all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
        for v in (lo, hi)
    )
    if not ok:
        raise SweepError(f"--range {spec!r}: expected PATH=LOW:HIGH with two numbers")
    if not lo < hi:
        raise SweepError(f"--range {spec!r}: LOW must be below HIGH")
    integer = isinstance(lo, int) and isinstance(hi, int)
    return Factor(
        path, low=lo if integer else float(lo), high=hi if integer else float(hi), integer=integer
    )


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
                raise SweepError(
                    "a grid takes --grid PATH=V1,V2,... (--range needs --random or --sobol)"
                )
        elif self.kind in ("random", "sobol"):
            if any(f.texts for f in self.factors):
                raise SweepError(
                    f"--{self.kind} samples --range factors; --grid values cannot be mixed in"
                )
            if self.kind == "sobol" and (self.n < 2 or self.n & (self.n - 1)):
                raise SweepError(f"--sobol N must be a power of 2 (Sobol sequence), got {self.n}")
            if self.kind == "random" and self.n < 1:
                raise SweepError(f"--random N must be at least 1, got {self.n}")
        else:
            raise SweepError(f"unknown design kind {self.kind!r}")

    def problem(self) -> dict:
        """The SALib problem (integer factors sampled over [low - 0.5, high + 0.5])."""
        pad = [0.5 if f.integer else 0.0 for f in self.factors]
        return {
            "num_vars": len(self.factors),
            "names": [f.path for f in self.factors],
            "bounds": [[f.low - p, f.high + p] for f, p in zip(self.factors, pad, strict=True)],
        }

    def points(self, is_list: Callable[[str], bool] = lambda path: False) -> list[dict]:
        """Overrides of every point, in design order (a grid varies its last factor fastest)."""
        if self.kind == "grid":
            values = [
                [parse_value(t, as_list=is_list(f.path)) for t in f.texts] for f in self.factors
            ]
            return [
                dict(zip((f.path for f in self.factors), combo, strict=True))
                for combo in itertools.product(*values)
            ]
        if self.kind == "sobol":
            from SALib.sample import sobol

            x = sobol.sample(self.problem(), self.n, calc_second_order=False, seed=self.seed)
        else:
            from SALib.sample import latin

            x = latin.sample(self.problem(), self.n, seed=self.seed)
        return [
            {
                f.path: (min(f.high, max(f.low, int(round(v)))) if f.integer else float(v))
                for f, v in zip(self.factors, row, strict=True)
            }
            for row in x
        ]

    def spec(self) -> dict:
        """The design as JSON."""
        return {
            "kind": self.kind,
            "factors": [f.spec() for f in self.factors],
            "n": self.n,
            "design_seed": self.seed,
        }


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


_GATE = re.compile(
    r"^\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*(>=|<=|==|>|<)\s*"
    r"([-+]?(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*$"
)


def parse_gate(text: str) -> Gate:
    """Parse `KPI OP NUMBER` (OP one of >=, <=, >, <, ==); nothing else is accepted.

    KPI may be a KPI window's, window.<name>.<kpi>.
    """
    m = _GATE.match(text)
    if not m:
        raise SweepError(
            f"--gate {text!r}: expected KPI OP NUMBER such as 'roi >= 3' with OP "
            "one of >=, <=, >, <, =="
        )
    return Gate(
        m.group(1),
        m.group(2),
        float(m.group(3).replace("_", "")),
        f"{m.group(1)} {m.group(2)} {m.group(3)}",
    )


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
        self.ids = [digest(p, 12) for p in self.points]

    @property
    def baseline(self) -> bool:
        """Whether points are measured against the no-campaign baseline (scenario sweeps)."""
        return self.evaluate is None

    def definition(self) -> dict:
        """Everything that decides the results; a folder only resumes the same definition."""
        return json.loads(
            canonical_json(
                {
                    "format": SWEEP_FORMAT,
                    **self.design.spec(),
                    "source": self.source,
                    "fixed": self.fixed,
                    "reps": self.reps,
                    "seed": self.seed,
                    "shoppers": self.shoppers,
                    "baseline": self.baseline,
                    "points": self.points,
                }
            )
        )

    def seeds(self) -> list[int]:
        """The replication seeds every point runs (common random numbers)."""
        return [replication_seed(self.seed, k) for k in range(self.reps)]

    def labels(self, i: int) -> dict[str, str]:
        """Point i's factor values as text, by factor path."""
        return {f.path: value_label(self.points[i][f.path]) for f in self.design.factors}
