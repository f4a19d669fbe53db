"""Hours of the day: timed touches on days split into slots (docs/model.md "Hours of the day").

The countdown at 20:00 reaches only shoppers who have not ordered before it (checked shopper by
shopper in the reference model, which steps one shopper at a time); splitting a day leaves its
expected orders unchanged; a day not split, or split by no touch, draws as before; moving a
touch's hour redraws nothing on other days; bad hours are refused.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import yaml

from simulator import cli
from simulator.domain.lifecycle import ALIVE
from simulator.engine.model import PromotionModel
from simulator.engine.plan import day_slots, hour_cumulative
from simulator.engine.reference.model import ReferenceModel
from simulator.engine.reference.shopper import ShopperAgent
from simulator.scenario.load import validate_data
from simulator.scenario.schema import TMALL_PEAK_PROFILE

PEAK = 1  # 2021-11-11, the day split into hours
STORE = {
    "schema_version": 2,
    "name": "hours",
    "seed": 11,
    "population": {
        "shoppers": 20000,
        "mix": {"nonmember_buyer": 0.4, "first_purchase": 0.2, "repeat": 0.4},
        "segments": {"sms_sensitive": {"share": 0.5}},
        "purchase_rate": {"r": 1.0, "alpha": 5.0, "time_unit_days": 1},
        # dropout all but impossible: a purchase does not end the day's later orders
        "dropout": {"a": 1e-6, "b": 1000.0},
        "basket": {"p": 6.0, "q": 4.0, "v": 80.0},
        "enrol_per_visit": 0.0,  # no enrolment: every slot's purchase chance is the same
    },
    "calendar": {
        "start": "2021-11-10",
        "end": "2021-11-12",
        "phases": [{"name": "peak", "start": "2021-11-11", "end": "2021-11-11", "traffic": 5.0}],
        "hours": {"days": ["2021-11-11"]},
    },
    "channels": {"sms": {"kind": "sms", "cost_per_contact": 0.05, "response_lift": 1.0}},
    "plan": {
        "countdown": {
            "channel": "sms",
            "audience": ["recent_buyers"],
            "exclude": ["ordered_today"],
            "when": {"dates": ["2021-11-11"], "hour": 20},
        }
    },
}


def store(plan: dict | None = None, hourly: bool = True, **touch) -> dict:
    """STORE with the countdown's fields changed (None removes one), another plan, or no hours."""
    data = copy.deepcopy(STORE)
    if plan is not None:
        data["plan"] = plan
    data["plan"].get("countdown", {}).update(touch)
    data["plan"] = {
        name: {k: v for k, v in t.items() if v is not None} for name, t in data["plan"].items()
    }
    if not hourly:
        del data["calendar"]["hours"]
    return data


def run_engine(data: dict, shoppers: int, days: int | None = None) -> PromotionModel:
    """The engine through the first `days` days (default: all) of the scenario."""
    model = PromotionModel(validate_data(data), shoppers=shoppers, threads=2)
    for _ in range(model.n_days if days is None else days):
        model.step()
    return model


def orders(model: PromotionModel, day: int) -> int:
    """Orders of a day, members' and non-members'."""
    column = model.layout.columns
    names = ("orders_nonmember", "orders_old_member", "orders_new_member")
    return int(sum(model.daily_int[day, column[n][1]] for n in names))


def countdown_log(data: dict, monkeypatch) -> tuple[set, set, ReferenceModel]:
    """Reference run: (shoppers the countdown contacted, shoppers who ordered before 20:00).

    The reference shopper's contacts and slot steps are wrapped to note, on the peak day, whom
    the countdown contacted and who had ordered (last purchase today) after a slot before 20:00.
    """
    contacted: set[int] = set()
    ordered_before: set[int] = set()
    visit, receive = ShopperAgent.visit, ShopperAgent.receive_contacts

    def noted_visit(self, day, slot, st, contact_lift, first_channel):
        out = visit(self, day, slot, st, contact_lift, first_channel)
        if day.d == PEAK and slot.hour < 20 and self.last_purchase == PEAK:
            ordered_before.add(self.index)  # an order in a slot before 20:00
        return out

    def noted_contacts(self, day, slot, st):
        column = self.model.layout.contacts_by_touch  # the countdown is touch 0
        before = self.model.ints[column]
        out = receive(self, day, slot, st)
        if self.model.ints[column] > before:
            contacted.add(self.index)
        return out

    monkeypatch.setattr(ShopperAgent, "visit", noted_visit)
    monkeypatch.setattr(ShopperAgent, "receive_contacts", noted_contacts)
    model = ReferenceModel(validate_data(data), shoppers=3000)
    for _ in range(model.n_days):
        model.step()
    return contacted, ordered_before, model


def test_countdown_reaches_only_shoppers_who_have_not_ordered_before_20h(monkeypatch):
    """The acceptance: nobody the 20:00 countdown contacts had ordered on 11.11 before 20:00.

    Without the exclusion the same touch does contact such shoppers (so the test can fail), and
    the engine makes exactly as many contacts as the reference.
    """
    contacted, ordered_before, ref = countdown_log(STORE, monkeypatch)
    assert len(contacted) > 100 and len(ordered_before) > 100
    assert not contacted & ordered_before
    engine = run_engine(STORE, 3000)
    column = engine.layout.columns["contacts_touch_countdown"][1]
    assert engine.daily_int[PEAK, column] == ref.daily_int[PEAK, column] == len(contacted)
    monkeypatch.undo()
    contacted, ordered_before, _ = countdown_log(store(exclude=None), monkeypatch)
    assert len(contacted & ordered_before) > 100


