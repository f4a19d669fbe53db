"""Transaction logs: load them and check every row.

A log is one row per purchase (customer, day, amount). Three formats are read: the CDNOW layout
(whitespace-separated ``customer_id YYYYMMDD n_cds dollars``, no header), and shop exports as
CSV or Parquet with a header, whose columns a `LogLayout` maps (`exports`). Any of them may be
gzip-compressed. Every problem in a file is reported as a :class:`TransactionFileError` naming
the file, the 1-based line (a Parquet file's row) and what was expected. Only a regular file of
at most `MAX_LOG_BYTES`, uncompressed, is read (`logfile`). Negative amounts are refunds, netted
per customer-day (`refunds`). CDNOW customer ids are kept exact as int64, and amounts are
bounded by `MAX_AMOUNT`. Per-customer summaries of a log are in `summaries`.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from simulator.clv.exports import LogLayout, read_export
from simulator.clv.logfile import (
    MAX_AMOUNT,
    MAX_LOG_BYTES,
    PARQUET_MAGIC,
    LoadNotes,
    TransactionFileError,
    decode,
    fail,
    read_log_bytes,
)
from simulator.clv.refunds import net_refunds

__all__ = [
    "MAX_AMOUNT",
    "MAX_LOG_BYTES",
    "LoadNotes",
    "LogLayout",
    "TransactionFileError",
    "Transactions",
    "date_of_day",
    "day_number",
    "infer_format",
    "load_transactions",
    "read_string_table",
]

EPOCH = dt.date(1970, 1, 1)
CDNOW_START = dt.date(1997, 1, 1)
"""First day of the CDNOW cohort's observation (week 1 starts here)."""
CDNOW_CAL_END = dt.date(1997, 9, 30)
"""Last day of the 39-week CDNOW calibration period (inclusive; day 273 is 1997-10-01)."""
CDNOW_END = dt.date(1998, 6, 30)
"""Last day of the CDNOW log: the 78-week observation ends here (holdout = weeks 40-78)."""

CDNOW_FIELDS = "customer_id YYYYMMDD n_cds dollars"
Format = Literal["cdnow", "csv", "parquet"]


@dataclass(frozen=True)
class Transactions:
    """A transaction log as parallel arrays, one entry per purchase, in file order.

    ``customer`` holds int64 codes ``0..n_customers-1``; ``customer_ids[code]`` is the id as
    written in the file (sorted). ``day`` counts days since 1970-01-01. A day with refunds is
    one entry of its net amount (`refunds`); ``notes`` says what loading dropped or netted.
    """

    customer: np.ndarray
    day: np.ndarray
    amount: np.ndarray
    customer_ids: np.ndarray
    source: str = ""
    notes: LoadNotes = LoadNotes()

    @property
    def n_customers(self) -> int:
        """Number of distinct customers in the log."""
        return len(self.customer_ids)

    @property
    def n_transactions(self) -> int:
        """Number of purchase rows in the log."""
        return len(self.customer)

    def subset(self, keep_customer: np.ndarray) -> Transactions:
        """Return the log of the customers whose code is marked True, recoded from zero."""
        keep_customer = np.asarray(keep_customer, dtype=bool)
        new_code = np.cumsum(keep_customer) - 1
        rows = keep_customer[self.customer]
        return Transactions(
            customer=new_code[self.customer[rows]].astype(np.int64),
            day=self.day[rows],
            amount=self.amount[rows],
            customer_ids=self.customer_ids[keep_customer],
            source=self.source,
            notes=self.notes,
        )


def day_number(date: dt.date | str) -> int:
    """Return the day number (days since 1970-01-01) of a date or ISO date string."""
    if isinstance(date, str):
        date = dt.date.fromisoformat(date)
    return (date - EPOCH).days


def date_of_day(day: int) -> dt.date:
    """Return the calendar date of a day number (days since 1970-01-01)."""
    return EPOCH + dt.timedelta(days=int(day))


# ---------------------------------------------------------------------------------------------
# Loading


