"""The safe YAML loader: YAML 1.2 scalars, limits on nesting and expansion, checks of the tree.

`YamlLoader` composes a document within `MAX_YAML_DEPTH` levels and `MAX_YAML_VALUES` values
(aliases expanded), counted while composing, so an alias bomb or deep nesting is refused before
any Python structure is built. Plain scalars follow YAML 1.2's core schema; a literal that
YAML 1.1 reads differently (`017`, `0x10`, `1:00:00`, `yes`) gets its own tag, and
`check_nodes` reports it with its field and line, together with duplicate keys and control
characters, visiting each node once.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import yaml

MAX_YAML_DEPTH = 100
"""Most levels of nested mappings and lists (a scenario needs six)."""
MAX_YAML_VALUES = 100_000
"""Most values (keys, scalars, mappings, lists) in a file once its aliases are expanded."""

# C0, DEL and C1 controls (terminal escapes, NUL) and lone surrogates (not encodable as UTF-8)
UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
AMBIGUOUS = "tag:promosim:yaml-1.1-literal"  # resolved for a literal YAML 1.1 reads otherwise
MERGE = "tag:yaml.org,2002:merge"
READ_TAGS = {"!", "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}


def printable(text: str) -> str:
    r"""Text with control characters and lone surrogates escaped (ESC as `\x1b`).

    A message can then neither drive the terminal nor fail to print.
    """
    return UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class BeyondLimit(yaml.MarkedYAMLError):
    """A document beyond a limit, or with a construct that is not read (a tag, a looping alias)."""

    def __init__(self, problem: str, mark: Any):
        super().__init__(problem=problem, problem_mark=mark)


class YamlLoader(yaml.SafeLoader):
    """Safe loader with YAML 1.2 scalars, limits on nesting and expansion, and strict tags.

    An impossible date (2021-13-01) stays text, for pydantic to reject at its field and line.
    """

    yaml_implicit_resolvers: dict = {}  # YAML 1.2 core schema (filled below), not YAML 1.1

    def __init__(self, stream: str):
        super().__init__(stream)
        self.depth = 0
        self.values = 0  # values composed so far, aliases expanded
        self.expanded: dict[int, int] = {}  # id(node): values in it with its aliases expanded

    def compose_node(self, parent: Any, index: Any) -> Any:
        """Compose one node, counting its nesting and its expanded size as it is built."""
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            node = super().compose_node(parent, index)
            if id(node) not in self.expanded:
                raise BeyondLimit(
                    f"the alias *{event.anchor} is inside its own anchor: "
                    "the value contains itself",
                    event.start_mark,
                )
            self.count(self.expanded[id(node)], event.start_mark)
            return node
        if event.tag is not None and event.tag not in READ_TAGS:
            tag = event.tag.replace("tag:yaml.org,2002:", "!!")
            raise BeyondLimit(
                f"the YAML tag {tag} is not read; write the value without a tag "
                "(quote it for text)",
                event.start_mark,
            )
        self.depth += 1
        if self.depth > MAX_YAML_DEPTH:
            raise BeyondLimit(
                f"more than {MAX_YAML_DEPTH} levels of nested mappings and lists", event.start_mark
            )
        self.count(1, event.start_mark)
        node = super().compose_node(parent, index)
        self.depth -= 1
        self.expanded[id(node)] = 1 + sum(self.expanded[id(c)] for c in _children(node))
        return node

    def count(self, values: int, mark: Any) -> None:
        """Add values to the document's expanded size; refuse it beyond `MAX_YAML_VALUES`."""
        self.values += values
        if self.values > MAX_YAML_VALUES:
            raise BeyondLimit(
                f"more than {MAX_YAML_VALUES:,} values once aliases are expanded", mark
            )

    def construct_yaml_timestamp(self, node):
        """A YAML date, or its text when it is not a real date."""
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)

    def construct_ambiguous(self, node):
        """A YAML 1.1 literal is an error (files report it at its field first, `check_nodes`)."""
        raise yaml.constructor.ConstructorError(
            None, None, ambiguous_literal(node.value), node.start_mark
        )


