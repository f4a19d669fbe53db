"""The KPI registry: every KPI's name, exact formula, unit and how tables, sweeps and fits use it.

This is the one list of KPIs. `compute_kpis` (analysis/kpis.py) computes them and returns them in
this order (the order of `kpis.json`); `promosim run` shows the headline ones, `promosim compare`
the compared ones, a sweep's summary ranks points by the direction that is better, a targets fit
scales the ones that grow with the number of shoppers; the KPI table of docs/kpis.md is generated
from it (analysis/kpi_docs.py). A name with `<benefit>`, `<channel>` or `<state>` stands for one
KPI per benefit, channel (in scenario order) or lifecycle state. What an entry states is
`kpi_spec.Kpi`; the money entries (costs, discounts, offers, profit, increments) are in
`kpi_money`, placed after the activity ones.
"""

from __future__ import annotations

from collections.abc import Iterable

from simulator.analysis.kpi_money import MONEY_KPIS
from simulator.analysis.kpi_spec import AGGREGATES, MONEY, SHARE, SHOPPERS, WINDOW, Kpi

# Activity: GMV, members, buyers, orders, the daily ceiling, recruitment, final states
ACTIVITY_KPIS = (
    Kpi(
        "gmv",
        "Σ_d (old-member GMV + new-member GMV + non-member GMV): paid GMV",
        MONEY,
        "sum",
        headline=True,
        compared=True,
        better="max",
    ),
    Kpi(
        "gmv_list",
        "Σ_d value of the orders at list price (a basket topped up to a coupon's threshold with "
        "the top-up)",
        MONEY,
        "sum",
        headline=True,
        compared=True,
    ),
    Kpi(
        "discounts",
        "Σ over benefits of `discount_benefit_<benefit>` (= gmv_list − gmv)",
        MONEY,
        "sum",
        headline=True,
        compared=True,
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
        "number of enrolments on the days measured (recruitment; each shopper enrols at most once)",
        SHOPPERS,
        "sum",
        headline=True,
        compared=True,
        better="max",
    ),
    Kpi(
        "new_member_first_purchase_rate",
        "(shoppers who enrolled on the days measured and made a member purchase on them) / "
        "new_members",
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
        "distinct shoppers with ≥ 1 member purchase on the days measured",
        SHOPPERS,
        "sum",
    ),
    Kpi(
        "old_member_buyers",
        "distinct shoppers whose first member purchase on the days measured was made as an old "
        "member",
        SHOPPERS,
        "sum",
    ),
    Kpi(
        "non_member_buyers",
        "distinct shoppers with ≥ 1 non-member purchase on the days measured",
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
        "paid GMV of pre-sale balances paid by members (member status at payment) / presale_gmv "
        "(`null` when no balance was paid)",
        SHARE,
        "ratio",
        headline=True,
        compared=True,
    ),
    Kpi(
        "deposits",
        "Σ_d pre-sale orders placed on pre-sale days (a deposit each; their GMV counts when the "
        "balance is paid)",
        "orders",
        "sum",
    ),
    Kpi(
        "deposit_amount",
        "Σ over deposits of deposit_share × the order's list value (deposit GMV: not in gmv)",
        MONEY,
        "sum",
    ),
    Kpi(
        "presale_orders_paid",
        "Σ over final-payment days of shoppers who paid the balance of their deposits (one order "
        "each, in orders and gmv on the payment day)",
        "orders",
        "sum",
    ),
    Kpi(
        "presale_gmv",
        "Σ paid GMV of the pre-sale orders paid (part of gmv)",
        MONEY,
        "sum",
    ),
    Kpi(
        "payment_rate",
        "presale_orders_paid / (shoppers holding deposits on their final-payment day); "
        "paid + forfeits = due",
        SHARE,
        "ratio",
        compared=True,
        better="max",
    ),
    Kpi(
        "forfeits",
        "Σ over final-payment days of shoppers who did not pay the balance (deposits lost)",
        SHOPPERS,
        "sum",
    ),
    Kpi(
        "deposit_forfeited",
        "Σ over forfeits of deposit_share × the locked list value (not in gmv)",
        MONEY,
        "sum",
    ),
    Kpi(
        "active_members",
        "members whose state at the end of the last day measured is first_purchase or repeat "
        "(bought as a member and not yet dormant by recency)",
        SHOPPERS,
        "last_day",
        headline=True,
        compared=True,
        better="max",
    ),
    Kpi(
        "buyers",
        "distinct shoppers with ≥ 1 purchase on the days measured",
        SHOPPERS,
        "sum",
        headline=True,
        compared=True,
        better="max",
    ),
    Kpi(
        "orders",
        "number of orders (a shopper may order several times a day: multi_order_share)",
        "orders",
        "sum",
        headline=True,
        compared=True,
        better="max",
    ),
    Kpi(
        "visits",
        "Σ_d shoppers who visited the store that day (a visiting shopper-day; their orders are "
        "not limited by it)",
        "visits",
        "sum",
    ),
    Kpi("contacts", "Σ_d contacts by every channel", "contacts", "sum"),
    Kpi(
        "reactivations",
        "Σ_d latent-inactive shoppers brought back by a touch",
        SHOPPERS,
        "sum",
    ),
    Kpi("buyer_days", "Σ_d shoppers with ≥ 1 order that day", "shopper-days", "sum"),
    Kpi(
        "multi_order_share",
        "Σ_d shoppers with ≥ 2 orders that day / buyer_days",
        SHARE,
        "ratio",
        headline=True,
    ),
    Kpi(
        "order_cap_days",
        "Σ_d shoppers whose orders that day reached the cap (`MAX_ORDERS` = 100); more than 0 "
        "makes `promosim run` and `promosim compare` warn",
        "shopper-days",
        "sum",
    ),
    Kpi(
        "order_cap_share",
        "order_cap_days / buyer_days",
        SHARE,
        "ratio",
    ),
    Kpi(
        "added_orders",
        "Σ_d orders beyond the shoppers' own need: those the offers and contacts add (the need: "
        "the orders at the chance without any benefit and the visits without the contacts' lift, "
        "under the same random numbers)",
        "orders",
        "sum",
    ),
    Kpi(
        "bought_ahead",
        "Σ_d orders added by offers or contacts that were bought ahead of a later need "
        '(docs/model.md, "Need and anticipation")',
        "orders",
        "sum",
    ),
    Kpi(
        "needs_from_stock",
        "Σ_d needs met from what was bought ahead: an order that did not happen",
        "orders",
        "sum",
    ),
    Kpi(
        "stock_left",
        "bought_ahead − needs_from_stock: orders bought ahead whose need falls after the "
        "calendar (GMV moved into it from later days); over a window, the stock built up in it",
        "orders",
        "sum",
    ),
    Kpi(
        "needs_deferred",
        "Σ_d needs that waited for a held offer usable within `wait_days` but not that day",
        "orders",
        "sum",
    ),
    Kpi(
        "deferred_orders",
        "Σ_d orders of needs that waited, bought when the wait ended",
        "orders",
        "sum",
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
        "shoppers in that lifecycle state at the end of the last day measured",
        SHOPPERS,
        "last_day",
    ),
)
# Only a targets fit measures these (`compute_target_kpis`); kpis.json does not report them
TARGET_KPIS = (
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
REGISTRY = ACTIVITY_KPIS + MONEY_KPIS + TARGET_KPIS
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
    """The registry entry of a KPI key (cost_benefit_coupon -> cost_benefit_<benefit>).

    A window's KPI (window.<name>.<kpi>) is its KPI's entry.
    """
    if name.startswith(WINDOW) and name.count(".") >= 2:
        name = name.split(".", 2)[2]
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
