"""Writing files safely: result folders promosim owns, atomic files, strict JSON, CSV.

Everything promosim writes goes to a temporary sibling (a folder or a file) that replaces the
target only when complete, so a crash never leaves a half-written result that looks finished.
A result folder replaces only a previous result of the same command, recognised by the marker
file it holds (`MARKER`), so promosim never deletes or moves anything it did not write. What a
killed process leaves (temporary folders and files named with its process id) is cleaned up by
the next run into the same place. This module is the only place that writes a temporary and
renames it.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from simulator.errors import UserError

MARKER = ".promosim.json"  # in a result folder: the command that wrote it and its files
SHOWN_FOREIGN = 3  # foreign files a refusal names


class OutputError(UserError):
    """An output path promosim must not replace or cannot write."""


# ----------------------------------------------------------------------------- result folders
def check_output_dir(target: str | Path, command: str) -> Path:
    """Check before any work that `command` may write its result folder at `target`.

    `target` may be a new or empty folder, or a previous result of the same command: a folder
    whose marker names the command and lists every file in it. Anything else (a file, the
    current folder, a folder holding files promosim did not write) raises `OutputError`.
    Leftovers of killed runs into `target` are cleaned up first (`clean_leftovers`), and a
    temporary folder is made and removed next to it, so an unwritable place fails now rather
    than after the work. Returns `target` as an absolute path.
    """
    target = Path(os.path.abspath(target))
    try:
        clean_leftovers(target)
    except OSError as exc:
        raise OutputError(f"cannot clean up next to {target}: {exc.strerror or exc}") from None
    _refuse_unless_ours(target, command)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rmdir(_make_temp(target))
    except OSError as exc:
        raise OutputError(f"cannot write {target}/: {exc.strerror or exc}") from None
    return target


@contextmanager
def atomic_dir(target: str | Path, command: str) -> Iterator[Path]:
    """Yield a fresh folder to write `command`'s result into; on success it replaces `target`.

    The folder is checked as by `check_output_dir` (and again before the replacement, in case
    files appeared meanwhile), marked as `command`'s result (`write_marker`) and renamed into
    place; on any failure it is removed and `target` is left as it was. An OSError while
    writing becomes an `OutputError` naming `target`.
    """
    target = check_output_dir(target, command)
    try:
        tmp = _make_temp(target)
    except OSError as exc:
        raise OutputError(f"cannot write {target}/: {exc.strerror or exc}") from None
    try:
        try:
            yield tmp
            write_marker(tmp, command)
            _refuse_unless_ours(target, command)
            _replace(tmp, target)
        except OSError as exc:
            raise OutputError(f"cannot write {target}/: {exc.strerror or exc}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_marker(folder: str | Path, command: str) -> None:
    """Mark `folder` as a complete result of `command`, listing every file in it (write it last)."""
    folder = Path(folder)
    files = sorted(f for f in _files_and_folders(folder)[0] if f != MARKER)
    atomic_write_text(folder / MARKER, to_json({"command": command, "files": files}))


def add_to_marker(folder: str | Path, names: list[str]) -> None:
    """List more files in a result folder's marker (a report added to it), keeping its command.

    Call it before writing them: a file listed but absent is harmless, while a file present but
    unlisted would make the folder look foreign to the next run of its command.
    """
    marker = read_marker(folder)
    if marker is None:
        return
    files = sorted({*marker["files"], *names})
    atomic_write_text(Path(folder) / MARKER, to_json({**marker, "files": files}))


def read_marker(folder: str | Path) -> dict | None:
    """A folder's marker ({"command": ..., "files": [...]}), or None when absent or malformed."""
    try:
        marker = json.loads((Path(folder) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ok = (
        isinstance(marker, dict)
        and isinstance(marker.get("command"), str)
        and isinstance(marker.get("files"), list)
        and all(isinstance(f, str) for f in marker["files"])
    )
    return marker if ok else None


def clean_leftovers(target: str | Path) -> None:
    """Remove what killed runs into `target` left next to it, restoring a result a kill took away.

    A run writes into `.NAME.partial-PID-XXXXXXXX` and, for the instant between its two renames,
    moves the previous result to `.NAME.old-PID`. Those of processes still running are kept; a
    dead process's `.NAME.old-PID` becomes `target` again when `target` is missing (killed
    between the renames), and is removed otherwise.
    """
    target = Path(target)
    pattern = re.compile(re.escape(f".{target.name}.") + r"(?:partial-(\d+)-\w{8}|old-(\d+))")
    try:
        names = sorted(os.listdir(target.parent))
    except (FileNotFoundError, NotADirectoryError):
        return
    for name in names:
        found = pattern.fullmatch(name)
        if not found or process_alive(int(found[1] or found[2])):
            continue
        path = target.parent / name
        if found[2] and not os.path.lexists(target):
            os.replace(path, target)
        else:
            shutil.rmtree(path, ignore_errors=True)


def _refuse_unless_ours(target: Path, command: str) -> None:
    """Raise OutputError unless `command` may replace `target` (see `check_output_dir`)."""
    cwd = Path.cwd().resolve()
    if target == Path(target.anchor) or target.resolve() in (cwd, *cwd.parents):
        raise OutputError(
            f"--out {target} is the current folder or holds it; name a folder for the result, "
            "such as results/x"
        )
    if target.is_symlink() or (os.path.lexists(target) and not target.is_dir()):
        kind = "a symbolic link" if target.is_symlink() else "a file"
        raise OutputError(f"--out {target} is {kind}, not a folder; name a new folder")
    if not target.is_dir():
        return
    why = _not_ours(target, command)
    if why:
        raise OutputError(
            f"--out {target} {why}; promosim replaces only a previous result of the same "
            "command: name a new or empty folder"
        )


def _not_ours(folder: Path, command: str) -> str | None:
    """Why `command` may not replace the existing `folder`, or None if it may."""
    files, folders = _files_and_folders(folder)
    if not files and not folders:
        return None
    marker = read_marker(folder)
    if marker is None:
        return f"is not empty and is not a result of promosim (it holds {_some(files + folders)})"
    if marker["command"] != command:
        return f"holds a result of `promosim {marker['command']}`, not of `promosim {command}`"
    listed = {*marker["files"], MARKER}
    holding = {p.as_posix() for f in listed for p in Path(f).parents}
    foreign = [f for f in files if f not in listed] + [d for d in folders if d not in holding]
    if foreign:
        return f"holds files promosim did not write there ({_some(sorted(foreign))})"
    return None


def _some(names: list[str]) -> str:
    """A few names, and how many more."""
    shown = ", ".join(names[:SHOWN_FOREIGN])
    more = len(names) - SHOWN_FOREIGN
    return shown + (f" and {more} more" if more > 0 else "")


def _files_and_folders(folder: Path) -> tuple[list[str], list[str]]:
    """Relative paths of the files and of the subfolders under `folder` (links count as files)."""
    files, folders = [], []
    for root, dirnames, filenames in os.walk(folder):
        rel = Path(root).relative_to(folder)
        for d in dirnames:
            (files if os.path.islink(os.path.join(root, d)) else folders).append(
                (rel / d).as_posix()
            )
        files += [(rel / f).as_posix() for f in filenames]
    return files, folders


def _make_temp(target: Path) -> Path:
    """A new empty folder next to `target`, named with this process id, with umask permissions."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-{os.getpid()}-", dir=target.parent))
    os.chmod(tmp, 0o777 & ~_umask())
    return tmp


def _replace(tmp: Path, target: Path) -> None:
    """Put the folder `tmp` at `target`, moving a previous result aside for the instant between."""
    old = target.parent / f".{target.name}.old-{os.getpid()}"
    if os.path.lexists(target):
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
    try:
        os.replace(tmp, target)
    except OSError:
        if os.path.lexists(old) and not os.path.lexists(target):
            os.replace(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


# ----------------------------------------------------------------------------- files
def atomic_write_text(path: str | Path, text: str, *, durable: bool = True) -> None:
    """Write a UTF-8 text file atomically (`atomic_write_bytes`)."""
    atomic_write_bytes(path, text.encode("utf-8"), durable=durable)


def atomic_write_bytes(path: str | Path, data: bytes, *, durable: bool = True) -> None:
    """Write a file through a temporary sibling and a rename.

    A crash leaves the previous file or the new one, never a part; the temporary file is
    removed on any failure (a killed process leaves it: see `temporary_files`). With
    `durable=False` the data is not flushed to disk before the rename, which is much cheaper for
    many small files whose reader recomputes one it finds empty after a power loss (a sweep's
    point records).
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent
    )
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_output_file(path: str | Path) -> None:
    """Check before any work that a file can be written at `path`: not a folder, parent writable."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path} is a folder; name a file to write")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent
        )
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None


def check_replace_file(path: str | Path, *, force: bool, written_by: str | None = None) -> None:
    """Refuse before any work to replace an existing file, unless `force` or it is ours.

    A file counts as ours when `written_by` is given and the file's first line starts with it
    (the provenance comment promosim writes at the top of a file, e.g. a params file's "# Fitted
    by `promosim calibrate bgnbd`"); a command passes it only for its default path, under
    `results/`. Anything else there (a tracked file such as `calibration/params/*.yaml`, a
    user's own) is replaced only with --force.
    """
    path = Path(path)
    if force or not os.path.lexists(path) or path.is_dir():
        return
    if written_by is not None and _first_line(path).startswith(written_by):
        return
    raise OutputError(
        f"{path} exists; it is replaced only with --force (name another file with --out, or "
        "add --force to overwrite it)"
    )


def _first_line(path: Path) -> str:
    """The first line of a text file ('' when it cannot be read)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.readline(1000)
    except OSError:
        return ""


def temporary_files(folder: str | Path) -> Iterator[tuple[Path, int]]:
    """The temporary files `atomic_write_bytes` left in a folder, each with its writer's pid.

    Only a killed writer leaves one; a caller that knows which processes may still be writing
    deletes the others (`process_alive`).
    """
    for tmp in Path(folder).glob(".*.tmp"):
        pid = tmp.name.rsplit(".", 3)[-3]  # .<target name>.<pid>.<random>.tmp
        if pid.isdigit():
            yield tmp, int(pid)


def process_alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie (this process counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OverflowError:  # not a process id
        return False
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


# ----------------------------------------------------------------------------- formats
def to_json(obj) -> str:
    """JSON text with NaN/inf turned into null (strict JSON)."""

    def clean(x):
        if isinstance(x, float) and not math.isfinite(x):
            return None
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, list | tuple):
            return [clean(v) for v in x]
        return x

    return json.dumps(clean(obj), indent=2, allow_nan=False) + "\n"


def write_csv(path: str | Path, rows: list[dict]) -> None:
    """Write dict rows as CSV (columns from the first row), atomically."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else [], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(path, buf.getvalue())


def _umask() -> int:
    """The process umask (read by setting and restoring it)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask
