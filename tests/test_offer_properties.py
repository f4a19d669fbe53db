"""Settling an order under random offer terms: the engine equals the reference; money adds up.

For any mix of coupons (amount or percent off, with thresholds), member and early-bird prices,
platform discounts, gifts and points a shopper may hold, and any basket and price sensitivity:
the engine's `offers.settle` and the reference model's `offers.settle` (written from the docs)
give the same list value, amount paid, held offers and counters; what is paid is between 0 and
the list value, which is at least the basket; the discounts booked are the list value minus
what is paid; one coupon and one price at most are redeemed.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from helpers import BASE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.domain.benefits import COUPON, PRICE
from simulator.engine.counters import Layout
from simulator.engine.kernel import Counters
from simulator.engine.offers import settle
from simulator.engine.plan import compile_plan
from simulator.engine.population import resolve_params
from simulator.engine.reference.model import as_lists
from simulator.engine.reference.offers import settle as reference_settle
from simulator.scenario.load import validate_data

money = st.sampled_from([0, 5, 10, 20, 30, 50, 99, 150, 199, 300])
coupon = st.fixed_dictionaries(
    {
        "type": st.just("member_coupon"),
        "offer": st.one_of(
            st.fixed_dictionaries({"amount_off": money, "min_spend": money}),
            st.fixed_dictionaries(
                {"percent_off": st.sampled_from([0.05, 0.1, 0.3]), "min_spend": money}
            ),
        ),
    }
)
price = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["member_price", "early_bird_price"]),
        "offer": st.fixed_dictionaries({"percent_off": st.sampled_from([0.0, 0.05, 0.1, 0.9])}),
    }
)
platform = st.fixed_dictionaries(
    {
        "type": st.just("platform_discount"),
        "offer": st.fixed_dictionaries(
            {"amount_off": money, "per_spend": st.sampled_from([100, 300])}
        ),
    }
)
gift = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["lockin_gift", "presale_gift", "challenge_plan", "member_day"]),
        "offer": st.fixed_dictionaries({"gift_value": money, "min_spend": money}),
    }
)
points = st.fixed_dictionaries(
    {
        "type": st.just("points"),
        "offer": st.fixed_dictionaries(
            {
                "points_per_yuan": st.sampled_from([0, 1, 2]),
                "point_value": st.sampled_from([0.005, 0.01]),
            }
        ),
    }
)
benefit_lists = st.lists(st.one_of(coupon, price, platform, gift, points), min_size=1, max_size=8)


def settle_both(benefits: list[dict], usable_mask: int, basket: float, sensitivity: float):
    """Settle one order in the engine and in the reference; their (list, paid, held, counters)."""
    data = {
        **BASE,
        "benefits": {f"b{k}": b for k, b in enumerate(benefits)},
        "channels": {},
        "plan": {},
    }
    sc = validate_data(data)
    plan = compile_plan(sc)
    params = resolve_params(sc.population)
    layout = Layout(tuple(sc.benefits), (), ())
    usable = [b for b in range(len(benefits)) if usable_mask >> b & 1]
    held = np.uint32(sum(1 << b for b in usable))
    counts = np.zeros(layout.n_int, np.int64)
    amounts = np.zeros(layout.n_float)
    counters = Counters(counts, amounts, layout.blocks)
    engine = settle(
        plan, params, counters, np.uint32(sum(1 << b for b in usable)), basket, sensitivity, held
    )
    model = SimpleNamespace(
        plan=as_lists(plan),
        params=as_lists(params),
        layout=layout,
        ints=[0] * layout.n_int,
        floats=[0.0] * layout.n_float,
    )
    shopper = SimpleNamespace(model=model, benefits_held=set(usable))
    x, paid = reference_settle(shopper, usable, basket, sensitivity)
    reference = (x, paid, sum(1 << b for b in shopper.benefits_held), model)
    return engine, (counters, layout), reference


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    benefits=benefit_lists,
    usable_mask=st.integers(0, 255),
    basket=st.floats(1.0, 2000.0),
    sensitivity=st.sampled_from([0.2, 1.0, 3.0]),
)
def test_settlement_matches_the_reference_and_adds_up(benefits, usable_mask, basket, sensitivity):
    (x, paid, held), (counters, layout), (rx, rpaid, rheld, model) = settle_both(
        benefits, usable_mask, basket, sensitivity
    )
    assert (x, paid, int(held)) == (rx, rpaid, rheld)
    np.testing.assert_array_equal(counters.counts, model.ints)
    np.testing.assert_allclose(counters.amounts, model.floats, rtol=1e-12, atol=0)
    assert x >= basket and 0.0 <= paid <= x
    discounts = layout.by_benefit(counters.amounts, layout.discount_by_benefit)
    assert (discounts >= 0).all()
    assert abs(discounts.sum() - (x - paid)) <= 1e-9 * x
    redeemed = layout.by_benefit(counters.counts, layout.redemptions_by_benefit)
    kinds = compile_plan(
        validate_data(
            {
                **BASE,
                "benefits": {f"b{k}": b for k, b in enumerate(benefits)},
                "channels": {},
                "plan": {},
            }
        )
    ).ben_offer
    assert redeemed[kinds == COUPON].sum() <= 1 and redeemed[kinds == PRICE].sum() <= 1
    if usable_mask & ((1 << len(benefits)) - 1) == 0:
        assert x == paid == basket and not redeemed.any()
