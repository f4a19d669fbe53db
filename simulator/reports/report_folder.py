"""A result folder `promosim report` reads: which command wrote it, its JSON files and charts.

A folder is recognised by its marker (`files.MARKER`, which names the command that wrote it)
and its files: `run.json` + `kpis.json` (run), `comparison.json` (compare), `sweep.json` +
`sweep.csv` (sweep), `optimize.json` + `comparison.json` (optimize). Anything else — a missing
folder, another command's result, an unfinished sweep, a JSON file that does not parse — is a
`ReportError` (exit 2, one line, no traceback).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from simulator.errors import UserError
from simulator.files import MARKER, read_marker

# kind -> the files that make a folder that kind of result, in the order they are checked
KINDS = {
    "optimize": ("optimize.json", "comparison.json"),
    "sweep": ("sweep.json", "sweep.csv"),
    "compare": ("comparison.json",),
    "run": ("run.json", "kpis.json"),
}
MAX_JSON_BYTES = 200 * 2**20  # a result's JSON file larger than this is not one promosim wrote
REPORT_FILES = ("report.html", "report.md")  # what `promosim report` adds to a folder


class ReportError(UserError):
    """A folder `promosim report` cannot read: missing, not a result, unfinished or corrupt."""


@dataclass
class ResultFolder:
    """A recognised result folder: its path, the kind of result and the command's marker."""

    path: Path
    kind: str
    marker: dict | None

    def json(self, name: str, required: bool = True):
        """A JSON file of the folder, parsed (None when absent and not `required`)."""
        path = self.path / name
        if not path.exists() and not required:
            return None
        try:
            if path.stat().st_size > MAX_JSON_BYTES:
                raise ReportError(f"{path} is larger than {MAX_JSON_BYTES >> 20} MB")
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ReportError(f"{path} is missing; the {self.kind} result is incomplete") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ReportError(
                f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}"
            ) from None
        except ValueError as exc:
            raise ReportError(
                f"{path} is not valid JSON ({exc}); rerun the command that wrote the folder"
            ) from None

    def images(self) -> list[str]:
        """Every PNG chart in the folder (relative paths; top level first, then subfolders)."""
        found = [p.relative_to(self.path).as_posix() for p in self.path.rglob("*.png")]
        return sorted(found, key=lambda f: (f.count("/"), f))


def open_folder(folder: str | Path) -> ResultFolder:
    """Recognise a result folder, or raise a `ReportError` saying what it is instead."""
    path = Path(folder)
    if not path.exists():
        raise ReportError(f"{path} does not exist; name a folder written by promosim")
    if not path.is_dir():
        raise ReportError(f"{path} is a file; name a result folder (run, compare, sweep, optimize)")
    marker = read_marker(path)
    has = {kind: all((path / f).is_file() for f in files) for kind, files in KINDS.items()}
    if marker is not None and marker["command"] in KINDS:
        kind = marker["command"]
        if not has[kind]:
            need = " and ".join(KINDS[kind])
            raise ReportError(f"{path} is a `promosim {kind}` result without {need}")
        return ResultFolder(path, kind, marker)
    if marker is not None:
        raise ReportError(
            f"{path} holds a result of `promosim {marker['command']}`; a report is made of a "
            "run, compare, sweep or optimize folder"
        )
    if (path / "sweep.json").is_file():
        raise ReportError(
            f"{path} is an unfinished sweep (no {MARKER}); run the same sweep command to finish "
            "it, then report"
        )
    kind = next((k for k, ok in has.items() if ok), None)
    if kind is None:
        raise ReportError(
            f"{path} is not a promosim result (expected run.json and kpis.json, comparison.json, "
            "a finished sweep or optimize.json)"
        )
    return ResultFolder(path, kind, None)
