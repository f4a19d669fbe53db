"""promosim sweep: designs, validation, shared baselines, kill -9 and resume, Dask, gates, Sobol."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from helpers import ROOT

from simulator import cli
from simulator.analysis.experiment import replicate
from simulator.analysis.kpis import kpi_names
from simulator.scenario.load import load_scenario
from simulator.sweeps import (
    TRACE_ENV,
    Design,
    Factor,
    SweepError,
    parse_gate,
    parse_grid,
    parse_range,
    parse_value,
    plan_function_sweep,
    plan_scenario_sweep,
    run_sweep,
    write_outputs,
)

SCENARIO = str(ROOT / "scenarios" / "double11_2021.yaml")
# 16 points: coupon face value x audience of the coupon SMS (list values joined by '+')
GRID16 = [
    "--grid",
    "benefits.member_coupon.offer.amount_off=5,10,20,30",
    "--grid",
    "plan.coupon_sms.audience=sms_sensitive,recent_buyers,members,sms_sensitive+recent_buyers",
]
SMALL = ["--shoppers", "2000", "--reps", "2"]


def sweep_args(out, *extra):
    """The 16-point sweep's command line."""
    return ["sweep", SCENARIO, *GRID16, *SMALL, "--out", str(out), "--quiet", *extra]


def trace_counts(path):
    """How many times each task started, from the trace the tasks write."""
    if not os.path.exists(path):
        return Counter()
    return Counter(tuple(line.split()[:2]) for line in open(path, encoding="utf-8"))


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The 16-point sweep run without interruption, in this process."""
    out = tmp_path_factory.mktemp("ref") / "sweep"
    assert cli.main(sweep_args(out)) == 0
    return out


# ----------------------------------------------------------------------------- parsing
def test_values_are_yaml_scalars_and_plus_makes_lists():
    assert parse_value("20") == 20 and parse_value("0.05") == 0.05
    assert parse_value("sms_sensitive") == "sms_sensitive"
    assert parse_value("true") is True
    assert parse_value("a+b", as_list=True) == ["a", "b"]
    assert parse_value("members", as_list=True) == ["members"]
    assert parse_value("1.0e+6") == 1.0e6  # '+' splits only list fields
    with pytest.raises(SweepError):
        parse_value("[a, b]")


def test_factor_and_gate_syntax():
    assert parse_grid("a.b=1, 2,3").texts == ("1", "2", "3")
    f = parse_range("channels.sms.daily_capacity=1000:5000")
    assert f.integer and (f.low, f.high) == (1000, 5000)
    assert not parse_range("x=0.03:0.1").integer
    for bad in ("a.b", "a.b=", "seed=1,2", "a=1,1"):
        with pytest.raises(SweepError):
            parse_grid(bad)
    for bad in ("x=1", "x=2:1", "x=a:b"):
        with pytest.raises(SweepError):
            parse_range(bad)
    g = parse_gate("roi >= 3")
    assert (g.kpi, g.op, g.threshold) == ("roi", ">=", 3.0)
    assert g.passes(3.0) and not g.passes(2.9) and not g.passes(None)
    assert parse_gate("cost<1_000.5").threshold == 1000.5
    for bad in (
        "__import__('os').system('x') > 1",
        "roi >= 3 or 1",
        "roi => 3",
        "roi >= x",
        "roi",
        "1 >= roi",
    ):
        with pytest.raises(SweepError):
            parse_gate(bad)


def test_designs():
    grid = Design("grid", (Factor("a", texts=("1", "2")), Factor("b", texts=("x", "y+z"))))
    assert grid.points(lambda p: p == "b") == [
        {"a": 1, "b": ["x"]},
        {"a": 1, "b": ["y", "z"]},
        {"a": 2, "b": ["x"]},
        {"a": 2, "b": ["y", "z"]},
    ]
    rnd = Design("random", (parse_range("i=1:3"), parse_range("f=0.5:0.6")), n=20, seed=4)
    pts = rnd.points()
    assert len(pts) == 20 and pts == rnd.points()
    assert {p["i"] for p in pts} == {1, 2, 3} and all(0.5 <= p["f"] <= 0.6 for p in pts)
    sob = Design("sobol", (parse_range("x=0:1"), parse_range("y=0:1")), n=8, seed=1)
    assert len(sob.points()) == 8 * (2 + 2)
    with pytest.raises(SweepError):
        Design("sobol", (parse_range("x=0:1"),), n=6)
    with pytest.raises(SweepError):
        Design("grid", (parse_range("x=0:1"),))


# ----------------------------------------------------------------------------- scenario sweeps
def test_points_match_replicate_with_one_shared_baseline(tmp_path, monkeypatch):
    """Each point's per-replication KPIs equal `replicate(with_baseline=True)`; baselines run
    once per replication, not once per point."""
    trace = tmp_path / "trace"
    monkeypatch.setenv(TRACE_ENV, str(trace))
    design = Design(
        "grid",
        (
            parse_grid("benefits.member_coupon.offer.amount_off=5,20"),
            parse_grid("plan.coupon_sms.audience=members,sms_sensitive+fan"),
        ),
    )
    plan = plan_scenario_sweep(SCENARIO, design, reps=2, shoppers=1500)
    assert plan.points[1]["plan.coupon_sms.audience"] == ["sms_sensitive", "fan"]
    result = run_sweep(plan, tmp_path / "out")
    kinds = Counter(kind for kind, _ in trace_counts(trace).elements())
    assert kinds == {"point": 4 * 2, "baseline": 2}  # a task per point and replication
    for i in (0, 3):
        sc = load_scenario(SCENARIO, plan.points[i])
        (rep,) = replicate(
            [sc], ["x"], reps=2, shoppers=1500, with_baseline=True, base_dirs=[ROOT / "scenarios"]
        )
        assert result.points[i].kpis == rep.kpis
        assert list(rep.kpis[0]) == kpi_names(sc)


def test_bad_override_exits_2_before_running(tmp_path, capsys):
    out = tmp_path / "out"
    args = [
        "sweep",
        SCENARIO,
        "--grid",
        "benefits.member_coupon.offer.amount_of=5,10",
        "--grid",
        "plan.coupon_sms.audience=members,nobody",
        "--out",
        str(out),
        "--quiet",
    ]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert "benefits.member_coupon.offer.amount_of" in err and "'nobody'" in err
    assert "nothing was run" in err and not out.exists()
    assert (
        cli.main(
            [
                "sweep",
                SCENARIO,
                "--grid",
                "benefits.member_coupon.offer.amount_off=5,-1",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 2
    )
    assert "greater than or equal to 0 (got -1)" in capsys.readouterr().err
    for gate in ("rio >= 1", "roi >= __import__('os')"):
        assert (
            cli.main(
                [
                    "sweep",
                    SCENARIO,
                    "--grid",
                    "benefits.member_coupon.offer.amount_off=5",
                    "--gate",
                    gate,
                    "--out",
                    str(out),
                    "--quiet",
                ]
            )
            == 2
        )
    assert not out.exists()


def test_outputs_and_refusal_of_another_definition(reference, capsys):
    rows = (reference / "sweep.csv").read_text().splitlines()
    header = rows[0].split(",")
    assert header[:4] == [
        "point",
        "point_id",
        "benefits.member_coupon.offer.amount_off",
        "plan.coupon_sms.audience",
    ]
    assert rows[1].startswith("0,") and rows[-1].startswith("15,")
    assert {f"{k}.png" for k in ("roi", "cost", "incremental_gmv")} <= {
        p.name for p in (reference / "plots").iterdir()
    }
    assert "## Best points per KPI" in (reference / "summary.md").read_text()
    before = (reference / "sweep.json").read_text()
    other = sweep_args(reference)
    other[other.index("--reps") + 1] = "3"
    assert cli.main(other) == 2
    assert "different sweep (differs in: reps)" in capsys.readouterr().err
    assert (reference / "sweep.json").read_text() == before


def test_gates_exit_1_and_name_failing_points(reference, capsys):
    """Gates are not part of the definition: the finished sweep is re-checked, nothing reruns."""
    roi = {
        int(r.split(",")[0]): float(r.split(",")[5])
        for r in (reference / "sweep.csv").read_text().splitlines()[1:]
        if ",roi," in r
    }
    ranked = sorted(roi.values())
    cut = round((ranked[7] + ranked[8]) / 2, 6)  # between the 8th and 9th point
    csv_before = (reference / "sweep.csv").read_bytes()
    assert cli.main(sweep_args(reference, "--gate", f"roi >= {cut}", "--no-plots")) == 1
    out = capsys.readouterr().out
    failing = {i for i, v in roi.items() if v < cut}
    assert len(failing) == 8
    for i in failing:
        assert f"GATE FAILED 'roi >= {cut}' at point {i} (" in out
    summary = json.loads((reference / "summary.json").read_text())
    assert {p["point"] for p in summary["gates"][0]["failing_points"]} == failing
    lowest = min(roi.values()) - 1e-6  # sweep.csv rounds to 12 digits, maybe up: just under
    assert cli.main(sweep_args(reference, "--gate", f"roi >= {lowest}", "--no-plots")) == 0
    assert (reference / "sweep.csv").read_bytes() == csv_before


def test_temporaries_of_killed_writers_are_removed_on_the_next_run(reference, tmp_path):
    """A chart or an output killed mid-write leaves a hidden temporary named by its writer's
    pid: the next run into the folder removes those of dead processes, keeps a live one's."""
    with subprocess.Popen([sys.executable, "-c", ""]) as proc:
        proc.wait()
    dead = [
        reference / "plots" / f".roi.png.{proc.pid}.abcdefgh.tmp",
        reference / f".summary.md.{proc.pid}.abcdefgh.tmp",
        reference / "points" / f".x.json.{proc.pid}.abcdefgh.tmp",
    ]
    live = reference / "plots" / f".cost.png.{os.getpid()}.abcdefgh.tmp"
    for path in [*dead, live]:
        path.touch()
    assert cli.main(sweep_args(reference, "--no-plots")) == 0
    assert not any(p.exists() for p in dead) and live.exists()
    live.unlink()


