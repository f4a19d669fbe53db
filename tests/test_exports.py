"""Real shop exports (issue 17, item 2): column map, dates, refunds, decimal marks, formats."""

import gzip
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from simulator.cli import main
from simulator.clv import export_files, exports, logfile
from simulator.clv.refunds import net_refunds
from simulator.clv.transactions import (
    LogLayout,
    TransactionFileError,
    date_of_day,
    day_number,
    load_transactions,
)

TMALL = Path(__file__).resolve().parent / "data" / "exports" / "tmall_orders.csv"
TMALL_MAP = {"customer": "买家ID", "date": "付款时间", "amount": "实付金额", "status": "订单状态"}
TMALL_ARGS = ["--columns", "customer=买家ID,date=付款时间,amount=实付金额,status=订单状态"]


def write(tmp_path, name, text, encoding="utf-8"):
    """Write a small export and return its path."""
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def rows(tx):
    """A log as (id, ISO day, amount) tuples in file order."""
    return [
        (tx.customer_ids[c], str(date_of_day(d)), round(float(a), 2))
        for c, d, a in zip(tx.customer, tx.day, tx.amount, strict=True)
    ]


def refused(path, match, layout=None, fmt=None):
    """Loading the file raises a TransactionFileError matching `match`; return its message."""
    with pytest.raises(TransactionFileError, match=match) as info:
        load_transactions(path, fmt, layout)
    message = str(info.value)
    assert message.startswith(str(path)) and "expected" in message
    return message


# ----------------------------------------------------------------------- the Tmall fixture


def test_the_tmall_export_loads_with_a_column_map():
    """Chinese headers, a BOM, ¥ amounts, timestamps, a closed order and refund rows."""
    layout = LogLayout(columns=TMALL_MAP, drop_status=("交易关闭",))
    tx = load_transactions(TMALL, layout=layout)
    assert rows(tx) == [
        ("tb_lanyue01", "2021-11-01", 89.90),
        ("tb_lanyue01", "2021-11-11", 59.00),  # 59.00 + 19.90 - 19.90, one transaction
        ("tb_zhangwei", "2021-11-20", 45.50),  # 11-11 fully refunded: no transaction
        ("tb_limei", "2021-11-03", 1299.00),  # refund three days later: ignored
        ("tb_wangfang", "2021-11-11", 79.00),  # 23:59:59 is still the 11th
        ("tb_wangfang", "2021-11-25", 79.00),
        ("tb_wangfang", "2021-12-12", 79.00),
        ("tb_chenjing", "2021-11-02", 59.00),
    ]
    assert list(tx.customer_ids) == sorted(tx.customer_ids)
    notes = tx.notes
    assert (notes.rows, notes.status_dropped) == (16, 1)
    r = notes.refunds
    assert (r.refund_rows, r.fully_refunded_days, r.partly_refunded_days) == (4, 1, 1)
    assert (r.unmatched_refund_days, r.unmatched_refund_amount) == (2, pytest.approx(359.0))


def test_a_closed_order_without_a_payment_time_needs_the_status_filter():
    """Without --drop-status the closed order's empty 付款时间 is an error at its line."""
    layout = LogLayout(columns={k: v for k, v in TMALL_MAP.items() if k != "status"})
    refused(TMALL, r"line 9: the date value \(column '付款时间'\) is missing", layout)


def test_a_missing_mapped_column_is_named_with_the_columns_found(tmp_path):
    """The header is checked before any row: the bad date on line 2 is never reached."""
    path = write(tmp_path, "orders.csv", "\ufeff买家ID,付款时间,金额\nu1,not a date,1\n")
    message = refused(
        path, "line 1: the header lacks column", LogLayout(columns=TMALL_MAP | {"status": "x"})
    )
    assert "实付金额 (amount)" in message and "it has 买家ID, 付款时间, 金额" in message


