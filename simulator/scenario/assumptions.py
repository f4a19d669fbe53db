"""Assumptions as distributions: what a scenario is unsure of, and one keyed draw per replication.

A scenario's `assumptions` maps a dotted field path (as `--set` and sweeps name fields, e.g.
`channels.sms.response_lift` or `population.offer_response.depth_scale`) to a distribution;
`assumption_files` names files of such mappings (`calibrate response` writes one). Each
distribution has a point value (`point`) used when assumptions are fixed, and a keyed draw for
parameter draw k: the uniform u = U(seed, k, key) goes through the distribution's inverse CDF. The
key is the path (for `draws`, the file, so the columns of one row of posterior draws stay
together), never the scenario: every scenario of a comparison that states the same distribution
for a path gets the same value in replication k, and common random numbers still hold.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from simulator.yamlfiles import StrictModel, YamlFileError, read_yaml, validated
from simulator.yamlfiles.inputs import UnreadableInput, read_input_bytes

Finite = Annotated[float, Field(allow_inf_nan=False)]
MAX_ASSUMPTIONS = 64
MAX_DRAW_ROWS = 1_000_000
MAX_DRAWS_BYTES = 100_000_000


class Bounded(StrictModel):
    """Optional bounds: a draw outside [low, high] is truncated there (the CDF renormalised)."""

    low: Finite | None = None
    high: Finite | None = None

    @model_validator(mode="after")
    def _ordered(self):
        if self.low is not None and self.high is not None and self.low >= self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
        return self

    def _truncated(self, dist, u: float) -> float:
        """Inverse CDF of `dist` (a frozen scipy distribution) truncated to [low, high]."""
        lo = dist.cdf(self.low) if self.low is not None else 0.0
        hi = dist.cdf(self.high) if self.high is not None else 1.0
        value = float(dist.ppf(lo + u * (hi - lo)))
        return _clip(value, self.low, self.high)


class Normal(Bounded):
    """Normal(mean, sd), optionally truncated; point: the mean (clipped into the bounds)."""

    dist: Literal["normal"]
    mean: Finite
    sd: Annotated[float, Field(gt=0.0, allow_inf_nan=False)]

    @property
    def point(self) -> float:
        """The value used when assumptions are fixed."""
        return _clip(self.mean, self.low, self.high)

    def draw(self, u: float) -> float:
        """The value at uniform u."""
        from scipy import stats

        return self._truncated(stats.norm(self.mean, self.sd), u)


class LogNormal(Bounded):
    """log X ~ Normal(log median, sigma), optionally truncated; point: the median."""

    dist: Literal["lognormal"]
    median: Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
    sigma: Annotated[float, Field(gt=0.0, allow_inf_nan=False)]

    @property
    def point(self) -> float:
        """The value used when assumptions are fixed."""
        return _clip(self.median, self.low, self.high)

    def draw(self, u: float) -> float:
        """The value at uniform u."""
        from scipy import stats

        return self._truncated(stats.lognorm(self.sigma, scale=self.median), u)


class Uniform(StrictModel):
    """Uniform on [low, high]; point: the middle."""

    dist: Literal["uniform"]
    low: Finite
    high: Finite

    @model_validator(mode="after")
    def _ordered(self):
        if self.low >= self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
        return self

    @property
    def point(self) -> float:
        """The value used when assumptions are fixed."""
        return 0.5 * (self.low + self.high)

    def draw(self, u: float) -> float:
        """The value at uniform u."""
        return self.low + u * (self.high - self.low)


class Beta(StrictModel):
    """Beta(a, b) on [0, 1] (a share, a probability, a redemption rate); point: the mean."""

    dist: Literal["beta"]
    a: Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
    b: Annotated[float, Field(gt=0.0, allow_inf_nan=False)]

    @property
    def point(self) -> float:
        """The value used when assumptions are fixed."""
        return self.a / (self.a + self.b)

    def draw(self, u: float) -> float:
        """The value at uniform u."""
        from scipy import stats

        return float(stats.beta(self.a, self.b).ppf(u))


class Draws(StrictModel):
    """Posterior or bootstrap draws: column `column` of a CSV file, one row per draw.

    The file is relative to the file naming it. Replication k takes one row, chosen by a keyed
    draw on the file, so several paths that name columns of one file take the same row (their
    joint distribution is kept). Point: the column's mean.
    """

    dist: Literal["draws"]
    file: str
    column: str


Distribution = Annotated[Normal | LogNormal | Uniform | Beta | Draws, Field(discriminator="dist")]


class AssumptionsFile(StrictModel):
    """A file of assumptions (`calibrate response` writes one): where it comes from, and them."""

    kind: Literal["assumptions"]
    source: str = ""
    note: str = ""
    assumptions: Annotated[dict[str, Distribution], Field(max_length=MAX_ASSUMPTIONS)]


@dataclass(frozen=True)
class Assumption:
    """One assumption, resolved: its path, distribution and (for `draws`) the column's values."""

    path: str
    dist: Normal | LogNormal | Uniform | Beta | Draws
    values: np.ndarray | None = None

    @property
    def key(self) -> str:
        """What its draw is keyed by: the file for posterior draws (one row for all columns)."""
        if isinstance(self.dist, Draws):
            return f"file:{Path(self.dist.file).name}"
        return f"path:{self.path}"

    @property
    def point(self) -> float:
        """The value used when assumptions are fixed."""
        if self.values is not None:
            return float(np.mean(self.values))
        return self.dist.point

    def at(self, u: float) -> float:
        """The value at uniform u in [0, 1)."""
        if self.values is not None:
            return float(self.values[min(int(u * len(self.values)), len(self.values) - 1)])
        return self.dist.draw(u)


