"""The platform's KPIs, each a small pure function of a run's daily counters.

Their names, exact formulas (as docs/kpis.md shows them) and uses are in the registry,
`kpi_registry.REGISTRY`, whose order is the order of `kpis.json`. A ratio whose denominator is
zero is None (null in JSON), never 0 or NaN.
"""

from __future__ import annotations

from simulator.analysis.kpi_registry import REGISTRY, expand_names
from simulator.domain.lifecycle import STATES
from simulator.engine.run import RunResult

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


def compute_kpis(run: RunResult, baseline: RunResult | None = None) -> dict[str, float | None]:
    """Every reported KPI of a run, in registry order; incremental ones need the baseline run."""
    old, new, non = gmv_parts(run)
    gmv = old + new + non
    member_gmv = old + new
    new_members = int(run.total("enrolments"))
    member_buyers = int(run.total("new_member_buyers"))
    old_buyers = int(run.total("new_old_member_buyers"))
    non_buyers = int(run.total("new_nonmember_buyers"))
    member_arpu = ratio(member_gmv, member_buyers)
    old_arpu = ratio(old, old_buyers)
    non_arpu = ratio(non, non_buyers)
    p_old, p_new, p_non = gmv_parts(run, run.presale)
    lay = run.layout
    benefit_cost = float(run.daily_float[:, lay.cost_by_benefit : lay.cost_by_channel].sum())
    contact_cost = float(run.daily_float[:, lay.cost_by_channel : lay.cost_by_touch].sum())
    cost = benefit_cost + contact_cost
    k: dict[str, float | None] = {
        "gmv": gmv,
        "member_gmv": member_gmv,
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
        "cost": cost,
        "benefit_cost": benefit_cost,
        "contact_cost": contact_cost,
    }
    for b in lay.benefits:
        k[f"cost_benefit_{b}"] = float(run.total(f"cost_benefit_{b}"))
    for c in lay.channels:
        k[f"cost_channel_{c}"] = float(run.total(f"cost_channel_{c}"))
    k["new_members_organic"] = int(run.total("enrolments_organic"))
    for c in lay.channels:
        k[f"new_members_channel_{c}"] = int(run.total(f"enrolments_channel_{c}"))
    for s in STATES:
        k[f"final_{s}"] = int(run.series(s)[-1])
    if baseline is not None:
        parts = gmv_parts(baseline)
        k.update(incremental(k, sum(parts), sum(parts[:2])))
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


def incremental(k: dict, base_gmv: float, base_member_gmv: float) -> dict:
    """KPIs against the no-campaign counterfactual: baseline_gmv, incremental GMV, ROI.

    k: a run's KPIs (gmv, member_gmv, cost); the baseline's GMV and member GMV.
    """
    return {
        "baseline_gmv": base_gmv,
        "incremental_gmv": k["gmv"] - base_gmv,
        "incremental_member_gmv": k["member_gmv"] - base_member_gmv,
        "roi": ratio(k["gmv"] - base_gmv, k["cost"]),
    }


def kpi_names(scenario) -> list[str]:
    """Every KPI name a run of the scenario with its baseline reports, in `compute_kpis` order."""
    return expand_names(scenario.benefits, scenario.channels)
