"""Loading, checking and summarising transaction logs (simulator.clv.transactions, summaries)."""

import os
from pathlib import Path

import numpy as np
import pytest

from simulator.clv.summaries import (
    cdnow_sample,
    cumulative_repeat_transactions,
    holdout_repeat_counts,
    summarise,
)
from simulator.clv.transactions import (
    CDNOW_CAL_END,
    CDNOW_END,
    CDNOW_START,
    MAX_LOG_BYTES,
    TransactionFileError,
    date_of_day,
    day_number,
    load_transactions,
)

ROOT = Path(__file__).resolve().parents[1]
MASTER = ROOT / "calibration" / "data" / "CDNOW_master.txt"
BAD = Path(__file__).resolve().parent / "data" / "bad_transactions"


@pytest.fixture(scope="module")
def master():
    """The CDNOW master log, loaded once for the module."""
    return load_transactions(MASTER, fmt="cdnow")


@pytest.fixture(scope="module")
def sample(master):
    """The reconstructed 1/10th CDNOW sample."""
    return cdnow_sample(master)


def write(tmp_path, name, text):
    """Write a small test file and return its path."""
    path = tmp_path / name
    path.write_text(text)
    return path


def test_master_loads_every_row(master):
    """The master has 23,570 customers and 69,659 rows over 1997-01-01..1998-06-30."""
    assert master.n_customers == 23570
    assert master.n_transactions == 69659
    assert master.customer.dtype == np.int64 and master.amount.dtype == np.float64
    assert date_of_day(master.day.min()) == CDNOW_START
    assert date_of_day(master.day.max()) == CDNOW_END
    assert list(master.customer_ids[:3]) == [1, 2, 3]


def test_master_amounts_match_the_text(master):
    """Amounts and dates agree with a plain line-by-line reading of the file."""
    rows = [line.split() for line in MASTER.read_text().splitlines()[1:] if line.strip()]
    assert master.amount.sum() == pytest.approx(sum(float(r[3]) for r in rows))
    assert date_of_day(master.day[-1]).strftime("%Y%m%d") == rows[-1][1]


def test_csv_with_extra_columns_blank_lines_and_string_ids(tmp_path):
    """CSV files may carry extra columns, blank lines and non-numeric customer ids."""
    path = write(
        tmp_path,
        "tx.csv",
        "store,customer_id,date,amount\ns1,C2,1997-01-03,5\n\ns1,C1,1997-01-01,2.5\n",
    )
    tx = load_transactions(path, fmt="csv")
    assert list(tx.customer_ids) == ["C1", "C2"]
    assert list(tx.customer) == [1, 0]
    assert list(tx.day) == [day_number("1997-01-03"), day_number("1997-01-01")]
    assert list(tx.amount) == [5.0, 2.5]


def test_cdnow_without_header_and_with_crlf(tmp_path):
    """A CDNOW file needs no header line and may use CRLF line endings."""
    path = write(tmp_path, "tx.txt", " 7 19970101 1 1.50\r\n 7 19970105 2 3.00\r\n")
    tx = load_transactions(path)
    assert tx.n_transactions == 2 and list(tx.customer_ids) == [7]


BAD_FILES = [
    ("missing_column.csv", "csv", 1, "lacks column(s) amount"),
    ("missing_field.txt", "cdnow", 3, "found 3 fields"),
    ("extra_field.txt", "cdnow", 2, "found 5 fields"),
    ("bad_date.txt", "cdnow", 3, "'19970230' is not a valid date"),
    ("bad_date.csv", "csv", 4, "'1997-13-01' is not a valid date"),
    ("empty.txt", "cdnow", 1, "the file is empty"),
    ("header_only.csv", "csv", 2, "no transactions after the header"),
    ("non_numeric.txt", "cdnow", 4, "amount '19,54' is not a number"),
    ("non_numeric_id.txt", "cdnow", 2, "customer id '0000x' is not a number"),
]


@pytest.mark.parametrize(("name", "fmt", "line", "problem"), BAD_FILES)
def test_bad_file_names_file_and_line(name, fmt, line, problem):
    """Each bad file raises TransactionFileError naming the file, the line and the problem."""
    with pytest.raises(TransactionFileError) as info:
        load_transactions(BAD / name, fmt=fmt)
    message = str(info.value)
    assert message.startswith(f"{BAD / name}, line {line}: ")
    assert problem in message
    assert "expected" in message
    assert isinstance(info.value, ValueError)


def test_csv_row_with_too_many_fields(tmp_path):
    """A CSV row with more values than the header is reported at its line."""
    path = write(tmp_path, "tx.csv", "customer_id,date,amount\n1,1997-01-01,1\n1,1997-01-02,1,9\n")
    with pytest.raises(TransactionFileError, match=r"line 3: found 4 fields"):
        load_transactions(path, fmt="csv")


def test_missing_file_is_a_transaction_file_error(tmp_path):
    """A path that does not exist is reported as a TransactionFileError too."""
    with pytest.raises(TransactionFileError, match="cannot read file: No such file"):
        load_transactions(tmp_path / "absent.txt")


