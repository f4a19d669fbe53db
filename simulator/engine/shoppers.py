"""Per-shopper state, declared once: the table of fields every shopper array is derived from.

Each shopper is a slot in a few narrow numpy arrays (struct of arrays), one per row of `FIELDS`:
`Shoppers` (the named tuple the kernel reads), `allocate`, the start values, the byte count and
the reference model's comparison all follow the table. Attributes needed only when the shopper
sees an offer (price sensitivity) are derived on demand from their keyed draws rather than
stored: memory per shopper is what limits the population size. The basket scale is stored (4
bytes): every visitor with an offer needs their expected basket, and deriving it (a Gamma draw)
made campaign days 20% slower. So is the dropout p (4 bytes): a customer from a store's own list
has it drawn from the posterior given their history (`engine.customers`), which the kernel
cannot re-derive from keyed draws alone.

To add a field, add a row (see docs/extending.md): a field with a start value is then allocated,
initialised, copied between runs and compared with the reference model without further code.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass

import numpy as np

from simulator.domain.layouts import LayoutError
from simulator.domain.lifecycle import FLAGS, SEGMENTS
from simulator.scenario.schema import MAX_BENEFITS, MAX_KPI_WINDOWS

NEVER = -32000  # "long before the campaign" for int16 day fields
DRAWN = None  # start value of a field that `population` draws per shopper


@dataclass(frozen=True)
class ShopperField:
    """One per-shopper array: its name, element type, start value and meaning."""

    name: str
    dtype: type
    start: int | float | None  # every shopper's value before day 0, or DRAWN
    meaning: str
    bits: int = 0  # for a set of bits: how many the dtype must hold
    per_capped_channel: bool = False  # 2-D: one column per frequency-capped channel

    def check(self) -> None:
        """Raise LayoutError if the field's bits do not fit its dtype."""
        if self.bits > 8 * np.dtype(self.dtype).itemsize:
            raise LayoutError(f"{self.name}: {self.bits} bits do not fit {np.dtype(self.dtype)}")


FIELDS = (
    ShopperField("state", np.int8, DRAWN, "lifecycle state (code of lifecycle.STATES)"),
    ShopperField("segments", np.uint8, DRAWN, "segment bits (lifecycle.SEGMENTS)", len(SEGMENTS)),
    ShopperField("flags", np.uint8, DRAWN, "history bits (lifecycle.FLAGS)", len(FLAGS)),
    ShopperField("rate", np.float32, DRAWN, "purchase rate lambda per day"),
    ShopperField("basket_scale", np.float32, DRAWN, "mean basket / p: 1/nu x segment multipliers"),
    ShopperField("dropout", np.float32, DRAWN, "BG/NBD chance of dropping out at a transaction"),
    ShopperField("last_purchase", np.int16, DRAWN, "day of the last purchase (0: the first day)"),
    ShopperField("enrol_day", np.int16, DRAWN, "day of enrolment"),
    ShopperField("held", np.uint32, 0, "bits of the benefits held (plan order)", MAX_BENEFITS),
    ShopperField("fatigue", np.float32, 0.0, "decayed contact count as of the last contact"),
    ShopperField("last_contact", np.int16, NEVER, "day of the last contact"),
    ShopperField("stock", np.uint8, 0, "needs bought ahead, not yet met (need and anticipation)"),
    ShopperField("waiting", np.uint8, 0, "needs waiting for a held offer usable soon"),
    ShopperField("deposit", np.float32, 0.0, "list value locked by unpaid pre-sale deposits"),
    ShopperField("contacts", np.uint8, 0, "contacts per capped channel", per_capped_channel=True),
    ShopperField(
        "window_buys",
        np.uint16,
        0,
        "per KPI window w: bit 2w bought as a member in it, bit 2w + 1 as a non-member",
        2 * MAX_KPI_WINDOWS,
    ),
)
for _field in FIELDS:
    _field.check()

ShopperArrays = namedtuple("ShopperArrays", [f.name for f in FIELDS])


class Shoppers(ShopperArrays):
    """Per-shopper state arrays, one per row of `FIELDS` (a named tuple Numba accepts)."""

    __slots__ = ()

    @property
    def n(self) -> int:
        """Number of shoppers."""
        return len(self.state)

    @property
    def nbytes(self) -> int:
        """Bytes held by the arrays."""
        return sum(a.nbytes for a in self)


def shape(field: ShopperField, n: int, n_capped: int) -> tuple[int, ...]:
    """Shape of a field's array for n shoppers and n_capped frequency-capped channels."""
    return (n, n_capped) if field.per_capped_channel else (n,)


def allocate(n: int, n_capped: int) -> Shoppers:
    """Empty arrays for n shoppers (allocated once; runs reuse them)."""
    return Shoppers(*(np.empty(shape(f, n, n_capped), f.dtype) for f in FIELDS))


def set_start_values(shoppers: Shoppers) -> None:
    """Fill every field that has a start value (the others are drawn by `population`)."""
    for field, array in zip(FIELDS, shoppers, strict=True):
        if field.start is not DRAWN:
            array.fill(field.start)


def bytes_per_shopper(n_capped: int) -> int:
    """Bytes of state per shopper with n_capped frequency-capped channels."""
    return sum(
        np.dtype(f.dtype).itemsize * (n_capped if f.per_capped_channel else 1) for f in FIELDS
    )
