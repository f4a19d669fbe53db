"""Strategy against strategy: verdict rules, ratios without a clear denominator, touch economics."""

from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass, field

import numpy as np
import pytest
import yaml
from helpers import BASE, scenario

from simulator import cli
from simulator.analysis.experiment import replicate, run_comparison, touch_economics
from simulator.analysis.pairs import (
    COST_CI_ZERO,
    NO_COST_DIFF,
    pair_rows,
    ratio_estimate,
    verdicts,
)
from simulator.analysis.stats import estimate

SHOPPERS = 4000


@dataclass
class Rep:
    """Per-replication KPIs of a made-up scenario (`experiment.Replicated`'s interface)."""

    name: str
    kpis: list[dict]
    draws: list[int] = field(default_factory=list)

    def values(self, kpi: str) -> list:
        return [k.get(kpi) for k in self.kpis]


def made_up(name: str, gmv, cost, profit=None) -> Rep:
    """A scenario whose replications had these GMV, cost (and profit) values."""
    kpis = [{"gmv": g, "cost": c} for g, c in zip(gmv, cost, strict=True)]
    for k, p in zip(kpis, profit or [], strict=False):
        k["profit"] = p
    return Rep(name, kpis)


def verdict_of(a: Rep, b: Rep) -> dict:
    """The verdict of a (later) against b (earlier)."""
    results = [b, a]
    (v,) = verdicts(results, pair_rows(results))
    return v


BASE_GMV = [1000.0, 1100.0, 900.0, 1050.0, 980.0]


def test_more_gmv_at_less_cost_dominates_and_has_no_negative_roi():
    """The issue's case: +GMV at less cost read as ROI -0.14 [-0.21, -0.08]; it dominates."""
    mine = made_up("my_plan", BASE_GMV, [500.0] * 5)
    sms = made_up("sms_plan", list(np.add(BASE_GMV, [30, 25, 35, 28, 31])), [300.0] * 5)
    v = verdict_of(sms, mine)
    assert v["dominance"] == "a dominates"
    assert v["text"].startswith("sms_plan dominates my_plan: +30 GMV [")
    assert "200 less cost [200, 200]" in v["text"]
    assert v["roi"] is None and "dominates" in v["roi_note"]
    # read the other way round, b dominates
    assert verdict_of(mine, sms)["dominance"] == "b dominates"


def test_the_same_gmv_at_less_cost_dominates():
    v = verdict_of(made_up("cheap", BASE_GMV, [100.0] * 5), made_up("dear", BASE_GMV, [150.0] * 5))
    assert v["dominance"] == "a dominates"
    assert v["text"] == "cheap dominates dear: the same gmv at 50 less cost [50, 50]"


def test_more_gmv_for_more_cost_is_a_trade_off_with_its_incremental_roi():
    dear = made_up("dear", [g + 500 + k for k, g in enumerate(BASE_GMV)], [200.0] * 5)
    v = verdict_of(made_up("cheap", BASE_GMV, [100.0] * 5), dear)
    assert v["dominance"] == "trade-off"
    assert v["text"].startswith("trade-off: dear gives +502 GMV [")
    assert "for 100 more cost [100, 100] than cheap; incremental ROI" in v["text"]
    assert v["roi"] == pytest.approx(-502 / -100)  # a - b: both differences negative


def test_identical_scenarios_have_no_clear_difference():
    v = verdict_of(made_up("a", BASE_GMV, [1.0] * 5), made_up("b", BASE_GMV, [1.0] * 5))
    assert v["dominance"] == "no clear difference"
    assert (
        v["text"]
        == "no clear difference between a and b: the same gmv and cost in every replication"
    )
    assert v["roi"] is None and v["roi_note"] == NO_COST_DIFF


def test_a_difference_within_noise_is_no_clear_difference():
    noise = [5.0, -4.0, 3.0, -6.0, 2.0]
    a = made_up("a", list(np.add(BASE_GMV, noise)), [10 + n for n in noise])
    v = verdict_of(a, made_up("b", BASE_GMV, [10.0] * 5))
    assert v["dominance"] == "no clear difference"
    assert "neither 95% CI excludes zero" in v["text"]
    assert v["roi"] is None and v["roi_note"] == COST_CI_ZERO


