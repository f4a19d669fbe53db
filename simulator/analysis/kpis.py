"""The platform's KPIs, each a small pure function of a run's daily counters.

Their names, exact formulas (as docs/kpis.md shows them) and uses are in the registry,
`kpi_registry.REGISTRY`, whose order is the order of `kpis.json`. A ratio whose denominator is
zero is None (null in JSON), never 0 or NaN.
"""

from __future__ import annotations

import numpy as np

from simulator.analysis.kpi_registry import REGISTRY, expand_names
from simulator.analysis.kpi_spec import WINDOW
from simulator.domain.lifecycle import STATES
from simulator.engine.counters import NEED_COUNTERS, WINDOW_BUYERS
from simulator.engine.run import RunResult
from simulator.engine.steps import MAX_ORDERS

# KPIs of a scenario with its baseline, in the order tables show them
HEADLINE = tuple(k.name for k in REGISTRY if k.headline)


def ratio(num: float, den: float) -> float | None:
    """Num / den, or None when den is zero."""
    return float(num) / float(den) if den else None


# distinct buyers over the whole calendar: the daily counters of first purchases of the campaign
CALENDAR_BUYERS = {
    "member_buyers": "new_member_buyers",
    "old_member_buyers": "new_old_member_buyers",
    "joined_buyers": "new_joined_buyers",
    "non_member_buyers": "new_nonmember_buyers",
    "buyers": "new_buyers",
}


def total(run: RunResult, name: str, days) -> float:
    """Sum of a daily counter over the selected days (a bool mask or a slice)."""
    return run.series(name)[days].sum()


