"""A randomised test, estimated and translated into scenario parameters with their uncertainty.

`fit_response` compares every treatment arm with the control (`estimate`), and for the arm
asked for maps the visit lift to a channel's `response_lift` (and `response_by_segment`), and
the change in purchase per visit to a mind-share benefit's `effects.purchase` or to the
population's `offer_response.depth_scale` (`mapping`; docs/calibration.md "From a randomised
test"). Each parameter's estimate and standard error become a distribution of an assumptions
file (`scenario.assumptions`): normal for a lift or a log-odds shift (truncated at the field's
bounds), lognormal for a ratio or a scale (its standard error taken on the log scale).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

from simulator.fitting.response.estimate import NO_SEGMENT, Comparison, Estimate, compare_all
from simulator.fitting.response.experiment_file import Experiment
from simulator.fitting.response.mapping import (
    Arm,
    MappingError,
    Window,
    offer_depth_scale,
    purchase_shift,
    ratio,
    visit_lift,
)
from simulator.scenario.assumptions import AssumptionsFile, LogNormal, Normal
from simulator.scenario.schema import MAX_FACTOR
from simulator.yamlfiles.loader import YamlDumper

MAX_PURCHASE_LOG_ODDS = 10.0  # schema bound of effects.purchase
DEPTH_SCALE_BOUNDS = (1e-3, 10.0)  # schema bounds of offer_response.depth_scale


@dataclass(frozen=True)
class Mapped:
    """A scenario parameter from the test: its path, estimate, distribution and derivation."""

    path: str
    estimate: Estimate
    dist: Normal | LogNormal
    how: str


@dataclass(frozen=True)
class Request:
    """What to translate: the arm, and the channel and/or benefit it tested."""

    arm: str | None = None
    channel: str | None = None
    benefit: str | None = None
    offer_depth: float | None = None  # a price offer's relative depth: map to depth_scale
    max_log_odds: float = 1.5  # the population's offer_response.max_log_odds

    @property
    def maps_anything(self) -> bool:
        """A channel, a benefit or an offer depth was asked for."""
        return any(x is not None for x in (self.channel, self.benefit, self.offer_depth))


@dataclass(frozen=True)
class ResponseFit:
    """The comparisons of every arm and group, and the parameters mapped from one arm."""

    experiment: Experiment
    window: Window
    comparisons: list[Comparison]
    arm: str | None = None
    mapped: list[Mapped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def assumptions(self) -> AssumptionsFile:
        """The assumptions file of the mapped parameters."""
        return AssumptionsFile(
            kind="assumptions",
            source=self.experiment.source,
            note=self.note(),
            assumptions={m.path: m.dist for m in self.mapped},
        )

    def note(self) -> str:
        """What the mapping assumes, in a line for the file."""
        return (
            f"promosim calibrate response, arm {self.arm!r} against control; window "
            f"{self.window.days} days, {self.window.contacts} contact day(s) per customer; "
            "assumes randomisation, no interference between customers, the window holding the "
            "whole effect, a lift multiplying a contact day's visits, and a daily visit chance "
            "common to the customers of a group (docs/calibration.md, From a randomised test)"
        )

    def as_dict(self) -> dict:
        """JSON form: every comparison, the mapped parameters with distributions, notes."""
        return {
            "source": self.experiment.source,
            "arms": list(self.experiment.arms),
            "window_days": self.window.days,
            "contacts_per_customer": self.window.contacts,
            "comparisons": [c.as_dict() for c in self.comparisons],
            "mapped_arm": self.arm,
            "parameters": {
                m.path: {
                    **m.estimate.as_dict(),
                    "distribution": m.dist.model_dump(exclude_none=True),
                    "from": m.how,
                }
                for m in self.mapped
            },
            "notes": self.notes,
        }


def fit_response(exp: Experiment, window: Window, request: Request) -> ResponseFit:
    """Compare every arm with the control; map the requested arm's effects to parameters."""
    comparisons = compare_all(exp)
    if not request.maps_anything:
        return ResponseFit(exp, window, comparisons)
    arm = _chosen_arm(exp, request.arm)
    cells = {c.group: (Arm.of(c.control), Arm.of(c.treated)) for c in comparisons if c.arm == arm}
    mapped: list[Mapped] = []
    notes: list[str] = []
    try:
        if request.channel is not None:
            mapped += _channel(request.channel, window, cells, list(exp.segments), notes)
        if request.benefit is not None or request.offer_depth is not None:
            mapped.append(_benefit(request, window, *cells["all"]))
    except MappingError as exc:
        raise MappingError(f"{exp.source}, arm {arm!r} against control: {exc}") from None
    notes += [
        f"{m.path}: the estimate {m.estimate.value:.4g} is below the field's least value "
        f"{m.dist.low:g}; its point is {m.dist.low:g} and draws are truncated there"
        for m in mapped
        if m.dist.low is not None and m.estimate.value < m.dist.low
    ]
    return ResponseFit(exp, window, comparisons, arm, mapped, notes)


