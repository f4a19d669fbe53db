"""Shop exports (CSV, gzip, Parquet) as a transaction log: column map, status filter, values.

An export has a header naming its columns; `LogLayout.columns` says which column holds the
customer, the date and the amount (default ``customer_id``, ``date``, ``amount``) and, to drop
orders by status, the status. `export_files` reads the mapped columns (the header is checked
against the map before any row is read); here rows of empty fields are skipped, rows of a
dropped status removed, missing values refused, and the values parsed (`export_values`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from simulator.clv.export_files import Column, Table, read_csv, read_parquet
from simulator.clv.export_values import ValueProblem, parse_amounts, parse_dates
from simulator.clv.logfile import MAX_AMOUNT, TransactionFileError, fail

ROLES = ("customer", "date", "amount", "status")
DEFAULT_COLUMNS = {"customer": "customer_id", "date": "date", "amount": "amount"}


@dataclass(frozen=True)
class LogLayout:
    """How to read an export: the column map and the options a file may need.

    ``columns`` maps a role (`ROLES`) to a header name; missing roles take `DEFAULT_COLUMNS`.
    ``sep`` is the CSV delimiter (None: sniffed from the header line), ``date_format`` a
    strftime format (None: inferred), ``decimal`` the decimal mark (None: inferred),
    ``encoding`` the text encoding and ``drop_status`` the statuses whose rows are dropped.
    """

    columns: dict[str, str] = field(default_factory=dict)
    sep: str | None = None
    date_format: str | None = None
    decimal: str | None = None
    encoding: str = "utf-8"
    drop_status: tuple[str, ...] = ()

    def __post_init__(self):
        unknown = set(self.columns) - set(ROLES)
        if unknown:
            raise ValueError(f"unknown column role(s) {', '.join(sorted(unknown))}")
        if self.drop_status and "status" not in self.columns:
            raise ValueError("drop_status needs the status column in the column map")

    def mapped(self) -> dict[str, str]:
        """Role -> header name of every column read (status only with drop_status)."""
        roles = {**DEFAULT_COLUMNS, **self.columns}
        if not self.drop_status:
            roles.pop("status", None)
        return roles


def parse_column_map(text: str) -> dict[str, str]:
    """``customer=买家ID,date=付款时间`` as a dict; a header name may not hold ',' or '='.

    Raises:
        ValueError: an entry without '=', an unknown role, a role given twice, an empty name.
    """
    columns: dict[str, str] = {}
    for entry in text.split(","):
        role, eq, name = entry.partition("=")
        role, name = role.strip(), name.strip()
        if not eq or not name:
            raise ValueError(f"expected role=column, got {entry.strip()!r}")
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
        if role in columns:
            raise ValueError(f"role {role!r} is given twice")
        columns[role] = name
    return columns


def read_export(path: Path, data: bytes, fmt: str, layout: LogLayout):
    """Customer ids, day numbers and amounts of an export, plus the rows and status drops.

    Returns ``(codes, customer_ids, day, amount, rows_read, status_dropped)``: ``codes`` per
    row index ``customer_ids``, which is sorted.
    """
    mapped = layout.mapped()
    if fmt == "parquet":
        table = read_parquet(path, data, mapped)
    else:
        table = read_csv(path, data, mapped, layout.sep, layout.encoding)
    n_read = len(table.rows)
    if n_read == 0:
        raise _no_rows(path, table.where(0), layout)
    dropped = 0
    if layout.drop_status:
        status = table.columns.pop("status")
        text = status.values if pa.types.is_string(status.values.type) else None
        if text is None:
            raise fail(path, "the header", f"column {status.header!r} is not text", "a status")
        drop = status.per_row(np.asarray(pc.is_in(text, pa.array(layout.drop_status))), False)
        dropped = int(drop.sum())
        table = table.keep(~drop)
    table = table.keep(~_blank(table))
    if len(table.rows) == 0:
        raise _no_rows(path, table.where(n_read), layout)
    _check_missing(table)
    codes, ids = _customers(table)
    day = _parse(table, "date", lambda v, t: _days(v, t, layout))
    decimal = layout.decimal or ("." if table.sep == "," else None)
    amount = _parse(table, "amount", lambda v, t: _amounts(v, decimal))
    return codes, ids, day, amount, n_read, dropped


def _no_rows(path: Path, where: str, layout: LogLayout) -> TransactionFileError:
    """The error for an export without a transaction row."""
    names = ",".join(layout.mapped().values())
    return fail(path, where, "no transactions after the header", f"at least one row of {names}")


def _is_text(col: Column) -> bool:
    """Whether a column holds text."""
    return pa.types.is_string(col.values.type)


def _blank(table: Table) -> np.ndarray:
    """Rows whose mapped columns are all empty (Excel's trailing ",,,," lines): skipped."""
    blank = np.ones(len(table.rows), dtype=bool)
    for col in table.columns.values():
        empty = np.asarray(pc.equal(col.values, "")) if _is_text(col) else None
        if empty is None:
            empty = np.zeros(len(col.values), dtype=bool)
        empty = np.where(np.asarray(col.values.is_null()), True, empty)
        blank &= col.per_row(empty, True)
    return blank


def _check_missing(table: Table) -> None:
    """Refuse a row with an empty or null mapped value, naming the column."""
    for role, col in table.columns.items():
        empty = np.asarray(col.values.is_null())
        if _is_text(col):
            empty |= np.asarray(pc.fill_null(pc.equal(col.values, ""), True))
        rows = col.per_row(empty, True)
        if rows.any():
            raise table.fail(
                int(np.argmax(rows)),
                f"the {role} value (column {col.header!r}) is missing",
                "a customer, a date and an amount on every row",
            )


def _parse(table: Table, role: str, parse) -> np.ndarray:
    """Apply a value parser to a column; a `ValueProblem` becomes an error at its first row."""
    col = table.columns[role]
    try:
        return col.expand(parse(col.values, col.text(0)))
    except ValueProblem as exc:
        bad = np.ones(len(col.values), dtype=bool) if exc.bad is None else exc.bad
        row = int(np.argmax(col.per_row(bad, False))) if exc.bad is not None else 0
        value = col.text(row)
        raise table.fail(row, exc.problem.format(value=value), exc.expected) from None


def _customers(table: Table) -> tuple[np.ndarray, np.ndarray]:
    """Per-row codes into the sorted distinct customer ids, and those ids.

    Ids are text or integers (a float id is refused: 12.0 and 12 would be two customers).
    """
    col = table.columns["customer"]
    kind = col.values.type
    if not (pa.types.is_string(kind) or pa.types.is_integer(kind)):
        raise table.fail(0, f"customer ids of type {kind}", "text or integer ids")
    encoded = pc.dictionary_encode(col.values)
    distinct = encoded.dictionary
    order = np.asarray(pc.sort_indices(distinct))
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    codes = col.expand(rank[np.asarray(encoded.indices)])
    return codes.astype(np.int64), distinct.to_numpy(zero_copy_only=False)[order]


def _days(values: pa.Array, first: str, layout: LogLayout) -> np.ndarray:
    """Day numbers of a date column: text (parsed), or a Parquet date or timestamp."""
    kind = values.type
    if pa.types.is_timestamp(kind):
        if kind.tz is not None:
            values = pc.local_timestamp(values)  # the wall-clock day where it was recorded
        return np.asarray(
            pc.cast(pc.floor_temporal(values, unit="day"), pa.date32()).cast(pa.int32())
        )
    if pa.types.is_date(kind):
        return np.asarray(pc.cast(values, pa.date32()).cast(pa.int32()))
    if pa.types.is_string(kind):
        return parse_dates(values, first, layout.date_format)
    raise ValueProblem(None, f"dates of type {kind}", "text, a date or a timestamp column")


def _amounts(values: pa.Array, decimal: str | None) -> np.ndarray:
    """Amounts of an amount column: text (parsed) or a Parquet number."""
    kind = values.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        amount = np.asarray(pc.cast(values, pa.float64(), safe=False), dtype=np.float64)
        big = ~(np.abs(amount) <= MAX_AMOUNT)
        if big.any():
            raise ValueProblem(big, "amount {value} is not finite or too large", "an amount")
        return amount
    if pa.types.is_string(kind):
        return parse_amounts(values, decimal)
    raise ValueProblem(None, f"amounts of type {kind}", "a number or text column")
