"""Accuracy: CDNOW's customers as a population, simulated through the holdout with no campaign.

Builds the customer table of CDNOW's first 39 weeks (`population build`), runs weeks 40-78 in the
engine with no campaign and every visit buying (the BG/NBD process), and prints, per calibration
frequency, the actual holdout purchase days, the BG/NBD conditional expectation of each
customer's history, and the engine's mean over replications with its standard error: as JSON,
then as the Markdown table of docs/calibration.md.

    python benchmarks/customer_holdout.py --reps 30
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
from pathlib import Path

import numpy as np

from simulator.clv.bgnbd import conditional_expected_purchases
from simulator.clv.customer_build import build_customers
from simulator.clv.customer_table import write_customer_table
from simulator.clv.params_file import read_params
from simulator.clv.summaries import holdout_repeat_counts, summarise
from simulator.clv.transactions import (
    CDNOW_CAL_END,
    CDNOW_END,
    day_number,
    load_transactions,
)
from simulator.engine.model import PromotionModel
from simulator.engine.rng import replication_seed
from simulator.scenario.load import validate_data

ROOT = Path(__file__).resolve().parents[1]
HOLDOUT_DAYS = 273


def main() -> None:
    """Run the check and print JSON and Markdown."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=30)
    args = ap.parse_args()
    tx = load_transactions(ROOT / "calibration/data/CDNOW_master.txt", "cdnow")
    cal_end = day_number(CDNOW_CAL_END)
    table = build_customers(
        tx, read_params(ROOT / "calibration/params/cdnow_master.yaml"), as_of=cal_end
    )
    folder = Path(tempfile.mkdtemp())
    write_customer_table(folder / "cdnow39.parquet", table)
    start = CDNOW_CAL_END + dt.timedelta(days=1)
    scenario = validate_data(
        {
            "schema_version": 2,
            "name": "CDNOW holdout",
            "population": {
                "customers": "cdnow39.parquet",
                "conversion_per_visit": 1.0,
                "enrol_per_visit": 0.0,
            },
            "calendar": {"start": start, "end": start + dt.timedelta(days=HOLDOUT_DAYS - 1)},
        },
        base_dir=folder,
    )
    actual = holdout_repeat_counts(tx, summarise(tx, cal_end), day_number(CDNOW_END))
    bg, unit = table.params.bgnbd, table.params.time_unit_days
    x = table.purchase_days - 1
    t_x = (table.last_day - table.first_day) / unit
    T = (table.as_of - table.first_day) / unit
    expected = conditional_expected_purchases(
        HOLDOUT_DAYS / unit, x, t_x, T, bg.r, bg.alpha, bg.a, bg.b
    )
    y = np.zeros((args.reps, table.n))
    for k in range(args.reps):
        model = PromotionModel(scenario, seed=replication_seed(11, k), base_dir=folder)
        for d in range(HOLDOUT_DAYS):
            model.step()
            y[k] += model.shoppers.last_purchase == d
    group = np.minimum(x, 7)
    rows = []
    for g in [*range(8), None]:
        inside = np.ones(table.n, bool) if g is None else group == g
        sims = y[:, inside]
        rows.append(
            {
                "x": "all" if g is None else ("7+" if g == 7 else str(g)),
                "customers": int(inside.sum()),
                "actual": float(actual[inside].mean()),
                "bgnbd": float(expected[inside].mean()),
                "engine": float(sims.mean()),
                "engine_se": float(sims.std(ddof=1) / np.sqrt(sims.size)),
            }
        )
    print(json.dumps({"reps": args.reps, "rows": rows}, indent=2))
    print("| calibration x | customers | actual | BG/NBD E[Y given history] | engine ± s.e. |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['x']} | {r['customers']:,} | {r['actual']:.3f} | {r['bgnbd']:.3f} | "
            f"{r['engine']:.3f} ± {r['engine_se']:.3f} |"
        )


if __name__ == "__main__":
    main()
