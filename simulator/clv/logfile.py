"""The bytes of a transaction log, read safely, and the error every bad log raises.

A log is read only if it is a regular file of at most `MAX_LOG_BYTES` (a FIFO or /dev/zero is
refused, not read). A gzip file (recognised by its magic bytes, whatever its name) is
decompressed in steps that stop as soon as the *uncompressed* size passes the same limit, so a
gzip bomb is refused after reading at most `MAX_LOG_BYTES` + 1 bytes of it.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

from simulator.clv.refunds import RefundCounts
from simulator.errors import UserError
from simulator.yamlfiles.inputs import UnreadableInput, read_input_bytes

MAX_LOG_BYTES = 100_000_000
"""Largest log read: 100 MB of uncompressed text (about 3 million rows) or of Parquet columns."""
MAX_PARQUET_BYTES = 2 * MAX_LOG_BYTES
"""Largest uncompressed size of a Parquet log's mapped columns (its metadata says it before
reading): a CSV's limit counts its raw text, held in memory beside the parsed columns; Parquet
holds only the compressed file beside them, so twice the bytes peak at about the same memory."""
MAX_LOG_ROWS = 10_000_000
"""Most rows of a Parquet log (its encoding may pack many rows in few bytes)."""
MAX_AMOUNT = 1e12
"""Largest amount of one purchase or refund: sums and spend statistics over any log stay finite."""
GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"
_STEP = 1 << 24  # decompress 16 MB at a time


class TransactionFileError(UserError, ValueError):
    """A transaction file that cannot be used; the message names the file, line and problem."""


def fail(path: Path, where: str, problem: str, expected: str) -> TransactionFileError:
    """Build the error for a bad line or row: file, place ("line 3"), what is wrong, expected."""
    return TransactionFileError(f"{path}, {where}: {problem}; expected {expected}")


@dataclass(frozen=True)
class LoadNotes:
    """What loading did to a log's rows besides reading them (printed by the CLI).

    ``rows`` counts the data rows read; ``status_dropped`` the rows dropped by their order
    status; ``refunds`` is what `simulator.clv.refunds.net_refunds` did.
    """

    rows: int = 0
    status_dropped: int = 0
    refunds: RefundCounts = RefundCounts()


def read_log_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped if it is gzip, within `MAX_LOG_BYTES` either way.

    Raises:
        TransactionFileError: missing, not a regular file, too large (before or after
            decompression) or a broken gzip stream.
    """
    try:
        data = read_input_bytes(path, MAX_LOG_BYTES, "a transaction log")
    except UnreadableInput as exc:
        raise TransactionFileError(f"{path}: {exc}") from None
    if data[:2] == GZIP_MAGIC:
        return _gunzip(path, data)
    return data


def _gunzip(path: Path, data: bytes) -> bytes:
    """Decompress every gzip member of data, refusing more than `MAX_LOG_BYTES` of output."""
    out: list[bytes] = []
    size = 0
    rest = data
    try:
        while rest:
            unzip = zlib.decompressobj(16 + zlib.MAX_WBITS)
            chunk = rest
            while not unzip.eof:
                piece = unzip.decompress(chunk, min(_STEP, MAX_LOG_BYTES + 1 - size))
                size += len(piece)
                out.append(piece)
                if size > MAX_LOG_BYTES:
                    raise TransactionFileError(
                        f"{path}: the gzip file holds more than {MAX_LOG_BYTES / 1e6:g} MB "
                        f"uncompressed; expected at most {MAX_LOG_BYTES / 1e6:g} MB for a "
                        "transaction log"
                    )
                chunk = unzip.unconsumed_tail
                if not chunk and not piece and not unzip.eof:
                    raise TransactionFileError(
                        f"{path}: the gzip file is truncated; expected a complete .gz file"
                    )
            rest = unzip.unused_data.lstrip(b"\x00")  # members may be followed by padding
    except zlib.error as exc:
        raise TransactionFileError(
            f"{path}: not a valid gzip file ({exc}); expected a .gz file made by gzip"
        ) from None
    return b"".join(out)


def decode(path: Path, data: bytes, encoding: str = "utf-8") -> str:
    """Bytes as text in `encoding` (a UTF-8 BOM is dropped); a bad byte is reported by line."""
    codec = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        hint = "a text file" if encoding == "utf-8" else f"a text file in {encoding}"
        if encoding == "utf-8":
            hint += " (a GBK export from Excel: give --encoding gbk)"
        raise fail(path, f"line {line}", f"the file is not {encoding} text", hint) from exc
    except LookupError:
        raise TransactionFileError(
            f"{path}: unknown text encoding {encoding!r}; expected a Python codec name such as "
            "utf-8, gbk or gb18030"
        ) from None