def test_a_doubled_mapped_column_is_refused(tmp_path):
    """A header naming the mapped column twice is ambiguous."""
    path = write(tmp_path, "o.csv", "customer_id,date,amount,amount\nu,2010-12-01,1,2\n")
    refused(path, "line 1: column 'amount' appears twice")


def test_the_column_map_syntax():
    """role=name pairs; unknown roles, repeats and missing '=' are refused."""
    assert exports.parse_column_map("customer=买家ID, date = 付款时间") == {
        "customer": "买家ID",
        "date": "付款时间",
    }
    for bad, problem in [
        ("buyer=买家ID", "unknown role 'buyer'"),
        ("customer=a,customer=b", "given twice"),
        ("customer", "expected role=column"),
        ("customer=", "expected role=column"),
    ]:
        with pytest.raises(ValueError, match=problem):
            exports.parse_column_map(bad)


# ------------------------------------------------------------------------------ dates


@pytest.mark.parametrize(
    ("written", "day"),
    [
        ("2010-12-01", "2010-12-01"),
        ("2010-12-01 08:26:00", "2010-12-01"),
        ("2010-12-01T23:59:59.999", "2010-12-01"),
        ("2010/12/1 8:26", "2010-12-01"),
        ("2010.12.01", "2010-12-01"),
        ("20101201", "2010-12-01"),
        ("2021年11月11日 00:00:05", "2021-11-11"),
        ("2010-12-01T23:30:00Z", "2010-12-01"),  # the day as written: no time-zone conversion
        ("2010-12-01 00:30:00+08:00", "2010-12-01"),
        ("12/1/2010 11:59 PM", "2010-12-01"),  # month first: 12/13 below settles it
        ("2000-02-29", "2000-02-29"),
    ],
)
def test_date_layouts(tmp_path, written, day):
    """Each layout is inferred from the first row; the purchase day is the day as written."""
    second = "12/13/2010" if written.startswith("12/1/") else written
    path = write(tmp_path, "o.csv", f"customer_id,date,amount\na,{written},1\nb,{second},1\n")
    assert str(date_of_day(load_transactions(path).day[0])) == day


def test_day_first_is_settled_by_a_day_above_12(tmp_path):
    """01.12.2010 is December 1st when another row has 13.12.2010."""
    path = write(tmp_path, "o.csv", "customer_id;date;amount\na;01.12.2010;1\na;13.12.2010;1\n")
    assert list(load_transactions(path).day) == [
        day_number("2010-12-01"),
        day_number("2010-12-13"),
    ]


def test_an_ambiguous_day_month_order_is_refused_unless_given(tmp_path):
    """01/02/2010 and 03/04/2010 read both ways: refused, then read with --date-format."""
    path = write(tmp_path, "o.csv", "customer_id,date,amount\na,01/02/2010,1\na,03/04/2010,1\n")
    refused(path, r"line 2: date '01/02/2010' may be day/month or month/day")
    tx = load_transactions(path, layout=LogLayout(date_format="%d/%m/%Y"))
    assert list(tx.day) == [day_number("2010-02-01"), day_number("2010-04-03")]
    same = write(tmp_path, "s.csv", "customer_id,date,amount\na,01/01/2010,1\na,02/02/2010,1\n")
    assert load_transactions(same).day[1] == day_number("2010-02-02")  # reads the same both ways


def test_both_day_month_orders_in_one_file_are_refused(tmp_path):
    """13/01/2010 is day first, 01/13/2010 month first: the second is named."""
    text = "customer_id,date,amount\na,13/01/2010,1\na,02/02/2010,1\na,01/13/2010,1\n"
    refused(write(tmp_path, "o.csv", text), r"line 4: date '01/13/2010' is month/day/year")


