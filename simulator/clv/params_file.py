"""Fitted-parameter files: the YAML a scenario's population points at for its heterogeneity.

The file records BG/NBD (r, alpha, a, b) and Gamma-Gamma (p, q, v) estimates with standard errors,
the data they came from and the time unit of the BG/NBD rates. :func:`read_params` validates it
(unknown keys are errors) and reads each file once per process; :meth:`FittedParams.per_day`
rescales the rates to the engine's day.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import AfterValidator, Field, PositiveFloat

from simulator.clv.bgnbd import BGNBDFit
from simulator.clv.gamma_gamma import GammaGammaFit
from simulator.files import atomic_write_text
from simulator.yamlfiles import Day, StrictModel, YamlFileError, read_yaml, validated
from simulator.yamlfiles.loader import YamlDumper

EXPECTED = "a mapping of fields such as `bgnbd: {r: ...}`"


class ParamsFileError(YamlFileError, ValueError):
    """A fitted-parameter file that cannot be read or does not validate: FILE:LINE: field: why."""


def _non_negative_or_nan(value: float) -> float:
    """Accept a standard error of 0 or more, or NaN (not estimable)."""
    if not (math.isnan(value) or value >= 0):
        raise ValueError("a standard error must be >= 0 (or .nan when not estimable)")
    return value


StdError = Annotated[float, Field(allow_inf_nan=True), AfterValidator(_non_negative_or_nan)]


class BGNBDParams(StrictModel):
    """BG/NBD parameters: purchase-rate Gamma(r, alpha) and dropout Beta(a, b)."""

    r: PositiveFloat
    alpha: PositiveFloat
    a: PositiveFloat
    b: PositiveFloat


class BGNBDErrors(StrictModel):
    """Standard errors of the BG/NBD estimates (NaN when the information matrix is singular)."""

    r: StdError
    alpha: StdError
    a: StdError
    b: StdError


class GammaGammaParams(StrictModel):
    """Gamma-Gamma spend parameters: amounts Gamma(p, ν), ν ~ Gamma(q, v)."""

    p: PositiveFloat
    q: PositiveFloat
    v: PositiveFloat


class GammaGammaErrors(StrictModel):
    """Standard errors of the Gamma-Gamma estimates."""

    p: StdError
    q: StdError
    v: StdError


class FittedParams(StrictModel):
    """The contents of a fitted-parameter file; BG/NBD rates are per ``time_unit_days`` days."""

    model: Literal["bgnbd"] = "bgnbd"
    source: str
    time_unit_days: PositiveFloat
    n_customers: int = Field(ge=1)
    calibration_end: Day
    bgnbd: BGNBDParams
    bgnbd_se: BGNBDErrors
    log_likelihood: float
    gamma_gamma: GammaGammaParams | None = None
    gamma_gamma_se: GammaGammaErrors | None = None

    def per_day(self) -> BGNBDParams:
        """BG/NBD parameters with a one-day time unit: λ/day = λ/unit ÷ days, so alpha × days."""
        p = self.bgnbd
        return BGNBDParams(r=p.r, alpha=p.alpha * self.time_unit_days, a=p.a, b=p.b)

    @classmethod
    def from_fits(
        cls,
        bgnbd: BGNBDFit,
        gamma_gamma: GammaGammaFit | None,
        *,
        source: str,
        time_unit_days: float,
        calibration_end: dt.date,
    ) -> FittedParams:
        """Build the file contents from a BG/NBD fit and an optional Gamma-Gamma fit."""
        gg = {}
        if gamma_gamma is not None:
            gg = {"gamma_gamma": gamma_gamma.as_dict(), "gamma_gamma_se": dict(gamma_gamma.se)}
        return cls(
            source=source,
            time_unit_days=time_unit_days,
            n_customers=bgnbd.n_customers,
            calibration_end=calibration_end,
            bgnbd=bgnbd.as_dict(),
            bgnbd_se=dict(bgnbd.se),
            log_likelihood=bgnbd.log_likelihood,
            **gg,
        )


def unit_name(days: float) -> str:
    """Name a time unit for the file's comment line ("week", "day" or "N days")."""
    return {7.0: "week", 1.0: "day"}.get(float(days), f"{days:g} days")


def _clean(value):
    """Round floats to 10 significant digits (whole numbers as integers); keep .nan/.inf."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, float) and math.isfinite(value):
        value = float(f"{value:.10g}")
        return int(value) if value.is_integer() else value
    return value


def dumps_params(params: FittedParams) -> str:
    """Render the file text: a comment line, then the fields in schema order."""
    body = {k: _clean(v) for k, v in params.model_dump(exclude_none=True).items()}
    comment = (
        f"# Fitted by `promosim calibrate bgnbd` on {params.source}; "
        f"BG/NBD rates are per {unit_name(params.time_unit_days)}.\n"
    )
    return comment + yaml.dump(
        body, Dumper=YamlDumper, sort_keys=False, default_flow_style=None, width=100
    )


def write_params(path: str | Path, params: FittedParams) -> Path:
    """Write a fitted-parameter file atomically (`files.atomic_write_text`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, dumps_params(params))
    return path


_READ: dict[Path, tuple[int, int, FittedParams]] = {}  # resolved path: (mtime_ns, size, params)


def read_params(path: str | Path) -> FittedParams:
    """Read and validate a fitted-parameter file, once per process while the file is unchanged.

    Every engine model reads its population's file; the result is kept by resolved path and
    read again only when the file's modification time or size changes. It is frozen, so the
    callers can share it.

    Raises:
        ParamsFileError: unreadable file, bad YAML or a field that does not validate; one line
            per problem naming the file, the line and the field.
    """
    path = Path(path)
    try:
        stat = path.stat()  # before reading: a change while reading is seen next time
        key = path.resolve()
    except OSError:
        return _read(path)  # not cached: reports why the file cannot be read
    cached = _READ.get(key)
    if cached is None or cached[:2] != (stat.st_mtime_ns, stat.st_size):
        cached = _READ[key] = (stat.st_mtime_ns, stat.st_size, _read(path))
    return cached[2]


def _read(path: Path) -> FittedParams:
    """Read and validate the file (errors name the path as given)."""
    data, root = read_yaml(path, ParamsFileError, EXPECTED)
    return validated(FittedParams, data, ParamsFileError, str(path), root)