def dumps_assumptions(fit: ResponseFit) -> str:
    """The assumptions file's text (validated against `AssumptionsFile` first)."""
    body = fit.assumptions().model_dump(exclude_none=True)
    body["assumptions"] = {  # each distribution's name first, then its parameters and bounds
        path: {"dist": dist.pop("dist"), **dist} for path, dist in body["assumptions"].items()
    }
    AssumptionsFile.model_validate(body)
    comment = f"# Written by `promosim calibrate response` from {fit.experiment.source}.\n"
    return comment + yaml.dump(body, Dumper=YamlDumper, sort_keys=False, width=100)


def _chosen_arm(exp: Experiment, arm: str | None) -> str:
    """The treatment arm to map: the one named, or the only one."""
    treated = exp.arms[1:]
    if not treated:
        raise MappingError(
            f"{exp.source} has only the control arm; expected customers in a treatment arm"
        )
    if arm is None:
        if len(treated) != 1:
            raise MappingError(
                f"{exp.source} has treatment arms {', '.join(treated)}; "
                "expected --arm naming the one to translate into parameters"
            )
        return treated[0]
    if arm not in treated:
        raise MappingError(
            f"arm {arm!r} has no customers in {exp.source}; expected one of the treatment "
            f"arms {', '.join(treated)}"
        )
    return arm


def _channel(name: str, window: Window, cells: dict, segments: list[str], notes: list[str]):
    """response_lift from the customers in no segment column, multipliers per segment."""
    base = NO_SEGMENT if segments else "all"
    if base == NO_SEGMENT and min(a.n for a in cells[base]) == 0:
        notes.append("every customer is in a segment column: response_lift from all customers")
        base, segments = "all", []
    lift = visit_lift(window, *cells[base])
    mapped = [
        Mapped(
            f"channels.{name}.response_lift",
            lift,
            Normal(dist="normal", mean=lift.value, sd=_positive(lift.se), low=0.0, high=MAX_FACTOR),
            f"visit lift per contact day, customers in group {base!r}",
        )
    ]
    for seg in segments:
        try:
            seg_lift = visit_lift(window, *cells[seg])
        except MappingError as exc:
            notes.append(f"response_by_segment.{seg} not written: {exc}")
            continue
        if seg_lift.value <= 0 or lift.value <= 0:
            notes.append(
                f"response_by_segment.{seg} not written: the lifts ({seg_lift.value:.4g} in "
                f"{seg}, {lift.value:.4g} in {base}) must both be above 0 for a multiplier"
            )
            continue
        m = ratio(seg_lift, lift)
        mapped.append(
            Mapped(
                f"channels.{name}.response_by_segment.{seg}",
                m,
                LogNormal(
                    dist="lognormal",
                    median=m.value,
                    sigma=_positive(m.se / m.value),
                    high=MAX_FACTOR,
                ),
                f"visit lift in {seg} / in {base!r}",
            )
        )
    return mapped


def _benefit(request: Request, window: Window, control: Arm, treated: Arm) -> Mapped:
    """The purchase log-odds shift as effects.purchase, or as offer_response.depth_scale."""
    shift = purchase_shift(window, control, treated)
    if request.offer_depth is None:
        return Mapped(
            f"benefits.{request.benefit}.effects.purchase",
            shift,
            Normal(
                dist="normal",
                mean=shift.value,
                sd=_positive(shift.se),
                low=0.0,
                high=MAX_PURCHASE_LOG_ODDS,
            ),
            "logit(purchase per visit day) treated - control, all customers",
        )
    scale = offer_depth_scale(shift, request.offer_depth, request.max_log_odds)
    low, high = DEPTH_SCALE_BOUNDS
    if not low <= scale.value <= high:
        raise MappingError(
            f"the depth_scale {scale.value:.4g} this test gives is outside [{low:g}, {high:g}]"
        )
    return Mapped(
        "population.offer_response.depth_scale",
        scale,
        LogNormal(
            dist="lognormal",
            median=scale.value,
            sigma=_positive(scale.se / scale.value),
            low=low,
            high=high,
        ),
        f"log-odds shift {shift.value:.4g} of an offer {request.offer_depth:g} deep, β = 1",
    )


def _positive(se: float) -> float:
    """A standard error usable as a distribution's spread (above 0)."""
    if not se > 0.0:
        raise MappingError("the standard error is 0: the test cannot give a distribution")
    return se
