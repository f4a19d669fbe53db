"""Numbers as text: one formatter per purpose, missing values shown the same everywhere."""

from __future__ import annotations

import math

import numpy as np

from simulator.formatting import (
    axis_number,
    compact_number,
    csv_number,
    grouped,
    round_sig,
    short_label,
    short_number,
    significant,
    table_number,
    tick_number,
)


def test_csv_number_is_exact_and_empty_when_missing():
    assert csv_number(1 / 3) == "0.333333333333"
    assert csv_number(np.float64(2.5)) == "2.5"
    assert (csv_number(7), csv_number(True), csv_number(False)) == ("7", "1", "0")
    assert csv_number(None) == csv_number(math.nan) == csv_number(math.inf) == ""


def test_table_number():
    assert table_number(1234567) == "1,234,567"
    assert table_number(3.14159) == "3.1416"
    assert table_number(-0.5) == "-0.5000"
    assert table_number(12345.6) == "12,346"
    assert table_number(None) == table_number(math.nan) == table_number(-math.inf) == "n/a"


def test_short_number_and_label():
    assert short_number(139472.3) == "139,472"
    assert short_number(0.71118) == "0.7112"
    assert short_number(608.66) == "608.7"
    assert short_number(None) == short_number(math.nan) == "n/a"
    assert short_label("10.123456789") == "10.12"
    assert short_label("0.5") == "0.5" and short_label("sms_sensitive") == "sms_sensitive"
    assert short_label("12345678.9") == "1.235e+07"


def test_rounding_and_ticks():
    assert significant(0.123456) == "0.1235" and significant(123456) == "1.235e+05"
    assert round_sig(0.0123456) == 0.01235 and round_sig(0.0) == 0.0
    assert round_sig(98765.4, 2) == 99000.0
    assert grouped(1234.5) == "1,234" and grouped(999.5) == "1,000"
    assert (tick_number(30.0), tick_number(10000.0), tick_number(0.5)) == ("30", "10,000", "0.5")


def test_compact_number_reads_at_a_glance():
    assert compact_number(8_880_000) == "8.88M" and compact_number(7_995_000.0, 4) == "7.995M"
    assert compact_number(201_442) == "201k" and compact_number(8_224) == "8.22k"
    assert compact_number(0.6234) == "0.623" and compact_number(-0.14) == "-0.14"
    assert compact_number(999_999) == "1.00M" and compact_number(2.5e9) == "2.50B"
    assert compact_number(17_951) == "18.0k" and compact_number(-18_442) == "-18.4k"
    assert compact_number(465) == "465" and compact_number(0) == "0"
    assert compact_number(None) == compact_number(math.nan) == "n/a"


def test_axis_number_shares_unit_and_decimals_and_keeps_ticks_apart():
    def labels(ticks):
        return [axis_number(t, ticks) for t in ticks]

    assert labels([8.88e6, 8.885e6, 8.89e6]) == ["8.880M", "8.885M", "8.890M"]
    assert labels([0, 2500, 5000, 7500, 10000]) == ["0", "2.5k", "5.0k", "7.5k", "10.0k"]
    assert labels([0, 500, 1000, 1500]) == ["0", "500", "1,000", "1,500"]
    assert labels([-1e5, 0, 1e5]) == ["-100k", "0", "100k"]
    assert labels([0.0, 0.25, 0.5]) == ["0", "0.25", "0.50"]
    assert labels([0.6, 0.6000000000000001 + 0.1, 0.8]) == ["0.6", "0.7", "0.8"]
