"""Reading YAML input files with line numbers, and reporting their problems where they are.

Every file a user writes (a scenario, a targets file, a fitted-parameter file) is read by
`read_yaml`, validated by a pydantic model built on `StrictModel`, and every problem becomes one
line `FILE:LINE: field.path: what was expected` of a `YamlFileError` (`pydantic_problem` turns
pydantic's errors into such messages). Nothing here knows what the files mean.
"""

from __future__ import annotations

import copy
import functools
import types
import typing
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from simulator.errors import UserError

Day = Annotated[date, Field(strict=False)]  # accept quoted ISO dates as well as YAML dates


class StrictModel(BaseModel):
    """Base of every model of an input file: unknown keys and type coercions are errors.

    Models are frozen, so a value read once can be shared; numbers must be finite unless a
    field says otherwise.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


class YamlLoader(yaml.SafeLoader):
    """Safe loader that keeps an impossible date (2021-13-01) as text.

    Pydantic then rejects it with its field path and line, instead of a bare ValueError.
    """

    def construct_yaml_timestamp(self, node):
        """A YAML date, or its text when it is not a real date."""
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


YamlLoader.add_constructor("tag:yaml.org,2002:timestamp", YamlLoader.construct_yaml_timestamp)


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
        """One line per problem: FILE:LINE: path: message."""
        out = []
        for (path, msg), line, file in zip(self.problems, self.lines, self.files, strict=True):
            where = f"{file}:{line}" if line else file
            dotted = ".".join(str(p) for p in path) or "(top level)"
            out.append(f"{where}: {dotted}: {msg}")
        return "\n".join(out)


def locate(node: Any, path: tuple) -> tuple[int, int | None]:
    """How many keys of `path` the YAML tree holds, and the 1-based line of the deepest one."""
    if node is None:
        return 0, None
    line = node.start_mark.line + 1
    depth = 0
    for key in path:
        child = None
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if str(k.value) == str(key):
                    child = v
                    line = k.start_mark.line + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            child = node.value[key]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
        depth += 1
    return depth, line


# ----------------------------------------------------------------------------- reading
def read_yaml(path: Path, error: type[YamlFileError], expected: str) -> tuple[dict, Any]:
    """Parse one YAML file into (mapping, node tree), with every failure an `error`.

    Errors name the file and the line: unreadable, not UTF-8, syntax, empty, not a mapping,
    duplicate keys. `expected` says what the top level should be.
    """
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(name, [((), f"cannot read file: {exc.strerror}")]) from None
    except UnicodeDecodeError as exc:
        raise error(
            name, [((), f"not UTF-8 text (byte {exc.start}); expected a UTF-8 YAML file")]
        ) from None
    try:
        root, data = _parse(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        context, start = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and start and mark and start.line != mark.line:
            problem += f" ({context} that starts at line {start.line + 1})"
        raise error(
            name,
            [((), f"YAML syntax error{where}: {problem}")],
            lines=[mark.line + 1] if mark else None,
        ) from None
    if data is None:
        raise error(
            name, [((), f"the file has no content (empty or only comments); expected {expected}")]
        )
    if not isinstance(data, dict):
        raise error(
            name, [((), f"expected {expected} at the top level, got a {type(data).__name__}")], root
        )
    dups = _duplicate_keys(root)
    if dups:
        raise error(
            name, [(path, msg) for path, msg, _ in dups], lines=[line for _, _, line in dups]
        )
    return copy.deepcopy(data), root  # a copy: callers merge and override in place


@functools.lru_cache(maxsize=32)
def _parse(text: str) -> tuple[Any, Any]:
    """(node tree, data) of a YAML text, parsed once.

    A sweep validates every point against the same file, and the line-tracking pure-Python
    parser takes about 0.1 s a scenario.
    """
    loader = YamlLoader(text)
    try:
        root = loader.get_single_node()
        return root, (None if root is None else loader.construct_document(root))
    finally:
        loader.dispose()


def _duplicate_keys(node: Any, path: tuple = ()) -> list[tuple[tuple, str, int]]:
    """YAML silently keeps the last of two equal keys; we reject them: (path, message, line)."""
    found = []
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for k, v in node.value:
            line = k.start_mark.line + 1
            if k.value in seen:
                found.append(
                    (
                        path + (k.value,),
                        f"duplicate key (first at line {seen[k.value]}); "
                        "expected each key once per mapping",
                        line,
                    )
                )
            else:
                seen[k.value] = line
            found += _duplicate_keys(v, path + (k.value,))
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            found += _duplicate_keys(v, path + (i,))
    return found


# ----------------------------------------------------------------------------- pydantic errors
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
