"""Benchmark: load a 3-million-row shop export as CSV, gzip and Parquet; print JSON per file.

The export is Tmall-like (买家ID, 付款时间 timestamps to the second, 实付金额 with two decimals;
2% of the rows are same-day refunds, 1% refunds days later) for 400,000 customers over a year.
Written once into ``--folder``: ``export.csv`` (just under the 100 MB limit), ``export.csv.gz``,
``export_text.parquet`` (the CSV's text columns) and ``export_typed.parquet`` (int64 ids, a
timestamp and a float64 amount). Each file is loaded in a fresh process (so its peak memory is
its own): the best of ``--repeats`` loads after one warm-up load.
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

COLUMNS = {"customer": "买家ID", "date": "付款时间", "amount": "实付金额"}


def write_files(folder: Path, rows: int, seed: int) -> list[Path]:
    """Write the synthetic export in the four formats (skipped when they exist)."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / n for n in ("export.csv", "export.csv.gz")]
    paths += [folder / n for n in ("export_text.parquet", "export_typed.parquet")]
    if all(p.exists() for p in paths):
        return paths
    rng = np.random.default_rng(seed)
    buyer = rng.integers(100_000, 500_000, rows)
    paid = 1_609_430_400 + rng.integers(0, 365 * 86_400, rows)  # 2021, local clock
    amount = np.round(rng.gamma(2.0, 40.0, rows), 2)
    refund = rng.random(rows)
    later = refund < 0.01
    same = (refund >= 0.01) & (refund < 0.03)
    amount[later | same] = -np.round(amount[later | same] / 2, 2)
    paid[later] += 3 * 86_400
    stamps = pd.to_datetime(paid, unit="s")
    text = pd.DataFrame(
        {
            COLUMNS["customer"]: buyer.astype(str),
            COLUMNS["date"]: stamps.strftime("%Y-%m-%d %H:%M:%S"),
            COLUMNS["amount"]: [f"{a:.2f}" for a in amount],
        }
    )
    text.to_csv(paths[0], index=False)
    paths[1].write_bytes(gzip.compress(paths[0].read_bytes(), compresslevel=6))
    pq.write_table(pa.Table.from_pandas(text.astype(str), preserve_index=False), paths[2])
    typed = pa.table(
        {
            COLUMNS["customer"]: pa.array(buyer, pa.int64()),
            COLUMNS["date"]: pa.array(paid, pa.timestamp("s")),
            COLUMNS["amount"]: pa.array(amount, pa.float64()),
        }
    )
    pq.write_table(typed, paths[3])
    return paths


def measure(path: Path, repeats: int) -> dict:
    """Load one file (one warm-up, then the best of `repeats`); figures as a dict."""
    from simulator.clv.transactions import LogLayout, load_transactions

    layout = LogLayout(columns=COLUMNS)
    tx = load_transactions(path, layout=layout)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        tx = load_transactions(path, layout=layout)
        times.append(time.perf_counter() - t0)
    return {
        "file": path.name,
        "bytes": path.stat().st_size,
        "rows": tx.notes.rows,
        "transactions": tx.n_transactions,
        "customers": tx.n_customers,
        "refund_rows": tx.notes.refunds.refund_rows,
        "load_s": round(min(times), 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    """Write the files, then measure each in a child process and print one JSON line each."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folder", type=Path, default=Path("/tmp/promosim_bench_exports"))
    parser.add_argument("--rows", type=int, default=3_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.repeats), ensure_ascii=False))
        return
    for path in write_files(args.folder, args.rows, args.seed):
        cmd = [sys.executable, __file__, "--child", str(path), "--repeats", str(args.repeats)]
        print(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
