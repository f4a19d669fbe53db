"""The Numba engine and the plain-Mesa reference model agree shopper by shopper, day by day.

Every scenario in scenarios/ (plus a small scenario that switches on every feature the shipped ones
may leave idle: per-grant costs, birthday gifts, frequency caps, budgets on cheap channels, store
trials, heavy reactivation, days split into hours with timed touches excluding `ordered_today`)
is run over its full calendar at 2,000 shoppers by both models on the same seed. Per-shopper state
arrays must be identical after every day (floats bit for bit), integer counters identical, float
counters within 1e-9 relative (summation order may differ).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulator.domain.lifecycle import ALIVE, JOINED, OLD_MEMBER
from simulator.engine import rng
from simulator.engine.model import PromotionModel
from simulator.engine.population import draw_population
from simulator.engine.reference.model import ReferenceModel
from simulator.engine.shoppers import FIELDS, Shoppers
from simulator.scenario.load import load_scenario

SCENARIOS = sorted((Path(__file__).resolve().parent.parent / "scenarios").glob("*.yaml"))
SHOPPERS = 2000

FEATURES_YAML = """
schema_version: 2
name: every feature
seed: 99
margin: 0.4
population:
  shoppers: 100000
  mix: {prospect: 0.3, nonmember_buyer: 0.2, enrolled: 0.1, first_purchase: 0.1, repeat: 0.1,
        dormant: 0.1, churned: 0.1}
  segments:
    sms_sensitive: {share: 0.4, rate_multiplier: 1.3, price_sensitivity: 1.5}
    fan: {share: 0.5}
    iron_fan: {share: 0.1, rate_multiplier: 1.5, basket_multiplier: 1.2}
    group_member: {share: 0.3, by: purchase_rate}
    high_value: {share: 0.3, states: [repeat, dormant], by: spend_rate, basket_multiplier: 1.8,
                 price_sensitivity: 0.5}
    cart_favourite: {share: 0.3, rate_multiplier: 1.5}
    points_user: {share: 0.5, states: [enrolled, first_purchase, repeat, dormant]}
  purchase_rate: {r: 0.5, alpha: 2.0, time_unit_days: 7}
  dropout: {a: 1.0, b: 1.5, after_first_purchase: true}
  basket: {p: 0.7, q: 3.0, v: 80.0}
  prospect_rate_scale: 0.5
  conversion_per_visit: 0.2
  enrol_per_visit: 0.1
  dormant_after_days: 20
  churn_after_days: 40
  recent_buyer_days: 15
  initial_alive: {dormant: 0.3, churned: 0.05, repeat: 0.9}
  fatigue_half_life_days: 3
  offer_response: {sensitivity_sigma: 0.8, depth_scale: 0.1, max_log_odds: 1.2,
                   topup_per_yuan_saved: 4.0}
  demand_timing: {pull_forward_share: 0.4, wait_share: 0.7, wait_days: 10}
  presale: {goods_share: 0.5, deposit_share: 0.2, payment_rate: 0.7}
calendar:
  start: 2021-10-01
  end: 2021-11-30
  phases:
    - {name: a, start: 2021-10-01, end: 2021-10-31, traffic: 2.0, presale: true,
       final_payment: 2021-11-11}
    - {name: b, start: 2021-11-01, end: 2021-11-30, traffic: 5.0}
  hours: {days: [2021-11-11, 2021-11-12]}
  old_member_cutoff: 2021-10-15
windows:
  early: {start: 2021-10-01, end: 2021-10-20}
  across: {start: 2021-10-10, end: 2021-11-05}
  b: {phases: [b]}
  every_day: {phases: [a, b]}
benefits:
  lockin: {type: lockin_gift, offer: {gift_value: 12}, effects: {enrol: 2.0, reactivation: 0.3},
           grant_cost: 1.5}
  gift: {type: new_member_gift, offer: {amount_off: 10, min_spend: 49}, grant_cost: 0.5,
         valid_days: 5}
  coupon: {type: member_coupon, target: {segments: [sms_sensitive, group_member]},
           offer: {amount_off: 20, min_spend: 99}, effects: {enrol: 0.5}, online: {phases: [b]}}
  pct: {type: member_coupon, offer: {percent_off: 0.15, min_spend: 60}, online: {phases: [b]}}
  bday: {type: birthday_gift, offer: {gift_value: 5}, effects: {purchase: 0.7}}
  price: {type: member_price, offer: {percent_off: 0.05}, effects: {enrol: 0.8},
          online: {weekdays: [mon, wed, fri]}}
  early: {type: early_bird_price, offer: {percent_off: 0.08}, online: {phases: [b]}}
  platform: {type: platform_discount, offer: {amount_off: 30, per_spend: 150},
             online: {phases: [b]}}
  winback: {type: winback_coupon, offer: {amount_off: 30, min_spend: 40},
            effects: {reactivation: 0.5}}
  trial: {type: trial, delivery: store, offer: {gift_value: 8, min_spend: 20},
          effects: {enrol: 1.0}}
  points: {type: points, offer: {points_per_yuan: 2, point_value: 0.005},
           effects: {purchase: 0.05}}
  day: {type: member_day, offer: {gift_value: 3}, effects: {purchase: 0.1},
        online: {weekdays: [wed]}}
  challenge: {type: challenge_plan, offer: {gift_value: 25, min_spend: 150},
              effects: {purchase: 0.1}, online: {phases: [b]}}
  drop: {type: priority_purchase, effects: {purchase: 0.2, pull_forward: 1.0},
         online: {dates: [2021-11-11]}}
  remind: {type: payment_reminder, effects: {payment: 1.5}, online: {dates: [2021-11-11]}}
