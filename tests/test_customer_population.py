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

from simulator.clv.bgnbd import conditional_expected_purchases, prob_alive
from simulator.clv.customer_build import build_customers
from simulator.clv.customer_table import write_customer_table
from simulator.clv.params_file import read_params
from simulator.clv.transactions import CDNOW_CAL_END, day_number, load_transactions
from simulator.domain.lifecycle import ALIVE
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
