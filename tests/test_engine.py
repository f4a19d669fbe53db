"""Engine invariants, determinism and common random numbers."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from helpers import BASE, scenario, shipped_text

from simulator.domain.lifecycle import (
    BOUGHT_AS_MEMBER,
    BOUGHT_AS_NONMEMBER,
    ENROLLED,
    EVER_BOUGHT,
    JOINED,
    OLD_MEMBER,
    SEGMENTS,
)
from simulator.engine.counters import AMOUNT
from simulator.engine.model import PromotionModel
from simulator.engine.plan import compile_plan
from simulator.engine.population import initialise, resolve_params
from simulator.engine.run import no_campaign, simulate
from simulator.engine.shoppers import allocate


@pytest.fixture(scope="module")
def sc():
    return scenario()


@pytest.fixture(scope="module")
def run(sc):
    return simulate(sc, keep_final=True)


def initial(sc, n=None):
    """The population as drawn at the start (before day 0)."""
    n = n or sc.population.shoppers
    s = allocate(n, len(sc.channels))
    initialise(s, resolve_params(sc.population)._replace(seed=np.uint64(sc.seed)))
    return s


def count_flag(s, flag):
    return int(np.count_nonzero(s.flags & flag))


def test_shoppers_conserved_every_day(run, sc):
    states = run.daily_int[:, :7].sum(axis=1)
    assert (states == sc.population.shoppers).all()


def test_gmv_and_orders_add_up(run):
    """GMV and orders agree across the KPI, the daily table and the per-type counters.

    (Each purchase's value is recomputed independently by the reference model, see
    test_reference_equivalence; here the aggregation paths must agree with each other.)
    """
    from simulator.analysis.kpis import compute_kpis
    from simulator.reports.daily_table import daily_rows

    k = compute_kpis(run)
    rows = daily_rows(run)
    parts = sum(run.total(n) for n in ("gmv_old_member", "gmv_new_member", "gmv_nonmember"))
    assert k["gmv"] == pytest.approx(parts, rel=1e-12)
    assert k["gmv"] == pytest.approx(sum(r["gmv"] for r in rows), rel=1e-9)
    assert k["member_gmv"] == pytest.approx(sum(r["gmv_member"] for r in rows), rel=1e-9)
    assert k["orders"] == sum(r["orders"] for r in rows) > 0
    assert k["buyers"] <= k["orders"]
    assert k["member_buyers"] + k["non_member_buyers"] >= k["buyers"]
    # a shopper buys at most once a day
    assert (
        run.daily_int[
            :,
            [
                run.layout.int_names().index(n)
                for n in ("orders_old_member", "orders_new_member", "orders_nonmember")
            ],
        ].sum(axis=1)
        <= run.shoppers
    ).all()


def test_counters_match_per_shopper_state(run, sc):
    """Counters and per-shopper flags are written by different code paths; they must agree."""
    start, end = initial(sc), run.final
    assert run.total("enrolments") == count_flag(end, JOINED)  # no shopper enrols twice
    assert run.total("new_member_buyers") == count_flag(end, BOUGHT_AS_MEMBER)
    assert run.total("new_nonmember_buyers") == count_flag(end, BOUGHT_AS_NONMEMBER)
    assert run.total("new_buyers") == np.count_nonzero(
        end.flags & (BOUGHT_AS_MEMBER | BOUGHT_AS_NONMEMBER)
    )
    assert run.total("first_purchases") == count_flag(end, EVER_BOUGHT) - count_flag(
        start, EVER_BOUGHT
    )
    joined_and_bought = np.count_nonzero(
        ((end.flags & JOINED) > 0) & ((end.flags & BOUGHT_AS_MEMBER) > 0)
    )
    assert run.total("new_joined_buyers") == joined_and_bought


def test_old_members_are_exactly_pre_campaign_members(run, sc):
    start, end = initial(sc), run.final
    was_member = start.state >= ENROLLED
    assert np.array_equal((end.flags & OLD_MEMBER) > 0, was_member)
    # a new member was not a member before; nobody leaves membership
    assert not ((end.flags & JOINED) > 0)[was_member].any()
    assert (end.state[was_member] >= ENROLLED).all()


def test_costs_add_up(run, sc):
    lay = run.layout
    by_channel = run.daily_float[:, lay.cost_by_channel : lay.cost_by_touch].sum()
    by_touch = run.daily_float[:, lay.cost_by_touch :].sum()
    assert by_channel == pytest.approx(by_touch, rel=1e-12)
    for c, ch in sc.channels.items():
        assert run.total(f"cost_channel_{c}") == pytest.approx(
            run.total(f"contacts_channel_{c}") * ch.cost_per_contact, rel=1e-12
        )
    for b, ben in sc.benefits.items():
        if ben.offer.gift_value > 0:  # a gift costs its value each time it is given
            assert run.total(f"cost_benefit_{b}") == pytest.approx(
                run.total(f"redemptions_benefit_{b}") * ben.offer.gift_value
                + run.total(f"grants_benefit_{b}") * ben.grant_cost,
                rel=1e-12,
            )
    # member price takes 5% of the list value of the member orders that use it: its discount
    # is at most 5% of member list GMV, and it is a price reduction, not a cost
    assert run.total("cost_benefit_member_price") == 0
    assert 0 < run.total("discount_benefit_member_price") <= 0.05 * run.total("gmv_list")
    # paid GMV is list GMV minus every benefit's discount
    discounts = sum(run.total(f"discount_benefit_{b}") for b in sc.benefits)
    paid = sum(run.total(n) for n in ("gmv_old_member", "gmv_new_member", "gmv_nonmember"))
    assert paid == pytest.approx(run.total("gmv_list") - discounts, rel=1e-12)
    # the lock-in gift: each grant is held (if noticed) until given with an order
    lockin = np.uint32(1) << np.uint32(list(sc.benefits).index("lockin"))
    held_at_end = np.count_nonzero(run.final.held & lockin)
    grants = run.total("grants_benefit_lockin")
    assert 0 < run.total("redemptions_benefit_lockin") + held_at_end <= grants
    assert grants <= run.total("contacts_touch_lockin_live")


def test_capacity_budget_and_frequency_cap(run, sc):
    sms = run.series("contacts_channel_sms")
    assert sms.max() <= 1500 and sms.sum() > 0
    assert run.total("cost_touch_coupon_sms") <= 120 + 1e-9
    capped = [ch.frequency_cap for ch in sc.channels.values() if ch.frequency_cap]
    assert run.final.contacts.shape[1] == len(capped)  # counters only where a cap needs them
    for slot, cap in enumerate(capped):
        assert 0 < run.final.contacts[:, slot].max() <= cap


def test_capacity_is_filled_nearly_exactly(sc):
    """Whole priority bins are taken: a cap binds to within one bin's share of eligibles."""
    blast = scenario(
        plan={
            "blast": {"channel": "sms", "audience": ["buyers"], "when": {"dates": ["2021-10-21"]}}
        }
    )
    r = simulate(blast, shoppers=100000)  # capacity scales with shoppers: 1500 * 5
    sent = r.series("contacts_touch_blast")[1]
    assert 7500 * 0.99 <= sent <= 7500


