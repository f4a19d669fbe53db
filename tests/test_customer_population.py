"""A population built from a store's own customers: each customer is the store's, not a prior draw.

The acceptance check of issue 17: CDNOW's first 39 weeks become a customer table; simulated
through weeks 40-78 with no campaign, the customers of each calibration frequency (0, 1, ..., 7+)
buy, on average, the BG/NBD conditional expectation of their own histories, within Monte Carlo
error. That holds only if each customer's rate and dropout are drawn from the posterior given
their history (a prior draw would give every group the same mean).
"""

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
import yaml
from test_reference_equivalence import FEATURES_YAML, run_side_by_side

from simulator.clv.bgnbd import conditional_expected_purchases, prob_alive
from simulator.clv.customer_build import build_customers
from simulator.clv.customer_lists import read_customer_list
from simulator.clv.customer_table import write_customer_table
from simulator.clv.params_file import read_params
from simulator.clv.segment_rules import parse_rule
from simulator.clv.transactions import CDNOW_CAL_END, day_number, load_transactions
from simulator.domain.lifecycle import ALIVE, STATES
from simulator.engine.customers import CustomerSampleError, sample_rows
from simulator.engine.model import PromotionModel
from simulator.engine.rng import replication_seed
from simulator.scenario.load import validate_data

ROOT = Path(__file__).resolve().parents[1]
CDNOW = ROOT / "calibration" / "data" / "CDNOW_master.txt"
FIT = ROOT / "calibration" / "params" / "cdnow_master.yaml"  # fitted on the same 39 weeks
HOLDOUT_DAYS = 273  # weeks 40-78: 1997-10-01 .. 1998-06-30
X_GROUPS = 8  # calibration frequency 0, 1, ..., 6 and 7+
Z = 4.0  # |simulated - analytic| < Z standard errors in each of 8 groups and the total


@pytest.fixture(scope="module")
def cdnow_table(tmp_path_factory):
    """The CDNOW customers' table as of the end of week 39, and its path."""
    tx = load_transactions(CDNOW, "cdnow")
    table = build_customers(tx, read_params(FIT), as_of=day_number(CDNOW_CAL_END))
    path = tmp_path_factory.mktemp("customers") / "cdnow39.parquet"
    write_customer_table(path, table)
    return table, path


def holdout_scenario(path: Path):
    """No campaign over the holdout; every visit buys (the BG/NBD process, as the backtest)."""
    start = CDNOW_CAL_END + dt.timedelta(days=1)
    data = {
        "schema_version": 2,
        "name": "CDNOW holdout",
        "population": {
            "customers": path.name,
            "conversion_per_visit": 1.0,
            "enrol_per_visit": 0.0,
        },
        "calendar": {"start": start, "end": start + dt.timedelta(days=HOLDOUT_DAYS - 1)},
    }
    return validate_data(data, "holdout", base_dir=path.parent)


def holdout_purchase_days(scenario, seed: int, base_dir: Path) -> np.ndarray:
    """Each shopper's purchase days over the calendar (the kernel sets last_purchase to d)."""
    model = PromotionModel(scenario, seed=seed, threads=1, base_dir=base_dir)
    bought = np.zeros(model.shoppers.n, np.int64)
    for d in range(len(scenario.days)):
        model.step()
        bought += model.shoppers.last_purchase == d
    return bought


def test_holdout_purchases_by_calibration_frequency_match_the_conditional_expectation(
    cdnow_table,
):
    table, path = cdnow_table
    scenario = holdout_scenario(path)
    assert scenario.population.shoppers == table.n == 23_570
    fit = table.params
    unit = fit.time_unit_days
    x = table.purchase_days - 1
    t_x = (table.last_day - table.first_day) / unit
    T = (table.as_of - table.first_day) / unit
    bg = fit.bgnbd
    expected = conditional_expected_purchases(
        HOLDOUT_DAYS / unit, x, t_x, T, bg.r, bg.alpha, bg.a, bg.b
    )
    group = np.minimum(x, X_GROUPS - 1)
    reps = 12
    y = np.stack(
        [holdout_purchase_days(scenario, replication_seed(5, k), path.parent) for k in range(reps)]
    )
    for g in [*range(X_GROUPS), None]:  # None: all customers
        inside = np.ones(table.n, bool) if g is None else group == g
        sims = y[:, inside]
        # customers are independent, replications too: the standard error of the mean over
        # both, with the variance estimated from the simulated values themselves
        se = sims.std(ddof=1) / np.sqrt(sims.size)
        assert abs(sims.mean() - expected[inside].mean()) < Z * se, (g, sims.mean(), se)
    # the groups differ as their histories do: a prior draw would give every group ~0.5
    means = [y[:, group == g].mean() for g in range(X_GROUPS)]
    assert means[-1] > 5 * means[0]


