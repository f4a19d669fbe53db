"""`promosim population build|show`: what it writes, counts and refuses."""

import json
from pathlib import Path

import numpy as np
import pytest

from simulator.cli import main
from simulator.clv.customer_table import NO_DAY, read_customer_table
from simulator.clv.transactions import day_number

ROOT = Path(__file__).resolve().parents[1]
FIT = ROOT / "calibration" / "params" / "cdnow_master.yaml"

LOG = """customer_id,date,amount
a,2021-01-05,100
a,2021-01-05,20
a,2021-03-01,50
a,2021-09-20,80
b,2021-02-01,30
c,2021-06-01,300
c,2021-09-29,10
d,2021-10-03,99
"""
MEMBERS = """customer_id,join_date,fan
a,2021-02-01,yes
c,2021-06-01 10:00:00,no
z,2021-09-01,是
"""


@pytest.fixture
def store(tmp_path):
    (tmp_path / "log.csv").write_text(LOG)
    (tmp_path / "members.csv").write_text(MEMBERS)
    return tmp_path


def build(store: Path, *extra: str) -> int:
    return main(
        [
            "population",
            "build",
            str(store / "log.csv"),
            "--params",
            str(FIT),
            "--as-of",
            "2021-09-30",
            "--members",
            str(store / "members.csv"),
            "--out",
            str(store / "t.parquet"),
            "--quiet",
            *extra,
        ]
    )


def test_build_writes_each_customers_history(store):
    assert build(store, "--prospects", "2", "--segment", "high_value=top_spend:0.5") == 0
    t = read_customer_table(store / "t.parquet")
    assert list(t.customer_id) == ["a", "b", "c", "z", "prospect-1", "prospect-2"]
    # a: three purchase days (two rows on 01-05 are one), two of them after joining on 02-01
    assert t.purchase_days.tolist() == [3, 1, 2, 0, 0, 0]  # d bought after as_of
    assert t.member_purchase_days.tolist() == [2, 0, 2, 0, 0, 0]
    assert t.first_day[0] == day_number("2021-01-05") and t.last_day[0] == day_number("2021-09-20")
    assert t.first_day[3] == NO_DAY and t.join_day[1] == NO_DAY
    assert t.spend[0] == 250 and t.repeat_spend_mean[0] == pytest.approx(65)
    assert t.member.tolist() == [True, False, True, True, False, False]
    fan, high = 1 << 1, 1 << 4  # bits of lifecycle.SEGMENTS
    assert ((t.segments & fan) > 0).tolist() == [True, False, False, True, False, False]
    # top half of the three buyers by spend: round(1.5) = 2 (c 310, a 250)
    assert ((t.segments & high) > 0).tolist() == [True, False, True, False, False, False]
    assert t.as_of == day_number("2021-09-30") and t.params.bgnbd.r == pytest.approx(0.2516, 1e-3)


def test_show_prints_the_counts_as_json(store, capsys):
    assert build(store) == 0
    capsys.readouterr()
    assert main(["population", "show", str(store / "t.parquet"), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["rows"] == 4 and shown["members_never_bought"] == 1
    assert shown["segments"]["fan"] == 2 and 0 < shown["mean_p_alive_of_buyers"] <= 1


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ("customer_id,fan\na,1\n", "members.csv, line 1: the header lacks join_date"),
        ("customer_id,join_date\na,2021-13-01\n", "members.csv, line 2: join_date '2021-13-01'"),
        ("customer_id,join_date\na,2021-01-01\na,2021-02-01\n", "line 3: customer a is listed"),
        ("customer_id,join_date\na,2021-12-01\n", "line 2: customer a joined on 2021-12-01"),
        ("customer_id,join_date,fan\na,2021-01-01,maybe\n", "line 2: 'maybe' is not a yes/no"),
    ],
)
def test_bad_member_lists_are_refused_with_the_line(store, capsys, members, message):
    (store / "members.csv").write_text(members)
    assert build(store) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (store / "t.parquet").exists()


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("vip=top_spend:0.2", "SEGMENT one of"),
        ("high_value=top_spend:1.5", "SHARE in (0, 1]"),
        ("fan=column:nope", "no member or prospect list has a column 'nope'"),
    ],
)
def test_bad_segment_rules_are_refused(store, capsys, rule, message):
    assert build(store, "--segment", rule) == 2
    assert message in capsys.readouterr().err


def test_a_prospect_who_bought_is_refused(store, capsys):
    (store / "prospects.csv").write_text("customer_id\nq\nb\n")
    assert build(store, "--prospects", str(store / "prospects.csv")) == 2
    assert "prospects.csv, line 3: customer b is in the transaction log" in capsys.readouterr().err


def test_a_file_it_did_not_write_is_not_replaced(store, capsys):
    (store / "t.parquet").write_text("my notes")
    assert build(store) == 2
    assert "not a customer table promosim wrote" in capsys.readouterr().err
    assert (store / "t.parquet").read_text() == "my notes"
    assert build(store, "--force") == 0
    assert build(store) == 0  # its own table it replaces


def test_a_scenario_on_the_table_runs_and_samples_it(store, tmp_path):
    assert build(store, "--prospects", "20") == 0
    (store / "s.yaml").write_text(
        "schema_version: 2\nname: own customers\npopulation: {customers: t.parquet}\n"
        "calendar: {start: 2021-10-01, end: 2021-10-10}\n"
    )
    out = tmp_path / "run"
    args = ["run", str(store / "s.yaml"), "--out", str(out), "--no-plots", "--quiet"]
    assert main([*args, "--shoppers", "10"]) == 0
    assert json.loads((out / "run.json").read_text())["shoppers"] == 10
    assert main([*args, "--shoppers", "25"]) == 2  # more than the table's 24 rows


def test_a_scenario_may_not_restate_what_the_table_says(store, capsys):
    assert build(store) == 0
    (store / "s.yaml").write_text(
        "schema_version: 2\nname: x\npopulation:\n  customers: t.parquet\n"
        "  mix: {prospect: 1.0}\n  segments: {fan: {share: 0.5}}\n"
        "calendar: {start: 2021-09-30, end: 2021-10-10}\n"
    )
    assert main(["validate", str(store / "s.yaml")]) == 2
    err = capsys.readouterr().err
    assert "population.mix" in err and "population.segments.fan.share" in err
    assert "calendar.start" in err and "runs to 2021-09-30" in err


def test_sampling_is_keyed_by_the_population_seed():
    from simulator.engine.customers import sample_rows

    a, b = sample_rows(1000, 100, 1), sample_rows(1000, 100, 2)
    assert not np.array_equal(a, b) and np.array_equal(a, sample_rows(1000, 100, 1))


def test_a_boundary_fit_of_the_history_writes_nothing(tmp_path, capsys):
    """Nobody drops out in this log: the fit runs to its boundary, and the table is not built
    on it (exit 3, as `calibrate bgnbd`), with the warning in words."""
    from synthetic_logs import bgnbd_log

    log = bgnbd_log(tmp_path / "log.csv", 2000, 52, (0.25, 4.8, 1.0, 1e6), seed=1)
    out = tmp_path / "t.parquet"
    assert main(["population", "build", str(log), "--out", str(out), "--quiet"]) == 3
    err = capsys.readouterr().err
    assert "drop out" in err and "nothing written" in err and not out.exists()
