"""Synthetic randomised tests drawn day by day from the model's own rules, with known truths.

Each customer is in at most one of the segments (`SEGMENT_SHARES`); every day of a W-day window
they visit with chance q, on each of the first K days of a treated arm with chance
q (1 + L m) (L the arm's per-contact-day lift, m the segment's multiplier), and a visit day buys
with chance p (the arm's log-odds shift added to the control's), spending Gamma(2, 50) per
purchase. `truth` gives the expected window outcomes of each arm and group.
"""

from __future__ import annotations

import math

import numpy as np

SEGMENT_SHARES = {"sms_sensitive": 0.3, "fan": 0.3}
MULTIPLIER = {"sms_sensitive": 2.0, "fan": 0.7, None: 1.0}
ARMS = {"control": (0.0, 0.0), "sms": (1.5, 0.0), "sms_coupon": (2.0, 0.6)}  # (L, log-odds)
Q, P0, MEAN_SPEND = 0.04, 0.25, 100.0


def sigmoid(x: float) -> float:
    """1 / (1 + exp(-x))."""
    return 1.0 / (1.0 + math.exp(-x))


def draw(n: int, seed: int, days: int = 7, contacts: int = 2) -> dict[str, np.ndarray]:
    """Columns of a synthetic test: arm names, segment flags, visited, converted, spend."""
    rng = np.random.default_rng(seed)
    names = list(ARMS)
    arm = rng.integers(0, len(names), n)
    u = rng.random(n)
    edges = np.cumsum(list(SEGMENT_SHARES.values()))
    seg = np.searchsorted(edges, u, side="right")  # 0, 1: a segment; 2: none
    mult = np.array([*[MULTIPLIER[s] for s in SEGMENT_SHARES], 1.0])[seg]
    lift = np.array([ARMS[a][0] for a in names])[arm] * mult
    p = np.array([sigmoid(math.log(P0 / (1 - P0)) + ARMS[a][1]) for a in names])[arm]
    chance = np.full((n, days), Q)
    chance[:, :contacts] *= (1.0 + lift)[:, None]
    visits = rng.random((n, days)) < chance
    buys = visits & (rng.random((n, days)) < p[:, None])
    spend = np.where(buys, rng.gamma(2.0, MEAN_SPEND / 2.0, (n, days)), 0.0).sum(axis=1)
    cols = {
        "customer_id": np.array([f"c{k}" for k in range(n)]),
        "arm": np.array(names)[arm],
        "visited": visits.any(axis=1).astype(int),
        "converted": buys.any(axis=1).astype(int),
        "spend": np.round(spend, 2),
    }
    for k, name in enumerate(SEGMENT_SHARES):
        cols[name] = np.where(seg == k, "yes", "no")
    return cols


def write_csv(path, cols: dict[str, np.ndarray]) -> None:
    """Write the columns as a CSV file."""
    names = list(cols)
    lines = [",".join(names)]
    text = {c: [f"{x:g}" if c == "spend" else str(x) for x in cols[c]] for c in names}
    lines += [",".join(text[c][k] for c in names) for k in range(len(cols["arm"]))]
    path.write_text("\n".join(lines) + "\n")


def truth(arm: str, segment: str | None, days: int = 7, contacts: int = 2) -> dict[str, float]:
    """Expected window outcomes of an arm's customers in one segment (None: in none)."""
    lift, shift = ARMS[arm]
    p = sigmoid(math.log(P0 / (1 - P0)) + shift)
    q1 = Q * (1.0 + lift * MULTIPLIER[segment])
    visit = 1.0 - (1.0 - Q) ** (days - contacts) * (1.0 - q1) ** contacts
    conversion = 1.0 - (1.0 - Q * p) ** (days - contacts) * (1.0 - q1 * p) ** contacts
    spend = MEAN_SPEND * p * (Q * (days - contacts) + q1 * contacts)
    return measures(visit, conversion, spend)


def measures(visit: float, conversion: float, spend: float) -> dict[str, float]:
    """The five measures from the expected visit rate, conversion and spend per customer."""
    return {
        "visit_rate": visit,
        "conversion_given_visit": conversion / visit,
        "conversion": conversion,
        "spend_per_customer": spend,
        "spend_per_converter": spend / conversion,
    }
