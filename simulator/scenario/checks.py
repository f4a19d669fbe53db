"""Checks of a scenario that pydantic cannot make field by field.

References between sections (phases, benefits, channels), calendar and window dates, lifecycle
rules of benefit types and channel kinds, and the population's shares and parameter file. Each
check returns (field path, message) problems; `load.validate_data` reports them all together.
"""

from __future__ import annotations

import math
from pathlib import Path

from pydantic import ValidationError

from simulator.clv.params_file import FittedParams, ParamsFileError, read_params
from simulator.domain.benefits import BENEFIT_TYPES, OFFER_TERMS
from simulator.domain.channels import CHANNEL_KINDS
from simulator.scenario.schema import (
    MAX_BENEFITS,
    MAX_CHANNELS,
    MAX_DAYS,
    MAX_KPI_WINDOWS,
    Basket,
    Calendar,
    Dropout,
    KpiWindow,
    Population,
    PurchaseRate,
    Scenario,
    Window,
)
from simulator.scenario.windows import window_days
from simulator.yamlfiles import pydantic_problem


def check_references(sc: Scenario, base_dir: Path) -> list[tuple[tuple, str]]:
    """Checks pydantic cannot do field by field: references, windows, lifecycle rules."""
    p: list[tuple[tuple, str]] = []
    p += _check_population(sc.population, base_dir)
    p += _check_calendar(sc.calendar)
    p += _check_kpi_windows(sc.windows, sc.calendar)
    p += _check_hours(sc.calendar)
    phases = {ph.name for ph in sc.calendar.phases}
    if len(sc.benefits) > MAX_BENEFITS:
        p.append((("benefits",), f"at most {MAX_BENEFITS} benefits, got {len(sc.benefits)}"))
    if len(sc.channels) > MAX_CHANNELS:
        p.append((("channels",), f"at most {MAX_CHANNELS} channels, got {len(sc.channels)}"))
    for bname, b in sc.benefits.items():
        p += _check_window(b.online, ("benefits", bname, "online"), sc.calendar, phases)
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
        window = _check_window(t.when, where + ("when",), sc.calendar, phases)
        p += window or _check_touch_hour(sc, t, where + ("when", "hour"))
    return p


def _check_hours(cal: Calendar) -> list[tuple[tuple, str]]:
    """Hourly days lie in the calendar, each named once; the traffic profile is not all zero."""
    if cal.hours is None:
        return []
    p: list[tuple[tuple, str]] = []
    seen = set()
    for k, d in enumerate(cal.hours.days):
        where = ("calendar", "hours", "days", k)
        if d < cal.start or d > cal.end:
            p.append((where, f"{d} is outside the calendar {cal.start}..{cal.end}"))
        elif d in seen:
            p.append((where, f"{d} is listed twice; expected each hourly day once"))
        seen.add(d)
    if sum(cal.hours.profile) <= 0:
        p.append(
            (
                ("calendar", "hours", "profile"),
                "every hour has weight 0; expected the day's traffic by hour (24 weights, "
                "at least one positive)",
            )
        )
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