def test_clearly_better_on_one_unclear_on_the_other_is_ahead_not_dominant():
    a = made_up("a", [g + 100 for g in BASE_GMV], [10.0 + n for n in (5, -4, 3, -6, 2)])
    v = verdict_of(a, made_up("b", BASE_GMV, [10.0] * 5))
    assert v["dominance"] == "a ahead"
    assert v["text"].startswith("a ahead of b: +100 GMV [100, 100]; the cost difference +0")


def test_profit_is_the_value_when_both_state_a_margin():
    """More profit at more cost: a trade-off judged on profit, GMV given alongside."""
    b = made_up("b", BASE_GMV, [10.0] * 5, profit=[100.0, 110, 90, 105, 98])
    a = made_up("a", [g + 50 for g in BASE_GMV], [20.0] * 5, profit=[120.0, 128, 111, 124, 119])
    v = verdict_of(a, b)
    assert v["value_kpi"] == "profit" and v["dominance"] == "trade-off"
    assert "profit [" in v["text"] and "(GMV +50 [50, 50])" in v["text"]
    cheaper = made_up("c", BASE_GMV, [5.0] * 5, profit=[105.0, 115, 95, 110, 103])
    assert verdict_of(cheaper, b)["text"] == (
        "c dominates b: +5 profit [5, 5] (the same GMV) at 5 less cost [5, 5]"
    )


def test_ratio_needs_a_denominator_whose_ci_excludes_zero():
    # the touch: ROI 98.5 [-337, 534] from a cost difference within noise
    out = ratio_estimate([100.0, 300.0, -50.0, 200.0], [1.0, -2.0, 3.0, 0.5])
    assert out["value"] is None and out["note"] == COST_CI_ZERO
    assert ratio_estimate([5.0, 6.0], [0.0, 0.0])["note"] == NO_COST_DIFF
    # less GMV at less cost: GMV given up per yuan saved, a positive number
    out = ratio_estimate([-100.0, -120.0, -90.0], [-10.0, -11.0, -9.5])
    assert out["value"] == pytest.approx(-310 / -30.5) and "given up" in out["note"]
    # less cost and a GMV difference within noise: no number either
    out = ratio_estimate([10.0, -12.0, 3.0], [-10.0, -11.0, -9.5])
    assert out["value"] is None and "not clear" in out["note"]


def test_fieller_interval_with_a_fixed_cost_is_the_gmv_interval_scaled():
    """A cost difference the same in every replication: the interval is ΔGMV's CI / Δcost."""
    gmv = [100.0, 130.0, 90.0, 120.0, 110.0]
    out = ratio_estimate(gmv, [20.0] * 5)
    est = estimate(gmv)
    assert out["value"] == pytest.approx(est.mean / 20)
    assert out["ci_low"] == pytest.approx(est.ci_low / 20)
    assert out["ci_high"] == pytest.approx(est.ci_high / 20)
    assert out["note"] == ""


def test_pairs_cover_every_ordered_pair_on_the_headline_kpis():
    cmp = run_comparison(
        [scenario(plan={}), scenario(), cheaper_sms()],
        ["none", "plan", "cheap"],
        reps=3,
        shoppers=SHOPPERS,
    )
    pairs = {(r["a"], r["b"]) for r in cmp.pairs}
    assert pairs == {
        (a, b) for a in ("none", "plan", "cheap") for b in ("none", "plan", "cheap") if a != b
    }
    kpis = {r["kpi"] for r in cmp.pairs}
    assert {"gmv", "cost", "member_gmv_penetration", "new_members", "member_arpu"} <= kpis
    assert "profit" not in kpis  # no margin stated
    assert [(v["a"], v["b"]) for v in cmp.verdicts] == [
        ("plan", "none"),
        ("cheap", "none"),
        ("cheap", "plan"),
    ]
    # a - b and b - a are the same difference, negated
    ab = next(r for r in cmp.pairs if (r["a"], r["b"], r["kpi"]) == ("plan", "none", "gmv"))
    ba = next(r for r in cmp.pairs if (r["a"], r["b"], r["kpi"]) == ("none", "plan", "gmv"))
    assert ab["diff"] == -ba["diff"] and ab["ci_low"] == pytest.approx(-ba["ci_high"])
    by_pair = {(v["a"], v["b"]): v for v in cmp.verdicts}
    assert by_pair[("plan", "none")]["dominance"] == "trade-off"  # more GMV for more cost
    assert by_pair[("cheap", "plan")]["dominance"] == "a dominates"


