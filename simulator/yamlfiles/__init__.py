"""Reading YAML input files safely, with line numbers, and reporting their problems where they are.

Every file a user writes (a scenario, a targets file, a fitted-parameter file) is read by
`read_yaml`, validated by a pydantic model built on `StrictModel`, and every problem becomes one
line `FILE:LINE: field.path: what was expected` of a `YamlFileError` (`pydantic_problem` turns
pydantic's errors into such messages). Nothing here knows what the files mean.

A file is untrusted: `inputs` reads it only if it is a regular file of at most
`MAX_YAML_BYTES`, and `loader` composes it within limits of nesting and expanded size (alias
bombs), with YAML 1.2 scalars, and checks its node tree (`check_nodes`: duplicate keys, YAML 1.1
literals such as `017` or `yes`, control characters) before any Python value is built.
docs/scenario.md states these rules for users.
"""

from __future__ import annotations

import functools
import re
import types
import typing
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from simulator.errors import UserError
from simulator.yamlfiles.inputs import UnreadableInput, read_input_bytes
from simulator.yamlfiles.loader import BeyondLimit, YamlLoader, check_nodes, printable

MAX_YAML_BYTES = 1_000_000
"""Largest YAML file read: 1 MB, over a hundred times the largest shipped scenario."""

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _date_only(value: Any) -> Any:
    """Let a date, or a text written YYYY-MM-DD, through to pydantic; nothing else is a date."""
    if isinstance(value, date) or (isinstance(value, str) and ISO_DATE.fullmatch(value)):
        return value
    raise ValueError(f"expected a date YYYY-MM-DD, got {value!r}")


Day = Annotated[date, BeforeValidator(_date_only), Field(strict=False)]
"""A date field: a YAML date or a quoted ISO date; never a number (1630454400 is not a day)."""


