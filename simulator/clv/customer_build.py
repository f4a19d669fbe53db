"""Build a store's customer table from its transaction log, member list and prospects.

Rows, in this order: every customer of the log with a purchase up to ``as_of`` (sorted by id),
members of the member list who never bought, then the prospects. A customer's history is counted
in customer-days as the fits count it (`summaries.customer_days`): purchases on one day are one
transaction, and purchases after ``as_of`` are left out. A member's purchases on or after their
join day are member purchases. Segments come from list columns named like a segment and from
the rules of `segment_rules`. Vectorised throughout: 10^7 customers build in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from simulator.clv.customer_lists import CustomerList
from simulator.clv.customer_table import NO_DAY, CustomerTable
from simulator.clv.params_file import FittedParams
from simulator.clv.segment_rules import SegmentRule, SegmentRuleError, top_share, truthy
from simulator.clv.summaries import customer_days
from simulator.clv.transactions import TransactionFileError, Transactions, date_of_day
from simulator.domain.lifecycle import SEGMENTS


@dataclass(frozen=True)
class _Days:
    """The log's customer-days up to as_of, each with its table row (rows sorted, then days)."""

    row: np.ndarray
    day: np.ndarray
    spend: np.ndarray
    ids: np.ndarray  # id of each table row that has purchases


@dataclass
class _Column:
    """A list column aligned with the table's rows: values, the lines they came from, file."""

    values: np.ndarray
    lines: np.ndarray
    source: str


def build_customers(
    tx: Transactions,
    params: FittedParams,
    *,
    as_of: int | None = None,
    members: CustomerList | None = None,
    prospects: int | CustomerList = 0,
    rules: tuple[SegmentRule, ...] = (),
) -> CustomerTable:
    """The customer table of a log's customers (and members and prospects) at day ``as_of``.

    as_of: the history's last day (default: the log's last day; later purchases are ignored).

    Raises:
        TransactionFileError: a member joined after ``as_of``, a prospect has bought or is a
            member, a list column is not yes/no, or a rule names a column no list has.
    """
    as_of = int(tx.day.max()) if as_of is None else int(as_of)
    days = _days(tx, as_of)
    ids = days.ids
    member = np.zeros(len(ids), dtype=bool)
    join = np.full(len(ids), NO_DAY, np.int32)
    lists = []  # (list, the table row of each of its rows)
    if members is not None:
        ids, member, join, where = _add_members(members, ids, member, join, as_of)
        lists.append((members, where))
    n_known = len(ids)
    if isinstance(prospects, CustomerList):
        ids = np.concatenate([ids, prospects.ids])
        lists.append((prospects, np.arange(n_known, len(ids))))
    elif prospects > 0:
        ids = np.concatenate([ids, np.array([f"prospect-{k + 1}" for k in range(prospects)])])
    _check_prospects_are_new(ids, n_known, prospects)
    n = len(ids)
    member, join = _padded(member, n, False), _padded(join, n, NO_DAY)
    history = _history(days, n, join)
    table = CustomerTable(
        customer_id=ids,
        member=member,
        join_day=join,
        segments=np.zeros(n, np.uint8),
        as_of=as_of,
        params=params,
        built={
            "log": tx.source,
            "members": members.source if members is not None else None,
            "prospects": (
                prospects.source if isinstance(prospects, CustomerList) else int(prospects)
            ),
            "rules": [str(r) for r in rules],
        },
        **history,
    )
    columns = _columns(lists, n)
    return replace(table, segments=_segments(table, columns, rules, days))


def _days(tx: Transactions, as_of: int) -> _Days:
    """Customer-days up to as_of; table rows number the customers with one, in id order."""
    cd = customer_days(tx)
    keep = cd.day <= as_of
    customer = cd.customer[keep]  # sorted (customer_days): rows number the changes
    new = np.r_[True, customer[1:] != customer[:-1]] if len(customer) else np.zeros(0, bool)
    row, codes = np.cumsum(new) - 1, customer[new]
    ids = tx.customer_ids[codes].astype(str).astype(object)
    return _Days(row, cd.day[keep], cd.spend[keep], ids)


def _history(days: _Days, n: int, join: np.ndarray) -> dict[str, np.ndarray]:
    """Per row: purchase days, first and last day, spend, repeat spend, member purchase days."""
    count = np.bincount(days.row, minlength=n)
    total = np.bincount(days.row, weights=days.spend, minlength=n)
    first = np.full(n, NO_DAY, np.int32)
    last = np.full(n, NO_DAY, np.int32)
    change = np.flatnonzero(np.diff(days.row)) + 1  # sorted by row, then day
    starts, ends = np.r_[0, change], np.r_[change, len(days.row)] - 1
    if len(days.row):
        first[days.row[starts]] = days.day[starts]
        last[days.row[ends]] = days.day[ends]
    on_first = days.day == first[days.row]
    first_spend = np.bincount(days.row[on_first], weights=days.spend[on_first], minlength=n)
    x = np.maximum(count - 1, 0)
    joined = join[days.row]
    as_member = (joined != NO_DAY) & (days.day >= joined)
    return {
        "purchase_days": count.astype(np.int32),
        "first_day": first,
        "last_day": last,
        "member_purchase_days": np.bincount(days.row[as_member], minlength=n).astype(np.int32),
        "spend": total,
        "repeat_spend_mean": np.divide(total - first_spend, x, out=np.zeros(n), where=x > 0),
    }


