"""Cross-field checks of a scenario's calendar and of the windows that refer to it.

Phases, hourly days, pre-sale payment days, the windows benefits and touches are online in, and
the KPI windows; called by `checks.check_references`. Each returns (field path, what was
expected) pairs.
"""

from __future__ import annotations

from simulator.scenario.schema import MAX_DAYS, MAX_KPI_WINDOWS, Calendar, KpiWindow, Window


def check_hours(cal: Calendar) -> list[tuple[tuple, str]]:
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


def check_calendar(cal: Calendar) -> list[tuple[tuple, str]]:
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


def check_window(
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


def check_kpi_windows(windows: dict[str, KpiWindow], cal: Calendar) -> list[tuple[tuple, str]]:
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
            p += check_window(Window(start=w.start, end=w.end), where, cal, set())
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
