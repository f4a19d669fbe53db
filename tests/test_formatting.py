"""Numbers as text: one formatter per purpose, missing values shown the same everywhere."""

from __future__ import annotations

import math

import numpy as np

from simulator.formatting import (
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
