"""Strategy against strategy: paired differences, ratios that may not exist, verdicts in words.

Replication k of every scenario shares its random numbers (and, with assumptions drawn, its
parameter draw), so a - b is taken per replication and its mean gets a 95% t-interval
(`stats.estimate`); with assumptions drawn the interval is over the draws' means (the two runs
of a draw are not independent) and P(a beats b) is the share of draws whose mean difference
favours a (`uncertainty.beat_probability`).

The rules (docs/compare.md says them for people):

* A difference is *clear* when its 95% CI excludes zero, and *exactly zero* when it is zero in
  every replication (identical scenarios, a touch that contacted nobody).
* The value measure is profit when both scenarios state a margin, else GMV; cost is the
  campaign cost (benefit and contact costs; price reductions are already out of GMV).
* a *dominates* b when a is clearly better on one of value and cost and, on the other, clearly
  better too or exactly equal. A *trade-off*: each is clearly better on one. *No clear
  difference*: neither difference is clear. *a ahead*: a is clearly better on one, the other
  difference is not clear (neither dominance nor trade-off can be claimed).
* A ratio (ROI = ΔGMV / Δcost) is a number only when its denominator's 95% CI excludes zero:
  then the ratio of the means with Fieller's interval, which is bounded exactly then. A lower
  cost with more GMV is dominance, never a negative ROI; a lower cost with less GMV gives the
  GMV given up per yuan saved; a lower cost with a GMV difference that is not clear has none.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import stdtrit

from simulator.analysis.increments import paired
from simulator.analysis.kpi_registry import find
from simulator.analysis.stats import Estimate, estimate
from simulator.analysis.uncertainty import ROBUST, beat_probability
from simulator.formatting import grouped

# the KPIs compared pair by pair: money, then the headline KPIs of membership
PAIR_KPIS = (
    "gmv",
    "profit",
    "cost",
    "member_gmv_penetration",
    "new_members",
    "new_member_first_purchase_rate",
    "old_member_gmv_share",
    "member_arpu",
    "old_member_premium",
)
DOMINANCES = (
    "a dominates",
    "b dominates",
    "trade-off",
    "a ahead",
    "b ahead",
    "no clear difference",
)
LEVEL = 0.95
COST_CI_ZERO = "not defined: the cost difference's 95% CI includes zero"
NO_COST_DIFF = "not defined: no cost difference"


def units(values: list, draws: list[int] | None) -> list:
    """The independent units of per-replication values: the replications, or the draws' means.

    With assumptions drawn the two runs of a parameter draw share it, so the draws are the
    independent units (a draw whose value is missing in a run is left out).
    """
    if not draws:
        return list(values)
    by_draw: dict[int, list] = {}
    for v, d in zip(values, draws, strict=True):
        by_draw.setdefault(d, []).append(v)
    return [None if any(v is None for v in vs) else float(np.mean(vs)) for vs in by_draw.values()]


def exactly_zero(values: list) -> bool:
    """Whether every replication's difference is exactly zero (none missing)."""
    return bool(values) and all(v is not None and v == 0 for v in values)


def side(est: Estimate, better: str = "max") -> int:
    """+1 when the difference's CI is wholly on the better side of zero, -1 the worse, else 0."""
    if math.isnan(est.ci_low):
        return 0
    up = 1 if better == "max" else -1
    if est.ci_low > 0:
        return up
    if est.ci_high < 0:
        return -up
    return 0


