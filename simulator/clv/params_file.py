"""Fitted-parameter files: the YAML a scenario's population points at for its heterogeneity.

The file records BG/NBD (r, alpha, a, b) and Gamma-Gamma (p, q, v) estimates with standard errors,
the data they came from and the time unit of the BG/NBD rates. :func:`read_params` validates it
(unknown keys are errors) and reads each file once per process; :meth:`FittedParams.per_day`
rescales the rates to the engine's day.

Every number must be finite: an estimate that is NaN or infinite is refused naming the file and
field, and so is a standard error written as .nan. A standard error that does not exist (the fit's
information matrix is not positive definite) is written as null, with the reason in the block's
``note``. A fit written despite a boundary warning (`calibrate bgnbd --allow-boundary`) keeps the
warnings in ``warnings``; one fitted with a penalizer records its coefficient.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BeforeValidator, Field, NonNegativeFloat, PositiveFloat, model_validator

from simulator.clv.bgnbd import BGNBDFit
from simulator.clv.fit_checks import fit_warnings
from simulator.clv.gamma_gamma import GammaGammaFit
from simulator.files import atomic_write_text
from simulator.yamlfiles import Day, StrictModel, YamlFileError, read_yaml, validated
from simulator.yamlfiles.loader import YamlDumper

EXPECTED = "a mapping of fields such as `bgnbd: {r: ...}`"


class ParamsFileError(YamlFileError, ValueError):
    """A fitted-parameter file that cannot be read or does not validate: FILE:LINE: field: why."""


def _not_nan(value):
    """Refuse .nan or .inf for a standard error, saying what to write instead."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(
            f"a standard error must be a number >= 0, or null with the reason in `note` (got "
            f"{value})"
        )
    return value


StdError = Annotated[NonNegativeFloat | None, BeforeValidator(_not_nan)]


class StdErrors(StrictModel):
    """Base of a model's standard errors: each >= 0, or null with the reason in ``note``."""

    @model_validator(mode="after")
    def _null_needs_a_note(self):
        """A null standard error must say why it is missing."""
        missing = [k for k, v in self if k != "note" and v is None]
        if missing and not getattr(self, "note", None):
            raise ValueError(
                f"standard errors of {', '.join(missing)} are null: give the reason in `note`"
            )
        return self

    @classmethod
    def from_fit(cls, se: dict[str, float], note: str | None):
        """The block of a fit's standard errors: NaN becomes null, with ``note`` saying why."""
        values = {k: (v if math.isfinite(v) else None) for k, v in se.items()}
        has_null = None in values.values()
        return cls(**values, note=(note or "not estimable") if has_null else None)


class BGNBDParams(StrictModel):
    """BG/NBD parameters: purchase-rate Gamma(r, alpha) and dropout Beta(a, b)."""

    r: PositiveFloat
    alpha: PositiveFloat
    a: PositiveFloat
    b: PositiveFloat


class BGNBDErrors(StdErrors):
    """Standard errors of the BG/NBD estimates (null when the information matrix is singular)."""

    r: StdError
    alpha: StdError
    a: StdError
    b: StdError
    note: str | None = None


class GammaGammaParams(StrictModel):
    """Gamma-Gamma spend parameters: amounts Gamma(p, ν), ν ~ Gamma(q, v)."""

    p: PositiveFloat
    q: PositiveFloat
    v: PositiveFloat


class GammaGammaErrors(StdErrors):
    """Standard errors of the Gamma-Gamma estimates."""

    p: StdError
    q: StdError
    v: StdError
    note: str | None = None


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
    penalizer: NonNegativeFloat | None = None
    warnings: list[str] | None = None

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
        """Build the file contents from a BG/NBD fit and an optional Gamma-Gamma fit.

        Missing standard errors become null with the fit check's reason; the checks' problems
        (a boundary fit written anyway) become ``warnings``; a penalizer > 0 is recorded.
        """
        gg = {}
        if gamma_gamma is not None:
            gg = {
                "gamma_gamma": gamma_gamma.as_dict(),
                "gamma_gamma_se": GammaGammaErrors.from_fit(
                    gamma_gamma.se, gamma_gamma.check.se_note
                ),
            }
        warnings = fit_warnings({"BG/NBD": bgnbd, "Gamma-Gamma": gamma_gamma})
        return cls(
            source=source,
            time_unit_days=time_unit_days,
            n_customers=bgnbd.n_customers,
            calibration_end=calibration_end,
            bgnbd=bgnbd.as_dict(),
            bgnbd_se=BGNBDErrors.from_fit(bgnbd.se, bgnbd.check.se_note),
            log_likelihood=bgnbd.log_likelihood,
            **gg,
            penalizer=bgnbd.penalizer or None,
            warnings=warnings or None,
        )


def unit_name(days: float) -> str:
    """Name a time unit for the file's comment line ("week", "day" or "N days")."""
    return {7.0: "week", 1.0: "day"}.get(float(days), f"{days:g} days")


def _clean(value):
    """Round floats to 10 significant digits (whole numbers as integers), leave out nulls."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if v is not None or k != "note"}
    if isinstance(value, float) and math.isfinite(value):
        value = float(f"{value:.10g}")
        return int(value) if value.is_integer() else value
    return value


def dumps_params(params: FittedParams) -> str:
    """Render the file text: a comment line, then the fields in schema order."""
    body = {k: _clean(v) for k, v in params.model_dump().items() if v is not None}
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