@pytest.mark.parametrize(
    ("written", "line", "problem"),
    [
        ("2010/12/01", 3, "not in the file's date layout YYYY-MM-DD"),
        ("2010-02-30", 3, "'2010-02-30' is not a valid date"),
        ("2010-12-01 25:00", 3, "not in the file's date layout"),
        ("0000-01-01", 3, "is not a valid date"),
        ("Dec 1 2010", 3, "not in the file's date layout"),
    ],
)
def test_bad_dates_are_named_with_their_line(tmp_path, written, line, problem):
    """A date in another layout, not on the calendar, or with an impossible time."""
    text = f"customer_id,date,amount\na,2010-12-01,1\nb,{written},1\n"
    refused(write(tmp_path, "o.csv", text), f"line {line}: .*{problem}")


def test_an_unknown_layout_and_the_format_override(tmp_path):
    """A layout not recognised is refused at the first row; --date-format reads it."""
    path = write(tmp_path, "o.csv", "customer_id,date,amount\na,Dec 01 2010,1\na,Dec 13 2010,1\n")
    refused(path, "line 2: cannot tell the layout of date 'Dec 01 2010'")
    tx = load_transactions(path, layout=LogLayout(date_format="%b %d %Y"))
    assert list(tx.day) == [day_number("2010-12-01"), day_number("2010-12-13")]
    bad = write(tmp_path, "b.csv", "customer_id,date,amount\na,Dec 01 2010,1\na,2010-12-13,1\n")
    refused(
        bad,
        "line 3: date '2010-12-13' does not match --date-format %b %d %Y",
        LogLayout(date_format="%b %d %Y"),
    )


# ---------------------------------------------------------------------------- amounts


@pytest.mark.parametrize(
    ("text", "amounts"),
    [
        ("customer_id;date;amount\na;2010-12-01;12,50\na;2010-12-02;1.234,5\n", [12.5, 1234.5]),
        ("customer_id;date;amount\na;2010-12-01;12,50\na;2010-12-02;3\n", [12.5, 3.0]),
        ('customer_id,date,amount\na,2010-12-01,"1,234.50"\na,2010-12-02,7\n', [1234.5, 7.0]),
        ('customer_id,date,amount\na,2010-12-01,"1,234"\na,2010-12-02,7\n', [1234.0, 7.0]),
        ("customer_id\tdate\tamount\na\t2010-12-01\t¥12.50\na\t2010-12-02\t￥3\n", [12.5, 3.0]),
        ("customer_id|date|amount\na|2010-12-01|$ 12.50\na|2010-12-02|12.5元\n", [12.5, 12.5]),
        ("customer_id;date;amount\na;2010-12-01;1.234.567,8\na;2010-12-02;€ 1\n", [1234567.8, 1]),
        ("customer_id,date,amount\na,2010-12-01,1e3\na,2010-12-02,.5\n", [1000.0, 0.5]),
    ],
)
def test_amount_styles(tmp_path, text, amounts):
    """Decimal commas, thousands groups and currency signs, read where unambiguous."""
    tx = load_transactions(write(tmp_path, "o.csv", text))
    np.testing.assert_allclose(tx.amount, amounts)


@pytest.mark.parametrize(
    ("text", "decimal", "problem"),
    [
        ("a;2010-12-01;1,234\na;2010-12-02;2,500", None, r"line 2: amount '1,234': the comma"),
        ("a;2010-12-01;12,50\na;2010-12-02;12.50", None, r"line 3: amount '12.50' is not a"),
        ("a;2010-12-01;1.234,50\na;2010-12-02;1,234.50", None, "line 3: amount '1,234.50'"),
        ("a;2010-12-01;12,5,0", None, "line 2: amount '12,5,0' is not a number"),
        ("a;2010-12-01;twelve", None, "line 2: amount 'twelve' is not a number"),
        ("a;2010-12-01;1e400", None, "line 2: amount '1e400' is too large"),
        ("a;2010-12-01;-¥1e13", None, r"line 2: amount '-¥1e13' is too large"),
        ("a;2010-12-01;12¥50", None, "line 2: amount '12¥50' is not a number"),
    ],
)
def test_bad_or_ambiguous_amounts(tmp_path, text, decimal, problem):
    """An amount that is not a number in the file's style is refused at its line."""
    path = write(tmp_path, "o.csv", "customer_id;date;amount\n" + text + "\n")
    refused(path, problem, LogLayout(decimal=decimal))


