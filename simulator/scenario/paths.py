"""Dotted paths into a scenario's nested mappings and lists: `benefits.coupon.offer.amount_off`.

A key matches a mapping key by its text (so a date key is written
`calendar.traffic_days.2021-11-11`) and a whole number indexes a list
(`calendar.phases.0.traffic`). Overrides, sweeps and targets name scenario fields this way;
`child` is the one step all of them walk with.
"""

from __future__ import annotations

from typing import Any

MISSING = object()
"""What `child` returns where a path leads nowhere (a value may itself be None)."""


class PathError(ValueError):
    """A dotted path that cannot be set: the index of the key that fails, and why."""

    def __init__(self, depth: int, why: str):
        self.depth = depth
        self.why = why
        super().__init__(why)


def child(node: Any, key: str) -> Any:
    """The value under `key` (as text) in a mapping or list; MISSING where there is none."""
    if isinstance(node, dict):
        return next((v for k, v in node.items() if str(k) == key), MISSING)
    if isinstance(node, list | tuple) and key.isdigit() and int(key) < len(node):
        return node[int(key)]
    return MISSING


def trail(data: Any, dotted: str) -> list:
    """The values along a path: `data`, then the value at each key, up to the first missing."""
    nodes = [data]
    for key in dotted.split("."):
        node = child(nodes[-1], key)
        if node is MISSING:
            break
        nodes.append(node)
    return nodes


def get(data: Any, dotted: str) -> Any:
    """The value at a dotted path; None where the path leads nowhere."""
    nodes = trail(data, dotted)
    return nodes[-1] if len(nodes) == len(dotted.split(".")) + 1 else None


def is_list(data: Any, dotted: str) -> bool:
    """Whether the value at a dotted path is a list (such as a touch's audience)."""
    return isinstance(get(data, dotted), list | tuple)


def set_value(data: Any, dotted: str, value: Any) -> None:
    """Set the value at a dotted path; every key but the last must exist.

    The last key may be new in a mapping (validation then says whether the field exists), but
    must index an existing item of a list.

    Raises:
        PathError: a key that does not exist, an index out of range, or a key under a value.
    """
    keys = dotted.split(".")
    node = data
    for depth, key in enumerate(keys):
        last = depth == len(keys) - 1
        parent = ".".join(keys[:depth]) or "the top level"
        if isinstance(node, dict):
            if last:
                node[next((k for k in node if str(k) == key), key)] = value
                return
            if child(node, key) is MISSING:
                raise PathError(
                    depth,
                    f"'{key}' does not exist in {parent}; defined: "
                    + (", ".join(map(str, node)) or "none"),
                )
        elif isinstance(node, list):
            if child(node, key) is MISSING:
                raise PathError(
                    depth,
                    f"{parent} is a list of {len(node)}; expected an index 0..{len(node) - 1}",
                )
            if last:
                node[int(key)] = value
                return
        else:
            raise PathError(depth, f"{parent} is a value ({node!r}), not a section with fields")
        node = child(node, key)