def gmv_parts(run: RunResult, days=slice(None)) -> tuple[float, float, float]:
    """GMV of old members, new members and non-members over the selected days."""
    return (
        float(total(run, "gmv_old_member", days)),
        float(total(run, "gmv_new_member", days)),
        float(total(run, "gmv_nonmember", days)),
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


def money(run: RunResult, days=slice(None)) -> dict[str, float | None]:
    """GMV paid and at list price, discounts, costs and profit over the days (docs/kpis.md).

    Price reductions are discounts, not costs: they are already out of the paid GMV. Profit
    needs the scenario's `margin` (gross margin at list price) and is None without it.
    `cost_to_date` is the cost from the first day to the last selected one.
    """
    lay = run.layout
    old, new, non = gmv_parts(run, days)
    gmv_list = float(total(run, "gmv_list", days))
    discounts = float(daily_discounts(run)[days].sum())
    benefit_cost = float(lay.benefit_cost(run.daily_float[days]).sum())
    contact_cost = float(lay.contact_cost(run.daily_float[days]).sum())
    cost = benefit_cost + contact_cost
    last = np.arange(len(run.dates))[days][-1]  # the last day measured
    margin = run.scenario.margin
    return {
        "gmv": old + new + non,
        "gmv_list": gmv_list,
        "discounts": discounts,
        "member_gmv": old + new,
        "cost": cost,
        "benefit_cost": benefit_cost,
        "contact_cost": contact_cost,
        "cost_to_date": float(
            lay.benefit_cost(run.daily_float[: last + 1]).sum()
            + lay.contact_cost(run.daily_float[: last + 1]).sum()
        ),
        "profit": None if margin is None else margin * gmv_list - discounts - cost,
    }


def per_benefit(run: RunResult, days) -> dict[str, float | None]:
    """Per benefit over the days: cost, discount, grants, redemptions and redemption rate."""
    k: dict[str, float | None] = {}
    for b in run.layout.benefits:
        grants = int(total(run, f"grants_benefit_{b}", days))
        redemptions = int(total(run, f"redemptions_benefit_{b}", days))
        k[f"cost_benefit_{b}"] = float(total(run, f"cost_benefit_{b}", days))
        k[f"discount_benefit_{b}"] = float(total(run, f"discount_benefit_{b}", days))
        k[f"grants_benefit_{b}"] = grants
        k[f"redemptions_benefit_{b}"] = redemptions
        k[f"redemption_rate_benefit_{b}"] = ratio(redemptions, grants)
    return k


def calendar_buyers(run: RunResult) -> dict[str, int]:
    """Distinct buyers of each kind over the whole calendar (first purchases of the campaign)."""
    return {kind: int(run.total(counter)) for kind, counter in CALENDAR_BUYERS.items()}


def window_buyers(run: RunResult, name: str) -> dict[str, int]:
    """Distinct buyers of each kind in KPI window `name` (its `buyers_by_window` slots)."""
    lay = run.layout
    first = lay.buyers_by_window + len(WINDOW_BUYERS) * lay.windows.index(name)
    totals = run.daily_int[:, first : first + len(WINDOW_BUYERS)].sum(axis=0)
    return {kind: int(x) for kind, x in zip(WINDOW_BUYERS, totals, strict=True)}


def window_days(run: RunResult, name: str) -> np.ndarray:
    """Bool mask of the run's days inside KPI window `name`."""
    first, last = run.scenario.window_range(name)
    return np.array([first <= d <= last for d in run.dates], bool)


def kpis_over(run: RunResult, days: np.ndarray, buyers: dict[str, int]) -> dict:
    """Every KPI of a run over a set of days (bool mask), but those against the baseline.

    Sums and ratios of sums are over the days; distinct-buyer KPIs come from `buyers` (counted
    per window by the kernel: distinct buyers do not add up over days); state counts are at
    the end of the last selected day.
    """
    old, new, non = gmv_parts(run, days)
    m = money(run, days)
    gmv, member_gmv = m["gmv"], m["member_gmv"]
    new_members = int(total(run, "enrolments", days))
    member_arpu = ratio(member_gmv, buyers["member_buyers"])
    old_arpu = ratio(old, buyers["old_member_buyers"])
    non_arpu = ratio(non, buyers["non_member_buyers"])
    presale_member = float(total(run, "presale_gmv_member", days))
    presale_gmv = presale_member + float(total(run, "presale_gmv_nonmember", days))
    paid = int(total(run, "balances_paid", days))
    buyer_days = int(total(run, "buyer_days", days))
    cap_days = int(total(run, "order_cap_days", days))
    last = np.flatnonzero(days)[-1]
    k: dict[str, float | None] = {
        **m,
        "old_member_gmv": old,
        "new_member_gmv": new,
        "non_member_gmv": non,
        "member_gmv_penetration": ratio(member_gmv, gmv),
        "new_members": new_members,
        "new_member_first_purchase_rate": ratio(buyers["joined_buyers"], new_members),
        "old_member_gmv_share": ratio(old, gmv),
        "member_buyers": buyers["member_buyers"],
        "old_member_buyers": buyers["old_member_buyers"],
        "non_member_buyers": buyers["non_member_buyers"],
        "member_arpu": member_arpu,
        "old_member_arpu": old_arpu,
        "non_member_arpu": non_arpu,
        "old_member_premium": (old_arpu / non_arpu - 1.0) if old_arpu and non_arpu else None,
        "presale_member_gmv_share": ratio(presale_member, presale_gmv),
        "deposits": int(total(run, "deposits", days)),
        "deposit_amount": float(total(run, "deposit_amount", days)),
        "presale_orders_paid": paid,
        "presale_gmv": presale_gmv,
        "payment_rate": ratio(paid, total(run, "balances_due", days)),
        "forfeits": int(total(run, "balances_forfeited", days)),
        "deposit_forfeited": float(total(run, "deposit_forfeited", days)),
        "active_members": int(run.series("first_purchase")[last] + run.series("repeat")[last]),
        "buyers": buyers["buyers"],
        "orders": int(run.daily_orders()[days].sum()),
        "visits": int(total(run, "visits", days)),
        "contacts": int(total(run, "contacts", days)),
        "reactivations": int(total(run, "reactivations", days)),
        "buyer_days": buyer_days,
        "multi_order_share": ratio(total(run, "multi_order_days", days), buyer_days),
        "order_cap_days": cap_days,
        "order_cap_share": ratio(cap_days, buyer_days),
        **{n: int(total(run, n, days)) for n in NEED_COUNTERS},
        "stock_left": int(total(run, "bought_ahead", days) - total(run, "needs_from_stock", days)),
        **per_benefit(run, days),
    }
    for c in run.layout.channels:
        k[f"cost_channel_{c}"] = float(total(run, f"cost_channel_{c}", days))
    k["new_members_organic"] = int(total(run, "enrolments_organic", days))
    for c in run.layout.channels:
        k[f"new_members_channel_{c}"] = int(total(run, f"enrolments_channel_{c}", days))
    for s in STATES:
        k[f"final_{s}"] = int(run.series(s)[last])
    return k


def compute_kpis(run: RunResult, baseline: RunResult | None = None) -> dict[str, float | None]:
    """Every reported KPI of a run, in registry order, then each KPI window's (flat keys).

    The whole calendar's KPIs come first; window w's follow as `window.<w>.<kpi>`, the same
    function (`kpis_over`) on the window's days. Incremental ones need the baseline run.
    """
    every_day = np.ones(len(run.dates), bool)
    parts = {"": (every_day, calendar_buyers(run))}
    for name in run.layout.windows:
        days = window_days(run, name)
        if days.any():  # a run sliced to some days (a targets fit) may miss a window
            parts[f"{WINDOW}{name}."] = (days, window_buyers(run, name))
    lay = run.layout
    names = expand_names(lay.benefits, lay.channels, baseline=baseline is not None)
    out: dict[str, float | None] = {}
    for prefix, (days, buyers) in parts.items():
        k = kpis_over(run, days, buyers)
        if baseline is not None:
            k.update(incremental(k, money(baseline, days)))
        ordered = {name: k.pop(name) for name in names}
        if k:  # a formula without a registry entry would be missing from docs and tables
            raise KeyError(f"KPIs missing from kpi_registry.REGISTRY: {', '.join(k)}")
        out.update({prefix + name: v for name, v in ordered.items()})
    return out


def split_windows(k: dict) -> dict[str, dict]:
    """Flat KPIs by part: "" for the whole calendar, else the window's name."""
    parts: dict[str, dict] = {"": {}}
    for key, value in k.items():
        name, kpi = key.removeprefix(WINDOW).split(".", 1) if key.startswith(WINDOW) else ("", key)
        parts.setdefault(name, {})[kpi] = value
    return parts


def nested(k: dict) -> dict:
    """Flat KPIs as `kpis.json` has them: the whole calendar's, then "windows": {name: {...}}."""
    parts = split_windows(k)
    top = parts.pop("")
    return {**top, "windows": parts} if parts else top


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

    k: a run's KPIs over some days; base: the baseline run's over the same days (`money`, or its
    `compute_kpis`); each needs gmv, member_gmv, profit and (k) cost and cost_to_date.
    Incremental profit is None without a margin. roi books the cost of the same days;
    roi_to_date the cost from the calendar's start (docs/kpis.md, "KPI windows").
    """
    with_margin = k["profit"] is not None and base["profit"] is not None
    return {
        "baseline_gmv": base["gmv"],
        "baseline_profit": base["profit"],
        "incremental_gmv": k["gmv"] - base["gmv"],
        "incremental_member_gmv": k["member_gmv"] - base["member_gmv"],
        "incremental_profit": k["profit"] - base["profit"] if with_margin else None,
        "roi": ratio(k["gmv"] - base["gmv"], k["cost"]),
        "roi_to_date": ratio(k["gmv"] - base["gmv"], k["cost_to_date"]),
    }


def with_incremental(k: dict, base: dict) -> dict:
    """Flat KPIs (`compute_kpis`) with their increments against a baseline run's flat KPIs.

    For the whole calendar and each window the baseline has too (it needs gmv, member_gmv and
    profit of each).
    """
    out = dict(k)
    base_parts = split_windows(base)
    for name, part in split_windows(k).items():
        if name in base_parts:
            prefix = f"{WINDOW}{name}." if name else ""
            out.update({prefix + x: v for x, v in incremental(part, base_parts[name]).items()})
    return out


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
    """Every KPI name a run of the scenario with its baseline reports, in `compute_kpis` order.

    The whole calendar's, then each KPI window's (window.<name>.<kpi>).
    """
    names = expand_names(scenario.benefits, scenario.channels)
    return names + [f"{WINDOW}{w}.{n}" for w in scenario.windows for n in names]