def test_the_decimal_option_settles_an_ambiguous_comma(tmp_path):
    """1,234 is 1234 with --decimal . and 1.234 with --decimal ,."""
    path = write(tmp_path, "o.csv", "customer_id;date;amount\na;2010-12-01;1,234\n")
    assert load_transactions(path, layout=LogLayout(decimal=".")).amount[0] == 1234
    assert load_transactions(path, layout=LogLayout(decimal=",")).amount[0] == 1.234


def test_a_comma_separated_file_reads_a_quoted_comma_as_thousands(tmp_path):
    """In a CSV delimited by commas "12,50" is not a decimal comma: an error says --decimal."""
    path = write(tmp_path, "o.csv", 'customer_id,date,amount\na,2010-12-01,"12,50"\n')
    refused(path, r"line 2: amount '12,50' is not a number with '.' as the decimal mark")
    assert load_transactions(path, layout=LogLayout(decimal=",")).amount[0] == 12.5


# ---------------------------------------------------------------------------- refunds


def test_refunds_net_per_customer_day():
    """Same-day refunds net; a net <= 0 is no transaction; other days' refunds are ignored."""
    customer = np.array([0, 0, 0, 1, 1, 1, 2, 2, 3])
    day = np.array([5, 5, 9, 5, 5, 6, 7, 7, 8])
    amount = np.array([10.0, -4.0, 3.0, 19.9, -20.0, -1.0, 19.9, -19.0, -2.0])
    amount[4] = -(19.9 + 0.1) + 0.1  # -19.9 with rounding noise
    keep, net, counts = net_refunds(customer, day, amount)
    assert list(keep) == [True, False, True, False, False, False, True, False, False]
    assert net[0] == 6.0 and net[2] == 3.0 and net[6] == pytest.approx(0.9)
    assert counts.refund_rows == 5
    assert counts.fully_refunded_days == 1  # customer 1 on day 5 (the net is rounding noise)
    assert counts.partly_refunded_days == 2  # customer 0 day 5; customer 2 day 7
    assert counts.unmatched_refund_days == 2  # customer 1 day 6, customer 3 day 8
    assert counts.unmatched_refund_amount == pytest.approx(3.0)


def test_a_log_without_refunds_is_unchanged():
    """No negative amount: every row stays, amounts untouched, zero counts."""
    keep, net, counts = net_refunds(np.array([0, 0]), np.array([1, 1]), np.array([0.0, 2.0]))
    assert keep.all() and list(net) == [0.0, 2.0] and counts.refund_rows == 0


def test_a_customer_refunded_entirely_leaves_the_log(tmp_path):
    """Customer b's only day is refunded: b is not a customer; codes are renumbered."""
    text = "customer_id,date,amount\nb,2010-12-01,5\nc,2010-12-02,4\nb,2010-12-01,-5\n"
    tx = load_transactions(write(tmp_path, "o.csv", text))
    assert list(tx.customer_ids) == ["c"] and list(tx.customer) == [0]
    everything = write(
        tmp_path, "e.csv", "customer_id,date,amount\nb,2010-12-01,5\nb,2010-12-01,-5\n"
    )
    refused(everything, "every purchase is refunded")


def test_the_cdnow_layout_nets_refunds_too(tmp_path):
    """A negative CDNOW amount is a refund like any other."""
    path = write(tmp_path, "tx.txt", "1 19970101 1 10.00\n1 19970101 1 -4.00\n2 19970102 1 3\n")
    tx = load_transactions(path)
    assert list(tx.amount) == [6.0, 3.0] and tx.notes.refunds.partly_refunded_days == 1


