"""Nothing lost, nothing hangs, no tracebacks: output folders, flag bounds, signals (issue 13).

Every command that writes a result folder refuses one holding anything it did not write, before
any work; flags are bounded before any work; Ctrl-C and SIGTERM end a command in one line.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import yaml
from helpers import BASE, ROOT

from simulator import cli
from simulator.files import MARKER, read_marker

D11 = str(ROOT / "scenarios" / "double11_2021.yaml")
NO_CAMPAIGN = str(ROOT / "scenarios" / "no_campaign.yaml")
CDNOW = str(ROOT / "calibration" / "data" / "CDNOW_master.txt")
# command -> (its arguments at a small size, the function doing its work)
COMMANDS = {
    "run": (["run", D11, "--shoppers", "2000"], "simulator.analysis.experiment.replicate"),
    "compare": (
        ["compare", NO_CAMPAIGN, D11, "--shoppers", "2000", "--reps", "2"],
        "simulator.analysis.experiment.run_comparison",
    ),
    "backtest": (
        ["backtest", CDNOW, "--sample", "--cal-weeks", "39", "--reps", "2"],
        "simulator.fitting.backtest.run.run_backtest",
    ),
    "calibrate targets": (
        ["calibrate", "targets", "{store}", "{targets}", "--shoppers", "2000", "--reps", "1"]
        + ["--max-evals", "3"],
        "simulator.fitting.targets.search.fit",
    ),
}
SWEEP = ["sweep", D11, "--grid", "channels.sms.cost_per_contact=0.03,0.05"]
SWEEP += ["--shoppers", "2000", "--reps", "2"]


def targets_files(folder) -> dict[str, str]:
    """A small store scenario and a targets file to fit it to, written in `folder`."""
    store, targets = folder / "store.yaml", folder / "targets.yaml"
    if not store.exists():
        store.write_text(yaml.safe_dump(copy.deepcopy(BASE), sort_keys=False))
        spec = {
            "targets": {"recruits": {"kpi": "new_members", "value": 100.0, "tolerance": 50.0}},
            "params": {"benefits.coupon.offer.amount_off": [0.0, 40.0]},
        }
        targets.write_text(yaml.safe_dump(spec, sort_keys=False))
    return {"store": str(store), "targets": str(targets)}


def command_line(name: str, folder, out, *extra) -> list[str]:
    """A command's arguments at a small size, writing to `out` (inputs made in `folder`)."""
    files = targets_files(folder) if name == "calibrate targets" else {}
    args = [a.format(**files) for a in COMMANDS[name][0]] if name in COMMANDS else SWEEP
    return [*args, "--out", str(out), *extra]


def forbid(monkeypatch, name: str) -> None:
    """Make the command's work fail the test if it starts."""

    def work(*args, **kwargs):
        raise AssertionError("the work started")

    monkeypatch.setattr(COMMANDS[name][1], work)


def tree(folder) -> dict[str, bytes]:
    """Every file under a folder and its bytes."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.mark.parametrize("name", COMMANDS)
def test_a_folder_holding_users_files_is_refused_before_work(name, tmp_path, monkeypatch, capsys):
    out = tmp_path / "x"
    (out / "sub").mkdir(parents=True)
    (out / "thesis.tex").write_text("k")
    forbid(monkeypatch, name)
    assert cli.main(command_line(name, tmp_path, out, "--quiet")) == 2
    err = capsys.readouterr().err
    assert f"--out {out} is not empty" in err and "thesis.tex" in err and "sub" in err
    assert tree(out) == {"thesis.tex": b"k"} and (out / "sub").is_dir()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".x.")]


@pytest.mark.parametrize("name", [*COMMANDS, "sweep"])
def test_out_naming_a_file_or_an_unwritable_place_is_refused(name, tmp_path, capsys):
    """Before any work: the file is left alone, nothing is written next to it."""
    (tmp_path / "f").write_text("mine")
    for out in (tmp_path / "f", tmp_path / "f" / "x"):
        assert cli.main(command_line(name, tmp_path, out, "--quiet")) == 2
        err = capsys.readouterr().err
        assert str(tmp_path / "f") in err and ("is a file" in err or "cannot write" in err), err
        assert "Traceback" not in err
    assert (tmp_path / "f").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["f", *(["store.yaml", "targets.yaml"] if name == "calibrate targets" else [])]
    )


@pytest.mark.parametrize("name", COMMANDS)
def test_each_command_replaces_only_its_own_result(name, tmp_path, capsys):
    """A second run replaces the first run's result whole; the user's files next to it survive;
    another command's result or a result with a file added is refused."""
    out = tmp_path / "res"
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "res.bak").mkdir()
    args = command_line(name, tmp_path, out, "--quiet")
    args += [] if name == "backtest" else ["--no-plots"]  # backtest always draws its charts
    for _ in range(2):
        assert cli.main(args) in (0, 1), capsys.readouterr().err  # 1: a target not met
        marker = read_marker(out)
        assert marker["command"] == name
        assert sorted(marker["files"]) == sorted(str(p) for p in tree(out) if p != MARKER)
    assert (tmp_path / "notes.txt").read_text() == "mine" and (tmp_path / "res.bak").is_dir()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".res")]
    other = "compare" if name == "run" else "run"
    assert cli.main(command_line(other, tmp_path, out, "--quiet")) == 2
    assert f"holds a result of `promosim {name}`" in capsys.readouterr().err
    (out / "mine.txt").write_text("k")
    assert cli.main(args) == 2
    assert "did not write there (mine.txt)" in capsys.readouterr().err
    assert (out / "mine.txt").read_text() == "k"


