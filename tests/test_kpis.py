"""Each KPI formula of docs/kpis.md checked on hand-made counters; the registry and the docs."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from helpers import scenario

from simulator.analysis import kpis as kpis_module
from simulator.analysis.kpi_docs import DOCS, generated_part, kpi_tables
from simulator.analysis.kpi_registry import REGISTRY, expand_names, find
from simulator.analysis.kpis import (
    HEADLINE,
    ceiling_warning,
    compute_kpis,
    compute_target_kpis,
    kpi_names,
)
from simulator.engine.counters import Layout
from simulator.engine.run import RunResult, no_campaign, simulate
from simulator.engine.steps import MAX_ORDERS

LAYOUT = Layout(benefits=("coupon", "price"), channels=("sms",), touches=("t1",))


def fake_run(margin: float | None = 0.4, **totals) -> RunResult:
    """A two-day run of a scenario with `margin`; day 0 is pre-sale. totals: counter ->
    (day0, day1)."""
    ints = np.zeros((2, LAYOUT.n_int), np.int64)
    floats = np.zeros((2, LAYOUT.n_float))
    i_names, f_names = LAYOUT.int_names(), LAYOUT.float_names()
    for name, values in totals.items():
        if name in i_names:
            ints[:, i_names.index(name)] = values
        else:
            floats[:, f_names.index(name)] = values
    return RunResult(
        scenario=scenario(margin=margin),
        seed=0,
        shoppers=1000,
        layout=LAYOUT,
        dates=[date(2021, 11, 1) + timedelta(k) for k in range(2)],
        phases=["presale", "peak"],
        presale=np.array([True, False]),
        daily_int=ints,
        daily_float=floats,
    )


RUN_TOTALS = dict(
    # old members spend more than non-members, so old and non-member cannot be swapped unseen
    gmv_old_member=(100.0, 500.0),
    gmv_new_member=(50.0, 150.0),
    gmv_nonmember=(50.0, 350.0),
    # pre-sale balances paid on day 1 (their GMV is in the GMV above): members 90 of 120
    presale_gmv_member=(0.0, 90.0),
    presale_gmv_nonmember=(0.0, 30.0),
    deposits=(6, 0),
    deposit_amount=(36.0, 0.0),
    balances_due=(0, 5),
    balances_paid=(0, 4),
    balances_forfeited=(0, 1),
    deposit_forfeited=(0.0, 6.0),
    enrolments=(10, 30),
    new_joined_buyers=(4, 6),
    new_member_buyers=(5, 15),
    new_old_member_buyers=(3, 7),
    new_nonmember_buyers=(2, 8),
    new_buyers=(7, 20),
    orders_old_member=(4, 9),
    orders_new_member=(2, 3),
    orders_nonmember=(3, 9),
    first_purchases=(3, 5),
    first_purchase=(100, 120),
    repeat=(200, 210),
    enrolments_organic=(6, 20),
    enrolments_channel_sms=(4, 10),
    cost_benefit_coupon=(20.0, 40.0),
    cost_benefit_price=(5.0, 15.0),
    cost_channel_sms=(1.0, 9.0),
    cost_touch_t1=(1.0, 9.0),
    # list value = paid 1200 + discounts 120
    gmv_list=(220.0, 1100.0),
    discount_benefit_coupon=(10.0, 40.0),
    discount_benefit_price=(10.0, 60.0),
    grants_benefit_coupon=(30, 50),
    redemptions_benefit_coupon=(4, 16),
    redemptions_benefit_price=(5, 10),  # a store benefit: used, never granted
    buyer_days=(8, 18),
    multi_order_days=(1, 3),
    order_cap_days=(0, 2),
)
RUN = fake_run(**RUN_TOTALS)
BASE_TOTALS = dict(
    gmv_old_member=(90.0, 250.0),
    gmv_new_member=(0.0, 10.0),
    gmv_nonmember=(60.0, 300.0),
    gmv_list=(160.0, 610.0),
    discount_benefit_price=(10.0, 50.0),  # the platform's own discount stays in the baseline
)
BASE = fake_run(**BASE_TOTALS)


@pytest.fixture(scope="module")
def k():
    return compute_kpis(RUN, BASE)


def test_gmv_parts(k):
    assert k["gmv"] == 1200.0
    assert k["gmv_list"] == 1320.0
    assert k["discounts"] == 120.0 == k["gmv_list"] - k["gmv"]
    assert k["member_gmv"] == 800.0
    assert (k["old_member_gmv"], k["new_member_gmv"], k["non_member_gmv"]) == (600, 200, 400)
    assert k["member_gmv_penetration"] == 800 / 1200
    assert k["old_member_gmv_share"] == 600 / 1200


def test_members_and_buyers(k):
    assert k["new_members"] == 40
    assert k["new_member_first_purchase_rate"] == 10 / 40
    assert (k["member_buyers"], k["old_member_buyers"], k["non_member_buyers"]) == (20, 10, 10)
    assert k["buyers"] == 27
    assert k["orders"] == 30
    assert k["active_members"] == 120 + 210  # last day only


def test_arpu_and_premium(k):
    assert k["member_arpu"] == 800 / 20
    assert k["old_member_arpu"] == 600 / 10
    assert k["non_member_arpu"] == 400 / 10
    assert k["old_member_premium"] == pytest.approx(60 / 40 - 1)  # docs/kpis.md


def test_presale_kpis(k):
    """Pre-sale GMV is counted at payment: its member share is of the balances paid."""
    assert k["presale_member_gmv_share"] == 90 / 120
    assert k["presale_gmv"] == 120.0
    assert (k["deposits"], k["deposit_amount"]) == (6, 36.0)
    assert (k["presale_orders_paid"], k["forfeits"], k["deposit_forfeited"]) == (4, 1, 6.0)
    assert k["payment_rate"] == 4 / 5


def test_costs_and_roi(k):
    assert k["benefit_cost"] == 80.0  # price reductions (discount_benefit_*) are not costs
    assert k["contact_cost"] == 10.0  # channel costs only; per-touch costs are the same money
    assert k["cost"] == 90.0
    assert k["cost_benefit_coupon"] == 60.0 and k["cost_channel_sms"] == 10.0
    assert k["baseline_gmv"] == 710.0
    assert k["incremental_gmv"] == 490.0
    assert k["incremental_member_gmv"] == 800.0 - 350.0
    assert k["roi"] == 490.0 / 90.0


def test_profit(k):
    assert k["profit"] == pytest.approx(0.4 * 1320 - 120 - 90)
    assert k["baseline_profit"] == pytest.approx(0.4 * 770 - 60)  # no cost in the baseline
    assert k["incremental_profit"] == pytest.approx(k["profit"] - k["baseline_profit"])


def test_no_margin_no_profit():
    k = compute_kpis(fake_run(margin=None, **RUN_TOTALS), fake_run(margin=None, **BASE_TOTALS))
    assert k["profit"] is None and k["baseline_profit"] is None
    assert k["incremental_profit"] is None
    assert k["roi"] == 490.0 / 90.0  # GMV and ROI do not need a margin


def test_per_benefit_offers(k):
    assert (k["grants_benefit_coupon"], k["redemptions_benefit_coupon"]) == (80, 20)
    assert k["redemption_rate_benefit_coupon"] == 20 / 80
    assert k["discount_benefit_coupon"] == 50.0 and k["discount_benefit_price"] == 70.0
    assert k["cost_benefit_price"] == 20.0
    assert (k["grants_benefit_price"], k["redemptions_benefit_price"]) == (0, 15)
    assert k["redemption_rate_benefit_price"] is None  # a store benefit is not granted


def test_orders_a_day_ceiling(k):
    assert k["buyer_days"] == 26
    assert k["multi_order_share"] == 4 / 26
    assert k["order_cap_days"] == 2 and k["order_cap_share"] == 2 / 26
    warning = ceiling_warning(k)
    assert "2 shopper-days (7.69% of buyer-days)" in warning
    assert f"cap of {MAX_ORDERS} a day" in warning and "purchase_rate" in warning
    assert ceiling_warning({**k, "order_cap_days": 0}) is None
    assert f"(`MAX_ORDERS` = {MAX_ORDERS})" in find("order_cap_days").formula


def test_recruitment_by_channel(k):
    assert k["new_members_organic"] == 26 and k["new_members_channel_sms"] == 14
    assert k["new_members_organic"] + k["new_members_channel_sms"] == k["new_members"]


def test_zero_denominators_are_none():
    k = compute_kpis(fake_run())
    for name in (
        "payment_rate",
        "member_gmv_penetration",
        "member_arpu",
        "non_member_arpu",
        "old_member_premium",
        "new_member_first_purchase_rate",
        "presale_member_gmv_share",
        "multi_order_share",
        "order_cap_share",
        "redemption_rate_benefit_coupon",
    ):
        assert k[name] is None
    assert "roi" not in k  # no baseline, no incremental KPIs


def test_headline_kpis_present(k):
    assert set(HEADLINE) <= set(k)


def test_target_only_kpis():
    t = compute_target_kpis(RUN)
    assert t == {
        "new_customers": 8.0,
        "old_customers": 22.0,
        "old_customer_share": 22 / 30,
        "old_member_order_share": 13 / 30,
    }
    assert list(t) == [k.name for k in REGISTRY if not k.reported]


def test_keys_are_the_registry_in_order(k):
    assert list(k) == expand_names(LAYOUT.benefits, LAYOUT.channels)
    assert list(compute_kpis(RUN)) == expand_names(LAYOUT.benefits, LAYOUT.channels, baseline=False)
    names = kpi_names(scenario())
    assert "final_churned" in names and names[-1] == "roi_to_date"
    assert [n for n in names if n.startswith("cost_benefit_")] == [
        f"cost_benefit_{b}" for b in scenario().benefits
    ]


def test_a_formula_without_registry_entry_is_refused(monkeypatch):
    monkeypatch.setattr(kpis_module, "expand_names", lambda *a, **kw: ["gmv"])
    with pytest.raises(KeyError, match="member_gmv"):
        compute_kpis(RUN)


def test_registry_metadata():
    """What the tables, comparisons and targets fits used before the registry held it."""
    assert HEADLINE == (
        "gmv",
        "gmv_list",
        "discounts",
        "member_gmv",
        "member_gmv_penetration",
        "new_members",
        "new_member_first_purchase_rate",
        "old_member_gmv_share",
        "member_arpu",
        "non_member_arpu",
        "old_member_premium",
        "presale_member_gmv_share",
        "active_members",
        "buyers",
        "orders",
        "multi_order_share",
        "cost",
        "profit",
        "incremental_gmv",
        "incremental_profit",
        "roi",
    )
    compared = {k.name for k in REGISTRY if k.compared}
    assert compared == set(HEADLINE) - {
        "incremental_gmv",
        "incremental_profit",
        "roi",
        "multi_order_share",
    } | {
        "benefit_cost",
        "contact_cost",
        "cost_benefit_<benefit>",
        "discount_benefit_<benefit>",
        "cost_channel_<channel>",
        "payment_rate",
    }
    assert {k.name for k in REGISTRY if k.needs_baseline} == {
        "baseline_gmv",
        "baseline_profit",
        "incremental_gmv",
        "incremental_member_gmv",
        "incremental_profit",
        "roi",
        "roi_to_date",
    }
    assert {k.name for k in REGISTRY if k.intensive} == {
        "member_gmv_penetration",
        "new_member_first_purchase_rate",
        "old_member_gmv_share",
        "member_arpu",
        "old_member_arpu",
        "non_member_arpu",
        "old_member_premium",
        "presale_member_gmv_share",
        "payment_rate",
        "multi_order_share",
        "order_cap_share",
        "redemption_rate_benefit_<benefit>",
        "roi",
        "roi_to_date",
        "old_customer_share",
        "old_member_order_share",
    }


def test_find_resolves_per_name_kpis():
    assert find("gmv").name == "gmv"
    assert find("window.peak_day.gmv").name == "gmv"  # a KPI window's KPI is its KPI's
    assert find("window.sale.cost_benefit_coupon").name == "cost_benefit_<benefit>"
    assert find("cost_benefit_coupon").name == "cost_benefit_<benefit>"
    assert find("discount_benefit_coupon").name == "discount_benefit_<benefit>"
    assert find("redemption_rate_benefit_coupon").name == "redemption_rate_benefit_<benefit>"
    assert find("redemptions_benefit_coupon").name == "redemptions_benefit_<benefit>"
    assert find("new_members_channel_sms").name == "new_members_channel_<channel>"
    assert find("new_members_organic").name == "new_members_organic"
    assert find("final_repeat").per == "state"
    assert find("cost_benefit_") is None and find("contacts_touch_t1") is None


def test_docs_tables_are_the_registry():
    """docs/kpis.md shows every KPI once with the registry's formula: regenerate when this fails
    (python -m simulator.analysis.kpi_docs)."""
    text = DOCS.read_text(encoding="utf-8")
    assert generated_part(text) == kpi_tables()
    for kpi in REGISTRY:
        assert text.count(f"| `{kpi.name}` | {kpi.formula} |") == 1, kpi.name
        assert text.count(f"| `{kpi.name}` |") == 1, kpi.name


def test_money_identities_on_a_run():
    """On a simulated run: discounts = list GMV - paid GMV, price reductions are not in cost,
    profit follows its definition, and the baseline keeps (and prices in) the platform's own
    discount."""
    platform = {"type": "platform_discount", "offer": {"amount_off": 30, "per_spend": 200}}
    sc = scenario(margin=0.4, benefits={"mall": platform})  # merged with the base benefits
    run = simulate(sc, shoppers=4000)
    base = simulate(no_campaign(sc), shoppers=4000)
    k = compute_kpis(run, base)
    assert k["discounts"] > 0 and k["discount_benefit_mall"] > 0
    assert k["gmv_list"] - k["gmv"] == pytest.approx(k["discounts"], rel=1e-12)
    assert k["discounts"] == pytest.approx(
        sum(k[f"discount_benefit_{b}"] for b in sc.benefits), rel=1e-12
    )
    assert k["benefit_cost"] == pytest.approx(sum(k[f"cost_benefit_{b}"] for b in sc.benefits))
    assert k["cost"] == pytest.approx(k["benefit_cost"] + k["contact_cost"])
    assert k["cost"] == pytest.approx(run.daily_cost().sum())
    assert k["profit"] == pytest.approx(0.4 * k["gmv_list"] - k["discounts"] - k["cost"])
    b = compute_kpis(base)
    assert b["discount_benefit_mall"] > 0 and b["cost"] == 0.0
    assert k["baseline_profit"] == pytest.approx(0.4 * b["gmv_list"] - b["discounts"])
    for name in ("coupon", "winback", "lockin"):  # offers handed over are used up when redeemed
        assert 0 < k[f"redemptions_benefit_{name}"] <= k[f"grants_benefit_{name}"], name
