"""Reading YAML input files and reporting problems at their line (simulator.yamlfiles)."""

from __future__ import annotations

import datetime as dt
import math

import pytest
import yaml
from pydantic import ValidationError

from simulator.yamlfiles import (
    StrictModel,
    YamlFileError,
    YamlLoader,
    pydantic_problem,
    read_yaml,
)


class Inner(StrictModel):
    size: int
    kind: str = "a"


class Outer(StrictModel):
    name: str
    inner: dict[str, Inner] = {}
    ratio: float = 0.5


def problems(model, text: str, tmp_path) -> list[str]:
    """The rendered problems of validating `text` as `model`."""
    path = tmp_path / "f.yaml"
    path.write_text(text, encoding="utf-8")
    data, root = read_yaml(path, YamlFileError, "a mapping")
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    found = [pydantic_problem(e, model) for e in info.value.errors()]
    return str(YamlFileError(str(path), found, root)).replace(str(path), "F").splitlines()


def test_problems_name_line_field_and_what_was_expected(tmp_path):
    """Unknown keys list the keys of their own model; missing and wrong values say so."""
    text = "name: x\ninner:\n  one: {size: 1, colour: red}\n  two: {kind: b}\nratio: high\n"
    assert problems(Outer, text, tmp_path) == [
        "F:3: inner.one.colour: unknown key 'colour'; expected one of: size, kind",
        "F:4: inner.two.size: required field is missing",
        "F:5: ratio: Input should be a valid number (got 'high')",
    ]


def test_strict_models_refuse_coercions_and_non_finite_numbers(tmp_path):
    """A quoted number is not a number, and .inf is not a finite one; models are frozen."""
    assert problems(Outer, "name: x\nratio: '0.5'\n", tmp_path) == [
        "F:2: ratio: Input should be a valid number (got '0.5')"
    ]
    assert problems(Outer, "name: x\nratio: .inf\n", tmp_path) == [
        "F:2: ratio: Input should be a finite number (got inf)"
    ]
    with pytest.raises(ValidationError):
        Outer(name="x").name = "y"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: 1\na: 2\n", "F:2: a: duplicate key (first at line 1)"),
        ("a: [1\nb: 2\n", "F:2: (top level): YAML syntax error at line 2, column 2"),
        ("# nothing\n", "F: (top level): the file has no content"),
        ("- 1\n", "F:1: (top level): expected a mapping at the top level, got a list"),
    ],
)
def test_unusable_files_are_errors_at_their_line(tmp_path, text, expected):
    """Duplicate keys, syntax errors, empty files and lists are reported with their line."""
    path = tmp_path / "f.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(YamlFileError) as info:
        read_yaml(path, YamlFileError, "a mapping")
    assert str(info.value).replace(str(path), "F").startswith(expected)


def test_loader_keeps_impossible_dates_as_text():
    """A real date is a date; 2021-13-01 stays text for the schema to reject with its line."""
    assert yaml.load("2021-11-11", Loader=YamlLoader) == dt.date(2021, 11, 11)
    assert yaml.load("2021-13-01", Loader=YamlLoader) == "2021-13-01"
    assert math.isnan(yaml.load(".nan", Loader=YamlLoader))
