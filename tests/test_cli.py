"""The promosim command as a user runs it."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time

import pytest
from helpers import ROOT, SCENARIOS, shipped_text

from simulator import cli
from simulator.analysis.kpis import HEADLINE
from simulator.cli.app import build_parser
from simulator.cli.common import options
from simulator.cli.interrupts import Terminated, raised_as_exceptions
from simulator.files import write_marker
from simulator.scenario.load import load_scenario

SMALL = ["--shoppers", "3000"]


def promosim(*args, cwd=ROOT):
    """Run the CLI in a fresh interpreter, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "simulator.cli", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_run_each_shipped_scenario(path, tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main(["run", str(path), *SMALL, "--out", str(out), "--no-plots", "--quiet"]) == 0
    kpis = json.loads((out / "kpis.json").read_text())
    assert set(HEADLINE) - {"incremental_gmv", "incremental_profit", "roi"} <= set(kpis)
    assert kpis["multi_order_share"] is not None  # always reported: no silent ceiling
    err = capsys.readouterr().err
    assert ("reached the cap" in err) == (kpis["order_cap_days"] > 0)
    meta = json.loads((out / "run.json").read_text())
    assert err.count("warning: plan.") == len(meta["warnings"])  # printed and recorded alike
    rows = list(csv.DictReader((out / "daily.csv").open()))
    assert {"date", "phase", "gmv", "cost", "prospect"} <= set(rows[0])
    assert [r["date"] for r in rows] == [str(d) for d in load_scenario(path).days]
    rounding = len(rows) * 1e-4  # daily.csv keeps 4 decimals
    for column, kpi in (("gmv", "gmv"), ("cost", "cost"), ("gmv_list", "gmv_list")):
        assert sum(float(r[column]) for r in rows) == pytest.approx(kpis[kpi], abs=rounding)
    assert sum(float(r["discounts"]) for r in rows) == pytest.approx(
        kpis["discounts"], abs=rounding
    )
    benefits = load_scenario(path).benefits
    for column in ("grants", "redemptions"):
        per_benefit = sum(kpis[f"{column}_benefit_{b}"] for b in benefits)
        assert sum(int(r[column]) for r in rows) == per_benefit
    meta = json.loads((out / "run.json").read_text())
    assert meta["shoppers"] == 3000


def test_run_writes_plots_and_prints_table(tmp_path):
    out = tmp_path / "d11"
    res = promosim("run", "scenarios/double11_2021.yaml", *SMALL, "--out", out)
    assert res.returncode == 0, res.stderr
    for name in ("kpis.json", "daily.csv", "lifecycle.png", "daily_gmv.png", "recruitment.png"):
        assert (out / name).stat().st_size > 0
    assert "member_gmv_penetration" in res.stdout and "roi" in res.stdout
    kpis = json.loads((out / "kpis.json").read_text())
    assert kpis["incremental_gmv"] == pytest.approx(kpis["gmv"] - kpis["baseline_gmv"])
    lines = res.stdout.splitlines()
    windows = lines.index(next(x for x in lines if x.startswith("window ")))
    table = [line.split()[0] for line in lines[3:windows]]
    assert table == [k for k in HEADLINE if k in kpis]
    assert table.index("incremental_profit") == table.index("incremental_gmv") + 1
    # then one row a KPI window, in scenario order (the whole calendar's are the table above)
    touches = lines.index(next(x for x in lines if x.startswith("touch ")))
    assert [line.split()[0] for line in lines[windows + 2 : touches - 1]] == list(kpis["windows"])
    # then one row a touch of the plan, in plan order, with its spend and budget use
    plan = list(load_scenario(ROOT / "scenarios/double11_2021.yaml").plan)
    assert [line.split()[0] for line in lines[touches + 2 : touches + 2 + len(plan)]] == plan
    assert list(kpis["touches"]) == plan
    assert "touches.png" in {p.name for p in out.iterdir()}
    assert kpis["incremental_profit"] == pytest.approx(kpis["profit"] - kpis["baseline_profit"])


def d11_variant(folder, name: str, old: str, new: str):
    """double11_2021.yaml with one piece of text replaced, written to folder/name.yaml."""
    text = shipped_text("double11_2021.yaml")
    assert old in text
    path = folder / f"{name}.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def test_run_warns_when_orders_reach_the_cap(tmp_path, capsys):
    """Orders a day stop at MAX_ORDERS: a run where they reach it says so with the share."""
    low = d11_variant(
        tmp_path,
        "heavy",
        "purchase_rate: {r: 0.25, alpha: 5.0, time_unit_days: 7}",
        "purchase_rate: {r: 0.25, alpha: 0.0005, time_unit_days: 7}",
    )
    out = tmp_path / "out"
    assert cli.main(["run", str(low), "--shoppers", "2000", "--out", str(out), "--no-plots"]) == 0
    kpis = json.loads((out / "kpis.json").read_text())
    err = capsys.readouterr().err
    assert kpis["order_cap_days"] > 0
    assert f"{kpis['order_cap_days']:,} shopper-days ({kpis['order_cap_share']:.2%}" in err
    assert "warning:" in err and "purchase_rate" in err


def test_compare_prints_incremental_profit_next_to_roi(tmp_path, capsys):
    base = d11_variant(tmp_path, "d11", "schema_version: 2", "schema_version: 2")
    deeper = d11_variant(
        tmp_path,
        "deeper",
        "offer: {amount_off: 20, min_spend: 199}",
        "offer: {amount_off: 40, min_spend: 199}",
    )
    out = tmp_path / "cmp"
    argv = ["compare", base, deeper, "--shoppers", "3000", "--reps", "2", "--no-plots"]
    assert cli.main([*map(str, argv), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    table = printed.split("\n\n")[0].splitlines()  # the KPI table, then pairs and touches
    shown = [line.split()[1] for line in table if line.startswith("deeper")]
    calendar = [kpi for kpi in shown if not kpi.startswith("window.")]
    assert calendar[-4:] == ["incremental_gmv", "incremental_cost", "roi", "incremental_profit"]
    # then each KPI window's incremental GMV and ROIs, after the whole calendar's
    assert shown[len(calendar) :][:3] == [
        "window.first_wave.incremental_gmv",
        "window.first_wave.roi",
        "window.first_wave.roi_to_date",
    ]
    assert {"gmv", "discounts", "cost", "profit"} <= set(shown)
    rows = list(csv.DictReader((out / "comparison.csv").open()))
    inc = [r for r in rows if r["scenario"] == "deeper" and r["kpi"] == "incremental_profit"]
    assert len(inc) == 1 and inc[0]["reps"] == "2"


def test_threads_give_byte_identical_outputs(tmp_path):
    outs = []
    for threads in (1, 2):
        out = tmp_path / f"t{threads}"
        res = promosim(
            "run",
            "scenarios/double11_2021.yaml",
            *SMALL,
            "--threads",
            threads,
            "--out",
            out,
            "--no-plots",
        )
        assert res.returncode == 0, res.stderr
        outs.append(out)
    for name in ("kpis.json", "daily.csv"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes()


def test_bad_scenario_exits_2_without_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    text = shipped_text("double11_2021.yaml")
    bad.write_text(text.replace("cost_per_contact: 0.045", "cost_per_contact: -1"))
    for command in ("validate", "run"):
        res = promosim(command, bad)
        assert res.returncode == 2
        assert "Traceback" not in res.stderr
        assert "channels.sms.cost_per_contact" in res.stderr and "bad.yaml:" in res.stderr


def test_bad_arguments_exit_2(tmp_path):
    res = promosim("run", "scenarios/double11_2021.yaml", "--shoppers", "-5")
    assert res.returncode == 2 and "positive integer" in res.stderr
    res = promosim("run", "scenarios/double11_2021.yaml", "--threads", "64")
    assert res.returncode == 2 and "threads must be between 1 and" in res.stderr
    res = promosim("run", tmp_path / "missing.yaml")
    assert res.returncode == 2 and "cannot read" in res.stderr


def test_validate_ok():
    res = promosim("validate", *SCENARIOS)
    assert res.returncode == 0 and res.stdout.count("OK ") == len(SCENARIOS)


def test_crash_leaves_previous_output_intact(tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "kpis.json").write_text('{"old": true}')
    write_marker(out, "run")  # a previous result of `run`

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("simulator.reports.run_plots.plot_run", boom)
    with pytest.raises(RuntimeError):
        cli.main(["run", "scenarios/double11_2021.yaml", *SMALL, "--out", str(out), "--quiet"])
    assert json.loads((out / "kpis.json").read_text()) == {"old": True}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no partial folder left


def test_shared_options_parse_alike_in_every_command(capsys):
    """--threads, --shoppers and --seed come from one definition (`cli.common.options`)."""
    parser = build_parser()
    commands = {
        "run": ["run", "s.yaml"],
        "compare": ["compare", "a.yaml", "b.yaml"],
        "sweep": ["sweep", "s.yaml"],
        "calibrate targets": ["calibrate", "targets", "s.yaml", "t.yaml"],
        "backtest": ["backtest", "log.txt", "--cal-weeks", "39"],
        "bench": ["bench"],
    }
    for name, argv in commands.items():
        assert parser.parse_args([*argv, "--threads", "2"]).threads == 2, name
        with pytest.raises(SystemExit):
            parser.parse_args([*argv, "--threads", "0"])
        assert "positive integer" in capsys.readouterr().err
    for argv in (commands["run"], commands["compare"], commands["sweep"]):
        args = parser.parse_args([*argv, "--shoppers", "1e5", "--seed", "3"])
        assert (args.shoppers, args.seed) == (100_000, 3)
    assert parser.parse_args(commands["run"]).seed is None
    assert parser.parse_args(commands["backtest"]).seed == 0  # backtest's own default
    with pytest.raises(ValueError, match="no shared option thread"):
        options("thread")


def test_a_signal_is_held_while_numba_code_runs_then_raised():
    """Ctrl-C inside Numba's (or llvmlite's) code would be swallowed and crash LLVM: the signal
    waits until that code has returned. SIGTERM raises Terminated; the handlers are restored."""
    source = (
        "def load_kernel(done):\n"
        "    signal.raise_signal(signal.SIGINT)\n"
        "    start = time.monotonic()\n"
        "    while time.monotonic() - start < 0.3:\n"
        "        pass\n"
        "    done.append(True)\n"
    )
    fake_numba = {"signal": signal, "time": time}
    exec(compile(source, "/site-packages/numba/core/fake.py", "exec"), fake_numba)
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    done = []
    with pytest.raises(KeyboardInterrupt), raised_as_exceptions():
        fake_numba["load_kernel"](done)
        assert done == [True]
        time.sleep(5)  # the held signal is raised here
    assert done == [True]
    with pytest.raises(Terminated), raised_as_exceptions():
        signal.raise_signal(signal.SIGTERM)
        time.sleep(5)
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