def test_customer_ids_above_2_to_the_53_stay_apart(tmp_path):
    """2^53 and 2^53 + 1 are one number in float64; as ids they are two customers."""
    big = 2**53
    path = write(tmp_path, "tx.txt", f"{big} 19970101 1 1.00\n{big + 1} 19970102 1 2.00\n")
    tx = load_transactions(path)
    assert tx.n_customers == 2
    assert [int(i) for i in tx.customer_ids] == [big, big + 1]
    assert tx.customer_ids.dtype == np.int64


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        (str(2**63), f"customer id '{2**63}' is beyond the int64 range"),
        ("12.0", "customer id '12.0' is not an integer"),
        ("1e3", "customer id '1e3' is not an integer"),
        ("\u0661", "customer id '\u0661' is not a number"),
    ],
)
def test_customer_ids_are_whole_numbers_within_int64(tmp_path, written, problem):
    """A CDNOW id is an integer written in digits, kept exactly as an int64."""
    path = write(tmp_path, "tx.txt", f"7 19970101 1 1.00\n{written} 19970102 1 2.00\n")
    with pytest.raises(TransactionFileError) as info:
        load_transactions(path)
    assert str(info.value).startswith(f"{path}, line 2: {problem}")


def test_year_zero_is_not_a_date(tmp_path):
    """Pandas reads 00000101 as year 0, which no calendar (nor Python's date) has."""
    path = write(tmp_path, "tx.txt", "7 19970101 1 1.00\n7 00000101 1 1.00\n")
    with pytest.raises(TransactionFileError, match=r"line 2: date '00000101' is not a valid date"):
        load_transactions(path)


def test_amounts_are_bounded(tmp_path):
    """An amount whose sums would overflow (1e308) is refused at its line."""
    path = write(tmp_path, "tx.txt", "7 19970101 1 1.00\n7 19970102 1 1e308\n")
    with pytest.raises(TransactionFileError, match=r"line 2: amount 1e308 is too large"):
        load_transactions(path)


def test_a_fifo_or_a_device_is_refused_without_blocking(tmp_path):
    """A named pipe or /dev/zero is not read: a clear error at once."""
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    for special in (fifo, Path("/dev/zero")):
        with pytest.raises(TransactionFileError, match="not a regular file"):
            load_transactions(special)


def test_a_file_over_the_size_limit_is_refused_before_reading(tmp_path):
    """The limit comes from stat; a sparse file of 200 MB is refused at once."""
    path = tmp_path / "huge.txt"
    with open(path, "wb") as f:
        f.truncate(MAX_LOG_BYTES + 1)
    with pytest.raises(
        TransactionFileError, match=r"expected at most 100 MB for a transaction log"
    ):
        load_transactions(path)


def test_summary_counts_customer_days_once(tmp_path):
    """Same-day purchases merge; x, t_x, T and mean repeat spend follow Fader-Hardie-Lee."""
    path = write(
        tmp_path,
        "tx.csv",
        "\n".join(
            [
                "customer_id,date,amount",
                "a,1997-01-01,10",
                "a,1997-01-01,5",
                "a,1997-01-08,20",
                "a,1997-01-08,4",
                "a,1997-01-22,6",
                "a,1997-02-05,100",  # the last one is after the calibration end
                "b,1997-01-15,7",
                "c,1997-02-01,9",  # first purchase after the calibration end: not summarised
            ]
        )
        + "\n",
    )
    tx = load_transactions(path, fmt="csv")
    rfm = summarise(tx, day_number("1997-01-29"), time_unit_days=7)
    assert list(rfm.customer_ids) == ["a", "b"]
    assert list(rfm.x) == [2, 0]
    np.testing.assert_allclose(rfm.t_x, [3.0, 0.0])
    np.testing.assert_allclose(rfm.T, [4.0, 2.0])
    np.testing.assert_allclose(rfm.mean_spend, [(24 + 6) / 2, 0.0])
    assert list(rfm.first_day) == [day_number("1997-01-01"), day_number("1997-01-15")]
    daily = summarise(tx, day_number("1997-01-29"), time_unit_days=1)
    np.testing.assert_allclose(daily.T, [28.0, 14.0])
    holdout = holdout_repeat_counts(tx, rfm, day_number("1997-12-31"))
    assert list(holdout) == [1, 0]


def test_cumulative_repeat_series(tmp_path):
    """Weekly cumulative repeat transactions skip first purchases and merge same-day rows."""
    path = write(
        tmp_path,
        "tx.csv",
        "\n".join(
            [
                "customer_id,date,amount",
                "a,1997-01-01,1",
                "a,1997-01-02,1",
                "a,1997-01-02,1",
                "a,1997-01-20,1",
                "b,1997-01-09,1",
                "b,1997-01-10,1",
            ]
        )
        + "\n",
    )
    tx = load_transactions(path, fmt="csv")
    series = cumulative_repeat_transactions(tx, day_number("1997-01-01"), 3)
    assert list(series) == [1, 2, 3]


def test_cdnow_sample_is_the_published_sample(sample):
    """The reconstructed sample has the published size: 2,357 customers, 6,919 rows."""
    assert sample.n_customers == 2357
    assert sample.n_transactions == 6919
    rfm = summarise(sample, day_number(CDNOW_CAL_END))
    assert (rfm.x > 0).sum() == 946  # customers with a repeat purchase in weeks 1-39
    assert rfm.T.max() == pytest.approx(272 / 7)


def test_sample_repeat_transactions_add_up(sample):
    """Calibration repeats plus holdout counts equal the 78-week cumulative repeat count."""
    rfm = summarise(sample, day_number(CDNOW_CAL_END))
    holdout = holdout_repeat_counts(sample, rfm, day_number(CDNOW_END))
    series = cumulative_repeat_transactions(sample, day_number(CDNOW_START), 78)
    assert series[38] == rfm.x.sum()
    assert series[-1] == rfm.x.sum() + holdout.sum()