def cheaper_sms(free_winback: bool = False):
    """BASE with SMS at a fifth of its cost (budgets do not bind: the same contacts).

    free_winback: and the win-back coupon also pushed (at no contact cost) to the lapsed.
    """
    data = copy.deepcopy(BASE)
    data["channels"]["sms"]["cost_per_contact"] = 0.01
    data["plan"]["coupon_sms"].pop("budget")
    if free_winback:
        data["plan"]["winback_push"] = {
            "channel": "push",
            "benefit": "winback",
            "audience": ["dormant", "churned"],
            "when": {"phases": ["first_wave", "peak_day"]},
        }
    return scenario(channels=data["channels"], plan=data["plan"])


def no_budget():
    """BASE with no budget on coupon_sms (which does not bind at BASE's cost)."""
    data = copy.deepcopy(BASE)
    data["plan"]["coupon_sms"].pop("budget")
    return scenario(plan=data["plan"])


def test_a_cheaper_channel_with_the_same_reach_dominates_on_the_simulator():
    """End to end: the same plan with SMS cheaper, and a free extra push, dominates."""
    cmp = run_comparison(
        [no_budget(), cheaper_sms(), cheaper_sms(free_winback=True)],
        ["plan", "cheap_sms", "cheap_plus_push"],
        reps=4,
        shoppers=SHOPPERS,
    )
    by_pair = {(v["a"], v["b"]): v for v in cmp.verdicts}
    same = by_pair[("cheap_sms", "plan")]
    assert same["gmv_diff"] == 0 and same["cost_diff"] < 0  # the same contacts, cheaper
    assert same["dominance"] == "a dominates"
    assert same["text"].startswith("cheap_sms dominates plan: the same gmv at ")
    more = by_pair[("cheap_plus_push", "plan")]
    assert more["dominance"] == "a dominates" and more["gmv_ci_low"] > 0
    assert more["text"].startswith("cheap_plus_push dominates plan: +")
    # the table's ROI against the first scenario is no number but says why
    roi = next(r for r in cmp.rows if (r["scenario"], r["kpi"]) == ("cheap_plus_push", "roi"))
    assert roi["mean"] is None and "dominates" in roi["note"]


def test_identical_scenarios_on_the_simulator_differ_by_exactly_zero():
    cmp = run_comparison([scenario(), scenario()], ["a", "b"], reps=2, shoppers=SHOPPERS)
    (v,) = cmp.verdicts
    assert v["dominance"] == "no clear difference" and "every replication" in v["text"]
    assert all(r["diff"] == 0 and r["exactly_zero"] for r in cmp.pairs)


# ----------------------------------------------------------------------------- touch economics
def silent_data() -> dict:
    """BASE plus an SMS touch with a budget of 0 (it contacts nobody), win-back's budget ample."""
    data = copy.deepcopy(BASE)
    data["plan"]["winback_sms"]["budget"] = 10_000
    data["plan"]["silent_sms"] = {
        "channel": "sms",
        "benefit": "winback",
        "audience": ["dormant"],
        "when": {"dates": ["2021-11-02"]},
        "budget": 0,
    }
    return data


def with_silent_touch():
    """`silent_data` as a scenario."""
    return scenario(plan=silent_data()["plan"])


def test_touch_contacts_and_spend_add_up_to_the_runs_and_budget_use_is_scaled():
    sc = scenario()
    (res,) = replicate([sc], ["s"], reps=2, shoppers=SHOPPERS)
    rows = touch_economics(res, SHOPPERS, touch_roi=False)
    assert [r["touch"] for r in rows] == list(sc.plan)
    mean = {k: np.mean(res.values(k)) for k in ("contacts", "contact_cost")}
    assert sum(r["contacts"] for r in rows) == pytest.approx(mean["contacts"])
    assert sum(r["spend"] for r in rows) == pytest.approx(mean["contact_cost"])
    coupon = rows[0]
    scale = SHOPPERS / sc.population.shoppers
    assert coupon["budget"] == 120 and coupon["budget_scaled"] == pytest.approx(120 * scale)
    assert coupon["budget_use"] == pytest.approx(coupon["spend"] / (120 * scale))
    assert coupon["benefit_touches"] == ["coupon_sms", "coupon_push"]
    assert coupon["redemptions"] == np.mean(res.values("redemptions_benefit_coupon"))
    assert coupon["incremental_gmv"] is None  # no marginal runs asked


