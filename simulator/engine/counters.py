"""The day's counters: names and positions in the integer and float rows the kernel fills.

The kernel adds into one row per chunk of shoppers; rows are summed in chunk order after the
worker threads finish, so totals are identical whatever the thread count. The fixed counters
come first, named in `INT_FIXED` and `FLOAT_FIXED`; the kernel finds them by name as
`COUNT.visits`, `AMOUNT.gmv_nonmember`, ... Per-channel, per-touch and per-benefit blocks follow
at offsets that depend on the scenario (`Layout.blocks`).
"""

from __future__ import annotations

import functools
from collections import namedtuple
from dataclasses import dataclass
from typing import NamedTuple

from simulator.domain.lifecycle import STATES

# Fixed integer counters: the shoppers in each state, then events of the day.
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
    "buyer_days",  # shopper-days with at least one order
    "multi_order_days",  # ... with two or more orders (no ceiling: a Poisson number of orders)
    "order_cap_days",  # shopper-days whose orders reached steps.MAX_ORDERS (reported, not hidden)
    "added_orders",  # orders beyond the shopper's own need: added by offers and contacts
    "bought_ahead",  # ... of which bought ahead of a later need (stock)
    "needs_from_stock",  # needs met from stock: no order
    "needs_deferred",  # needs waiting for a held offer usable soon: no order yet
    "deferred_orders",  # orders of needs that waited, bought when the wait ends
    "deposits",  # pre-sale orders placed (a deposit each; no GMV until paid)
    "balances_due",  # shoppers holding deposits on their final-payment day
    "balances_paid",  # ... who paid: one order of the locked baskets each
    "balances_forfeited",  # ... who did not: the deposits are lost
)
# Purchases moved in time (need and anticipation), in daily.csv and the KPIs
NEED_COUNTERS = (
    "added_orders",
    "bought_ahead",
    "needs_from_stock",
    "needs_deferred",
    "deferred_orders",
)
# GMV is paid (after member price, coupons and platform discounts); gmv_list at list price.
FLOAT_FIXED = (
    "gmv_old_member",
    "gmv_new_member",
    "gmv_nonmember",
    "gmv_list",
    "deposit_amount",  # deposits placed: deposit_share x list value (not GMV)
    "deposit_forfeited",  # deposits lost with unpaid balances
    "presale_gmv_member",  # paid GMV of balances paid by members (in the GMV above)
    "presale_gmv_nonmember",  # ... by non-members
)
# Distinct buyers of each KPI window (`window_buyers`), in the order of a window's
# slots: shoppers whose first member purchase in the window it is (member buyers), of whom old
# members at that purchase, and enrolled in the window; first non-member purchase; first purchase.
WINDOW_BUYERS = (
    "member_buyers",
    "old_member_buyers",
    "joined_buyers",
    "non_member_buyers",
    "buyers",
)

# Column of each fixed counter, by name: COUNT.visits, AMOUNT.gmv_old_member, ... (named tuples of
# ints, which the kernel reads as constants). The state counts are columns 0..6: COUNT.prospect + k.
COUNT = namedtuple("IntCounters", INT_FIXED)(*range(len(INT_FIXED)))
AMOUNT = namedtuple("FloatCounters", FLOAT_FIXED)(*range(len(FLOAT_FIXED)))
# slot of each kind in a window's block: WINDOW_BUYER.member_buyers, ...
WINDOW_BUYER = namedtuple("WindowBuyers", WINDOW_BUYERS)(*range(len(WINDOW_BUYERS)))


class CounterBlocks(NamedTuple):
    """First column of each variable counter block (a channel, touch or benefit adds its index)."""

    enrol_by_channel: int  # integer row; slot 0 is organic, channel c is slot c + 1
    contacts_by_channel: int
    contacts_by_touch: int
    redemptions_by_benefit: int
    grants_by_benefit: int
    buyers_by_window: int  # window w's `WINDOW_BUYERS` start at + len(WINDOW_BUYERS) x w
    cost_by_benefit: int  # float row
    discount_by_benefit: int
    cost_by_channel: int
    cost_by_touch: int


