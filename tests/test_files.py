"""simulator.files: the one atomic writer keeps the old file on any failure and leaves no debris;
a result folder replaces only a previous result of the same command."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from helpers import ROOT

from simulator.files import (
    MARKER,
    OutputError,
    atomic_dir,
    atomic_write_bytes,
    atomic_write_text,
    check_output_dir,
    check_output_file,
    process_alive,
    read_marker,
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


def dead_pid() -> int:
    """The id of a process that has exited."""
    with subprocess.Popen([sys.executable, "-c", ""]) as proc:
        proc.wait()
    assert not process_alive(proc.pid)
    return proc.pid


def test_atomic_dir_replaces_a_folder_whole_or_not_at_all(tmp_path):
    out = tmp_path / "out"
    with atomic_dir(out, "run") as tmp:
        (tmp / "old.txt").write_text("old")
    with pytest.raises(RuntimeError), atomic_dir(out, "run") as tmp:
        (tmp / "new.txt").write_text("new")
        raise RuntimeError("crash")
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "old.txt"]
    with atomic_dir(out, "run") as tmp:
        (tmp / "sub").mkdir()
        (tmp / "sub" / "new.txt").write_text("new")
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "sub"]
    assert read_marker(out) == {"command": "run", "files": ["sub/new.txt"]}
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_a_folder_promosim_did_not_write_is_never_replaced(tmp_path):
    """Users' files, a file, a link and another command's result are refused, before any work
    and again at the replacement; a new or empty folder or the same command's result is not."""
    user = tmp_path / "user"
    (user / "sub").mkdir(parents=True)
    (user / "thesis.tex").write_text("k")
    with pytest.raises(OutputError, match=r"user is not empty .*thesis\.tex"):
        check_output_dir(user, "run")
    (user / "thesis.tex").unlink()
    with pytest.raises(OutputError, match=r"holds sub\)"):  # an empty folder of the user's
        check_output_dir(user, "run")
    (tmp_path / "file").write_text("f")
    with pytest.raises(OutputError, match="is a file"):
        check_output_dir(tmp_path / "file", "run")
    (tmp_path / "link").symlink_to(user)
    with pytest.raises(OutputError, match="symbolic link"):
        check_output_dir(tmp_path / "link", "run")
    ours = tmp_path / "ours"
    with atomic_dir(ours, "compare") as tmp:
        (tmp / "c.csv").write_text("c")
    with pytest.raises(OutputError, match="result of `promosim compare`, not of `promosim run`"):
        check_output_dir(ours, "run")
    check_output_dir(ours, "compare")
    (ours / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match=r"did not write there \(notes\.txt\)"):
        check_output_dir(ours, "compare")
    with pytest.raises(OutputError, match="notes"), atomic_dir(ours, "compare") as tmp:
        (tmp / "c.csv").write_text("c2")  # a run replacing it finds the new file at the end
    assert (ours / "notes.txt").read_text() == "mine" and (ours / "c.csv").read_text() == "c"
    assert (user / "sub").is_dir() and (tmp_path / "file").read_text() == "f"
    (tmp_path / "empty").mkdir()
    check_output_dir(tmp_path / "empty", "run")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "file", "link", "ours", "user"]


def test_the_current_folder_and_unwritable_places_are_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for here in (".", tmp_path, "/"):
        with pytest.raises(OutputError, match="current folder"):
            check_output_dir(here, "run")
    (tmp_path / "file").write_text("f")
    with pytest.raises(OutputError, match="cannot write .*file/out"):
        check_output_dir("file/out", "run")
    with pytest.raises(OutputError, match="cannot write .*file/p.yaml"):
        check_output_file("file/p.yaml")
    with pytest.raises(OutputError, match="is a folder"):
        check_output_file(tmp_path)

    def read_only(*args, **kwargs):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr("os.mkdir", read_only)
    with pytest.raises(OutputError, match="cannot write .*out/: Read-only file system"):
        check_output_dir("out", "run")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_a_write_error_becomes_an_output_error_and_leaves_nothing(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(OutputError, match="cannot write .*out/: No space left"):
        with atomic_dir(out, "run") as tmp:
            (tmp / "a.json").write_text("{}")
            raise OSError(28, "No space left on device")
    assert list(tmp_path.iterdir()) == []


def test_leftovers_of_dead_processes_are_removed_and_live_ones_kept(tmp_path):
    out = tmp_path / "out"
    with atomic_dir(out, "run") as tmp:
        (tmp / "kpis.json").write_text("{}")
    dead, alive = dead_pid(), os.getpid()
    leftovers = [f".out.partial-{dead}-abcd_123", f".out.old-{dead}"]
    kept = [f".out.partial-{alive}-abcd_123", f".out.old-{alive}", ".out.notes", "out.txt"]
    for name in leftovers + kept[:2]:
        (tmp_path / name).mkdir()
        (tmp_path / name / "kpis.json").write_text("{}")  # looks complete
    for name in kept[2:]:
        (tmp_path / name).write_text("user")
    check_output_dir(out, "run")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["out", *kept])


def test_a_kill_between_the_two_renames_loses_no_result(tmp_path):
    """Killed after moving the previous result aside and before putting the new one in place:
    the next run into the same place puts the previous result back, then replaces it."""
    out = tmp_path / "out"
    with atomic_dir(out, "run") as tmp:
        (tmp / "r.txt").write_text("first")
    code = (
        "import os, sys; from simulator import files\n"
        "replace, calls = os.replace, []\n"
        "def dying(*a):\n"
        "    calls.append(a)\n"
        "    if len(calls) == 3: os._exit(9)  # marker, result aside, (new result in place)\n"
        "    replace(*a)\n"
        "os.replace = dying\n"
        "with files.atomic_dir(sys.argv[1], 'run') as tmp:\n"
        "    (tmp / 'r.txt').write_text('second')\n"
    )
    with subprocess.Popen([sys.executable, "-c", code, str(out)], cwd=ROOT) as proc:
        assert proc.wait(timeout=60) == 9
    assert not out.exists()
    assert sorted(p.name.split("-")[0] for p in tmp_path.iterdir()) == [".out.old", ".out.partial"]
    check_output_dir(out, "run")
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    assert (out / "r.txt").read_text() == "first" and read_marker(out)["files"] == ["r.txt"]
    with atomic_dir(out, "run") as tmp:
        (tmp / "r.txt").write_text("third")
    assert (out / "r.txt").read_text() == "third"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_json_is_strict_and_csv_takes_the_first_rows_columns(tmp_path):
    assert json.loads(to_json({"x": float("nan"), "y": [1.5, float("inf")]})) == {
        "x": None,
        "y": [1.5, None],
    }
    write_csv(tmp_path / "t.csv", [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}])
    assert (tmp_path / "t.csv").read_text() == "a,b\n1,x\n2,y\n"
