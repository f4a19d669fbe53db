"""Replications, common random numbers and confidence intervals."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import scenario

from simulator.analysis.experiment import ExperimentError, replicate, run_comparison
from simulator.analysis.stats import mean_ci
from simulator.engine.population import draw_population
from simulator.scenario.load import validate_data

R_, ALPHA_WEEKS, A_, B_ = 0.25, 6.0, 0.8, 2.4
P_, Q_, V_ = 6.0, 4.0, 80.0


def test_scenario_against_itself_is_exactly_zero():
    sc = scenario()
    cmp = run_comparison([sc, scenario()], ["a", "b"], reps=3, shoppers=3000)
    for row in cmp.rows:
        if row["scenario"] == "b" and row["diff"] is not None:
            assert row["diff"] == 0.0 and row["diff_sd"] == 0.0, row["kpi"]
    for ka, kb in zip(cmp.results[0].kpis, cmp.results[1].kpis, strict=True):
        assert ka == kb  # every KPI in every replication


def test_independent_seeds_differ():
    sc = scenario()
    cmp = run_comparison([sc, scenario()], ["a", "b"], reps=2, shoppers=3000, independent=True)
    gmv = [r for r in cmp.rows if r["scenario"] == "b" and r["kpi"] == "gmv"][0]
    assert gmv["diff_sd"] > 0


def test_refuses_different_populations_and_calendars():
    a = scenario()
    other_pop = scenario(population={"enrol_per_visit": 0.05})
    with pytest.raises(ExperimentError, match="population"):
        run_comparison([a, other_pop], ["a", "b"], reps=1, shoppers=500)
    other_cal = scenario(calendar={"end": "2021-11-12"})
    with pytest.raises(ExperimentError, match="calendar"):
        run_comparison([a, other_cal], ["a", "c"], reps=1, shoppers=500)


def known_effect_pair(days: int):
    """No-campaign customers vs the same with 10% member price on every order.

    Every visit buys (conversion 1), so the price changes nothing but what each order pays:
    the paired GMV difference is exactly -10% of the first scenario's GMV.
    """
    pop = {
        "mix": {"repeat": 1.0},
        "segments": {},
        "purchase_rate": {"r": R_, "alpha": ALPHA_WEEKS, "time_unit_days": 7},
        "dropout": {"a": A_, "b": B_},
        "basket": {"p": P_, "q": Q_, "v": V_},
        "conversion_per_visit": 1.0,
        "initial_alive": {},
    }
    cal = {"start": "2022-01-01", "end": f"2022-01-{days:02d}", "phases": []}
    base = scenario(population=pop, calendar=cal, benefits={}, channels={}, plan={})
    data = base.model_dump(mode="json")
    data["benefits"] = {"cheaper": {"type": "member_price", "offer": {"percent_off": 0.1}}}
    return base, validate_data(data), len(base.days)


def expected_gmv(sc, shoppers: int, population_seed: int, days: int) -> float:
    """E[GMV | these shoppers]: each active shopper orders lambda times a day on average (every
    visit buys), and drops out with probability p after each purchase. Over t days the
    purchases without dropout are N, about Poisson(lambda t) (exactly so up to O(lambda^2) a
    day), and the last one allowed is G ~ Geometric(p), so E[orders] = E[min(N, G)] =
    (1 - E[(1 - p)^N]) / p = (1 - exp(-lambda p t)) / p; an order is worth Gamma(p_gg) x the
    stored basket scale, on average p_gg x scale."""
    pop = draw_population(sc.population, population_seed, shoppers, 0)
    total = 0.0
    for i in range(shoppers):
        lam = float(pop.rate[i])
        p = float(pop.dropout[i])
        orders = -math.expm1(-lam * p * days) / p
        total += orders * P_ * float(pop.basket_scale[i])
    return total


def test_ci_covers_known_difference_at_nominal_rate():
    """Coverage of the paired 95% CI over many small comparisons, within binomial error.

    The population is fixed; the truth is the exact expected difference for these shoppers.
    """
    base, cheaper, days = known_effect_pair(31)
    shoppers, reps, trials, pop_seed = 2000, 4, 120, 1
    truth = -0.1 * expected_gmv(base, shoppers, pop_seed, days)
    covered, means, se2 = 0, [], []
    for trial in range(trials):
        res = replicate(
            [base, cheaper],
            ["base", "cheaper"],
            reps=reps,
            seed=1000 + 97 * trial,
            shoppers=shoppers,
            population_seed=pop_seed,
        )
        diffs = [b - a for a, b in zip(res[0].values("gmv"), res[1].values("gmv"), strict=True)]
        m, lo, hi = mean_ci(diffs)
        covered += lo <= truth <= hi
        means.append(m)
        se2.append(np.var(diffs, ddof=1) / reps)
    expected = 0.95 * trials
    sd = math.sqrt(trials * 0.95 * 0.05)
    assert abs(covered - expected) <= 3.5 * sd, (covered, expected)
    # and not too wide: the standard errors behind the intervals match the spread of the
    # estimates. Relative sampling error of that ratio: the SD of `trials` means, and the mean
    # of `trials` variances from `reps` - 1 degrees of freedom (normal approximation).
    ratio = np.std(means, ddof=1) / math.sqrt(np.mean(se2))
    rel = math.sqrt(1 / (2 * (trials - 1)) + 1 / (2 * (reps - 1) * trials))
    assert abs(ratio - 1) <= 3.5 * rel, (ratio, rel)


def test_incremental_profit_rows_need_a_margin():
    """compare's incremental_profit is the paired profit difference, only with a margin."""
    none = {"benefits": {}, "channels": {}, "plan": {}}
    with_margin = [scenario(margin=0.4, **none), scenario(margin=0.4)]
    cmp = run_comparison(with_margin, ["none", "campaign"], reps=2, shoppers=3000)
    inc = {r["kpi"]: r for r in cmp.rows if r["scenario"] == "campaign" and r["diff"] is None}
    base, alt = cmp.results
    diffs = [
        0.4 * (a["gmv_list"] - b["gmv_list"])
        - (a["discounts"] - b["discounts"])
        - (a["cost"] - b["cost"])
        for a, b in zip(alt.kpis, base.kpis, strict=True)
    ]
    assert inc["incremental_profit"]["mean"] == pytest.approx(np.mean(diffs))
    assert inc["incremental_profit"]["reps"] == 2
    assert list(inc) == ["incremental_gmv", "incremental_cost", "roi", "incremental_profit"]
    without = run_comparison([scenario(**none), scenario()], ["none", "c"], reps=1, shoppers=3000)
    assert "incremental_profit" not in {r["kpi"] for r in without.rows}
