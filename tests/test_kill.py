"""kill -9 at random moments never leaves a result that looks complete and is not (issue 13).

Each command is killed at seeded random moments, first while writing a new folder, then while
replacing its previous result (late in the run, when it writes). After every kill `--out` holds
a complete result (its marker, every file the marker lists and no other, valid JSON) or none
(an unfinished sweep, unmarked, is resumed); the next uninterrupted run leaves a complete result
and no litter; the user's file next to `--out` survives.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time

import pytest
from helpers import ROOT
from test_output_safety import command_line

from simulator.files import MARKER, read_marker

EXPECTED = {
    "run": {"kpis.json", "daily.csv", "run.json", "daily_gmv.png"},
    "compare": {"comparison.json", "comparison.csv"},
    "calibrate targets": {"fit.json", "store.yaml", "targets.png"},
    "sweep": {"sweep.json", "sweep.csv", "summary.md", "summary.json", "plots/roi.png"},
}
LATE_KILLS = 2  # kills while replacing a previous result, after one on a fresh folder


def start(args: list[str]) -> subprocess.Popen:
    """promosim in a fresh interpreter, as a user runs it."""
    return subprocess.Popen(
        [sys.executable, "-m", "simulator.cli", *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def finish(args: list[str]) -> float:
    """Run to the end; the seconds it took."""
    t0 = time.monotonic()
    proc = start(args)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode in (0, 1), err.decode()  # 1: a fitted target not met
    return time.monotonic() - t0


def kill_after(args: list[str], seconds: float) -> None:
    """Start, then kill -9 after `seconds` (or let it finish first)."""
    proc = start(args)
    try:
        proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()


def files_under(folder) -> set[str]:
    """Relative paths of the files under a folder."""
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def assert_complete_or_absent(out, name: str) -> None:
    """A complete result of `name` or none (or, for a sweep, an unfinished unmarked one)."""
    if not out.exists():
        return
    marker = read_marker(out)
    if marker is None:
        assert name == "sweep", f"{sorted(files_under(out))}: a result without its marker"
        return
    assert marker["command"] == name
    assert files_under(out) - {MARKER} == set(marker["files"])
    assert EXPECTED[name] <= set(marker["files"])
    for f in marker["files"]:
        assert (out / f).stat().st_size > 0, f
        if f.endswith(".json"):
            json.loads((out / f).read_text())


@pytest.mark.parametrize("name", EXPECTED)
def test_kill_9_leaves_a_complete_result_or_none(name, tmp_path):
    rng = random.Random(f"kill {name}")
    parent = tmp_path / "results"
    parent.mkdir()
    (parent / "notes.txt").write_text("mine")
    out = parent / "out"
    args = command_line(name, tmp_path, out, "--quiet")
    kill_after(args, rng.uniform(0.5, 2.0))
    assert_complete_or_absent(out, name)
    took = finish(args)
    assert_complete_or_absent(out, name)
    for _ in range(LATE_KILLS):
        kill_after(args, rng.uniform(0.6, 1.0) * took)
        assert_complete_or_absent(out, name)
        assert (parent / "notes.txt").read_text() == "mine"
    finish(args)
    assert read_marker(out)["command"] == name
    assert_complete_or_absent(out, name)
    assert sorted(p.name for p in parent.iterdir()) == ["notes.txt", "out"]
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    assert (parent / "notes.txt").read_text() == "mine"
