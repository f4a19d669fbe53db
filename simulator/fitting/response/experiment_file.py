"""A randomised test's outcomes, one customer a line: read them and check every line.

The file is a CSV whose header names `customer_id`, `arm` (`control` or a named treatment arm),
the outcomes over the test window — `visited` (0/1), `converted` (0/1) and `spend` (>= 0, 0 when
not converted) — and optionally segment columns named like the scenario's segments
(`lifecycle.SEGMENTS`) holding yes/no/1/0/true/false. Every problem is an
:class:`ExperimentFileError` naming the file, the 1-based line and what was expected (exit 2
through `simulator.errors.UserError`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from simulator.clv.transactions import read_string_table
from simulator.domain.lifecycle import SEGMENTS
from simulator.errors import UserError
from simulator.yamlfiles.inputs import read_input_text

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
    table, lines = _table(path)
    _check_keys(path, table["customer_id"], table["arm"], lines)
    visited = _binary(path, table["visited"], lines, "visited")
    converted = _binary(path, table["converted"], lines, "converted")
    spend = _spend(path, table["spend"], lines)
    _check_outcomes(path, lines, visited, converted, spend)
    segments = {name: _flag(path, table[name], lines, name) for name in table if name in SEGMENTS}
    codes, names = pd.factorize(table["arm"], sort=True)
    names = [str(a) for a in names]
    if CONTROL not in names:
        raise ExperimentFileError(
            f"{path}: no customer is in arm {CONTROL!r} (arms found: {', '.join(names)}); "
            f"expected a control arm named {CONTROL!r} to measure lifts against"
        )
    arms = (CONTROL, *[a for a in names if a != CONTROL])
    recode = np.array([arms.index(a) for a in names], dtype=np.int64)
    return Experiment(
        arms=arms,
        arm=recode[codes],
        visited=visited,
        converted=converted,
        spend=spend,
        segments=segments,
        source=str(path),
    )


def _fail(path: Path, line: int, problem: str, expected: str) -> ExperimentFileError:
    """The error for a bad line: file, 1-based line, what is wrong, what was expected."""
    return ExperimentFileError(f"{path}, line {line}: {problem}; expected {expected}")


def _table(path: Path) -> tuple[pd.DataFrame, np.ndarray]:
    """The customers' rows under the checked header (stripped text), and their line numbers."""
    expected = "one value per header column"
    text = read_input_text(path, MAX_EXPERIMENT_BYTES, "an experiment file", ExperimentFileError)
    body = text.lstrip()  # pandas takes the width of the table from its first line
    skipped = text[: len(text) - len(body)].count("\n")
    raw = read_string_table(path, body, ",", expected, ExperimentFileError, skipped + 1)
    raw = raw.fillna("").apply(lambda col: col.str.strip())  # a short line: empty values
    filled = (raw != "").to_numpy()
    rows = np.flatnonzero(filled.any(axis=1))
    if len(rows) == 0:
        raise _fail(path, 1, "the file is empty", f"a header naming {', '.join(REQUIRED)}")
    names = list(raw.iloc[rows[0]])
    while names and not names[-1]:  # a header of a table widened by a later line
        names.pop()
    header = _header(path, names, skipped + 1)
    rows = rows[1:]
    if len(rows) == 0:
        problem = "no customers after the header"
        raise _fail(path, skipped + len(raw) + 1, problem, "a customer a line")
    wide = filled[rows][:, len(header) :].any(axis=1)
    if wide.any():
        k = int(rows[np.argmax(wide)])
        n = int(np.flatnonzero(filled[k])[-1]) + 1
        problem = f"found {n} fields where the header has {len(header)}"
        raise _fail(path, skipped + k + 1, problem, expected)
    table = raw.iloc[rows, : len(header)]
    table.columns = header
    return table, skipped + rows + 1


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


def _first(bad: np.ndarray) -> int | None:
    """Index of the first True, or None."""
    return int(np.argmax(bad)) if bad.any() else None


def _check_keys(path: Path, ids: pd.Series, arms: pd.Series, lines: np.ndarray) -> None:
    """Every row has a customer id and an arm, and no id is on two lines."""
    for bad, problem, expected in [
        (ids == "", "the customer_id is missing", "a customer id on every line"),
        (arms == "", "the arm is missing", f"{CONTROL} or a treatment arm's name"),
    ]:
        k = _first(bad.to_numpy())
        if k is not None:
            raise _fail(path, int(lines[k]), problem, expected)
    k = _first(ids.duplicated().to_numpy())
    if k is not None:
        first = _first((ids == ids.iloc[k]).to_numpy())
        raise _fail(
            path,
            int(lines[k]),
            f"customer {ids.iloc[k]!r} is also on line {lines[first]}",
            "each customer once (in one arm)",
        )


def _binary(path: Path, values: pd.Series, lines: np.ndarray, name: str) -> np.ndarray:
    """A 0/1 outcome column as bool."""
    k = _first(~values.isin(("0", "1")).to_numpy())
    if k is not None:
        raise _fail(path, int(lines[k]), f"{name} is {values.iloc[k]!r}", f"{name} 0 or 1")
    return (values == "1").to_numpy()


def _flag(path: Path, values: pd.Series, lines: np.ndarray, name: str) -> np.ndarray:
    """A segment column (yes/no, 1/0, true/false) as bool."""
    low = values.str.lower()
    k = _first(~low.isin(YES | NO).to_numpy())
    if k is not None:
        problem = f"segment {name} is {values.iloc[k]!r}"
        raise _fail(path, int(lines[k]), problem, "yes/no, 1/0 or true/false")
    return low.isin(YES).to_numpy()


def _spend(path: Path, values: pd.Series, lines: np.ndarray) -> np.ndarray:
    """The spend column as finite floats in [0, MAX_SPEND]."""
    spend = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(spend) & (spend >= 0) & (spend <= MAX_SPEND)
    k = _first(~ok)
    if k is not None:
        raise _fail(
            path,
            int(lines[k]),
            f"spend is {values.iloc[k]!r}",
            f"a finite spend from 0 to {MAX_SPEND:g}",
        )
    return spend


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
