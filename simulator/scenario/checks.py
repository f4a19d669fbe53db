"""Checks of a scenario that pydantic cannot make field by field.

References between sections (phases, benefits, channels), calendar and window dates, lifecycle
rules of benefit types and channel kinds, and the population's shares and parameter file. Each
check returns (field path, message) problems; `load.validate_data` reports them all together.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

from pydantic import ValidationError

from simulator.clv.params_file import FittedParams, ParamsFileError, read_params
from simulator.domain.benefits import BENEFIT_TYPES, OFFER_TERMS
from simulator.domain.channels import CHANNEL_KINDS
from simulator.scenario.calendar_checks import (
    check_calendar,
    check_hours,
    check_kpi_windows,
    check_window,
)
from simulator.scenario.schema import (
    MAX_BENEFITS,
    MAX_CHANNELS,
    Basket,
    Dropout,
    Population,
    PurchaseRate,
    Scenario,
)
from simulator.scenario.windows import window_days
from simulator.yamlfiles import pydantic_problem


def check_references(sc: Scenario, base_dir: Path) -> list[tuple[tuple, str]]:
    """Checks pydantic cannot do field by field: references, windows, lifecycle rules."""
    p: list[tuple[tuple, str]] = []
    p += _check_population(sc.population, base_dir, sc.calendar.start)
    p += check_calendar(sc.calendar)
    p += check_kpi_windows(sc.windows, sc.calendar)
    p += check_hours(sc.calendar)
    phases = {ph.name for ph in sc.calendar.phases}
    if len(sc.benefits) > MAX_BENEFITS:
        p.append((("benefits",), f"at most {MAX_BENEFITS} benefits, got {len(sc.benefits)}"))
    if len(sc.channels) > MAX_CHANNELS:
        p.append((("channels",), f"at most {MAX_CHANNELS} channels, got {len(sc.channels)}"))
    for bname, b in sc.benefits.items():
        p += check_window(b.online, ("benefits", bname, "online"), sc.calendar, phases)
        allowed = BENEFIT_TYPES[b.type].states
        for k, st in enumerate(b.target.states or []):
            if st not in allowed:
                p.append(
                    (
                        ("benefits", bname, "target", "states", k),
                        f"a {b.type} cannot be used by state '{st}'; it is for: "
                        + ", ".join(allowed),
                    )
                )
        if b.how_delivered == "on_enrol" and "enrolled" not in b.states:
            p.append(
                (
                    ("benefits", bname, "delivery"),
                    "on_enrol delivery needs 'enrolled' among the target states",
                )
            )
        p += _check_offer(b, ("benefits", bname))
    for cname, c in sc.channels.items():
        kind_reach = set(CHANNEL_KINDS[c.kind])
        if "all" not in kind_reach:
            for k, aud in enumerate(c.reach or []):
                if aud not in kind_reach:
                    p.append(
                        (
                            ("channels", cname, "reach", k),
                            f"a channel of kind {c.kind} cannot reach '{aud}'; it can only "
                            f"reach: {', '.join(sorted(kind_reach))}",
                        )
                    )
    for tname, t in sc.plan.items():
        where = ("plan", tname)
        if t.channel not in sc.channels:
            p.append(
                (
                    where + ("channel",),
                    f"unknown channel '{t.channel}'; defined: "
                    + (", ".join(sc.channels) or "none"),
                )
            )
        if t.benefit is not None and t.benefit not in sc.benefits:
            p.append(
                (
                    where + ("benefit",),
                    f"unknown benefit '{t.benefit}'; defined: "
                    + (", ".join(sc.benefits) or "none"),
                )
            )
        elif t.benefit is not None and sc.benefits[t.benefit].how_delivered == "on_enrol":
            p.append(
                (
                    where + ("benefit",),
                    f"benefit '{t.benefit}' is granted on enrolment "
                    "and cannot be pushed by a touch",
                )
            )
        if (
            t.budget is not None
            and t.channel in sc.channels
            and sc.channels[t.channel].cost_per_contact == 0
        ):
            p.append(
                (
                    where + ("budget",),
                    f"a budget caps contact cost, and channel "
                    f"'{t.channel}' has cost_per_contact 0, so it would never bind; expected "
                    "no budget, or a channel with a cost per contact",
                )
            )
        window = check_window(t.when, where + ("when",), sc.calendar, phases)
        p += window or _check_touch_hour(sc, t, where + ("when", "hour"))
    return p


def _check_touch_hour(sc: Scenario, t, where: tuple) -> list[tuple[tuple, str]]:
    """A touch timed after 00:00 is sent on hourly days only (other days have no hours)."""
    if t.when.hour == 0:
        return []
    hourly = set(sc.calendar.hours.days) if sc.calendar.hours else set()
    days = [d for d, on in zip(sc.days, window_days(t.when, sc), strict=True) if on]
    other = [d for d in days if d not in hourly]
    if not other:
        return []
    more = f" and {len(other) - 1} more day(s)" if len(other) > 1 else ""
    return [
        (
            where,
            f"hour {t.when.hour} needs days split into hours, but the touch is also sent on "
            f"{other[0]}{more}, which calendar.hours.days does not list; expected hour 0, "
            "or those days in calendar.hours.days",
        )
    ]


def _check_offer(b, where: tuple) -> list[tuple[tuple, str]]:
    """The offer states only the terms its type's class has; price benefits act by terms."""
    kind = BENEFIT_TYPES[b.type]
    allowed = OFFER_TERMS[kind.offer]
    p = []
    for term in sorted(b.offer.model_fields_set):
        if term not in allowed:
            p.append(
                (
                    where + ("offer", term),
                    f"a {b.type} ({kind.offer} offer) has no term '{term}'; it states: "
                    + (", ".join(allowed) or "no terms"),
                )
            )
    if b.offer.amount_off > 0 and b.offer.percent_off > 0:
        p.append((where + ("offer",), "expected amount_off or percent_off, not both"))
    if kind.offer == "platform" and b.offer.per_spend is None:
        p.append((where + ("offer", "per_spend"), "a platform discount needs per_spend (yuan)"))
    if kind.family == "price" and b.effects.purchase > 0:
        p.append(
            (
                where + ("effects", "purchase"),
                f"a {b.type} moves purchase through its offer terms (docs/model.md, Offers); "
                "expected no effects.purchase",
            )
        )
    p += _check_payment_effect(b, where)
    if b.valid_days is not None and b.how_delivered != "on_enrol":
        p.append(
            (
                where + ("valid_days",),
                "valid_days counts from enrolment, for offers granted on enrolment; a "
                f"{b.how_delivered} offer is valid on the days it is online: expected an "
                "`online` window (e.g. {phases: [first_wave, peak_day]}) instead",
            )
        )
    if b.how_delivered == "store" and b.grant_cost > 0:
        p.append(
            (
                where + ("grant_cost",),
                f"a {b.type} is delivered in store, never granted, so a grant_cost would never "
                "be charged; expected 0, or an offer term",
            )
        )
    return p


