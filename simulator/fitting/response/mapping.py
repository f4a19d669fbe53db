"""From a test's window outcomes to the model's per-day parameters (docs/calibration.md).

The model lifts visits only on the day of a contact: that day's expected visits are multiplied
by 1 + response_lift × m (m the `response_by_segment` multiplier, fatigue aside), and a visit
day buys with chance p = sigmoid(logit(conversion_per_visit) + effects). A test reports whether
a customer visited and converted at all over a window of W days in which the treated got K
contacts on K different days. With a daily visit chance q the same for the customers of a group
(homogeneous; the rare-visit limit needs no more) and a per-visit-day purchase chance p:

    control:  P(no visit) = (1 - q)^W                      P(no purchase) = (1 - q p0)^W
    treated:  P(no visit) = (1 - q)^(W-K) (1 - q(1+L))^K   P(no purchase) =
                            (1 - q p1)^(W-K) (1 - q(1+L) p1)^K

so q comes from the control's visit rate, L from the treated's (closed form), p0 from the
control's conversion and p1 from the treated's (solved numerically); W = K = 1 gives L =
visit_rate_1 / visit_rate_0 - 1 and p = conversion given visit. Standard errors by the delta
method: numerical gradients of the map against the multinomial covariance of each arm's
(visit rate, conversion) (arms independent).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from simulator.errors import UserError
from simulator.fitting.response.estimate import Estimate, logit

STEP = 1e-6  # relative step of the numerical gradients


class MappingError(UserError):
    """A test whose outcomes do not define the model parameter asked for."""


@dataclass(frozen=True)
class Window:
    """The test window: its days, and the contact days of each treated customer in it."""

    days: int = 1
    contacts: int = 1

    def __post_init__(self):
        if not 1 <= self.contacts <= self.days:
            raise MappingError(
                f"--contacts-per-customer ({self.contacts}) must be from 1 to --window-days "
                f"({self.days}): the model lifts visits on each contact's day"
            )


@dataclass(frozen=True)
class Arm:
    """One arm within a group: customers, and shares that visited and converted."""

    n: int
    visit: float
    conversion: float

    @classmethod
    def of(cls, levels: dict) -> Arm:
        """From `estimate.levels` of an arm."""
        return cls(levels["n"], levels["visit_rate"].value, levels["conversion"].value)

    def covariance(self) -> np.ndarray:
        """Covariance of the estimated (visit rate, conversion): converters are visitors."""
        v, c = self.visit, self.conversion
        return np.array([[v * (1 - v), c * (1 - v)], [c * (1 - v), c * (1 - c)]]) / self.n


def daily_visit(window: Window, visit: float) -> float:
    """q: the daily visit chance giving this window visit rate without contacts."""
    return 1.0 - (1.0 - visit) ** (1.0 / window.days)


def contact_lift(window: Window, control_visit: float, treated_visit: float) -> float:
    """L: the lift of a contact day's visits giving the treated window visit rate."""
    q = daily_visit(window, control_visit)
    quiet = (1.0 - q) ** (window.days - window.contacts)
    contact_day_miss = ((1.0 - treated_visit) / quiet) ** (1.0 / window.contacts)
    return (1.0 - contact_day_miss) / q - 1.0


def purchase_chance(window: Window, q: float, lift: float, conversion: float) -> float:
    """p: the per-visit-day purchase chance giving this window conversion."""
    quiet, busy = window.days - window.contacts, window.contacts

    def miss(p: float) -> float:
        return (1 - q * p) ** quiet * (1 - min(1.0, q * (1 + lift)) * p) ** busy

    target = 1.0 - conversion
    if miss(1.0) > target:
        raise MappingError(
            f"a conversion of {conversion:.4g} needs a purchase chance above 1 per visit day; "
            "check --window-days and --contacts-per-customer"
        )
    return brentq(lambda p: miss(p) - target, 0.0, 1.0, xtol=1e-14)


def visit_lift(window: Window, control: Arm, treated: Arm) -> Estimate:
    """The per-contact-day visit lift L with its delta-method standard error."""
    _require(control, treated, need_conversion=False)
    return _delta(lambda x: contact_lift(window, x[0], x[2]), control, treated)


def purchase_shift(window: Window, control: Arm, treated: Arm) -> Estimate:
    """logit(p1) - logit(p0): the log-odds a held offer adds to a visit day's purchase chance."""
    _require(control, treated, need_conversion=True)

    def shift(x: np.ndarray) -> float:
        q = daily_visit(window, x[0])
        p0 = purchase_chance(window, q, 0.0, x[1])
        p1 = purchase_chance(window, q, contact_lift(window, x[0], x[2]), x[3])
        return logit(p1) - logit(p0)

    return _delta(shift, control, treated)


def ratio(a: Estimate, b: Estimate) -> Estimate:
    """The ratio a / b of independent positive estimates (delta method on the log scale)."""
    value = a.value / b.value
    return Estimate(value, value * math.hypot(a.se / a.value, b.se / b.value))


def depth_scale(shift: float, depth: float, max_log_odds: float) -> float:
    """The depth_scale at which an offer `depth` deep adds `shift` log-odds for β = 1."""
    if not 0.0 < shift < max_log_odds:
        raise MappingError(
            f"the measured log-odds shift {shift:.4g} must be above 0 and below max_log_odds "
            f"({max_log_odds:g}) to give a depth_scale"
        )
    return -depth / math.log1p(-shift / max_log_odds)


def offer_depth_scale(shift: Estimate, depth: float, max_log_odds: float) -> Estimate:
    """depth_scale with its delta-method SE from the log-odds shift's."""
    value = depth_scale(shift.value, depth, max_log_odds)
    u = math.log1p(-shift.value / max_log_odds)
    return Estimate(value, depth / (u * u * (max_log_odds - shift.value)) * shift.se)


def _require(control: Arm, treated: Arm, need_conversion: bool) -> None:
    """Rates strictly inside (0, 1) where the map divides by them or takes their logs."""
    for name, arm in (("control", control), ("treated", treated)):
        if arm.n == 0:
            raise MappingError(f"the {name} arm has no customers in this group")
        if not 0.0 < arm.visit < 1.0:
            raise MappingError(
                f"the {name} arm's visit rate is {arm.visit:g}; a lift needs one above 0 "
                "and below 1"
            )
        if need_conversion and not 0.0 < arm.conversion < arm.visit:
            raise MappingError(
                f"the {name} arm's conversion is {arm.conversion:g}; a log-odds shift needs "
                "some visitors who bought and some who did not"
            )


def _delta(f, control: Arm, treated: Arm) -> Estimate:
    """f(visit0, conversion0, visit1, conversion1) and its delta-method standard error."""
    x = np.array([control.visit, control.conversion, treated.visit, treated.conversion])
    cov = np.zeros((4, 4))
    cov[:2, :2], cov[2:, 2:] = control.covariance(), treated.covariance()
    grad = np.zeros(4)
    for k in range(4):
        h = STEP * max(x[k], 1e-3)
        up, down = x.copy(), x.copy()
        up[k] += h
        down[k] -= h
        grad[k] = (f(up) - f(down)) / (2 * h)
    return Estimate(float(f(x)), float(math.sqrt(grad @ cov @ grad)))