YamlLoader.add_constructor("tag:yaml.org,2002:timestamp", YamlLoader.construct_yaml_timestamp)
YamlLoader.add_constructor(AMBIGUOUS, YamlLoader.construct_ambiguous)
for _tag, _pattern, _first in [
    ("tag:yaml.org,2002:bool", r"true|True|TRUE|false|False|FALSE", "tTfF"),
    ("tag:yaml.org,2002:int", r"[-+]?(?:0|[1-9][0-9_]*)", "-+0123456789"),
    (
        "tag:yaml.org,2002:float",
        r"[-+]?(?:[0-9][0-9_]*\.[0-9_]*|\.[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
        "-+0123456789.",
    ),
    ("tag:yaml.org,2002:null", r"~|null|Null|NULL|", ["~", "n", "N", ""]),
    (
        AMBIGUOUS,
        r"yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|[-+]?0[0-9_]+|[-+]?0[xXoObB][0-9a-fA-F_]+"
        r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?",
        "yYnNoO-+0123456789",
    ),
]:
    YamlLoader.add_implicit_resolver(_tag, re.compile(f"^(?:{_pattern})$"), list(_first))
for _first, _rules in yaml.resolver.Resolver.yaml_implicit_resolvers.items():  # dates, `<<`
    for _tag, _regexp in _rules:
        if _tag in ("tag:yaml.org,2002:timestamp", MERGE):
            YamlLoader.add_implicit_resolver(_tag, _regexp, [_first])


class YamlDumper(yaml.SafeDumper):
    """Safe dumper that quotes any text `YamlLoader` would read as something else.

    It resolves plain scalars by the loader's rules, so a text such as `1e6` (a number in YAML
    1.2) or `0o17` (a YAML 1.1 literal) is written quoted and reads back as the same text.
    """

    yaml_implicit_resolvers = {k: list(v) for k, v in YamlLoader.yaml_implicit_resolvers.items()}


def _children(node: Any) -> list:
    """The nodes directly inside a node (keys and values of a mapping)."""
    if isinstance(node, yaml.SequenceNode):
        return node.value
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def ambiguous_literal(text: str) -> str:
    """Why a YAML 1.1 literal is refused, and how to write what was meant."""
    word = text.lower()
    if word in ("yes", "on", "no", "off"):
        meant = "true" if word in ("yes", "on") else "false"
    else:
        digits = text.replace("_", "").lstrip("+")
        sign, digits = (-1, digits[1:]) if digits.startswith("-") else (1, digits)
        try:
            if ":" in digits:
                value = functools.reduce(lambda a, b: a * 60 + float(b), digits.split(":"), 0.0)
            else:
                value = int(digits, 0 if digits[1:2].isalpha() else 10)
            meant = str(sign * (int(value) if float(value).is_integer() else value))
        except ValueError:
            meant = "the number in decimal"
    return (
        f"ambiguous value {text}: YAML 1.1 and YAML 1.2 read it differently; "
        f"write {meant}, or '{text}' for text"
    )


def check_nodes(root: Any) -> list[tuple[tuple, str, int]]:
    """Problems YAML lets pass, as (path, message, line); each node is visited once.

    Duplicate keys (YAML silently keeps the last; a merge key `<<` is not a duplicate), keys
    that are not plain values, YAML 1.1 literals, and control characters or lone surrogates (none
    in a key; tabs and line breaks only in a value). An aliased node is checked where it is
    defined.
    """
    found: list[tuple[tuple, str, int]] = []
    seen: set[int] = set()

    def scalar(node: Any, path: tuple, allowed: str) -> bool:
        line = node.start_mark.line + 1
        if node.tag == AMBIGUOUS:
            found.append((path, ambiguous_literal(node.value), line))
        bad = next((c for c in UNPRINTABLE.findall(node.value) if c not in allowed), None)
        if bad is not None:
            kind = "lone surrogate" if bad >= "\ud800" else "control character"
            where = "in text; expected printable text" if allowed else "in a key; expected a name"
            found.append((path, f"{kind} {printable(bad)} {where}", line))
        return node.tag != AMBIGUOUS and bad is None

    def walk(node: Any, path: tuple) -> None:
        if node is None or id(node) in seen:
            return
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            scalar(node, path, "\t\n")
        elif isinstance(node, yaml.SequenceNode):
            for k, item in enumerate(node.value):
                walk(item, path + (k,))
        else:
            first: dict[str, int] = {}
            for key, value in node.value:
                if key.tag == MERGE:
                    walk(value, path)
                    continue
                if not isinstance(key, yaml.ScalarNode):
                    found.append(
                        (
                            path,
                            "a key must be a name, number or date, not a mapping or list",
                            key.start_mark.line + 1,
                        )
                    )
                    continue
                line = key.start_mark.line + 1
                if scalar(key, path + (key.value,), "") and key.value in first:
                    found.append(
                        (
                            path + (key.value,),
                            f"duplicate key (first at line {first[key.value]}); "
                            "expected each key once per mapping",
                            line,
                        )
                    )
                first.setdefault(key.value, line)
                walk(value, path + (key.value,))

    walk(root, ())
    return found
