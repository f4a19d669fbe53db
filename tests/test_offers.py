"""Offers behave like offers: depth, thresholds, redemption, combination, audiences, no ceiling.

The checks of issue 14 on the shipped Double 11 scenario (docs/model.md, "Offers"): a 0-yuan
coupon is no coupon, a deeper coupon sells more with diminishing returns, holding is not using,
the combination rules bound what a shopper holding everything gets, SMS-sensitive shoppers
respond to SMS, segments tied to behaviour differ like real targeted groups, and orders follow
traffic on the peak day with no ceiling.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from simulator.analysis.kpis import compute_kpis
from simulator.domain.benefits import BENEFIT_TYPES, PLATFORM, PRICE
from simulator.domain.benefits import COUPON as COUPON_CLASS
from simulator.domain.lifecycle import ALIVE, PROSPECT, REPEAT, SEGMENTS
from simulator.engine import offers
from simulator.engine.counters import Layout
from simulator.engine.model import PromotionModel
from simulator.engine.plan import compile_plan
from simulator.engine.population import resolve_params
from simulator.engine.reference.model import as_lists
from simulator.engine.reference.offers import settle
from simulator.engine.run import no_campaign, simulate
from simulator.scenario.load import load_scenario
from tests.helpers import ROOT, SCENARIOS

DOUBLE11 = ROOT / "scenarios" / "double11_2021.yaml"
COUPON = "benefits.member_coupon.offer.amount_off"


def double11(**overrides):
    """The shipped Double 11 scenario with dotted-path overrides."""
    return load_scenario(DOUBLE11, overrides)


def assert_same_counters(a, b) -> None:
    """Two runs counted exactly the same, every day and every counter."""
    np.testing.assert_array_equal(a.daily_int, b.daily_int)
    np.testing.assert_array_equal(a.daily_float, b.daily_float)


def test_a_zero_yuan_coupon_changes_nothing_and_costs_nothing():
    """Held but worth nothing: the same run as a coupon that is never usable."""
    free = simulate(double11(**{COUPON: 0}), shoppers=20_000)
    never = simulate(
        double11(**{COUPON: 0, "benefits.member_coupon.online": {"dates": ["2021-09-01"]}}),
        shoppers=20_000,
    )
    assert free.total("grants_benefit_member_coupon") > 1000  # it was handed over
    assert free.total("redemptions_benefit_member_coupon") == 0
    assert free.total("discount_benefit_member_coupon") == 0
    assert free.total("cost_benefit_member_coupon") == 0
    assert_same_counters(free, never)


def test_deeper_coupon_sells_more_with_diminishing_returns():
    """Under common random numbers, orders rise with depth and each 20 yuan adds fewer; paid
    GMV rises then flattens (discounts eat it); incremental profit falls at the deep end.

    Over the campaign alone a coupon's profit peaks at a positive depth (measured at 40,000
    shoppers: 15 yuan); the post-sale horizon gives back what deeper coupons pulled forward
    (docs/model.md, "Need and anticipation"), so over the whole calendar every depth earns less
    than over the campaign, and the best depth is shallower (0-15 yuan, nearly flat).
    """
    sc = double11()
    base = simulate(no_campaign(sc), shoppers=40_000)
    orders, gmv, profit, campaign = [], [], [], []
    for depth in (0, 20, 40, 60):
        run = simulate(double11(**{COUPON: depth}), shoppers=40_000)
        orders.append(sum(run.total(name) for name in ORDERS))
        kpis = compute_kpis(run, base)
        gmv.append(kpis["incremental_gmv"])
        profit.append(kpis["incremental_profit"])
        campaign.append(kpis["window.campaign.incremental_profit"])
    gains = np.diff(orders)
    assert (gains > 0).all() and (np.diff(gains) < 0).all(), orders
    assert gmv[1] > gmv[0] and gmv[3] - gmv[2] < gmv[1] - gmv[0], gmv
    assert profit[3] < profit[2] < profit[1], profit
    assert all(p < c for p, c in zip(profit, campaign, strict=True)), (profit, campaign)


def test_response_curve_saturates_and_is_zero_without_depth():
    """The offers' log-odds: 0 at no depth, concave in depth, never above the cap."""
    sc = double11()
    plan = compile_plan(sc)
    params = resolve_params(sc.population)
    b = list(sc.benefits).index("member_coupon")
    values = []
    for amount in (0.0, 20.0, 40.0, 80.0, 160.0, 1e6):
        plan.ben_amount[b] = amount
        values.append(offers.purchase_log_odds(plan, params, np.uint32(1 << b), 1.0, 160.0))
    assert values[0] == 0.0
    gains = np.diff(values[:5])
    assert (gains > 0).all() and (np.diff(gains) < 0).all(), values
    assert values[-1] <= params.max_log_odds


