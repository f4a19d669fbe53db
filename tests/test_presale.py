"""Pre-sale deposits, the final payment and payment reminders (docs/model.md, "Pre-sale")."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from helpers import BASE
from test_scenario_validation import MINIMAL as VALID

from simulator import cli
from simulator.analysis.kpis import compute_kpis
from simulator.engine.model import PromotionModel
from simulator.engine.run import simulate
from simulator.scenario.load import ScenarioError, validate_data

SHOPPERS = 50_000
RATE = 0.85  # payment_rate of the test store
SHARE = 0.2  # deposit_share
PAY_DAY = 12  # 2021-11-01, the day after the pre-sale


def presale_store(**benefits_and_touches) -> dict:
    """BASE's store with a 12-day pre-sale whose every order is a deposit, paid on 11.1.

    11.1 has (almost) no traffic, so whatever a shopper pays that day is their balance.
    benefits_and_touches: `benefits`, `channels` and `plan` sections (default: none).
    """
    data = copy.deepcopy(BASE)
    data["population"]["shoppers"] = SHOPPERS
    data["population"]["presale"] = {
        "goods_share": 1.0,
        "deposit_share": SHARE,
        "payment_rate": RATE,
    }
    data["calendar"] = {
        "start": "2021-10-20",
        "end": "2021-11-01",
        "phases": [
            {
                "name": "presale",
                "start": "2021-10-20",
                "end": "2021-10-31",
                "traffic": 3.0,
                "presale": True,
                "final_payment": "2021-11-01",
            },
            {"name": "pay", "start": "2021-11-01", "end": "2021-11-01", "traffic": 1e-9},
        ],
    }
    data["benefits"], data["channels"], data["plan"] = {}, {}, {}
    data.update(benefits_and_touches)
    return data


def through_presale(data: dict) -> PromotionModel:
    """The model stepped through the pre-sale days, up to (not including) the payment day."""
    model = PromotionModel(validate_data(data))
    for _ in range(PAY_DAY):
        model.step()
    return model


def counter(model: PromotionModel, name: str) -> np.ndarray:
    """A daily counter of a model by name."""
    is_int, j = model.layout.columns[name]
    return (model.daily_int if is_int else model.daily_float)[:, j]


@pytest.fixture(scope="module")
def paid_day():
    """(holders' locked list values before the payment day, the model after it)."""
    model = through_presale(presale_store())
    locked = model.shoppers.deposit.astype(np.float64)
    model.step()
    return locked, model


def test_gmv_is_counted_at_payment_not_at_deposit(paid_day):
    """Pre-sale days have deposits but no orders or GMV; the payment day has the GMV."""
    _, model = paid_day
    gmv = counter(model, "gmv_old_member") + counter(model, "gmv_new_member")
    gmv += counter(model, "gmv_nonmember")
    assert counter(model, "deposits")[:PAY_DAY].min() > 0
    assert gmv[:PAY_DAY].sum() == 0.0
    assert counter(model, "orders_old_member")[:PAY_DAY].sum() == 0
    presale = counter(model, "presale_gmv_member") + counter(model, "presale_gmv_nonmember")
    assert presale[:PAY_DAY].sum() == 0.0
    assert gmv[PAY_DAY] == pytest.approx(presale[PAY_DAY], rel=1e-12) and gmv[PAY_DAY] > 0


def test_deposits_are_conserved(paid_day):
    """Paid + forfeited = due = holders; every deposit is cleared; amounts add up.

    deposit amount = deposit_share x locked list value (float32 storage: 1e-6); the paid GMV
    (no benefits) plus the forfeited deposits over deposit_share is the locked value.
    """
    locked, model = paid_day
    holders = int(np.count_nonzero(locked))
    due, paid = counter(model, "balances_due"), counter(model, "balances_paid")
    forfeited = counter(model, "balances_forfeited")
    assert due.sum() == due[PAY_DAY] == holders > 1000
    assert paid[PAY_DAY] + forfeited[PAY_DAY] == holders
    assert not model.shoppers.deposit.any()
    amount = counter(model, "deposit_amount").sum()
    assert amount == pytest.approx(SHARE * locked.sum(), rel=1e-6)
    presale_gmv = counter(model, "presale_gmv_member") + counter(model, "presale_gmv_nonmember")
    lost = counter(model, "deposit_forfeited").sum() / SHARE
    assert presale_gmv.sum() + lost == pytest.approx(locked.sum(), rel=1e-9)


def test_payment_rate_without_reminders_is_payment_rate(paid_day):
    """paid / due is payment_rate within 4 binomial standard errors."""
    _, model = paid_day
    due = counter(model, "balances_due").sum()
    rate = counter(model, "balances_paid").sum() / due
    assert abs(rate - RATE) < 4.0 * math.sqrt(RATE * (1.0 - RATE) / due)


def test_balance_uses_the_benefits_of_the_payment_day():
    """A member price online on the payment day only takes 10% off members' balances."""
    price = {
        "type": "member_price",
        "offer": {"percent_off": 0.1},
        "online": {"dates": ["2021-11-01"]},
    }
    model = through_presale(presale_store(benefits={"price": price}))
    model.step()
    discount = counter(model, "discount_benefit_price")
    member = counter(model, "presale_gmv_member")[PAY_DAY]
    assert discount[:PAY_DAY].sum() == 0.0 and member > 0
    assert discount[PAY_DAY] == pytest.approx(member / 0.9 * 0.1, rel=1e-9)


def test_reminder_raises_payment_only_for_shoppers_it_reaches():
    """Common random numbers: a reminder to fans who hold a deposit changes only their payment.

    The reminder's channel reaches fans only, once (frequency cap 1), noticed for sure and
    without a visit lift: reached holders pay at least as often, every other shopper ends the
    payment day exactly as without the reminder.
    """
    remind = {
        "benefits": {"remind": {"type": "payment_reminder", "effects": {"payment": 2.0}}},
        "channels": {"push": {"kind": "push", "reach": ["fan"], "frequency_cap": 1}},
        "plan": {
            "pay_push": {
                "channel": "push",
                "benefit": "remind",
                "audience": ["unpaid_deposit"],
                "when": {"dates": ["2021-11-01"]},
            }
        },
    }
    paid = []
    for data in (presale_store(), presale_store(**remind)):
        model = through_presale(data)
        holder = model.shoppers.deposit != 0
        model.step()
        paid.append(holder & (model.shoppers.last_purchase == PAY_DAY))
        if len(paid) == 1:
            without = model.shoppers
    reached = model.shoppers.contacts[:, 0] == 1
    assert reached.sum() > 500 and not (reached & ~holder).any()
    assert (paid[0][~reached] == paid[1][~reached]).all()
    assert (paid[1][reached] >= paid[0][reached]).all()
    assert paid[1][reached].sum() > paid[0][reached].sum()
    others = ~reached
    for field in ("state", "flags", "last_purchase", "deposit"):
        assert (getattr(without, field)[others] == getattr(model.shoppers, field)[others]).all()
    used = counter(model, "redemptions_benefit_remind").sum()
    assert used == paid[1][reached].sum()  # a reminder is used up by the payment


def test_campaign_gmv_is_the_sum_of_its_orders():
    """GMV over the campaign: list value less discounts, and the parts add up with pre-sale."""
    run = simulate(validate_data(copy.deepcopy(BASE)), shoppers=20_000)
    k = compute_kpis(run)
    assert k["deposits"] > 0 and k["presale_orders_paid"] > 0 and k["forfeits"] > 0
    assert k["gmv"] == pytest.approx(k["gmv_list"] - k["discounts"], rel=1e-9)
    assert 0 < k["presale_gmv"] < k["gmv"]
    assert k["presale_orders_paid"] + k["forfeits"] == int(run.total("balances_due"))


# test_scenario_validation's minimal scenario, its first phase a pre-sale (line 17)
MINIMAL = VALID.replace(
    "{name: warmup, start: 2021-11-01, end: 2021-11-10}",
    "{name: warmup, start: 2021-11-01, end: 2021-11-10, presale: PRESALE, final_payment: FINAL}",
)


@pytest.mark.parametrize(
    ("final_payment", "presale", "expected"),
    [
        ("2021-11-05", "true", "must lie after its end 2021-11-10"),
        ("2021-11-12", "true", "inside the calendar (to 2021-11-11)"),
        ("2021-11-11", "false", "needs presale: true"),
    ],
)
def test_a_bad_final_payment_is_rejected(tmp_path, capsys, final_payment, presale, expected):
    """`promosim validate` names the field and exits 2, without a traceback."""
    path = tmp_path / "bad.yaml"
    path.write_text(
        MINIMAL.replace("PRESALE", presale).replace("FINAL", final_payment), encoding="utf-8"
    )
    assert cli.main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:17: calendar.phases.0.final_payment: " in err and expected in err
    assert "Traceback" not in err


def test_a_pre_sale_paid_after_the_next_one_starts_is_rejected(tmp_path, capsys):
    """A shopper holds one balance at a time: the earlier pre-sale is paid before the next."""
    path = tmp_path / "two.yaml"
    two = MINIMAL.replace("PRESALE", "true").replace("FINAL", "2021-11-11")
    two = two.replace("end: 2021-11-10, presale", "end: 2021-11-05, presale")
    peak = "    - {name: peak, start: 2021-11-11, end: 2021-11-11, traffic: 10.0}\n"
    later = "    - {name: later, start: 2021-11-07, end: 2021-11-09, presale: true}\n"
    two = two.replace(peak, peak + later)
    path.write_text(two, encoding="utf-8")
    assert cli.main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "calendar.phases.0.final_payment: " in err and "after pre-sale 'later' starts" in err
    path.write_text(two.replace("presale: true}\n", "presale: true, final_payment: 2021-11-11}\n"))
    assert cli.main(["validate", str(path)]) == 0  # paid together on 11.11


@pytest.mark.parametrize(
    ("benefit", "field"),
    [
        ({"type": "points", "effects": {"payment": 0.5}}, "effects.payment"),
        ({"type": "payment_reminder", "effects": {"purchase": 0.5}}, "effects.purchase"),
    ],
)
def test_only_a_payment_reminder_acts_on_payment(benefit, field):
    """effects.payment on another type, or a reminder acting on purchase, is refused."""
    data = presale_store(benefits={"b": benefit})
    with pytest.raises(ScenarioError, match=f"benefits.b.{field}"):
        validate_data(data)
