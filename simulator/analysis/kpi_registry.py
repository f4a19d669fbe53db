"""The KPI registry: every KPI's name, exact formula, unit and how tables, sweeps and fits use it.

This is the one list of KPIs. `compute_kpis` (analysis/kpis.py) computes them and returns them in
this order (the order of `kpis.json`); `promosim run` shows the headline ones, `promosim compare`
the compared ones, a sweep's summary ranks points by the direction that is better, a targets fit
scales the ones that grow with the number of shoppers; the KPI table of docs/kpis.md is generated
from it (analysis/kpi_docs.py). A name with `<benefit>`, `<channel>` or `<state>` stands for one
KPI per benefit, channel (in scenario order) or lifecycle state.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from simulator.domain.lifecycle import STATES

# How a KPI adds up over the days it is measured on (every KPI is averaged over replications):
# sum: a total of daily counts or money, grows with the number of shoppers;
# last_day: a count of shoppers at the end of the last day, grows with the number of shoppers;
# ratio: a ratio of totals (a share, a rate, a mean per buyer), independent of the shoppers.
AGGREGATES = ("sum", "last_day", "ratio")
PLACEHOLDERS = ("benefit", "channel", "state")


@dataclass(frozen=True)
class Kpi:
    """One KPI.

    Attributes:
        name: key in kpis.json; `<benefit>`, `<channel>` or `<state>` makes one per name.
        formula: the exact definition, Markdown, as docs/kpis.md shows it.
        unit: what a value counts ("currency" is the scenario's currency).
        aggregate: how it adds up over days, one of `AGGREGATES`.
        headline: in the table of `promosim run`, in registry order.
        compared: a row of `promosim compare`, with its paired difference to the first scenario.
        needs_baseline: computed against the no-campaign run (absent without it).
        better: "max" or "min" when a higher or lower value is better, else None.
        reported: in kpis.json; False for the KPIs only a targets fit measures.
    """

    name: str
    formula: str
    unit: str
    aggregate: Literal["sum", "last_day", "ratio"]
    headline: bool = False
    compared: bool = False
    needs_baseline: bool = False
    better: Literal["max", "min"] | None = None
    reported: bool = True

    @property
    def intensive(self) -> bool:
        """Whether the KPI does not grow with the number of shoppers (shares, rates, ratios)."""
        return self.aggregate == "ratio"

    @property
    def per(self) -> str | None:
        """The placeholder of a KPI per name ("benefit", "channel" or "state"), else None."""
        return next((p for p in PLACEHOLDERS if f"<{p}>" in self.name), None)

    def names(self, benefits: Iterable[str], channels: Iterable[str]) -> list[str]:
        """The KPI's keys for a scenario's benefits and channels."""
        each = {"benefit": benefits, "channel": channels, "state": STATES}
        if self.per is None:
            return [self.name]
        return [self.name.replace(f"<{self.per}>", x) for x in each[self.per]]


MONEY, SHOPPERS, SHARE = "currency", "shoppers", "share"
REGISTRY = (
    Kpi(
        "gmv",
        "Σ_d (old-member GMV + new-member GMV + non-member GMV)",
        MONEY,
        "sum",
        headline=True,
        compared=True,
        better="max",
    ),
    Kpi(
        "member_gmv",
        "Σ_d (old-member GMV + new-member GMV)",
        MONEY,
        "sum",
        headline=True,
        compared=True,
        better="max",
    ),
    Kpi("old_member_gmv", "Σ_d old-member GMV", MONEY, "sum"),
    Kpi("new_member_gmv", "Σ_d new-member GMV", MONEY, "sum"),
    Kpi("non_member_gmv", "Σ_d non-member GMV", MONEY, "sum"),
    Kpi(
        "member_gmv_penetration",
        "member_gmv / gmv",
        SHARE,
        "ratio",
        headline=True,
        compared=True,
        better="max",
    ),
    Kpi(
        "new_members",
        "number of enrolments during the campaign (each shopper enrols at most once)",
        SHOPPERS,
        "sum",
        headline=True,
        compared=True,
        better="max",
    ),
    Kpi(
        "new_member_first_purchase_rate",
        "(new members who made a member purchase during the campaign) / new_members",
        SHARE,
        "ratio",
        headline=True,
        compared=True,
        better="max",
    ),
    Kpi(
        "old_member_gmv_share", "old_member_gmv / gmv", SHARE, "ratio", headline=True, compared=True
    ),
    Kpi(
        "member_buyers",
        "distinct shoppers with ≥ 1 member purchase during the campaign",
        SHOPPERS,
        "sum",
    ),
    Kpi(
        "old_member_buyers",
        "distinct old members with ≥ 1 purchase during the campaign",
        SHOPPERS,
        "sum",
    ),
    Kpi(
        "non_member_buyers",
        "distinct shoppers with ≥ 1 non-member purchase during the campaign",
        SHOPPERS,
        "sum",
    ),
    Kpi(
        "member_arpu",
        "member_gmv / member_buyers",
        "currency per buyer",
        "ratio",
        headline=True,
        compared=True,
    ),
    Kpi("old_member_arpu", "old_member_gmv / old_member_buyers", "currency per buyer", "ratio"),
    Kpi(
        "non_member_arpu",
        "non_member_gmv / non_member_buyers",
        "currency per buyer",
        "ratio",
        headline=True,
        compared=True,
    ),
    Kpi(
        "old_member_premium",
        "old_member_arpu / non_member_arpu − 1",
        "relative difference",
        "ratio",
        headline=True,
        compared=True,
    ),
    Kpi(
        "presale_member_gmv_share",
        "Σ over days of phases marked `presale: true` of member GMV / Σ over the same days of GMV "
        "(`null` without a pre-sale phase)",
        SHARE,
        "ratio",
        headline=True,
        compared=True,
    ),
    Kpi(
        "active_members",
        "members whose state on the last day is first_purchase or repeat (bought as a member "
        "and not yet dormant by recency)",
        SHOPPERS,
        "last_day",
        headline=True,
        compared=True,
        better="max",
    ),
    Kpi(
        "buyers",
        "distinct shoppers with ≥ 1 purchase during the campaign",
        SHOPPERS,
        "sum",
        headline=True,
        compared=True,
        better="max",
    ),
    Kpi(
        "orders",
        "number of purchases (a shopper buys at most once a day)",
        "orders",
        "sum",
        headline=True,
        compared=True,
        better="max",
    ),
    Kpi("visits", "Σ_d visits to the store", "visits", "sum"),
    Kpi("contacts", "Σ_d contacts by every channel", "contacts", "sum"),
    Kpi(
        "reactivations",
        "Σ_d latent-inactive shoppers brought back by a touch",
        SHOPPERS,
        "sum",
    ),
    Kpi(
        "cost",
        "benefit_cost + contact_cost",
        MONEY,
        "sum",
        headline=True,
        compared=True,
        better="min",
    ),
    Kpi(
        "benefit_cost",
        "Σ over benefits of: value × redemptions (`per_redemption`), value × grants "
        "(`per_grant`: a touch delivering it, or an enrolment for `on_enrol`), value × basket "
        "of each order using it (`share_of_basket`)",
        MONEY,
        "sum",
        compared=True,
        better="min",
    ),
    Kpi(
        "contact_cost",
        "Σ over channels of cost_per_contact × contacts",
        MONEY,
        "sum",
        compared=True,
        better="min",
    ),
    Kpi(
        "cost_benefit_<benefit>",
        "the part of benefit_cost due to that benefit",
        MONEY,
        "sum",
        compared=True,
        better="min",
    ),
    Kpi(
        "cost_channel_<channel>",
        "the part of contact_cost due to that channel",
        MONEY,
        "sum",
        compared=True,
        better="min",
    ),
    Kpi("new_members_organic", "enrolments on a day without any contact", SHOPPERS, "sum"),
    Kpi(
        "new_members_channel_<channel>",
        "enrolments on a day the shopper was contacted, attributed to the first touch (plan "
        "order) that contacted them that day",
        SHOPPERS,
        "sum",
    ),
    Kpi(
        "final_<state>",
        "shoppers in that lifecycle state at the end of the last day",
        SHOPPERS,
        "last_day",
    ),
    Kpi(
        "baseline_gmv",
        "`gmv` of the no-campaign counterfactual: the same scenario with no benefits, channels "
        "or touches, same seed (common random numbers)",
        MONEY,
        "sum",
        needs_baseline=True,
    ),
    Kpi(
        "incremental_gmv",
        "gmv − baseline_gmv",
        MONEY,
        "sum",
        headline=True,
        needs_baseline=True,
        better="max",
    ),
    Kpi(
        "incremental_member_gmv",
        "member_gmv − baseline member_gmv",
        MONEY,
        "sum",
        needs_baseline=True,
        better="max",
    ),
    Kpi(
        "roi",
        "incremental_gmv / cost (the baseline has no cost, so this is incremental GMV per unit "
        "of incremental cost)",
        "currency per currency of cost",
        "ratio",
        headline=True,
        needs_baseline=True,
        better="max",
    ),
    Kpi(
        "new_customers",
        "Σ_d first purchases ever (by shoppers who had never bought from the store)",
        SHOPPERS,
        "sum",
        reported=False,
    ),
    Kpi(
        "old_customers",
        "orders − new_customers (purchases by shoppers who had bought before)",
        "orders",
        "sum",
        reported=False,
    ),
    Kpi(
        "old_customer_share",
        "old_customers / orders (on one day: the share of that day's buyers who had bought before)",
        SHARE,
        "ratio",
        reported=False,
    ),
    Kpi(
        "old_member_order_share",
        "Σ_d orders by old members / orders (on one day: the share of that day's buyers who "
        "were members before the campaign)",
        SHARE,
        "ratio",
        reported=False,
    ),
)
BY_NAME = {k.name: k for k in REGISTRY}


def check_registry() -> None:
    """Refuse a registry with a repeated name or an unknown aggregate (checked at import)."""
    if len(BY_NAME) != len(REGISTRY):
        raise ValueError("a KPI name appears twice in the registry")
    for k in REGISTRY:
        if k.aggregate not in AGGREGATES or k.better not in ("max", "min", None):
            raise ValueError(f"KPI {k.name}: aggregate {k.aggregate!r}, better {k.better!r}")


check_registry()


def find(name: str) -> Kpi | None:
    """The registry entry of a KPI key (cost_benefit_coupon -> cost_benefit_<benefit>)."""
    if name in BY_NAME:
        return BY_NAME[name]
    for k in REGISTRY:
        if k.per is not None:
            head, tail = k.name.split(f"<{k.per}>")
            if name.startswith(head) and name.endswith(tail) and len(name) > len(head + tail):
                return k
    return None


def expand_names(
    benefits: Iterable[str], channels: Iterable[str], *, baseline: bool = True
) -> list[str]:
    """The keys of `compute_kpis` for a scenario's benefits and channels, in kpis.json order.

    baseline: include the KPIs computed against the no-campaign run.
    """
    benefits, channels = list(benefits), list(channels)
    return [
        name
        for k in REGISTRY
        if k.reported and (baseline or not k.needs_baseline)
        for name in k.names(benefits, channels)
    ]
