"""The platform's KPIs, each a small pure function of a run's daily counters.

Their names, exact formulas (as docs/kpis.md shows them) and uses are in the registry,
`kpi_registry.REGISTRY`, whose order is the order of `kpis.json`. A ratio whose denominator is
zero is None (null in JSON), never 0 or NaN.
"""

from __future__ import annotations

import numpy as np

from simulator.analysis.kpi_registry import REGISTRY, expand_names
from simulator.domain.lifecycle import STATES
from simulator.engine.counters import NEED_COUNTERS
from simulator.engine.run import RunResult
from simulator.engine.steps import MAX_ORDERS

# KPIs of a scenario with its baseline, in the order tables show them
HEADLINE = tuple(k.name for k in REGISTRY if k.headline)


def ratio(num: float, den: float) -> float | None:
    """Num / den, or None when den is zero."""
    return float(num) / float(den) if den else None


def gmv_parts(run: RunResult, days=slice(None)) -> tuple[float, float, float]:
    """GMV of old members, new members and non-members over the selected days."""
    return (
        float(run.series("gmv_old_member")[days].sum()),
        float(run.series("gmv_new_member")[days].sum()),
        float(run.series("gmv_nonmember")[days].sum()),
    )


def daily_discounts(run: RunResult) -> np.ndarray:
    """Price reductions per day, over every benefit (= list GMV - paid GMV of the day)."""
    lay = run.layout
    return lay.by_benefit(run.daily_float, lay.discount_by_benefit).sum(axis=1)


def daily_grants_redemptions(run: RunResult) -> tuple[np.ndarray, np.ndarray]:
    """Offers handed over and benefit uses per day, over every benefit."""
    lay = run.layout
    grants = lay.by_benefit(run.daily_int, lay.grants_by_benefit).sum(axis=1)
    return grants, lay.by_benefit(run.daily_int, lay.redemptions_by_benefit).sum(axis=1)


def money(run: RunResult) -> dict[str, float | None]:
    """GMV paid and at list price, discounts, costs and profit of a run (docs/kpis.md).

    Price reductions are discounts, not costs: they are already out of the paid GMV. Profit
    needs the scenario's `margin` (gross margin at list price) and is None without it.
    """
    lay = run.layout
    old, new, non = gmv_parts(run)
    gmv_list = float(run.total("gmv_list"))
    discounts = float(daily_discounts(run).sum())
    benefit_cost = float(lay.benefit_cost(run.daily_float).sum())
    contact_cost = float(lay.contact_cost(run.daily_float).sum())
    cost = benefit_cost + contact_cost
    margin = run.scenario.margin
    return {
        "gmv": old + new + non,
        "gmv_list": gmv_list,
        "discounts": discounts,
        "member_gmv": old + new,
        "cost": cost,
        "benefit_cost": benefit_cost,
        "contact_cost": contact_cost,
        "profit": None if margin is None else margin * gmv_list - discounts - cost,
    }


def per_benefit(run: RunResult) -> dict[str, float | None]:
    """Per benefit: cost, discount, grants, redemptions and redemption rate."""
    k: dict[str, float | None] = {}
    for b in run.layout.benefits:
        grants = int(run.total(f"grants_benefit_{b}"))
        redemptions = int(run.total(f"redemptions_benefit_{b}"))
        k[f"cost_benefit_{b}"] = float(run.total(f"cost_benefit_{b}"))
        k[f"discount_benefit_{b}"] = float(run.total(f"discount_benefit_{b}"))
        k[f"grants_benefit_{b}"] = grants
        k[f"redemptions_benefit_{b}"] = redemptions
        k[f"redemption_rate_benefit_{b}"] = ratio(redemptions, grants)
    return k