channels:
  sms: {kind: sms, cost_per_contact: 0.05, daily_capacity: 3000, frequency_cap: 3, fatigue: 0.4,
        response_lift: 0.4, response_by_segment: {sms_sensitive: 4.0, high_value: 2.0},
        awareness: 0.6}
  push: {kind: push, cost_per_contact: 0.001, frequency_cap: 5, fatigue: 0.3, response_lift: 0.25,
         awareness: 0.3}
  live: {kind: livestream, cost_per_contact: 0.01, daily_capacity: 2000, fatigue: 0.2,
         response_lift: 0.8}
  paid: {kind: paid_media, reach: [cart_favourite, fan], cost_per_contact: 0.4,
         daily_capacity: 1500, fatigue: 0.5, response_lift: 0.5}
  countdown: {kind: push, cost_per_contact: 0.002, daily_capacity: 40000, fatigue: 0.2,
              response_lift: 2.0, awareness: 0.8}
  service: {kind: paid_media, cost_per_contact: 0.02, fatigue: 0.2, awareness: 0.7}
plan:
  t1: {channel: live, benefit: lockin, audience: [fan, iron_fan], when: {weekdays: [tue, fri, sat]}}
  t2: {channel: paid, benefit: lockin, audience: [cart_favourite, fan], budget: 4000}
  t3: {channel: sms, benefit: winback, audience: [dormant, churned], budget: 300}
  t4: {channel: sms, audience: [sms_sensitive], exclude: [campaign_buyers]}
  t5: {channel: sms, benefit: coupon, audience: [members, recent_buyers]}
  t6: {channel: push, benefit: coupon, audience: [members], budget: 20}
  t6b: {channel: push, benefit: pct, audience: [high_value, points_user]}
  t7: {channel: push, benefit: winback, audience: [all]}
  t8: {channel: live, audience: [new_members, old_members, buyers]}
  t9: {channel: push, benefit: lockin, audience: [prospect, nonmember_buyer], when: {phases: [b]}}
  t20: {channel: countdown, benefit: winback, audience: [buyers, prospect],
        exclude: [ordered_today], when: {dates: [2021-11-11, 2021-11-12], hour: 20}}
  t20_ordered: {channel: countdown, audience: [ordered_today],
                when: {dates: [2021-11-11], hour: 20}}
  t23: {channel: countdown, benefit: pct, audience: [members], exclude: [ordered_today],
        when: {dates: [2021-11-12], hour: 23}}
  t10: {channel: service, benefit: remind, audience: [unpaid_deposit],
        when: {dates: [2021-11-10, 2021-11-11]}}
"""


def assert_same_state(engine: Shoppers, ref: Shoppers, when: str) -> None:
    """Every per-shopper array is identical (dtype, shape and values; floats bit for bit)."""
    for field in Shoppers._fields:
        a, b = getattr(engine, field), getattr(ref, field)
        assert a.dtype == b.dtype and a.shape == b.shape, f"{when}: {field} layout differs"
        bad = np.flatnonzero((a != b).reshape(len(a), -1).any(axis=1))
        assert bad.size == 0, (
            f"{when}: {field} differs for shoppers {bad[:5].tolist()}: "
            f"engine {a[bad[:3]].tolist()}, reference {b[bad[:3]].tolist()}"
        )


def assert_same_counters(engine: PromotionModel, ref: ReferenceModel, d: int) -> None:
    """Day d's integer counters are identical and float counters equal within 1e-9 relative."""
    names = engine.layout.int_names()
    bad = np.flatnonzero(engine.daily_int[d] != ref.daily_int[d])
    assert bad.size == 0, f"day {d}: integer counters differ: " + ", ".join(
        f"{names[j]} engine {engine.daily_int[d, j]} reference {ref.daily_int[d, j]}" for j in bad
    )
    np.testing.assert_allclose(
        ref.daily_float[d],
        engine.daily_float[d],
        rtol=1e-9,
        atol=0.0,
        err_msg=f"day {d}: float counters differ ({engine.layout.float_names()})",
    )


def models(path: Path, shoppers: int = SHOPPERS) -> tuple[PromotionModel, ReferenceModel]:
    """The engine and the reference on one scenario, same seed and population size."""
    sc = load_scenario(path)
    engine = PromotionModel(sc, shoppers=shoppers, base_dir=path.parent)
    ref = ReferenceModel(sc, shoppers=shoppers, base_dir=path.parent)
    return engine, ref