def _clip(value: float, low: float | None, high: float | None) -> float:
    """Value within [low, high] (either may be absent)."""
    if low is not None:
        value = max(value, low)
    if high is not None:
        value = min(value, high)
    return value


class AssumptionsFileError(YamlFileError):
    """A bad assumptions file or draws file: one line per problem, with the file and line."""


def read_assumptions_file(path: Path) -> AssumptionsFile:
    """Read and validate an assumptions file."""
    data, root = read_yaml(path, AssumptionsFileError, "a mapping with kind and assumptions")
    return validated(AssumptionsFile, data, AssumptionsFileError, str(path), root)


def read_draws(path: Path, column: str) -> np.ndarray:
    """The finite numbers of a CSV column (one draw per row); errors name the file and line."""
    import pandas as pd

    try:
        data = read_input_bytes(path, MAX_DRAWS_BYTES, "a draws file")
        frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    except (UnreadableInput, ValueError, pd.errors.ParserError) as exc:
        raise AssumptionsFileError(str(path), [((), f"cannot read it as CSV: {exc}")]) from None
    if column not in frame.columns:
        raise AssumptionsFileError(
            str(path), [((), f"no column {column!r}; the header has {', '.join(frame.columns)}")]
        )
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(np.float64)
    bad = ~np.isfinite(values)
    if bad.any() or not 2 <= len(values) <= MAX_DRAW_ROWS:
        line = int(np.argmax(bad)) + 2 if bad.any() else len(values) + 1
        what = f"{frame[column].iloc[line - 2]!r} is not a number" if bad.any() else "too few"
        raise AssumptionsFileError(
            str(path),
            [((column,), f"line {line}: {what}; expected 2 to {MAX_DRAW_ROWS:,} finite numbers")],
        )
    return values


def resolve(own: dict, files: list[str], base_dir: Path) -> tuple[Assumption, ...]:
    """The scenario's assumptions: its files' (in order), then its own (which win), resolved.

    own: the scenario's `assumptions`; files: its `assumption_files`, relative to base_dir.
    """
    found: dict[str, tuple] = {}
    for name in files:
        path = base_dir / name
        for key, dist in read_assumptions_file(path).assumptions.items():
            found[key] = (dist, path.parent)
    for key, dist in own.items():
        found[key] = (dist, base_dir)
    return tuple(
        Assumption(
            key,
            dist,
            read_draws(folder / dist.file, dist.column) if isinstance(dist, Draws) else None,
        )
        for key, (dist, folder) in found.items()
    )


def uniform_at(seed: int, draw: int, key: str) -> float:
    """A uniform in [0, 1) that is a pure function of (seed, draw, key): counter-based."""
    digest = hashlib.sha256(f"{int(seed)}|{int(draw)}|{key}".encode()).digest()
    return (int.from_bytes(digest[:8], "little") >> 11) / float(1 << 53)


def values_at(assumptions: tuple[Assumption, ...], seed: int, draw: int) -> dict[str, float]:
    """Every assumption's value in parameter draw `draw` of the seed."""
    return {a.path: a.at(uniform_at(seed, draw, a.key)) for a in assumptions}


def points(assumptions: tuple[Assumption, ...]) -> dict[str, float]:
    """Every assumption's point value (used when assumptions are fixed)."""
    return {a.path: a.point for a in assumptions}
