"""The text of an export's date and amount columns as day numbers and amounts, vectorised.

Every function takes the distinct values of a column (an Arrow string array, already trimmed)
and returns one result per value; a value that does not fit raises `ValueProblem` with a mask
of the values at fault, which `exports` turns into an error naming the first row that holds one.

Dates: the layout is inferred from the first row's value, then every value must have it:
``YYYY-MM-DD``, ``YYYY/M/D``, ``YYYY.MM.DD``, ``YYYYMMDD``, ``YYYY年M月D日``, and
``DD/MM/YYYY`` or ``MM/DD/YYYY`` (any of ``/-.``), each optionally followed by a time
``hh:mm[:ss[.fff]]`` (after a space or ``T``, with an optional AM/PM) and a UTC offset (``Z``,
``+08:00``). Only the calendar day as written is kept: the time and the offset are checked and
dropped. Day/month order is settled by a number above 12 somewhere in the file; a file where
every date reads both ways is refused unless ``--date-format`` says.

Amounts: a currency sign (¥ ￥ $ € £, or 元 after) is dropped; one decimal mark per file
('.' or ','), the other mark grouping thousands in threes. The mark is inferred: a value with
both marks shows it (the last one), else a comma value that cannot be a thousands group
(``12,50``) makes ',' the mark, else '.' — except a file whose only marks are commas in thousand
groups (``1,234``), which is ambiguous and refused unless ``--decimal`` says.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from simulator.clv.logfile import MAX_AMOUNT

_TIME = (
    r"(?:(?:\s+|T)(?:[01]?[0-9]|2[0-3]):[0-5][0-9](?::(?:[0-5][0-9]|60)(?:[.,][0-9]+)?)?"
    r"(?:\s*[AaPp]\.?[Mm]\.?)?)?(?:\s*(?:Z|UTC|GMT|[+-][0-9]{2}(?::?[0-9]{2})?))?"
)
_Y, _M, _D = r"(?P<y>[0-9]{4})", r"(?P<m>[0-9]{1,2})", r"(?P<d>[0-9]{1,2})"
_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
DATE_HELP = (
    "a date such as 2010-12-01, 2010/12/1 8:26 or 2010-12-01 08:26:00 (one layout per file), "
    "or give --date-format"
)


class ValueProblem(Exception):
    """Values of a column that do not fit: which ones, what is wrong, what was expected."""

    def __init__(self, bad: np.ndarray, problem: str, expected: str):
        super().__init__(problem)
        self.bad, self.problem, self.expected = bad, problem, expected


# ---------------------------------------------------------------------------------- dates


def date_layout(first: str) -> tuple[str, str]:
    """The regular expression and the shown layout of a file's dates, from its first value.

    Raises:
        ValueProblem: the value has no layout listed in the module docstring (bad is None:
            the first row is at fault).
    """
    if found := re.match(r"[0-9]{4}([-/.])[0-9]{1,2}\1[0-9]{1,2}(?![0-9])", first):
        s = re.escape(found[1])
        shown = f"YYYY{found[1]}MM{found[1]}DD [hh:mm[:ss]]"
        return rf"^{_Y}{s}{_M}{s}{_D}{_TIME}$", shown
    if re.match(r"[0-9]{4}年", first):
        return rf"^{_Y}年{_M}月{_D}日?{_TIME}$", "YYYY年M月D日 [hh:mm[:ss]]"
    if re.match(r"[0-9]{8}(?![0-9])", first):
        return r"^(?P<y>[0-9]{4})(?P<m>[0-9]{2})(?P<d>[0-9]{2})" + _TIME + "$", "YYYYMMDD"
    if found := re.match(r"[0-9]{1,2}([-/.])[0-9]{1,2}\1[0-9]{4}(?![0-9])", first):
        s = re.escape(found[1])
        a, b = r"(?P<a>[0-9]{1,2})", r"(?P<b>[0-9]{1,2})"
        return rf"^{a}{s}{b}{s}{_Y}{_TIME}$", f"DD{found[1]}MM{found[1]}YYYY or MM/DD"
    raise ValueProblem(None, f"cannot tell the layout of date {first!r}", DATE_HELP)


def parse_dates(values: pa.Array, first: str, date_format: str | None) -> np.ndarray:
    """Day numbers (days since 1970-01-01) of date texts, in `date_format` or the inferred layout.

    Raises:
        ValueProblem: a value in another layout, not a calendar date, or a day/month order
            the file cannot settle.
    """
    if date_format is not None:
        return _formatted_days(values, date_format)
    pattern, shown = date_layout(first)
    parts = pc.extract_regex(values, pattern)
    matched = np.asarray(parts.is_valid())
    if not matched.all():
        raise ValueProblem(
            ~matched,
            "date {value!r} is not in the file's date layout " + f"{shown} (from its first row)",
            DATE_HELP,
        )
    fields = {k: _ints(parts.field(k)) for k in ("y", "m", "d", "a", "b") if _has(parts, k)}
    if "a" in fields:
        fields["d"], fields["m"] = _day_month(fields.pop("a"), fields.pop("b"))
    days, valid = _civil_days(fields["y"], fields["m"], fields["d"])
    if not valid.all():
        raise ValueProblem(~valid, "date {value!r} is not a valid date", DATE_HELP)
    return days


def _has(parts: pa.StructArray, name: str) -> bool:
    """Whether the struct of regex groups has a field `name`."""
    return parts.type.get_field_index(name) >= 0


def _ints(texts: pa.Array) -> np.ndarray:
    """Digit strings as int64."""
    return np.asarray(pc.cast(texts, pa.int64()))


def _day_month(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(day, month) of dates written A/B/YYYY: a number above 12 tells which is the day."""
    day_first, month_first = (a > 12).any(), (b > 12).any()
    if day_first and month_first:
        raise ValueProblem(
            b > 12,
            "date {value!r} is month/day/year, but other dates of the file are day/month/year",
            "one order of day and month in the whole file",
        )
    if day_first or (a == b).all():
        return a, b
    if month_first:
        return b, a
    raise ValueProblem(
        a != b,
        "date {value!r} may be day/month or month/day and no date of the file has a number "
        "above 12 to tell",
        "--date-format %d/%m/%Y (day first) or %m/%d/%Y (month first), with the file's separator",
    )