def _check_payment_effect(b, where: tuple) -> list[tuple[tuple, str]]:
    """effects.payment only on a payment reminder, which acts on nothing else."""
    if not BENEFIT_TYPES[b.type].at_payment:
        if b.effects.payment > 0:
            return [
                (
                    where + ("effects", "payment"),
                    f"only a payment_reminder acts on paying a pre-sale balance; a {b.type} "
                    "expected no effects.payment",
                )
            ]
        return []
    return [
        (
            where + ("effects", name),
            f"a {b.type} acts only on paying a pre-sale balance (effects.payment); "
            f"expected no effects.{name}",
        )
        for name in ("purchase", "enrol")
        if getattr(b.effects, name) > 0
    ]


def _check_population(pop: Population, base_dir: Path, start: date) -> list[tuple[tuple, str]]:
    """State shares sum to 1; inline rates or a params file (not both); churn after dormancy.

    Or a customer table (`_check_customers`); start: the calendar's first day.
    """
    if pop.customers is not None:
        return _check_customers(pop, base_dir, start) + _check_recency(pop)
    p: list[tuple[tuple, str]] = []
    if pop.shoppers is None:
        p.append((("population", "shoppers"), "required field is missing (or give customers)"))
    for name, spec in pop.segments.items():
        if spec.share is None:
            p.append((("population", "segments", name, "share"), "required field is missing"))
    total = sum(pop.mix.values())
    if not math.isclose(total, 1.0, abs_tol=1e-6):
        p.append((("population", "mix"), f"state shares must sum to 1, got {total:.6g}"))
    inline = [pop.purchase_rate, pop.dropout, pop.basket]
    if pop.params_file is None and any(x is None for x in inline):
        p.append((("population",), "give purchase_rate, dropout and basket, or a params_file"))
    if pop.params_file is not None:
        if any(x is not None for x in inline):
            p.append(
                (
                    ("population", "params_file"),
                    "give either a params_file or inline purchase_rate/dropout/basket, not both",
                )
            )
        elif not (base_dir / pop.params_file).is_file():
            p.append(
                (
                    ("population", "params_file"),
                    f"file not found: {pop.params_file} (relative to {base_dir})",
                )
            )
        else:
            p += _check_params_file(base_dir / pop.params_file)
    return p + _check_recency(pop)


