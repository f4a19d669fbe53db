"""Fitted-parameter files: the YAML a scenario's population points at for its heterogeneity.

The file records BG/NBD (r, alpha, a, b) and Gamma-Gamma (p, q, v) estimates with standard errors,
the data they came from and the time unit of the BG/NBD rates. :func:`read_params` validates it
(unknown keys are errors) and reads each file once per process; :meth:`FittedParams.per_day`
rescales the rates to the engine's day. The same format with ``model: paretonbd`` or
``model: bgbb`` records the alternative models (`promosim calibrate clv --model`): they are
read with ``read_params(path, simulate=False)``; the engine simulates BG/NBD only, so reading
them for a simulation is an error that says to fit BG/NBD.

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


class ParetoNBDParams(StrictModel):
    """Pareto/NBD parameters: purchase-rate Gamma(r, alpha) and death-rate Gamma(s, beta)."""

    r: PositiveFloat
    alpha: PositiveFloat
    s: PositiveFloat
    beta: PositiveFloat


class ParetoNBDErrors(StdErrors):
    """Standard errors of the Pareto/NBD estimates (null with a note when not estimable)."""

    r: StdError
    alpha: StdError
    s: StdError
    beta: StdError
    note: str | None = None


class ParetoNBDFile(StrictModel):
    """A Pareto/NBD fit (`pareto_nbd`); rates are per ``time_unit_days`` days. Not simulated."""

    model: Literal["paretonbd"]
    source: str
    time_unit_days: PositiveFloat
    n_customers: int = Field(ge=1)
    calibration_end: Day
    paretonbd: ParetoNBDParams
    paretonbd_se: ParetoNBDErrors
    log_likelihood: float
    gamma_gamma: GammaGammaParams | None = None
    gamma_gamma_se: GammaGammaErrors | None = None
    penalizer: NonNegativeFloat | None = None
    warnings: list[str] | None = None


class BGBBParams(StrictModel):
    """BG/BB parameters: purchase probability Beta(alpha, beta), death Beta(gamma, delta)."""

    alpha: PositiveFloat
    beta: PositiveFloat
    gamma: PositiveFloat
    delta: PositiveFloat


class BGBBErrors(StdErrors):
    """Standard errors of the BG/BB estimates (null with a note when not estimable)."""

    alpha: StdError
    beta: StdError
    gamma: StdError
    delta: StdError
    note: str | None = None


class BGBBFile(StrictModel):
    """A BG/BB fit (`bgbb`) over the opportunity windows ``opportunities`` describes."""

    model: Literal["bgbb"]
    source: str
    opportunities: str
    n_customers: int = Field(ge=1)
    calibration_end: Day
    bgbb: BGBBParams
    bgbb_se: BGBBErrors
    log_likelihood: float
    penalizer: NonNegativeFloat | None = None
    warnings: list[str] | None = None


AnyParams = FittedParams | ParetoNBDFile | BGBBFile
MODEL_FILES = {"bgnbd": FittedParams, "paretonbd": ParetoNBDFile, "bgbb": BGBBFile}
MODEL_LABELS = {"bgnbd": "BG/NBD", "paretonbd": "Pareto/NBD", "bgbb": "BG/BB"}


def model_file(model: str, fit, gamma_gamma: GammaGammaFit | None = None, **fields) -> AnyParams:
    """The file contents of a Pareto/NBD or BG/BB fit (`mle.ModelFit`) and the given fields.

    ``fields`` are the model's other fields: source and calibration_end, and time_unit_days
    (Pareto/NBD) or opportunities (BG/BB). As for BG/NBD (`FittedParams.from_fits`), missing
    standard errors become null with the check's reason, the checks' problems ``warnings``.
    """
    cls = MODEL_FILES[model]
    errors = cls.model_fields[f"{model}_se"].annotation
    body = {"model": model, **fields, "n_customers": fit.n_customers, model: fit.as_dict()}
    body[f"{model}_se"] = errors.from_fit(fit.se, fit.check.se_note)
    body["log_likelihood"] = fit.log_likelihood
    fits = [fit]
    if gamma_gamma is not None:
        body["gamma_gamma"] = gamma_gamma.as_dict()
        body["gamma_gamma_se"] = GammaGammaErrors.from_fit(
            gamma_gamma.se, gamma_gamma.check.se_note
        )
        fits.append(gamma_gamma)
    warnings = [w for f in fits for w in f.check.problems]
    return cls(**body, penalizer=fit.penalizer or None, warnings=warnings or None)


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


def dumps_params(params: AnyParams) -> str:
    """Render the file text: a comment line, then the fields in schema order."""
    body = {k: _clean(v) for k, v in params.model_dump().items() if v is not None}
    label = MODEL_LABELS[params.model]
    if isinstance(params, BGBBFile):
        command, what = "calibrate clv --model bgbb", f"opportunities: {params.opportunities}"
    else:
        what = f"{label} rates are per {unit_name(params.time_unit_days)}"
        command = (
            "calibrate bgnbd"
            if params.model == "bgnbd"
            else "calibrate clv --model " + (params.model)
        )
    comment = f"# Fitted by `promosim {command}` on {params.source}; {what}.\n"
    return comment + yaml.dump(
        body, Dumper=YamlDumper, sort_keys=False, default_flow_style=None, width=100
    )


def write_params(path: str | Path, params: AnyParams) -> Path:
    """Write a fitted-parameter file atomically (`files.atomic_write_text`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, dumps_params(params))
    return path


