"""daily.csv of a run: one row per day (date, phase, shoppers per state, activity, GMV, cost)."""

from __future__ import annotations

from simulator.analysis.kpis import daily_discounts, daily_grants_redemptions
from simulator.domain.lifecycle import STATES
from simulator.engine.counters import NEED_COUNTERS
from simulator.engine.run import RunResult


def daily_rows(run: RunResult, baseline: RunResult | None = None) -> list[dict]:
    """One row per day: date, phase, shoppers per state, activity, GMV split, offers, cost.

    GMV is paid, gmv_list at list price, discounts the difference (docs/kpis.md); grants and
    redemptions are summed over the benefits; the need counters say when purchases moved in time
    (bought ahead, needs met from stock, needs deferred, deferred orders bought).
    """
    cost = run.daily_cost()
    discounts = daily_discounts(run)
    grants, redemptions = daily_grants_redemptions(run)
    old, new, non = (run.series(n) for n in ("gmv_old_member", "gmv_new_member", "gmv_nonmember"))
    gmv_list = run.series("gmv_list")
    orders = run.daily_orders()
    base = None
    if baseline is not None:
        base = baseline.daily_gmv()
    rows = []
    for d, day in enumerate(run.dates):
        row = {"date": day.isoformat(), "phase": run.phases[d], "presale": int(run.presale[d])}
        row.update({s: int(run.series(s)[d]) for s in STATES})
        row.update(
            visits=int(run.series("visits")[d]),
            contacts=int(run.series("contacts")[d]),
            enrolments=int(run.series("enrolments")[d]),
            orders=int(orders[d]),
            gmv=round(float(old[d] + new[d] + non[d]), 4),
            gmv_member=round(float(old[d] + new[d]), 4),
            gmv_old_member=round(float(old[d]), 4),
            gmv_new_member=round(float(new[d]), 4),
            gmv_non_member=round(float(non[d]), 4),
            gmv_list=round(float(gmv_list[d]), 4),
            discounts=round(float(discounts[d]), 4),
            grants=int(grants[d]),
            redemptions=int(redemptions[d]),
            **{n: int(run.series(n)[d]) for n in NEED_COUNTERS},
            cost=round(float(cost[d]), 4),
        )
        if base is not None:
            row["gmv_baseline"] = round(float(base[d]), 4)
        rows.append(row)
    return rows
