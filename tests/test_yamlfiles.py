"""Reading YAML input files and reporting problems at their line (simulator.yamlfiles)."""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import threading
import time
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from simulator.yamlfiles import (
    MAX_YAML_BYTES,
    Day,
    StrictModel,
    YamlFileError,
    YamlLoader,
    locate,
    pydantic_problem,
    read_yaml,
)
from simulator.yamlfiles.loader import MAX_YAML_DEPTH, MAX_YAML_VALUES, check_nodes


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


# ----------------------------------------------------------------------------- hostile files
def read_error(path) -> str:
    """The rendered YamlFileError of reading `path`, with the file shown as F."""
    with pytest.raises(YamlFileError) as info:
        read_yaml(path, YamlFileError, "a mapping")
    return str(info.value).replace(str(path), "F")


def in_thread(call, timeout=10.0):
    """Run `call` in a daemon thread; the exception it raised, or fail if it is still running."""
    result = {}

    def target():
        try:
            call()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            result["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), f"still running after {timeout} s"
    return result.get("error")


def test_a_file_over_the_size_limit_is_refused_before_reading(tmp_path):
    """The size comes from stat: a 60 MB file is refused at once, with the limit named."""
    path = tmp_path / "big.yaml"
    with open(path, "wb") as f:
        f.truncate(60_000_000)  # sparse: costs no disk
    t0 = time.perf_counter()
    message = read_error(path)
    assert time.perf_counter() - t0 < 1.0
    assert message.startswith("F: (top level): the file is 60.0 MB")
    assert f"at most {MAX_YAML_BYTES // 1_000_000} MB" in message


def test_a_fifo_is_refused_without_blocking(tmp_path):
    """A named pipe is not a file: a clear error, not a read that waits for a writer forever."""
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    try:
        error = in_thread(lambda: read_yaml(fifo, YamlFileError, "a mapping"))
    finally:
        try:  # release a reader stuck in open() (the behaviour this test guards against)
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass
    assert isinstance(error, YamlFileError)
    assert "not a regular file" in str(error)


@pytest.mark.parametrize("special", ["/dev/zero", "/dev/urandom"])
def test_devices_are_refused_without_reading(special):
    """/dev/zero would be read forever; a device is refused by its type."""
    if not os.path.exists(special):
        pytest.skip(f"no {special}")
    error = in_thread(lambda: read_yaml(Path(special), YamlFileError, "a mapping"))
    assert isinstance(error, YamlFileError)
    assert "not a regular file" in str(error)


def test_a_folder_is_refused(tmp_path):
    """A folder given as a file says so."""
    assert "F: (top level): " in read_error(tmp_path)
    assert "folder" in read_error(tmp_path)


def alias_bomb(levels: int) -> str:
    """The "billion laughs" document: each level is ten aliases of the level below."""
    lines = ["l0: &l0 {a: x, b: x, c: x, d: x, e: x, f: x, g: x, h: x, i: x, j: x}"]
    for k in range(1, levels):
        refs = ", ".join(f"k{j}: *l{k - 1}" for j in range(10))
        lines.append(f"l{k}: &l{k} {{{refs}}}")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_at_once(tmp_path):
    """Nine levels of ten aliases expand to 10^9 values: refused in well under a second."""
    path = tmp_path / "bomb.yaml"
    path.write_text(alias_bomb(9))
    t0 = time.perf_counter()
    message = read_error(path)
    assert time.perf_counter() - t0 < 1.0
    assert f"more than {MAX_YAML_VALUES:,} values" in message
    assert re.match(r"^F:\d+: ", message), message


def test_a_few_aliases_are_fine_and_become_separate_copies(tmp_path):
    """Aliases within the limit are read, and each use is its own copy (safe to edit)."""
    path = tmp_path / "ok.yaml"
    path.write_text("a: &x {n: [1, 2]}\nb: *x\n")
    data, _ = read_yaml(path, YamlFileError, "a mapping")
    assert data == {"a": {"n": [1, 2]}, "b": {"n": [1, 2]}}
    data["a"]["n"].append(3)
    assert data["b"] == {"n": [1, 2]}


def test_an_alias_inside_its_own_anchor_is_refused(tmp_path):
    """A recursive alias (a value that contains itself) is an error, not a RecursionError."""
    path = tmp_path / "loop.yaml"
    path.write_text("a: &a\n  b: *a\n")
    assert "contains itself" in read_error(path)


@pytest.mark.parametrize("style", ["flow", "block"])
def test_deep_nesting_is_refused_clearly(tmp_path, style):
    """700 nested levels: a clear error at the line where the limit is passed."""
    path = tmp_path / "deep.yaml"
    if style == "flow":
        path.write_text("a: " + "[" * 700 + "]" * 700 + "\n")
    else:
        path.write_text("".join(f"{'  ' * k}k{k}:\n" for k in range(700)) + "  " * 700 + "x\n")
    message = read_error(path)
    assert f"more than {MAX_YAML_DEPTH} levels" in message
    assert re.match(r"^F:\d+: ", message), message


def test_merge_keys_merge_and_are_not_duplicates(tmp_path):
    """`<<: *defaults` merges a mapping; own keys override it; errors point at own keys."""
    path = tmp_path / "merge.yaml"
    path.write_text("d: &d {x: 1, y: 2}\ne:\n  <<: *d\n  y: 3\n")
    data, root = read_yaml(path, YamlFileError, "a mapping")
    assert data == {"d": {"x": 1, "y": 2}, "e": {"x": 1, "y": 3}}
    assert locate(root, ("e", "y")) == (2, 4)
    path.write_text("d: &d {x: 1}\ne:\n  <<: *d\n  y: 3\n  y: 4\n")
    assert read_error(path).startswith("F:5: e.y: duplicate key (first at line 4)")


def test_node_checks_visit_an_aliased_node_once():
    """The duplicate-key check does not walk aliases again: 10^9 paths, checked in a blink."""
    root = yaml.compose(alias_bomb(9) + "top: {a: 1, a: 2}\n", Loader=yaml.SafeLoader)
    t0 = time.perf_counter()
    found = check_nodes(root)
    assert time.perf_counter() - t0 < 1.0
    assert [(path, line) for path, _, line in found] == [(("top", "a"), 10)]


# ----------------------------------------------------------------------------- YAML 1.2 scalars
@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("17", 17),
        ("-3", -3),
        ("1_000_000", 1_000_000),
        ("0", 0),
        ("0.5", 0.5),
        ("1.0e+6", 1e6),
        ("1e6", 1e6),
        ("2.5E-3", 2.5e-3),
        (".5", 0.5),
        ("true", True),
        ("False", False),
        ("~", None),
        ("null", None),
        ("2021-11-11", dt.date(2021, 11, 11)),
        ("'017'", "017"),
        ('"yes"', "yes"),
        ("!!str 0x10", "0x10"),
        ("y", "y"),
        ("=", "="),
        ("1.2.3", "1.2.3"),
    ],
)
def test_scalars_follow_yaml_1_2(tmp_path, written, value):
    """Numbers, booleans and nulls as YAML 1.2 reads them; quoted values are text."""
    path = tmp_path / "f.yaml"
    path.write_text(f"v: {written}\n")
    data, _ = read_yaml(path, YamlFileError, "a mapping")
    assert data["v"] == value and type(data["v"]) is type(value)