# ----------------------------------------------------------------- CSV layout and errors


def test_the_delimiter_is_sniffed_or_given(tmp_path):
    """The header's most frequent separator wins; a tie needs --sep."""
    tabs = write(tmp_path, "o.tsv", "customer_id\tdate\tamount\tnote\na\t2010-12-01\t1\tx,y\n")
    assert load_transactions(tabs).n_transactions == 1
    tie = write(tmp_path, "t.csv", "customer_id,date;amount\n")
    refused(tie, "line 1: the header has as many ',' and ';'")
    pipe = write(tmp_path, "p.csv", "customer_id|date|amount\na|2010-12-01|1\n")
    assert load_transactions(pipe, layout=LogLayout(sep="|")).n_transactions == 1


def test_lines_are_physical_lines_despite_quoted_newlines_and_blank_lines(tmp_path):
    """A quoted note over two lines and a blank line before the bad row: its line is exact."""
    text = (
        'customer_id,date,amount,note\na,2010-12-01,1,"two\nlines"\n\n'
        "b,2010-12-02,1,x\nc,2010-13-01,1,x\n"
    )
    refused(write(tmp_path, "o.csv", text), r"line 6: date '2010-13-01' is not a valid date")
    extra = "customer_id,date,amount\na,2010-12-01,1\n\nb,2010-12-01,1,9\n"
    refused(write(tmp_path, "x.csv", extra), "line 4: found 4 fields where the header has 3")


def test_rows_of_empty_fields_are_skipped(tmp_path):
    """Excel's trailing ',,' rows are not transactions; a row with some fields empty is."""
    path = write(tmp_path, "o.csv", "customer_id,date,amount\na,2010-12-01,1\n,,\n , , \n")
    assert load_transactions(path).n_transactions == 1
    half = write(tmp_path, "h.csv", "customer_id,date,amount\na,2010-12-01,1\nb,,2\n")
    refused(half, r"line 3: the date value \(column 'date'\) is missing")
    only = write(tmp_path, "n.csv", "customer_id,date,amount\n,,\n")
    refused(only, "no transactions after the header")


def test_gbk_text_needs_its_encoding(tmp_path):
    """An Excel export in GBK is refused as UTF-8 (naming --encoding) and read with it."""
    text = "买家ID,付款时间,实付金额\n张三,2021-11-11 00:00:01,￥9.9\n"
    path = write(tmp_path, "gbk.csv", text, encoding="gbk")
    layout = LogLayout(columns={"customer": "买家ID", "date": "付款时间", "amount": "实付金额"})
    refused(path, "line 1: the file is not utf-8 text; expected .*--encoding gbk", layout)
    gbk = LogLayout(columns=layout.columns, encoding="gbk")
    assert list(load_transactions(path, layout=gbk).customer_ids) == ["张三"]


def test_export_options_do_not_apply_to_the_cdnow_layout(tmp_path):
    """--columns with --format cdnow is refused: that layout has no header."""
    path = write(tmp_path, "tx.txt", "1 19970101 1 1\n")
    refused(path, "the CDNOW layout has no header", LogLayout(sep=";"), fmt="cdnow")


# ------------------------------------------------------------------------------ gzip


def test_gzip_logs_load_like_their_text(tmp_path):
    """A .csv.gz export and a gzip CDNOW file read as the uncompressed files do."""
    gz = tmp_path / "tmall.csv.gz"
    gz.write_bytes(gzip.compress(TMALL.read_bytes()))
    layout = LogLayout(columns=TMALL_MAP, drop_status=("交易关闭",))
    assert rows(load_transactions(gz, layout=layout)) == rows(
        load_transactions(TMALL, layout=layout)
    )
    cdnow = tmp_path / "log.txt.gz"
    cdnow.write_bytes(gzip.compress(b"1 19970101 1 1.00\n2 19970102 1 2.00\n"))
    assert load_transactions(cdnow).n_customers == 2


