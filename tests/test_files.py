"""simulator.files: the one atomic writer keeps the old file on any failure and leaves no debris."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from helpers import ROOT

from simulator.files import (
    atomic_dir,
    atomic_write_bytes,
    atomic_write_text,
    temporary_files,
    to_json,
    write_csv,
)


@pytest.mark.parametrize("durable", [True, False])
def test_atomic_write_replaces_the_file_with_the_umask_permissions(tmp_path, durable):
    path = tmp_path / "a.json"
    path.write_text("old")
    atomic_write_text(path, "new", durable=durable)
    assert path.read_text() == "new"
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


@pytest.mark.parametrize("fail_at", ["os.fsync", "os.replace"])
def test_failure_mid_write_keeps_the_old_file_and_no_temporary(tmp_path, monkeypatch, fail_at):
    path = tmp_path / "a.bin"
    path.write_bytes(b"old")

    def disk_full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fail_at, disk_full)
    with pytest.raises(OSError, match="No space"):
        atomic_write_bytes(path, b"new")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.bin"]


def test_a_killed_writer_leaves_a_temporary_named_by_its_pid(tmp_path):
    """Killed between writing and renaming (no clean-up runs): the old file stays, and
    `temporary_files` finds the temporary with the pid of the process that wrote it."""
    path = tmp_path / "p.json"
    path.write_text("old")
    code = (
        "import os, sys; from simulator import files; "
        "os.replace = lambda *a: os._exit(9); "
        "files.atomic_write_text(sys.argv[1], 'new')"
    )
    with subprocess.Popen([sys.executable, "-c", code, str(path)], cwd=ROOT) as proc:
        assert proc.wait(timeout=60) == 9
    assert path.read_text() == "old"
    ((tmp, pid),) = temporary_files(tmp_path)
    assert pid == proc.pid and tmp.read_text() == "new"


def test_atomic_dir_replaces_a_folder_whole_or_not_at_all(tmp_path):
    out = tmp_path / "out"
    with atomic_dir(out) as tmp:
        (tmp / "old.txt").write_text("old")
    with pytest.raises(RuntimeError), atomic_dir(out) as tmp:
        (tmp / "new.txt").write_text("new")
        raise RuntimeError("crash")
    assert [p.name for p in out.iterdir()] == ["old.txt"]
    with atomic_dir(out) as tmp:
        (tmp / "new.txt").write_text("new")
    assert [p.name for p in out.iterdir()] == ["new.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_json_is_strict_and_csv_takes_the_first_rows_columns(tmp_path):
    assert json.loads(to_json({"x": float("nan"), "y": [1.5, float("inf")]})) == {
        "x": None,
        "y": [1.5, None],
    }
    write_csv(tmp_path / "t.csv", [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}])
    assert (tmp_path / "t.csv").read_text() == "a,b\n1,x\n2,y\n"
