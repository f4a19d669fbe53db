"""Transaction logs: load them and check every row.

A log is one row per purchase (customer, day, amount). Two file formats are read: the CDNOW
layout (whitespace-separated ``customer_id YYYYMMDD n_cds dollars``) and a CSV with a header
naming ``customer_id,date,amount``. Every problem in a file is reported as a
:class:`TransactionFileError` naming the file, the 1-based line and what was expected. Only a
regular file of at most `MAX_LOG_BYTES` is read (a FIFO or /dev/zero is refused, not read), CDNOW
customer ids are kept exact as int64, and amounts are bounded by `MAX_AMOUNT`. Per-customer
summaries of a log are in `summaries`.
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

from simulator.errors import UserError
from simulator.yamlfiles.inputs import UnreadableInput, read_input_bytes

EPOCH = dt.date(1970, 1, 1)
CDNOW_START = dt.date(1997, 1, 1)
"""First day of the CDNOW cohort's observation (week 1 starts here)."""
CDNOW_CAL_END = dt.date(1997, 9, 30)
"""Last day of the 39-week CDNOW calibration period (inclusive; day 273 is 1997-10-01)."""
CDNOW_END = dt.date(1998, 6, 30)
"""Last day of the CDNOW log: the 78-week observation ends here (holdout = weeks 40-78)."""

CDNOW_FIELDS = "customer_id YYYYMMDD n_cds dollars"
CSV_COLUMNS = ("customer_id", "date", "amount")
MAX_LOG_BYTES = 100_000_000
"""Largest log read: 100 MB (about 3 million rows); it is held in memory about ten times over."""
MAX_AMOUNT = 1e12
"""Largest amount of one purchase: sums and spend statistics over any log stay finite."""


class TransactionFileError(UserError, ValueError):
    """A transaction file that cannot be used; the message names the file, line and problem."""


@dataclass(frozen=True)
class Transactions:
    """A transaction log as parallel arrays, one entry per purchase, in file order.

    ``customer`` holds int64 codes ``0..n_customers-1``; ``customer_ids[code]`` is the id as
    written in the file. ``day`` counts days since 1970-01-01.
    """

    customer: np.ndarray
    day: np.ndarray
    amount: np.ndarray
    customer_ids: np.ndarray
    source: str = ""

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


def load_transactions(path: str | Path, fmt: Literal["cdnow", "csv"] = "cdnow") -> Transactions:
    """Read a transaction file (``fmt`` "cdnow" or "csv") and check every row.

    Raises:
        TransactionFileError: the file is missing, empty or has a bad row; the message names
            the file, the 1-based line and what was expected.
    """
    path = Path(path)
    text = _read_text(path)
    if fmt == "cdnow":
        table, lines = _split_cdnow(path, text)
        parsed = _parse_cdnow(path, table, lines)
    elif fmt == "csv":
        table, lines = _split_csv(path, text)
        parsed = _parse_csv(path, table, lines)
    else:
        raise ValueError(f"unknown transaction format {fmt!r}; expected 'cdnow' or 'csv'")
    ids, day, amount = parsed
    codes, uniques = pd.factorize(ids, sort=True)
    return Transactions(
        customer=codes.astype(np.int64),
        day=day,
        amount=amount,
        customer_ids=np.asarray(uniques),
        source=str(path),
    )


def _fail(path: Path, line: int, problem: str, expected: str) -> TransactionFileError:
    """Build the error for a bad line: file, 1-based line, what is wrong, what was expected."""
    return TransactionFileError(f"{path}, line {line}: {problem}; expected {expected}")


def _read_text(path: Path) -> str:
    """Read a file as UTF-8 text (a BOM is dropped); undecodable bytes are reported by line.

    Only a regular file of at most `MAX_LOG_BYTES` is read (`yamlfiles.inputs`).
    """
    try:
        data = read_input_bytes(path, MAX_LOG_BYTES, "a transaction log")
    except UnreadableInput as exc:
        raise TransactionFileError(f"{path}: {exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _fail(path, line, "the file is not UTF-8 text", "a text file") from exc


_PARSER_LINE = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


def _read_table(path: Path, text: str, sep: str, expected: str) -> pd.DataFrame:
    """Tokenise text into a string table, one row per physical line (blank lines kept)."""
    try:
        return pd.read_csv(
            io.StringIO(text),
            sep=sep,
            header=None,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            index_col=False,
        )
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except pd.errors.ParserError as exc:
        found = _PARSER_LINE.search(str(exc))
        if found is None:
            raise TransactionFileError(f"{path}: cannot parse the file ({exc})") from exc
        want, line, saw = found.groups()
        raise _fail(
            path, int(line), f"{_fields(int(saw))} where earlier lines have {want}", expected
        ) from exc


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
    table = _read_table(path, text, r"\s+", expected)
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


def _split_csv(path: Path, text: str) -> tuple[pd.DataFrame, np.ndarray]:
    """Tokenise a CSV file; check the header; return the needed columns and line numbers."""
    expected = "one value per header column"
    table = _read_table(path, text, ",", expected)
    if table.empty:
        raise _no_rows(path, 0, "`customer_id,date,amount`")
    header = [name.strip() for name in table.iloc[0].to_numpy(dtype=str)]
    missing = [name for name in CSV_COLUMNS if name not in header]
    if missing:
        raise _fail(
            path,
            1,
            f"the header lacks column(s) {', '.join(missing)}",
            "a header naming customer_id, date and amount (extra columns are allowed)",
        )
    table = table.iloc[1:, [header.index(name) for name in CSV_COLUMNS]]
    table.columns = list(CSV_COLUMNS)
    lines = np.arange(2, len(table) + 2)
    keep = _nonblank(table)
    if not keep.any():
        raise _no_rows(path, len(lines) + 1, "`customer_id,date,amount`")
    table, lines = table[keep], lines[keep]
    stripped = table.apply(lambda col: col.str.strip())
    empty = (stripped == "").to_numpy()
    if empty.any():
        row, col = np.argwhere(empty)[0]
        raise _fail(
            path,
            int(lines[row]),
            f"the {CSV_COLUMNS[col]} value is missing",
            "customer_id, date (YYYY-MM-DD) and amount on every row",
        )
    return stripped, lines


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
    if bad.any():
        i = int(np.argmax(bad))
        raise _fail(
            path,
            int(lines[i]),
            f"date {col.iloc[i]!r} is not a valid date",
            f"a date written {shown}",
        )
    days = stamps.to_numpy().astype("datetime64[D]").astype(np.int64)
    return days.astype(np.int32)


def _amounts(path: Path, col: pd.Series, lines: np.ndarray, expected: str) -> np.ndarray:
    """Convert the amount column to non-negative floats, reporting the first bad line."""
    amount = _numbers(path, col, lines, "amount", expected)
    for bad, problem, hint in [
        (amount < 0, "is negative", "an amount of 0 or more"),
        (amount > MAX_AMOUNT, "is too large", f"an amount of at most {MAX_AMOUNT:g}"),
    ]:
        if bad.any():
            i = int(np.argmax(bad))
            raise _fail(path, int(lines[i]), f"amount {col.iloc[i]} {problem}", hint)
    return amount


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


def _parse_csv(path: Path, table: pd.DataFrame, lines: np.ndarray):
    """Convert CSV string columns to (string ids, days, amounts)."""
    day = _days(path, table["date"], lines, "%Y-%m-%d", "YYYY-MM-DD")
    amount = _amounts(path, table["amount"], lines, "an amount such as 11.77")
    return table["customer_id"].to_numpy(dtype=object), day, amount
