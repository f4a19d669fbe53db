"""Benchmark: build a customer table of N synthetic customers and print JSON.

Times each stage of `promosim population build` on an in-memory log of N customers (buying by
BG/NBD over two years, half of them members, 10% prospects): the BG/NBD and Gamma-Gamma fit of
the history (on at most 3 x 10^5 customers, as the command), the table (histories, membership, three
segment rules), writing the Parquet file, reading it back, and the engine's posterior draw of
every customer. Reading the log itself is the transaction loader's (docs/calibration.md, "Your
own export").

    python benchmarks/bench_population_build.py --customers 10000000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from simulator.cli.population import fit_sample
from simulator.clv.customer_build import build_customers
from simulator.clv.customer_lists import CustomerList
from simulator.clv.customer_table import read_customer_table, write_customer_table
from simulator.clv.segment_rules import parse_rule
from simulator.clv.transactions import Transactions, day_number
from simulator.engine.population import customers_of, initialise, resolve_params
from simulator.engine.shoppers import allocate
from simulator.fitting.backtest.calibration import calibrate
from simulator.scenario.schema import Population

END = dt.date(2021, 10, 14)
MAX_REPEATS = 12
FIT_SAMPLE = 300_000  # as `population build --fit-sample`


def synthetic_log(n: int, seed: int, chunk: int = 1_000_000) -> Transactions:
    """N customers buying by BG/NBD (CDNOW-like rates per day) over the two years to END.

    Each customer's first purchase is on a uniform day; up to MAX_REPEATS repeat purchases follow
    at Poisson rate lambda ~ Gamma(0.25, 35 days), each ending activity with p ~ Beta(0.7, 2.2).
    """
    rng = np.random.default_rng(seed)
    parts = []
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        first = rng.integers(0, 730, m)
        lam = rng.gamma(0.25, 1 / 35.0, m)
        p = rng.beta(0.7, 2.2, m)
        gaps = rng.exponential(1.0, (m, MAX_REPEATS)) / lam[:, None]
        times = first[:, None] + np.cumsum(gaps, axis=1)
        alive = np.cumprod(rng.random((m, MAX_REPEATS)) >= p[:, None], axis=1) > 0
        alive = np.hstack([np.ones((m, 1), bool), alive[:, :-1]])  # drop out after a purchase
        keep = alive & (times < 730)
        days = np.hstack([first[:, None], np.where(keep, times, -1).astype(np.int64)])
        cust = np.repeat(np.arange(start, start + m), MAX_REPEATS + 1).reshape(m, -1)
        ok = days >= 0
        parts.append((cust[ok], days[ok]))
    customer = np.concatenate([c for c, _ in parts]).astype(np.int64)
    day = (day_number(END) - 729 + np.concatenate([d for _, d in parts])).astype(np.int32)
    amount = rng.gamma(3.0, 40.0, len(customer))
    return Transactions(customer, day, amount, np.arange(n).astype(str).astype(object), "synth")


def members_of(n: int, seed: int) -> CustomerList:
    """Every other customer is a member, joined at a random day of the two years."""
    rng = np.random.default_rng(seed + 1)
    ids = np.arange(0, n, 2).astype(str).astype(object)
    join = (day_number(END) - rng.integers(0, 730, len(ids))).astype(np.int32)
    return CustomerList("members", ids, np.arange(2, len(ids) + 2), join, {})


def main() -> None:
    """Time the stages and print one JSON object."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    n = args.customers
    tx = synthetic_log(n, args.seed)
    members = members_of(n, args.seed)
    rules = tuple(
        parse_rule(r)
        for r in ("high_value=top_spend:0.2", "points_user=bought:2:365", "fan=recent:360")
    )
    t = [time.perf_counter()]
    cal = calibrate(fit_sample(tx, FIT_SAMPLE), day_number(END), 7.0, source="synthetic")
    t.append(time.perf_counter())
    table = build_customers(
        tx, cal.params, members=members, prospects=n // 10, rules=rules, as_of=day_number(END)
    )
    t.append(time.perf_counter())
    path = Path(tempfile.mkdtemp()) / "customers.parquet"
    write_customer_table(path, table)
    t.append(time.perf_counter())
    back = read_customer_table(path)
    t.append(time.perf_counter())
    pop = Population(customers=path.name)
    params = resolve_params(pop, path.parent)
    shoppers = allocate(back.n, 0)
    initialise(
        shoppers, params, customers_of(pop, path.parent, END + dt.timedelta(1), back.n, params)
    )
    t.append(time.perf_counter())
    stages = ["fit", "build", "write", "read", "draw"]
    seconds = {s: round(b - a, 3) for s, a, b in zip(stages, t, t[1:], strict=False)}
    print(
        json.dumps(
            {
                "customers": n,
                "rows": table.n,
                "transactions": tx.n_transactions,
                "seconds": seconds,
                "build_s": round(sum(seconds[s] for s in ("fit", "build", "write")), 3),
                "file_mb": round(path.stat().st_size / 1e6, 1),
                "fit": cal.params.bgnbd.model_dump(),
            }
        )
    )


if __name__ == "__main__":
    main()