def run_side_by_side(path: Path) -> PromotionModel:
    """Step both models through the whole calendar, comparing state and counters every day."""
    engine, ref = models(path)
    assert_same_state(engine.shoppers, ref.to_arrays(), "initial population")
    for d in range(engine.n_days):
        engine.step()
        ref.step()
        assert_same_state(engine.shoppers, ref.to_arrays(), f"after day {d}")
        assert_same_counters(engine, ref, d)
    assert not engine.running and not ref.running
    return engine


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_reference_matches_engine(path):
    """The shipped scenarios: identical shoppers and counters after every day."""
    run_side_by_side(path)


def test_reference_matches_engine_on_every_feature(tmp_path):
    """Every offer class and mechanic, frequency caps, budgets, reactivation, several orders a day,
    KPI windows and an old-member cut-off inside the calendar.

    Pre-sale too: deposits, balances paid (with payment reminders) and forfeited. The scenario
    is only a test if each feature happens in it: every benefit is used, some shopper who
    enrolled before the cut-off is an old member after it, and every window counts buyers of
    each kind.
    """
    path = tmp_path / "features.yaml"
    path.write_text(FEATURES_YAML, encoding="utf-8")
    engine = run_side_by_side(path)
    total = engine.daily_int.sum(axis=0)
    column = engine.layout.columns
    unused = [
        b for b in engine.layout.benefits if total[column[f"redemptions_benefit_{b}"][1]] == 0
    ]
    assert not unused, f"never used: {unused}"
    assert total[column["multi_order_days"][1]] > 0 and total[column["reactivations"][1]] > 0
    for moved in ("bought_ahead", "needs_from_stock", "needs_deferred", "deferred_orders"):
        assert total[column[moved][1]] > 0, f"no {moved}"
    flags = engine.shoppers.flags
    assert np.count_nonzero((flags & JOINED != 0) & (flags & OLD_MEMBER != 0)) > 0
    silent = [
        name
        for name in engine.layout.int_names()
        if "_window_" in name and total[column[name][1]] == 0
    ]
    assert not silent, f"never counted: {silent}"
    # hours: the timed touches contacted shoppers, and some had ordered before 20:00
    assert total[column["contacts_touch_t20"][1]] > 0 and total[column["contacts_touch_t23"][1]] > 0
    assert total[column["contacts_touch_t20_ordered"][1]] > 0
    # pre-sale: deposits placed, balances paid (a reminder among them: `remind` used) and lost
    for name in ("deposits", "balances_paid", "balances_forfeited", "contacts_touch_t10"):
        assert total[column[name][1]] > 0, f"no {name}"


def test_scenarios_folder_is_not_empty():
    """The glob found the shipped scenarios (an empty folder would make the test above vacuous)."""
    assert SCENARIOS


def test_reference_agent_has_every_field():
    """Each row of the field table is an attribute of the reference shopper."""
    _, ref = models(SCENARIOS[0], shoppers=50)
    agent = ref.shopper_agents[0]
    missing = [f.name for f in FIELDS if not hasattr(agent, f.name)]
    assert not missing, f"the reference agent lacks {missing}"


def test_comparison_detects_a_perturbed_shopper():
    """One shopper's latent activity flipped in the engine shows up in the state comparison."""
    engine, ref = models(SCENARIOS[0], shoppers=500)
    engine.step()
    ref.step()
    assert_same_state(engine.shoppers, ref.to_arrays(), "after day 0")
    engine.shoppers.flags[123] ^= ALIVE
    engine.step()
    ref.step()
    with pytest.raises(AssertionError, match="flags differs for shoppers \\[123\\]"):
        assert_same_state(engine.shoppers, ref.to_arrays(), "after day 1")


def test_comparison_detects_a_perturbed_counter():
    """A shopper made certain to visit in the engine only shows up in the day's visit counter."""
    engine, ref = models(SCENARIOS[0], shoppers=500)
    draws = rng.uniforms(engine.run_seed, rng.VISIT, 0, 500)
    alive = (engine.shoppers.flags & ALIVE) != 0
    i = int(np.flatnonzero(alive)[np.argmax(draws[alive])])  # alive, and least likely to visit
    engine.shoppers.rate[i] = 1e6
    engine.step()
    ref.step()
    with pytest.raises(AssertionError, match="visits engine"):
        assert_same_counters(engine, ref, 0)


def test_reference_takes_a_shared_population_draw():
    """Agents started from `draw_population` arrays equal agents drawing their own attributes."""
    path = SCENARIOS[0]
    sc = load_scenario(path)
    drawn = draw_population(sc.population, sc.seed, 300, len(sc.channels), path.parent)
    own = ReferenceModel(sc, shoppers=300, base_dir=path.parent)
    shared = ReferenceModel(sc, shoppers=300, base_dir=path.parent, population=drawn)
    assert_same_state(own.to_arrays(), shared.to_arrays(), "initial population")
    for d in range(5):
        own.step()
        shared.step()
        assert_same_state(own.to_arrays(), shared.to_arrays(), f"after day {d}")