def load_transactions(
    path: str | Path, fmt: Format | None = None, layout: LogLayout | None = None
) -> Transactions:
    """Read a transaction file (``fmt`` "cdnow", "csv" or "parquet"), check every row, net refunds.

    ``fmt`` None is `infer_format`'s guess; ``layout`` maps an export's columns and options
    (CSV and Parquet; only its encoding applies to the CDNOW layout).

    Raises:
        TransactionFileError: the file is missing, empty or has a bad row; the message names
            the file, the 1-based line (a Parquet row) and what was expected.
    """
    path = Path(path)
    layout = layout or LogLayout()
    data = read_log_bytes(path)
    fmt = fmt or infer_format(path, data, layout)
    if fmt == "cdnow":
        if layout != LogLayout(encoding=layout.encoding):
            raise TransactionFileError(
                f"{path}: the CDNOW layout has no header; expected --format csv or parquet "
                "with --columns, --sep, --date-format, --decimal or --drop-status"
            )
        text = decode(path, data, layout.encoding)
        table, lines = _split_cdnow(path, text)
        ids, day, amount = _parse_cdnow(path, table, lines)
        codes, uniques = pd.factorize(ids, sort=True)
        rows, dropped = len(ids), 0
    elif fmt in ("csv", "parquet"):
        codes, uniques, day, amount, rows, dropped = read_export(path, data, fmt, layout)
    else:
        raise ValueError(f"unknown transaction format {fmt!r}; expected cdnow, csv or parquet")
    keep, amount, refunds = net_refunds(codes, day, amount)
    if not keep.any():
        raise TransactionFileError(
            f"{path}: every purchase is refunded on its day; expected at least one transaction"
        )
    used = np.zeros(len(uniques), dtype=bool)
    used[codes[keep]] = True
    return Transactions(
        customer=(np.cumsum(used) - 1)[codes[keep]].astype(np.int64),
        day=day[keep],
        amount=amount[keep],
        customer_ids=np.asarray(uniques)[used],
        source=str(path),
        notes=LoadNotes(rows, dropped, refunds),
    )


def infer_format(path: Path, data: bytes, layout: LogLayout) -> Format:
    """The format of a log: Parquet by its magic bytes or name, CSV by name or a column map.

    A name is read without a final ``.gz``: ``.parquet``/``.pq`` is Parquet, ``.csv``/``.tsv``
    CSV; any other name is the CDNOW layout unless the layout maps columns or sets CSV options.
    """
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    last = suffixes[-1] if suffixes else ""
    if data[:4] == PARQUET_MAGIC or last in (".parquet", ".pq"):
        return "parquet"
    if last in (".csv", ".tsv") or layout != LogLayout(encoding=layout.encoding):
        return "csv"
    return "cdnow"


def _fail(path: Path, line: int, problem: str, expected: str) -> TransactionFileError:
    """Build the error for a bad line: file, 1-based line, what is wrong, what was expected."""
    return fail(path, f"line {line}", problem, expected)


_PARSER_LINE = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


def read_string_table(
    path: Path,
    text: str,
    sep: str,
    expected: str,
    error: type[Exception] = TransactionFileError,
    first_line: int = 1,
) -> pd.DataFrame:
    """Tokenise text into a string table, one row per physical line (blank lines kept).

    A line with more fields than the first raises `error` naming it (`first_line`: the file's
    line number of the text's first line).
    """
    try:
        return pd.read_csv(
            io.StringIO(text),
            sep=sep,
            header=None,
            dtype=object,  # Python strings: an Arrow-backed column is slow to iterate
            keep_default_na=False,
            skip_blank_lines=False,
            index_col=False,
        )
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except pd.errors.ParserError as exc:
        found = _PARSER_LINE.search(str(exc))
        if found is None:
            raise error(f"{path}: cannot parse the file ({exc})") from exc
        want, line, saw = found.groups()
        problem = f"{_fields(int(saw))} where earlier lines have {want}"
        line = int(line) + first_line - 1
        raise error(f"{path}, line {line}: {problem}; expected {expected}") from exc


def _fields(n: int) -> str:
    """Say how many fields a line has ("1 field", "3 fields")."""
    return f"found {n} field{'' if n == 1 else 's'}"


def _nonblank(table: pd.DataFrame) -> np.ndarray:
    """Return a mask of rows with at least one non-empty field."""
    if table.empty:
        return np.zeros(len(table), dtype=bool)
    return (table.to_numpy(dtype=str) != "").any(axis=1)


def _no_rows(path: Path, n_lines: int, expected: str) -> TransactionFileError:
    """Build the error for a file with no transaction rows."""
    problem = "the file is empty" if n_lines == 0 else "no transactions after the header"
    return _fail(path, n_lines + 1, problem, f"at least one row {expected}")