def _padded(values: np.ndarray, n: int, fill) -> np.ndarray:
    """Values followed by `fill` up to length n."""
    out = np.full(n, fill, dtype=values.dtype)
    out[: len(values)] = values
    return out


def _add_members(members: CustomerList, ids, member, join, as_of: int):
    """Mark the listed members among the log's customers and append those who never bought."""
    late = members.join_day > as_of
    if late.any():
        i = int(np.argmax(late))
        raise members.fail(
            i,
            f"customer {members.ids[i]} joined on {date_of_day(int(members.join_day[i]))}, "
            f"after the history's last day {date_of_day(as_of)}",
            "members who joined by then (the table describes the store on that day)",
        )
    where = positions(members.ids, ids)
    known = where >= 0
    member[where[known]] = True
    join[where[known]] = members.join_day[known]
    new = ~known
    where[new] = len(ids) + np.arange(int(new.sum()))
    ids = np.concatenate([ids, members.ids[new]])
    member = np.concatenate([member, np.ones(int(new.sum()), dtype=bool)])
    join = np.concatenate([join, members.join_day[new]])
    return ids, member, join, where


def positions(values: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Position of each value among ids (unique), -1 where absent.

    Arrow's hash lookup: a pandas object Index spends about 1 s per 10^6 Python strings on
    checking that they are unique before it looks anything up.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    found = pc.index_in(pa.array(values, pa.string()), value_set=pa.array(ids, pa.string()))
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def _check_prospects_are_new(ids: np.ndarray, n_known: int, prospects) -> None:
    """A prospect must not be a customer of the log or the member list.

    ids: the log's and the member list's (unique), then the prospects' from position n_known.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    known, new = ids[:n_known], ids[n_known:]
    if isinstance(prospects, CustomerList):  # a list's ids are unique (`read_customer_list`)
        clash = positions(prospects.ids, known) >= 0
        if clash.any():
            k = int(np.argmax(clash))
            raise prospects.fail(
                k,
                f"customer {prospects.ids[k]} is in the transaction log or the member list",
                "prospects who never bought and are not members",
            )
        return
    named = known[pc.starts_with(pa.array(known, pa.string()), "prospect-").to_numpy(False)]
    taken = positions(named, new) >= 0
    if taken.any():
        raise TransactionFileError(
            f"a customer is already called {named[int(np.argmax(taken))]}; expected prospect "
            "ids free for the counted prospects (give a prospect list instead)"
        )


def _columns(lists: list, n: int) -> dict[str, _Column]:
    """The lists' other columns aligned with the table's n rows ("" where a list has no row)."""
    columns: dict[str, _Column] = {}
    for rows, where in lists:
        for name, values in rows.columns.items():
            col = columns.setdefault(
                name, _Column(np.full(n, "", object), np.zeros(n, int), rows.source)
            )
            col.values[where] = values
            col.lines[where] = rows.lines
    return columns


def _segments(table: CustomerTable, columns: dict[str, _Column], rules, days: _Days):
    """Segment bits from list columns named like segments, then from the rules."""
    bits = np.zeros(table.n, np.uint8)
    named = [SegmentRule(name, "column", column=name) for name in columns if name in SEGMENTS]
    for rule in (*named, *rules):
        inside = _rule_members(rule, table, columns, days)
        bits |= inside.astype(np.uint8) << SEGMENTS.index(rule.segment)
    return bits


def _rule_members(rule: SegmentRule, table: CustomerTable, columns, days: _Days) -> np.ndarray:
    """Rows a rule puts in its segment."""
    buyers = table.purchase_days > 0
    if rule.kind == "top_spend":
        return top_share(table.spend, buyers, rule.share)
    if rule.kind == "top_frequency":
        return top_share(table.purchase_days.astype(np.float64), buyers, rule.share)
    if rule.kind == "recent":
        return buyers & (table.last_day > table.as_of - rule.days)
    if rule.kind == "bought":
        recent = days.day > table.as_of - rule.days
        return np.bincount(days.row[recent], minlength=table.n) >= rule.count
    if rule.column not in columns:
        raise SegmentRuleError(
            f"segment rule {rule}: no member or prospect list has a column {rule.column!r}; "
            f"expected one of {', '.join(sorted(columns)) or '(no list columns)'}"
        )
    col = columns[rule.column]
    return truthy(col.values, f"{col.source} (column {rule.column})", col.lines)
