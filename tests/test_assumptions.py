"""Assumptions as distributions: drawn per replication pair, the variance split, who beats whom."""

import math

import numpy as np
import pytest
import yaml
from helpers import scenario

from simulator.analysis.experiment import replicate, run_comparison
from simulator.analysis.uncertainty import AssumptionError, split_variance
from simulator.cli import main
from simulator.scenario.assumptions import Assumption, LogNormal, Normal, uniform_at, values_at
from simulator.scenario.load import ScenarioError, load_scenario

SHOPPERS = 3000
SMS_LIFT = {"channels.sms.response_lift": {"dist": "uniform", "low": 0.0, "high": 6.0}}


def test_a_draw_is_a_pure_function_of_seed_draw_and_key():
    a = (Assumption("x.y", Normal(dist="normal", mean=1.0, sd=0.5)),)
    assert values_at(a, 3, 7) == values_at(a, 3, 7)
    assert values_at(a, 3, 7) != values_at(a, 3, 8) != values_at(a, 4, 7)
    u = [uniform_at(1, d, "path:x") for d in range(4000)]
    assert 0 <= min(u) and max(u) < 1 and abs(np.mean(u) - 0.5) < 4 * math.sqrt(1 / 12 / 4000)


def test_truncated_draws_stay_in_their_bounds_and_follow_the_distribution():
    d = LogNormal(dist="lognormal", median=0.15, sigma=0.4, high=0.3)
    draws = np.array([d.draw(uniform_at(0, k, "k")) for k in range(1000)])
    assert draws.max() <= 0.3 and draws.min() > 0
    assert abs(np.median(draws) - d.draw(0.5)) < 0.02  # the truncated median, not 0.15


def test_the_scenario_runs_its_point_values_and_a_file_runs_like_inline(tmp_path):
    (tmp_path / "a.yaml").write_text(
        yaml.safe_dump(
            {
                "kind": "assumptions",
                "assumptions": {
                    "channels.sms.response_lift": {"dist": "normal", "mean": 2.5, "sd": 0.1}
                },
            }
        )
    )
    from helpers import BASE

    data = {**BASE, "assumption_files": ["a.yaml"]}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    with_file = load_scenario(tmp_path / "s.yaml")
    inline = scenario(channels={"sms": {**BASE["channels"]["sms"], "response_lift": 2.5}})
    assert with_file.channels["sms"].response_lift == 2.5
    a = replicate([with_file], ["f"], reps=2, shoppers=SHOPPERS, base_dirs=[tmp_path])
    b = replicate([inline], ["i"], reps=2, shoppers=SHOPPERS)
    assert a[0].kpis == b[0].kpis


def test_a_distribution_outside_its_field_is_refused_before_running(tmp_path, capsys):
    from helpers import BASE

    bad = {"channels.sms.awareness": {"dist": "normal", "mean": 0.5, "sd": 0.2}}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump({**BASE, "assumptions": bad}, sort_keys=False))
    with pytest.raises(ScenarioError, match="its lowest value .* does not fit"):
        load_scenario(tmp_path / "s.yaml")
    assert main(["validate", str(tmp_path / "s.yaml")]) == 2
    assert "assumptions.channels.sms.awareness" in capsys.readouterr().err


def uncertain(**assumptions):
    return scenario(assumptions=assumptions)


def test_intervals_widen_and_the_variance_parts_add_up_to_the_total():
    """Drawn: the spread of one outcome includes the assumptions; the ANOVA parts add up to the
    total variance of all runs within its sampling error."""
    draws = 40
    rate = {"population.purchase_rate.alpha": {"dist": "uniform", "low": 3.0, "high": 6.0}}
    sc = uncertain(**rate)  # the shoppers are redrawn for each draw of their purchase rate
    (drawn,) = replicate([sc], ["s"], reps=2 * draws, shoppers=SHOPPERS, assumptions="drawn")
    (fixed,) = replicate([sc], ["s"], reps=2 * draws, shoppers=SHOPPERS)
    gmv = drawn.values("gmv")
    split = split_variance(gmv, drawn.draws)
    total_direct = np.var(gmv, ddof=1)
    # the sample variance of 2D runs with D independent draws: about D effective values
    se = total_direct * math.sqrt(2 / (draws - 1))
    assert abs(split["var_assumptions"] + split["var_noise"] - total_direct) < 3 * se
    assert split["assumption_share"] > 0.5  # the purchase rate drives GMV
    noise_fixed = np.var(fixed.values("gmv"), ddof=1)
    assert split["total_high"] - split["total_low"] > 2 * 1.96 * math.sqrt(noise_fixed)
    # the two runs of a draw share its parameters and differ in their seeds
    assert drawn.assumed[0] == drawn.assumed[1] != drawn.assumed[2]