def _civil_days(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Day numbers of (year, month, day) and whether each is a calendar date (year 1-9999).

    Integer arithmetic of the proleptic Gregorian calendar (H. Hinnant's days_from_civil).
    """
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    length = _MONTH_DAYS[np.clip(m, 1, 12)] + ((m == 2) & leap)
    valid = (y >= 1) & (y <= 9999) & (m >= 1) & (m <= 12) & (d >= 1) & (d <= length)
    y = y - (m <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * ((m + 9) % 12) + 2) // 5 + d - 1
    days = era * 146_097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719_468
    return np.where(valid, days, 0).astype(np.int32), valid


def _formatted_days(values: pa.Array, date_format: str) -> np.ndarray:
    """Day numbers of texts in a strftime format (pandas); an offset is dropped, not applied."""
    try:
        stamps = pd.to_datetime(values.to_pandas(), format=date_format, errors="coerce")
    except ValueError as exc:  # mixed UTC offsets, a bad format
        raise ValueProblem(
            np.zeros(len(values), dtype=bool), f"--date-format {date_format}: {exc}", DATE_HELP
        ) from None
    if stamps.dt.tz is not None:
        stamps = stamps.dt.tz_localize(None)
    bad = (stamps.isna() | (stamps.dt.year < 1)).to_numpy()
    if bad.any():
        raise ValueProblem(
            bad,
            "date {value!r} does not match " + f"--date-format {date_format}",
            f"dates written {date_format}",
        )
    return stamps.to_numpy().astype("datetime64[D]").astype(np.int64).astype(np.int32)


# -------------------------------------------------------------------------------- amounts


def parse_amounts(values: pa.Array, decimal: str | None) -> np.ndarray:
    """Amounts of texts (currency signs dropped, the file's decimal mark) as float64.

    Raises:
        ValueProblem: a value that is not a number in the file's style, an ambiguous comma,
            or an amount beyond ±`MAX_AMOUNT`.
    """
    values = pc.replace_substring_regex(values, r"^([+-]?)\s*[¥￥$€£]\s*", r"\1")
    values = pc.replace_substring_regex(values, r"\s*[¥￥$€£元]$", "")
    mark = decimal or _decimal_mark(values)
    group = "." if mark == "," else ","
    d, g = re.escape(mark), re.escape(group)
    number = (
        rf"^[+-]?(?:[0-9]{{1,3}}(?:{g}[0-9]{{3}})+|[0-9]+)(?:{d}[0-9]*)?(?:[eE][+-]?[0-9]+)?$"
        rf"|^[+-]?{d}[0-9]+$"
    )
    ok = np.asarray(pc.match_substring_regex(values, number))
    if not ok.all():
        raise ValueProblem(
            ~ok,
            "amount {value!r} is not a number " + f"with {mark!r} as the decimal mark",
            f"an amount such as 12{mark}50 or 1{group}234{mark}50 (thousands grouped by "
            f"{group!r}), or give --decimal",
        )
    plain = pc.replace_substring(values, group, "")
    if mark == ",":
        plain = pc.replace_substring(plain, ",", ".")
    amount = np.asarray(pc.cast(plain, pa.float64()), dtype=np.float64)
    big = ~(np.abs(amount) <= MAX_AMOUNT)
    if big.any():
        raise ValueProblem(
            big, "amount {value!r} is too large", f"an amount of at most {MAX_AMOUNT:g}"
        )
    return amount


def _decimal_mark(values: pa.Array) -> str:
    """The file's decimal mark, from the marks its amounts use (module docstring)."""
    comma = np.asarray(pc.match_substring(values, ","))
    if not comma.any():
        return "."
    dot = np.asarray(pc.match_substring(values, "."))
    both = np.flatnonzero(comma & dot)
    if len(both):
        text = values[int(both[0])].as_py()
        return "," if text.rfind(",") > text.rfind(".") else "."
    grouped = np.asarray(pc.match_substring_regex(values, r"^[+-]?[0-9]{1,3}(?:,[0-9]{3})+$"))
    if (comma & ~grouped).any():
        return ","
    if dot.any():
        return "."
    raise ValueProblem(
        comma,
        "amount {value!r}: the comma may be a decimal mark or a thousands separator, and no "
        "amount of the file tells",
        "--decimal . (1,234 is one thousand two hundred and thirty-four) or --decimal , "
        "(1,234 is one point two three four)",
    )