def test_holding_every_benefit_stays_within_the_documented_bounds():
    """Conversion at most sigmoid(logit(c) + max_log_odds) / c; cost share at most 45%.

    docs/model.md ("Combination"): one store coupon, one price, the platform discount, gifts
    and points, whatever the shopper holds (the issue measured 4.17x and 36% before the rules).
    """
    sc = double11()
    plan = compile_plan(sc)
    params = resolve_params(sc.population)
    every = np.uint32((1 << len(sc.benefits)) - 1)
    c = params.conversion
    bound = 1.0 / (1.0 + math.exp(-(params.logit_conversion + params.max_log_odds))) / c
    for sensitivity in (0.2, 1.0, 5.0):
        log_odds = offers.purchase_log_odds(plan, params, every, sensitivity, 160.0)
        assert offers.buy_chance(params, log_odds) / c <= bound + 1e-12
    assert bound < 3.6  # documented: at most 3.5x for conversion 0.08 and a cap of 1.5
    plan = as_lists(plan)
    for basket in (50.0, 99.0, 160.0, 199.0, 250.0, 650.0):
        share, x = cost_share(sc, basket)
        assert share <= cost_share_bound(plan, x) + 1e-12, basket
    assert cost_share_bound(plan, 199.0) < 0.67  # the figure in docs/model.md ("Combination")


def cost_share_bound(plan, x: float) -> float:
    """docs/model.md's bound on the discounts, gifts and points of an order of list value x:
    best percent + best coupon (amount / threshold + percent) + platform amount / per_spend,
    at most 1, plus every gift's value / x, plus the points' cost rate."""
    kinds = plan.ben_offer
    price = max([p for p, k in zip(plan.ben_percent, kinds, strict=True) if k == PRICE] + [0])
    coupon = max(
        [
            a / max(x, m) + p
            for a, p, m, k in zip(
                plan.ben_amount, plan.ben_percent, plan.ben_min_spend, kinds, strict=True
            )
            if k == COUPON_CLASS
        ]
        + [0]
    )
    platform = sum(
        a / s
        for a, s, k in zip(plan.ben_amount, plan.ben_per_spend, kinds, strict=True)
        if k == PLATFORM
    )
    return min(1.0, price + coupon + platform) + sum(plan.ben_gift) / x + sum(plan.ben_point_cost)


def cost_share(sc, basket: float) -> float:
    """(discounts, gifts and points as a share of list value, list value) of one order by a
    shopper holding every benefit: the reference model's settlement (the documented rules)."""
    model = SimpleNamespace(
        plan=as_lists(compile_plan(sc)),
        params=as_lists(resolve_params(sc.population)),
        layout=Layout(tuple(sc.benefits), (), ()),
    )
    model.ints = [0] * model.layout.n_int
    model.floats = [0.0] * model.layout.n_float
    shopper = SimpleNamespace(model=model, benefits_held=set(range(len(sc.benefits))))
    x, paid = settle(shopper, list(range(len(sc.benefits))), basket, 1.0)
    assert x >= basket and 0.0 <= paid <= x  # a top-up only adds; never below 0
    floats, lay = np.array(model.floats), model.layout
    given = lay.benefit_cost(floats) + lay.by_benefit(floats, lay.discount_by_benefit).sum()
    return given / x, x


def test_redemptions_are_fewer_than_purchases_by_holders():
    """A holder's order redeems only if it meets the threshold: some holders buy without it."""
    sc = double11()
    model = PromotionModel(sc, shoppers=30_000)
    b = list(sc.benefits).index("member_coupon")
    bit = np.uint32(1 << b)
    redeemed = bought = 0
    while model.running:
        d = model.day + 1
        holders = (model.shoppers.held & bit) != 0
        online = bool(model.plan.online[d] & bit)
        model.step()
        if online:
            bought += int((holders & (model.shoppers.last_purchase == d)).sum())
            redeemed += int(model.today_int[column(model, "redemptions_benefit_member_coupon")])
    assert 0 < redeemed < bought, (redeemed, bought)


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_coupon_touches_redeem_at_real_rates(path):
    """Coupons handed over by touches redeem 5-30% of grants (issue 14; real targeted grocery
    campaigns redeem 6-19% of targeted households, docs/model.md "Redemption")."""
    sc = load_scenario(path)
    run = simulate(sc, shoppers=100_000, base_dir=path.parent)
    pushed = {t.benefit for t in sc.plan.values()}
    coupons = [
        name
        for name, b in sc.benefits.items()
        if name in pushed and BENEFIT_TYPES[b.type].offer == "coupon"
    ]
    for name in coupons:
        grants = run.total(f"grants_benefit_{name}")
        assert grants > 0, name  # a coupon a touch pushes is handed over
        rate = run.total(f"redemptions_benefit_{name}") / grants
        assert 0.05 <= rate <= 0.30, (name, rate)
    assert coupons or not sc.plan  # every campaign scenario has one to check