def test_same_seed_identical_and_threads_do_not_matter(sc):
    top = numba.config.NUMBA_NUM_THREADS
    results = []
    for threads in (1, top):
        numba.set_num_threads(threads)
        results.append(simulate(sc, keep_final=True))
    numba.set_num_threads(top)
    a, b = results
    assert np.array_equal(a.daily_int, b.daily_int)
    assert np.array_equal(a.daily_float, b.daily_float)  # bitwise, not approximately
    for x, y in zip(a.final, b.final, strict=True):
        assert np.array_equal(x, y)


def test_different_seed_differs(sc):
    a, b = simulate(sc), simulate(sc, seed=8)
    assert not np.array_equal(a.daily_int, b.daily_int)


def test_population_is_prefix_stable(sc):
    """Shopper i is the same shopper whatever the population size (keyed draws)."""
    small, large = initial(sc, 1000), initial(sc, 5000)
    for x, y in zip(small, large, strict=True):
        assert np.array_equal(x, y[:1000])


def test_crn_a_price_change_moves_only_costs(sc):
    """Push made paid (no budget limits it): every shopper meets the same numbers and does the
    same, so behaviour counters and GMV are identical and only costs move, by price x contacts."""
    channels = dict(BASE["channels"])
    channels["push"] = dict(channels["push"], cost_per_contact=0.02)
    a, b = simulate(sc), simulate(scenario(channels=channels))
    assert a.total("contacts_channel_push") > 0
    assert np.array_equal(a.daily_int, b.daily_int)
    gmv = ["gmv_old_member", "gmv_new_member", "gmv_nonmember"]
    assert all(np.array_equal(a.series(g), b.series(g)) for g in gmv)
    assert b.total("cost_channel_push") - a.total("cost_channel_push") == pytest.approx(
        0.02 * b.total("contacts_channel_push")
    )