def fieller(num: np.ndarray, den: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """Fieller's interval of mean(num) / mean(den) from paired values.

    Bounded exactly when the denominator's t-interval excludes zero (the caller checks).
    """
    n = len(num)
    t2 = stdtrit(n - 1, 0.5 + level / 2) ** 2
    a, b = num.mean(), den.mean()
    cov = np.cov(num, den, ddof=1) / n
    f = b * b - t2 * cov[1, 1]
    g = a * b - t2 * cov[0, 1]
    h = a * a - t2 * cov[0, 0]
    root = math.sqrt(max(g * g - f * h, 0.0))
    lo, hi = sorted(((g - root) / f, (g + root) / f))
    return float(lo), float(hi)


def ratio_estimate(gmv: list, cost: list, draws: list[int] | None = None) -> dict:
    """ROI = ΔGMV / Δcost from paired per-replication differences, by the rule above.

    Returns value, ci_low, ci_high (None where not a number) and note (empty for a plain ROI).
    """
    both = [(g, c) for g, c in zip(units(gmv, draws), units(cost, draws), strict=True)]
    both = [(g, c) for g, c in both if g is not None and c is not None]
    none = dict(value=None, ci_low=None, ci_high=None)
    if not both:
        return none | {"note": "not defined: no replication has both differences"}
    g, c = (np.array(x, dtype=float) for x in zip(*both, strict=True))
    if not c.any():
        return none | {"note": NO_COST_DIFF}
    if len(c) < 2:
        return dict(value=float(g[0] / c[0]), ci_low=None, ci_high=None, note="one replication")
    cost_est, gmv_est = estimate(c), estimate(g)
    if cost_est.ci_low <= 0 <= cost_est.ci_high:
        return none | {"note": COST_CI_ZERO}
    lo, hi = fieller(g, c)
    ratio = dict(value=float(g.mean() / c.mean()), ci_low=lo, ci_high=hi, note="")
    if cost_est.ci_high < 0:  # the cost falls
        if side(gmv_est) > 0 or exactly_zero(list(g)):
            return none | {"note": "not defined: more GMV (or the same) at less cost dominates"}
        if side(gmv_est) == 0:
            return none | {"note": "not defined: less cost, and the GMV difference is not clear"}
        ratio["note"] = "less GMV at less cost: GMV given up per yuan saved"
    return ratio


def pair_row(a, b, kpi: str) -> dict | None:
    """One KPI of a - b (`experiment.Replicated`s): mean difference, CI, P(a beats b)."""
    if kpi not in a.kpis[0] or kpi not in b.kpis[0]:
        return None
    diffs = paired(a.values(kpi), b.values(kpi))
    if all(d is None for d in diffs):
        return None
    est = estimate(units(diffs, a.draws))
    better = find(kpi).better
    row = {
        "a": a.name,
        "b": b.name,
        "kpi": kpi,
        "diff": est.mean,
        "ci_low": est.ci_low,
        "ci_high": est.ci_high,
        "sd": est.sd,
        "units": est.reps,
        "excludes_zero": None if math.isnan(est.ci_low) else side(est) != 0,
        "exactly_zero": exactly_zero(diffs),
        "better": better,
        "p_a_beats_b": None,
        "draws": None,
        "robust": None,
    }
    if a.draws and better is not None:
        up = 1 if better == "max" else -1  # a beats b: a higher, or lower for a cost
        p, n = beat_probability([None if d is None else up * d for d in diffs], a.draws)
        share = max(p, 1 - p)
        row.update(p_a_beats_b=p, draws=n, robust=None if math.isnan(p) else share >= ROBUST)
    return row


def pair_rows(results: list) -> list[dict]:
    """Every ordered pair (a, b) of scenarios, baseline included, on each of `PAIR_KPIS`."""
    rows = []
    for a in results:
        for b in results:
            if a is not b:
                rows += filter(None, (pair_row(a, b, k) for k in PAIR_KPIS))
    return rows


def verdicts(results: list, rows: list[dict]) -> list[dict]:
    """One verdict per unordered pair: a is the later scenario, b the earlier (as in the table)."""
    out = []
    for j, a in enumerate(results):
        for b in results[:j]:
            of = {r["kpi"]: r for r in rows if (r["a"], r["b"]) == (a.name, b.name)}
            roi = ratio_estimate(
                paired(a.values("gmv"), b.values("gmv")),
                paired(a.values("cost"), b.values("cost")),
                a.draws,
            )
            out.append(verdict(a.name, b.name, of, roi))
    return out


def verdict(a: str, b: str, of: dict[str, dict], roi: dict) -> dict:
    """The dominance of a over b from the pair rows of gmv, cost (and profit), in a sentence."""
    value = "profit" if "profit" in of else "gmv"
    v, c = of[value], of["cost"]
    sv, sc = _side(v), _side(c)
    if sv == 0 and sc == 0:
        dominance = "no clear difference"
    elif sv * sc < 0:
        dominance = "trade-off"
    elif (sv > 0 or v["exactly_zero"]) and (sc > 0 or c["exactly_zero"]):
        dominance = "a dominates"
    elif (sv < 0 or v["exactly_zero"]) and (sc < 0 or c["exactly_zero"]):
        dominance = "b dominates"
    else:
        dominance = "a ahead" if sv + sc > 0 else "b ahead"
    text = _text(a, b, dominance, of, value, roi)
    row = {"a": a, "b": b, "dominance": dominance, "text": text, "value_kpi": value}
    for kpi in ("gmv", "profit", "cost"):  # every verdict has the same fields (CSV columns)
        r = of.get(kpi, {})
        row |= {f"{kpi}_{k}": r.get(k) for k in ("diff", "ci_low", "ci_high")}
    row |= {"roi": roi["value"], "roi_ci_low": roi["ci_low"], "roi_ci_high": roi["ci_high"]}
    row |= {"roi_note": roi["note"], "p_a_beats_b": v["p_a_beats_b"], "draws": v["draws"]}
    return row


def _side(r: dict) -> int:
    """`side` of a pair row: +1 clearly better for a, -1 clearly worse, 0 not clear."""
    if not r["excludes_zero"]:
        return 0
    up = 1 if r["diff"] > 0 else -1
    return up if r["better"] != "min" else -up


def amount(r: dict, what: str, flip: bool = False) -> str:
    """A difference with its CI: "+28,773 GMV [16,625, 40,922]" (flip: of b - a)."""
    s = -1 if flip else 1
    lo, hi = sorted((s * r["ci_low"], s * r["ci_high"]))
    ci = f"[{grouped(lo)}, {grouped(hi)}]" if not math.isnan(lo) else ""
    return " ".join(x for x in (f"{s * r['diff']:+,.0f}", what, ci) if x)


def cost_words(r: dict, flip: bool) -> str:
    """The winner's cost difference in words: "201,442 less cost [190,000, 212,000]"."""
    if r["exactly_zero"]:
        return "the same cost"
    s = -1 if flip else 1
    d, lo, hi = s * r["diff"], *sorted((s * r["ci_low"], s * r["ci_high"]))
    more = d > 0
    lo, hi = sorted((abs(lo), abs(hi))) if not math.isnan(lo) else (lo, hi)
    ci = f" [{grouped(lo)}, {grouped(hi)}]" if not math.isnan(lo) else ""
    return f"{abs(d):,.0f} {'more' if more else 'less'} cost{ci}"


def _gain(of: dict, value: str, flip: bool) -> str:
    """The value difference from one side: GMV, or profit with the GMV in brackets."""
    if value == "profit":
        gmv = "the same GMV" if of["gmv"]["exactly_zero"] else f"GMV {amount(of['gmv'], '', flip)}"
        return f"{amount(of['profit'], 'profit', flip)} ({gmv})"
    return amount(of["gmv"], "GMV", flip)


def _text(a: str, b: str, dominance: str, of: dict, value: str, roi: dict) -> str:
    """The verdict as one sentence, computed from the numbers."""
    v, c = of[value], of["cost"]
    if dominance == "no clear difference":
        if v["exactly_zero"] and c["exactly_zero"]:
            text = f"no clear difference between {a} and {b}: the same {value} and cost in "
            text += "every replication"
        else:
            text = f"no clear difference between {a} and {b}: {_gain(of, value, False)}, "
            text += f"{amount(c, 'cost')} (neither 95% CI excludes zero)"
    elif dominance in ("a dominates", "b dominates"):
        flip = dominance == "b dominates"
        win, lose = (b, a) if flip else (a, b)
        gain = f"the same {value}" if v["exactly_zero"] else _gain(of, value, flip)
        text = f"{win} dominates {lose}: {gain} at {cost_words(c, flip)}"
    elif dominance == "trade-off":
        flip = c["diff"] < 0  # the dearer one speaks
        dear, cheap = (b, a) if flip else (a, b)
        text = f"trade-off: {dear} gives {_gain(of, value, flip)} for {cost_words(c, flip)} "
        text += f"than {cheap}"
        if roi["value"] is not None:
            lo, hi = roi["ci_low"], roi["ci_high"]
            ci = f" [{lo:.2f}, {hi:.2f}]" if lo is not None else ""
            text += f"; incremental ROI {roi['value']:.2f}{ci}"
    else:
        flip = dominance == "b ahead"
        win, lose = (b, a) if flip else (a, b)
        if _side(v) != 0:
            text = f"{win} ahead of {lose}: {_gain(of, value, flip)}; the cost difference "
            text += f"{amount(c, '', flip)} is not clear"
        else:
            text = f"{win} ahead of {lose}: {cost_words(c, flip)}; the {value} difference "
            text += f"{amount(v, '', flip)} is not clear"
    return text + _drawn(a, b, v, value)


def _drawn(a: str, b: str, v: dict, value: str) -> str:
    """With assumptions drawn: how often a has the more value, and whether that is robust."""
    p = v["p_a_beats_b"]
    if p is None or math.isnan(p):
        return ""
    win, share = (a, p) if p >= 0.5 else (b, 1 - p)
    robust = "robust" if share >= ROBUST else "not robust: it depends on the assumptions"
    return f"; {win} has more {value} in {share:.0%} of {v['draws']} assumption draws ({robust})"