def test_a_customer_who_stopped_long_ago_is_drawn_as_likely_inactive(cdnow_table):
    table, path = cdnow_table
    model = PromotionModel(holdout_scenario(path), seed=1, threads=1, base_dir=path.parent)
    alive = (model.shoppers.flags & ALIVE).astype(bool)
    x = table.purchase_days - 1
    unit = table.params.time_unit_days
    bg = table.params.bgnbd
    chance = prob_alive(
        x,
        (table.last_day - table.first_day) / unit,
        (table.as_of - table.first_day) / unit,
        bg.r,
        bg.alpha,
        bg.a,
        bg.b,
    )
    idle = table.as_of - table.last_day
    quiet = (x >= 3) & (idle > 200)  # bought often, then stopped
    recent = (x >= 3) & (idle < 14)
    for group in (quiet, recent):
        p = chance[group]
        se = np.sqrt((p * (1 - p)).sum()) / group.sum()  # independent Bernoulli draws
        assert abs(alive[group].mean() - p.mean()) < Z * se
    assert alive[quiet].mean() < 0.5 < 0.8 < alive[recent].mean()


def synthetic_store(folder: Path, n: int = 3000, seed: int = 3):
    """A two-year log to 2021-09-30, a member list (half the buyers and some who never bought,
    with a `fan` column) and the table built from them with prospects and segment rules."""
    rng = np.random.default_rng(seed)
    end = dt.date(2021, 9, 30)
    rows = ["customer_id,date,amount"]
    for c in range(n):
        first = int(rng.integers(0, 730))
        days = first + np.unique(rng.integers(0, 730 - first, size=rng.poisson(2.0)))
        for d in {first, *days.tolist()}:
            when = end - dt.timedelta(days=729 - d)
            rows.append(f"c{c},{when.isoformat()},{rng.gamma(3.0, 40.0):.2f}")
    (folder / "log.csv").write_text("\n".join(rows) + "\n")
    members = ["customer_id,join_date,fan"]
    for c in range(0, n, 2):
        members.append(f"c{c},{end - dt.timedelta(days=int(rng.integers(0, 900)))},{c % 3 == 0}")
    for k in range(300):
        members.append(f"m{k},{end - dt.timedelta(days=int(rng.integers(0, 60)))},1")
    (folder / "members.csv").write_text("\n".join(members) + "\n")
    tx = load_transactions(folder / "log.csv", "csv")
    rules = tuple(
        parse_rule(r)
        for r in ("high_value=top_spend:0.2", "sms_sensitive=recent:30", "points_user=bought:2:365")
    )
    table = build_customers(
        tx,
        read_params(FIT),
        members=read_customer_list(folder / "members.csv", members=True),
        prospects=500,
        rules=rules,
    )
    write_customer_table(folder / "store.parquet", table)
    return table


def test_reference_matches_engine_on_a_customer_table(tmp_path):
    """The every-feature campaign on a sample of a store's own customers: the reference model
    (drawing each customer from the posterior in plain Python) matches the engine every day."""
    table = synthetic_store(tmp_path)
    data = yaml.safe_load(FEATURES_YAML)
    kept = ("prospect_rate_scale", "conversion_per_visit", "enrol_per_visit", "offer_response")
    pop = {k: v for k, v in data["population"].items() if k in kept}
    pop |= {
        "customers": "store.parquet",
        "shoppers": 2000,  # a sample of the table's rows
        "dormant_after_days": 120,
        "churn_after_days": 400,
        "segments": {"high_value": {"price_sensitivity": 0.5}, "fan": {"price_sensitivity": 1.5}},
    }
    data["population"] = pop
    path = tmp_path / "store.yaml"
    path.write_text(yaml.safe_dump(data))
    engine = run_side_by_side(path)
    states = np.bincount(engine.shoppers.state, minlength=len(STATES))
    assert table.n == 3000 + 300 + 500 and (states[: len(STATES) - 1] > 0).all()
    total = engine.daily_int.sum(axis=0)
    assert total[engine.layout.columns["buyer_days"][1]] > 0


def test_a_larger_sample_holds_a_smaller_one():
    small, large = sample_rows(10_000, 1_000, 7), sample_rows(10_000, 4_000, 7)
    assert len(np.setdiff1d(small, large)) == 0 and len(np.unique(large)) == 4_000
    assert (np.diff(large) > 0).all()
    with pytest.raises(CustomerSampleError, match="at most 10,000"):
        sample_rows(10_000, 10_001, 7)