def test_a_gzip_bomb_is_refused_without_being_inflated(tmp_path, monkeypatch):
    """The limit is on the uncompressed bytes: 2 MB of zeros in a 2 kB file, limit 1 MB."""
    monkeypatch.setattr(logfile, "MAX_LOG_BYTES", 1_000_000)
    bomb = tmp_path / "bomb.csv.gz"
    bomb.write_bytes(gzip.compress(b"0" * 2_000_000, compresslevel=9))
    assert bomb.stat().st_size < 10_000
    refused(bomb, "holds more than 1 MB uncompressed")


def test_broken_gzip_files_are_refused(tmp_path):
    """A truncated stream and garbage after the magic bytes are errors, not tracebacks."""
    whole = gzip.compress(TMALL.read_bytes())
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    refused(cut, "the gzip file is truncated")
    junk = tmp_path / "junk.csv.gz"
    junk.write_bytes(b"\x1f\x8b" + b"junk" * 10)
    refused(junk, "not a valid gzip file")


# ---------------------------------------------------------------------------- Parquet


def parquet(tmp_path, table, name="o.parquet", **kw):
    """Write an Arrow table as Parquet and return its path."""
    path = tmp_path / name
    pq.write_table(table, path, **kw)
    return path


def test_parquet_with_typed_columns(tmp_path):
    """Integer ids, a zoned timestamp (its local day), a decimal amount and a refund."""
    stamps = pa.array(
        [1636560000_000, 1636560000_000 + 20 * 3600_000, 1636646400_000],
        pa.timestamp("ms", tz="Asia/Shanghai"),
    )  # 2021-11-10 16:00 UTC is 11-11 00:00 in Shanghai
    table = pa.table(
        {
            "buyer": pa.array([7, 7, 3], pa.int64()),
            "paid": stamps,
            "amount": pa.array([1, -1, 2], pa.decimal128(10, 2)),
        }
    )
    path = parquet(tmp_path, table)
    layout = LogLayout(columns={"customer": "buyer", "date": "paid", "amount": "amount"})
    tx = load_transactions(path, layout=layout)
    assert rows(tx) == [(3, "2021-11-12", 2.0)]
    assert tx.customer_ids.dtype == np.int64 and tx.notes.refunds.fully_refunded_days == 1


def test_parquet_text_columns_are_parsed_like_csv(tmp_path):
    """The Tmall export as Parquet text columns (read as dictionaries) gives the same log."""
    import pyarrow.csv as pcsv

    table = pcsv.read_csv(TMALL, convert_options=pcsv.ConvertOptions(strings_can_be_null=False))
    table = table.cast(pa.schema([pa.field(n, pa.string()) for n in table.column_names]))
    path = parquet(tmp_path, table, row_group_size=5)
    layout = LogLayout(columns=TMALL_MAP, drop_status=("交易关闭",))
    assert rows(load_transactions(path, layout=layout)) == rows(
        load_transactions(TMALL, layout=layout)
    )


def test_parquet_errors_name_the_row(tmp_path):
    """A bad value, a null, a missing column and a float id, each at its row or schema."""
    ok = {"customer_id": ["a", "b", "c"], "date": ["2010-12-01"] * 3, "amount": ["1", "2", "x"]}
    refused(parquet(tmp_path, pa.table(ok)), r"row 3: amount 'x' is not a number")
    nulls = ok | {"amount": pa.array([1.0, None, 2.0])}
    refused(parquet(tmp_path, pa.table(nulls)), r"row 2: the amount value .* is missing")
    missing = {k: v for k, v in ok.items() if k != "date"}
    refused(parquet(tmp_path, pa.table(missing)), "the schema: the header lacks column")
    floats = ok | {"customer_id": [1.0, 2.0, 3.0], "amount": [1, 2, 3]}
    refused(parquet(tmp_path, pa.table(floats)), "customer ids of type double")


