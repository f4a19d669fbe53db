"""Names laid out onto bits or integer codes, checked when the layout is built.

Every bit set and every code of the model (lifecycle states, segments, flags, the tag word,
benefit deliveries, offer classes) is derived from its list of names here, so a name added to a
list shifts the others or fails loudly when the module loads: it never takes another name's bit.
"""

from __future__ import annotations

import numpy as np


class LayoutError(ValueError):
    """A list of names does not fit its bits or codes (too many names, or a name twice)."""


def bit_masks(names: tuple[str, ...], width: int) -> dict[str, int]:
    """Name -> its bit mask, one bit each from bit 0 up, in list order.

    Args:
        names: distinct names, in bit order.
        width: bits of the integer that holds them.

    Raises:
        LayoutError: more names than bits, or a name twice.
    """
    check_distinct(names)
    if len(names) > width:
        raise LayoutError(f"{len(names)} names do not fit {width} bits: {', '.join(names)}")
    return {name: 1 << k for k, name in enumerate(names)}


def codes(names: tuple[str, ...], dtype: type) -> dict[str, int]:
    """Name -> its integer code (its position), checked to fit the integer dtype that stores it.

    Raises:
        LayoutError: more names than the dtype has values, or a name twice.
    """
    check_distinct(names)
    top = int(np.iinfo(dtype).max)
    if len(names) - 1 > top:
        raise LayoutError(f"{len(names)} names do not fit {np.dtype(dtype).name} codes")
    return {name: k for k, name in enumerate(names)}


def check_distinct(names: tuple[str, ...]) -> None:
    """Raise LayoutError if a name appears twice."""
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise LayoutError(f"names listed twice: {', '.join(twice)}")