def compute_kpis(run: RunResult, baseline: RunResult | None = None) -> dict[str, float | None]:
    """Every reported KPI of a run, in registry order; incremental ones need the baseline run."""
    old, new, non = gmv_parts(run)
    m = money(run)
    gmv, member_gmv = m["gmv"], m["member_gmv"]
    new_members = int(run.total("enrolments"))
    member_buyers = int(run.total("new_member_buyers"))
    old_buyers = int(run.total("new_old_member_buyers"))
    non_buyers = int(run.total("new_nonmember_buyers"))
    member_arpu = ratio(member_gmv, member_buyers)
    old_arpu = ratio(old, old_buyers)
    non_arpu = ratio(non, non_buyers)
    p_old, p_new, p_non = gmv_parts(run, run.presale)
    buyer_days = int(run.total("buyer_days"))
    cap_days = int(run.total("order_cap_days"))
    lay = run.layout
    k: dict[str, float | None] = {
        **m,
        "old_member_gmv": old,
        "new_member_gmv": new,
        "non_member_gmv": non,
        "member_gmv_penetration": ratio(member_gmv, gmv),
        "new_members": new_members,
        "new_member_first_purchase_rate": ratio(run.total("new_joined_buyers"), new_members),
        "old_member_gmv_share": ratio(old, gmv),
        "member_buyers": member_buyers,
        "old_member_buyers": old_buyers,
        "non_member_buyers": non_buyers,
        "member_arpu": member_arpu,
        "old_member_arpu": old_arpu,
        "non_member_arpu": non_arpu,
        "old_member_premium": (old_arpu / non_arpu - 1.0) if old_arpu and non_arpu else None,
        "presale_member_gmv_share": ratio(p_old + p_new, p_old + p_new + p_non),
        "active_members": int(run.series("first_purchase")[-1] + run.series("repeat")[-1]),
        "buyers": int(run.total("new_buyers")),
        "orders": int(run.daily_orders().sum()),
        "visits": int(run.total("visits")),
        "contacts": int(run.total("contacts")),
        "reactivations": int(run.total("reactivations")),
        "buyer_days": buyer_days,
        "multi_order_share": ratio(run.total("multi_order_days"), buyer_days),
        "order_cap_days": cap_days,
        "order_cap_share": ratio(cap_days, buyer_days),
        **{n: int(run.total(n)) for n in NEED_COUNTERS},
        "stock_left": int(run.total("bought_ahead") - run.total("needs_from_stock")),
        **per_benefit(run),
    }
    for c in lay.channels:
        k[f"cost_channel_{c}"] = float(run.total(f"cost_channel_{c}"))
    k["new_members_organic"] = int(run.total("enrolments_organic"))
    for c in lay.channels:
        k[f"new_members_channel_{c}"] = int(run.total(f"enrolments_channel_{c}"))
    for s in STATES:
        k[f"final_{s}"] = int(run.series(s)[-1])
    if baseline is not None:
        k.update(incremental(k, money(baseline)))
    names = expand_names(lay.benefits, lay.channels, baseline=baseline is not None)
    ordered = {name: k.pop(name) for name in names}
    if k:  # a formula without a registry entry would be missing from docs and tables
        raise KeyError(f"KPIs missing from kpi_registry.REGISTRY: {', '.join(k)}")
    return ordered


def compute_target_kpis(run: RunResult) -> dict[str, float | None]:
    """The KPIs only a targets fit measures (registry entries with `reported=False`)."""
    first = float(run.total("first_purchases"))
    orders = float(run.daily_orders().sum())
    return {
        "new_customers": first,
        "old_customers": orders - first,
        "old_customer_share": ratio(orders - first, orders),
        "old_member_order_share": ratio(run.total("orders_old_member"), orders),
    }


def incremental(k: dict, base: dict) -> dict:
    """KPIs against the no-campaign counterfactual: baseline GMV and profit, increments, ROI.

    k: a run's KPIs; base: the baseline run's (`money`, or its `compute_kpis`); each needs
    gmv, member_gmv, profit and (k) cost. Incremental profit is None without a margin.
    """
    with_margin = k["profit"] is not None and base["profit"] is not None
    return {
        "baseline_gmv": base["gmv"],
        "baseline_profit": base["profit"],
        "incremental_gmv": k["gmv"] - base["gmv"],
        "incremental_member_gmv": k["member_gmv"] - base["member_gmv"],
        "incremental_profit": k["profit"] - base["profit"] if with_margin else None,
        "roi": ratio(k["gmv"] - base["gmv"], k["cost"]),
    }


def ceiling_warning(k: dict) -> str | None:
    """A warning when shoppers' orders reached the daily cap (KPIs order_cap_*), else None.

    Purchases on those shopper-days are fewer than rate x traffic x lifts demand: the cap is
    reported, never silent (docs/kpis.md, "Orders a day").
    """
    days = k.get("order_cap_days") or 0
    if days <= 0:
        return None
    share = k.get("order_cap_share")
    of = f" ({share:.2%} of buyer-days)" if share is not None else ""
    return (
        f"warning: on {days:,.0f} shopper-days{of} a shopper's orders reached the cap of "
        f"{MAX_ORDERS} a day, so their orders are under-simulated; check purchase_rate and the "
        "traffic multipliers"
    )


def kpi_names(scenario) -> list[str]:
    """Every KPI name a run of the scenario with its baseline reports, in `compute_kpis` order."""
    return expand_names(scenario.benefits, scenario.channels)