class StrictModel(BaseModel):
    """Base of every model of an input file: unknown keys and type coercions are errors.

    Models are frozen, so a value read once can be shared; numbers must be finite unless a
    field says otherwise.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


# ----------------------------------------------------------------------------- errors
class YamlFileError(UserError):
    """Problems in a YAML input file: (field path, message) pairs, rendered with file and line."""

    def __init__(
        self,
        file: str,
        problems: list[tuple[tuple, str]],
        root: Any = None,
        lines: list[int | None] | None = None,
        sources: list | None = None,
        files: list[str] | None = None,
    ):
        """Render problems with their file and line.

        Args:
            file: the file the problems are reported against.
            problems: (field path, message) pairs.
            root: the file's YAML node tree, where each path's line is looked up.
            lines: each problem's line, when known already (then `root` is not searched).
            sources: the (file, YAML root) of a file and of those it extends, child first; each
                problem is placed in the file that defines the most of its path.
            files: each problem's file, when known already.
        """
        self.file = file
        self.problems = problems
        sources = sources or [(file, root)]
        found = [
            max(
                ((locate(r, path), -k, f) for k, (f, r) in enumerate(sources)),
                key=lambda x: (x[0][0], x[1]),
            )
            for path, _ in problems
        ]
        self.files = files or [f for _, _, f in found]
        self.lines = lines or [loc[1] for loc, _, _ in found]
        super().__init__(self.render())

    def render(self) -> str:
        """One line per problem, FILE:LINE: path: message, control characters escaped.

        A problem placed in a file the given one extends also names the given one.
        """
        out = []
        for (path, msg), line, file in zip(self.problems, self.lines, self.files, strict=True):
            where = f"{file}:{line}" if line else file
            dotted = ".".join(str(p) for p in path) or "(top level)"
            inherited = f" (extended by {self.file})" if file != self.file else ""
            out.append(printable(f"{where}: {dotted}: {msg}{inherited}"))
        return "\n".join(out)


def locate(node: Any, path: tuple) -> tuple[int, int | None]:
    """How many keys of `path` the YAML tree holds, and the 1-based line of the deepest one.

    Of equal keys the last counts: after a merge (`<<: *defaults`) a mapping's own keys follow
    the merged ones and override them.
    """
    if node is None:
        return 0, None
    line = node.start_mark.line + 1
    depth = 0
    for key in path:
        child = None
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if str(k.value) == str(key):
                    child, line = v, k.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            child = node.value[key]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
        depth += 1
    return depth, line


# ----------------------------------------------------------------------------- reading
class NodeProblems(Exception):
    """What `check_nodes` found in a file: (path, message, line) triples."""

    def __init__(self, found: list[tuple[tuple, str, int]]):
        super().__init__(found)
        self.found = found


def read_yaml(path: Path, error: type[YamlFileError], expected: str) -> tuple[dict, Any]:
    """Parse one YAML file into (mapping, node tree), with every failure an `error`.

    Errors name the file and the line: unreadable or over a limit, not UTF-8, syntax, empty, not
    a mapping, duplicate keys, YAML 1.1 literals, control characters. `expected` says what the
    top level should be. Aliases are expanded: each use is a copy the caller may edit.
    """
    name = str(path)
    try:
        text = read_input_bytes(path, MAX_YAML_BYTES, "a YAML input file").decode("utf-8")
    except UnreadableInput as exc:
        raise error(name, [((), str(exc))]) from None
    except UnicodeDecodeError as exc:
        raise error(
            name, [((), f"not UTF-8 text (byte {exc.start}); expected a UTF-8 YAML file")]
        ) from None
    try:
        root, data = _parse(text)
    except NodeProblems as exc:
        problems = [(field, message) for field, message, _ in exc.found]
        raise error(name, problems, lines=[line for *_, line in exc.found]) from None
    except yaml.YAMLError as exc:
        message, line = _yaml_problem(exc, text)
        raise error(name, [((), message)], lines=[line] if line else None) from None
    if data is None:
        raise error(
            name, [((), f"the file has no content (empty or only comments); expected {expected}")]
        )
    if not isinstance(data, dict):
        raise error(
            name, [((), f"expected {expected} at the top level, got a {type(data).__name__}")], root
        )
    return _expanded(data), root


def _yaml_problem(exc: yaml.YAMLError, text: str) -> tuple[str, int | None]:
    """A YAML error as (message, line): a limit, an unprintable character or a syntax error."""
    if isinstance(exc, yaml.reader.ReaderError):  # a raw character YAML does not allow
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - text.rfind("\n", 0, exc.position)
        char = printable(chr(exc.character))
        return f"unprintable character {char} at line {line}, column {column}; expected text", line
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if isinstance(exc, BeyondLimit):
        return problem, mark.line + 1
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    context, start = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and start and mark and start.line != mark.line:
        problem += f" ({context} that starts at line {start.line + 1})"
    return f"YAML syntax error{where}: {problem}", (mark.line + 1 if mark else None)


@functools.lru_cache(maxsize=32)
def _parse(text: str) -> tuple[Any, Any]:
    """(node tree, data) of a YAML text, parsed once.

    The tree is composed within the limits and checked (`check_nodes`) before anything is
    constructed. A sweep validates every point against the same file, and the line-tracking
    pure-Python parser takes about 0.1 s a scenario.

    Raises:
        NodeProblems: what `check_nodes` found.
    """
    loader = YamlLoader(text)
    try:
        root = loader.get_single_node()
        found = check_nodes(root)
        if found:
            raise NodeProblems(found)
        return root, (None if root is None else loader.construct_document(root))
    finally:
        loader.dispose()


def _expanded(value: Any) -> Any:
    """A copy of parsed data in which every use of an alias is its own copy."""
    if isinstance(value, dict):
        return {k: _expanded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_expanded(v) for v in value]
    return value


# ----------------------------------------------------------------------------- pydantic errors
def validated(model, data, error, name: str, root: Any, problem=None, **error_kw):
    """`model.model_validate(data)`, or `error(name, problems, root, ...)` naming every bad field.

    problem: turns one pydantic error into (path, message); default `pydantic_problem`. Equal
    problems are reported once.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        translate = problem or (lambda err: pydantic_problem(err, model))
        problems = list(dict.fromkeys(translate(err) for err in exc.errors()))
        raise error(name, problems, root, **error_kw) from None


def pydantic_problem(err: dict, model: type[BaseModel]) -> tuple[tuple, str]:
    """Turn one pydantic error of validating `model` into (path, message a user understands)."""
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    kind = err["type"]
    if loc and loc[-1] == "[key]":  # a dict key of the wrong kind (unknown state, bad date)
        loc = loc[:-1]
        msg = pydantic_problem({**err, "loc": loc}, model)[1]
        return loc, f"invalid key '{loc[-1]}': {msg}"
    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, loc[:-1])
        hint = f"; expected one of: {', '.join(allowed)}" if allowed else ""
        return loc, f"unknown key '{loc[-1]}'{hint}"
    if kind == "missing":
        return loc, "required field is missing"
    msg = err["msg"].removeprefix("Value error, ")
    if kind == "literal_error":
        msg = "expected " + msg.removeprefix("Input should be ").replace("'", "")
    if kind != "value_error" and "input" in err and not isinstance(err["input"], dict | list):
        msg = f"{msg} (got {err['input']!r})"
    return loc, msg


def _allowed_keys(model: type[BaseModel], loc: tuple) -> list[str]:
    """Field names of the model found at `loc` below `model` (empty if not a model)."""
    tp: Any = model
    for key in loc:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if key not in tp.model_fields:
                return []
            tp = tp.model_fields[key].annotation
        elif typing.get_origin(tp) in (dict, list):
            tp = typing.get_args(tp)[-1]
        else:
            return []
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return list(tp.model_fields)
    return []


def _unwrap(tp: Any) -> Any:
    """Strip Optional/Annotated around a type."""
    while True:
        origin = typing.get_origin(tp)
        if origin is Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            tp = args[0]
        else:
            return tp