def test_parquet_limits_and_garbage(tmp_path, monkeypatch):
    """Too many rows or uncompressed bytes, and a file that is not Parquet, are refused."""
    table = pa.table({"customer_id": ["a"] * 50, "date": ["2010-12-01"] * 50, "amount": [1] * 50})
    path = parquet(tmp_path, table)
    monkeypatch.setattr(export_files, "MAX_LOG_ROWS", 10)
    refused(path, "the file has 50 rows; expected at most 10")
    monkeypatch.setattr(export_files, "MAX_LOG_ROWS", 100)
    monkeypatch.setattr(export_files, "MAX_PARQUET_BYTES", 100)
    refused(path, "the mapped columns hold")
    garbage = tmp_path / "g.parquet"
    garbage.write_bytes(b"PAR1" + b"\x00" * 100)
    refused(garbage, "not a valid Parquet file")


# ------------------------------------------------------------------------------- CLI


def promosim(argv, capsys):
    """Run promosim in-process: (exit code, stdout, stderr)."""
    try:
        code = main(argv)
    except SystemExit as exc:
        code = int(exc.code)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_calibrate_reads_the_tmall_export(tmp_path, capsys):
    """`calibrate bgnbd` with --columns and --drop-status; the refund line is printed."""
    argv = ["calibrate", "bgnbd", str(TMALL), *TMALL_ARGS, "--drop-status", "交易关闭"]
    argv += ["--time-unit-days", "1", "--out", str(tmp_path / "p.yaml")]
    code, out, _ = promosim(argv, capsys)
    assert code in (0, 1, 3)  # 5 customers: a boundary fit (exit 3) is likely
    assert "1 of 16 rows dropped by their status" in out
    assert "4 refund rows netted per customer-day: 1 day fully refunded" in out
    assert "2 days with refunds but no purchase (ignored, 359.00 in total)" in out


def test_population_build_reads_the_tmall_export(tmp_path, capsys):
    """`population build` takes the same log options (the lead's command, item 1)."""
    params = Path(__file__).resolve().parents[1] / "calibration" / "params" / "cdnow_master.yaml"
    argv = ["population", "build", str(TMALL), *TMALL_ARGS, "--drop-status", "交易关闭"]
    argv += ["--params", str(params), "--out", str(tmp_path / "t.parquet")]
    code, out, _ = promosim(argv, capsys)
    assert code == 0 and "rows dropped by their status" in out
    assert "buyers                      5" in out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "line 9: the date value (column '付款时间') is missing"),
        (["--drop-status", "交易关闭", "--date-format", "%d/%m/%Y"], "line 2: date '2021-11-01"),
        (["--drop-status", "交易关闭", "--format", "parquet"], "not a valid Parquet file"),
    ],
)
def test_cli_errors_exit_2_naming_the_file_and_line(tmp_path, capsys, extra, message):
    """Bad input through the CLI: exit 2, 'error: <file>, line N: ...', no traceback."""
    argv = ["calibrate", "bgnbd", str(TMALL), *TMALL_ARGS, *extra]
    code, _, err = promosim(argv + ["--out", str(tmp_path / "p.yaml")], capsys)
    assert code == 2 and err.startswith(f"error: {TMALL}") and message in err


@pytest.mark.parametrize(
    "extra",
    [
        ["--columns", "buyer=买家ID"],
        ["--sep", ";;"],
        ["--decimal", "x"],
        ["--drop-status", "交易关闭"],  # without status= in --columns
    ],
)
def test_bad_log_options_exit_2(tmp_path, capsys, extra):
    """Option errors are argparse or user errors: exit 2, one message."""
    code, _, err = promosim(["backtest", str(TMALL), "--cal-weeks", "2", *extra], capsys)
    assert code == 2 and "error" in err