def _gone(pid: int) -> bool:
    """Whether a process has exited (a zombie counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_kill_9_then_resume_gives_the_same_table(reference, tmp_path, monkeypatch):
    """Kill -9 a two-worker sweep after its first points are saved, run it again: the same bytes
    as the uninterrupted one-process run, no finished point run twice, no orphan workers."""
    out, trace = tmp_path / "sweep", tmp_path / "trace"
    env = {**os.environ, TRACE_ENV: str(trace)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator.cli", *sweep_args(out), "--workers", "2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    points = out / "points"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if points.is_dir() and len(list(points.glob("*.json"))) >= 3:
            break
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = {p.stem for p in points.glob("*.json")}
    assert 3 <= len(finished) < 16, "the sweep should be killed part-way"
    assert not (out / "sweep.csv").exists()
    workers = {int(line.split()[2]) for line in trace.read_text().splitlines()}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not all(map(_gone, workers)):
        time.sleep(0.1)
    assert all(map(_gone, workers)), "worker processes outlived the killed sweep"
    monkeypatch.setenv(TRACE_ENV, str(trace))
    assert cli.main(sweep_args(out, "--no-plots")) == 0
    assert (out / "sweep.csv").read_bytes() == (reference / "sweep.csv").read_bytes()
    runs = trace_counts(trace)  # point tasks are "<point>-<replication>"
    reps = int(SMALL[SMALL.index("--reps") + 1])
    assert all(runs[("point", f"{pid}-{k}")] == 1 for pid in finished for k in range(reps))
    assert {key.rsplit("-", 1)[0] for kind, key in runs if kind == "point"} == {
        p.stem for p in points.glob("*.json")
    }
    assert all(n <= 2 for n in runs.values())  # at most the interrupted run and one more


def test_dask_cluster_gives_the_same_table(reference, tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        out = tmp_path / "sweep"
        assert (
            cli.main(sweep_args(out, "--scheduler", cluster.scheduler_address, "--no-plots")) == 0
        )
    assert (out / "sweep.csv").read_bytes() == (reference / "sweep.csv").read_bytes()


# ----------------------------------------------------------------------------- function sweeps
def ishigami(overrides, seeds):
    """The Ishigami function (a = 7, b = 0.1), one value per seed."""
    x1, x2, x3 = (overrides[k] for k in ("x1", "x2", "x3"))
    y = math.sin(x1) + 7 * math.sin(x2) ** 2 + 0.1 * x3**4 * math.sin(x1)
    return [{"y": y} for _ in seeds]


def test_sobol_recovers_ishigami_indices(tmp_path):
    design = Design(
        "sobol",
        tuple(parse_range(f"x{i}=-3.141592653589793:3.141592653589793") for i in (1, 2, 3)),
        n=1024,
        seed=11,
    )
    result = run_sweep(plan_function_sweep(design, ishigami), tmp_path / "ishigami")
    rows = {r["factor"]: r for r in result.sobol()}
    exact = {"x1": (0.3139, 0.5576), "x2": (0.4424, 0.4424), "x3": (0.0, 0.2437)}
    for name, (s1, st) in exact.items():
        r = rows[name]
        assert abs(r["S1"] - s1) < 0.05 and abs(r["ST"] - st) < 0.05, r
        assert r["S1_ci_low"] < s1 < r["S1_ci_high"] and r["ST_ci_low"] < st < r["ST_ci_high"]
    assert [rows[n]["rank"] for n in ("x1", "x2", "x3")] == [1, 2, 3]
    write_outputs(result, tmp_path / "ishigami")
    assert (tmp_path / "ishigami" / "plots" / "sobol_y.png").exists()
    assert "### y" in (tmp_path / "ishigami" / "summary.md").read_text()


def flaky(overrides, seeds):
    """Fails at x = 3 while the test's switch file exists."""
    if overrides["x"] == 3 and os.path.exists(os.environ["SWEEP_TEST_SWITCH"]):
        raise RuntimeError("simulated failure")
    return [{"y": overrides["x"] * 2.0 + s % 7} for s in seeds]


def test_failed_point_is_recorded_and_retried(tmp_path, monkeypatch):
    switch, trace = tmp_path / "fail", tmp_path / "trace"
    switch.write_text("on")
    monkeypatch.setenv("SWEEP_TEST_SWITCH", str(switch))
    monkeypatch.setenv(TRACE_ENV, str(trace))
    plan = plan_function_sweep(Design("grid", (parse_grid("x=1,2,3,4"),)), flaky, reps=3)
    out = tmp_path / "out"
    result = run_sweep(plan, out)
    assert [p.index for p in result.failures()] == [2]
    assert "RuntimeError: simulated failure" in result.failures()[0].error
    write_outputs(result, out, plots=False)
    assert "simulated failure" in (out / "summary.md").read_text()
    assert len((out / "sweep.csv").read_text().splitlines()) == 1 + 3
    switch.unlink()
    result = run_sweep(plan, out)
    assert not result.failures() and (result.resumed, result.computed) == (3, 1)
    assert sorted(trace_counts(trace).values()) == [1, 1, 1, 2]
