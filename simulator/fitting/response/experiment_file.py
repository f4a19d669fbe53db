"""A randomised test's outcomes, one customer a line: read them and check every line.

The file is a CSV whose header names `customer_id`, `arm` (`control` or a named treatment arm),
the outcomes over the test window — `visited` (0/1), `converted` (0/1) and `spend` (>= 0, 0 when
not converted) — and optionally segment columns named like the scenario's segments
(`lifecycle.SEGMENTS`) holding yes/no/1/0/true/false. Every problem is an
:class:`ExperimentFileError` naming the file, the 1-based line and what was expected (exit 2
through `simulator.errors.UserError`).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from simulator.domain.lifecycle import SEGMENTS
from simulator.errors import UserError
from simulator.yamlfiles.inputs import UnreadableInput, read_input_bytes

CONTROL = "control"
REQUIRED = ("customer_id", "arm", "visited", "converted", "spend")
MAX_EXPERIMENT_BYTES = 100_000_000
"""Largest experiment file read: 100 MB (about 3 million customers)."""
MAX_SPEND = 1e12
"""Largest spend of one customer: sums over any file stay finite."""
YES, NO = frozenset({"yes", "1", "true", "y"}), frozenset({"no", "0", "false", "n"})


class ExperimentFileError(UserError, ValueError):
    """An experiment file that cannot be used; the message names the file, line and problem."""


@dataclass(frozen=True)
class Experiment:
    """A test's customers as parallel arrays, in file order.

    `arm[i]` indexes `arms` (`arms[0]` is the control); `segments[name]` is a bool mask per
    segment column of the file.
    """

    arms: tuple[str, ...]
    arm: np.ndarray
    visited: np.ndarray
    converted: np.ndarray
    spend: np.ndarray
    segments: dict[str, np.ndarray]
    source: str = ""

    @property
    def n_customers(self) -> int:
        """Customers in the test."""
        return len(self.arm)


def read_experiment(path: str | Path) -> Experiment:
    """Read and check an experiment file.

    Raises:
        ExperimentFileError: the file is missing, empty, lacks a column, has a bad value on a
            line, repeats a customer, or has no control arm.
    """
    path = Path(path)
    header, rows, lines = _rows(path)
    columns = {name: k for k, name in enumerate(header)}
    table = {name: [row[k] for row in rows] for name, k in columns.items()}
    arm_names = table["arm"]
    _check_keys(path, table["customer_id"], arm_names, lines)
    visited = _binary(path, table["visited"], lines, "visited")
    converted = _binary(path, table["converted"], lines, "converted")
    spend = _spend(path, table["spend"], lines)
    _check_outcomes(path, lines, visited, converted, spend)
    segments = {name: _flag(path, table[name], lines, name) for name in header if name in SEGMENTS}
    arms = (CONTROL, *sorted({a for a in arm_names if a != CONTROL}))
    if CONTROL not in arm_names:
        raise ExperimentFileError(
            f"{path}: no customer is in arm {CONTROL!r} (arms found: {', '.join(arms[1:])}); "
            f"expected a control arm named {CONTROL!r} to measure lifts against"
        )
    code = {name: k for k, name in enumerate(arms)}
    return Experiment(
        arms=arms,
        arm=np.array([code[a] for a in arm_names], dtype=np.int64),
        visited=visited,
        converted=converted,
        spend=spend,
        segments=segments,
        source=str(path),
    )


def _fail(path: Path, line: int, problem: str, expected: str) -> ExperimentFileError:
    """The error for a bad line: file, 1-based line, what is wrong, what was expected."""
    return ExperimentFileError(f"{path}, line {line}: {problem}; expected {expected}")


def _text(path: Path) -> str:
    """The file as UTF-8 text (a BOM dropped); only a regular file of bounded size is read."""
    try:
        data = read_input_bytes(path, MAX_EXPERIMENT_BYTES, "an experiment file")
    except UnreadableInput as exc:
        raise ExperimentFileError(f"{path}: {exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _fail(path, line, "the file is not UTF-8 text", "a text file") from None


def _rows(path: Path) -> tuple[list[str], list[list[str]], list[int]]:
    """The checked header, the non-blank rows (stripped) and their 1-based line numbers."""
    reader = csv.reader(io.StringIO(_text(path)))
    header: list[str] | None = None
    rows, lines = [], []
    try:
        for row in reader:
            fields = [f.strip() for f in row]
            if not any(fields):
                continue
            if header is None:
                header = _header(path, fields, reader.line_num)
            elif len(fields) != len(header):
                raise _fail(
                    path,
                    reader.line_num,
                    f"found {len(fields)} fields where the header has {len(header)}",
                    "one value per header column",
                )
            else:
                rows.append(fields)
                lines.append(reader.line_num)
    except csv.Error as exc:
        raise _fail(path, reader.line_num, f"cannot parse the line ({exc})", "CSV") from None
    if header is None:
        raise _fail(path, 1, "the file is empty", f"a header naming {', '.join(REQUIRED)}")
    if not rows:
        raise _fail(path, reader.line_num + 1, "no customers after the header", "a customer a line")
    return header, rows, lines


def _header(path: Path, names: list[str], line: int) -> list[str]:
    """Check the header: the required columns present, every other one a known segment."""
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise _fail(
            path,
            line,
            f"the header lacks column(s) {', '.join(missing)}",
            f"a header naming {', '.join(REQUIRED)} (and optionally segment columns)",
        )
    unknown = [name for name in names if name not in REQUIRED and name not in SEGMENTS]
    if unknown:
        raise _fail(
            path,
            line,
            f"unknown column(s) {', '.join(unknown)}",
            f"{', '.join(REQUIRED)} and segment columns named one of {', '.join(SEGMENTS)}",
        )
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise _fail(path, line, f"column(s) {', '.join(repeated)} repeated", "each column once")
    return names


def _check_keys(path: Path, ids: list[str], arms: list[str], lines: list[int]) -> None:
    """Every row has a customer id and an arm, and no id is on two lines."""
    first: dict[str, int] = {}
    for value, arm, line in zip(ids, arms, lines, strict=True):
        if not value:
            raise _fail(path, line, "the customer_id is missing", "a customer id on every line")
        if not arm:
            raise _fail(path, line, "the arm is missing", f"{CONTROL} or a treatment arm's name")
        if value in first:
            raise _fail(
                path,
                line,
                f"customer {value!r} is also on line {first[value]}",
                "each customer once (in one arm)",
            )
        first[value] = line


def _binary(path: Path, values: list[str], lines: list[int], name: str) -> np.ndarray:
    """A 0/1 outcome column as bool."""
    for value, line in zip(values, lines, strict=True):
        if value not in ("0", "1"):
            raise _fail(path, line, f"{name} is {value!r}", f"{name} 0 or 1")
    return np.array([v == "1" for v in values], dtype=bool)


def _flag(path: Path, values: list[str], lines: list[int], name: str) -> np.ndarray:
    """A segment column (yes/no, 1/0, true/false) as bool."""
    out = np.zeros(len(values), dtype=bool)
    for k, (value, line) in enumerate(zip(values, lines, strict=True)):
        low = value.lower()
        if low not in YES and low not in NO:
            raise _fail(path, line, f"segment {name} is {value!r}", "yes/no, 1/0 or true/false")
        out[k] = low in YES
    return out


def _spend(path: Path, values: list[str], lines: list[int]) -> np.ndarray:
    """The spend column as finite floats in [0, MAX_SPEND]."""
    out = np.empty(len(values), dtype=np.float64)
    for k, (value, line) in enumerate(zip(values, lines, strict=True)):
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number) or number < 0 or number > MAX_SPEND:
            raise _fail(
                path, line, f"spend is {value!r}", f"a finite spend from 0 to {MAX_SPEND:g}"
            )
        out[k] = number
    return out


def _check_outcomes(path, lines, visited, converted, spend) -> None:
    """Outcomes agree: a conversion needs a visit, spend needs a conversion."""
    for bad, problem, expected in [
        (converted & ~visited, "converted is 1 but visited is 0", "a converted customer visited"),
        (
            ~converted & (spend > 0),
            "spend is above 0 but converted is 0",
            "spend 0 unless converted",
        ),
    ]:
        if bad.any():
            raise _fail(path, lines[int(np.argmax(bad))], problem, expected)
