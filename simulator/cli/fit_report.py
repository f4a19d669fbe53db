"""Printing a fit: estimates, standard errors or intervals, and its status in words."""

from __future__ import annotations

import math

from simulator.cli.common import print_table


def _num(value: float) -> str:
    """A parameter value: 4 decimals in the usual range, else 4 significant digits."""
    if not math.isfinite(value):
        return "-"
    return f"{value:.4f}" if 1e-3 <= abs(value) < 1e6 else f"{value:.4g}"


def print_fit(fit, names) -> None:
    """A checked fit's estimates, standard errors and 95% intervals, and how they were found."""
    rows = []
    for k in names:
        ci = fit.check.intervals[k]
        low = "0" if ci.open_low else _num(ci.low)
        high = "inf" if ci.open_high else _num(ci.high)
        rows.append((k, _num(fit.as_dict()[k]), _num(fit.se[k]), f"[{low}, {high}]"))
    print_table(rows, ("parameter", "estimate", "std. error", "95% interval"))
    methods = {ci.method for ci in fit.check.intervals.values()}
    print(
        "95% intervals: "
        + (
            "profile likelihood (drop of 1.92; 0 or inf: not bounded that way)"
            if "profile" in methods
            else "θ·exp(±1.96·se/θ)"
        )
    )


def fit_status(fit) -> str:
    """How the optimiser ended, never "converged" for a boundary fit."""
    if not fit.converged:
        return f"NOT converged in {fit.iterations} iterations"
    if fit.check.boundary:
        return f"stopped at a boundary after {fit.iterations} iterations (see the warnings)"
    return f"converged in {fit.iterations} iterations"