def _check_population(pop: Population, base_dir: Path) -> list[tuple[tuple, str]]:
    """State shares sum to 1; inline rates or a params file (not both); churn after dormancy."""
    p: list[tuple[tuple, str]] = []
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
    if pop.churn_after_days <= pop.dormant_after_days:
        p.append(
            (
                ("population", "churn_after_days"),
                "must be greater than dormant_after_days "
                f"({pop.dormant_after_days}), got {pop.churn_after_days}",
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


def _check_calendar(cal: Calendar) -> list[tuple[tuple, str]]:
    """Calendar order and length; phases named once, inside the calendar, not overlapping."""
    p: list[tuple[tuple, str]] = []
    if cal.end < cal.start:
        p.append((("calendar", "end"), f"end {cal.end} is before start {cal.start}"))
        return p
    if (cal.end - cal.start).days + 1 > MAX_DAYS:
        p.append((("calendar", "end"), f"at most {MAX_DAYS} days"))
    seen: dict[str, int] = {}
    for k, ph in enumerate(cal.phases):
        where = ("calendar", "phases", k)
        if ph.name in seen:
            p.append((where + ("name",), f"phase name '{ph.name}' is used twice"))
        seen[ph.name] = k
        if ph.end < ph.start:
            p.append((where + ("end",), f"end {ph.end} is before start {ph.start}"))
        if ph.start < cal.start or ph.end > cal.end:
            p.append(
                (
                    where,
                    f"phase '{ph.name}' ({ph.start}..{ph.end}) lies outside the "
                    f"calendar {cal.start}..{cal.end}",
                )
            )
    ordered = sorted(enumerate(cal.phases), key=lambda kp: kp[1].start)
    for (_, a), (kb, b) in zip(ordered, ordered[1:], strict=False):
        if b.start <= a.end:
            p.append(
                (
                    ("calendar", "phases", kb),
                    f"phase '{b.name}' ({b.start}..{b.end}) "
                    f"overlaps phase '{a.name}' ({a.start}..{a.end}); phases must not overlap",
                )
            )
    cutoff = cal.old_member_cutoff
    if cutoff is not None and not cal.start <= cutoff <= cal.end:
        p.append(
            (
                ("calendar", "old_member_cutoff"),
                f"{cutoff} is outside the calendar {cal.start}..{cal.end}; expected a day of it",
            )
        )
    p += _check_payment_days(cal)
    for d in cal.traffic_days:
        if d < cal.start or d > cal.end:
            p.append(
                (
                    ("calendar", "traffic_days", d),
                    f"{d} is outside the calendar {cal.start}..{cal.end}",
                )
            )
    return p


def _check_payment_days(cal: Calendar) -> list[tuple[tuple, str]]:
    """A pre-sale's final payment lies after the phase, in the calendar, before the next pre-sale.

    A shopper holds one balance at a time (the kernel does not store which day it is due): the
    deposits of an earlier pre-sale must be due before a later pre-sale starts, or on the same
    day as the later one's.
    """
    p: list[tuple[tuple, str]] = []
    for k, ph in enumerate(cal.phases):
        where = ("calendar", "phases", k, "final_payment")
        if ph.final_payment is not None and not ph.presale:
            p.append((where, "final_payment is the balance day of a pre-sale: needs presale: true"))
        elif ph.presale and not ph.end < ph.payment_day <= cal.end:
            p.append(
                (
                    where,
                    f"the final payment of pre-sale '{ph.name}' must lie after its end {ph.end} "
                    f"and inside the calendar (to {cal.end}); got {ph.payment_day}"
                    + ("" if ph.final_payment else " (the default: the day after the phase)"),
                )
            )
    presales = sorted(
        ((k, ph) for k, ph in enumerate(cal.phases) if ph.presale), key=lambda kp: kp[1].start
    )
    for (ka, a), (_, b) in zip(presales, presales[1:], strict=False):
        if a.payment_day >= b.start and a.payment_day != b.payment_day:
            p.append(
                (
                    ("calendar", "phases", ka, "final_payment"),
                    f"pre-sale '{a.name}' is paid on {a.payment_day}, after pre-sale '{b.name}' "
                    f"starts ({b.start}); expected a day before {b.start} or {b.payment_day}, "
                    f"the day '{b.name}' is paid",
                )
            )
    return p


def _check_window(
    w: Window, where: tuple, cal: Calendar, phases: set[str]
) -> list[tuple[tuple, str]]:
    """A window's phases exist, its dates lie in the calendar, and a range has both ends."""
    p: list[tuple[tuple, str]] = []
    dated = cal.start <= cal.end  # else reported once on calendar.end; no date would be inside
    for k, ph in enumerate(w.phases):
        if ph not in phases:
            p.append(
                (
                    where + ("phases", k),
                    f"unknown phase '{ph}'; defined: " + (", ".join(sorted(phases)) or "none"),
                )
            )
    for k, d in enumerate(w.dates):
        if dated and (d < cal.start or d > cal.end):
            p.append((where + ("dates", k), f"{d} is outside the calendar {cal.start}..{cal.end}"))
    if (w.start is None) != (w.end is None):
        given = "start" if w.end is None else "end"
        p.append(
            (
                where + (given,),
                f"a window range needs both start and end, or neither; got only {given}",
            )
        )
    elif w.start is not None and w.end is not None:
        if w.end < w.start:
            p.append((where + ("end",), f"end {w.end} is before start {w.start}"))
        if dated and (w.start < cal.start or w.end > cal.end):
            p.append(
                (where, f"{w.start}..{w.end} lies outside the calendar {cal.start}..{cal.end}")
            )
    return p


def _check_kpi_windows(windows: dict[str, KpiWindow], cal: Calendar) -> list[tuple[tuple, str]]:
    """At most MAX_KPI_WINDOWS windows, each a range inside the calendar or contiguous phases."""
    p: list[tuple[tuple, str]] = []
    if len(windows) > MAX_KPI_WINDOWS:
        p.append((("windows",), f"at most {MAX_KPI_WINDOWS} windows, got {len(windows)}"))
    for name, w in windows.items():
        where = ("windows", name)
        ranged = w.start is not None or w.end is not None
        if ranged == bool(w.phases):
            expected = "expected either {start, end} or {phases: [...]}, not both or neither"
            p.append((where, expected))
        elif w.phases:
            p += _check_window_phases(w.phases, where, cal)
        else:
            p += _check_window(Window(start=w.start, end=w.end), where, cal, set())
    return p


def _check_window_phases(names: list[str], where: tuple, cal: Calendar) -> list[tuple[tuple, str]]:
    """The phases exist and, taken in date order, each starts the day after the previous ends."""
    by_name = {ph.name: ph for ph in cal.phases}
    unknown = [(k, n) for k, n in enumerate(names) if n not in by_name]
    if unknown:
        defined = ", ".join(sorted(by_name)) or "none"
        return [
            (where + ("phases", k), f"unknown phase '{n}'; defined: {defined}") for k, n in unknown
        ]
    chosen = sorted({n: by_name[n] for n in names}.values(), key=lambda ph: ph.start)
    for a, b in zip(chosen, chosen[1:], strict=False):
        if (b.start - a.end).days != 1:
            return [
                (
                    where + ("phases",),
                    f"phases must be contiguous: '{a.name}' ends {a.end} and '{b.name}' starts "
                    f"{b.start}; expected a phase list without gaps (or a {{start, end}} range)",
                )
            ]
    return []
