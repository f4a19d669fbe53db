"""The mapped columns of a CSV or Parquet export, as Arrow arrays, with a way to name a row.

CSV is read by Arrow (multi-threaded) after the header is checked against the column map; only
the mapped columns are converted, as text. A row with the wrong number of fields and every bad
value are reported at their physical line, found by a second, plain scan of the text (`csv`)
made only when something is wrong. Parquet rows are named by their 1-based row number; its
text columns are read as dictionaries, so each distinct value is parsed once and a dictionary
page cannot expand beyond what the file's metadata declares, which is checked against
`MAX_PARQUET_BYTES` (and the rows against `MAX_LOG_ROWS`) before any column is read.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from simulator.clv.logfile import (
    MAX_LOG_ROWS,
    MAX_PARQUET_BYTES,
    TransactionFileError,
    decode,
    fail,
)
from simulator.yamlfiles.loader import printable

SEPARATORS = (",", ";", "\t", "|")
NEWLINE = b"\n"


@dataclass(frozen=True)
class Column:
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

    def take(self, rows: np.ndarray) -> Column:
        """The column of the given rows (positions); a dictionary keeps only the values used."""
        if self.index is None:
            return Column(self.header, self.values.take(pa.array(rows)), None)
        index = self.index[rows]
        used, inverse = np.unique(index, return_inverse=True)
        nulls = len(used) > 0 and used[0] < 0  # rows of index -1 keep it
        values = self.values.take(pa.array(used[1:] if nulls else used))
        if nulls:
            inverse = inverse - 1
        return Column(self.header, values, inverse.astype(np.int64))

    def text(self, row: int) -> str:
        """The value of a row as text, for a message."""
        k = row if self.index is None else int(self.index[row])
        return "" if k < 0 else str(self.values[k].as_py())

    def expand(self, result: np.ndarray) -> np.ndarray:
        """A result per value as a result per row."""
        return result if self.index is None else result[self.index]


def column(header: str, chunks: pa.ChunkedArray) -> Column:
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
    return Column(header, values, index)


@dataclass(frozen=True)
class Table:
    """The mapped columns of an export and how to name a row in a message."""

    path: Path
    columns: dict[str, Column]
    where: Callable[[int], str]
    rows: np.ndarray  # the original row position of each row kept so far
    sep: str | None = None  # a CSV's delimiter

    def fail(self, row: int, problem: str, expected: str) -> TransactionFileError:
        """The error for a row (a position among the kept rows)."""
        return fail(self.path, self.where(int(self.rows[row])), problem, expected)

    def keep(self, mask: np.ndarray) -> Table:
        """The table of the rows where mask is True."""
        if mask.all():
            return self
        rows = np.flatnonzero(mask)
        cols = {k: c.take(rows) for k, c in self.columns.items()}
        return Table(self.path, cols, self.where, self.rows[rows], self.sep)


# ----------------------------------------------------------------------------------- CSV


def read_csv(
    path: Path, data: bytes, mapped: dict[str, str], sep: str | None, encoding: str
) -> Table:
    """The mapped columns of a CSV export (header checked first), and its line finder."""
    import pyarrow.csv as pcsv

    if encoding.lower().replace("_", "-") not in ("utf-8", "utf8"):
        data = decode(path, data, encoding).encode("utf-8")
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
    sep = sep or _sniff(path, header_text)
    names = [n.strip() for n in next(csv.reader([header_text], delimiter=sep))]
    positions = header_positions(path, names, mapped, "line 1")
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
    columns = {role: column(names[positions[role]], arrow.column(f)) for role, f in wanted.items()}
    return Table(path, columns, where, np.arange(arrow.num_rows), sep)


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


def header_positions(
    path: Path, names: list[str], mapped: dict[str, str], where: str
) -> dict[str, int]:
    """The position of each mapped column in the header, refusing a missing or doubled one."""
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


def read_parquet(path: Path, data: bytes, mapped: dict[str, str]) -> Table:
    """The mapped columns of a Parquet export, within the size and row limits."""
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(pa.BufferReader(data))
        names = pf.schema_arrow.names
    except (pa.ArrowException, OSError) as exc:
        raise TransactionFileError(
            f"{path}: not a valid Parquet file ({printable(str(exc))}); expected a .parquet file"
        ) from None
    positions = header_positions(path, names, mapped, "the schema")
    wanted = {role: names[k] for role, k in positions.items()}
    _check_parquet_size(path, pf, set(wanted.values()))
    text = [n for n in set(wanted.values()) if _is_bytes(pf.schema_arrow.field(n).type)]
    try:
        pf = pq.ParquetFile(pa.BufferReader(data), read_dictionary=text)
        arrow = pf.read(columns=sorted(set(wanted.values())))
    except (pa.ArrowException, OSError) as exc:
        raise TransactionFileError(
            f"{path}: cannot read the Parquet file ({printable(str(exc))}); expected a "
            ".parquet file"
        ) from None
    columns = {role: column(name, arrow.column(name)) for role, name in wanted.items()}
    return Table(path, columns, lambda row: f"row {row + 1}", np.arange(arrow.num_rows))


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
    if size > MAX_PARQUET_BYTES:
        raise TransactionFileError(
            f"{path}: the mapped columns hold {size / 1e6:.1f} MB uncompressed; expected at "
            f"most {MAX_PARQUET_BYTES / 1e6:g} MB for a transaction log"
        )
