"""Shop exports (CSV, gzip, Parquet) as a transaction log: column map, status filter, values.

An export has a header naming its columns; `LogLayout.columns` says which column holds the
customer, the date and the amount (default ``customer_id``, ``date``, ``amount``) and, to drop
orders by status, the status. The header is checked against the map before any row is read.
CSV is read by Arrow (multi-threaded), only the mapped columns are converted, and the values
are parsed vectorised (`export_values`); a row with the wrong number of fields and every bad
value are reported at their physical line (found by a second, plain scan of the text only when
something is wrong). Parquet rows are named by their 1-based row number; its text columns are
read as dictionaries, so each distinct value is parsed once and a dictionary page cannot expand
beyond the memory its metadata declares.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from simulator.clv.export_values import ValueProblem, parse_amounts, parse_dates
from simulator.clv.logfile import (
    MAX_AMOUNT,
    MAX_LOG_BYTES,
    MAX_LOG_ROWS,
    TransactionFileError,
    decode,
    fail,
)
from simulator.yamlfiles.loader import printable

ROLES = ("customer", "date", "amount", "status")
DEFAULT_COLUMNS = {"customer": "customer_id", "date": "date", "amount": "amount"}
SEPARATORS = (",", ";", "\t", "|")
NEWLINE = b"\n"


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


# ------------------------------------------------------------------------- columns as read


@dataclass(frozen=True)
class _Column:
    """One mapped column: its distinct or per-row values and, for a dictionary, row -> value.

    ``index`` is None when ``values`` has one entry per row, else the value position of each
    row (-1 for a null).
    """

    header: str
    values: pa.Array
    index: np.ndarray | None

    def per_row(self, mask: np.ndarray, null: bool) -> np.ndarray:
        """A mask over values as a mask over rows (a null row gets `null`)."""
        if self.index is None:
            return mask
        return np.where(self.index >= 0, mask[np.maximum(self.index, 0)], null)

    def take(self, rows: np.ndarray) -> _Column:
        """The column of the given rows (positions); a dictionary keeps only the values used."""
        if self.index is None:
            return _Column(self.header, self.values.take(pa.array(rows)), None)
        index = self.index[rows]
        used, inverse = np.unique(index, return_inverse=True)
        nulls = len(used) > 0 and used[0] < 0  # rows of index -1 keep it
        values = self.values.take(pa.array(used[1:] if nulls else used))
        if nulls:
            inverse = inverse - 1
        return _Column(self.header, values, inverse.astype(np.int64))

    def text(self, row: int) -> str:
        """The value of a row as text, for a message."""
        k = row if self.index is None else int(self.index[row])
        return "" if k < 0 else str(self.values[k].as_py())

    def expand(self, result: np.ndarray) -> np.ndarray:
        """A result per value as a result per row."""
        return result if self.index is None else result[self.index]


def _column(header: str, chunks: pa.ChunkedArray) -> _Column:
    """A mapped column from Arrow chunks (dictionary chunks unified); text is trimmed."""
    if pa.types.is_dictionary(chunks.type):
        chunks = chunks.unify_dictionaries()
        values = chunks.chunk(0).dictionary if chunks.num_chunks else pa.array([], pa.string())
        index = pa.chunked_array([c.indices for c in chunks.chunks], chunks.type.index_type)
        index = np.asarray(pc.fill_null(pc.cast(index, pa.int64()), -1))
    else:
        values, index = chunks.combine_chunks(), None
    if pa.types.is_large_string(values.type):
        values = values.cast(pa.string())
    if pa.types.is_string(values.type):
        values = pc.utf8_trim_whitespace(values)
    return _Column(header, values, index)


@dataclass(frozen=True)
class _Table:
    """The mapped columns of an export and how to name a row in a message."""

    path: Path
    columns: dict[str, _Column]
    where: Callable[[int], str]
    rows: np.ndarray  # the original row position of each row kept so far
    sep: str | None = None  # a CSV's delimiter

    def fail(self, row: int, problem: str, expected: str) -> TransactionFileError:
        """The error for a row (a position among the kept rows)."""
        return fail(self.path, self.where(int(self.rows[row])), problem, expected)

    def keep(self, mask: np.ndarray) -> _Table:
        """The table of the rows where mask is True."""
        rows = np.flatnonzero(mask)
        cols = {k: c.take(rows) for k, c in self.columns.items()}
        return _Table(self.path, cols, self.where, self.rows[rows], self.sep)


def read_export(path: Path, data: bytes, fmt: str, layout: LogLayout):
    """Customer ids, day numbers and amounts of an export, plus the rows and status drops.

    Returns ``(codes, customer_ids, day, amount, rows_read, status_dropped)``: ``codes`` per
    row index ``customer_ids``, which is sorted.
    """
    table = _read_parquet(path, data, layout) if fmt == "parquet" else _read_csv(path, data, layout)
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


def _is_text(col: _Column) -> bool:
    """Whether a column holds text."""
    return pa.types.is_string(col.values.type)


def _blank(table: _Table) -> np.ndarray:
    """Rows whose mapped columns are all empty (Excel's trailing ",,,," lines): skipped."""
    blank = np.ones(len(table.rows), dtype=bool)
    for col in table.columns.values():
        empty = np.asarray(pc.equal(col.values, "")) if _is_text(col) else None
        if empty is None:
            empty = np.zeros(len(col.values), dtype=bool)
        empty = np.where(np.asarray(col.values.is_null()), True, empty)
        blank &= col.per_row(empty, True)
    return blank


def _check_missing(table: _Table) -> None:
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


def _parse(table: _Table, role: str, parse) -> np.ndarray:
    """Apply a value parser to a column; a `ValueProblem` becomes an error at its first row."""
    col = table.columns[role]
    try:
        return col.expand(parse(col.values, col.text(0)))
    except ValueProblem as exc:
        bad = np.ones(len(col.values), dtype=bool) if exc.bad is None else exc.bad
        row = int(np.argmax(col.per_row(bad, False))) if exc.bad is not None else 0
        value = col.text(row)
        raise table.fail(row, exc.problem.format(value=value), exc.expected) from None


def _customers(table: _Table) -> tuple[np.ndarray, np.ndarray]:
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


# ----------------------------------------------------------------------------------- CSV


def _read_csv(path: Path, data: bytes, layout: LogLayout) -> _Table:
    """The mapped columns of a CSV export (header checked first), and its line finder."""
    import pyarrow.csv as pcsv

    if layout.encoding.lower().replace("_", "-") not in ("utf-8", "utf8"):
        data = decode(path, data, layout.encoding).encode("utf-8")
    elif data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    header_line = data.split(b"\n", 1)[0]
    header_text = decode(path, header_line, "utf-8").rstrip("\r")
    if not header_text.strip():
        raise fail(
            path,
            "line 1",
            "the file is empty" if not data.strip() else "the header line is empty",
            "a header naming the columns",
        )
    sep = layout.sep or _sniff(path, header_text)
    names = [n.strip() for n in next(csv.reader([header_text], delimiter=sep))]
    positions = _positions(path, names, layout, "line 1")
    fields = [f"f{k}" for k in range(len(names))]
    wanted = {role: fields[k] for role, k in positions.items()}
    where = _line_finder(data, sep)
    try:
        arrow = pcsv.read_csv(
            pa.py_buffer(data),
            read_options=pcsv.ReadOptions(skip_rows=1, column_names=fields),
            parse_options=pcsv.ParseOptions(delimiter=sep, newlines_in_values=b'"' in data),
            convert_options=pcsv.ConvertOptions(
                include_columns=sorted(set(wanted.values())),
                column_types=dict.fromkeys(wanted.values(), pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise _csv_error(path, data, sep, len(names), exc) from None
    columns = {role: _column(names[positions[role]], arrow.column(f)) for role, f in wanted.items()}
    return _Table(path, columns, where, np.arange(arrow.num_rows), sep)


def _sniff(path: Path, header: str) -> str:
    """The delimiter of a CSV: the separator occurring most often in its header line."""
    counts = {s: header.count(s) for s in SEPARATORS}
    best = max(counts.values())
    if best == 0:
        return ","
    winners = [s for s, n in counts.items() if n == best]
    if len(winners) > 1:
        shown = " and ".join(repr(s) for s in winners)
        raise fail(path, "line 1", f"the header has as many {shown}", "--sep to say which")
    return winners[0]


def _positions(path: Path, names: list[str], layout: LogLayout, where: str) -> dict[str, int]:
    """The position of each mapped column in the header, refusing a missing or doubled one."""
    mapped = layout.mapped()
    missing = [f"{name} ({role})" for role, name in mapped.items() if name not in names]
    found = printable(", ".join(names[:40]) + (", ..." if len(names) > 40 else ""))
    if missing:
        raise fail(
            path,
            where,
            f"the header lacks column(s) {', '.join(missing)}; it has {found}",
            "a header naming the mapped columns (--columns role=name; extra columns are allowed)",
        )
    doubled = [name for name in mapped.values() if names.count(name) > 1]
    if doubled:
        raise fail(path, where, f"column {doubled[0]!r} appears twice", "distinct column names")
    return {role: names.index(name) for role, name in mapped.items()}


def _records(data: bytes, sep: str):
    """(physical line, fields) of every non-empty record after the header, as csv reads them."""
    text = data.decode("utf-8", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    next(reader, None)
    for fields in reader:
        if fields:
            yield reader.line_num, fields


def _line_finder(data: bytes, sep: str) -> Callable[[int], str]:
    """Row position -> "line N", by a plain scan of the file made only when asked."""

    def where(row: int) -> str:
        for k, (line, _) in enumerate(_records(data, sep)):
            if k == row:
                return f"line {line}"
        return f"line {data.count(NEWLINE) + 1}"

    return where


def _csv_error(path: Path, data: bytes, sep: str, n_fields: int, exc: Exception):
    """The error for a CSV Arrow could not read: a row's field count, or bad text."""
    for line, fields in _records(data, sep):
        if len(fields) != n_fields:
            n = len(fields)
            return fail(
                path,
                f"line {line}",
                f"found {n} field{'' if n == 1 else 's'} where the header has {n_fields}",
                "one value per header column",
            )
    if "UTF8" in str(exc) or "UTF-8" in str(exc):
        decode(path, data, "utf-8")
    return TransactionFileError(
        f"{path}: cannot parse the file ({printable(str(exc))}); expected a CSV file"
    )


# ------------------------------------------------------------------------------- Parquet


def _read_parquet(path: Path, data: bytes, layout: LogLayout) -> _Table:
    """The mapped columns of a Parquet export, within the size and row limits."""
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(pa.BufferReader(data))
        names = pf.schema_arrow.names
    except (pa.ArrowException, OSError) as exc:
        raise TransactionFileError(
            f"{path}: not a valid Parquet file ({exc}); expected a .parquet file"
        ) from None
    positions = _positions(path, names, layout, "the schema")
    wanted = {role: names[k] for role, k in positions.items()}
    _check_parquet_size(path, pf, set(wanted.values()))
    text = [n for n in set(wanted.values()) if _is_bytes(pf.schema_arrow.field(n).type)]
    try:
        pf = pq.ParquetFile(pa.BufferReader(data), read_dictionary=text)
        arrow = pf.read(columns=sorted(set(wanted.values())))
    except (pa.ArrowException, OSError) as exc:
        raise TransactionFileError(
            f"{path}: cannot read the Parquet file ({exc}); expected a .parquet file"
        ) from None
    columns = {role: _column(name, arrow.column(name)) for role, name in wanted.items()}
    return _Table(path, columns, lambda row: f"row {row + 1}", np.arange(arrow.num_rows))


def _is_bytes(kind: pa.DataType) -> bool:
    """Whether a Parquet column is stored as byte arrays (readable as a dictionary)."""
    return any(
        check(kind) for check in (pa.types.is_string, pa.types.is_large_string, pa.types.is_binary)
    )


def _check_parquet_size(path: Path, pf, names: set[str]) -> None:
    """Refuse a Parquet file whose rows or uncompressed mapped columns exceed the limits."""
    meta = pf.metadata
    if meta.num_rows > MAX_LOG_ROWS:
        raise TransactionFileError(
            f"{path}: the file has {meta.num_rows:,} rows; expected at most {MAX_LOG_ROWS:,} "
            "for a transaction log"
        )
    size = 0
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        for k in range(group.num_columns):
            chunk = group.column(k)
            if chunk.path_in_schema.split(".")[0] in names:
                size += chunk.total_uncompressed_size
    if size > MAX_LOG_BYTES:
        raise TransactionFileError(
            f"{path}: the mapped columns hold {size / 1e6:.1f} MB uncompressed; expected at "
            f"most {MAX_LOG_BYTES / 1e6:g} MB for a transaction log"
        )