def test_crn_segment_benefit_leaves_others_untouched():
    """A benefit pushed only to high-value shoppers changes nothing for anybody else.

    Exact when no shared capacity or budget binds: a binding SMS capacity is a real shared
    resource, and a VIP who now buys earlier frees or takes a slot that another shopper gets.
    """
    channels = dict(BASE["channels"])
    channels["sms"] = dict(channels["sms"], daily_capacity=None)
    plan = {k: {kk: vv for kk, vv in t.items() if kk != "budget"} for k, t in BASE["plan"].items()}
    sc = scenario(channels=channels, plan=dict(plan))
    plan["vip_gift"] = {
        "channel": "push",
        "benefit": "vip",
        "audience": ["high_value"],
        "when": {"phases": ["first_wave", "peak_day"]},
    }
    benefits = dict(BASE["benefits"])
    benefits["vip"] = {
        "type": "member_coupon",
        "target": {"segments": ["high_value"]},
        "offer": {"amount_off": 50, "min_spend": 199},
    }
    with_vip = simulate(scenario(channels=channels, benefits=benefits, plan=plan), keep_final=True)
    without = simulate(sc, keep_final=True)
    vip = (without.final.segments & (1 << SEGMENTS.index("high_value"))) > 0
    assert vip.any() and (~vip).any()
    changed = np.zeros(len(vip), bool)
    for x, y in zip(with_vip.final, without.final, strict=True):
        diff = x != y
        changed |= diff.reshape(len(vip), -1).any(axis=1)
    assert not changed[~vip].any()
    assert changed[vip].any()  # and it does act on its segment
    assert with_vip.total("redemptions_benefit_vip") > 0


def test_no_campaign_has_no_cost_or_contacts(sc):
    base = simulate(no_campaign(sc))
    assert base.total("contacts") == 0
    assert base.daily_cost().sum() == 0.0


def test_campaign_lifts_gmv_over_baseline(sc):
    camp, base = simulate(sc), simulate(no_campaign(sc))
    gmv = [
        sum(r.total(n) for n in ("gmv_old_member", "gmv_new_member", "gmv_nonmember"))
        for r in (camp, base)
    ]
    assert gmv[0] > gmv[1]
    assert camp.total("enrolments") > base.total("enrolments")
    assert camp.total("reactivations") > 0 and base.total("reactivations") == 0


def test_rescaling_keeps_capacity_per_shopper(sc):
    p1 = compile_plan(sc, scale=1.0)
    p2 = compile_plan(sc, scale=0.5)
    assert p2.ch_capacity[0] == p1.ch_capacity[0] // 2
    assert p2.t_budget[0] == p1.t_budget[0] / 2


def test_model_is_a_mesa_model_with_datacollector(sc):
    import mesa

    m = PromotionModel(sc, shoppers=2000)
    assert isinstance(m, mesa.Model)
    while m.running:
        m.step()
    df = m.datacollector.get_model_vars_dataframe()
    assert len(df) == len(sc.days)
    gmv = m.daily_float[:, [AMOUNT.gmv_old_member, AMOUNT.gmv_new_member, AMOUNT.gmv_nonmember]]
    gmv = gmv.sum(axis=1)
    assert np.allclose(df["gmv"], gmv, rtol=1e-12)  # day by day, not only the total