def test_run_out_dot_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    forbid(monkeypatch, "run")
    assert cli.main(["run", D11, "--out", ".", "--quiet"]) == 2
    assert "is the current folder" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_exits_2_and_keeps_the_previous_result(tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    args = command_line("run", tmp_path, out, "--quiet")
    assert cli.main([*args, "--no-plots"]) == 0
    before = tree(out)

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("simulator.reports.run_plots.plot_run", disk_full)
    assert cli.main(args) == 2
    assert f"cannot write {out}/: No space left on device" in capsys.readouterr().err
    assert tree(out) == before and [p.name for p in tmp_path.iterdir()] == ["out"]


# ----------------------------------------------------------------------------- bounds
@pytest.mark.parametrize(
    "flag, value, message",
    [
        ("--shoppers", "inf", "positive integer"),
        ("--shoppers", "1e400", "positive integer"),
        ("--shoppers", "1e12", "at most 2,000,000,000 shoppers"),
        ("--seed", "-1", "seed from 0 to 9223372036854775807"),
        ("--seed", str(2**64), "seed from 0"),
        ("--seed", "1.5", "seed from 0"),
    ],
)
@pytest.mark.parametrize("command", ["run", "sweep"])
def test_flags_out_of_bounds_exit_2_when_parsed(command, flag, value, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main([*command_line(command, tmp_path, tmp_path / "out"), flag, value])
    assert stop.value.code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_shoppers_beyond_the_memory_available_are_refused(command, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("simulator.cli.common.available_memory", lambda: 2**30)
    args = command_line(command, tmp_path, tmp_path / "out", "--quiet")
    assert cli.main([*args, "--shoppers", "300000000"]) == 2
    err = capsys.readouterr().err
    assert "300,000,000 shoppers need about" in err and "1.0 GiB is available" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "design, points",
    [
        (["--range", "channels.sms.cost_per_contact=0.01:0.1", "--sobol", "1073741824"], "3,221"),
        (["--range", "channels.sms.cost_per_contact=0.01:0.1", "--random", "1000000"], "1,000,000"),
        (
            [
                "--grid",
                "channels.sms.cost_per_contact=" + ",".join(f"0.{k:03d}" for k in range(1, 400)),
                "--grid",
                "benefits.member_coupon.offer.amount_off=" + ",".join(map(str, range(1, 400))),
            ],
            "159,201",
        ),
    ],
)
def test_sweep_designs_beyond_the_maximum_are_refused(design, points, tmp_path, capsys):
    start = time.perf_counter()
    assert cli.main(["sweep", D11, *design, "--out", str(tmp_path / "s"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"makes {points}" in err and "at most 100,000" in err
    assert time.perf_counter() - start < 5 and not (tmp_path / "s").exists()


# ----------------------------------------------------------------------------- validate, BG/NBD
def test_validate_checks_every_file_and_reports_all_errors(tmp_path, capsys):
    text = (ROOT / "scenarios" / "double11_2021.yaml").read_text()
    bad1, bad2 = tmp_path / "bad1.yaml", tmp_path / "bad2.yaml"
    bad1.write_text(text.replace("cost_per_contact: 0.045", "cost_per_contact: -1"))
    bad2.write_text("name: [unclosed\n")
    assert cli.main(["validate", str(bad1), D11, str(bad2)]) == 2
    captured = capsys.readouterr()
    assert f"OK {D11}" in captured.out
    assert "bad1.yaml:" in captured.err and "channels.sms.cost_per_contact" in captured.err
    assert "bad2.yaml" in captured.err and "2 of 3 files have errors" in captured.err


def test_an_unconverged_bgnbd_fit_is_written_only_when_allowed(tmp_path, capsys):
    log = tmp_path / "tiny.csv"
    log.write_text(
        "customer_id,date,amount\n1,2020-01-01,10\n1,2020-01-02,10\n2,2020-01-01,5\n"
        "3,2020-03-01,5\n"
    )
    out = tmp_path / "p.yaml"
    assert cli.main(["calibrate", "bgnbd", str(log), "--out", str(out)]) == 1
    captured = capsys.readouterr()
    assert "NOT converged" in captured.out and "--allow-unconverged" in captured.err
    assert not out.exists() and list(tmp_path.iterdir()) == [log]
    allow = ["calibrate", "bgnbd", str(log), "--out", str(out), "--allow-unconverged"]
    assert cli.main(allow) == 3  # three customers: a boundary fit too, refused on its own
    assert "--allow-boundary" in capsys.readouterr().err and not out.exists()
    assert cli.main([*allow, "--allow-boundary"]) == 0
    assert out.exists()


# ----------------------------------------------------------------------------- signals
def interrupt(args: list[str], sig: int) -> subprocess.CompletedProcess:
    """Start promosim in its own process group, signal the group once its progress bar shows
    (the work has started: Ctrl-C in a terminal reaches every process of the group). A group
    still running 30 s later has hung: it is killed and the test fails."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator.cli", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    os.set_blocking(proc.stderr.fileno(), False)
    seen, deadline = b"", time.monotonic() + 60
    while b"|" not in seen and proc.poll() is None and time.monotonic() < deadline:
        seen += proc.stderr.read() or b""
        time.sleep(0.02)
    os.killpg(proc.pid, sig)
    os.set_blocking(proc.stderr.fileno(), True)
    try:
        out, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"still running 30 s after the signal: {seen.decode()}")
    return subprocess.CompletedProcess(args, proc.returncode, out, (seen + err).decode())


@pytest.mark.parametrize(
    "command, sig, code, line",
    [
        ("run", signal.SIGINT, 130, "interrupted"),
        ("run", signal.SIGTERM, 143, "terminated"),
        (
            "sweep",
            signal.SIGINT,
            130,
            "interrupted: finished points are saved; run the same command to resume",
        ),
    ],
)
def test_a_signal_ends_a_command_in_one_line(command, sig, code, line, tmp_path):
    """No traceback, no partial result; a sweep's workers stop too. The line ends the output
    (after the progress bar, which it may follow on the bar's line)."""
    out = tmp_path / "out"
    args = command_line(command, tmp_path, out)
    if command == "run":
        args += ["--shoppers", "2e6", "--reps", "3", "--no-plots"]
    else:
        args += ["--shoppers", "2e5", "--workers", "2", "--no-plots"]
    res = interrupt(args, sig)
    assert res.returncode == code, res.stderr
    assert "Traceback" not in res.stderr
    assert res.stderr.endswith(line + "\n") and res.stderr.count(line) == 1, res.stderr
    if command == "run":
        assert not out.exists()
    else:  # an unfinished sweep: resumable, not marked finished
        assert not (out / MARKER).exists() and not (out / "sweep.csv").exists()
    assert [p.name for p in tmp_path.iterdir()] == (["out"] if out.exists() else [])


def test_sweep_charts_are_world_readable_and_marked_finished(tmp_path):
    out = tmp_path / "s"
    assert cli.main([*command_line("sweep", tmp_path, out), "--quiet"]) == 0
    mask = os.umask(0)
    os.umask(mask)
    charts = list((out / "plots").glob("*.png"))
    assert charts and all(p.stat().st_mode & 0o777 == 0o666 & ~mask for p in charts)
    assert read_marker(out)["command"] == "sweep"
    assert json.loads((out / "summary.json").read_text())["points"] == 2