def test_splitting_a_day_leaves_its_expected_orders_unchanged():
    """Orders of the peak day, whole or split at 07:00, 20:00 and 23:00, match p x v summed.

    With no offers, no enrolment and no dropout, each shopper's expected orders are
    conversion x visits = rate x traffic, slot by slot or whole (docs/model.md). Each shopper's
    count is 0/1 or 1 + Poisson, so its variance is at most its mean: the day's total is
    within 4 standard deviations, 4 sqrt(expected), of the expected total.
    """
    silent = {"channel": "sms", "audience": ["all"], "exclude": ["all"]}  # splits, contacts none
    split = {
        f"at_{h}": {**silent, "when": {"dates": ["2021-11-11"], "hour": h}} for h in (7, 20, 23)
    }
    whole = run_engine(store(plan={}), 20000, days=PEAK + 1)
    alive = (whole.shoppers.flags & ALIVE) != 0  # nobody drops out: the state of the day
    expected = float(whole.shoppers.rate[alive].astype(np.float64).sum()) * 5.0
    for plan in ({}, split):
        model = run_engine(store(plan=plan), 20000, days=PEAK + 1)
        assert abs(orders(model, PEAK) - expected) < 4 * math.sqrt(expected), plan
    assert expected > 10000


def test_a_day_without_timed_touches_draws_as_a_day_not_split():
    """Hours on a day whose touches are all at 00:00: one slot, identical shoppers and counts."""
    plain = run_engine(store(when={"dates": ["2021-11-11"]}, hourly=False), 5000)
    hourly = run_engine(store(when={"dates": ["2021-11-11"]}), 5000)
    np.testing.assert_array_equal(plain.daily_int, hourly.daily_int)
    np.testing.assert_array_equal(plain.daily_float, hourly.daily_float)
    for a, b in zip(plain.shoppers, hourly.shoppers, strict=True):
        np.testing.assert_array_equal(a, b)


def test_moving_a_touch_hour_changes_nothing_on_other_days():
    """Countdown at 20:00 or 21:00: the day before is identical, and on the day after every
    shopper who ended the peak day alike ends it alike (common random numbers)."""
    at = {
        h: run_engine(store(when={"dates": ["2021-11-11"], "hour": h}), 5000, PEAK)
        for h in (20, 21)
    }
    np.testing.assert_array_equal(at[20].daily_int[0], at[21].daily_int[0])
    after_peak = {}
    for h, model in at.items():
        model.step()
        after_peak[h] = [a.copy() for a in model.shoppers]
        model.step()
    alike = np.ones(5000, bool)
    for a, b in zip(after_peak[20], after_peak[21], strict=True):
        alike &= (a == b).reshape(len(a), -1).all(axis=1)
    assert 0 < alike.sum() < len(alike)  # the move changed some shoppers' peak day, not all
    for a, b in zip(at[20].shoppers, at[21].shoppers, strict=True):
        np.testing.assert_array_equal(a[alike], b[alike])


def test_ordered_today_is_nobody_at_a_normal_days_contacts():
    """Contacts at 00:00 (and every day not split) come before the day's orders."""
    data = store(audience=["ordered_today"], exclude=None, when={})
    model = run_engine(data, 5000)
    assert model.daily_int[:, model.layout.columns["contacts_touch_countdown"][1]].sum() == 0
    assert sum(orders(model, d) for d in range(3)) > 1000


def test_slots_split_the_profile_at_the_touch_hours():
    """Slots from 00:00 and each later touch hour; shares are the profile's and sum to 1."""
    cum = hour_cumulative(validate_data(STORE))
    slots = day_slots(np.array([20, 0, 23, 20]), cum)
    assert slots.hour.tolist() == [0, 20, 23] and slots.order.tolist() == [1, 0, 3, 2]
    assert slots.bounds.tolist() == [0, 1, 3, 4]
    profile = np.array(TMALL_PEAK_PROFILE) / sum(TMALL_PEAK_PROFILE)
    np.testing.assert_allclose(slots.share, [profile[:20].sum(), profile[20:23].sum(), profile[23]])
    assert day_slots(np.zeros(3, np.int64), cum).share.tolist() == [1.0]


@pytest.mark.parametrize(
    ("touch", "where"),
    [
        ({"when": {"dates": ["2021-11-10"], "hour": 20}}, "plan.countdown.when.hour"),
        ({"when": {"dates": ["2021-11-11"], "hour": 24}}, "plan.countdown.when.hour"),
    ],
)
def test_bad_hours_are_refused_with_exit_2(tmp_path, capsys, touch, where):
    """A timed touch on a day not split into hours, or hour 24: exit 2, field path and line."""
    path = tmp_path / "store.yaml"
    path.write_text(yaml.safe_dump(store(**touch), sort_keys=False), encoding="utf-8")
    assert cli.main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:" in err and where in err and "Traceback" not in err
