"""Each KPI formula of docs/kpis.md checked on hand-made counters."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from helpers import scenario

from simulator.analysis.kpis import HEADLINE, compute_kpis
from simulator.engine.counters import Layout
from simulator.engine.run import RunResult

LAYOUT = Layout(benefits=("coupon", "price"), channels=("sms",), touches=("t1",))


def fake_run(**totals) -> RunResult:
    """A two-day run; day 0 is pre-sale. totals: counter -> (day0, day1)."""
    ints = np.zeros((2, LAYOUT.n_int), np.int64)
    floats = np.zeros((2, LAYOUT.n_float))
    i_names, f_names = LAYOUT.int_names(), LAYOUT.float_names()
    for name, values in totals.items():
        if name in i_names:
            ints[:, i_names.index(name)] = values
        else:
            floats[:, f_names.index(name)] = values
    return RunResult(
        scenario=scenario(),
        seed=0,
        shoppers=1000,
        layout=LAYOUT,
        dates=[date(2021, 11, 1) + timedelta(k) for k in range(2)],
        phases=["presale", "peak"],
        presale=np.array([True, False]),
        daily_int=ints,
        daily_float=floats,
    )


RUN = fake_run(
    # old members spend more than non-members, so old and non-member cannot be swapped unseen
    gmv_old_member=(100.0, 500.0),
    gmv_new_member=(50.0, 150.0),
    gmv_nonmember=(50.0, 350.0),
    enrolments=(10, 30),
    new_joined_buyers=(4, 6),
    new_member_buyers=(5, 15),
    new_old_member_buyers=(3, 7),
    new_nonmember_buyers=(2, 8),
    new_buyers=(7, 20),
    orders_old_member=(4, 9),
    orders_new_member=(2, 3),
    orders_nonmember=(3, 9),
    first_purchase=(100, 120),
    repeat=(200, 210),
    enrolments_organic=(6, 20),
    enrolments_channel_sms=(4, 10),
    cost_benefit_coupon=(20.0, 40.0),
    cost_benefit_price=(5.0, 15.0),
    cost_channel_sms=(1.0, 9.0),
    cost_touch_t1=(1.0, 9.0),
)
BASE = fake_run(
    gmv_old_member=(90.0, 250.0), gmv_new_member=(0.0, 10.0), gmv_nonmember=(60.0, 300.0)
)


@pytest.fixture(scope="module")
def k():
    return compute_kpis(RUN, BASE)


def test_gmv_parts(k):
    assert k["gmv"] == 1200.0
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


def test_presale_share(k):
    assert k["presale_member_gmv_share"] == 150 / 200


def test_costs_and_roi(k):
    assert k["benefit_cost"] == 80.0
    assert k["contact_cost"] == 10.0  # channel costs only; per-touch costs are the same money
    assert k["cost"] == 90.0
    assert k["cost_benefit_coupon"] == 60.0 and k["cost_channel_sms"] == 10.0
    assert k["baseline_gmv"] == 710.0
    assert k["incremental_gmv"] == 490.0
    assert k["incremental_member_gmv"] == 800.0 - 350.0
    assert k["roi"] == 490.0 / 90.0


def test_recruitment_by_channel(k):
    assert k["new_members_organic"] == 26 and k["new_members_channel_sms"] == 14
    assert k["new_members_organic"] + k["new_members_channel_sms"] == k["new_members"]


def test_zero_denominators_are_none():
    k = compute_kpis(fake_run())
    for name in (
        "member_gmv_penetration",
        "member_arpu",
        "non_member_arpu",
        "old_member_premium",
        "new_member_first_purchase_rate",
        "presale_member_gmv_share",
    ):
        assert k[name] is None
    assert "roi" not in k  # no baseline, no incremental KPIs


def test_headline_kpis_present(k):
    assert set(HEADLINE) <= set(k)