_READ: dict[Path, tuple[int, int, AnyParams]] = {}  # resolved path: (mtime_ns, size, params)


def read_params(path: str | Path, simulate: bool = True) -> AnyParams:
    """Read and validate a fitted-parameter file, once per process while the file is unchanged.

    Every engine model reads its population's file; the result is kept by resolved path and
    read again only when the file's modification time or size changes. It is frozen, so the
    callers can share it. With ``simulate`` (the default: a scenario's file) only a BG/NBD file
    (:class:`FittedParams`) is accepted; ``simulate=False`` also reads the other models.

    Raises:
        ParamsFileError: unreadable file, bad YAML or a field that does not validate; one line
            per problem naming the file, the line and the field. With ``simulate``, a file of
            another model, saying to fit BG/NBD.
    """
    path = Path(path)
    try:
        stat = path.stat()  # before reading: a change while reading is seen next time
        key = path.resolve()
        cached = _READ.get(key)
        if cached is None or cached[:2] != (stat.st_mtime_ns, stat.st_size):
            cached = _READ[key] = (stat.st_mtime_ns, stat.st_size, _read(path))
        params = cached[2]
    except OSError:
        params = _read(path)  # not cached: reports why the file cannot be read
    if simulate and not isinstance(params, FittedParams):
        _refuse_simulation(path, params.model)
    return params


def _read(path: Path) -> AnyParams:
    """Read and validate the file as its `model` says (errors name the path as given)."""
    data, root = read_yaml(path, ParamsFileError, EXPECTED)
    model = data.get("model", "bgnbd")
    if not isinstance(model, str) or model not in MODEL_FILES:
        expected = ", ".join(MODEL_FILES)
        raise ParamsFileError(str(path), [(("model",), f"expected one of: {expected}")], root)
    return validated(MODEL_FILES[model], data, ParamsFileError, str(path), root)


def _refuse_simulation(path: Path, model: str) -> None:
    """Raise the error of a scenario naming a file of a model the engine does not simulate."""
    _, root = read_yaml(path, ParamsFileError, EXPECTED)
    why = (
        f"a {MODEL_LABELS[model]} fit cannot drive a simulation: the engine simulates BG/NBD "
        "only; fit BG/NBD to the same log (`promosim calibrate clv LOG --model bgnbd` or "
        "`promosim calibrate bgnbd LOG`) and name that file"
    )
    raise ParamsFileError(str(path), [(("model",), why)], root)
