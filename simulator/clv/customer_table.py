"""A store's own customers as a table: one row per customer, their history and membership.

`promosim population build` writes it (`customer_build`); a scenario's `population.customers`
names it, and the engine draws each customer's latent traits from the fitted model's posterior
given their row (`engine.customers`). The file is Parquet: a column per field below, read and
written by pyarrow in a second for 10^7 rows, and the fitted parameters, the day the history ends
and how the table was built in the file's metadata, so one file is everything a run needs.

Days are day numbers (days since 1970-01-01, `transactions.day_number`); a customer without a
purchase has ``purchase_days`` 0 and no first or last day (null in the file, `NO_DAY` here).
"""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from simulator.clv.params_file import FittedParams
from simulator.clv.transactions import date_of_day
from simulator.domain.lifecycle import SEGMENTS
from simulator.errors import UserError
from simulator.files import atomic_write_bytes
from simulator.yamlfiles.inputs import UnreadableInput, read_input_bytes

FORMAT = "promosim customers"
VERSION = 1
METADATA_KEY = b"promosim"
NO_DAY = np.iinfo(np.int32).min
"""First, last or join day of a customer who has none (null in the file)."""
MAX_TABLE_BYTES = 4_000_000_000
"""Largest customer file read: 4 GB of Parquet (about 10^8 customers)."""

COLUMNS = {
    "customer_id": "the customer's id as in the log or member list",
    "purchase_days": "days with a purchase up to `as_of` (repeat transactions + 1; 0: none)",
    "first_day": "day of the first purchase",
    "last_day": "day of the last purchase",
    "member_purchase_days": "purchase days on or after joining",
    "spend": "net spend over the history",
    "repeat_spend_mean": "mean spend of a repeat purchase day (Gamma-Gamma's m; 0: none)",
    "member": "a member at `as_of`",
    "join_day": "day the customer joined the membership",
}
"""The table's columns and their meaning; then one boolean column per segment name."""


class CustomerFileError(UserError, ValueError):
    """A customer file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class CustomerTable:
    """Customers' histories at the end of day ``as_of`` and the model fitted to them."""

    customer_id: np.ndarray  # str objects
    purchase_days: np.ndarray  # int32
    first_day: np.ndarray  # int32, NO_DAY if none
    last_day: np.ndarray  # int32, NO_DAY if none
    member_purchase_days: np.ndarray  # int32
    spend: np.ndarray  # float64
    repeat_spend_mean: np.ndarray  # float64
    member: np.ndarray  # bool
    join_day: np.ndarray  # int32, NO_DAY if not a member
    segments: np.ndarray  # uint8: bit g = SEGMENTS[g]
    as_of: int  # day number: the history ends with this day
    params: FittedParams
    built: dict = field(default_factory=dict)  # how: source files, rules, counts

    @property
    def n(self) -> int:
        """Number of rows (customers and prospects)."""
        return len(self.customer_id)

    @property
    def as_of_date(self) -> dt.date:
        """The last day of the history, as a date."""
        return date_of_day(self.as_of)


def _days_column(days: np.ndarray):
    """An int32 day column with NO_DAY written as null."""
    import pyarrow as pa

    return pa.array(days, type=pa.int32(), mask=days == NO_DAY)


