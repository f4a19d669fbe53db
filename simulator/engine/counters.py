"""The day's counters: names and positions in the integer and float rows the kernel fills.

The kernel adds into one row per chunk of shoppers; rows are summed in chunk order after the
worker threads finish, so totals are identical whatever the thread count. The fixed counters
come first; per-channel, per-touch and per-benefit blocks follow at offsets that depend on the
scenario.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from simulator.domain.lifecycle import STATES

# Fixed integer counters (after the 7 state counts).
INT_FIXED = STATES + (
    "visits",
    "enrolments",
    "orders_old_member",
    "orders_new_member",
    "orders_nonmember",
    "new_member_buyers",  # shoppers making their first member purchase of the campaign
    "new_old_member_buyers",  # ... of whom old members
    "new_nonmember_buyers",  # shoppers making their first non-member purchase of the campaign
    "new_buyers",  # shoppers making their first purchase of the campaign
    "new_joined_buyers",  # campaign enrollees making their first member purchase
    "first_purchases",  # shoppers buying for the first time ever (prospects)
    "reactivations",  # latent-inactive shoppers brought back by a touch
    "dropouts",  # BG/NBD dropouts after a purchase
    "contacts",
)
I_VISITS = INT_FIXED.index("visits")
I_ENROL = INT_FIXED.index("enrolments")
I_ORD_OLD = INT_FIXED.index("orders_old_member")
I_ORD_NEW = INT_FIXED.index("orders_new_member")
I_ORD_NON = INT_FIXED.index("orders_nonmember")
I_MB = INT_FIXED.index("new_member_buyers")
I_OMB = INT_FIXED.index("new_old_member_buyers")
I_NMB = INT_FIXED.index("new_nonmember_buyers")
I_B = INT_FIXED.index("new_buyers")
I_JB = INT_FIXED.index("new_joined_buyers")
I_FIRST = INT_FIXED.index("first_purchases")
I_REACT = INT_FIXED.index("reactivations")
I_DROP = INT_FIXED.index("dropouts")
I_CONTACTS = INT_FIXED.index("contacts")

FLOAT_FIXED = ("gmv_old_member", "gmv_new_member", "gmv_nonmember")
F_GMV_OLD = 0
F_GMV_NEW = 1
F_GMV_NON = 2


@dataclass(frozen=True)
class Layout:
    """Offsets of the variable blocks for a scenario's benefits, channels and touches."""

    benefits: tuple[str, ...]
    channels: tuple[str, ...]
    touches: tuple[str, ...]

    # integer blocks
    @property
    def enrol_by_channel(self) -> int:
        """Enrolments attributed to each channel; slot 0 is organic (no contact that day)."""
        return len(INT_FIXED)

    @property
    def contacts_by_channel(self) -> int:
        """Contacts made through each channel."""
        return self.enrol_by_channel + len(self.channels) + 1

    @property
    def contacts_by_touch(self) -> int:
        """Contacts made by each touch."""
        return self.contacts_by_channel + len(self.channels)

    @property
    def redemptions_by_benefit(self) -> int:
        """Orders in which each benefit was used."""
        return self.contacts_by_touch + len(self.touches)

    @property
    def n_int(self) -> int:
        """Length of an integer row."""
        return self.redemptions_by_benefit + len(self.benefits)

    # float blocks
    @property
    def cost_by_benefit(self) -> int:
        """Benefit cost (redemptions, grants, basket share) per benefit."""
        return len(FLOAT_FIXED)

    @property
    def cost_by_channel(self) -> int:
        """Contact cost per channel."""
        return self.cost_by_benefit + len(self.benefits)

    @property
    def cost_by_touch(self) -> int:
        """Contact cost per touch (budgets are checked against it)."""
        return self.cost_by_channel + len(self.channels)

    @property
    def n_float(self) -> int:
        """Length of a float row."""
        return self.cost_by_touch + len(self.touches)

    @functools.cached_property
    def columns(self) -> dict[str, tuple[bool, int]]:
        """Counter name -> (is an integer counter, column), for lookups by name."""
        return {
            **{n: (True, j) for j, n in enumerate(self.int_names())},
            **{n: (False, j) for j, n in enumerate(self.float_names())},
        }

    def int_names(self) -> list[str]:
        """Column names of the integer row."""
        return (
            list(INT_FIXED)
            + ["enrolments_organic"]
            + [f"enrolments_channel_{c}" for c in self.channels]
            + [f"contacts_channel_{c}" for c in self.channels]
            + [f"contacts_touch_{t}" for t in self.touches]
            + [f"redemptions_benefit_{b}" for b in self.benefits]
        )

    def float_names(self) -> list[str]:
        """Column names of the float row."""
        return (
            list(FLOAT_FIXED)
            + [f"cost_benefit_{b}" for b in self.benefits]
            + [f"cost_channel_{c}" for c in self.channels]
            + [f"cost_touch_{t}" for t in self.touches]
        )
