"""Reading a user's input file safely: a regular file, within a size limit, without blocking.

Every input a command reads (YAML files, transaction logs) comes through `read_input_bytes`, so
a FIFO, a device such as /dev/zero, a folder or a huge file is refused with a clear reason
before anything is read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class UnreadableInput(Exception):
    """An input file that is not read (missing, not a regular file, too large): why, in words."""


def read_input_bytes(path: Path, max_bytes: int, what: str) -> bytes:
    """The bytes of a user's input file, if it is a regular file of at most `max_bytes`.

    Type and size come from stat before anything is read, and are checked again on the open
    file (it may have been swapped). The file is opened without blocking, so a FIFO or a device
    never hangs the command and /dev/zero is never read.

    Raises:
        UnreadableInput: why the file is not read (`what` names the kind of file in the limit).
    """
    try:
        _check_kind(os.stat(path), max_bytes, what)
        with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as f:
            _check_kind(os.fstat(f.fileno()), max_bytes, what)
            data = f.read(max_bytes + 1)
    except OSError as exc:
        raise UnreadableInput(f"cannot read file: {exc.strerror or exc}") from None
    except ValueError:  # a NUL or an unencodable character in the path
        raise UnreadableInput(f"cannot read file: {str(path)!r} is not a valid path") from None
    if len(data) > max_bytes:  # grew since stat
        raise UnreadableInput(_too_large(len(data), max_bytes, what))
    return data


def read_input_text(path: Path, max_bytes: int, what: str, error: type[Exception]) -> str:
    """A user's input file as UTF-8 text (a BOM dropped), read as `read_input_bytes` reads it.

    Raises:
        error: `"{path}: why"` for a file not read, `"{path}, line N: the file is not UTF-8
            text; ..."` for undecodable bytes (the line they are on).
    """
    try:
        data = read_input_bytes(path, max_bytes, what)
    except UnreadableInput as exc:
        raise error(f"{path}: {exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise error(
            f"{path}, line {line}: the file is not UTF-8 text; expected a text file"
        ) from None


def _check_kind(st: os.stat_result, max_bytes: int, what: str) -> None:
    """Refuse a folder, anything but a regular file, and a file over the limit."""
    if stat.S_ISDIR(st.st_mode):
        raise UnreadableInput(f"this is a folder; expected {what}")
    if not stat.S_ISREG(st.st_mode):
        raise UnreadableInput(f"not a regular file (a pipe, device or socket); expected {what}")
    if st.st_size > max_bytes:
        raise UnreadableInput(_too_large(st.st_size, max_bytes, what))


def _too_large(size: int, max_bytes: int, what: str) -> str:
    """The message for a file over its size limit."""
    return f"the file is {size / 1e6:.1f} MB; expected at most {max_bytes / 1e6:g} MB for {what}"