def test_population_from_fitted_params_file(tmp_path):
    """A scenario whose population names a fitted params file runs on the fitted (daily) rates."""
    from helpers import ROOT

    from simulator.clv.params_file import read_params
    from simulator.scenario.load import load_scenario

    text = shipped_text("double11_2021.yaml")
    start = text.index("  purchase_rate:")
    end = text.index("  prospect_rate_scale:")
    params = ROOT / "calibration" / "params" / "cdnow_master.yaml"
    path = tmp_path / "fitted.yaml"
    path.write_text(text[:start] + f"  params_file: {params}\n" + text[end:])
    sc = load_scenario(path)
    pp = resolve_params(sc.population, tmp_path)
    fitted = read_params(params)
    assert pp.r == fitted.bgnbd.r and pp.alpha_day == fitted.bgnbd.alpha * 7
    assert (pp.p, pp.q, pp.v) == (fitted.gamma_gamma.p, fitted.gamma_gamma.q, fitted.gamma_gamma.v)
    run = simulate(sc, shoppers=3000, base_dir=tmp_path)
    # the same numbers written inline give the same run
    bg, gg = fitted.bgnbd, fitted.gamma_gamma
    inline = tmp_path / "inline.yaml"
    inline.write_text(
        text[:start]
        + (
            f"  purchase_rate: {{r: {bg.r!r}, alpha: {bg.alpha!r}, time_unit_days: 7}}\n"
            f"  dropout: {{a: {bg.a!r}, b: {bg.b!r}}}\n"
            f"  basket: {{p: {gg.p!r}, q: {gg.q!r}, v: {gg.v!r}}}\n"
        )
        + text[end:]
    )
    same = simulate(load_scenario(inline), shoppers=3000, base_dir=tmp_path)
    assert run.total("orders_old_member") > 0
    assert np.array_equal(run.daily_int, same.daily_int)
    assert np.array_equal(run.daily_float, same.daily_float)


@pytest.mark.parametrize("bound", [1, 4096])
def test_capacity_cut_does_not_depend_on_the_counting_bound(sc, monkeypatch, bound):
    """Counting only low priority bins is a saving, never a change: a cut beyond the bound is
    recounted in full (bound 1), and counting everything (4096) gives the same run."""
    normal = simulate(sc, keep_final=True)
    monkeypatch.setattr(PromotionModel, "_bin_bound", lambda self, t, d: bound)
    forced = simulate(sc, keep_final=True)
    assert np.array_equal(normal.daily_int, forced.daily_int)
    assert np.array_equal(normal.daily_float, forced.daily_float)


def test_rng_keys_typed_int64_give_the_same_draws():
    """Numba hands uint64 keys back to Python as int; passed in again they are typed int64."""
    from simulator.engine import rng

    key = rng.stream_key(np.uint64(1), rng.INIT_BASKET, 0)
    assert isinstance(key, int) and key < 2**63
    draws = [rng.uniform(key, i) for i in range(4000)]
    assert draws == [rng.uniform(np.uint64(key), i) for i in range(4000)]
    assert abs(np.mean(draws) - 0.5) < 4 * np.sqrt(1 / 12 / 4000)


def test_relabelled_is_observed_state_changing():
    """The busy-shopper filter's branch-free test equals observed_state(...) != state."""
    from simulator.domain.lifecycle import STATES, observed_state, relabelled

    for dormant_after, churn_after in ((30, 90), (1, 1), (90, 30), (0, 5)):
        for state in range(len(STATES)):
            for last_active in range(-40, 101, 3):
                for day in range(0, 101, 7):
                    want = (
                        observed_state(state, last_active, day, dormant_after, churn_after) != state
                    )
                    assert (
                        relabelled(state, last_active, day, dormant_after, churn_after) == want
                    ), (state, last_active, day)


def test_priority_bin_is_the_uniforms_bin():
    """The kernel's integer priority bin equals the reference's int(uniform x PRIORITY_BINS)."""
    from simulator.engine import rng

    for key in (0, 1, 2**63 + 5, 0x9E3779B97F4A7C15):
        for i in range(0, 200_000, 997):
            assert rng.priority_bin(np.uint64(key), i) == int(
                rng.uniform(np.uint64(key), i) * rng.PRIORITY_BINS
            )
