"""A targets file: its schema, and reading it with every problem at its line.

A file names KPI targets (value, tolerance, weight, phases, comparison with the baseline) and the
free parameters (dotted scenario paths with bounds); docs/calibration.md describes it. Checks
against the scenario come later, in `problem.check_targets`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from simulator.scenario.schema import MAX_SHOPPERS
from simulator.yamlfiles import StrictModel, YamlFileError, pydantic_problem, read_yaml, validated


class TargetsError(YamlFileError):
    """Bad targets file: one line per problem, FILE:LINE: field: what is wrong."""


class TargetSpec(StrictModel):
    """One KPI target: its value, tolerance and weight, where it is measured, against what."""

    kpi: str
    value: float
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


class ParamSpec(StrictModel):
    """A free parameter's bounds and optional starting value (default: the scenario's)."""

    bounds: Annotated[list[float], Field(min_length=2, max_length=2)]
    start: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> ParamSpec:
        lo, hi = self.bounds
        if not lo < hi:
            raise ValueError(f"bounds [{lo}, {hi}]: expected lower < upper")
        if self.start is not None and not lo <= self.start <= hi:
            raise ValueError(f"start {self.start} is outside the bounds [{lo}, {hi}]")
        return self


class TargetsFile(StrictModel):
    """A targets file: what to reach, and which scenario values may move to reach it."""

    description: str = ""
    population: Annotated[int, Field(ge=1, le=MAX_SHOPPERS)] | None = None
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


def _problem(err: dict) -> tuple[tuple, str]:
    """One pydantic error as (path, message); a bad comparison is one problem, not one per type."""
    loc = tuple(err["loc"])
    if len(loc) > 3 and loc[0] == "targets" and loc[2] == "relative_to_baseline":
        return loc[:3], (f"expected true, false, ratio or difference (got {err.get('input')!r})")
    return pydantic_problem(err, TargetsFile)


def read_targets(path: str | Path) -> tuple[TargetsFile, Any]:
    """Read and validate a targets file's own fields; TargetsError names file, line and field."""
    name = str(path)
    data, root = read_yaml(Path(path), TargetsError, "a mapping with targets and params")
    spec = validated(TargetsFile, data, TargetsError, name, root, problem=_problem)
    return spec, root