@pytest.mark.parametrize(
    ("written", "hint"),
    [
        ("017", "write 17, or '017' for text"),
        ("-017", "write -17, or '-017' for text"),
        ("0x10", "write 16, or '0x10' for text"),
        ("0o17", "write 15, or '0o17' for text"),
        ("0b101", "write 5, or '0b101' for text"),
        ("1:00:00", "write 3600, or '1:00:00' for text"),
        ("yes", "write true, or 'yes' for text"),
        ("No", "write false, or 'No' for text"),
        ("on", "write true, or 'on' for text"),
        ("OFF", "write false, or 'OFF' for text"),
    ],
)
def test_yaml_1_1_literals_are_errors_at_their_field(tmp_path, written, hint):
    """Values YAML 1.1 and 1.2 read differently are refused, with the field, line and fix."""
    path = tmp_path / "f.yaml"
    path.write_text(f"a: 1\nsection:\n  v: {written}\n")
    message = read_error(path)
    assert message.startswith(f"F:3: section.v: ambiguous value {written}"), message
    assert hint in message


def test_explicit_tags_other_than_str_are_refused(tmp_path):
    """`!!int 017` would bring back YAML 1.1 rules; `!!binary`, `!!set` build odd types."""
    path = tmp_path / "f.yaml"
    for tagged in ("!!int 017", "!!binary aGk=", "!!set {a: null}", "!!python/tuple [1]"):
        path.write_text(f"a: 1\nv: {tagged}\n")
        message = read_error(path)
        assert message.startswith("F:2: (top level): the YAML tag !!"), (tagged, message)
        assert "is not read" in message