def _split_cdnow(path: Path, text: str) -> tuple[pd.DataFrame, np.ndarray]:
    """Tokenise a CDNOW file; drop a header line and blank lines; return rows and line numbers."""
    expected = f"4 whitespace-separated fields `{CDNOW_FIELDS}`"
    table = read_string_table(path, text, r"\s+", expected)
    lines = np.arange(1, len(table) + 1)
    keep = _nonblank(table)
    if keep.any():
        first = int(np.argmax(keep))
        fields = table.iloc[first].to_numpy(dtype=str)
        if pd.to_numeric(pd.Series(fields[fields != ""]), errors="coerce").isna().all():
            keep[first] = False  # a header such as "customer_id date number_of_cds dollar_value"
    if not keep.any():
        raise _no_rows(path, len(table), f"`{CDNOW_FIELDS}`")
    table, lines = table[keep], lines[keep]
    if table.shape[1] != 4:
        bad = 0 if table.shape[1] < 4 else int(np.argmax((table.iloc[:, 4:] != "").any(axis=1)))
        n_fields = int((table.iloc[bad] != "").sum())
        raise _fail(path, int(lines[bad]), _fields(n_fields), expected)
    missing = (table == "").any(axis=1).to_numpy()
    if missing.any():
        bad = int(np.argmax(missing))
        n_fields = int((table.iloc[bad] != "").sum())
        raise _fail(path, int(lines[bad]), _fields(n_fields), expected)
    return table, lines


def _numbers(path: Path, col: pd.Series, lines: np.ndarray, what: str, expected: str) -> np.ndarray:
    """Convert a string column to finite floats, reporting the first bad line."""
    values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.argmax(bad))
        raise _fail(path, int(lines[i]), f"{what} {col.iloc[i]!r} is not a number", expected)
    return values


def _days(path: Path, col: pd.Series, lines: np.ndarray, fmt: str, shown: str) -> np.ndarray:
    """Convert a string column of dates in ``fmt`` to int32 day numbers, reporting bad lines.

    Year 0, which pandas reads, is not a date either (no calendar date of Python has it).
    """
    stamps = pd.to_datetime(col, format=fmt, errors="coerce")
    bad = (stamps.isna() | (stamps.dt.year < 1)).to_numpy()
    _refuse_first(path, bad, lines, col, "date {!r} is not a valid date", f"a date written {shown}")
    days = stamps.to_numpy().astype("datetime64[D]").astype(np.int64)
    return days.astype(np.int32)


def _amounts(path: Path, col: pd.Series, lines: np.ndarray, expected: str) -> np.ndarray:
    """Convert the amount column to floats (a negative one is a refund), reporting bad lines."""
    amount = _numbers(path, col, lines, "amount", expected)
    bad = np.abs(amount) > MAX_AMOUNT
    _refuse_first(path, bad, lines, col, "amount {} is too large", f"at most {MAX_AMOUNT:g}")
    return amount


def _refuse_first(path: Path, bad, lines, col: pd.Series, problem: str, expected: str) -> None:
    """Raise the error of the first row marked bad; ``problem`` formats its value."""
    if bad.any():
        i = int(np.argmax(bad))
        raise _fail(path, int(lines[i]), problem.format(col.iloc[i]), expected)


def _customer_ids(path: Path, col: pd.Series, lines: np.ndarray) -> np.ndarray:
    """CDNOW customer ids as exact int64s: never through float64, where 2^53 + 1 is 2^53."""
    expected = "an integer customer id"
    digits = col.str.fullmatch(r"[-+]?[0-9]+").to_numpy(dtype=bool)
    if not digits.all():
        i = int(np.argmax(~digits))
        _numbers(path, col.iloc[i : i + 1], lines[i : i + 1], "customer id", expected)
        raise _fail(path, int(lines[i]), f"customer id {col.iloc[i]!r} is not an integer", expected)
    ids = [int(text) for text in col]
    big = [k for k, v in enumerate(ids) if not -(2**63) <= v < 2**63]
    if big:
        i = big[0]
        raise _fail(
            path,
            int(lines[i]),
            f"customer id {col.iloc[i]!r} is beyond the int64 range",
            f"{expected} of at most 19 digits",
        )
    return np.array(ids, dtype=np.int64)


def _parse_cdnow(path: Path, table: pd.DataFrame, lines: np.ndarray):
    """Convert CDNOW string columns to (integer ids, days, amounts)."""
    cols = [table.iloc[:, k] for k in range(4)]
    ids = _customer_ids(path, cols[0], lines)
    day = _days(path, cols[1], lines, "%Y%m%d", "YYYYMMDD")
    _numbers(path, cols[2], lines, "number of CDs", "a number of CDs")
    amount = _amounts(path, cols[3], lines, "a dollar amount such as 11.77")
    return ids, day, amount