def test_the_probability_of_beating_follows_the_draws_that_favour_each():
    """A's SMS response is uncertain around B's fixed one: A wins exactly in the draws where its
    response is larger (away from the tie, where noise can decide)."""
    lift = "channels.sms.response_lift"
    a = uncertain(**{lift: {"dist": "uniform", "low": 0.0, "high": 2.0}})
    from helpers import BASE

    b = scenario(channels={"sms": {**BASE["channels"]["sms"], "response_lift": 1.0}})
    base = scenario(plan={})
    cmp = run_comparison(
        [base, a, b], ["base", "a", "b"], reps=24, shoppers=SHOPPERS, assumptions="drawn"
    )
    row = next(r for r in cmp.pairs if (r["a"], r["b"], r["kpi"]) == ("a", "b", "gmv"))
    theta = np.array([v[lift] for v in cmp.results[1].assumed[::2]])
    clear = np.abs(theta - 1.0) > 0.3
    assert row["draws"] == 12 and 0 < row["p_a_beats_b"] < 1 and not row["robust"]
    (said,) = [v["text"] for v in cmp.verdicts if (v["a"], v["b"]) == ("b", "a")]
    assert "assumption draws (not robust" in said
    # b against a is the same probability from the other side
    back = next(r for r in cmp.pairs if (r["a"], r["b"], r["kpi"]) == ("b", "a", "gmv"))
    assert back["p_a_beats_b"] == pytest.approx(1 - row["p_a_beats_b"])
    # wins counted per draw agree with the draws' side of the tie where it is clear
    gains_a = np.array(cmp.results[1].values("gmv")) - np.array(cmp.results[0].values("gmv"))
    gains_b = np.array(cmp.results[2].values("gmv")) - np.array(cmp.results[0].values("gmv"))
    per_draw = (gains_a - gains_b).reshape(-1, 2).mean(axis=1)
    assert ((per_draw > 0) == (theta > 1.0))[clear].all()
    assert row["p_a_beats_b"] == pytest.approx((per_draw > 0).mean())


def test_drawn_assumptions_need_pairs_of_replications():
    with pytest.raises(AssumptionError, match="even number of at least 4"):
        replicate([uncertain(**SMS_LIFT)], ["s"], reps=5, shoppers=500, assumptions="drawn")


def test_identical_scenarios_differ_by_exactly_zero_with_assumptions_drawn():
    cmp = run_comparison(
        [uncertain(**SMS_LIFT), uncertain(**SMS_LIFT)],
        ["a", "b"],
        reps=4,
        shoppers=SHOPPERS,
        assumptions="drawn",
    )
    diffs = [r["diff"] for r in cmp.rows if r["scenario"] == "b" and r["diff"] is not None]
    assert diffs and all(d == 0 for d in diffs)


def test_compare_prints_who_beats_whom(tmp_path, capsys):
    from helpers import BASE

    for name, data in {
        "base": {**BASE, "plan": {}, "assumptions": SMS_LIFT},
        "plan": {**BASE, "assumptions": SMS_LIFT},
    }.items():
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    args = [str(tmp_path / "base.yaml"), str(tmp_path / "plan.yaml"), "--reps", "4"]
    out = tmp_path / "out"
    assert main(["compare", *args, "--shoppers", "2000", "--out", str(out), "--no-plots"]) == 0
    printed = capsys.readouterr().out
    assert "95% under assumptions" in printed and "assumption draws" in printed
    assert (out / "pairs.csv").exists() and (out / "verdicts.csv").exists()


def test_sensitivity_finds_the_assumption_that_decides_between_two_strategies(tmp_path, capsys):
    """A and B differ only in the coupon touch's channel (SMS for A, push for B): the choice
    between them hangs on the SMS response, not on the purchase rate that moves both alike."""
    from helpers import BASE

    shared = {
        "channels.sms.response_lift": {"dist": "uniform", "low": 0.0, "high": 6.0},
        "population.purchase_rate.alpha": {"dist": "uniform", "low": 3.5, "high": 4.5},
    }
    moved = {k: v for k, v in BASE["plan"]["coupon_sms"].items() if k != "budget"}
    b_plan = {**BASE["plan"], "coupon_sms": {**moved, "channel": "push"}}
    for name, data in {
        "base": {**BASE, "plan": {}, "assumptions": shared},
        "a": {**BASE, "assumptions": shared},
        "b": {**BASE, "plan": b_plan, "assumptions": shared},
    }.items():
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    paths = [str(tmp_path / f"{n}.yaml") for n in ("base", "a", "b")]
    out = tmp_path / "sens"
    args = ["sensitivity", *paths, "--sobol", "8", "--shoppers", "1500", "--out", str(out)]
    assert main([*args, "--no-plots", "--quiet"]) == 0
    import csv

    rows = list(csv.DictReader((out / "sobol.csv").open()))
    top = {r["kpi"]: r["factor"] for r in rows if r["rank"] == "1"}
    assert top["a-b.incremental_gmv"] == "path:channels.sms.response_lift"
