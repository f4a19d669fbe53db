"""Member and prospect lists: CSV files of customer ids, join dates and segment columns.

A member list has a header with ``customer_id`` and ``join_date`` (ISO date ``2021-03-05`` or a
timestamp ``2021-03-05 08:26:00``: the calendar day counts); a prospect list (fans, followers,
cart users who never bought) has ``customer_id``. Any other column may be a segment: a column
named like a segment (`lifecycle.SEGMENTS`) fills it, and a ``column:NAME`` rule names others
(`segment_rules`). Every problem names the file, the 1-based line and what was expected.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from simulator.clv.transactions import TransactionFileError
from simulator.yamlfiles.inputs import UnreadableInput, read_input_bytes

MAX_LIST_BYTES = 2_000_000_000
"""Largest member or prospect list read (2 GB: about 5 x 10^7 rows)."""


@dataclass(frozen=True)
class CustomerList:
    """Rows of a member or prospect list: ids, join days (members) and the other columns."""

    source: str
    ids: np.ndarray  # str objects
    lines: np.ndarray  # 1-based line of each row
    join_day: np.ndarray | None  # int32 day numbers (members only)
    columns: dict[str, np.ndarray]  # every other column, as strings

    def fail(self, row: int, problem: str, expected: str) -> TransactionFileError:
        """The error for a row: file, line, problem and what was expected."""
        return TransactionFileError(
            f"{self.source}, line {self.lines[row]}: {problem}; expected {expected}"
        )


def read_customer_list(path: str | Path, members: bool) -> CustomerList:
    """Read a member list (``members``: with join dates) or a prospect list.

    Raises:
        TransactionFileError: unreadable file, missing column, empty or repeated id, bad date.
    """
    path = Path(path)
    what = "a member list" if members else "a prospect list"
    try:
        data = read_input_bytes(path, MAX_LIST_BYTES, what)
    except UnreadableInput as exc:
        raise TransactionFileError(f"{path}: {exc}") from None
    try:
        frame = pd.read_csv(
            io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8-sig"
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise TransactionFileError(f"{path}: cannot read it as CSV ({exc})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    need = ["customer_id", "join_date"] if members else ["customer_id"]
    missing = [c for c in need if c not in frame.columns]
    if missing:
        raise TransactionFileError(
            f"{path}, line 1: the header lacks {', '.join(missing)}; expected a header naming "
            f"{' and '.join(need)} (other columns may be segments)"
        )
    lines = np.arange(2, len(frame) + 2)
    ids = frame["customer_id"].str.strip().to_numpy(dtype=object)
    rows = CustomerList(str(path), ids, lines, None, {})
    empty = ids == ""
    if empty.any():
        raise rows.fail(int(np.argmax(empty)), "the customer_id is empty", "an id on every row")
    repeated = pd.Series(ids).duplicated().to_numpy()
    if repeated.any():
        i = int(np.argmax(repeated))
        raise rows.fail(i, f"customer {ids[i]} is listed twice", "each customer once")
    join = _join_days(rows, frame["join_date"]) if members else None
    others = {c: frame[c].to_numpy(dtype=object) for c in frame.columns if c not in need}
    return CustomerList(str(path), ids, lines, join, others)


def _join_days(rows: CustomerList, col: pd.Series) -> np.ndarray:
    """Join dates (ISO dates or timestamps) as int32 day numbers."""
    stamps = pd.to_datetime(col.str.strip(), format="ISO8601", errors="coerce")
    bad = stamps.isna().to_numpy()
    if bad.any():
        i = int(np.argmax(bad))
        raise rows.fail(
            i,
            f"join_date {col.iloc[i]!r} is not a date",
            "a date YYYY-MM-DD or a timestamp YYYY-MM-DD HH:MM:SS",
        )
    return stamps.to_numpy().astype("datetime64[D]").astype(np.int64).astype(np.int32)
