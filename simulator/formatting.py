"""Numbers as text: for CSV files, for people (tables, summaries, chart labels), rounded values.

One formatter per purpose, so a number reads the same in every table and file:

* `csv_number`: exact enough to recompute from (12 significant digits), empty when missing;
* `table_number`: a terminal table cell (thousands grouped, small values to 4 decimals);
* `short_number`: a summary cell (thousands grouped, 4 significant digits below 1000);
* `short_label`: a factor value typed by a person, long decimals cut to 4 significant digits;
* `tick_number`: a log-axis tick (30, 100, 10,000; 0.5 below one);
* `compact_number`: a number at a glance (8.88M, 201k, 0.623): chart labels, report headlines;
* `axis_number`: a linear-axis tick, as compact as its neighbours allow (8.885M next to 8.89M);
* `report_number` / `percent`: a cell of a report (201k, 8,224, 7.07; 67.7%, +1.2 pp);
* `significant` / `round_sig`: a value to a few significant digits, as text or as a number.

Missing values (None, NaN, ±inf) read "n/a" for people and "" in CSV.
"""

from __future__ import annotations

import math

NA = "n/a"


def missing(x) -> bool:
    """Whether a value is undefined: None, NaN or ±inf."""
    return x is None or (isinstance(x, float) and not math.isfinite(x))


def grouped(x: float) -> str:
    """A whole number with thousands separators: 1234.6 -> "1,235"."""
    return f"{x:,.0f}"


def significant(x: float, digits: int = 4) -> str:
    """The value to `digits` significant digits: 0.123456 -> "0.1235", 123456 -> "1.235e+05"."""
    return f"{x:.{digits}g}"


def round_sig(x: float, digits: int = 4) -> float:
    """The value rounded to `digits` significant digits (as fitted values are written)."""
    return float(significant(x, digits)) if x else 0.0


def csv_number(x) -> str:
    """A number for CSV: 12 significant digits, empty when missing (deterministic text)."""
    if missing(x):
        return ""
    if isinstance(x, bool):
        return str(int(x))
    if isinstance(x, int):
        return str(x)
    return significant(float(x), 12)


def table_number(x) -> str:
    """A KPI value for a terminal table: ints grouped, |x| < 10 to 4 decimals, else grouped."""
    if missing(x):
        return NA
    if isinstance(x, int):
        return f"{x:,}"
    if abs(x) < 10:
        return f"{x:.4f}"
    return grouped(x)


def short_number(x) -> str:
    """A number for people: thousands grouped, four significant digits below 1000."""
    if missing(x):
        return NA
    if abs(x) >= 1000:
        return grouped(x)
    return significant(x)


def short_label(text: str) -> str:
    """A factor value for people: long decimals cut to four significant digits."""
    try:
        x = float(text)
    except ValueError:
        return text
    return significant(x) if "." in text and len(text) > 8 else text


def tick_number(x: float) -> str:
    """A tick label on a log axis: plain grouped numbers (30, 10,000), 0.5 below one."""
    return grouped(x) if x >= 1 else f"{x:g}"


UNITS = ((1e9, "B"), (1e6, "M"), (1e3, "k"))  # compact suffixes, largest first


def compact_number(x, digits: int = 3) -> str:
    """A number at a glance, to `digits` significant digits with a unit suffix.

    8,880,000 -> "8.88M", 201,442 -> "201k", 17,951 -> "18.0k", 0.6234 -> "0.623", -0.14 ->
    "-0.14". Rounded before the unit is chosen, so 999,999 reads "1.00M", not "1000k".
    """
    if missing(x):
        return NA
    v = float(significant(float(x), digits))
    for unit, suffix in UNITS:
        if abs(v) >= unit:
            q = v / unit
            return f"{q:.{max(0, digits - len(str(int(abs(q)))))}f}{suffix}"
    return f"{v:.{digits}g}"


def axis_number(x: float, ticks) -> str:
    """A tick label of a linear axis whose ticks are `ticks`: unit and decimals shared by all.

    The unit (k from 10,000, M, B) is the largest tick's; the decimals are the fewest that write
    every tick exactly (8.880M, 8.885M, 8.890M; 2.5k, 5k, 7.5k), so labels are short and
    distinct, and there is never a 1e6 offset to look up.
    """
    finite = [float(t) for t in ticks if not missing(float(t))]
    top = max((abs(t) for t in finite), default=abs(x))
    unit, suffix = next(((u, s) for u, s in UNITS if top >= max(u, 1e4)), (1.0, ""))
    scaled = [t / unit for t in finite]
    decimals = next(
        (
            d
            for d in range(6)
            if all(abs(round(v, d) - v) <= 1e-9 * max(1.0, abs(v)) for v in scaled)
        ),
        6,
    )
    text = f"{x / unit:,.{decimals}f}"
    if float(text.replace(",", "")) == 0:
        return "0"
    return text + suffix


def report_number(x) -> str:
    """A number in a report table: 201k, 8.88M from 10,000; 8,224 below; 7.07, 0.835 below 1,000."""
    if missing(x):
        return NA
    if isinstance(x, bool):
        return "yes" if x else "no"
    if abs(x) >= 1e4:
        return compact_number(x)
    if abs(x) >= 1000 or isinstance(x, int):
        return grouped(x)
    return compact_number(x)


def percent(x, *, points: bool = False) -> str:
    """A share as a percentage (0.6766 -> "67.7%"); a difference of shares in points ("+1.2 pp")."""
    if missing(x):
        return NA
    return f"{100 * x:+.1f} pp" if points else f"{100 * x:.1f}%"