def sms_audience(audience: str):
    """Double 11 with one SMS coupon touch to `audience`, at no capacity limit.

    `group_member` is drawn independently of behaviour in the same states as `sms_sensitive`,
    with the same share: a random audience of the same size.
    """
    sc = double11(
        **{
            "population.segments.group_member": {
                "share": 0.2,
                "states": ["nonmember_buyer", "first_purchase", "repeat", "dormant"],
            },
            "channels.sms.daily_capacity": None,
            "channels.sms.frequency_cap": None,
            "plan": {
                "coupon_sms": {
                    "channel": "sms",
                    "benefit": "member_coupon",
                    "audience": [audience],
                    "when": {"dates": ["2021-11-10", "2021-11-11"]},
                }
            },
        }
    )
    return sc


def test_sms_sensitive_shoppers_respond_more_to_the_same_coupon():
    """Same coupon, same channel, same audience size: more incremental GMV per contact."""
    per_contact = {}
    for audience in ("sms_sensitive", "group_member"):
        run = simulate(sms_audience(audience), shoppers=100_000)
        platform_only = simulate(
            sms_audience(audience).model_copy(update={"plan": {}}), shoppers=100_000
        )
        contacts = run.total("contacts")
        gain = run.daily_gmv().sum() - platform_only.daily_gmv().sum()
        per_contact[audience] = gain / contacts
        assert contacts > 0
    assert per_contact["sms_sensitive"] > 1.5 * per_contact["group_member"], per_contact


def test_high_value_is_the_top_share_by_spend_rate():
    """`by: spend_rate` picks the share of repeat members with the highest rate x basket."""
    sc = double11()
    model = PromotionModel(sc, shoppers=200_000)
    s = model.shoppers
    repeat = s.state == REPEAT
    g = SEGMENTS.index("high_value")
    inside = repeat & ((s.segments >> g) & 1 == 1)
    n = int(repeat.sum())
    share = inside.sum() / n
    assert abs(share - 0.15) < 4 * math.sqrt(0.15 * 0.85 / n)
    params = model.params
    others = np.ones(len(s.state))  # the rate multipliers of the shoppers' other segments
    for k, mult in enumerate(params.seg_rate):
        others = np.where((s.segments >> k) & 1 == 1, others * mult, others)
    spend = s.rate.astype(float) / others * s.basket_scale
    assert spend[inside].min() >= spend[repeat & ~inside].max() * (1 - 1e-6)
    # as in real loyalty data, the targeted group spends several times the rest before any offer
    assert spend[inside].mean() > 3 * spend[repeat & ~inside].mean()


def test_peak_day_orders_follow_traffic_without_a_ceiling():
    """No campaign: orders on 11.11 (traffic x14) match sum of rate x traffic over the active.

    The expected count is analytic (Poisson orders, mean rate x traffic per active shopper;
    dropout made negligible so that no order ends a shopper's day); the tolerance is 4 standard
    deviations of a Poisson count with that mean.
    """
    sc = no_campaign(double11(**{"population.dropout": {"a": 0.01, "b": 1000}}))
    sc = sc.model_copy(update={"benefits": {}})  # nor the platform's discount
    model = PromotionModel(sc, shoppers=200_000)
    peak = (sc.calendar.phases[4].start - sc.calendar.start).days
    while model.day + 1 < peak:
        model.step()
    s = model.shoppers
    alive = (s.flags & ALIVE) != 0
    scale = np.where(s.state == PROSPECT, model.params.prospect_scale, 1.0)
    expected = float((s.rate.astype(float) * scale)[alive].sum() * model.plan.traffic[peak])
    model.step()
    orders = sum(model.today_int[column(model, n)] for n in ORDERS)
    assert abs(orders - expected) < 4 * math.sqrt(expected), (orders, expected)
    assert model.today_int[column(model, "multi_order_days")] > 0
    assert model.today_int[column(model, "order_cap_days")] == 0


ORDERS = ("orders_old_member", "orders_new_member", "orders_nonmember")


def column(model, name: str) -> int:
    """Column of a counter in the model's rows."""
    return model.layout.columns[name][1]


def test_an_enrolment_offer_is_valid_for_its_days():
    """valid_days limits the new-member coupon to the days after enrolment; a limit longer than
    the calendar changes nothing."""
    gift = "redemptions_benefit_new_member_gift"
    runs = {
        days: simulate(double11(**{"benefits.new_member_gift.valid_days": days}), shoppers=20_000)
        for days in (1, 7, 3000)
    }
    assert 0 < runs[1].total(gift) < runs[7].total(gift) < runs[3000].total(gift)
    unlimited = simulate(
        double11(
            **{
                "benefits.new_member_gift": {
                    "type": "new_member_gift",
                    "offer": {"amount_off": 10, "min_spend": 99},
                }
            }
        ),
        shoppers=20_000,
    )
    assert_same_counters(runs[3000], unlimited)
