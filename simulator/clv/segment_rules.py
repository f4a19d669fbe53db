"""Segments of a store's own customers, from columns of their lists or from RFM rules.

A rule names a segment (one of `lifecycle.SEGMENTS`) and how a customer falls in it:

- ``top_spend:SHARE``: the top SHARE of buyers by net spend over the history (the 80/20 head);
- ``top_frequency:SHARE``: the top SHARE of buyers by purchase days;
- ``bought:N:DAYS``: at least N purchase days in the DAYS days ending with the history's last day
  ("bought twice this year": ``bought:2:365``);
- ``recent:DAYS``: a purchase in the DAYS days ending with the history's last day ("recent
  360-day buyers": ``recent:360``);
- ``column:NAME``: the member or prospect list's column NAME is true (1, true, yes, y, 是).

A top share takes exactly round(SHARE x buyers) customers, ties broken by the order of the
table's rows, so a rule gives the same set every time. A list column named like a segment is
that segment without a rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from simulator.domain.lifecycle import SEGMENTS
from simulator.errors import UserError

RULE_HELP = (
    "top_spend:SHARE, top_frequency:SHARE, bought:N:DAYS, recent:DAYS or column:NAME "
    "(SHARE in (0, 1], N and DAYS whole numbers >= 1)"
)
TRUE_WORDS = frozenset({"1", "true", "yes", "y", "是", "t"})
FALSE_WORDS = frozenset({"0", "false", "no", "n", "否", "f", ""})


class SegmentRuleError(UserError, ValueError):
    """A segment rule that cannot be used; the message says what was expected."""


@dataclass(frozen=True)
class SegmentRule:
    """One parsed rule: the segment it fills, its kind and its numbers or column."""

    segment: str
    kind: str  # top_spend, top_frequency, bought, recent or column
    share: float = 0.0
    count: int = 0
    days: int = 0
    column: str = ""

    def __str__(self) -> str:
        """The rule as written on the command line."""
        args = {
            "top_spend": f"{self.share:g}",
            "top_frequency": f"{self.share:g}",
            "bought": f"{self.count}:{self.days}",
            "recent": f"{self.days}",
            "column": self.column,
        }[self.kind]
        return f"{self.segment}={self.kind}:{args}"


def parse_rule(text: str) -> SegmentRule:
    """Parse ``SEGMENT=KIND:ARGS`` (see the module's docstring)."""
    segment, sep, rule = text.partition("=")
    segment = segment.strip()
    if not sep or segment not in SEGMENTS:
        raise SegmentRuleError(
            f"segment rule {text!r}: expected SEGMENT=RULE with SEGMENT one of "
            f"{', '.join(SEGMENTS)}"
        )
    kind, _, args = rule.strip().partition(":")
    try:
        if kind in ("top_spend", "top_frequency"):
            share = float(args)
            if not 0.0 < share <= 1.0:
                raise ValueError
            return SegmentRule(segment, kind, share=share)
        if kind == "bought":
            count, days = (int(v) for v in args.split(":"))
            if count < 1 or days < 1:
                raise ValueError
            return SegmentRule(segment, kind, count=count, days=days)
        if kind == "recent":
            if not re.fullmatch(r"[0-9]+", args) or int(args) < 1:
                raise ValueError
            return SegmentRule(segment, kind, days=int(args))
        if kind == "column" and args:
            return SegmentRule(segment, kind, column=args)
    except ValueError:
        pass
    raise SegmentRuleError(f"segment rule {text!r}: expected {RULE_HELP}")


def truthy(values, what: str, lines: np.ndarray) -> np.ndarray:
    """Read a list column of yes/no words as booleans; an unknown word is an error naming it."""
    words = np.array([str(v).strip().lower() for v in values], dtype=object)
    yes = np.isin(words, list(TRUE_WORDS))
    bad = ~yes & ~np.isin(words, list(FALSE_WORDS))
    if bad.any():
        i = int(np.argmax(bad))
        raise SegmentRuleError(
            f"{what}, line {lines[i]}: {values[i]!r} is not a yes/no value; expected one of "
            "1/0, true/false, yes/no, 是/否 or empty"
        )
    return yes


def top_share(values: np.ndarray, eligible: np.ndarray, share: float) -> np.ndarray:
    """The round(share x eligible) eligible rows with the largest values (ties: row order)."""
    rows = np.flatnonzero(eligible)
    k = int(round(share * len(rows)))
    order = np.argsort(-values[rows], kind="stable")
    inside = np.zeros(len(values), dtype=bool)
    inside[rows[order[:k]]] = True
    return inside
