"""With no campaign and flat traffic the engine is the BG/NBD + Gamma-Gamma process.

Checked against the analytic BG/NBD expectation E[X(t)] (Fader, Hardie & Lee 2005, eq. 7) and the
Gamma-Gamma mean order value p*v/(q-1). Tolerances come from the replication-to-replication
spread (a t interval at 99.9%), not from guesses. With traffic 1 and conversion 1 the engine
draws one purchase a day with probability lambda (every visit buys), and more only for a shopper
whose lambda is above 1 a day, so its expected count per active day equals the Poisson
process's; the remaining discretisation (several purchases in one day) is O(lambda^2), far below
the sampling error at these rates.
"""

from __future__ import annotations

import numpy as np
from helpers import scenario
from scipy import stats

from simulator.clv.bgnbd import expected_purchases
from simulator.clv.gamma_gamma import population_mean_spend
from simulator.engine.rng import replication_seed
from simulator.engine.run import simulate

R_, ALPHA_WEEKS, A_, B_ = 0.25, 6.0, 0.8, 2.4
P_, Q_, V_ = 6.0, 4.0, 80.0
REPS, SHOPPERS = 12, 40_000


def customers_only():
    """Everyone a just-bought, active old customer; no benefits; traffic 1; visit = purchase."""
    return scenario(
        population={
            "shoppers": SHOPPERS,
            "mix": {"repeat": 1.0},
            "segments": {},
            "purchase_rate": {"r": R_, "alpha": ALPHA_WEEKS, "time_unit_days": 7},
            "dropout": {"a": A_, "b": B_},
            "basket": {"p": P_, "q": Q_, "v": V_},
            "conversion_per_visit": 1.0,
            "initial_alive": {},
        },
        calendar={"start": "2022-01-01", "end": "2022-06-30", "phases": []},
        benefits={},
        channels={},
        plan={},
    )


def test_cumulative_purchases_match_bgnbd_expectation():
    sc = customers_only()
    runs = [simulate(sc, seed=replication_seed(11, k)) for k in range(REPS)]
    orders = np.array([r.series("orders_old_member") for r in runs]).cumsum(axis=1) / SHOPPERS
    gmv = np.array([r.total("gmv_old_member") for r in runs])
    t_crit = stats.t.ppf(1 - 0.0005, REPS - 1)
    for day in (14, 45, 90, len(sc.days)):
        expected = expected_purchases(day, R_, ALPHA_WEEKS * 7, A_, B_)
        mean = orders[:, day - 1].mean()
        se = orders[:, day - 1].std(ddof=1) / np.sqrt(REPS)
        assert abs(mean - expected) < t_crit * se, (day, mean, expected, se)
    # Gamma-Gamma: mean value per order
    per_order = gmv / (orders[:, -1] * SHOPPERS)
    se = per_order.std(ddof=1) / np.sqrt(REPS)
    assert abs(per_order.mean() - population_mean_spend(P_, Q_, V_)) < t_crit * se


def test_dropout_stops_purchases():
    """With p = 1 (a -> large, b small) each shopper buys at most once more."""
    sc = customers_only()
    data = sc.model_dump()
    data["population"]["dropout"] = {"a": 1e6, "b": 1e-3}
    from simulator.scenario.load import validate_data

    r = simulate(validate_data(data), shoppers=5000)
    assert r.total("orders_old_member") == r.total("new_member_buyers")
    assert r.total("dropouts") == r.total("orders_old_member")
