"""Benchmark: time `fit_bgnbd` on a synthetic summary of one million customers and print JSON.

The customers join over 12 weeks and are summarised at the end of week 39 on a daily clock, as a
real transaction log would be (times in weeks, recorded to the day). With ``--continuous`` the
times are left unrounded, so almost no rows can be compressed (the worst case).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from simulator.clv.bgnbd import fit_bgnbd, simulate_bgnbd

TRUE = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}


def synthetic_summary(n: int, seed: int, continuous: bool):
    """Draw a CDNOW-like (x, t_x, T) summary in weeks for n customers."""
    rng = np.random.default_rng(seed)
    first_day = rng.integers(0, 84, size=n)
    T = (272 - first_day) / 7
    sample = simulate_bgnbd(n, T, **TRUE, rng=rng)
    t_x = sample.t_x if continuous else np.floor(sample.t_x * 7) / 7
    return sample.x, t_x, T


def main() -> None:
    """Fit once to warm up, then time the best of a few fits and print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20250101)
    parser.add_argument("--continuous", action="store_true")
    args = parser.parse_args()
    x, t_x, T = synthetic_summary(args.customers, args.seed, args.continuous)
    fit_bgnbd(x[:10_000], t_x[:10_000], T[:10_000])
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        fit = fit_bgnbd(x, t_x, T)
        times.append(time.perf_counter() - start)
    print(
        json.dumps(
            {
                "customers": args.customers,
                "fit_s": round(min(times), 3),
                "unique_rows": fit.n_unique_rows,
                "continuous_times": args.continuous,
                "iterations": fit.iterations,
                "converged": fit.converged,
                "estimates": {k: round(v, 4) for k, v in fit.as_dict().items()},
                "true": TRUE,
            }
        )
    )


if __name__ == "__main__":
    main()
