"""Synthetic transaction logs drawn from BG/NBD with known parameters, written as CSV.

Each customer first buys on a day drawn uniformly from the first `entry_weeks` weeks, then buys
as a Poisson process (rate λ ~ Gamma(r, alpha) per week) and drops out after each repeat purchase
with probability p ~ Beta(a, b), until the log's last day; purchases on the same day merge, as
the summaries count customer-days; amounts follow Gamma-Gamma (`SPEND`). A spike adds one
purchase in one week for a share of the customers still active then (a seasonal peak no BG/NBD
fit of the earlier weeks can know).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

START = dt.date(2019, 1, 7)  # a Monday; week 1 starts here
SPEND = (4.0, 4.0, 30.0)  # Gamma-Gamma p, q, v: amounts Gamma(4, ν), ν ~ Gamma(4, 30); mean 40


def bgnbd_log(
    path: Path,
    n: int,
    weeks: int,
    params: tuple[float, float, float, float],
    seed: int,
    *,
    entry_weeks: int = 12,
    spike_week: int | None = None,
    spike_share: float = 0.0,
) -> Path:
    """Write a CSV log (customer_id,date,amount) of n customers over `weeks` weeks from START."""
    r, alpha, a, b = params
    rng = np.random.default_rng(seed)
    days = 7 * weeks
    first = rng.integers(0, 7 * entry_weeks, size=n)
    lam = rng.gamma(r, 1.0 / alpha, size=n) / 7  # per day
    p = np.maximum(rng.beta(a, b, size=n), np.finfo(float).tiny)
    rows = []
    for i in range(n):
        span = days - 1 - first[i]
        k = rng.poisson(lam[i] * span)
        last = rng.geometric(p[i])  # drops out right after this repeat purchase
        arrivals = np.sort(rng.uniform(0, span, size=k))
        times = arrivals[:last]
        buys = {int(first[i]), *(first[i] + 1 + np.floor(times).astype(int)).tolist()}
        if spike_week is not None:
            spike_day = 7 * (spike_week - 1) + int(rng.integers(0, 7))
            alive = k <= last or spike_day <= first[i] + times[-1]
            if alive and first[i] < spike_day and rng.uniform() < spike_share:
                buys.add(spike_day)
        rows += [(i, d) for d in sorted(buys) if d < days]
    nu = rng.gamma(SPEND[1], 1.0 / SPEND[2], size=n)
    amounts = rng.gamma(SPEND[0], 1.0 / nu[[i for i, _ in rows]])
    with path.open("w") as f:
        f.write("customer_id,date,amount\n")
        for (i, d), amount in zip(rows, amounts, strict=True):
            f.write(f"c{i},{START + dt.timedelta(days=int(d))},{amount:.2f}\n")
    return path
