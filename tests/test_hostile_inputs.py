"""Hostile inputs (issue 13): the command reading each exits 0 or 2, in time, without traceback.

The corpus (tests/hostile.py) holds several hundred files made from the shipped scenarios, the
targets and params files and the transaction fixtures: alias bombs, deep nesting, huge numbers,
wrong types, binary and special files, bad dates, bad references, YAML 1.1 literals, merge keys,
control characters. Each is read in-process by the command a user would give it to: `validate`
for a scenario, `calibrate targets` for a targets file, `calibrate bgnbd` for a log.
"""

from __future__ import annotations

import resource
import time
from pathlib import Path

import pytest
from hostile import Case, corpus, make, prepare

from simulator.cli import main
from simulator.yamlfiles.loader import UNPRINTABLE

CASES = corpus()
SECONDS = 10.0  # most a command may take on any one file
MEMORY_KB = 1_000_000  # most its peak memory may grow (ru_maxrss is in kB on Linux)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """The folder every case is made in (shipped scenarios, a FIFO and a bomb as parents)."""
    path = tmp_path_factory.mktemp("hostile")
    prepare(path)
    return path


def command(case: Case, path: Path, folder: Path) -> list[str]:
    """The command line that reads the case's file; outputs go below folder/out."""
    out = folder / "out" / case.name
    if case.kind == "scenario":
        return ["validate", str(path)]
    if case.kind == "targets":
        scenario = folder / "bluemoon_2018.yaml"
        cheap = ["--max-evals", "1", "--reps", "1", "--shoppers", "1000", "--no-plots"]
        return [
            "calibrate",
            "targets",
            str(scenario),
            str(path),
            "--out",
            str(out),
            "--quiet",
        ] + cheap
    return ["calibrate", "bgnbd", str(path), "--out", str(out.with_suffix(".params.yaml"))]


def run(argv: list[str]) -> int:
    """`promosim ARGV` in this process: its exit code."""
    try:
        return main(argv)
    except SystemExit as exc:  # argparse
        return int(exc.code)


def test_the_corpus_is_large_and_varied():
    """Several hundred files, of every kind the issue lists."""
    assert len(CASES) >= 500
    names = " ".join(c.name for c in CASES)
    for kind in (
        "bomb",
        "deep",
        "num_",
        "type_",
        "fifo",
        "random_bytes",
        "date_",
        "ref_",
        "extends_",
        "params_",
        "shoppers_0x10",
        "presale_yes",
        "merge_",
        "name_",
        "targets_",
        "tx_",
    ):
        assert kind in names, kind


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(c, marks=pytest.mark.xfail(strict=True, reason=c.known) if c.known else ())
        for c in CASES
    ],
    ids=[c.name for c in CASES],
)
def test_a_hostile_input_is_refused_cleanly(case, folder, capsys):
    """Exit 2 (0 where valid) in under 10 s and 1 GB; the message names the file, escaped."""
    path = make(case, folder)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    code = run(command(case, path, folder))
    elapsed = time.perf_counter() - t0
    out, err = capsys.readouterr()
    assert code in case.codes, f"exit {code}: {err or out}"
    assert elapsed < SECONDS, f"{elapsed:.1f} s"
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak < MEMORY_KB
    assert "Traceback" not in out + err
    if code == 2:
        assert err.startswith("error: ") and str(path) in err, err
    assert not UNPRINTABLE.search(err.replace("\n", "")), repr(err)


RUN_CASES = [c for c in CASES if c.kind == "scenario" and c.codes == (2,) and not c.known]


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    """A second folder like `folder`, so `run` makes its own copy of every case."""
    path = tmp_path_factory.mktemp("hostile_run")
    prepare(path)
    return path


@pytest.mark.parametrize("case", RUN_CASES, ids=[c.name for c in RUN_CASES])
def test_run_refuses_a_hostile_scenario_before_simulating(case, run_folder, capsys):
    """`promosim run` refuses every bad scenario like `validate`, in under 10 s and 1 GB."""
    path = make(case, run_folder)
    out = run_folder / "run_out" / case.name
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    code = run(["run", str(path), "--shoppers", "1000", "--no-plots", "--quiet", "--out", str(out)])
    elapsed = time.perf_counter() - t0
    out_text, err = capsys.readouterr()
    assert code == 2, f"exit {code}: {err or out_text}"
    assert elapsed < SECONDS and "Traceback" not in out_text + err
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak < MEMORY_KB
    assert err.startswith("error: ") and str(path) in err, err
    assert not out.exists()  # nothing written for a refused scenario