# ----------------------------------------------------------------------------- control characters
def test_control_characters_in_text_are_refused_and_shown_escaped(tmp_path):
    """ANSI escapes and NUL in a value or a key are errors; the message shows them escaped."""
    path = tmp_path / "f.yaml"
    path.write_text('a: 1\nname: "\\e[31mred"\n')
    message = read_error(path)
    assert message.startswith("F:2: name: control character \\x1b in text"), message
    path.write_text('a: 1\nsection:\n  "x\\0y": 1\n')
    message = read_error(path)
    assert "\x00" not in message and "\\x00" in message
    assert message.startswith("F:3: section.x\\x00y: control character \\x00 in a key"), message


def test_lone_surrogates_are_refused_and_shown_escaped(tmp_path):
    """A lone surrogate ("\\ud800") is not text a file, a path or a terminal can hold."""
    path = tmp_path / "f.yaml"
    path.write_text('a: 1\nextends: "\\ud800"\n')
    assert read_error(path).startswith("F:2: extends: lone surrogate \\ud800 in text")


def test_tabs_and_newlines_in_values_are_text(tmp_path):
    """A description may hold tabs and line breaks."""
    path = tmp_path / "f.yaml"
    path.write_text('description: "a\\tb"\nlong: |\n  one\n  two\n')
    data, _ = read_yaml(path, YamlFileError, "a mapping")
    assert data == {"description": "a\tb", "long": "one\ntwo\n"}


def test_a_raw_control_byte_names_its_line(tmp_path):
    """YAML refuses a raw NUL byte; the error says where it is."""
    path = tmp_path / "f.yaml"
    path.write_bytes(b"a: 1\nb: x\x00y\n")
    message = read_error(path)
    assert message.startswith("F:2: (top level): unprintable character \\x00 at line 2, column 5")


def test_error_messages_escape_control_characters():
    """Whatever a problem holds (an override, an API value), it is rendered printable."""
    message = str(YamlFileError("F", [(("a\x1b", 1), "bad value '\x9b2J'")]))
    assert message == "F: a\\x1b.1: bad value '\\x9b2J'"


# ----------------------------------------------------------------------------- dates
class Dated(StrictModel):
    day: Day
    days: dict[Day, float] = {}


@pytest.mark.parametrize("written", ["1630454400", "1630454400.0", "true", "'1630454400'"])
def test_dates_are_dates_only(tmp_path, written):
    """A number is never converted to a date (it would be seconds since 1970)."""
    assert problems(Dated, f"day: {written}\n", tmp_path)[0].startswith(
        "F:1: day: expected a date YYYY-MM-DD"
    )
    key_problem = problems(Dated, f"day: 2021-09-01\ndays: {{{written}: 1.0}}\n", tmp_path)[0]
    assert key_problem.startswith("F:2: days.") and "invalid key" in key_problem
    assert "expected a date YYYY-MM-DD" in key_problem


def test_dates_and_quoted_dates_are_read():
    """`2021-09-01` and `"2021-09-01"` are the same day."""
    assert Dated(day="2021-09-01").day == Dated(day=dt.date(2021, 9, 1)).day


def test_validated_names_every_bad_field_once():
    """One translation of pydantic errors for every file: each field once, with its line."""
    from simulator.yamlfiles import validated

    class Pair(StrictModel):
        a: int
        b: int

    with pytest.raises(YamlFileError) as exc:
        validated(Pair, {"a": "x", "c": 1}, YamlFileError, "pair.yaml", None)
    text = str(exc.value)
    assert "pair.yaml" in text and text.count("a:") == 1
    assert "b: required field is missing" in text and "unknown key 'c'" in text
    with pytest.raises(YamlFileError) as exc:  # a custom translation, duplicates merged
        validated(Pair, {}, YamlFileError, "p.yaml", None, problem=lambda e: ((), "bad pair"))
    assert str(exc.value).count("bad pair") == 1
    assert validated(Pair, {"a": 1, "b": 2}, YamlFileError, "p.yaml", None) == Pair(a=1, b=2)