@dataclass(frozen=True)
class Layout:
    """Offsets of the variable blocks for a scenario's benefits, channels, touches, windows."""

    benefits: tuple[str, ...]
    channels: tuple[str, ...]
    touches: tuple[str, ...]
    windows: tuple[str, ...] = ()  # KPI windows

    @classmethod
    def of(cls, scenario) -> Layout:
        """The layout of a scenario's benefits, channels, touches (plan) and KPI windows."""
        return cls(
            tuple(scenario.benefits),
            tuple(scenario.channels),
            tuple(scenario.plan),
            tuple(scenario.windows),
        )

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
    def grants_by_benefit(self) -> int:
        """Offers handed over per benefit: touch deliveries to non-holders, on-enrol grants."""
        return self.redemptions_by_benefit + len(self.benefits)

    @property
    def buyers_by_window(self) -> int:
        """Distinct buyers per KPI window (`WINDOW_BUYERS` for each window)."""
        return self.grants_by_benefit + len(self.benefits)

    @property
    def n_int(self) -> int:
        """Length of an integer row."""
        return self.buyers_by_window + len(WINDOW_BUYERS) * len(self.windows)

    # float blocks
    @property
    def cost_by_benefit(self) -> int:
        """Benefit cost per benefit: gifts given, points issued, grants (not price reductions)."""
        return len(FLOAT_FIXED)

    @property
    def discount_by_benefit(self) -> int:
        """Price reductions per benefit (list minus paid GMV, by the benefit that gave them)."""
        return self.cost_by_benefit + len(self.benefits)

    @property
    def cost_by_channel(self) -> int:
        """Contact cost per channel."""
        return self.discount_by_benefit + len(self.benefits)

    @property
    def cost_by_touch(self) -> int:
        """Contact cost per touch (budgets are checked against it)."""
        return self.cost_by_channel + len(self.channels)

    @property
    def n_float(self) -> int:
        """Length of a float row."""
        return self.cost_by_touch + len(self.touches)

    def by_benefit(self, rows, first: int):
        """The per-benefit block of counter rows (last axis) that starts at column `first`."""
        return rows[..., first : first + len(self.benefits)]

    def by_channel(self, rows, first: int):
        """The per-channel block of counter rows (last axis) that starts at column `first`."""
        return rows[..., first : first + len(self.channels)]

    def benefit_cost(self, floats):
        """Benefit cost in float rows (last axis): gifts, points and grants, summed over benefits.

        Price reductions are not costs: they are already out of the paid GMV (docs/kpis.md).
        """
        return self.by_benefit(floats, self.cost_by_benefit).sum(axis=-1)

    def contact_cost(self, floats):
        """Contact cost in float rows (last axis), summed over channels."""
        return self.by_channel(floats, self.cost_by_channel).sum(axis=-1)

    def cost(self, floats):
        """Campaign cost in float rows (last axis): benefit costs plus contact costs."""
        return self.benefit_cost(floats) + self.contact_cost(floats)

    @property
    def blocks(self) -> CounterBlocks:
        """The offsets of the variable blocks, for the kernel."""
        return CounterBlocks(
            self.enrol_by_channel,
            self.contacts_by_channel,
            self.contacts_by_touch,
            self.redemptions_by_benefit,
            self.grants_by_benefit,
            self.buyers_by_window,
            self.cost_by_benefit,
            self.discount_by_benefit,
            self.cost_by_channel,
            self.cost_by_touch,
        )

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
            + [f"grants_benefit_{b}" for b in self.benefits]
            + [f"{kind}_window_{w}" for w in self.windows for kind in WINDOW_BUYERS]
        )

    def float_names(self) -> list[str]:
        """Column names of the float row."""
        return (
            list(FLOAT_FIXED)
            + [f"cost_benefit_{b}" for b in self.benefits]
            + [f"discount_benefit_{b}" for b in self.benefits]
            + [f"cost_channel_{c}" for c in self.channels]
            + [f"cost_touch_{t}" for t in self.touches]
        )
