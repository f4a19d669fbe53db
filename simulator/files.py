"""Writing files safely: atomic output folders and files, strict JSON, CSV.

Everything promosim writes goes to a temporary sibling (a folder or a file) that replaces the
target only when complete, so a crash never leaves a half-written result that looks finished.
This module is the only place that writes a temporary and renames it.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_dir(target: str | Path) -> Iterator[Path]:
    """Yield a fresh folder to write into; on success it replaces `target` in one rename."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    os.chmod(tmp, 0o777 & ~_umask())
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if target.exists():
        old = target.parent / f".{target.name}.old-{os.getpid()}"
        os.replace(target, old)
    os.replace(tmp, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


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


def temporary_files(folder: str | Path) -> Iterator[tuple[Path, int]]:
    """The temporary files `atomic_write_bytes` left in a folder, each with its writer's pid.

    Only a killed writer leaves one; a caller that knows which processes may still be writing
    deletes the others.
    """
    for tmp in Path(folder).glob(".*.tmp"):
        pid = tmp.name.rsplit(".", 3)[-3]  # .<target name>.<pid>.<random>.tmp
        if pid.isdigit():
            yield tmp, int(pid)


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
