"""Lifts of a randomised test, arm by arm against the control, with delta-method standard errors.

For each group of customers (all of them; each segment column's members; with segment columns,
the customers in none of them) and each treatment arm, five measures are compared with the
control: the visit rate, conversion given a visit, conversion, spend per customer and spend per
converter. Each arm's level of a measure is a proportion or a mean over independent customers,
so its standard error is the binomial sqrt(p(1 - p) / n) or the sample s / sqrt(n); arms are
independent (randomised), so a difference, a ratio or a log-odds difference gets its standard
error by the delta method from the two levels'. The delta method rather than the bootstrap:
it is exact for differences of means, first-order for ratios and log-odds, costs nothing, and
gives the same numbers on every run (a bootstrap would need its own seed and thousands of
passes over the file); with the thousands of customers a test needs to measure a lift at all,
the means are near normal. Intervals are estimate ± 1.96 SE (95%).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simulator.fitting.response.experiment_file import Experiment

Z95 = 1.959963984540054
MEASURES = ("visit_rate", "conversion_given_visit", "conversion", "spend_per_customer",
            "spend_per_converter")  # fmt: skip
NO_SEGMENT = "no_segment"


@dataclass(frozen=True)
class Estimate:
    """A value with its standard error; None where the data cannot define it."""

    value: float | None
    se: float | None

    @property
    def ci(self) -> tuple[float, float] | None:
        """The 95% interval, value ± 1.96 SE."""
        if self.value is None or self.se is None:
            return None
        return (self.value - Z95 * self.se, self.value + Z95 * self.se)

    def as_dict(self) -> dict:
        """JSON form: value, se and the 95% interval."""
        return {"value": self.value, "se": self.se, "ci95": list(self.ci) if self.ci else None}


NONE = Estimate(None, None)


def proportion(k: int, n: int) -> Estimate:
    """Share k / n of independent customers, binomial standard error."""
    if n == 0:
        return NONE
    p = k / n
    return Estimate(p, math.sqrt(p * (1.0 - p) / n))


def mean(values: np.ndarray) -> Estimate:
    """Mean of independent values, standard error s / sqrt(n) (0 for a single value)."""
    n = len(values)
    if n == 0:
        return NONE
    sd = float(np.std(values, ddof=1)) if n > 1 else 0.0
    return Estimate(float(np.mean(values)), sd / math.sqrt(n))


def difference(a: Estimate, b: Estimate) -> Estimate:
    """The difference a - b of independent estimates."""
    if a.value is None or b.value is None:
        return NONE
    return Estimate(a.value - b.value, math.hypot(a.se, b.se))


def relative(a: Estimate, b: Estimate) -> Estimate:
    """The relative change a / b - 1 of independent estimates (delta method); None if b is 0."""
    if a.value is None or b.value is None or b.value == 0.0:
        return NONE
    ratio = a.value / b.value
    return Estimate(ratio - 1.0, math.hypot(a.se / b.value, ratio * b.se / b.value))


def log_odds_shift(a: Estimate, b: Estimate) -> Estimate:
    """logit(a) - logit(b) of independent proportions (delta method); None at 0 or 1."""
    if a.value is None or b.value is None or not (0 < a.value < 1 and 0 < b.value < 1):
        return NONE
    shift = logit(a.value) - logit(b.value)
    se = math.hypot(a.se / (a.value * (1 - a.value)), b.se / (b.value * (1 - b.value)))
    return Estimate(shift, se)


def logit(p: float) -> float:
    """log(p / (1 - p))."""
    return math.log(p / (1.0 - p))


def levels(exp: Experiment, rows: np.ndarray) -> dict[str, Estimate]:
    """The five measures over the customers marked in `rows`."""
    visited, converted = exp.visited[rows], exp.converted[rows]
    spend = exp.spend[rows]
    n, visitors, converters = len(spend), int(visited.sum()), int(converted.sum())
    return {
        "n": n,
        "visit_rate": proportion(visitors, n),
        "conversion_given_visit": proportion(converters, visitors),
        "conversion": proportion(converters, n),
        "spend_per_customer": mean(spend),
        "spend_per_converter": mean(spend[converted]),
    }


@dataclass(frozen=True)
class Comparison:
    """One treatment arm against the control within one group of customers."""

    group: str
    arm: str
    control: dict  # levels of the control: n and the five measures
    treated: dict  # levels of the arm
    difference: dict[str, Estimate]  # treated - control, per measure
    relative: dict[str, Estimate]  # treated / control - 1, per measure
    log_odds: Estimate  # logit(conversion given visit) of the arm minus the control's

    def as_dict(self) -> dict:
        """JSON form."""

        def side(lv: dict) -> dict:
            return {k: (v.as_dict() if isinstance(v, Estimate) else v) for k, v in lv.items()}

        return {
            "group": self.group,
            "arm": self.arm,
            "control": side(self.control),
            "treated": side(self.treated),
            "difference": {k: v.as_dict() for k, v in self.difference.items()},
            "relative": {k: v.as_dict() for k, v in self.relative.items()},
            "conversion_given_visit_log_odds": self.log_odds.as_dict(),
        }


def compare_arm(exp: Experiment, group: str, members: np.ndarray, arm: int) -> Comparison:
    """Arm `arm` against the control among `members`."""
    control = levels(exp, members & (exp.arm == 0))
    treated = levels(exp, members & (exp.arm == arm))
    return Comparison(
        group=group,
        arm=exp.arms[arm],
        control=control,
        treated=treated,
        difference={m: difference(treated[m], control[m]) for m in MEASURES},
        relative={m: relative(treated[m], control[m]) for m in MEASURES},
        log_odds=log_odds_shift(
            treated["conversion_given_visit"], control["conversion_given_visit"]
        ),
    )


def groups(exp: Experiment) -> dict[str, np.ndarray]:
    """Groups compared: everyone, each segment column's members, and those in no segment."""
    out = {"all": np.ones(exp.n_customers, dtype=bool)}
    out.update(exp.segments)
    if exp.segments:
        out[NO_SEGMENT] = ~np.logical_or.reduce(list(exp.segments.values()))
    return out


def compare_all(exp: Experiment) -> list[Comparison]:
    """Every treatment arm against the control, in every group."""
    return [
        compare_arm(exp, name, members, arm)
        for name, members in groups(exp).items()
        for arm in range(1, len(exp.arms))
    ]