def test_a_touch_that_contacts_nobody_adds_exactly_nothing():
    """Common random numbers: without a touch that contacted nobody, every draw is the same."""
    sc = with_silent_touch()
    (res,) = replicate([sc], ["s"], reps=2, shoppers=SHOPPERS)
    kw = dict(reps=2, seed=None, shoppers=SHOPPERS, base_dir=".", progress=False)
    rows = {r["touch"]: r for r in touch_economics(res, SHOPPERS, True, **kw)}
    silent = rows["silent_sms"]
    assert silent["contacts"] == 0 and silent["spend"] == 0
    assert silent["budget"] == 0 and silent["budget_use"] is None  # no share of nothing
    assert silent["incremental_gmv"] == 0 and silent["incremental_cost"] == 0
    assert silent["marginal_redemptions"] == 0
    assert silent["roi"] is None and silent["roi_note"] == NO_COST_DIFF
    live = rows["lockin_live"]  # a touch that does something has a marginal effect
    assert live["incremental_cost"] > 0 and live["marginal_redemptions"] > 0


# ----------------------------------------------------------------------------- the CLI
def write(folder, name: str, sc_data: dict):
    """A scenario file from a data dict."""
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(sc_data, sort_keys=False))
    return path


def test_compare_prints_and_writes_pairs_verdicts_and_touches(tmp_path, capsys):
    plan = copy.deepcopy(BASE)
    plan["plan"]["coupon_sms"].pop("budget")
    cheap = copy.deepcopy(plan)
    cheap["channels"]["sms"]["cost_per_contact"] = 0.01
    paths = [write(tmp_path, "plan", plan), write(tmp_path, "cheap", cheap)]
    out = tmp_path / "out"
    argv = [*map(str, paths), "--shoppers", str(SHOPPERS), "--reps", "3", "--out", str(out)]
    assert cli.main(["compare", *argv]) == 0
    printed = capsys.readouterr().out
    assert "cheap dominates plan: the same gmv at " in printed
    assert "pair (a - b)" in printed and "budget use" in printed
    data = json.loads((out / "comparison.json").read_text())
    assert {"meta", "rows", "pairs", "verdicts", "touches"} <= set(data)
    assert data["verdicts"][0]["dominance"] == "a dominates"
    touches = data["touches"]
    assert {r["scenario"] for r in touches} == {"plan", "cheap"}
    keys = {"contacts", "spend", "budget", "budget_use", "redemptions", "incremental_gmv"}
    keys |= {"incremental_gmv_ci_low", "roi", "roi_ci_low", "roi_note", "channel", "benefit"}
    assert keys <= set(touches[0])
    assert touches[0]["incremental_gmv"] is None  # marginal runs only with --touch-roi
    for name in ("pairs.csv", "verdicts.csv", "touches.csv", "kpi_bars.png", "increments.png"):
        assert (out / name).stat().st_size > 0
    assert (out / "touches.png").stat().st_size > 0


def test_run_touch_roi_prints_and_writes_the_touches(tmp_path, capsys):
    path = write(tmp_path, "silent", silent_data())
    out = tmp_path / "out"
    argv = ["run", str(path), "--shoppers", str(SHOPPERS), "--out", str(out), "--touch-roi"]
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    assert "marginal incr. GMV" in printed
    kpis = json.loads((out / "kpis.json").read_text())
    winback = kpis["touches"]["winback_sms"]
    assert winback["budget_low"] and winback["budget_use"] < 0.1
    assert f"winback_sms spent {winback['spend']:.4g} of its budget of 2,000 (" in printed
    silent = kpis["touches"]["silent_sms"]
    assert silent["contacts"] == 0 and silent["incremental_gmv"] == 0
    assert silent["roi"] is None and silent["roi_note"] == NO_COST_DIFF
    assert sum(t["contacts"] for t in kpis["touches"].values()) == kpis["contacts"]
    assert sum(t["spend"] for t in kpis["touches"].values()) == pytest.approx(kpis["contact_cost"])
    assert (out / "touches.png").stat().st_size > 0
    assert not math.isnan(kpis["touches"]["lockin_live"]["incremental_gmv"])