def _check_recency(pop: Population) -> list[tuple[tuple, str]]:
    """A member churns after being dormant."""
    p = []
    if pop.churn_after_days <= pop.dormant_after_days:
        p.append(
            (
                ("population", "churn_after_days"),
                "must be greater than dormant_after_days "
                f"({pop.dormant_after_days}), got {pop.churn_after_days}",
            )
        )
    return p


CUSTOMER_TABLE_OWNS = ("mix", "params_file", "purchase_rate", "dropout", "basket", "initial_alive")
"""Population fields a customer table replaces: its rows and fitted model say all of it."""
SEGMENT_FROM_TABLE = ("share", "states", "by", "rate_multiplier", "basket_multiplier")
"""Segment fields a customer table replaces (who is in a segment, and their rates, are data)."""


def _check_customers(pop: Population, base_dir: Path, start: date) -> list[tuple[tuple, str]]:
    """A customer table: readable, its model usable, nothing it replaces given, enough rows.

    The calendar must start after the table's history ends (`engine.customers`).
    """
    from simulator.clv.customer_table import CustomerFileError, customer_table

    where = ("population", "customers")
    p = [
        (("population", name), "comes from the customer table; leave it out")
        for name in CUSTOMER_TABLE_OWNS
        if name in pop.model_fields_set
    ]
    for seg, spec in pop.segments.items():
        p += [
            (("population", "segments", seg, name), "comes from the customer table; leave it out")
            for name in SEGMENT_FROM_TABLE
            if name in spec.model_fields_set
        ]
    path = base_dir / pop.customers
    if not path.is_file():
        return p + [(where, f"file not found: {pop.customers} (relative to {base_dir})")]
    try:
        table = customer_table(path)
    except CustomerFileError as exc:
        return p + [(where, str(exc))]
    p += _fitted_problems(table.params, where, str(path))
    if start <= table.as_of_date:
        p.append(
            (
                ("calendar", "start"),
                f"the customers' history ({pop.customers}) runs to {table.as_of_date}; expected "
                "a calendar starting after it",
            )
        )
    if pop.shoppers is not None and pop.shoppers > table.n:
        p.append(
            (
                ("population", "shoppers"),
                f"the customer table {pop.customers} has {table.n:,} rows; expected at most "
                f"that many shoppers (a sample of it)",
            )
        )
    return p


def _check_params_file(path: Path) -> list[tuple[tuple, str]]:
    """The fitted-parameter file must validate and carry the Gamma-Gamma basket fit."""
    where = ("population", "params_file")
    try:
        fitted = read_params(path)
    except ParamsFileError as exc:
        return [(where, "invalid params file: " + "; ".join(str(exc).splitlines()))]
    return _fitted_problems(fitted, where, str(path))


def _fitted_problems(fitted: FittedParams, where: tuple, path: str) -> list[tuple[tuple, str]]:
    """Fitted parameters the engine can use: a Gamma-Gamma fit with q > 1, values in range."""
    if fitted.gamma_gamma is None:
        return [
            (
                where,
                f"{path} has no gamma_gamma section; expected a fit with basket "
                "parameters (gamma_gamma: {p, q, v})",
            )
        ]
    if fitted.gamma_gamma.q <= 1.0:
        return [
            (
                where,
                f"{path}: gamma_gamma.q must be greater than 1 (the mean basket "
                f"p*v/(q-1) must be finite), got {fitted.gamma_gamma.q:g}",
            )
        ]
    return [(where, f"{path}: {problem}") for problem in _fitted_range_problems(fitted)]


def _fitted_range_problems(fitted: FittedParams) -> list[str]:
    """Fitted estimates must lie in the ranges inline purchase_rate, dropout and basket allow."""
    bg = fitted.bgnbd
    problems = []
    for model, section, values in [
        (
            PurchaseRate,
            "bgnbd",
            {"r": bg.r, "alpha": bg.alpha, "time_unit_days": fitted.time_unit_days},
        ),
        (Dropout, "bgnbd", {"a": bg.a, "b": bg.b}),
        (Basket, "gamma_gamma", fitted.gamma_gamma.model_dump()),
    ]:
        try:
            model.model_validate(values)
        except ValidationError as exc:
            for err in exc.errors():
                key = err["loc"][0]
                field = key if key == "time_unit_days" else f"{section}.{key}"
                problems.append(f"{field}: {pydantic_problem(err, model)[1]}")
    return problems
