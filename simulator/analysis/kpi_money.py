"""The money KPIs of the registry: costs, discounts, offers per benefit, profit, increments.

GMV is paid, after every price reduction; `gmv_list` is at list price and `discounts` is the
difference, booked to the benefit that gave it. Price reductions are not costs: `cost` is what the
campaign pays on top (gifts, points, grant costs, contacts). Profit needs the scenario's `margin`.
Entries are in `kpis.json` order; `kpi_registry.REGISTRY` places them after the activity KPIs.
"""

from __future__ import annotations

from simulator.analysis.kpi_spec import MONEY, SHARE, Kpi

MONEY_KPIS = (
    Kpi(
        "cost",
        "benefit_cost + contact_cost (price reductions are not costs: they are discounts)",
        MONEY,
        "sum",
        headline=True,
        compared=True,
        better="min",
    ),
    Kpi(
        "benefit_cost",
        "Σ over benefits of `cost_benefit_<benefit>`",
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
        "cost_to_date",
        "cost from the calendar's first day to the last day measured (= cost over the whole "
        "calendar; in a window: what was spent up to its end, also before it)",
        MONEY,
        "sum",
    ),
    Kpi(
        "profit",
        "margin × gmv_list − discounts − cost, with the scenario's `margin` (gross margin at "
        "list price; `null` without it)",
        MONEY,
        "sum",
        headline=True,
        compared=True,
        better="max",
    ),
    Kpi(
        "cost_benefit_<benefit>",
        "the benefit's cost: gift_value × orders given the gift, points_per_yuan × point_value "
        "× amount paid by orders earning points, grant_cost × `grants_benefit_<benefit>`",
        MONEY,
        "sum",
        compared=True,
        better="min",
    ),
    Kpi(
        "discount_benefit_<benefit>",
        "the price reductions the benefit gave: its coupon saving, percent_off × list basket "
        "(price), amount_off per full per_spend (platform), each at most what is left to pay",
        MONEY,
        "sum",
        compared=True,
    ),
    Kpi(
        "grants_benefit_<benefit>",
        "offers handed over: a touch delivering it to a shopper not holding it, or an enrolment "
        "(`on_enrol`); one not noticed (channel `awareness`) is not held, and may be handed "
        "over again; 0 for store benefits",
        "grants",
        "sum",
    ),
    Kpi(
        "redemptions_benefit_<benefit>",
        "orders that used the benefit: its coupon or price applied, its gift given or platform "
        "discount taken, points earned, or (no offer terms) it was usable",
        "orders",
        "sum",
    ),
    Kpi(
        "redemption_rate_benefit_<benefit>",
        "`redemptions_benefit_<benefit>` / `grants_benefit_<benefit>` (`null` for store "
        "benefits, which are not granted)",
        SHARE,
        "ratio",
    ),
    Kpi(
        "cost_channel_<channel>",
        "the part of contact_cost due to that channel",
        MONEY,
        "sum",
        compared=True,
        better="min",
    ),
    Kpi(
        "baseline_gmv",
        "`gmv` of the no-campaign counterfactual: the same scenario, same seed (common random "
        "numbers) with no benefits, channels or touches but the platform's own discounts",
        MONEY,
        "sum",
        needs_baseline=True,
    ),
    Kpi(
        "baseline_profit",
        "`profit` of the no-campaign counterfactual",
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
        "incremental_profit",
        "profit − baseline_profit (`null` without a margin)",
        MONEY,
        "sum",
        headline=True,
        needs_baseline=True,
        better="max",
    ),
    Kpi(
        "roi",
        "incremental_gmv / cost (the baseline has no cost, so this is incremental GMV per unit "
        "of incremental cost); in a window, the cost booked on the window's days",
        "currency per currency of cost",
        "ratio",
        headline=True,
        needs_baseline=True,
        better="max",
    ),
    Kpi(
        "roi_to_date",
        "incremental_gmv / cost_to_date: the increment over the days measured per unit of "
        "everything spent since the calendar's start (= roi over the whole calendar; the fair "
        "ROI of a post-sale horizon or a peak day, whose GMV earlier spending bought)",
        "currency per currency of cost",
        "ratio",
        needs_baseline=True,
        better="max",
    ),
)