def to_parquet_bytes(table: CustomerTable) -> bytes:
    """The table as a Parquet file's bytes, metadata included."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    cols = {
        "customer_id": pa.array(table.customer_id, type=pa.string()),
        "purchase_days": pa.array(table.purchase_days, type=pa.int32()),
        "first_day": _days_column(table.first_day),
        "last_day": _days_column(table.last_day),
        "member_purchase_days": pa.array(table.member_purchase_days, type=pa.int32()),
        "spend": pa.array(table.spend, type=pa.float64()),
        "repeat_spend_mean": pa.array(table.repeat_spend_mean, type=pa.float64()),
        "member": pa.array(table.member, type=pa.bool_()),
        "join_day": _days_column(table.join_day),
    }
    for g, name in enumerate(SEGMENTS):
        cols[name] = pa.array((table.segments >> g) & 1 == 1, type=pa.bool_())
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "as_of": table.as_of_date.isoformat(),
        "params": table.params.model_dump(mode="json"),
        "built": table.built,
    }
    arrow = pa.table(cols).replace_schema_metadata({METADATA_KEY: json.dumps(meta).encode()})
    sink = io.BytesIO()
    pq.write_table(arrow, sink, compression="zstd")
    return sink.getvalue()


def write_customer_table(path: str | Path, table: CustomerTable) -> None:
    """Write the table to `path` atomically (complete or not at all)."""
    atomic_write_bytes(path, to_parquet_bytes(table))


def customer_table(path: str | Path) -> CustomerTable:
    """The customer table at `path`, read once per process while the file is unchanged.

    A scenario's checks and every run of it read the same file; the last table read is kept
    (one: a table of 10^7 customers holds about 400 MB).

    Raises:
        CustomerFileError: as `read_customer_table`.
    """
    path = Path(path)
    try:
        stat = path.stat()
        key = (path.resolve(), stat.st_mtime_ns, stat.st_size)
    except OSError:
        return read_customer_table(path)  # not cached: reports why the file cannot be read
    if _LAST.get("key") != key:
        _LAST.clear()
        _LAST.update(key=key, table=read_customer_table(path))
    return _LAST["table"]


_LAST: dict = {}


def read_customer_table(path: str | Path) -> CustomerTable:
    """Read and check a customer file written by `population build`.

    Raises:
        CustomerFileError: unreadable, not Parquet, not a customer file, a missing column or a
            value out of range; the message names the file and what was expected.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    try:
        data = read_input_bytes(path, MAX_TABLE_BYTES, "a customer file")
    except UnreadableInput as exc:
        raise CustomerFileError(f"{path}: {exc}") from None
    try:
        arrow = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError) as exc:
        raise CustomerFileError(
            f"{path}: not a Parquet file ({exc}); expected a customer file written by "
            "`promosim population build`"
        ) from None
    meta = _metadata(path, arrow.schema.metadata or {})
    missing = [name for name in (*COLUMNS, *SEGMENTS) if name not in arrow.column_names]
    if missing:
        raise CustomerFileError(f"{path}: column(s) {', '.join(missing)} missing")
    col = {name: arrow.column(name) for name in (*COLUMNS, *SEGMENTS)}
    segments = np.zeros(arrow.num_rows, np.uint8)
    for g, name in enumerate(SEGMENTS):
        segments |= _values(path, col, name, np.bool_, False).astype(np.uint8) << g
    table = CustomerTable(
        customer_id=np.asarray(col["customer_id"].to_pylist(), dtype=object),
        purchase_days=_values(path, col, "purchase_days", np.int32, None),
        first_day=_values(path, col, "first_day", np.int32, NO_DAY),
        last_day=_values(path, col, "last_day", np.int32, NO_DAY),
        member_purchase_days=_values(path, col, "member_purchase_days", np.int32, None),
        spend=_values(path, col, "spend", np.float64, None),
        repeat_spend_mean=_values(path, col, "repeat_spend_mean", np.float64, None),
        member=_values(path, col, "member", np.bool_, None),
        join_day=_values(path, col, "join_day", np.int32, NO_DAY),
        segments=segments,
        as_of=meta["as_of"],
        params=meta["params"],
        built=meta.get("built", {}),
    )
    check_rows(path, table)
    return table


def _metadata(path: Path, raw: dict) -> dict:
    """The file's promosim metadata, checked: format, version, as_of day and fitted params."""
    from pydantic import ValidationError

    try:
        meta = json.loads(raw[METADATA_KEY])
        assert meta["format"] == FORMAT
    except (KeyError, ValueError, TypeError, AssertionError):
        raise CustomerFileError(
            f"{path}: a Parquet file without promosim's customer metadata; expected a file "
            "written by `promosim population build`"
        ) from None
    if meta.get("version") != VERSION:
        raise CustomerFileError(
            f"{path}: customer file version {meta.get('version')!r}; this promosim reads "
            f"version {VERSION}: build it again"
        )
    try:
        as_of = (dt.date.fromisoformat(meta["as_of"]) - dt.date(1970, 1, 1)).days
        params = FittedParams.model_validate(meta["params"])
    except (KeyError, ValueError, TypeError, ValidationError) as exc:
        raise CustomerFileError(f"{path}: bad metadata ({exc})") from None
    return {**meta, "as_of": as_of, "params": params}


def _values(path: Path, col: dict, name: str, dtype, fill) -> np.ndarray:
    """A column as a numpy array; nulls become `fill` (an error where fill is None)."""
    column = col[name]
    if column.null_count:
        if fill is None:
            raise CustomerFileError(f"{path}: column {name} has empty values; expected a value")
        column = column.fill_null(fill)
    try:
        return column.to_numpy().astype(dtype)
    except (TypeError, ValueError) as exc:
        raise CustomerFileError(f"{path}: column {name}: {exc}") from None


def check_rows(path: str | Path, t: CustomerTable) -> None:
    """Raise CustomerFileError naming the first row whose values contradict each other."""
    bought = t.purchase_days > 0
    checks = [
        (t.purchase_days < 0, "purchase_days below 0"),
        (bought & ((t.first_day == NO_DAY) | (t.last_day < t.first_day)), "no first/last day"),
        (bought & (t.last_day > t.as_of), "a purchase after as_of"),
        (~bought & (t.first_day != NO_DAY), "a first day without purchases"),
        ((t.member_purchase_days < 0) | (t.member_purchase_days > t.purchase_days), "bad count"),
        (~t.member & (t.member_purchase_days > 0), "member purchases of a non-member"),
        (t.member & ((t.join_day == NO_DAY) | (t.join_day > t.as_of)), "no join day by as_of"),
        (~np.isfinite(t.spend) | ~np.isfinite(t.repeat_spend_mean), "a spend that is not finite"),
        (t.repeat_spend_mean < 0, "a negative repeat spend"),
    ]
    for bad, problem in checks:
        if bad.any():
            row = int(np.argmax(bad))
            raise CustomerFileError(
                f"{path}: row {row + 1} (customer {t.customer_id[row]}): {problem}; expected "
                "a row as `promosim population build` writes it"
            )
